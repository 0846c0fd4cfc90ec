package portal

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/moderation"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/workday"
)

// modFixture is an ideasFixture with a moderator's API client, a movable
// clock and helpers for the moderation API.
type modFixture struct {
	*ideasFixture
	clock   *testClock
	mod     *client // bearer token of a moderator
	modName string
}

func newModFixture(t *testing.T) *modFixture {
	t.Helper()
	clock := &testClock{now: time.Now().UTC()}
	f := &modFixture{clock: clock, ideasFixture: newIdeasFixture(t, testOptions{Now: clock.Now, SubmitLimit: 1000, TrackLimit: 1000})}
	f.mod = f.bearer("shenheyuan", store.RoleModerator)
	f.modName = decodeMe(t, f.mod.get("/api/v1/me")).Name
	return f
}

// session creates a user with the role and returns a browser signed in as it.
func (f *modFixture) session(name string, role store.Role) *client {
	f.t.Helper()
	dept := ""
	if role == store.RoleOfficial {
		dept = "城建局"
	}
	f.createUser(f.t, name, role, dept)
	c := f.client(f.t)
	c.mustLogin(name)
	return c
}

// pending submits an idea with that title to a pre-moderated campaign as c.
func (f *modFixture) pending(c *client, slug, title string) ideaReceipt {
	f.t.Helper()
	b := ideaBody(slug)
	b["title"] = title
	r := f.submit(c, b)
	if r.Status != string(store.IdeaPending) {
		f.t.Fatalf("submission to %s: %+v, want pending", slug, r)
	}
	return r
}

// published submits an idea and publishes it.
func (f *modFixture) published(c *client, slug, title string) ideaReceipt {
	f.t.Helper()
	r := f.pending(c, slug, title)
	f.publish(r.ID)
	return r
}

// storedIdea writes a pending idea straight to the store, with the risk and
// reasons the moderation pipeline would have given it.
func (f *modFixture) storedIdea(slug, title, theme string, risk float64, reasons []moderation.Reason, dups []moderation.Duplicate) *store.Idea {
	f.t.Helper()
	ctx := context.Background()
	camp, err := f.store.CampaignBySlug(ctx, slug)
	if err != nil {
		f.t.Fatal(err)
	}
	v := moderation.Verdict{Action: moderation.Hold, Reasons: reasons, Risk: risk, Duplicates: dups}
	mj, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.clock.Now().Truncate(time.Microsecond)
	body := "我们小区附近的道路情况需要改进，建议相关部门尽快调研并拿出整改方案。"
	idea := &store.Idea{
		CampaignID: camp.ID, TrackingCode: ideas.NewTrackingCode(), Title: title, Body: body,
		TitleMasked: title, BodyMasked: body, ProvinceCode: "330000", CityCode: "330100", DisplayName: "李娜",
		ContactPhone: testPhone, ContactEmail: testEmail, SubmitterKey: ideas.SubmitterKey(testPhone, testEmail),
		Status: store.IdeaPending, RiskScore: risk, Moderation: string(mj), ReasonCodes: v.Codes(),
		Source: "api", CreatedAt: now, UpdatedAt: now,
	}
	if theme != "" {
		themes, err := f.store.Themes(ctx, camp.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		for i := range themes {
			if themes[i].Name == theme {
				idea.ThemeID = &themes[i].ID
			}
		}
		if idea.ThemeID == nil {
			f.t.Fatalf("campaign %s has no theme %q", slug, theme)
		}
	}
	if err := f.store.CreateIdea(ctx, idea, nil, "已收到您的建议，等待审核"); err != nil {
		f.t.Fatalf("CreateIdea %q: %v", title, err)
	}
	return idea
}

// modQueueJSON is the body of GET /api/v1/moderation/queue.
type modQueueJSON struct {
	Total int64          `json:"total"`
	Items []modQueueItem `json:"items"`
}

type modQueueItem struct {
	ID         int64               `json:"id"`
	Title      string              `json:"title"`
	Campaign   string              `json:"campaign"`
	Theme      string              `json:"theme"`
	Status     string              `json:"status"`
	Hidden     bool                `json:"hidden"`
	Reports    int                 `json:"reports"`
	Risk       float64             `json:"risk"`
	Reasons    []moderation.Reason `json:"reasons"`
	Duplicates []struct {
		ID         int64   `json:"id"`
		Similarity float64 `json:"similarity"`
	} `json:"duplicates"`
	AgeDays int  `json:"age_working_days"`
	Overdue bool `json:"overdue"`
}

func (q modQueueJSON) ids() []int64 {
	out := []int64{}
	for _, it := range q.Items {
		out = append(out, it.ID)
	}
	return out
}

func (q modQueueJSON) item(id int64) *modQueueItem {
	for i := range q.Items {
		if q.Items[i].ID == id {
			return &q.Items[i]
		}
	}
	return nil
}

// queue reads the moderation queue as the moderator; it also returns the raw body.
func (f *modFixture) queue(query string) (modQueueJSON, string) {
	f.t.Helper()
	res := f.mod.get("/api/v1/moderation/queue?" + query)
	var q modQueueJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &q) != nil {
		f.t.Fatalf("queue ?%s: %s", query, res)
	}
	return q, res.body
}

// decision posts a decision on an idea as c.
func (f *modFixture) decision(c *client, id int64, body map[string]any) *response {
	f.t.Helper()
	return f.json(c, http.MethodPost, fmt.Sprintf("/api/v1/moderation/items/%d/decision", id), body, nil)
}

type modDecisionJSON struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	StatusLabel string `json:"status_label"`
	MergedInto  *int64 `json:"merged_into"`
}

// decide posts a decision as the moderator and fails unless it succeeded.
func (f *modFixture) decide(id int64, body map[string]any) modDecisionJSON {
	f.t.Helper()
	res := f.decision(f.mod, id, body)
	var d modDecisionJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &d) != nil {
		f.t.Fatalf("decision %v on %d: %s", body, id, res)
	}
	return d
}

// modTrackJSON is the part of GET /api/v1/track/:code these tests read.
type modTrackJSON struct {
	Status      string      `json:"status"`
	StatusLabel string      `json:"status_label"`
	Reason      string      `json:"reason"`
	Theme       string      `json:"theme"`
	Events      []eventView `json:"events"`
	CanEdit     bool        `json:"can_edit"`
	PublicID    int64       `json:"public_id"`
	MergedInto  *mergedView `json:"merged_into"`
}

func (f *modFixture) track(code string) modTrackJSON {
	f.t.Helper()
	res := f.visitor.get("/api/v1/track/" + code)
	var v modTrackJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
		f.t.Fatalf("track %s: %s", code, res)
	}
	return v
}

// ideaStatus reads an idea's stored status.
func (f *modFixture) ideaStatus(id int64) store.IdeaStatus {
	f.t.Helper()
	i, err := f.store.IdeaByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return i.Status
}

// isPublic reports whether GET /api/v1/ideas/:id shows the idea (200) or not (404).
func (f *modFixture) isPublic(id int64) bool {
	f.t.Helper()
	res := f.visitor.get(fmt.Sprintf("/api/v1/ideas/%d", id))
	switch res.status {
	case fiber.StatusOK:
		return true
	case fiber.StatusNotFound:
		return false
	}
	f.t.Fatalf("GET idea %d: %s", id, res)
	return false
}

// modFollow loads the page a redirect points to with the same browser.
func modFollow(t *testing.T, c *client, res *response) *response {
	t.Helper()
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("want a 303 redirect: %s", res)
	}
	page := c.get(res.header.Get(fiber.HeaderLocation))
	if page.status != fiber.StatusOK {
		t.Fatalf("GET %s: %s", res.header.Get(fiber.HeaderLocation), page)
	}
	return page
}

func TestModerationRoutesNeedModerators(t *testing.T) {
	f := newModFixture(t)
	const missing = 999999
	api := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/moderation/queue", nil},
		{http.MethodPost, fmt.Sprintf("/api/v1/moderation/items/%d/decision", missing), map[string]any{"action": "approve"}},
		{http.MethodPost, "/api/v1/moderation/bulk", map[string]any{"ids": []int64{missing}, "action": "approve"}},
		{http.MethodPost, fmt.Sprintf("/api/v1/moderation/comments/%d/decision", missing), map[string]any{"action": "approve"}},
		{http.MethodPost, fmt.Sprintf("/api/v1/moderation/users/%d/block", missing), map[string]any{"reason": "发布广告"}},
		{http.MethodGet, "/api/v1/moderation/audit", nil},
	}
	bearers := []struct {
		role   string
		c      *client
		denied bool
	}{
		{"visitor", f.visitor, true},
		{"resident", f.bearer("jumin", store.RoleResident), true},
		{"official", f.bearer("guanyuan", store.RoleOfficial), true},
		{"moderator", f.mod, false},
		{"admin", f.admin, false},
	}
	for _, r := range api {
		for _, b := range bearers {
			t.Run(b.role+" "+r.method+" "+r.path, func(t *testing.T) {
				res := f.json(b.c, r.method, r.path, r.body, nil)
				switch {
				case b.role == "visitor":
					f.wantProblem(res, fiber.StatusUnauthorized, "unauthorized")
				case b.denied:
					f.wantProblem(res, fiber.StatusForbidden, "forbidden")
				case res.status == fiber.StatusUnauthorized || res.status == fiber.StatusForbidden:
					t.Errorf("%s refused: %s", b.role, res)
				}
			})
		}
	}

	pages := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/moderation", nil},
		{http.MethodPost, fmt.Sprintf("/moderation/items/%d/decision", missing), url.Values{"action": {"approve"}}},
		{http.MethodPost, "/moderation/bulk", url.Values{"action": {"approve"}, "ids": {fmt.Sprint(missing)}}},
		{http.MethodPost, fmt.Sprintf("/moderation/users/%d/block", missing), url.Values{"reason": {"发布广告"}}},
		{http.MethodGet, "/admin/audit", nil},
		{http.MethodGet, "/admin/audit.csv", nil},
	}
	visitor := f.client(t)
	visitorToken := visitor.csrf("/login")
	browsers := []struct {
		role   string
		c      *client
		denied bool
	}{
		{"visitor", visitor, true},
		{"resident", f.session("html-jumin", store.RoleResident), true},
		{"official", f.session("html-guanyuan", store.RoleOfficial), true},
		{"moderator", f.session("html-shenhe", store.RoleModerator), false},
		{"admin", f.session("html-admin", store.RoleAdmin), false},
	}
	for _, b := range browsers {
		tok := visitorToken
		if b.role != "visitor" {
			tok = b.c.csrf("/")
		}
		for _, r := range pages {
			t.Run(b.role+" "+r.method+" "+r.path, func(t *testing.T) {
				var form url.Values
				if r.form != nil {
					form = url.Values{"_csrf": {tok}}
					for k, v := range r.form {
						form[k] = v
					}
				}
				res := b.c.do(r.method, r.path, form, nil)
				loc := res.header.Get(fiber.HeaderLocation)
				switch {
				case b.role == "visitor":
					if res.status != fiber.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
						t.Fatalf("visitor: %s", res)
					}
					if r.method == http.MethodGet && loc != "/login?next="+url.QueryEscape(r.path) {
						t.Errorf("visitor sent to %q", loc)
					}
				case b.denied:
					if res.status != fiber.StatusForbidden || !strings.Contains(res.body, "您没有权限进行此操作") {
						t.Errorf("%s: %s", b.role, res)
					}
				default:
					if res.status == fiber.StatusUnauthorized || res.status == fiber.StatusForbidden || strings.HasPrefix(loc, "/login") {
						t.Errorf("%s refused: %s", b.role, res)
					}
				}
			})
		}
	}
}

func TestModerationQueueContent(t *testing.T) {
	f := newModFixture(t)
	f.campaign("shenhe", store.PolicyPre, func(b map[string]any) { b["review_days"] = 3 })
	f.campaign("kuanxian", store.PolicyPre, func(b map[string]any) { b["review_days"] = 5 })

	// Three pending ideas of different risk, one already public, one elsewhere.
	public := f.published(f.visitor, "shenhe", "已经公开的建议：路灯维修")
	hold := []moderation.Reason{{Code: "word_hold", Message: "含有需要人工复核的词语"}}
	pre := []moderation.Reason{{Code: "policy_pre", Message: "本活动实行先审后发，审核通过后公开"}}
	low := f.storedIdea("shenhe", "低风险：增加社区健身器材", "城市管理", 0.2, pre, nil)
	high := f.storedIdea("shenhe", "高风险：公交站台改造", "交通出行", 0.9, hold,
		[]moderation.Duplicate{{IdeaID: public.ID, Similarity: 0.87}})
	mid := f.storedIdea("shenhe", "中风险：夜市油烟扰民", "城市管理", 0.5, pre, nil)
	other := f.pending(f.visitor, "kuanxian", "另一个活动：地铁站口接驳")

	q, raw := f.queue("")
	if q.Total != 4 || len(q.Items) != 4 {
		t.Fatalf("whole queue: total %d, ids %v", q.Total, q.ids())
	}
	for _, secret := range []string{testPhone, testEmail, "contact", "phone", "email"} {
		if strings.Contains(raw, secret) {
			t.Errorf("queue JSON contains %q: %s", secret, raw)
		}
	}
	q, _ = f.queue("campaign=shenhe")
	if want := []int64{high.ID, mid.ID, low.ID}; q.Total != 3 || fmt.Sprint(q.ids()) != fmt.Sprint(want) {
		t.Fatalf("campaign queue: total %d ids %v, want riskiest first %v", q.Total, q.ids(), want)
	}
	h := q.Items[0]
	if h.Title != high.Title || h.Campaign != "shenhe" || h.Theme != "交通出行" || h.Status != "pending" || h.Hidden ||
		h.Risk != 0.9 || h.AgeDays != 0 || h.Overdue {
		t.Errorf("riskiest item: %+v", h)
	}
	if len(h.Reasons) != 1 || h.Reasons[0].Code != "word_hold" || h.Reasons[0].Message != hold[0].Message {
		t.Errorf("reasons: %+v", h.Reasons)
	}
	if len(h.Duplicates) != 1 || h.Duplicates[0].ID != public.ID || h.Duplicates[0].Similarity != 0.87 {
		t.Errorf("duplicates: %+v", h.Duplicates)
	}
	if it := q.item(low.ID); it == nil || it.Risk != 0.2 || len(it.Duplicates) != 0 || it.Reasons[0].Code != "policy_pre" {
		t.Errorf("low-risk item: %+v", it)
	}

	// Filters.
	for _, tt := range []struct {
		query string
		want  []int64
	}{
		{"campaign=shenhe&theme=" + url.QueryEscape("交通出行"), []int64{high.ID}},
		{"campaign=shenhe&theme=" + url.QueryEscape("城市管理"), []int64{mid.ID, low.ID}},
		{"campaign=kuanxian", []int64{other.ID}},
		{"reason=word_hold", []int64{high.ID}},
		{"reason=policy_pre", []int64{mid.ID, low.ID, other.ID}},
		{"reason=" + url.QueryEscape("word%"), []int64{}},
		{"reason=" + url.QueryEscape("policy_"), []int64{}},
		{"min_age=0", []int64{high.ID, mid.ID, low.ID, other.ID}},
		{"min_age=1", []int64{}},
		{"per_page=1&page=2&campaign=shenhe", []int64{mid.ID}},
	} {
		if q, _ := f.queue(tt.query); fmt.Sprint(q.ids()) != fmt.Sprint(tt.want) {
			t.Errorf("?%s: ids %v, want %v", tt.query, q.ids(), tt.want)
		}
	}
	for _, tt := range []struct {
		query, code string
		status      int
	}{
		{"min_age=abc", "invalid_age", fiber.StatusBadRequest},
		{"min_age=-1", "invalid_age", fiber.StatusBadRequest},
		{"min_age=366", "invalid_age", fiber.StatusBadRequest},
		{"page=0", "invalid_page", fiber.StatusBadRequest},
		{"campaign=nosuch", "unknown_campaign", fiber.StatusNotFound},
		{"campaign=shenhe&theme=" + url.QueryEscape("不存在"), "unknown_theme", fiber.StatusNotFound},
		{"theme=" + url.QueryEscape("交通出行"), "theme_needs_campaign", fiber.StatusBadRequest},
	} {
		f.wantProblem(f.mod.get("/api/v1/moderation/queue?"+tt.query), tt.status, tt.code)
	}

	// Seven calendar days later every item has waited five working days:
	// past the three-day limit of one campaign, exactly at the five-day limit
	// of the other.
	f.clock.Add(7 * 24 * time.Hour)
	q, _ = f.queue("")
	for _, it := range q.Items {
		want := it.Campaign == "shenhe"
		if it.AgeDays != 5 || it.Overdue != want {
			t.Errorf("item %d of %s a week later: age %d overdue %v, want 5 %v", it.ID, it.Campaign, it.AgeDays, it.Overdue, want)
		}
	}
	if q, _ := f.queue("min_age=6"); q.Total != 4 {
		t.Errorf("min_age=6 a week later: %v", q.ids())
	}
	if q, _ := f.queue("min_age=8"); q.Total != 0 {
		t.Errorf("min_age=8 a week later: %v", q.ids())
	}
}

func TestModerationDecisionsAPI(t *testing.T) {
	f := newModFixture(t)
	f.campaign("jueding", store.PolicyPre, nil)
	f.campaign("bieren", store.PolicyPre, nil)

	t.Run("approve", func(t *testing.T) {
		r := f.pending(f.visitor, "jueding", "待通过的建议：增设公交站台")
		if f.isPublic(r.ID) {
			t.Fatal("a pending idea is public")
		}
		d := f.decide(r.ID, map[string]any{"action": "approve"})
		if d.ID != r.ID || d.Status != "published" || d.StatusLabel != "已公开" || d.MergedInto != nil {
			t.Errorf("approve: %+v", d)
		}
		if v := f.getIdea(r.ID); v.Idea.Status != "published" || v.Idea.Title != "待通过的建议：增设公交站台" {
			t.Errorf("approved idea: %+v", v.Idea)
		}
		if tr := f.track(r.TrackingCode); tr.Status != "published" || tr.PublicID != r.ID || tr.Events[len(tr.Events)-1].Note != "审核通过，已公开" {
			t.Errorf("tracking after approval: %+v", tr)
		}
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "approve"}), fiber.StatusConflict, "status_conflict")
		f.wantProblem(f.decision(f.admin, r.ID, map[string]any{"action": "reject", "reason": "重复"}), fiber.StatusConflict, "status_conflict")
	})

	t.Run("reject", func(t *testing.T) {
		r := f.pending(f.visitor, "jueding", "待退回的建议：内容与主题无关")
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "reject"}), fiber.StatusUnprocessableEntity, "reason_required")
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "reject", "reason": "   "}), fiber.StatusUnprocessableEntity, "reason_required")
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "reject", "reason": strings.Repeat("长", 501)}),
			fiber.StatusUnprocessableEntity, "invalid_reason")
		if s := f.ideaStatus(r.ID); s != store.IdeaPending {
			t.Fatalf("refused rejections changed the status to %s", s)
		}
		reason := reasonTemplates[0]
		if d := f.decide(r.ID, map[string]any{"action": "reject", "reason": "  " + reason + " "}); d.Status != "rejected" || d.StatusLabel != "未通过" {
			t.Errorf("reject: %+v", d)
		}
		tr := f.track(r.TrackingCode)
		last := tr.Events[len(tr.Events)-1]
		if tr.Status != "rejected" || tr.StatusLabel != "未通过" || tr.Reason != reason || last.Status != "rejected" || last.Note != reason {
			t.Errorf("tracking after rejection: %+v", tr)
		}
		if f.isPublic(r.ID) {
			t.Error("a rejected idea is public")
		}
	})

	t.Run("request changes, then the submitter edits", func(t *testing.T) {
		r := f.pending(f.visitor, "jueding", "待修改的建议：请补充位置")
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "request_changes"}), fiber.StatusUnprocessableEntity, "reason_required")
		if d := f.decide(r.ID, map[string]any{"action": "request_changes", "reason": reasonTemplates[1]}); d.Status != "changes_requested" {
			t.Errorf("request_changes: %+v", d)
		}
		if q, _ := f.queue("campaign=jueding"); q.item(r.ID) != nil {
			t.Error("an idea sent back is still in the queue")
		}
		tr := f.track(r.TrackingCode)
		if tr.Status != "changes_requested" || !tr.CanEdit || tr.Reason != reasonTemplates[1] {
			t.Errorf("tracking after request_changes: %+v", tr)
		}
		edit := map[string]any{"title": "已修改：解放路 12 号人行道", "body": "补充了具体位置：解放路 12 号小区南门，每天 17 点到 21 点被占用。"}
		res := f.json(f.visitor, http.MethodPut, "/api/v1/track/"+r.TrackingCode, edit, nil)
		if res.status != fiber.StatusOK {
			t.Fatalf("edit: %s", res)
		}
		q, _ := f.queue("campaign=jueding")
		if it := q.item(r.ID); it == nil || it.Title != edit["title"] || it.Status != "pending" {
			t.Errorf("edited idea in the queue: %+v (queue %v)", it, q.ids())
		}
	})

	t.Run("retheme", func(t *testing.T) {
		r := f.pending(f.visitor, "jueding", "改主题的建议：地铁接驳")
		if r.Theme != "城市管理" {
			t.Fatalf("receipt %+v", r)
		}
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "retheme", "theme": "不存在的主题"}),
			fiber.StatusUnprocessableEntity, "unknown_theme")
		if d := f.decide(r.ID, map[string]any{"action": "retheme", "theme": "交通出行"}); d.Status != "pending" {
			t.Errorf("retheme: %+v", d)
		}
		if tr := f.track(r.TrackingCode); tr.Theme != "交通出行" || tr.Status != "pending" {
			t.Errorf("tracking after retheme: %+v", tr)
		}
		q, _ := f.queue("campaign=jueding&theme=" + url.QueryEscape("交通出行"))
		if it := q.item(r.ID); it == nil || it.Theme != "交通出行" {
			t.Errorf("rethemed idea in the queue: %+v", q.ids())
		}
		// A theme of another campaign is refused, by id as by name.
		camp, err := f.store.CampaignBySlug(context.Background(), "bieren")
		if err != nil {
			t.Fatal(err)
		}
		themes, err := f.store.Themes(context.Background(), camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": "retheme", "theme": fmt.Sprint(themes[0].ID)}),
			fiber.StatusUnprocessableEntity, "unknown_theme")
	})

	t.Run("bad requests", func(t *testing.T) {
		r := f.pending(f.visitor, "jueding", "用于错误请求的建议")
		for _, action := range []string{"delete", "", "APPROVE"} {
			f.wantProblem(f.decision(f.mod, r.ID, map[string]any{"action": action}), fiber.StatusUnprocessableEntity, "invalid_action")
		}
		f.wantProblem(f.decision(f.mod, 999999, map[string]any{"action": "approve"}), fiber.StatusNotFound, "not_found")
		f.wantProblem(f.json(f.mod, http.MethodPost, fmt.Sprintf("/api/v1/moderation/items/%d/decision", r.ID), []byte(`{"action":`), nil),
			fiber.StatusBadRequest, "invalid_json")
		f.wantProblem(f.json(f.mod, http.MethodPost, fmt.Sprintf("/api/v1/moderation/items/%d/decision", r.ID), []byte("{\"action\":\"reject\",\"reason\":\"\xff\"}"), nil),
			fiber.StatusBadRequest, "invalid_utf8")
		if s := f.ideaStatus(r.ID); s != store.IdeaPending {
			t.Errorf("bad requests changed the status to %s", s)
		}
	})

	t.Run("merge and unmerge", func(t *testing.T) {
		a := f.published(f.visitor, "jueding", "合并来源 A：人行道占道")
		b := f.published(f.visitor, "jueding", "合并目标 B：人行道被摊贩占用")
		resident := f.bearer("fuyi", store.RoleResident)
		if res := f.json(resident, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/support", a.ID), nil, nil); res.status != fiber.StatusOK {
			t.Fatalf("support: %s", res)
		}
		if f.getIdea(a.ID).Idea.Supports != 1 || f.getIdea(b.ID).Idea.Supports != 0 {
			t.Fatal("supports before the merge")
		}
		pendingTarget := f.pending(f.visitor, "jueding", "尚未公开的建议")
		elsewhere := f.published(f.visitor, "bieren", "另一个活动的建议")
		for _, target := range []int64{pendingTarget.ID, elsewhere.ID, a.ID, 999999} {
			f.wantProblem(f.decision(f.mod, a.ID, map[string]any{"action": "merge", "target": target}),
				fiber.StatusUnprocessableEntity, "invalid_target")
		}
		f.wantProblem(f.decision(f.mod, a.ID, map[string]any{"action": "unmerge"}), fiber.StatusConflict, "not_merged")

		d := f.decide(a.ID, map[string]any{"action": "merge", "target": b.ID, "reason": reasonTemplates[4]})
		if d.Status != "merged" || d.MergedInto == nil || *d.MergedInto != b.ID {
			t.Errorf("merge: %+v", d)
		}
		tr := f.track(a.TrackingCode)
		if tr.Status != "merged" || tr.MergedInto == nil || tr.MergedInto.ID != b.ID || tr.MergedInto.Title != "合并目标 B：人行道被摊贩占用" {
			t.Errorf("tracking of the merged idea: %+v", tr)
		}
		if last := tr.Events[len(tr.Events)-1]; !strings.Contains(last.Note, fmt.Sprintf("#%d", b.ID)) || !strings.Contains(last.Note, reasonTemplates[4]) {
			t.Errorf("merge event: %+v", last)
		}
		if f.isPublic(a.ID) {
			t.Error("a merged idea is still public")
		}
		if n := f.getIdea(b.ID).Idea.Supports; n != 1 {
			t.Errorf("target supports after the merge: %d, want 1", n)
		}
		// The supporter's support moved: supporting the target again is a no-op.
		var sup struct{ Supports int }
		res := f.json(resident, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/support", b.ID), nil, nil)
		if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &sup) != nil || sup.Supports != 1 {
			t.Errorf("support the target again: %s", res)
		}
		f.wantProblem(f.decision(f.mod, a.ID, map[string]any{"action": "merge", "target": b.ID}), fiber.StatusUnprocessableEntity, "invalid_target")

		if d := f.decide(a.ID, map[string]any{"action": "unmerge"}); d.Status != "published" || d.MergedInto != nil {
			t.Errorf("unmerge: %+v", d)
		}
		if v := f.getIdea(a.ID); v.Idea.Status != "published" || v.Idea.Supports != 1 {
			t.Errorf("unmerged idea: %+v", v.Idea)
		}
		if n := f.getIdea(b.ID).Idea.Supports; n != 0 {
			t.Errorf("target supports after the unmerge: %d, want 0", n)
		}
		if tr := f.track(a.TrackingCode); tr.Status != "published" || tr.MergedInto != nil || tr.Events[len(tr.Events)-1].Note != "已撤销合并" {
			t.Errorf("tracking after unmerge: %+v", tr)
		}
		f.wantProblem(f.decision(f.mod, a.ID, map[string]any{"action": "unmerge"}), fiber.StatusConflict, "not_merged")
	})
}

func TestModerationBulk(t *testing.T) {
	f := newModFixture(t)
	f.campaign("piliang", store.PolicyPre, nil)
	p1 := f.pending(f.visitor, "piliang", "批量一：增设垃圾分类点")
	p2 := f.pending(f.visitor, "piliang", "批量二：修缮小区围墙")
	done := f.published(f.visitor, "piliang", "批量三：已公开的建议")

	bulk := func(body any) *response {
		return f.json(f.mod, http.MethodPost, "/api/v1/moderation/bulk", body, nil)
	}
	type result struct {
		Results []bulkResult `json:"results"`
	}
	decode := func(res *response) []bulkResult {
		t.Helper()
		var r result
		if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &r) != nil {
			t.Fatalf("bulk: %s", res)
		}
		return r.Results
	}

	// Reject without a reason: each item fails on its own.
	rs := decode(bulk(map[string]any{"ids": []int64{p1.ID, p2.ID}, "action": "reject"}))
	if len(rs) != 2 {
		t.Fatalf("bulk reject results: %+v", rs)
	}
	for _, r := range rs {
		if r.OK || r.Code != "reason_required" || r.Message == "" {
			t.Errorf("bulk reject without reason: %+v", r)
		}
	}
	if f.ideaStatus(p1.ID) != store.IdeaPending || f.ideaStatus(p2.ID) != store.IdeaPending {
		t.Fatal("a refused bulk rejection changed a status")
	}

	rs = decode(bulk(map[string]any{"ids": []int64{p1.ID, done.ID, p2.ID}, "action": "approve"}))
	if len(rs) != 3 {
		t.Fatalf("bulk approve results: %+v", rs)
	}
	want := []bulkResult{{ID: p1.ID, OK: true}, {ID: done.ID, Code: "status_conflict"}, {ID: p2.ID, OK: true}}
	for i, r := range rs {
		if r.ID != want[i].ID || r.OK != want[i].OK || r.Code != want[i].Code || (r.OK != (r.Message == "")) {
			t.Errorf("result %d: %+v, want %+v", i, r, want[i])
		}
	}
	if !f.isPublic(p1.ID) || !f.isPublic(p2.ID) {
		t.Error("bulk approval did not publish")
	}

	f.wantProblem(bulk(map[string]any{"ids": []int64{p1.ID}, "action": "merge"}), fiber.StatusUnprocessableEntity, "invalid_action")
	f.wantProblem(bulk(map[string]any{"ids": []int64{p1.ID}}), fiber.StatusUnprocessableEntity, "invalid_action")
	f.wantProblem(bulk(map[string]any{"ids": []int64{}, "action": "approve"}), fiber.StatusUnprocessableEntity, "invalid_ids")
	many := make([]int64, 201)
	for i := range many {
		many[i] = int64(i + 1)
	}
	f.wantProblem(bulk(map[string]any{"ids": many, "action": "approve"}), fiber.StatusUnprocessableEntity, "invalid_ids")
	f.wantProblem(bulk([]byte(`{"ids":"1,2"}`)), fiber.StatusBadRequest, "invalid_json")

	// The HTML form: checkboxes named ids.
	p3 := f.pending(f.visitor, "piliang", "批量四：网页表单通过")
	p4 := f.pending(f.visitor, "piliang", "批量五：网页表单通过")
	browser := f.session("piliang-shenhe", store.RoleModerator)
	tok := browser.csrf("/moderation")
	res := browser.post("/moderation/bulk", url.Values{"_csrf": {tok}, "action": {"approve"}, "back": {"campaign=piliang"},
		"ids": {fmt.Sprint(p3.ID), fmt.Sprint(p4.ID), fmt.Sprint(done.ID)}})
	loc, _ := url.Parse(res.header.Get(fiber.HeaderLocation))
	if res.status != fiber.StatusSeeOther || loc.Path != "/moderation" || loc.Query().Get("campaign") != "piliang" {
		t.Fatalf("bulk form: %s", res)
	}
	if page := modFollow(t, browser, res); !strings.Contains(page.body, "批量处理完成：成功 2 条，未处理 1 条") {
		t.Errorf("page after the bulk form:\n%s", page.body)
	}
	if !f.isPublic(p3.ID) || !f.isPublic(p4.ID) {
		t.Error("the bulk form did not publish")
	}
	res = browser.post("/moderation/bulk", url.Values{"_csrf": {tok}, "action": {"reject"}, "ids": {fmt.Sprint(p3.ID)}})
	if page := modFollow(t, browser, res); !strings.Contains(page.body, "成功 0 条，未处理 1 条") {
		t.Errorf("page after a bulk rejection without reason:\n%s", page.body)
	}
	res = browser.post("/moderation/bulk", url.Values{"_csrf": {tok}, "action": {"approve"}})
	if page := modFollow(t, browser, res); !strings.Contains(page.body, "请选择 1 到 200 条建议") {
		t.Errorf("page after an empty bulk form:\n%s", page.body)
	}
}

func TestModerationReports(t *testing.T) {
	f := newModFixture(t)
	f.campaign("jubao", store.PolicyPost, func(b map[string]any) { b["report_threshold"] = 3 })
	r := f.submit(f.visitor, ideaBody("jubao"))
	if r.Status != "published" {
		t.Fatalf("receipt %+v", r)
	}
	reportURL := fmt.Sprintf("/api/v1/ideas/%d/report", r.ID)
	report := func(c *client, body any) *response {
		return f.json(c, http.MethodPost, reportURL, body, nil)
	}
	reporters := []*client{f.bearer("jubao", store.RoleResident), f.bearer("jubao", store.RoleResident), f.bearer("jubao", store.RoleResident)}

	f.wantProblem(report(reporters[0], map[string]any{}), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(report(reporters[0], map[string]any{"reason": "  "}), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(report(reporters[0], map[string]any{"reason": strings.Repeat("长", 201)}), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(f.json(reporters[0], http.MethodPost, "/api/v1/ideas/999999/report", map[string]any{"reason": "其他"}, nil),
		fiber.StatusNotFound, "not_found")

	for i, c := range reporters {
		// The first reporter reports twice: it still counts once.
		times := 1
		if i == 0 {
			times = 2
		}
		for j := 0; j < times; j++ {
			res := report(c, map[string]any{"reason": "含有广告或推销"})
			if res.status != fiber.StatusAccepted || strings.Contains(res.body, "hidden") {
				t.Fatalf("report %d: %s", i+1, res)
			}
		}
		if visible := f.isPublic(r.ID); visible != (i < 2) {
			t.Fatalf("after %d reports the idea is public: %v", i+1, visible)
		}
	}
	// Hidden, it cannot be reported further, and it waits for a moderator.
	f.wantProblem(report(f.bearer("jubao", store.RoleResident), map[string]any{"reason": "其他"}), fiber.StatusNotFound, "not_found")
	q, _ := f.queue("campaign=jubao")
	it := q.item(r.ID)
	if q.Total != 1 || it == nil || !it.Hidden || it.Reports != 3 || it.Status != "published" {
		t.Fatalf("queue after three reports: %+v", q)
	}
	browser := f.session("jubao-shenhe", store.RoleModerator)
	if page := browser.get("/moderation"); !strings.Contains(page.body, "被举报 3 次，已暂时隐藏") {
		t.Errorf("queue page lacks the hidden marker:\n%s", page.body)
	}

	d := f.decide(r.ID, map[string]any{"action": "approve"})
	if d.Status != "published" || !f.isPublic(r.ID) {
		t.Fatalf("approve a reported idea: %+v", d)
	}
	if q, _ := f.queue("campaign=jubao"); q.Total != 0 {
		t.Errorf("queue after review: %v", q.ids())
	}
	if tr := f.track(r.TrackingCode); tr.Events[len(tr.Events)-1].Note != "经复核，恢复显示" {
		t.Errorf("tracking after review: %+v", tr.Events)
	}
	// Reviewed reports are settled: one new report does not hide it again.
	if res := report(f.bearer("jubao", store.RoleResident), map[string]any{"reason": "其他"}); res.status != fiber.StatusAccepted {
		t.Fatalf("report after review: %s", res)
	}
	if !f.isPublic(r.ID) {
		t.Error("one report after a review hid the idea")
	}

	// The report form on the idea page.
	c := f.client(t)
	page := c.get(fmt.Sprintf("/ideas/%d", r.ID))
	if page.status != fiber.StatusOK || !strings.Contains(page.body, fmt.Sprintf(`action="/ideas/%d/report"`, r.ID)) {
		t.Fatalf("idea page: %s", page)
	}
	tok := csrfFrom(t, page.body)
	if res := c.post(fmt.Sprintf("/ideas/%d/report", r.ID), url.Values{"reason": {"其他"}}); res.status != fiber.StatusForbidden {
		t.Errorf("report form without CSRF: %s", res)
	}
	res := c.post(fmt.Sprintf("/ideas/%d/report", r.ID), url.Values{"_csrf": {tok}, "reason": {""}})
	if res.status != fiber.StatusUnprocessableEntity || !strings.Contains(res.body, "请选择或填写举报理由") {
		t.Errorf("report form without a reason: %s", res)
	}
	res = c.post(fmt.Sprintf("/ideas/%d/report", r.ID), url.Values{"_csrf": {tok}, "reason": {"泄露他人隐私"}})
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != fmt.Sprintf("/ideas/%d?notice=reported", r.ID) {
		t.Fatalf("report form: %s", res)
	}
	if after := modFollow(t, c, res); !strings.Contains(after.body, "已收到您的举报") {
		t.Errorf("page after reporting:\n%s", after.body)
	}
}

func TestModerationBlockUser(t *testing.T) {
	f := newModFixture(t)
	f.campaign("tingyong", store.PolicyPre, nil)
	f.campaign("houshen", store.PolicyPost, nil)
	spammer := f.bearer("guanggao", store.RoleResident)
	who := decodeMe(t, spammer.get("/api/v1/me"))
	mine := f.pending(spammer, "tingyong", "待审核的广告")
	public := f.submit(f.visitor, ideaBody("houshen"))
	blockURL := func(id int64) string { return fmt.Sprintf("/api/v1/moderation/users/%d/block", id) }

	f.wantProblem(f.json(f.mod, http.MethodPost, blockURL(who.ID), map[string]any{}, nil), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(f.json(f.mod, http.MethodPost, blockURL(who.ID), map[string]any{"reason": " "}, nil), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(f.json(f.mod, http.MethodPost, blockURL(999999), map[string]any{"reason": "发布广告"}, nil), fiber.StatusNotFound, "not_found")
	other := f.bearer("shenhe-er", store.RoleModerator)
	otherMe := decodeMe(t, other.get("/api/v1/me"))
	f.wantProblem(f.json(f.mod, http.MethodPost, blockURL(otherMe.ID), map[string]any{"reason": "测试"}, nil), fiber.StatusForbidden, "forbidden")
	adminMe := decodeMe(t, f.admin.get("/api/v1/me"))
	f.wantProblem(f.json(f.mod, http.MethodPost, blockURL(adminMe.ID), map[string]any{"reason": "测试"}, nil), fiber.StatusForbidden, "forbidden")
	if res := other.get("/api/v1/me"); res.status != fiber.StatusOK {
		t.Errorf("a refused block still blocked the moderator: %s", res)
	}

	res := f.json(f.mod, http.MethodPost, blockURL(who.ID), map[string]any{"reason": "多次发布广告"}, nil)
	var out struct {
		ID      int64 `json:"id"`
		Blocked bool  `json:"blocked"`
	}
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &out) != nil || out.ID != who.ID || !out.Blocked {
		t.Fatalf("block: %s", res)
	}
	tr := f.track(mine.TrackingCode)
	if tr.Status != "rejected" || tr.Reason != "账号已被停用" || tr.Events[len(tr.Events)-1].Note != "账号已被停用" {
		t.Errorf("tracking of the blocked user's idea: %+v", tr)
	}
	if q, _ := f.queue("campaign=tingyong"); q.Total != 0 {
		t.Errorf("queue still holds the blocked user's idea: %v", q.ids())
	}
	f.wantProblem(f.json(spammer, http.MethodPost, "/api/v1/ideas", ideaBody("tingyong"), nil), fiber.StatusForbidden, "blocked")
	f.wantProblem(f.json(spammer, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/support", public.ID), nil, nil), fiber.StatusForbidden, "blocked")
	f.wantProblem(f.json(spammer, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/comments", public.ID), map[string]any{"body": "广告"}, nil),
		fiber.StatusForbidden, "blocked")
	if u, err := f.store.UserByID(context.Background(), who.ID); err != nil || u.BlockedAt == nil {
		t.Errorf("stored user: %+v %v", u, err)
	}
}

func TestModerationAudit(t *testing.T) {
	f := newModFixture(t)
	f.campaign("rizhi", store.PolicyPre, nil)
	approved := f.pending(f.visitor, "rizhi", "日志一：通过")
	rejected := f.pending(f.visitor, "rizhi", "日志二：不通过")
	a := f.published(f.visitor, "rizhi", "日志三：合并来源")
	b := f.published(f.visitor, "rizhi", "日志四：合并目标")
	blocked := f.bearer("rizhi-jumin", store.RoleResident)
	blockedMe := decodeMe(t, blocked.get("/api/v1/me"))
	adminName := decodeMe(t, f.admin.get("/api/v1/me")).Name
	const formula = "=cmd|' /C calc'!A0"

	f.decide(approved.ID, map[string]any{"action": "approve"})
	f.decide(rejected.ID, map[string]any{"action": "reject", "reason": formula})
	f.decide(a.ID, map[string]any{"action": "merge", "target": b.ID})
	f.decide(a.ID, map[string]any{"action": "unmerge"})
	if res := f.json(f.admin, http.MethodPost, fmt.Sprintf("/api/v1/moderation/users/%d/block", blockedMe.ID),
		map[string]any{"reason": "冒充他人"}, nil); res.status != fiber.StatusOK {
		t.Fatalf("block: %s", res)
	}

	type auditJSON struct {
		Total   int64              `json:"total"`
		Entries []store.AuditEntry `json:"entries"`
	}
	audit := func(query string) auditJSON {
		t.Helper()
		res := f.mod.get("/api/v1/moderation/audit?" + query)
		var v auditJSON
		if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
			t.Fatalf("audit ?%s: %s", query, res)
		}
		return v
	}
	all := audit("per_page=100")
	if int(all.Total) != len(all.Entries) || len(all.Entries) < 5 {
		t.Fatalf("audit: %+v", all)
	}
	for i := 1; i < len(all.Entries); i++ {
		if all.Entries[i-1].ID <= all.Entries[i].ID {
			t.Fatalf("entries not newest first: %d before %d", all.Entries[i-1].ID, all.Entries[i].ID)
		}
	}
	type step struct{ actor, action, target, reason string }
	want := []step{
		{adminName, "user.block", fmt.Sprintf("user#%d", blockedMe.ID), "冒充他人"},
		{f.modName, "idea.unmerge", fmt.Sprintf("idea#%d", a.ID), ""},
		{f.modName, "idea.merge", fmt.Sprintf("idea#%d", a.ID), ""},
		{f.modName, "idea.reject", fmt.Sprintf("idea#%d", rejected.ID), formula},
		{f.modName, "idea.approve", fmt.Sprintf("idea#%d", approved.ID), ""},
	}
	for i, w := range want {
		e := all.Entries[i]
		got := step{e.ActorName, e.Action, e.TargetType, e.Reason}
		if e.TargetID != nil {
			got.target = fmt.Sprintf("%s#%d", e.TargetType, *e.TargetID)
		}
		if got != w || e.ActorID == nil || e.CreatedAt.IsZero() {
			t.Errorf("entry %d: %+v, want %+v", i, got, w)
		}
	}
	if e := all.Entries[2]; !strings.Contains(e.BeforeJSON, `"status":"published"`) || !strings.Contains(e.AfterJSON, `"status":"merged"`) {
		t.Errorf("merge entry before/after: %s → %s", e.BeforeJSON, e.AfterJSON)
	}

	for _, tt := range []struct {
		query string
		check func(store.AuditEntry) bool
		n     int64
	}{
		{"action=idea.merge", func(e store.AuditEntry) bool { return e.Action == "idea.merge" }, 1},
		{"action=idea.", func(e store.AuditEntry) bool { return strings.HasPrefix(e.Action, "idea.") }, 4},
		{"action=user.", func(e store.AuditEntry) bool { return e.Action == "user.block" }, 1},
		{"actor=" + url.QueryEscape(f.modName), func(e store.AuditEntry) bool { return e.ActorName == f.modName }, 4},
		{"actor=" + url.QueryEscape(adminName) + "&action=user.", func(e store.AuditEntry) bool { return e.ActorName == adminName }, 1},
		{"target_type=idea&target_id=" + fmt.Sprint(a.ID), func(e store.AuditEntry) bool { return *e.TargetID == a.ID }, 2},
		{"action=idea%25", nil, 0},
	} {
		v := audit(tt.query)
		if v.Total != tt.n || int64(len(v.Entries)) != tt.n {
			t.Errorf("?%s: total %d, %d entries, want %d", tt.query, v.Total, len(v.Entries), tt.n)
		}
		for _, e := range v.Entries {
			if !tt.check(e) {
				t.Errorf("?%s: unexpected entry %+v", tt.query, e)
			}
		}
	}
	today := time.Now().In(workday.China)
	if v := audit("from=" + today.Format("2006-01-02") + "&to=" + today.Format("2006-01-02")); v.Total != all.Total {
		t.Errorf("today's entries: %d, want %d", v.Total, all.Total)
	}
	if v := audit("from=" + today.AddDate(0, 0, 1).Format("2006-01-02")); v.Total != 0 {
		t.Errorf("tomorrow's entries: %d", v.Total)
	}
	if v := audit("per_page=2&page=2"); len(v.Entries) != 2 || v.Entries[0].ID != all.Entries[2].ID || v.Total != all.Total {
		t.Errorf("second page: %+v", v)
	}
	f.wantProblem(f.mod.get("/api/v1/moderation/audit?actor=nobody"), fiber.StatusNotFound, "unknown_user")
	f.wantProblem(f.mod.get("/api/v1/moderation/audit?target_id=x"), fiber.StatusBadRequest, "invalid_target")
	f.wantProblem(f.mod.get("/api/v1/moderation/audit?from=2024-13-01"), fiber.StatusBadRequest, "invalid_date")

	// The HTML page and its CSV export.
	browser := f.session("rizhi-shenhe", store.RoleModerator)
	page := browser.get("/admin/audit?action=idea.")
	if page.status != fiber.StatusOK {
		t.Fatalf("audit page: %s", page)
	}
	for _, want := range []string{"<code>idea.merge</code>", "<code>idea.approve</code>", f.modName, `href="/admin/audit.csv?action=idea."`,
		fmt.Sprintf("idea #%d", a.ID), html.EscapeString(formula)} {
		if !strings.Contains(page.body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "<code>user.block</code>") {
		t.Error("the filtered audit page shows user.block")
	}

	res := browser.get("/admin/audit.csv")
	if res.status != fiber.StatusOK || !strings.HasPrefix(res.header.Get(fiber.HeaderContentType), "text/csv") ||
		!strings.Contains(res.header.Get(fiber.HeaderContentDisposition), "attachment") {
		t.Fatalf("audit.csv: %s", res)
	}
	body, ok := strings.CutPrefix(res.body, "\ufeff")
	if !ok {
		t.Error("audit.csv has no UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse audit.csv: %v\n%s", err, body)
	}
	header := []string{"id", "time", "actor", "action", "target_type", "target_id", "reason", "before", "after", "ip"}
	if len(rows) == 0 || fmt.Sprint(rows[0]) != fmt.Sprint(header) {
		t.Fatalf("header row: %v", rows)
	}
	if len(rows) != len(all.Entries)+1 {
		t.Fatalf("%d rows, want a header and %d entries", len(rows), len(all.Entries))
	}
	for i, e := range all.Entries {
		row := rows[i+1]
		if row[0] != fmt.Sprint(e.ID) || row[2] != e.ActorName || row[3] != e.Action {
			t.Errorf("row %d: %v, want entry %+v", i+1, row, e)
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) && !(cell[0] == '-' && modIsNumber(cell)) {
				t.Errorf("row %d: cell %q would run as a formula", i+1, cell)
			}
		}
	}
	if got := rows[4][6]; got != "'"+formula {
		t.Errorf("reject reason cell %q, want %q", got, "'"+formula)
	}
	if rows[1][3] != "user.block" || rows[1][6] != "冒充他人" || rows[1][5] != fmt.Sprint(blockedMe.ID) {
		t.Errorf("block row: %v", rows[1])
	}
	res = browser.get("/admin/audit.csv?action=idea.merge")
	if rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll(); err != nil || len(rows) != 2 || rows[1][3] != "idea.merge" {
		t.Errorf("filtered audit.csv: %v %v", rows, err)
	}
}

func modIsNumber(s string) bool {
	var f float64
	_, err := fmt.Sscan(s, &f)
	return err == nil
}

func TestModerationQueuePage(t *testing.T) {
	f := newModFixture(t)
	f.campaign("wangye", store.PolicyPre, func(b map[string]any) { b["review_days"] = 3 })
	public := f.published(f.visitor, "wangye", "已公开：路灯维修")
	hold := []moderation.Reason{{Code: "word_hold", Message: "含有需要人工复核的词语"}}
	flagged := f.storedIdea("wangye", "网页一：公交站台改造", "交通出行", 0.8, hold,
		[]moderation.Duplicate{{IdeaID: public.ID, Similarity: 0.9}})
	plain := f.pending(f.visitor, "wangye", "网页二：夜市油烟扰民")

	browser := f.session("wangye-shenhe", store.RoleModerator)
	page := browser.get("/moderation")
	if page.status != fiber.StatusOK {
		t.Fatalf("queue page: %s", page)
	}
	csrfFrom(t, page.body)
	for _, want := range []string{
		"网页一：公交站台改造", "网页二：夜市油烟扰民", "含有需要人工复核的词语", "本活动实行先审后发，审核通过后公开",
		">通过</button>", ">不通过</button>", ">合并</button>", "快捷键", "已等待 0 个工作日",
		fmt.Sprintf(`name="target" type="text" inputmode="numeric" value="%d"`, public.ID),
		"疑似重复", "相似度 90%", reasonTemplates[0],
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "已超期") || strings.Contains(page.body, testPhone) || strings.Contains(page.body, testEmail) {
		t.Error("queue page marks a new item overdue or shows contact details")
	}
	if i, j := strings.Index(page.body, "网页一"), strings.Index(page.body, "网页二"); i > j {
		t.Error("the riskier item is not listed first")
	}

	// A week later both are overdue (sessions from before have expired).
	f.clock.Add(7 * 24 * time.Hour)
	browser = f.session("wangye-shenhe2", store.RoleModerator)
	page = browser.get("/moderation?campaign=wangye")
	if n := strings.Count(page.body, "已等待 5 个工作日（已超期）"); n != 2 || strings.Count(page.body, "queue-item overdue") != 2 {
		t.Errorf("overdue markers: %d\n%s", n, page.body)
	}
	tok := csrfFrom(t, page.body)

	decide := func(id int64, form url.Values) *response {
		t.Helper()
		form.Set("_csrf", tok)
		form.Set("back", "campaign=wangye")
		return browser.post(fmt.Sprintf("/moderation/items/%d/decision", id), form)
	}
	if res := browser.post(fmt.Sprintf("/moderation/items/%d/decision", flagged.ID), url.Values{"action": {"approve"}}); res.status != fiber.StatusForbidden {
		t.Errorf("decision without CSRF: %s", res)
	}
	// The form always carries a theme and the prefilled merge target.
	res := decide(flagged.ID, url.Values{"action": {"approve"}, "reason": {""}, "theme": {"1"}, "target": {fmt.Sprint(public.ID)}})
	loc, _ := url.Parse(res.header.Get(fiber.HeaderLocation))
	if res.status != fiber.StatusSeeOther || loc.Path != "/moderation" || loc.Query().Get("campaign") != "wangye" {
		t.Fatalf("approve form: %s", res)
	}
	after := modFollow(t, browser, res)
	if !strings.Contains(after.body, fmt.Sprintf("#%d 已处理", flagged.ID)) || strings.Contains(after.body, "网页一") {
		t.Errorf("page after approving:\n%s", after.body)
	}
	if !f.isPublic(flagged.ID) {
		t.Error("the approve form did not publish")
	}

	res = decide(plain.ID, url.Values{"action": {"reject"}, "reason": {""}})
	if loc := res.header.Get(fiber.HeaderLocation); res.status != fiber.StatusSeeOther || strings.Contains(loc, "problem=") {
		t.Fatalf("reject without reason: %s", res)
	}
	after = modFollow(t, browser, res)
	if !strings.Contains(after.body, fmt.Sprintf("#%d：退回或要求修改时请填写理由", plain.ID)) || !strings.Contains(after.body, `role="alert"`) {
		t.Errorf("page after a refused rejection:\n%s", after.body)
	}
	if f.ideaStatus(plain.ID) != store.IdeaPending {
		t.Error("a refused rejection changed the status")
	}
	res = decide(plain.ID, url.Values{"action": {"merge"}, "target": {"abc"}})
	if after := modFollow(t, browser, res); !strings.Contains(after.body, "合并目标应为建议编号") {
		t.Errorf("page after a bad merge target:\n%s", after.body)
	}
	res = decide(plain.ID, url.Values{"action": {"merge"}, "target": {fmt.Sprintf("#%d", public.ID)}})
	if after := modFollow(t, browser, res); !strings.Contains(after.body, fmt.Sprintf("#%d 已处理", plain.ID)) {
		t.Errorf("page after merging:\n%s", after.body)
	}
	if s := f.ideaStatus(plain.ID); s != store.IdeaMerged {
		t.Errorf("merge form: status %s", s)
	}
	if page := browser.get("/moderation?campaign=wangye"); !strings.Contains(page.body, "队列已清空") {
		t.Errorf("empty queue page:\n%s", page.body)
	}
}

func TestModerationComments(t *testing.T) {
	f := newModFixture(t)
	f.campaign("pinglun", store.PolicyPre, nil)
	idea := f.published(f.visitor, "pinglun", "可以评论的建议")
	resident := f.bearer("pinglun", store.RoleResident)
	comment := func(body string) int64 {
		t.Helper()
		res := f.json(resident, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/comments", idea.ID), map[string]any{"body": body}, nil)
		var v struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		if res.status != fiber.StatusCreated || json.Unmarshal([]byte(res.body), &v) != nil || v.Status != "pending" {
			t.Fatalf("comment: %s", res)
		}
		return v.ID
	}
	good := comment("非常赞同，这个问题困扰大家很久了")
	bad := comment("这条评论将被退回")
	if n := len(f.getIdea(idea.ID).Comments); n != 0 {
		t.Fatalf("%d pending comments are public", n)
	}
	decideComment := func(c *client, id int64, body any) *response {
		return f.json(c, http.MethodPost, fmt.Sprintf("/api/v1/moderation/comments/%d/decision", id), body, nil)
	}

	// The queue page offers each pending comment its decision form.
	page := f.session("pinglun-shenhe", store.RoleModerator).get("/moderation")
	for _, want := range []string{
		fmt.Sprintf(`action="/moderation/comments/%d/decision"`, good),
		fmt.Sprintf(`<label for="c-reason-%d">理由（不通过时必填）</label>`, bad),
		fmt.Sprintf(`<select id="c-reason-%d" name="reason">`, bad),
		`name="_csrf" value="`, `<option>内容与本次征集主题无关</option>`, `value="reject" class="button button-secondary">不通过</button>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}

	res := decideComment(f.mod, good, map[string]any{"action": "approve"})
	var d modDecisionJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &d) != nil || d.ID != good || d.Status != "published" || d.StatusLabel != "已公开" {
		t.Fatalf("approve comment: %s", res)
	}
	v := f.getIdea(idea.ID)
	if len(v.Comments) != 1 || v.Comments[0].ID != good || v.Comments[0].Body != "非常赞同，这个问题困扰大家很久了" {
		t.Errorf("comments after approval: %+v", v.Comments)
	}
	if page := f.visitor.get(fmt.Sprintf("/ideas/%d", idea.ID)); !strings.Contains(page.body, "非常赞同，这个问题困扰大家很久了") ||
		!strings.Contains(page.body, "评论（1）") || strings.Contains(page.body, "这条评论将被退回") {
		t.Errorf("idea page after approval:\n%s", page.body)
	}
	f.wantProblem(decideComment(f.mod, good, map[string]any{"action": "approve"}), fiber.StatusConflict, "status_conflict")

	f.wantProblem(decideComment(f.mod, bad, map[string]any{"action": "reject"}), fiber.StatusUnprocessableEntity, "reason_required")
	f.wantProblem(decideComment(f.mod, bad, map[string]any{"action": "merge"}), fiber.StatusUnprocessableEntity, "invalid_action")
	f.wantProblem(decideComment(f.mod, 999999, map[string]any{"action": "approve"}), fiber.StatusNotFound, "not_found")
	res = decideComment(f.admin, bad, map[string]any{"action": "reject", "reason": "与建议无关"})
	if res.status != fiber.StatusOK || !strings.Contains(res.body, `"status":"rejected"`) {
		t.Fatalf("reject comment: %s", res)
	}
	if v := f.getIdea(idea.ID); len(v.Comments) != 1 {
		t.Errorf("comments after the rejection: %+v", v.Comments)
	}
}
