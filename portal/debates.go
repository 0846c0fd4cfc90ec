package portal

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/debate"
	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// postView is a debate post as the public sees it.
type postView struct {
	ID          int64      `json:"id"`
	Parent      *int64     `json:"parent,omitempty"`
	Stance      string     `json:"stance"`
	StanceLabel string     `json:"stance_label"`
	Body        string     `json:"body"`
	Author      string     `json:"author"`
	Official    bool       `json:"official"`
	Department  string     `json:"department,omitempty"`
	Supports    int        `json:"supports"`
	Pinned      bool       `json:"pinned"`
	PromotedTo  *int64     `json:"promoted_idea,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	Replies     []postView `json:"replies,omitempty"`
}

// debateView is a debate with its posts for the API and the page.
type debateView struct {
	ID          int64            `json:"id"`
	Slug        string           `json:"slug"`
	Title       string           `json:"title"`
	Question    string           `json:"question"`
	Background  string           `json:"background"`
	Theme       string           `json:"theme"`
	Campaign    string           `json:"campaign,omitempty"`
	State       string           `json:"state"`
	OpensAt     time.Time        `json:"opens_at"`
	ClosesAt    time.Time        `json:"closes_at"`
	Departments []string         `json:"departments"`
	Stances     map[string]int64 `json:"stances"`
	Conclusion  string           `json:"conclusion,omitempty"`
	Outcomes    []ideaView       `json:"outcomes,omitempty"`
	Posts       []postView       `json:"posts"`
	Activity    []activityDay    `json:"activity"`
}

type activityDay struct {
	Day   string `json:"day"`
	Posts int    `json:"posts"`
	Max   int    `json:"-"` // the busiest day's count, for the bar's scale
}

// debateFor finds a debate by numeric id or slug.
func (h *handler) debateFor(c *fiber.Ctx, key string) (*store.Debate, error) {
	var d *store.Debate
	var err error
	if id, perr := strconv.ParseInt(key, 10, 64); perr == nil {
		d, err = h.store.DebateByID(c.UserContext(), id)
	} else {
		d, err = h.store.DebateBySlug(c.UserContext(), key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, userError(fiber.StatusNotFound, "not_found", "找不到该讨论")
	}
	return d, err
}

// loadDebate builds the full view of a debate.
func (h *handler) loadDebate(c *fiber.Ctx, d *store.Debate, sortBy store.PostSort) (debateView, error) {
	ctx := c.UserContext()
	v := debateView{ID: d.ID, Slug: d.Slug, Title: d.Title, Question: d.Question, Background: d.Background, Theme: d.Theme,
		State: d.State(h.now()), OpensAt: d.OpensAt, ClosesAt: d.ClosesAt, Conclusion: d.Conclusion,
		Departments: []string{}, Posts: []postView{}, Activity: []activityDay{}}
	if d.CampaignID != nil {
		if camp, err := h.store.CampaignByID(ctx, *d.CampaignID); err == nil {
			v.Campaign = camp.Slug
		}
	}
	deps, err := h.store.DebateDepartments(ctx, d.ID)
	if err != nil {
		return v, err
	}
	depName := map[int64]string{}
	for _, dep := range deps {
		v.Departments = append(v.Departments, dep.Name)
		depName[dep.ID] = dep.Name
	}
	if v.Stances, err = h.store.StanceCounts(ctx, d.ID); err != nil {
		return v, err
	}
	posts, err := h.store.DebatePosts(ctx, d.ID, sortBy)
	if err != nil {
		return v, err
	}
	names := map[int64]string{}
	author := func(p store.DebatePost) string {
		if p.AuthorID == nil {
			return "匿名"
		}
		if n, ok := names[*p.AuthorID]; ok {
			return n
		}
		n := "匿名"
		if u, err := h.store.UserByID(ctx, *p.AuthorID); err == nil {
			n = u.DisplayName
		}
		names[*p.AuthorID] = n
		return n
	}
	view := func(p store.DebatePost) postView {
		pv := postView{ID: p.ID, Parent: p.ParentID, Stance: p.Stance, StanceLabel: debate.StanceLabel(p.Stance),
			Body: p.BodyMasked, Author: author(p), Official: p.Official, Supports: p.SupportsCount, Pinned: p.Pinned,
			PromotedTo: p.PromotedIdeaID, CreatedAt: p.CreatedAt.UTC()}
		if p.DepartmentID != nil {
			pv.Department = depName[*p.DepartmentID]
		}
		return pv
	}
	index := map[int64]int{}
	for _, p := range posts {
		if p.ParentID == nil {
			index[p.ID] = len(v.Posts)
			v.Posts = append(v.Posts, view(p))
		}
	}
	for _, p := range posts {
		if p.ParentID != nil {
			if at, ok := index[*p.ParentID]; ok {
				v.Posts[at].Replies = append(v.Posts[at].Replies, view(p))
			}
		}
	}
	// Replies read as a conversation, oldest first, whatever order (pinned,
	// official, supports) the top-level posts are in.
	for i := range v.Posts {
		rs := v.Posts[i].Replies
		sort.Slice(rs, func(a, b int) bool {
			if !rs[a].CreatedAt.Equal(rs[b].CreatedAt) {
				return rs[a].CreatedAt.Before(rs[b].CreatedAt)
			}
			return rs[a].ID < rs[b].ID
		})
	}
	act, err := h.store.DebateActivity(ctx, d.ID)
	if err != nil {
		return v, err
	}
	for day, n := range act {
		v.Activity = append(v.Activity, activityDay{Day: day, Posts: n})
	}
	sort.Slice(v.Activity, func(i, j int) bool { return v.Activity[i].Day < v.Activity[j].Day })
	busiest := 0
	for _, a := range v.Activity {
		busiest = max(busiest, a.Posts)
	}
	for i := range v.Activity {
		v.Activity[i].Max = busiest
	}
	outcomes, err := h.store.DebateOutcomes(ctx, d.ID)
	if err != nil {
		return v, err
	}
	if v.Outcomes, err = newCatalog(h.store).views(ctx, outcomes); err != nil {
		return v, err
	}
	return v, nil
}

func parsePostSort(c *fiber.Ctx) (store.PostSort, error) {
	switch s := c.Query("sort"); s {
	case "", string(store.PostsNewest):
		return store.PostsNewest, nil
	case string(store.PostsSupported):
		return store.PostsSupported, nil
	}
	return "", userError(fiber.StatusBadRequest, "invalid_sort", "排序方式只能是 newest（最新）或 supported（支持最多）")
}

// apiDebates is GET /api/v1/debates.
func (h *handler) apiDebates(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	ds, total, err := h.store.Debates(c.UserContext(), page)
	if err != nil {
		return err
	}
	now := h.now()
	out := make([]fiber.Map, 0, len(ds))
	for _, d := range ds {
		out = append(out, fiber.Map{"id": d.ID, "slug": d.Slug, "title": d.Title, "question": d.Question, "theme": d.Theme,
			"state": d.State(now), "opens_at": d.OpensAt, "closes_at": d.ClosesAt, "concluded": d.ConcludedAt != nil})
	}
	return c.JSON(fiber.Map{"total": total, "page": page.Number, "debates": out})
}

// debateByParam finds the debate named by a route parameter (id or slug)
// and builds its view in the order the query string asks for.
func (h *handler) debateByParam(c *fiber.Ctx, param string) (*store.Debate, debateView, store.PostSort, error) {
	d, err := h.debateFor(c, c.Params(param))
	if err != nil {
		return nil, debateView{}, "", err
	}
	sortBy, err := parsePostSort(c)
	if err != nil {
		return nil, debateView{}, "", err
	}
	v, err := h.loadDebate(c, d, sortBy)
	return d, v, sortBy, err
}

// apiDebate is GET /api/v1/debates/:id.
func (h *handler) apiDebate(c *fiber.Ctx) error {
	_, v, _, err := h.debateByParam(c, "id")
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// apiCreateDebate is POST /api/v1/debates (admins).
func (h *handler) apiCreateDebate(c *fiber.Ctx) error {
	var in debate.Input
	if err := parseBody(c, &in, "应为 JSON，时间请用 RFC 3339 格式"); err != nil {
		return err
	}
	d, err := debate.Create(c.UserContext(), h.store, in, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	v, err := h.loadDebate(c, d, store.PostsNewest)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// apiPost is POST /api/v1/debates/:id/posts.
func (h *handler) apiPost(c *fiber.Ctx) error {
	d, err := h.debateFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	var in debate.PostInput
	if err := parseBody(c, &in, ""); err != nil {
		return err
	}
	p, err := h.debates.Post(c.UserContext(), currentUser(c), d.ID, in, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": p.ID, "status": p.Status, "status_label": p.Status.Label(),
		"official": p.Official, "stance": p.Stance})
}

type conclusionInput struct {
	Conclusion string  `json:"conclusion" form:"conclusion"`
	Ideas      []int64 `json:"ideas" form:"ideas"`
}

// apiConclusion is POST /api/v1/debates/:id/conclusion (moderators).
func (h *handler) apiConclusion(c *fiber.Ctx) error {
	d, err := h.debateFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	var in conclusionInput
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	if err := h.debates.Conclude(c.UserContext(), d.ID, in.Conclusion, in.Ideas, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	return h.apiDebate(c)
}

// apiPostSupport is POST and DELETE /api/v1/debates/posts/:id/support.
func (h *handler) apiPostSupport(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	n, err := h.debates.Support(c.UserContext(), currentUser(c), id, c.Method() == fiber.MethodDelete)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id, "supports": n})
}

// apiPin is POST /api/v1/debates/posts/:id/pin (moderators) {"pinned":bool}.
func (h *handler) apiPin(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var in struct {
		Pinned bool `json:"pinned"`
	}
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	if err := h.store.PinDebatePost(c.UserContext(), id, in.Pinned, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id, "pinned": in.Pinned})
}

// apiPromote is POST /api/v1/debates/posts/:id/promote (moderators) {"title":…}.
func (h *handler) apiPromote(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var in struct {
		Title string `json:"title"`
	}
	if err := c.BodyParser(&in); err != nil {
		return userError(fiber.StatusBadRequest, "invalid_json", "请求体格式不正确")
	}
	idea, err := h.debates.Promote(c.UserContext(), id, in.Title, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"idea": idea.ID, "tracking_code": idea.TrackingCode})
}

// apiPostDecision is POST /api/v1/moderation/posts/:id/decision.
func (h *handler) apiPostDecision(c *fiber.Ctx) error {
	return answerDecision(c, h.decidePost, func(p *store.DebatePost) fiber.Map {
		return fiber.Map{"id": p.ID, "status": p.Status, "status_label": p.Status.Label()}
	})
}

type debatePageData struct {
	Debate      debateView
	Sort        string
	CanPost     bool
	IsOfficial  bool
	CanModerate bool
	Notice      string
	Problem     string
	Errors      *input.Errors
	Form        debate.PostInput
}

// debatesHTML is GET /debates.
func (h *handler) debatesHTML(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	ds, total, err := h.store.Debates(c.UserContext(), page)
	if err != nil {
		return err
	}
	now := h.now()
	cards := make([]debateCard, 0, len(ds))
	for _, d := range ds {
		cards = append(cards, debateCard{Debate: d, State: d.State(now)})
	}
	return h.render(c, "debates", "主题大讨论", struct {
		Debates []debateCard
		Pager   pager
	}{cards, newPager(url.Values{}, "/debates", page, total)})
}

// debateHTML is GET /debates/:slug.
func (h *handler) debateHTML(c *fiber.Ctx) error {
	return h.renderDebate(c, fiber.StatusOK, noticeText(c.Query("notice")), "", nil, debate.PostInput{})
}

func (h *handler) renderDebate(c *fiber.Ctx, status int, notice, problem string, errs *input.Errors, form debate.PostInput) error {
	d, v, sortBy, err := h.debateByParam(c, "slug")
	if err != nil {
		return err
	}
	u := currentUser(c)
	data := debatePageData{Debate: v, Sort: string(sortBy), Notice: notice, Problem: problem, Errors: errs, Form: form,
		CanPost:     u != nil && v.State == "open" && u.BlockedAt == nil,
		CanModerate: u != nil && (u.Role == store.RoleModerator || u.Role == store.RoleAdmin)}
	if u != nil {
		if data.IsOfficial, err = h.debates.IsInvitedOfficial(c.UserContext(), u, d.ID); err != nil {
			return err
		}
	}
	c.Status(status)
	return h.render(c, "debate", v.Title, data)
}

// postHTML is POST /debates/:slug/posts.
func (h *handler) postHTML(c *fiber.Ctx) error {
	d, err := h.debateFor(c, c.Params("slug"))
	if err != nil {
		return err
	}
	in := debate.PostInput{Stance: c.FormValue("stance"), Body: c.FormValue("body")}
	if p := c.FormValue("parent"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return fiber.ErrBadRequest
		}
		in.Parent = &n
	}
	p, err := h.debates.Post(c.UserContext(), currentUser(c), d.ID, in, c.IP())
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		return h.renderDebate(c, fiber.StatusUnprocessableEntity, "", "请根据提示修改后重新发表", ie, in)
	case errors.As(err, &ip) && ip.Status != fiber.StatusNotFound:
		return h.renderDebate(c, ip.Status, "", ip.Message, nil, in)
	case err != nil:
		return err
	}
	notice := "commented"
	if !p.Status.Public() {
		notice = "comment_pending"
	}
	return c.Redirect(fmt.Sprintf("/debates/%s?notice=%s#posts", d.Slug, notice), fiber.StatusSeeOther)
}

// postSupportHTML is POST /debates/:slug/posts/:id/support (and unsupport).
func (h *handler) postSupportHTML(remove bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return err
		}
		if _, err := h.debates.Support(c.UserContext(), currentUser(c), id, remove); err != nil {
			return err
		}
		return c.Redirect(fmt.Sprintf("/debates/%s#p%d", url.PathEscape(c.Params("slug")), id), fiber.StatusSeeOther)
	}
}

// conclusionHTML is POST /debates/:slug/conclusion (moderators).
func (h *handler) conclusionHTML(c *fiber.Ctx) error {
	d, err := h.debateFor(c, c.Params("slug"))
	if err != nil {
		return err
	}
	var ids []int64
	for _, f := range strings.FieldsFunc(c.FormValue("ideas"), func(r rune) bool { return strings.ContainsRune(" ,，、#\n", r) }) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return h.renderDebate(c, fiber.StatusUnprocessableEntity, "", "关联建议请填写编号，用逗号分隔", nil, debate.PostInput{})
		}
		ids = append(ids, n)
	}
	err = h.debates.Conclude(c.UserContext(), d.ID, c.FormValue("conclusion"), ids, store.ActorFor(currentUser(c), c.IP()))
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		return h.renderDebate(c, fiber.StatusUnprocessableEntity, "", ie.Error(), nil, debate.PostInput{})
	case errors.As(err, &ip):
		return h.renderDebate(c, ip.Status, "", ip.Message, nil, debate.PostInput{})
	case err != nil:
		return err
	}
	return c.Redirect("/debates/"+d.Slug+"#conclusion", fiber.StatusSeeOther)
}

// debateFormHTML is GET and POST /admin/debates/new.
func (h *handler) debateFormHTML(c *fiber.Ctx) error {
	type form struct {
		Slug, Title, Question, Background, Theme, Campaign, OpensAt, ClosesAt, Policy, Departments string
	}
	f := form{Policy: store.PolicyPost}
	errs := &input.Errors{}
	if c.Method() == fiber.MethodPost {
		f = form{Slug: c.FormValue("slug"), Title: c.FormValue("title"), Question: c.FormValue("question"),
			Background: c.FormValue("background"), Theme: c.FormValue("theme"), Campaign: c.FormValue("campaign"),
			OpensAt: c.FormValue("opens_at"), ClosesAt: c.FormValue("closes_at"), Policy: c.FormValue("policy"),
			Departments: c.FormValue("departments")}
		in := debate.Input{Slug: f.Slug, Title: f.Title, Question: f.Question, Background: f.Background, Theme: f.Theme,
			Campaign: f.Campaign, Policy: f.Policy}
		for _, d := range []struct {
			v   string
			dst **time.Time
		}{{f.OpensAt, &in.OpensAt}, {f.ClosesAt, &in.ClosesAt}} {
			if t, err := time.ParseInLocation(formTime, strings.TrimSpace(d.v), chinaTime); err == nil {
				*d.dst = &t
			}
		}
		for _, l := range strings.Split(f.Departments, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				in.Departments = append(in.Departments, l)
			}
		}
		d, err := debate.Create(c.UserContext(), h.store, in, store.ActorFor(currentUser(c), c.IP()))
		var ie *input.Errors
		switch {
		case errors.As(err, &ie):
			errs = ie
			c.Status(fiber.StatusUnprocessableEntity)
		case err != nil:
			return err
		default:
			return c.Redirect("/debates/"+d.Slug, fiber.StatusSeeOther)
		}
	}
	return h.render(c, "admin_debate_form", "新建主题大讨论", struct {
		Form   form
		Errors *input.Errors
	}{f, errs})
}

// pinHTML is POST /debates/:slug/posts/:id/pin (moderators).
func (h *handler) pinHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	pinned := c.FormValue("pinned") == "1"
	if err := h.store.PinDebatePost(c.UserContext(), id, pinned, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/debates/%s#p%d", url.PathEscape(c.Params("slug")), id), fiber.StatusSeeOther)
}

// promoteHTML is POST /debates/:slug/posts/:id/promote (moderators).
func (h *handler) promoteHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	idea, err := h.debates.Promote(c.UserContext(), id, c.FormValue("title"), store.ActorFor(currentUser(c), c.IP()))
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		return h.renderDebate(c, fiber.StatusUnprocessableEntity, "", ie.Error(), nil, debate.PostInput{})
	case errors.As(err, &ip):
		return h.renderDebate(c, ip.Status, "", ip.Message, nil, debate.PostInput{})
	case err != nil:
		return err
	}
	return c.Redirect(fmt.Sprintf("/ideas/%d", idea.ID), fiber.StatusSeeOther)
}
