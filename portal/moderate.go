package portal

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/moderation"
	"jindianzi/portal/store"
	"jindianzi/portal/workday"
)

// reasonTemplates are the reasons moderators pick from most often; the
// chosen text is what the submitter reads on the tracking page.
var reasonTemplates = []string{
	"内容与本次征集主题无关",
	"内容过于简单，请补充具体地点、问题和建议",
	"含有不文明用语，请修改后重新提交",
	"含有广告、推销或联系方式",
	"与已有建议重复，已合并处理",
	"涉及他人隐私，请删除个人信息后重新提交",
	"属于个人诉求，请通过12345热线反映",
}

// queueItem is one idea in the moderation queue as a moderator sees it:
// personal data masked, reasons, duplicates side by side, working-day age.
type queueItem struct {
	ID             int64               `json:"id"`
	Title          string              `json:"title"`
	Body           string              `json:"body"`
	Campaign       string              `json:"campaign"`
	CampaignTitle  string              `json:"campaign_title"`
	Theme          string              `json:"theme"`
	ThemeSuggested bool                `json:"theme_suggested"`
	Status         string              `json:"status"`
	Hidden         bool                `json:"hidden"`
	Reports        int                 `json:"reports"`
	Author         string              `json:"author"`
	AuthorID       *int64              `json:"author_id,omitempty"`
	Risk           float64             `json:"risk"`
	Reasons        []moderation.Reason `json:"reasons"`
	Matches        []string            `json:"matches,omitempty"`
	Duplicates     []duplicateView     `json:"duplicates"`
	Segments       []textSegment       `json:"-"`
	CreatedAt      time.Time           `json:"created_at"`
	AgeDays        int                 `json:"age_working_days"`
	Overdue        bool                `json:"overdue"`
	Themes         []themeOption       `json:"-"`
	ThemeUnsure    bool                `json:"theme_unsure"`      // no theme: the classifier was unsure, the moderator picks one
	Cluster        *queueCluster       `json:"cluster,omitempty"` // its hot-issue cluster of two or more ideas
}

// textSegment is a run of text, marked when it is a listed word.
type textSegment struct {
	Text string
	Mark bool
}

// highlight splits text around the word-list hits found in it.
func (h *handler) highlight(text string) []textSegment {
	if h.cfg.Words == nil {
		return []textSegment{{Text: text}}
	}
	var out []textSegment
	at := 0
	for _, m := range h.cfg.Words.Registry.Matcher().Match(text) {
		if m.Start < at || m.End > len(text) || m.Start >= m.End {
			continue // overlapping or out of range
		}
		if m.Start > at {
			out = append(out, textSegment{Text: text[at:m.Start]})
		}
		out = append(out, textSegment{Text: text[m.Start:m.End], Mark: true})
		at = m.End
	}
	if at < len(text) {
		out = append(out, textSegment{Text: text[at:]})
	}
	return out
}

type duplicateView struct {
	ID         int64   `json:"id"`
	Title      string  `json:"title"`
	Body       string  `json:"body"`
	Status     string  `json:"status"`
	Similarity float64 `json:"similarity"`
}

type themeOption struct {
	ID   int64
	Name string
}

// storedVerdict is the part of the pipeline's verdict kept with an idea.
type storedVerdict struct {
	Reasons    []moderation.Reason    `json:"reasons"`
	Duplicates []moderation.Duplicate `json:"duplicates"`
	Matches    []struct {
		Word string `json:"word"`
	} `json:"matches"`
}

// calendar loads the holiday calendar for the last year.
func (h *handler) calendar(ctx context.Context) (workday.Calendar, error) {
	now := h.now().In(workday.China)
	hs, err := h.store.Holidays(ctx, now.AddDate(-1, 0, 0).Format("2006-01-02"), now.AddDate(0, 2, 0).Format("2006-01-02"))
	if err != nil {
		return workday.Calendar{}, err
	}
	cal := workday.Calendar{Off: map[string]bool{}, On: map[string]bool{}}
	for _, d := range hs {
		if d.Workday {
			cal.On[d.Day] = true
		} else {
			cal.Off[d.Day] = true
		}
	}
	return cal, nil
}

// queueFilter reads the queue's filters from the query string.
func (h *handler) queueFilter(c *fiber.Ctx) (store.QueueFilter, error) {
	f := store.QueueFilter{Reason: c.Query("reason")}
	var err error
	if f.Page, err = parsePage(c); err != nil {
		return f, err
	}
	if slug := c.Query("campaign"); slug != "" {
		camp, err := h.campaignFor(c, slug)
		if err != nil {
			return f, err
		}
		f.CampaignID = camp.ID
		if name := c.Query("theme"); name != "" {
			themes, err := h.store.Themes(c.UserContext(), camp.ID)
			if err != nil {
				return f, err
			}
			for _, t := range themes {
				if t.Name == name {
					f.ThemeID = t.ID
				}
			}
			if f.ThemeID == 0 {
				return f, userError(fiber.StatusNotFound, "unknown_theme", "该征集活动没有这个主题")
			}
		}
	} else if c.Query("theme") != "" {
		// Theme names repeat across campaigns; ignoring the filter would show
		// the whole queue as if it were filtered.
		return f, userError(fiber.StatusBadRequest, "theme_needs_campaign", "按主题筛选时请同时指定征集活动")
	}
	if v := c.Query("min_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 365 {
			return f, userError(fiber.StatusBadRequest, "invalid_age", "等待天数应为 0 到 365 的整数")
		}
		// A calendar-day bound; the page shows the exact working-day age.
		f.Before = h.now().AddDate(0, 0, -n)
	}
	return f, nil
}

// loadQueue builds the queue items for a filter.
func (h *handler) loadQueue(c *fiber.Ctx, f store.QueueFilter) ([]queueItem, int64, error) {
	ctx := c.UserContext()
	list, total, err := h.store.Queue(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	cal, err := h.calendar(ctx)
	if err != nil {
		return nil, 0, err
	}
	cat := newCatalog(h.store)
	now := h.now()
	snaps := map[int64]*clusterSnapshot{}
	items := make([]queueItem, 0, len(list))
	for i := range list {
		idea := &list[i]
		camp, err := cat.load(ctx, idea.CampaignID)
		if err != nil {
			return nil, 0, err
		}
		it := queueItem{ID: idea.ID, Title: publicTitle(idea), Body: publicBody(idea), Campaign: camp.Slug,
			CampaignTitle: camp.Title, ThemeSuggested: idea.ThemeSuggested, Status: string(idea.Status),
			Hidden: idea.Hidden, Reports: idea.ReportsCount, Author: authorLabel(idea.DisplayName, idea.Anonymous),
			AuthorID: idea.AuthorID, Risk: idea.RiskScore, CreatedAt: idea.CreatedAt.UTC(),
			Reasons: []moderation.Reason{}, Duplicates: []duplicateView{}}
		if idea.ThemeID != nil {
			it.Theme = cat.themes[*idea.ThemeID]
		}
		it.Segments = h.highlight(it.Body)
		it.AgeDays = cal.Between(idea.CreatedAt, now)
		// Review is due by the end of the ReviewDays-th working day (as
		// workday.Add counts): on that day the item is due, not yet overdue.
		it.Overdue = it.AgeDays > camp.ReviewDays
		var v storedVerdict
		if idea.Moderation != "" && json.Unmarshal([]byte(idea.Moderation), &v) == nil {
			if v.Reasons != nil {
				it.Reasons = v.Reasons
			}
			for _, m := range v.Matches {
				it.Matches = append(it.Matches, m.Word)
			}
			for _, d := range v.Duplicates {
				other, err := h.store.IdeaByID(ctx, d.IdeaID)
				if err != nil {
					continue
				}
				it.Duplicates = append(it.Duplicates, duplicateView{ID: other.ID, Title: publicTitle(other),
					Body: publicBody(other), Status: other.Status.Label(), Similarity: d.Similarity})
			}
		}
		themes, err := h.store.Themes(ctx, idea.CampaignID)
		if err != nil {
			return nil, 0, err
		}
		for _, t := range themes {
			it.Themes = append(it.Themes, themeOption{t.ID, t.Name})
		}
		it.ThemeUnsure = idea.ThemeID == nil && len(themes) > 0
		if it.Cluster, err = h.queueClusterOf(ctx, snaps, idea); err != nil {
			return nil, 0, err
		}
		items = append(items, it)
	}
	return items, total, nil
}

// apiQueue is GET /api/v1/moderation/queue.
func (h *handler) apiQueue(c *fiber.Ctx) error {
	f, err := h.queueFilter(c)
	if err != nil {
		return err
	}
	items, total, err := h.loadQueue(c, f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"total": total, "page": f.Page.Number, "per_page": f.Page.Limit(), "items": items})
}

// decisionInput is the body of a decision.
type decisionInput struct {
	Action string `json:"action" form:"action"`
	Reason string `json:"reason" form:"reason"`
	Target int64  `json:"target" form:"target"`
	Theme  string `json:"theme" form:"theme"`
}

// decide applies one decision to one idea and explains failures.
func (h *handler) decide(c *fiber.Ctx, id int64, in decisionInput) (*store.Idea, error) {
	if !utf8.ValidString(in.Reason) || utf8.RuneCountInString(in.Reason) > 500 {
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_reason", "理由不能超过 500 字")
	}
	u := currentUser(c)
	d := store.Decision{Action: in.Action, Reason: strings.TrimSpace(in.Reason), Target: in.Target,
		By: store.ActorFor(u, c.IP()), Role: u.Role}
	if in.Action == store.ActRetheme {
		idea, err := h.store.IdeaByID(c.UserContext(), id)
		if err != nil {
			return nil, err
		}
		themes, err := h.store.Themes(c.UserContext(), idea.CampaignID)
		if err != nil {
			return nil, err
		}
		for _, t := range themes {
			if t.Name == in.Theme || strconv.FormatInt(t.ID, 10) == in.Theme {
				d.ThemeID = t.ID
			}
		}
	}
	idea, err := h.store.Decide(c.UserContext(), id, d)
	switch {
	case errors.Is(err, store.ErrBadAction):
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_action", "操作只能是 approve、reject、request_changes、merge、unmerge 或 retheme")
	case errors.Is(err, store.ErrNeedsReason):
		return nil, userError(fiber.StatusUnprocessableEntity, "reason_required", "退回或要求修改时请填写理由，提交人会看到它")
	case errors.Is(err, store.ErrStatusConflict):
		return nil, userError(fiber.StatusConflict, "status_conflict", "该建议当前状态不能执行此操作（可能已被其他审核员处理）")
	case errors.Is(err, store.ErrBadTarget):
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_target", "只能合并到同一活动中另一条已公开的建议")
	case errors.Is(err, store.ErrNotMerged):
		return nil, userError(fiber.StatusConflict, "not_merged", "该建议没有被合并，无法撤销")
	case errors.Is(err, store.ErrBadTheme):
		return nil, userError(fiber.StatusUnprocessableEntity, "unknown_theme", "请选择该活动中的主题")
	case errors.Is(err, store.ErrUnknownIdeas):
		return nil, userError(fiber.StatusNotFound, "not_found", "找不到该建议")
	case err != nil:
		return nil, err
	}
	// Keep duplicate detection in step: rejected and merged ideas are no
	// longer duplicates to point at; an unmerged one is again.
	if l, ok := h.cfg.Moderation.(moderation.Learner); ok {
		switch idea.Status {
		case store.IdeaRejected, store.IdeaMerged:
			l.Forget(idea.CampaignID, idea.ID)
		default:
			if in.Action == store.ActUnmerge {
				l.Remember(idea.CampaignID, idea.ID, idea.ContentHash, uint64(idea.Simhash))
			}
		}
	}
	return idea, nil
}

// parseDecision reads a decision from JSON or a form.
func parseDecision(c *fiber.Ctx) (decisionInput, error) {
	var in decisionInput
	err := parseBody(c, &in, "")
	return in, err
}

// answerDecision is a POST …/:id/decision request: the item's id from the
// path, the decision from the body, decided by decide and answered with
// what describe says of the item.
func answerDecision[T any](c *fiber.Ctx, decide func(*fiber.Ctx, int64, decisionInput) (T, error), describe func(T) fiber.Map) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	in, err := parseDecision(c)
	if err != nil {
		return err
	}
	item, err := decide(c, id, in)
	if err != nil {
		return err
	}
	return c.JSON(describe(item))
}

// apiDecision is POST /api/v1/moderation/items/:id/decision.
func (h *handler) apiDecision(c *fiber.Ctx) error {
	return answerDecision(c, h.decide, func(idea *store.Idea) fiber.Map {
		return fiber.Map{"id": idea.ID, "status": idea.Status, "status_label": idea.Status.Label(), "merged_into": idea.MergedIntoID}
	})
}

// bulkInput is the body of a bulk decision.
type bulkInput struct {
	IDs    []int64 `json:"ids" form:"ids"`
	Action string  `json:"action" form:"action"`
	Reason string  `json:"reason" form:"reason"`
}

// bulkResult reports each item of a bulk decision.
type bulkResult struct {
	ID      int64  `json:"id"`
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// bulk approves or rejects several ideas; each succeeds or fails on its own.
func (h *handler) bulk(c *fiber.Ctx, in bulkInput) ([]bulkResult, error) {
	if in.Action != store.ActApprove && in.Action != store.ActReject {
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_action", "批量操作只能是通过（approve）或不通过（reject）")
	}
	if len(in.IDs) == 0 || len(in.IDs) > 200 {
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_ids", "请选择 1 到 200 条建议")
	}
	out := make([]bulkResult, 0, len(in.IDs))
	for _, id := range in.IDs {
		_, err := h.decide(c, id, decisionInput{Action: in.Action, Reason: in.Reason})
		r := bulkResult{ID: id, OK: err == nil}
		if err != nil {
			var status int
			if status, r.Code, r.Message = classify(err); status >= 500 {
				return nil, err // not one the moderator can act on
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// apiBulk is POST /api/v1/moderation/bulk.
func (h *handler) apiBulk(c *fiber.Ctx) error {
	var in bulkInput
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	res, err := h.bulk(c, in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"results": res})
}

// apiCommentDecision is POST /api/v1/moderation/comments/:id/decision.
func (h *handler) apiCommentDecision(c *fiber.Ctx) error {
	return answerDecision(c, h.decideComment, func(cm *store.Comment) fiber.Map {
		return fiber.Map{"id": cm.ID, "status": cm.Status, "status_label": cm.Status.Label()}
	})
}

// decideComment approves or rejects a comment and explains failures.
func (h *handler) decideComment(c *fiber.Ctx, id int64, in decisionInput) (*store.Comment, error) {
	return approveOrReject(c, "评论", in, func(ctx context.Context, approve bool, reason string, by store.Actor) (*store.Comment, error) {
		return h.store.DecideComment(ctx, id, approve, reason, by)
	})
}

// decidePost approves or rejects a debate post and explains failures.
func (h *handler) decidePost(c *fiber.Ctx, id int64, in decisionInput) (*store.DebatePost, error) {
	return approveOrReject(c, "发言", in, func(ctx context.Context, approve bool, reason string, by store.Actor) (*store.DebatePost, error) {
		return h.store.DecideDebatePost(ctx, id, approve, reason, by)
	})
}

// approveOrReject runs an approve/reject decision on a comment or debate
// post (what names it for the moderator) and turns the store's refusals
// into messages.
func approveOrReject[T any](c *fiber.Ctx, what string, in decisionInput,
	decide func(ctx context.Context, approve bool, reason string, by store.Actor) (*T, error)) (*T, error) {
	if in.Action != store.ActApprove && in.Action != store.ActReject {
		return nil, userError(fiber.StatusUnprocessableEntity, "invalid_action", what+"只能通过（approve）或不通过（reject）")
	}
	v, err := decide(c.UserContext(), in.Action == store.ActApprove, strings.TrimSpace(in.Reason), store.ActorFor(currentUser(c), c.IP()))
	switch {
	case errors.Is(err, store.ErrNeedsReason):
		return nil, userError(fiber.StatusUnprocessableEntity, "reason_required", "不通过时请填写理由")
	case errors.Is(err, store.ErrStatusConflict):
		return nil, userError(fiber.StatusConflict, "status_conflict", "该"+what+"已处理")
	}
	return v, err
}

type blockInput struct {
	Reason string `json:"reason" form:"reason"`
}

// apiBlockUser is POST /api/v1/moderation/users/:id/block.
func (h *handler) apiBlockUser(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var in blockInput
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	if err := h.blockUser(c, id, in.Reason); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id, "blocked": true})
}

func (h *handler) blockUser(c *fiber.Ctx, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > 200 {
		return userError(fiber.StatusUnprocessableEntity, "reason_required", "请填写停用理由（不超过 200 字）")
	}
	target, err := h.store.UserByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if target.Role != store.RoleResident {
		return userError(fiber.StatusForbidden, "forbidden", "只能停用居民账号")
	}
	return h.store.BlockUser(c.UserContext(), id, reason, store.ActorFor(currentUser(c), c.IP()))
}

type reportInput struct {
	Reason string `json:"reason" form:"reason"`
}

// report records a resident's report of an idea.
func (h *handler) report(c *fiber.Ctx, ideaID int64, reason string) (bool, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > 200 {
		return false, userError(fiber.StatusUnprocessableEntity, "reason_required", "请选择或填写举报理由（不超过 200 字）")
	}
	idea, err := h.store.PublicIdea(c.UserContext(), ideaID)
	if err != nil {
		return false, err
	}
	camp, err := h.store.CampaignByID(c.UserContext(), idea.CampaignID)
	if err != nil {
		return false, err
	}
	// Visitors are told apart by a hash of their address, never the address itself.
	sum := sha256.Sum256([]byte("report\x00" + c.IP()))
	r := store.Report{Reason: reason, ReporterKey: "ip:" + hex.EncodeToString(sum[:12])}
	if u := currentUser(c); u != nil {
		r.ReporterID, r.ReporterKey = &u.ID, fmt.Sprintf("u:%d", u.ID)
	}
	return h.store.ReportTarget(c.UserContext(), "idea", ideaID, r, camp.ReportThreshold)
}

// apiReport is POST /api/v1/ideas/:id/report.
func (h *handler) apiReport(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var in reportInput
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	if _, err := h.report(c, id, in.Reason); err != nil {
		return err
	}
	// Whether the item is now hidden is not the reporter's business.
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"received": true})
}

// reportHTML is POST /ideas/:id/report. A report that hides the idea
// sends the reporter to the campaign page, since the idea page is gone.
func (h *handler) reportHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	hidden, err := h.report(c, id, c.FormValue("reason"))
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Status == fiber.StatusUnprocessableEntity {
			return h.renderIdea(c, ae.Status, "", ae.Message, "")
		}
		return err
	}
	if hidden {
		idea, err := h.store.IdeaByID(c.UserContext(), id)
		if err != nil {
			return err
		}
		camp, err := h.store.CampaignByID(c.UserContext(), idea.CampaignID)
		if err != nil {
			return err
		}
		setFlash(c, "notice", noticeText("reported"))
		return c.Redirect("/campaigns/"+camp.Slug, fiber.StatusSeeOther)
	}
	return c.Redirect(fmt.Sprintf("/ideas/%d?notice=reported", id), fiber.StatusSeeOther)
}

type queuePage struct {
	Items     []queueItem
	Comments  []store.Comment
	Posts     []store.DebatePost
	Filter    url.Values
	Campaigns []store.Campaign
	Reasons   []string
	Pager     pager
	Notice    string
	Problem   string
}

// queueHTML is GET /moderation.
func (h *handler) queueHTML(c *fiber.Ctx) error {
	f, err := h.queueFilter(c)
	if err != nil {
		return err
	}
	items, total, err := h.loadQueue(c, f)
	if err != nil {
		return err
	}
	cs, _, err := h.store.Campaigns(c.UserContext(), false, store.Page{PerPage: store.MaxPerPage})
	if err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"campaign", "theme", "reason", "min_age"} {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	flash := takeFlash(c)
	comments, _, err := h.store.PendingComments(c.UserContext(), store.Page{PerPage: 50})
	if err != nil {
		return err
	}
	posts, _, err := h.store.PendingDebatePosts(c.UserContext(), store.Page{PerPage: 50})
	if err != nil {
		return err
	}
	return h.render(c, "moderation", "审核队列", queuePage{Items: items, Filter: q, Campaigns: cs, Reasons: reasonTemplates,
		Pager: newPager(q, "/moderation", f.Page, total), Notice: flash["notice"], Problem: flash["problem"],
		Comments: comments, Posts: posts})
}

// backToQueue redirects to the queue with the filters the form carried.
func backToQueue(c *fiber.Ctx, key, msg string) error {
	q, _ := url.ParseQuery(c.FormValue("back"))
	for k := range q {
		if k != "campaign" && k != "theme" && k != "reason" && k != "min_age" && k != "page" {
			q.Del(k)
		}
	}
	setFlash(c, key, msg)
	return c.Redirect("/moderation?"+q.Encode(), fiber.StatusSeeOther)
}

// decisionHTML is POST /moderation/items/:id/decision.
func (h *handler) decisionHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	in := decisionInput{Action: c.FormValue("action"), Reason: c.FormValue("reason"), Theme: c.FormValue("theme")}
	if v := c.FormValue("target"); v != "" && in.Action == store.ActMerge {
		if in.Target, err = strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "#"), 10, 64); err != nil {
			return backToQueue(c, "problem", "合并目标应为建议编号")
		}
	}
	if _, err := h.decide(c, id, in); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Status < 500 {
			return backToQueue(c, "problem", fmt.Sprintf("#%d：%s", id, ae.Message))
		}
		return err
	}
	return backToQueue(c, "notice", fmt.Sprintf("#%d 已处理", id))
}

// bulkHTML is POST /moderation/bulk.
func (h *handler) bulkHTML(c *fiber.Ctx) error {
	var in bulkInput
	in.Action, in.Reason = c.FormValue("action"), c.FormValue("reason")
	form, err := c.MultipartForm()
	var raw []string
	if err == nil {
		raw = form.Value["ids"]
	} else {
		args := c.Request().PostArgs()
		for _, v := range args.PeekMulti("ids") {
			raw = append(raw, string(v))
		}
	}
	for _, v := range raw {
		id, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			in.IDs = append(in.IDs, id)
		}
	}
	res, err := h.bulk(c, in)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Status < 500 {
			return backToQueue(c, "problem", ae.Message)
		}
		return err
	}
	ok, failed := 0, 0
	for _, r := range res {
		if r.OK {
			ok++
		} else {
			failed++
		}
	}
	return backToQueue(c, "notice", fmt.Sprintf("批量处理完成：成功 %d 条，未处理 %d 条", ok, failed))
}

// blockHTML is POST /moderation/users/:id/block.
func (h *handler) blockHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	if err := h.blockUser(c, id, c.FormValue("reason")); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Status < 500 {
			return backToQueue(c, "problem", ae.Message)
		}
		return err
	}
	return backToQueue(c, "notice", "账号已停用，其待审核内容已退回")
}

// auditFilter reads the audit log's filters.
func (h *handler) auditFilter(c *fiber.Ctx) (store.AuditFilter, error) {
	f := store.AuditFilter{Action: c.Query("action"), TargetType: c.Query("target_type")}
	var err error
	if f.Page, err = parsePage(c); err != nil {
		return f, err
	}
	if v := c.Query("actor"); v != "" {
		u, err := h.store.UserByName(c.UserContext(), v)
		if err != nil {
			return f, userError(fiber.StatusNotFound, "unknown_user", "找不到该用户")
		}
		f.ActorID = u.ID
	}
	if v := c.Query("target_id"); v != "" {
		if f.TargetID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return f, userError(fiber.StatusBadRequest, "invalid_target", "对象编号应为整数")
		}
	}
	for _, d := range []struct {
		key string
		dst *time.Time
		add int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if v := c.Query(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, workday.China)
			if err != nil {
				return f, userError(fiber.StatusBadRequest, "invalid_date", "日期格式应为 2006-01-02")
			}
			*d.dst = t.AddDate(0, 0, d.add).UTC()
		}
	}
	return f, nil
}

type auditPage struct {
	Entries []store.AuditEntry
	Filter  url.Values
	Pager   pager
	CSVURL  string
}

// auditHTML is GET /admin/audit.
func (h *handler) auditHTML(c *fiber.Ctx) error {
	f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	es, total, err := h.store.AuditLog(c.UserContext(), f)
	if err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"actor", "action", "target_type", "target_id", "from", "to"} {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	return h.render(c, "audit", "操作日志", auditPage{Entries: es, Filter: q, Pager: newPager(q, "/admin/audit", f.Page, total),
		CSVURL: "/admin/audit.csv?" + q.Encode()})
}

// auditCSV is GET /admin/audit.csv: the filtered log, every page, as CSV.
func (h *handler) auditCSV(c *fiber.Ctx) error {
	f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	var b strings.Builder
	b.WriteString("\ufeff") // so spreadsheet programs read UTF-8
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", "time", "actor", "action", "target_type", "target_id", "reason", "before", "after", "ip"})
	f.Page = store.Page{Number: 1, PerPage: store.MaxPerPage}
	for {
		es, _, err := h.store.AuditLog(c.UserContext(), f)
		if err != nil {
			return err
		}
		for _, e := range es {
			target := ""
			if e.TargetID != nil {
				target = strconv.FormatInt(*e.TargetID, 10)
			}
			_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.CreatedAt.In(workday.China).Format("2006-01-02 15:04:05"),
				e.ActorName, e.Action, e.TargetType, target, csvSafe(e.Reason), csvSafe(e.BeforeJSON), csvSafe(e.AfterJSON), e.IP})
		}
		if len(es) < f.Page.Limit() {
			break
		}
		f.Page.Number++
	}
	w.Flush()
	return c.SendString(b.String())
}

// csvSafe keeps spreadsheet programs from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// apiAudit is GET /api/v1/moderation/audit.
func (h *handler) apiAudit(c *fiber.Ctx) error {
	f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	es, total, err := h.store.AuditLog(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"total": total, "page": f.Page.Number, "entries": es})
}

// commentDecisionHTML is POST /moderation/comments/:id/decision.
func (h *handler) commentDecisionHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	_, err = h.decideComment(c, id, decisionInput{Action: c.FormValue("action"), Reason: c.FormValue("reason")})
	return decided(c, "评论", id, err)
}

// postDecisionHTML is POST /moderation/posts/:id/decision.
func (h *handler) postDecisionHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	_, err = h.decidePost(c, id, decisionInput{Action: c.FormValue("action"), Reason: c.FormValue("reason")})
	return decided(c, "发言", id, err)
}

// decided sends the moderator back to the queue with the outcome of a
// decision on a comment or post; internal errors go to the error page.
func decided(c *fiber.Ctx, what string, id int64, err error) error {
	var ae *Error
	switch {
	case err == nil:
		return backToQueue(c, "notice", fmt.Sprintf("%s #%d 已处理", what, id))
	case errors.As(err, &ae) && ae.Status < 500:
		return backToQueue(c, "problem", fmt.Sprintf("%s #%d：%s", what, id, ae.Message))
	}
	return err
}

// apiPendingComments is GET /api/v1/moderation/comments: comments waiting for a moderator.
func (h *handler) apiPendingComments(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	cs, total, err := h.store.PendingComments(c.UserContext(), page)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, 0, len(cs))
	for _, cm := range cs {
		out = append(out, fiber.Map{"id": cm.ID, "idea": cm.IdeaID, "body": cm.BodyMasked, "status": cm.Status,
			"hidden": cm.Hidden, "reports": cm.ReportsCount, "risk": cm.RiskScore, "created_at": cm.CreatedAt.UTC()})
	}
	return c.JSON(fiber.Map{"total": total, "comments": out})
}
