package ideas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"jindianzi/moderation"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// CommentMax is the longest comment, in characters.
const CommentMax = 1000

// Errors for supports and comments.
var (
	ErrSignInRequired = &Problem{Status: 401, Code: "unauthorized", Message: "请先登录"}
	ErrResidentsOnly  = &Problem{Status: 403, Code: "residents_only", Message: "只有居民账号可以附议"}
	ErrBadParent      = &Problem{Status: 422, Code: "invalid_parent", Message: "只能回复该建议下的一级评论"}
)

// Support adds (or with remove, withdraws) a signed-in resident's support.
func (s *Service) Support(ctx context.Context, u *store.User, ideaID int64, remove bool) (int, error) {
	switch {
	case u == nil:
		return 0, ErrSignInRequired
	case u.Role != store.RoleResident:
		return 0, ErrResidentsOnly
	case u.BlockedAt != nil:
		return 0, ErrBlocked
	}
	var n int
	var err error
	if remove {
		n, err = s.Store.RemoveSupport(ctx, ideaID, u.ID)
	} else {
		n, err = s.Store.AddSupport(ctx, ideaID, u.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return 0, &Problem{Status: 404, Code: "not_found", Message: "找不到该建议"}
	}
	return n, err
}

// Comment posts a comment (or, with parent set, a reply) on a public idea.
// It passes the same moderation pipeline as ideas; the returned comment's
// status says whether it is public yet.
func (s *Service) Comment(ctx context.Context, u *store.User, ideaID int64, parent *int64, body, ip string) (*store.Comment, error) {
	if u == nil {
		return nil, ErrSignInRequired
	}
	if u.BlockedAt != nil {
		return nil, ErrBlocked
	}
	var e input.Errors
	body = e.Text("body", "评论", body, true)
	if e.For("body") == "" {
		switch n := utf8.RuneCountInString(body); {
		case n == 0:
			e.Add("body", "comment_empty", "请填写评论内容")
		case n > CommentMax:
			e.Add("body", "comment_too_long", fmt.Sprintf("评论不能超过 %d 个字（现在 %d 个字）", CommentMax, n))
		}
	}
	if len(e.Fields) > 0 {
		return nil, &e
	}
	idea, err := s.Store.PublicIdea(ctx, ideaID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Problem{Status: 404, Code: "not_found", Message: "找不到该建议"}
	}
	if err != nil {
		return nil, err
	}
	camp, err := s.Store.CampaignByID(ctx, idea.CampaignID)
	if err != nil {
		return nil, err
	}
	v, err := s.Moderation.Check(ctx, moderation.Input{Kind: "comment", CampaignID: camp.ID, Policy: camp.Policy,
		Body: body, SubmitterKey: fmt.Sprintf("u:%d", u.ID), IP: ip, AuthorID: u.ID})
	if err != nil {
		return nil, fmt.Errorf("ideas: moderate comment: %w", err)
	}
	if v.Action == moderation.Reject {
		p := *ErrRejected
		if len(v.Reasons) > 0 {
			p.Message = "评论未通过审核：" + v.Reasons[0].Message
		}
		return nil, &p
	}
	status := store.IdeaPending
	if v.Action == moderation.Publish {
		status = store.IdeaPublished
	}
	mj, _ := json.Marshal(v)
	c := &store.Comment{IdeaID: ideaID, ParentID: parent, AuthorID: &u.ID, DisplayName: u.DisplayName,
		Body: body, BodyMasked: v.BodyMasked, Status: status, RiskScore: v.Risk, Moderation: string(mj), ReasonCodes: v.Codes()}
	if err := s.Store.CreateComment(ctx, c); err != nil {
		if errors.Is(err, store.ErrBadParent) {
			return nil, ErrBadParent
		}
		return nil, err
	}
	return c, nil
}
