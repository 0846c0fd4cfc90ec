// Package debate owns themed public debates (大讨论): their administration,
// residents' and officials' posts with a stance, the official badge that
// only invited departments' officials carry, supports, pins, conclusions,
// and promoting a proposal to an idea. Plain Go, tested without HTTP.
package debate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// Limits on debate text, in characters.
const (
	PostMin = 5
	PostMax = 3000
)

// Problems a participant can act on.
var (
	ErrNotOpen          = &ideas.Problem{Status: 409, Code: "debate_not_open", Message: "该讨论当前不在进行中，暂不能发言"}
	ErrNotOfficial      = &ideas.Problem{Status: 403, Code: "not_official", Message: "只有受邀部门的工作人员才能以官方身份发言"}
	ErrBadParent        = &ideas.Problem{Status: 422, Code: "invalid_parent", Message: "只能回复该讨论中的一级发言"}
	ErrNotFound         = &ideas.Problem{Status: 404, Code: "not_found", Message: "找不到该讨论"}
	ErrNotClosed        = &ideas.Problem{Status: 409, Code: "debate_not_closed", Message: "讨论结束后才能发布结论"}
	ErrNotPromotable    = &ideas.Problem{Status: 409, Code: "not_promotable", Message: "只有已公开、尚未转化的“建议”类发言可以转为金点子"}
	ErrNoCampaign       = &ideas.Problem{Status: 409, Code: "no_campaign", Message: "该讨论没有关联的征集活动，无法转为金点子"}
	ErrResidentsSupport = &ideas.Problem{Status: 403, Code: "residents_only", Message: "只有居民账号可以点赞支持"}
)

// Input is a debate as an admin describes it.
type Input struct {
	Slug        string     `json:"slug"`
	Title       string     `json:"title"`
	Question    string     `json:"question"`
	Background  string     `json:"background"`
	Theme       string     `json:"theme"`
	Campaign    string     `json:"campaign"` // optional campaign slug
	OpensAt     *time.Time `json:"opens_at"`
	ClosesAt    *time.Time `json:"closes_at"`
	Policy      string     `json:"policy"`
	Departments []string   `json:"departments"`
}

var (
	slugRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)
	allDigits = regexp.MustCompile(`^[0-9]+$`)
)

// Create validates and stores a debate.
func Create(ctx context.Context, st *store.Store, in Input, by store.Actor) (*store.Debate, error) {
	var e input.Errors
	d := &store.Debate{Slug: strings.ToLower(strings.TrimSpace(in.Slug)), Policy: store.PolicyPost}
	if !slugRe.MatchString(d.Slug) {
		e.Add("slug", "invalid_slug", "网址标识只能包含小写字母、数字和短横线，3 到 64 个字符")
	} else if allDigits.MatchString(d.Slug) {
		// /debates/:slug and /api/v1/debates/:id read a number as an id.
		e.Add("slug", "invalid_slug", "网址标识不能全是数字，请至少包含一个字母")
	}
	d.Title = e.Text("title", "讨论标题", in.Title, false)
	if n := input.Len(d.Title); !e.Has("title") && (n < 2 || n > 120) {
		e.Add("title", "invalid_title", "讨论标题应为 2 到 120 个字")
	}
	d.Question = e.Text("question", "讨论问题", in.Question, true)
	if n := input.Len(d.Question); !e.Has("question") && (n < 2 || n > 500) {
		e.Add("question", "invalid_question", "讨论问题应为 2 到 500 个字")
	}
	d.Background = e.Text("background", "背景介绍", in.Background, true)
	if input.Len(d.Background) > 10000 {
		e.Add("background", "background_too_long", "背景介绍不能超过 10000 个字")
	}
	d.Theme = e.Text("theme", "主题", in.Theme, false)
	if input.Len(d.Theme) > 60 {
		e.Add("theme", "invalid_theme", "主题不能超过 60 个字")
	}
	if in.Policy != "" {
		d.Policy = in.Policy
	}
	if d.Policy != store.PolicyPre && d.Policy != store.PolicyPost {
		e.Add("policy", "invalid_policy", "审核方式只能是 pre（先审后发）或 post（先发后审）")
	}
	if in.OpensAt == nil || in.ClosesAt == nil {
		e.Add("opens_at", "dates_required", "请填写讨论的开始和结束时间")
	} else if !in.ClosesAt.After(*in.OpensAt) {
		e.Add("closes_at", "invalid_dates", "结束时间必须晚于开始时间")
	} else {
		d.OpensAt, d.ClosesAt = in.OpensAt.UTC(), in.ClosesAt.UTC()
	}
	var deps []string
	for _, name := range in.Departments {
		name = e.Text("departments", "部门名称", name, false)
		if name == "" {
			continue
		}
		if input.Len(name) > 100 {
			e.Add("departments", "invalid_department", "部门名称不能超过 100 个字")
			break
		}
		deps = append(deps, name)
	}
	if slug := strings.TrimSpace(in.Campaign); slug != "" {
		c, err := st.CampaignBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			e.Add("campaign", "unknown_campaign", "找不到关联的征集活动")
		} else if err != nil {
			return nil, err
		} else {
			d.CampaignID = &c.ID
		}
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	d.CreatedBy = by.ID
	if err := st.CreateDebate(ctx, d, deps, by); err != nil {
		if errors.Is(err, store.ErrConflict) {
			var e input.Errors
			e.Add("slug", "slug_taken", "该网址标识已被其他讨论使用")
			return nil, &e
		}
		return nil, err
	}
	return d, nil
}

// Service carries out participants' actions in debates.
type Service struct {
	Store      *store.Store
	Moderation moderation.Checker
	Now        func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// PostInput is one contribution to a debate.
type PostInput struct {
	Stance   string `json:"stance" form:"stance"`
	Body     string `json:"body" form:"body"`
	Parent   *int64 `json:"parent" form:"parent"`
	Official *bool  `json:"official" form:"official"`
}

// StanceLabel is a stance in Chinese.
func StanceLabel(s string) string {
	switch s {
	case store.StanceFor:
		return "支持"
	case store.StanceAgainst:
		return "反对"
	case store.StanceProposal:
		return "建议"
	}
	return s
}

// Post adds a post (or a reply) to an open debate. An official of an
// invited department posts with the official badge; anyone else asking for
// it is refused. Posts pass the moderation pipeline.
func (s *Service) Post(ctx context.Context, u *store.User, debateID int64, in PostInput, ip string) (*store.DebatePost, error) {
	if u == nil {
		return nil, ideas.ErrSignInRequired
	}
	if u.BlockedAt != nil {
		return nil, ideas.ErrBlocked
	}
	d, err := s.Store.DebateByID(ctx, debateID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var e input.Errors
	switch in.Stance {
	case store.StanceFor, store.StanceAgainst, store.StanceProposal:
	default:
		e.Add("stance", "invalid_stance", "请选择立场：支持、反对或建议")
	}
	body := e.Text("body", "发言内容", in.Body, true)
	if n := input.Len(body); !e.Has("body") && (n < PostMin || n > PostMax) {
		code := "body_too_short"
		if n > PostMax {
			code = "body_too_long"
		}
		e.Add("body", code, fmt.Sprintf("发言内容应为 %d 到 %d 个字（现在 %d 个字）", PostMin, PostMax, n))
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	if d.State(s.now()) != "open" {
		return nil, ErrNotOpen
	}
	official, err := s.IsInvitedOfficial(ctx, u, d.ID)
	if err != nil {
		return nil, err
	}
	if in.Official != nil && *in.Official && !official {
		return nil, ErrNotOfficial
	}
	v, err := s.Moderation.Check(ctx, moderation.Input{Kind: "debate_post", Policy: d.Policy, Body: body,
		SubmitterKey: fmt.Sprintf("u:%d", u.ID), IP: ip, AuthorID: u.ID})
	if err != nil {
		return nil, fmt.Errorf("debate: moderate post: %w", err)
	}
	if v.Action == moderation.Reject {
		p := *ideas.ErrRejected
		if len(v.Reasons) > 0 {
			p.Message = "发言未通过审核：" + v.Reasons[0].Message
		}
		return nil, &p
	}
	status := store.IdeaPending
	if v.Action == moderation.Publish || official {
		// Officials of invited departments speak for their department on record.
		status = store.IdeaPublished
	}
	mj, _ := json.Marshal(v)
	// Stamped with the service clock, the one the open window and the
	// activity timeline go by.
	now := s.now().Truncate(time.Microsecond)
	p := &store.DebatePost{DebateID: d.ID, ParentID: in.Parent, AuthorID: &u.ID, Official: official, Stance: in.Stance,
		Body: body, BodyMasked: v.BodyMasked, Status: status, RiskScore: v.Risk, Moderation: string(mj), ReasonCodes: v.Codes(),
		CreatedAt: now, UpdatedAt: now}
	if official {
		p.DepartmentID = u.DepartmentID
	}
	if err := s.Store.CreateDebatePost(ctx, p); err != nil {
		if errors.Is(err, store.ErrBadParent) {
			return nil, ErrBadParent
		}
		return nil, err
	}
	return p, nil
}

// IsInvitedOfficial reports whether u is an official of a department invited
// to the debate.
func (s *Service) IsInvitedOfficial(ctx context.Context, u *store.User, debateID int64) (bool, error) {
	if u.Role != store.RoleOfficial || u.DepartmentID == nil {
		return false, nil
	}
	deps, err := s.Store.DebateDepartments(ctx, debateID)
	if err != nil {
		return false, err
	}
	for _, d := range deps {
		if d.ID == *u.DepartmentID {
			return true, nil
		}
	}
	return false, nil
}

// Support adds or withdraws a resident's support of a post.
func (s *Service) Support(ctx context.Context, u *store.User, postID int64, remove bool) (int, error) {
	switch {
	case u == nil:
		return 0, ideas.ErrSignInRequired
	case u.Role != store.RoleResident:
		return 0, ErrResidentsSupport
	case u.BlockedAt != nil:
		return 0, ideas.ErrBlocked
	}
	n, err := s.Store.SupportDebatePost(ctx, postID, u.ID, remove)
	if errors.Is(err, store.ErrNotFound) {
		return 0, &ideas.Problem{Status: 404, Code: "not_found", Message: "找不到该发言"}
	}
	return n, err
}

// Conclude publishes the conclusion of a closed debate, linked to ideas.
func (s *Service) Conclude(ctx context.Context, debateID int64, conclusion string, ideaIDs []int64, by store.Actor) error {
	d, err := s.Store.DebateByID(ctx, debateID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	ideaIDs = uniqueIDs(ideaIDs) // "3, 3" links idea 3 once
	var e input.Errors
	conclusion = e.Text("conclusion", "结论", conclusion, true)
	if n := input.Len(conclusion); !e.Has("conclusion") && (n < 10 || n > 10000) {
		e.Add("conclusion", "invalid_conclusion", "结论应为 10 到 10000 个字")
	}
	for _, id := range ideaIDs {
		if _, err := s.Store.PublicIdea(ctx, id); err != nil {
			e.Add("ideas", "unknown_idea", fmt.Sprintf("找不到已公开的建议 #%d", id))
			break
		}
	}
	if err := e.Err(); err != nil {
		return err
	}
	if d.State(s.now()) != "closed" {
		return ErrNotClosed
	}
	return s.Store.ConcludeDebate(ctx, debateID, conclusion, ideaIDs, by)
}

// uniqueIDs drops repeated ids, keeping the first occurrence's order.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Promote turns a proposal post into an idea of the debate's campaign,
// keeping its author and supports. The idea is published (the post already
// passed moderation) under a title the moderator gives.
func (s *Service) Promote(ctx context.Context, postID int64, title string, by store.Actor) (*store.Idea, error) {
	p, err := s.Store.DebatePostByID(ctx, postID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &ideas.Problem{Status: 404, Code: "not_found", Message: "找不到该发言"}
	}
	if err != nil {
		return nil, err
	}
	d, err := s.Store.DebateByID(ctx, p.DebateID)
	if err != nil {
		return nil, err
	}
	if d.CampaignID == nil {
		return nil, ErrNoCampaign
	}
	var e input.Errors
	title = e.Text("title", "标题", title, false)
	if n := input.Len(title); !e.Has("title") && (n < ideas.TitleMin || n > ideas.TitleMax) {
		e.Add("title", "invalid_title", fmt.Sprintf("标题应为 %d 到 %d 个字", ideas.TitleMin, ideas.TitleMax))
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	name := "讨论参与者"
	if p.AuthorID != nil {
		if u, err := s.Store.UserByID(ctx, *p.AuthorID); err == nil {
			name = u.DisplayName
		}
	}
	now := s.now().Truncate(time.Microsecond)
	idea := &store.Idea{CampaignID: *d.CampaignID, TrackingCode: ideas.NewTrackingCode(), Title: title, Body: p.Body,
		TitleMasked: title, BodyMasked: p.BodyMasked, DisplayName: name, Status: store.IdeaPublished,
		Moderation: p.Moderation, ReasonCodes: p.ReasonCodes, Source: "debate", SubmitterKey: fmt.Sprintf("post:%d", p.ID),
		CreatedAt: now, UpdatedAt: now, PublishedAt: &now}
	if err := s.Store.PromoteDebatePost(ctx, postID, idea, by); err != nil {
		if errors.Is(err, store.ErrStatusConflict) {
			return nil, ErrNotPromotable
		}
		return nil, err
	}
	return idea, nil
}
