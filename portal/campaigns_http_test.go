package portal

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/store"
)

// campaignList is the body of GET /api/v1/campaigns.
type campaignList struct {
	Total     int64          `json:"total"`
	Campaigns []campaignView `json:"campaigns"`
}

func (f *ideasFixture) campaignSlugs(c *client) map[string]string {
	f.t.Helper()
	res := c.get("/api/v1/campaigns")
	var l campaignList
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &l) != nil {
		f.t.Fatalf("list campaigns: %s", res)
	}
	if int(l.Total) != len(l.Campaigns) {
		f.t.Errorf("total %d, %d campaigns listed", l.Total, len(l.Campaigns))
	}
	out := map[string]string{}
	for _, c := range l.Campaigns {
		out[c.Slug] = c.Status
	}
	return out
}

func TestCampaignAPIAuthorization(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("cunzai", store.PolicyPost, nil)
	clients := map[string]*client{
		"visitor":   f.visitor,
		"resident":  f.bearer("jumin", store.RoleResident),
		"moderator": f.bearer("shenhe", store.RoleModerator),
		"official":  f.bearer("ganbu", store.RoleOfficial),
	}
	tests := []struct {
		who    string
		status int
		code   string
	}{
		{"visitor", 401, "unauthorized"},
		{"resident", 403, "forbidden"},
		{"moderator", 403, "forbidden"},
		{"official", 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			f.t = t
			c := clients[tt.who]
			f.wantProblem(f.json(c, http.MethodPost, "/api/v1/campaigns", campaignBody("by-"+tt.who, "pre"), nil), tt.status, tt.code)
			changed := campaignBody("cunzai", "pre")
			changed["title"] = "被篡改的标题"
			f.wantProblem(f.json(c, http.MethodPut, "/api/v1/campaigns/cunzai", changed, nil), tt.status, tt.code)
		})
	}
	f.t = t
	slugs := f.campaignSlugs(f.admin)
	if len(slugs) != 1 {
		t.Errorf("refused requests created campaigns: %v", slugs)
	}
	if res := f.visitor.get("/api/v1/campaigns/cunzai"); strings.Contains(res.body, "被篡改的标题") {
		t.Error("a refused PUT changed the campaign")
	}

	// An admin may create and update.
	res := f.json(f.admin, http.MethodPost, "/api/v1/campaigns", campaignBody("xinjian", "pre"), nil)
	if res.status != fiber.StatusCreated || res.header.Get(fiber.HeaderLocation) != "/api/v1/campaigns/xinjian" {
		t.Fatalf("admin create: %s", res)
	}
	var created campaignView
	if err := json.Unmarshal([]byte(res.body), &created); err != nil {
		t.Fatal(err)
	}
	if created.Slug != "xinjian" || created.Policy != "pre" || !created.Open || len(created.Themes) != 2 ||
		created.Themes[0].Name != "城市管理" || strings.Join(created.Themes[0].Keywords, "、") != "占道经营、乱停车" ||
		strings.Join(created.AwardTiers, "、") != "一等奖、二等奖" {
		t.Errorf("created campaign: %+v", created)
	}
	upd := campaignBody("xinjian", "post")
	upd["title"] = "改过的标题"
	upd["themes"] = []map[string]any{{"name": "城市管理", "keywords": []string{"占道经营"}}, {"name": "环境卫生"}}
	res = f.json(f.admin, http.MethodPut, "/api/v1/campaigns/xinjian", upd, nil)
	var updated campaignView
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &updated) != nil {
		t.Fatalf("admin update: %s", res)
	}
	if updated.Title != "改过的标题" || updated.Policy != "post" || len(updated.Themes) != 2 || updated.Themes[1].Name != "环境卫生" {
		t.Errorf("updated campaign: %+v", updated)
	}
	f.wantProblem(f.json(f.admin, http.MethodPut, "/api/v1/campaigns/no-such", upd, nil), fiber.StatusNotFound, "unknown_campaign")
}

func TestCampaignAPIValidation(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("cunzai", store.PolicyPost, nil)
	f.campaign("lingyige", store.PolicyPost, nil)
	now := time.Now().UTC()

	tests := []struct {
		name string
		edit func(map[string]any)
		code string
	}{
		{"bad slug", func(b map[string]any) { b["slug"] = "Bad Slug!" }, "invalid_slug"},
		{"closes before it opens", func(b map[string]any) {
			b["opens_at"], b["closes_at"] = now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)
		}, "invalid_dates"},
		{"duplicate theme", func(b map[string]any) {
			b["themes"] = []map[string]any{{"name": "城市管理"}, {"name": "城市管理"}}
		}, "duplicate_theme"},
		{"unknown policy", func(b map[string]any) { b["policy"] = "never" }, "invalid_policy"},
		{"slug taken", func(b map[string]any) { b["slug"] = "cunzai" }, "slug_taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			b := campaignBody("xinde", "pre")
			tt.edit(b)
			f.wantFieldProblem(f.json(f.admin, http.MethodPost, "/api/v1/campaigns", b, nil), fiber.StatusUnprocessableEntity, tt.code)
			if b["slug"] == "xinde" {
				// The same problems refuse an update.
				b["slug"] = "lingyige"
				f.wantFieldProblem(f.json(f.admin, http.MethodPut, "/api/v1/campaigns/lingyige", b, nil), fiber.StatusUnprocessableEntity, tt.code)
			}
		})
	}
	f.t = t
	// Renaming onto another campaign's slug is refused too.
	f.wantFieldProblem(f.json(f.admin, http.MethodPut, "/api/v1/campaigns/lingyige", campaignBody("cunzai", "pre"), nil),
		fiber.StatusUnprocessableEntity, "slug_taken")
	f.wantProblem(f.json(f.admin, http.MethodPost, "/api/v1/campaigns", []byte(`{"slug":`), nil), fiber.StatusBadRequest, "invalid_json")
	f.wantProblem(f.json(f.admin, http.MethodPost, "/api/v1/campaigns", []byte("{\"slug\":\"\xff\"}"), nil), fiber.StatusBadRequest, "invalid_utf8")
	if slugs := f.campaignSlugs(f.admin); len(slugs) != 2 {
		t.Errorf("refused input created campaigns: %v", slugs)
	}
}

func TestCampaignAPIDraftsAreForAdmins(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("gongkai", store.PolicyPost, nil)
	f.campaign("yijieshu", store.PolicyPost, func(b map[string]any) { b["status"] = store.CampaignClosed })
	f.campaign("caogao", store.PolicyPre, func(b map[string]any) { b["status"] = store.CampaignDraft })

	if got := f.campaignSlugs(f.visitor); len(got) != 2 || got["gongkai"] != "open" || got["yijieshu"] != "closed" {
		t.Errorf("visitor sees %v", got)
	}
	resident := f.bearer("jumin", store.RoleResident)
	if got := f.campaignSlugs(resident); len(got) != 2 || got["caogao"] != "" {
		t.Errorf("resident sees %v", got)
	}
	if got := f.campaignSlugs(f.admin); len(got) != 3 || got["caogao"] != "draft" {
		t.Errorf("admin sees %v", got)
	}
	for _, c := range []*client{f.visitor, resident} {
		f.wantProblem(c.get("/api/v1/campaigns/caogao"), fiber.StatusNotFound, "unknown_campaign")
		if res := c.get("/campaigns/caogao"); res.status != fiber.StatusNotFound {
			t.Errorf("draft campaign page: %d", res.status)
		}
		f.wantProblem(c.get("/api/v1/ideas?campaign=caogao"), fiber.StatusNotFound, "unknown_campaign")
	}
	if res := f.admin.get("/api/v1/campaigns/caogao"); res.status != fiber.StatusOK {
		t.Errorf("admin GET draft: %s", res)
	}
	// Nobody can submit to a draft, and its name is not revealed.
	f.wantFieldProblem(f.json(f.visitor, http.MethodPost, "/api/v1/ideas", ideaBody("caogao"), nil),
		fiber.StatusUnprocessableEntity, "unknown_campaign")
	f.wantProblem(f.visitor.get("/api/v1/campaigns?per_page=101"), fiber.StatusBadRequest, "invalid_page")
}

// adminForm is a valid new-campaign form as an admin types it.
func adminForm(tok string) url.Values {
	opens := time.Now().In(chinaTime).Add(-time.Hour).Format(formTime)
	closes := time.Now().In(chinaTime).Add(30 * 24 * time.Hour).Format(formTime)
	return url.Values{
		"_csrf": {tok}, "slug": {"wenming-2026"}, "title": {"2026 文明城市金点子"}, "description": {"欢迎建言"},
		"opens_at": {opens}, "closes_at": {closes}, "status": {"open"}, "policy": {"post"},
		"daily_limit": {"5"}, "review_days": {"3"}, "report_threshold": {"3"},
		"award_tiers": {"一等奖\n二等奖"}, "themes": {"城市管理：占道经营、乱停车\n交通出行：公交，地铁"},
	}
}

func TestAdminCampaignPages(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("cunzai", store.PolicyPre, nil)
	for _, r := range []struct {
		name string
		role store.Role
	}{{"jumin", store.RoleResident}, {"shenhe", store.RoleModerator}, {"ganbu", store.RoleOfficial}, {"guanli", store.RoleAdmin}} {
		f.createUser(t, r.name, r.role, "")
	}
	browsers := map[string]*client{"visitor": f.client(t)}
	for _, name := range []string{"jumin", "shenhe", "ganbu", "guanli"} {
		c := f.client(t)
		c.mustLogin(name)
		browsers[name] = c
	}
	pages := []string{"/admin/campaigns", "/admin/campaigns/new", "/admin/campaigns/cunzai/edit"}
	for who, c := range browsers {
		for _, page := range pages {
			t.Run(who+page, func(t *testing.T) {
				res := c.get(page)
				switch who {
				case "visitor":
					if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/login?next="+url.QueryEscape(page) {
						t.Errorf("visitor: %d %q", res.status, res.header.Get(fiber.HeaderLocation))
					}
				case "guanli":
					if res.status != fiber.StatusOK {
						t.Errorf("admin: %s", res)
					}
				default:
					if res.status != fiber.StatusForbidden || !strings.Contains(res.body, "您没有权限进行此操作") {
						t.Errorf("%s: %d", who, res.status)
					}
				}
			})
		}
		// Posting the form, with a valid CSRF token, is refused the same way.
		t.Run(who+" POST", func(t *testing.T) {
			tok := c.csrf("/")
			form := adminForm(tok)
			form.Set("slug", "by-"+who)
			res := c.post("/admin/campaigns/new", form)
			want := map[string]int{"visitor": 303, "guanli": 303}[who]
			if want == 0 {
				want = 403
			}
			if res.status != want {
				t.Errorf("POST as %s: %d, want %d", who, res.status, want)
			}
			if who == "visitor" && !strings.HasPrefix(res.header.Get(fiber.HeaderLocation), "/login") {
				t.Errorf("visitor POST redirected to %q", res.header.Get(fiber.HeaderLocation))
			}
		})
	}
	if slugs := f.campaignSlugs(f.admin); len(slugs) != 2 || slugs["by-guanli"] == "" {
		t.Errorf("campaigns after the POSTs: %v", slugs)
	}

	admin := browsers["guanli"]
	form := admin.get("/admin/campaigns/new")
	for _, want := range []string{"新建征集活动", `<label for="themes">`, `<option value="draft" selected>草稿</option>`, `<option value="pre" selected>先审后发</option>`} {
		if !strings.Contains(form.body, want) {
			t.Errorf("new campaign form lacks %q", want)
		}
	}
	controlsHaveLabels(t, form.body)
	tok := csrfFrom(t, form.body)
	if res := admin.post("/admin/campaigns/new", adminForm("")); res.status != fiber.StatusForbidden {
		t.Errorf("admin form without csrf: %s", res)
	}
	res := admin.post("/admin/campaigns/new", adminForm(tok))
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/admin/campaigns?saved=1" {
		t.Fatalf("create through the form: %s", res)
	}
	list := admin.get(res.header.Get(fiber.HeaderLocation))
	for _, want := range []string{"已保存", `<a href="/campaigns/wenming-2026">2026 文明城市金点子</a>`, "wenming-2026"} {
		if !strings.Contains(list.body, want) {
			t.Errorf("campaign list lacks %q", want)
		}
	}
	var v campaignView
	if res := f.visitor.get("/api/v1/campaigns/wenming-2026"); json.Unmarshal([]byte(res.body), &v) != nil {
		t.Fatalf("new campaign: %s", res)
	}
	if !v.Open || v.Policy != "post" || len(v.Themes) != 2 || v.Themes[0].Name != "城市管理" ||
		strings.Join(v.Themes[0].Keywords, "|") != "占道经营|乱停车" || strings.Join(v.Themes[1].Keywords, "|") != "公交|地铁" ||
		strings.Join(v.AwardTiers, "|") != "一等奖|二等奖" {
		t.Errorf("campaign created through the form: %+v", v)
	}
	// The edit form shows it as saved.
	edit := admin.get("/admin/campaigns/wenming-2026/edit")
	if !strings.Contains(edit.body, "城市管理：占道经营、乱停车\n交通出行：公交、地铁</textarea>") || inputValue(t, edit.body, "title") != "2026 文明城市金点子" {
		t.Errorf("edit form:\n%s", edit.body)
	}

	// A bad form comes back with the errors and everything typed.
	bad := adminForm(tok)
	bad.Set("slug", "Wen Ming!")
	bad.Set("title", `标题 <b>"加粗"</b>`)
	bad.Set("opens_at", bad.Get("closes_at"))
	bad.Set("themes", "城市管理：占道经营\n城市管理：乱停车")
	res = admin.post("/admin/campaigns/new", bad)
	if res.status != fiber.StatusUnprocessableEntity {
		t.Fatalf("bad form: %s", res)
	}
	for _, want := range []string{"网址标识只能包含小写字母", "截止时间必须晚于开始时间", "主题名称重复：城市管理",
		"城市管理：占道经营\n城市管理：乱停车</textarea>", "一等奖\n二等奖</textarea>"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("422 form lacks %q", want)
		}
	}
	for _, name := range []string{"slug", "title", "opens_at", "closes_at", "daily_limit"} {
		if got := inputValue(t, res.body, name); got != bad.Get(name) {
			t.Errorf("422 form keeps %s = %q, want %q", name, got, bad.Get(name))
		}
	}
	if strings.Contains(res.body, "<b>") {
		t.Error("the typed title is not escaped")
	}
	// Numbers and dates that do not parse are reported the same way.
	bad = adminForm(tok)
	bad.Set("daily_limit", "五")
	bad.Set("closes_at", "明天")
	res = admin.post("/admin/campaigns/new", bad)
	if res.status != fiber.StatusUnprocessableEntity || !strings.Contains(res.body, "每人每日提交上限应为整数") ||
		!strings.Contains(res.body, "截止时间格式不正确") || inputValue(t, res.body, "daily_limit") != "五" {
		t.Errorf("unparseable form:\n%s", res.body)
	}
	if slugs := f.campaignSlugs(f.admin); len(slugs) != 3 {
		t.Errorf("bad forms created campaigns: %v", slugs)
	}

	// Editing through the form.
	upd := adminForm(tok)
	upd.Set("title", "改过的活动名称")
	res = admin.post("/admin/campaigns/wenming-2026/edit", upd)
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("edit form: %s", res)
	}
	if res := f.visitor.get("/campaigns/wenming-2026"); !strings.Contains(res.body, "改过的活动名称") {
		t.Error("the edit did not change the campaign page")
	}
}
