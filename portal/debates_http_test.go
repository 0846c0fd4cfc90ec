package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/demo"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
)

// The department invited to the fixture's debates, and one that is not.
const (
	debateDept = "市交通运输局"
	otherDept  = "市文化广电旅游局"
)

// debateFixture is an ideas fixture with a clock, a campaign and API clients
// for every role; the official belongs to the invited department.
type debateFixture struct {
	*ideasFixture
	clock     *testClock
	resident  *client
	neighbor  *client // a second resident
	official  *client // of debateDept
	outsider  *client // official of otherDept
	moderator *client
}

func newDebateFixture(t *testing.T) *debateFixture {
	t.Helper()
	// Noon in China today: a few minutes of posts stay on one calendar day,
	// and the clock is within half a day of the wall clock the campaign uses.
	y, m, d := time.Now().In(chinaTime).Date()
	clock := &testClock{now: time.Date(y, m, d, 12, 0, 0, 0, chinaTime).UTC()}
	f := &debateFixture{ideasFixture: newIdeasFixture(t, testOptions{SubmitLimit: 1000, Now: clock.Now}), clock: clock}
	f.resident = f.bearer("jumin", store.RoleResident)
	f.neighbor = f.bearer("linju", store.RoleResident)
	f.official = f.officialBearer("jiaotong", debateDept)
	f.outsider = f.officialBearer("wenlv", otherDept)
	f.moderator = f.bearer("shenhe", store.RoleModerator)
	f.campaign("wenming", store.PolicyPost, nil)
	return f
}

// officialBearer is bearer for an official of the named department.
func (f *debateFixture) officialBearer(name, dept string) *client {
	f.t.Helper()
	f.users++
	u := f.createUser(f.t, fmt.Sprintf("%s%d", name, f.users), store.RoleOfficial, dept)
	c := f.client(f.t)
	c.header.Set(fiber.HeaderAuthorization, "Bearer "+f.createToken(f.t, u, nil))
	return c
}

// debateBody is a debate open from an hour before the clock to a day after,
// inviting debateDept, linked to the campaign "wenming".
func (f *debateFixture) debateBody(slug, policy string) map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"slug": slug, "title": "文明出行大讨论（" + slug + "）", "question": "怎样让我们的出行更文明？",
		"background": "交通文明<b>背景</b>", "theme": "交通出行", "campaign": "wenming", "policy": policy,
		"opens_at": now.Add(-time.Hour).Format(time.RFC3339), "closes_at": now.Add(24 * time.Hour).Format(time.RFC3339),
		"departments": []string{debateDept, "市公安局交通警察支队"},
	}
}

// createDebate creates a debate through the API as the admin.
func (f *debateFixture) createDebate(slug, policy string, edit func(map[string]any)) debateView {
	f.t.Helper()
	b := f.debateBody(slug, policy)
	if edit != nil {
		edit(b)
	}
	res := f.json(f.admin, http.MethodPost, "/api/v1/debates", b, nil)
	if res.status != fiber.StatusCreated {
		f.t.Fatalf("create debate %s: %s", slug, res)
	}
	var v debateView
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

// postReceipt is the body of a 201 from POST /api/v1/debates/:id/posts.
type postReceipt struct {
	ID       int64  `json:"id"`
	Status   string `json:"status"`
	Official bool   `json:"official"`
	Stance   string `json:"stance"`
}

// post adds a post as c and fails the test unless it was accepted. The clock
// moves on a minute, so posts have distinct times.
func (f *debateFixture) post(c *client, debate any, body map[string]any) postReceipt {
	f.t.Helper()
	res := f.json(c, http.MethodPost, fmt.Sprintf("/api/v1/debates/%v/posts", debate), body, nil)
	if res.status != fiber.StatusCreated {
		f.t.Fatalf("post %v: %s", body, res)
	}
	var r postReceipt
	if err := json.Unmarshal([]byte(res.body), &r); err != nil {
		f.t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	return r
}

func postBody(stance, body string) map[string]any {
	return map[string]any{"stance": stance, "body": body}
}

// getDebate reads GET /api/v1/debates/:key?query as a visitor.
func (f *debateFixture) getDebate(key any, query string) debateView {
	f.t.Helper()
	res := f.visitor.get(fmt.Sprintf("/api/v1/debates/%v%s", key, query))
	var v debateView
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
		f.t.Fatalf("GET debate %v: %s", key, res)
	}
	return v
}

// storedPosts counts every stored post (public or pending, any debate) and
// the debate_post rows of the outbox.
func (f *debateFixture) storedPosts() (posts, outbox int) {
	f.t.Helper()
	ctx := context.Background()
	ds, _, err := f.store.Debates(ctx, store.Page{Number: 1, PerPage: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range ds {
		ps, err := f.store.DebatePosts(ctx, d.ID, store.PostsNewest)
		if err != nil {
			f.t.Fatal(err)
		}
		posts += len(ps)
	}
	_, pending, err := f.store.PendingDebatePosts(ctx, store.Page{Number: 1, PerPage: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	posts += int(pending)
	es, err := f.store.OutboxAfter(ctx, 0, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range es {
		if e.Entity == "debate_post" {
			outbox++
		}
	}
	return posts, outbox
}

// noPostStored runs fn and checks it stored no post and queued no update.
func (f *debateFixture) noPostStored(fn func()) {
	f.t.Helper()
	posts, outbox := f.storedPosts()
	fn()
	if p, o := f.storedPosts(); p != posts || o != outbox {
		f.t.Errorf("refused request stored something: posts %d → %d, outbox %d → %d", posts, p, outbox, o)
	}
}

func (f *debateFixture) debateCount() int64 {
	f.t.Helper()
	_, n, err := f.store.Debates(context.Background(), store.Page{Number: 1, PerPage: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestDebateAPIAuthorization(t *testing.T) {
	f := newDebateFixture(t)
	open := f.createDebate("kaifang", store.PolicyPost, nil)
	pre := f.createDebate("xianshen", store.PolicyPre, nil)
	closed := f.createDebate("yijieshu", store.PolicyPost, nil)
	proposals := []int64{
		f.post(f.resident, open.ID, postBody("proposal", "建议在学校周边设置护学岗。")).ID,
		f.post(f.neighbor, open.ID, postBody("proposal", "建议路口增加礼让行人提示。")).ID,
	}
	pending := []int64{
		f.post(f.resident, pre.ID, postBody("for", "先审后发的第一条发言。")).ID,
		f.post(f.neighbor, pre.ID, postBody("against", "先审后发的第二条发言。")).ID,
	}
	f.clock.Add(25 * time.Hour) // all three debates are closed now
	if got := f.getDebate(closed.ID, ""); got.State != "closed" {
		t.Fatalf("debate state %q after the clock moved", got.State)
	}
	f.clock.Add(-25 * time.Hour)

	clients := map[string]*client{"visitor": f.visitor, "resident": f.resident, "official": f.official,
		"moderator": f.moderator, "admin": f.admin}
	refusals := []struct {
		who    string
		status int
		code   string
	}{
		{"visitor", 401, "unauthorized"},
		{"resident", 403, "forbidden"},
		{"official", 403, "forbidden"},
	}

	t.Run("create debate", func(t *testing.T) {
		f.t = t
		n := f.debateCount()
		for _, r := range append(refusals, struct {
			who    string
			status int
			code   string
		}{"moderator", 403, "forbidden"}) {
			f.wantProblem(f.json(clients[r.who], http.MethodPost, "/api/v1/debates", f.debateBody("by-"+r.who, "post"), nil), r.status, r.code)
		}
		if f.debateCount() != n {
			t.Error("refused requests created debates")
		}
		res := f.json(f.admin, http.MethodPost, "/api/v1/debates", f.debateBody("by-admin", "post"), nil)
		var v debateView
		if res.status != fiber.StatusCreated || json.Unmarshal([]byte(res.body), &v) != nil {
			t.Fatalf("admin create: %s", res)
		}
		if v.Slug != "by-admin" || v.State != "open" || v.Campaign != "wenming" || len(v.Departments) != 2 || v.Theme != "交通出行" {
			t.Errorf("created debate %+v", v)
		}
	})

	t.Run("post", func(t *testing.T) {
		f.t = t
		f.noPostStored(func() {
			f.wantProblem(f.json(f.visitor, http.MethodPost, fmt.Sprintf("/api/v1/debates/%d/posts", open.ID),
				postBody("for", "访客不能发言的内容。"), nil), 401, "unauthorized")
		})
		r := f.post(f.resident, open.ID, postBody("for", "居民可以发言。"))
		if r.ID == 0 || r.Status != "published" || r.Official || r.Stance != "for" {
			t.Errorf("resident post %+v", r)
		}
		r = f.post(f.official, open.Slug, postBody("against", "受邀部门的工作人员发言。"))
		if !r.Official {
			t.Errorf("invited official's post %+v has no badge", r)
		}
	})

	t.Run("support", func(t *testing.T) {
		f.t = t
		target := fmt.Sprintf("/api/v1/debate-posts/%d/support", proposals[0])
		for _, m := range []string{http.MethodPost, http.MethodDelete} {
			f.wantProblem(f.json(f.visitor, m, target, nil, nil), 401, "unauthorized")
			f.wantProblem(f.json(f.official, m, target, nil, nil), 403, "residents_only")
			f.wantProblem(f.json(f.moderator, m, target, nil, nil), 403, "residents_only")
		}
		for _, step := range []struct {
			c      *client
			method string
			want   int
		}{
			{f.resident, http.MethodPost, 1}, {f.resident, http.MethodPost, 1}, {f.neighbor, http.MethodPost, 2},
			{f.neighbor, http.MethodDelete, 1}, {f.neighbor, http.MethodPost, 2},
		} {
			res := f.json(step.c, step.method, target, nil, nil)
			var got struct{ ID, Supports int64 }
			if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &got) != nil || got.Supports != int64(step.want) || got.ID != proposals[0] {
				t.Errorf("%s support: %s, want %d supports", step.method, res, step.want)
			}
		}
		f.wantProblem(f.json(f.resident, http.MethodPost, "/api/v1/debate-posts/999999/support", nil, nil), 404, "not_found")
	})

	moderatorRoute := func(name, method string, target func(who string) string, body func(who string) any, okStatus int) {
		t.Run(name, func(t *testing.T) {
			f.t = t
			for _, r := range refusals {
				f.noPostStored(func() {
					f.wantProblem(f.json(clients[r.who], method, target(r.who), body(r.who), nil), r.status, r.code)
				})
			}
			for _, who := range []string{"moderator", "admin"} {
				if res := f.json(clients[who], method, target(who), body(who), nil); res.status != okStatus {
					t.Errorf("%s: %s, want %d", who, res, okStatus)
				}
			}
		})
	}
	f.clock.Add(25 * time.Hour)
	moderatorRoute("conclusion", http.MethodPost,
		func(string) string { return fmt.Sprintf("/api/v1/debates/%d/conclusion", closed.ID) },
		func(who string) any {
			return map[string]any{"conclusion": "讨论结论：由" + who + "发布，感谢大家参与。"}
		}, 200)
	f.clock.Add(-25 * time.Hour)
	if d, _ := f.store.DebateByID(context.Background(), closed.ID); !strings.Contains(d.Conclusion, "admin") {
		t.Errorf("conclusion after the admin's: %q", d.Conclusion)
	}
	moderatorRoute("pin", http.MethodPost,
		func(string) string { return fmt.Sprintf("/api/v1/debate-posts/%d/pin", proposals[0]) },
		func(string) any { return map[string]any{"pinned": true} }, 200)
	if p, _ := f.store.DebatePostByID(context.Background(), proposals[0]); !p.Pinned {
		t.Error("pin did not pin")
	}
	which := map[string]int64{"visitor": proposals[0], "resident": proposals[0], "official": proposals[0], "moderator": proposals[0], "admin": proposals[1]}
	ideasBefore := f.allIdeas()
	moderatorRoute("promote", http.MethodPost,
		func(who string) string { return fmt.Sprintf("/api/v1/debate-posts/%d/promote", which[who]) },
		func(string) any { return map[string]any{"title": "学校周边设置护学岗"} }, 201)
	if n := f.allIdeas(); n != ideasBefore+2 {
		t.Errorf("promotions stored %d ideas, want 2", n-ideasBefore)
	}
	decided := map[string]int64{"visitor": pending[0], "resident": pending[0], "official": pending[0], "moderator": pending[0], "admin": pending[1]}
	moderatorRoute("moderation decision", http.MethodPost,
		func(who string) string { return fmt.Sprintf("/api/v1/moderation/posts/%d/decision", decided[who]) },
		func(who string) any {
			if who == "admin" {
				return map[string]any{"action": "reject", "reason": "与讨论主题无关"}
			}
			return map[string]any{"action": "approve"}
		}, 200)
	f.t = t
	for id, want := range map[int64]store.IdeaStatus{pending[0]: store.IdeaPublished, pending[1]: store.IdeaRejected} {
		if p, _ := f.store.DebatePostByID(context.Background(), id); p.Status != want {
			t.Errorf("post %d is %s, want %s", id, p.Status, want)
		}
	}
	// The decision queues an index update of its own.
	es, _ := f.store.OutboxAfter(context.Background(), 0, 10000)
	queued := 0
	for _, e := range es {
		if e.Entity == "debate_post" && e.EntityID == pending[0] {
			queued++
		}
	}
	if queued != 2 {
		t.Errorf("post %d has %d outbox rows, want 2 (created, approved)", pending[0], queued)
	}
	if v := f.getDebate(pre.ID, ""); len(v.Posts) != 1 || v.Posts[0].ID != pending[0] {
		t.Errorf("pre-moderated debate shows %+v, want only the approved post", v.Posts)
	}
	// Deciding twice, or rejecting without a reason, is refused.
	f.wantProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/moderation/posts/%d/decision", pending[0]),
		map[string]any{"action": "approve"}, nil), 409, "status_conflict")
	extra := f.post(f.resident, pre.ID, postBody("for", "先审后发的第三条发言。"))
	f.wantProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/moderation/posts/%d/decision", extra.ID),
		map[string]any{"action": "reject"}, nil), 422, "reason_required")
	f.wantProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/moderation/posts/%d/decision", extra.ID),
		map[string]any{"action": "merge"}, nil), 422, "invalid_action")

	t.Run("HTML routes", func(t *testing.T) {
		f.t = t
		// Bearer clients need no CSRF token; the role checks are the same.
		form := url.Values{"stance": {"for"}, "body": {"表单发言的内容。"}, "pinned": {"1"}, "title": {"学校周边设置护学岗"},
			"conclusion": {"讨论结论：感谢大家参与讨论。"}}
		pages := []string{
			fmt.Sprintf("/debates/%s/conclusion", closed.Slug),
			fmt.Sprintf("/debates/%s/posts/%d/pin", open.Slug, proposals[0]),
			fmt.Sprintf("/debates/%s/posts/%d/promote", open.Slug, proposals[0]),
		}
		for _, page := range pages {
			for _, who := range []string{"resident", "official"} {
				if res := clients[who].post(page, form); res.status != fiber.StatusForbidden {
					t.Errorf("%s POST %s: %d, want 403", who, page, res.status)
				}
			}
		}
		for _, page := range []string{"/admin/debates/new"} {
			for _, who := range []string{"resident", "official", "moderator"} {
				if res := clients[who].get(page); res.status != fiber.StatusForbidden {
					t.Errorf("%s GET %s: %d, want 403", who, page, res.status)
				}
			}
			if res := f.admin.get(page); res.status != fiber.StatusOK {
				t.Errorf("admin GET %s: %d", page, res.status)
			}
		}
		// A visitor is sent to sign in, with the CSRF token of the page.
		v := f.client(t)
		tok := v.csrf("/debates/" + open.Slug)
		f.noPostStored(func() {
			res := v.post("/debates/"+open.Slug+"/posts", url.Values{"_csrf": {tok}, "stance": {"for"}, "body": {"访客的表单发言。"}})
			if res.status != fiber.StatusSeeOther || !strings.HasPrefix(res.header.Get(fiber.HeaderLocation), "/login?next=") {
				t.Errorf("visitor form post: %d %q", res.status, res.header.Get(fiber.HeaderLocation))
			}
		})
		if res := v.get("/admin/debates/new"); res.status != fiber.StatusSeeOther {
			t.Errorf("visitor GET /admin/debates/new: %d", res.status)
		}
		// A moderator's pin form works.
		res := f.moderator.post(fmt.Sprintf("/debates/%s/posts/%d/pin", open.Slug, proposals[0]), url.Values{"pinned": {"0"}})
		if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != fmt.Sprintf("/debates/%s#p%d", open.Slug, proposals[0]) {
			t.Errorf("moderator unpin: %d %q", res.status, res.header.Get(fiber.HeaderLocation))
		}
		if p, _ := f.store.DebatePostByID(context.Background(), proposals[0]); p.Pinned {
			t.Error("the unpin form did not unpin")
		}
	})
}

func TestDebateAPIGet(t *testing.T) {
	f := newDebateFixture(t)
	d := f.createDebate("kaifang", store.PolicyPost, nil)
	first := f.post(f.resident, d.ID, postBody("for", "支持开展这次讨论，希望多听听大家的意见。"))
	official := f.post(f.official, d.ID, postBody("proposal", "我们将在学校周边增设护学岗。"))
	against := f.post(f.neighbor, d.ID, postBody("against", "我觉得现有的措施已经够了。"))
	proposal := f.post(f.resident, d.ID, postBody("proposal", "建议路口增加礼让行人提示。"))
	// The department answers first; a resident follows up.
	answer := f.post(f.official, d.ID, map[string]any{"stance": "for", "body": "感谢建议，我们会认真研究。", "parent": first.ID})
	reply := f.post(f.neighbor, d.Slug, map[string]any{"stance": "for", "body": "同意楼上的意见。", "parent": first.ID})
	outsider := f.post(f.outsider, d.ID, postBody("for", "文旅局的同志以个人身份发言。"))
	if outsider.Official {
		t.Errorf("non-invited official's post has the badge: %+v", outsider)
	}
	for _, c := range []*client{f.resident, f.neighbor} {
		if res := f.json(c, http.MethodPost, fmt.Sprintf("/api/v1/debate-posts/%d/support", first.ID), nil, nil); res.status != 200 {
			t.Fatal(res)
		}
	}
	f.json(f.resident, http.MethodPost, fmt.Sprintf("/api/v1/debate-posts/%d/support", outsider.ID), nil, nil)
	if res := f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/debate-posts/%d/pin", against.ID), map[string]any{"pinned": true}, nil); res.status != 200 {
		t.Fatal(res)
	}

	byID, bySlug := f.getDebate(d.ID, ""), f.getDebate(d.Slug, "")
	a, _ := json.Marshal(byID)
	b, _ := json.Marshal(bySlug)
	if !bytes.Equal(a, b) {
		t.Errorf("by id and by slug differ:\n%s\n%s", a, b)
	}
	v := byID
	if v.ID != d.ID || v.Slug != "kaifang" || v.State != "open" || v.Question != "怎样让我们的出行更文明？" || v.Campaign != "wenming" ||
		strings.Join(v.Departments, "、") != "市交通运输局、市公安局交通警察支队" && strings.Join(v.Departments, "、") != "市公安局交通警察支队、市交通运输局" {
		t.Errorf("debate %+v", v)
	}
	if v.Stances["for"] != 2 || v.Stances["against"] != 1 || v.Stances["proposal"] != 2 {
		t.Errorf("stances %v: replies must not count", v.Stances)
	}
	if len(v.Activity) != 1 || v.Activity[0].Posts != 7 {
		t.Errorf("activity %+v", v.Activity)
	}
	ids := func(ps []postView) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	// Pinned first, then official, then the newest.
	want := []int64{against.ID, official.ID, outsider.ID, proposal.ID, first.ID}
	if got := ids(v.Posts); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("newest order %v, want %v", got, want)
	}
	byPost := map[int64]postView{}
	for _, p := range v.Posts {
		byPost[p.ID] = p
	}
	if p := byPost[official.ID]; !p.Official || p.Department != debateDept || p.Stance != "proposal" || p.StanceLabel != "建议" || p.Author != "jiaotong4同志" {
		t.Errorf("official post %+v", p)
	}
	if p := byPost[first.ID]; p.Official || p.Supports != 2 || p.Stance != "for" || p.StanceLabel != "支持" || p.Pinned ||
		len(p.Replies) != 2 || p.Replies[0].Parent == nil || *p.Replies[0].Parent != first.ID {
		t.Errorf("first post %+v", p)
	} else if p.Replies[0].ID != answer.ID || p.Replies[1].ID != reply.ID || !p.Replies[0].Official {
		t.Errorf("replies %+v, want the official answer then the follow-up (oldest first)", p.Replies)
	}
	if p := byPost[against.ID]; !p.Pinned || p.StanceLabel != "反对" {
		t.Errorf("pinned post %+v", p)
	}
	if p := byPost[outsider.ID]; p.Official || p.Department != "" {
		t.Errorf("outsider's post %+v", p)
	}
	// Most supported: pinned and official still first.
	want = []int64{against.ID, official.ID, first.ID, outsider.ID, proposal.ID}
	supported := f.getDebate(d.ID, "?sort=supported")
	if got := ids(supported.Posts); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("supported order %v, want %v", got, want)
	}
	if got, want := ids(supported.Posts[2].Replies), []int64{answer.ID, reply.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replies under sort=supported %v, want %v", got, want)
	}
	f.wantProblem(f.visitor.get(fmt.Sprintf("/api/v1/debates/%d?sort=id%%20desc", d.ID)), 400, "invalid_sort")
	f.wantProblem(f.visitor.get("/api/v1/debates/no-such-debate"), 404, "not_found")
	f.wantProblem(f.visitor.get("/api/v1/debates/999999"), 404, "not_found")

	// The list.
	f.createDebate("weikaishi", store.PolicyPost, func(b map[string]any) {
		b["opens_at"] = f.clock.Now().Add(time.Hour).Format(time.RFC3339)
	})
	res := f.visitor.get("/api/v1/debates")
	var list struct {
		Total   int64
		Debates []struct {
			Slug, State string
		}
	}
	if res.status != 200 || json.Unmarshal([]byte(res.body), &list) != nil || list.Total != 2 || len(list.Debates) != 2 {
		t.Fatalf("list: %s", res)
	}
	states := map[string]string{}
	for _, d := range list.Debates {
		states[d.Slug] = d.State
	}
	if states["kaifang"] != "open" || states["weikaishi"] != "upcoming" {
		t.Errorf("list states %v", states)
	}
}

func TestDebateAPIRejectsBadInput(t *testing.T) {
	f := newDebateFixture(t)
	open := f.createDebate("kaifang", store.PolicyPost, nil)
	other := f.createDebate("lingyige", store.PolicyPost, nil)
	now := f.clock.Now()
	closed := f.createDebate("yijieshu", store.PolicyPost, func(b map[string]any) {
		b["opens_at"], b["closes_at"] = now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)
	})
	upcoming := f.createDebate("weikaishi", store.PolicyPost, func(b map[string]any) {
		b["opens_at"], b["closes_at"] = now.Add(time.Hour).Format(time.RFC3339), now.Add(48*time.Hour).Format(time.RFC3339)
	})
	top := f.post(f.resident, open.ID, postBody("for", "一条正常的发言。"))
	reply := f.post(f.neighbor, open.ID, map[string]any{"stance": "for", "body": "一条正常的回复。", "parent": top.ID})
	elsewhere := f.post(f.resident, other.ID, postBody("for", "另一场讨论里的发言。"))

	valid, _ := json.Marshal(postBody("for", "文明出行人人有责。"))
	badUTF8 := bytes.Replace(valid, []byte("文明"), []byte("\xff\xfe"), 1)
	tests := []struct {
		name   string
		as     *client
		debate any
		body   any
		status int
		code   string
		field  bool // a field problem: 422 with fields
	}{
		{"closed debate", f.resident, closed.ID, postBody("for", "讨论结束后的发言。"), 409, "debate_not_open", false},
		{"upcoming debate", f.resident, upcoming.Slug, postBody("for", "讨论开始前的发言。"), 409, "debate_not_open", false},
		{"resident claims to be official", f.resident, open.ID, map[string]any{"stance": "for", "body": "我是官方的发言。", "official": true}, 403, "not_official", false},
		{"non-invited official claims the badge", f.outsider, open.ID, map[string]any{"stance": "for", "body": "我是官方的发言。", "official": true}, 403, "not_official", false},
		{"reply to a reply", f.resident, open.ID, map[string]any{"stance": "for", "body": "回复一条回复。", "parent": reply.ID}, 422, "invalid_parent", false},
		{"reply to another debate's post", f.resident, open.ID, map[string]any{"stance": "for", "body": "回复别处的发言。", "parent": elsewhere.ID}, 422, "invalid_parent", false},
		{"reply to a missing post", f.resident, open.ID, map[string]any{"stance": "for", "body": "回复不存在的发言。", "parent": 999999}, 422, "invalid_parent", false},
		{"unknown stance", f.resident, open.ID, postBody("neutral", "我保持中立的态度。"), 422, "invalid_stance", true},
		{"no stance", f.resident, open.ID, map[string]any{"body": "我没有选择立场。"}, 422, "invalid_stance", true},
		{"empty body", f.resident, open.ID, postBody("for", "   "), 422, "body_too_short", true},
		{"4-character body", f.resident, open.ID, postBody("for", "太短了吧"), 422, "body_too_short", true},
		{"3001-character body", f.resident, open.ID, postBody("for", strings.Repeat("长", 3001)), 422, "body_too_long", true},
		{"control character", f.resident, open.ID, postBody("for", "文明\u0007出行的建议"), 422, "control_characters", true},
		{"not JSON", f.resident, open.ID, []byte(`{"stance":"for","body":`), 400, "invalid_json", false},
		{"parent is not a number", f.resident, open.ID, []byte(`{"stance":"for","body":"正常的发言内容。","parent":"一"}`), 400, "invalid_json", false},
		{"invalid UTF-8", f.resident, open.ID, badUTF8, 400, "invalid_utf8", false},
		{"unknown debate", f.resident, "no-such-debate", postBody("for", "发到不存在的讨论。"), 404, "not_found", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			f.noPostStored(func() {
				res := f.json(tt.as, http.MethodPost, fmt.Sprintf("/api/v1/debates/%v/posts", tt.debate), tt.body, nil)
				var p apiProblem
				if tt.field {
					p = f.wantFieldProblem(res, tt.status, tt.code)
				} else {
					p = f.wantProblem(res, tt.status, tt.code)
				}
				if !strings.ContainsFunc(p.Message, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
					t.Errorf("message %q is not Chinese", p.Message)
				}
			})
		})
	}
	f.t = t

	t.Run("create debate", func(t *testing.T) {
		f.t = t
		set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
		cases := []struct {
			name   string
			edit   func(map[string]any)
			raw    []byte
			status int
			code   string
		}{
			{"bad slug", set("slug", "Da Tao Lun"), nil, 422, "invalid_slug"},
			{"numeric slug", set("slug", "2025"), nil, 422, "invalid_slug"},
			{"taken slug", set("slug", "kaifang"), nil, 422, "slug_taken"},
			{"no dates", func(b map[string]any) { delete(b, "opens_at"); delete(b, "closes_at") }, nil, 422, "dates_required"},
			{"reversed dates", func(b map[string]any) { b["opens_at"], b["closes_at"] = b["closes_at"], b["opens_at"] }, nil, 422, "invalid_dates"},
			{"unknown campaign", set("campaign", "no-such-campaign"), nil, 422, "unknown_campaign"},
			{"bad policy", set("policy", "later"), nil, 422, "invalid_policy"},
			{"date not RFC 3339", set("opens_at", "2025-07-01 10:00"), nil, 400, "invalid_json"},
			{"not JSON", nil, []byte(`{"slug":`), 400, "invalid_json"},
			{"invalid UTF-8", nil, []byte("{\"slug\":\"abc\",\"title\":\"\xff\"}"), 400, "invalid_utf8"},
		}
		n := f.debateCount()
		for _, tc := range cases {
			body := any(tc.raw)
			if tc.raw == nil {
				b := f.debateBody("xin-taolun", "post")
				tc.edit(b)
				body = b
			}
			f.wantFieldProblem(f.json(f.admin, http.MethodPost, "/api/v1/debates", body, nil), tc.status, tc.code)
		}
		if f.debateCount() != n {
			t.Error("refused requests created debates")
		}
	})

	t.Run("moderator actions", func(t *testing.T) {
		f.t = t
		// Conclusions only once closed; promotion only of proposals.
		f.wantProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/debates/%d/conclusion", open.ID),
			map[string]any{"conclusion": "讨论还没有结束，不能发布结论。"}, nil), 409, "debate_not_closed")
		f.wantFieldProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/debates/%d/conclusion", closed.ID),
			map[string]any{"conclusion": "太短"}, nil), 422, "invalid_conclusion")
		f.wantFieldProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/debates/%d/conclusion", closed.ID),
			map[string]any{"conclusion": "讨论结论：感谢大家参与。", "ideas": []int64{999999}}, nil), 422, "unknown_idea")
		f.wantProblem(f.json(f.moderator, http.MethodPost, fmt.Sprintf("/api/v1/debate-posts/%d/promote", top.ID),
			map[string]any{"title": "学校周边设置护学岗"}, nil), 409, "not_promotable")
		f.wantProblem(f.json(f.moderator, http.MethodPost, "/api/v1/debate-posts/999999/pin", map[string]any{"pinned": true}, nil), 404, "not_found")
		if d, _ := f.store.DebateByID(context.Background(), closed.ID); d.Conclusion != "" {
			t.Errorf("refused conclusion stored: %q", d.Conclusion)
		}
	})
}

// between returns the text of page between the first start and the next end.
func between(t *testing.T, page, start, end string) string {
	t.Helper()
	i := strings.Index(page, start)
	if i < 0 {
		t.Fatalf("page lacks %q", start)
	}
	rest := page[i:]
	if j := strings.Index(rest, end); j >= 0 {
		return rest[:j]
	}
	return rest
}

func TestDebatePage(t *testing.T) {
	f := newDebateFixture(t)
	d := f.createDebate("kaifang", store.PolicyPost, func(b map[string]any) {
		b["closes_at"] = f.clock.Now().Add(time.Hour).Format(time.RFC3339)
	})
	evil := `<script>alert("x")</script>请注意<b>安全</b>`
	first := f.post(f.resident, d.ID, postBody("for", evil))
	f.post(f.neighbor, d.ID, postBody("for", "第二条支持的发言。"))
	official := f.post(f.official, d.ID, postBody("proposal", "我们将在学校周边增设护学岗。"))
	pinned := f.post(f.neighbor, d.ID, postBody("against", "请大家先看这条反对意见。"))
	proposal := f.post(f.resident, d.ID, postBody("proposal", "建议路口增加礼让行人提示。"))
	f.post(f.neighbor, d.ID, map[string]any{"stance": "against", "body": "回复：<i>不同意</i>。", "parent": first.ID})
	if res := f.moderator.post(fmt.Sprintf("/debates/%s/posts/%d/pin", d.Slug, pinned.ID), url.Values{"pinned": {"1"}}); res.status != fiber.StatusSeeOther {
		t.Fatalf("pin: %s", res)
	}

	res := f.visitor.get("/debates/" + d.Slug)
	if res.status != 200 {
		t.Fatalf("GET page: %s", res)
	}
	page := res.body
	for _, want := range []string{
		"文明出行大讨论（kaifang）", "怎样让我们的出行更文明？", "讨论中", "受邀部门", debateDept,
		`<span class="stance stance-for">支持</span> 2 条`,
		`<span class="stance stance-against">反对</span> 1 条`,
		`<span class="stance stance-proposal">建议</span> 2 条`,
		"官方 · " + debateDept, "讨论动态", "6 条发言",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;请注意&lt;b&gt;安全&lt;/b&gt;", "回复：&lt;i&gt;不同意&lt;/i&gt;。",
		"交通文明&lt;b&gt;背景&lt;/b&gt;",
		`href="/login?next=/debates/kaifang"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{`<script>alert`, "<b>安全", "<i>不同意", "<b>背景", "发布结论", "转为金点子"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The pinned post comes first and says so; the official one next.
	posts := between(t, page, `<ol class="posts">`, "</section>")
	iPinned, iOfficial, iFirst := strings.Index(posts, fmt.Sprintf(`id="p%d"`, pinned.ID)), strings.Index(posts, fmt.Sprintf(`id="p%d"`, official.ID)),
		strings.Index(posts, fmt.Sprintf(`id="p%d"`, first.ID))
	if iPinned < 0 || iOfficial < 0 || iFirst < 0 || iPinned > iOfficial || iOfficial > iFirst {
		t.Errorf("post order: pinned at %d, official at %d, first at %d", iPinned, iOfficial, iFirst)
	}
	if item := between(t, posts, fmt.Sprintf(`id="p%d"`, pinned.ID), "</li>"); !strings.Contains(item, "置顶") {
		t.Errorf("pinned post lacks 置顶: %s", item)
	}
	if strings.Count(posts, `<span class="badge">置顶</span>`) != 1 {
		t.Error("置顶 shown on more than the pinned post")
	}
	if res := f.visitor.get("/debates/" + d.Slug + "?sort=bogus"); res.status != 400 {
		t.Errorf("bad sort on the page: %d", res.status)
	}
	if res := f.visitor.get("/debates/no-such-debate"); res.status != 404 {
		t.Errorf("unknown debate page: %d", res.status)
	}
	// A moderator sees the pin and promote controls.
	if mod := f.moderator.get("/debates/" + d.Slug); !strings.Contains(mod.body, "取消置顶") || !strings.Contains(mod.body, "转为金点子") {
		t.Error("moderator's page lacks the pin or promote controls")
	}

	// Close it, promote a proposal and conclude, linking two ideas.
	idea := f.submit(f.visitor, ideaBody("wenming"))
	res = f.moderator.post(fmt.Sprintf("/debates/%s/posts/%d/promote", d.Slug, proposal.ID), url.Values{"title": {"路口增加礼让行人提示"}})
	if res.status != fiber.StatusSeeOther || !strings.HasPrefix(res.header.Get(fiber.HeaderLocation), "/ideas/") {
		t.Fatalf("promote form: %s", res)
	}
	var promoted int64
	if _, err := fmt.Sscanf(res.header.Get(fiber.HeaderLocation), "/ideas/%d", &promoted); err != nil {
		t.Fatalf("promote redirect %q: %v", res.header.Get(fiber.HeaderLocation), err)
	}
	f.clock.Add(2 * time.Hour)
	if page := f.visitor.get("/debates/" + d.Slug).body; strings.Contains(page, "讨论结论") || !strings.Contains(page, "已结束") {
		t.Error("closed debate without conclusion: wrong state or a conclusion section")
	}
	if page := f.moderator.get("/debates/" + d.Slug).body; !strings.Contains(page, "发布结论") {
		t.Error("moderator's page of a closed debate lacks the conclusion form")
	}
	if res := f.moderator.post("/debates/"+d.Slug+"/conclusion", url.Values{"conclusion": {"讨论结论：感谢大家。"}, "ideas": {"abc"}}); res.status != 422 {
		t.Errorf("conclusion form with bad idea numbers: %d", res.status)
	}
	res = f.moderator.post("/debates/"+d.Slug+"/conclusion", url.Values{
		"conclusion": {"讨论结论：学校周边将增设护学岗，<u>路口</u>增加礼让提示。"},
		"ideas":      {fmt.Sprintf("%d，%d, %d", idea.ID, promoted, idea.ID)}})
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/debates/kaifang#conclusion" {
		t.Fatalf("conclusion form: %s", res)
	}
	page = f.visitor.get("/debates/" + d.Slug).body
	section := between(t, page, `<section id="conclusion"`, "</section>")
	for _, want := range []string{"讨论结论", "学校周边将增设护学岗，&lt;u&gt;路口&lt;/u&gt;增加礼让提示。",
		fmt.Sprintf(`<a href="/ideas/%d">小区门口人行道被占用</a>`, idea.ID), fmt.Sprintf(`<a href="/ideas/%d">路口增加礼让行人提示</a>`, promoted)} {
		if !strings.Contains(section, want) {
			t.Errorf("conclusion section lacks %q:\n%s", want, section)
		}
	}
	if strings.Count(section, "<li>") != 2 {
		t.Errorf("conclusion links %d ideas, want 2", strings.Count(section, "<li>"))
	}
	// The promoted idea keeps the post's author and supports, in the API too.
	v := f.getDebate(d.ID, "")
	if len(v.Outcomes) != 2 || v.Conclusion == "" || v.State != "closed" {
		t.Errorf("concluded debate: %+v", v)
	}
	for _, p := range v.Posts {
		if p.ID == proposal.ID && (p.PromotedTo == nil || *p.PromotedTo != promoted) {
			t.Errorf("promoted post %+v", p)
		}
	}
	if strings.Contains(f.visitor.get("/debates/"+d.Slug).body, `name="body"`) {
		t.Error("a closed debate still offers the post form")
	}
}

func TestDebateHTMLPostForm(t *testing.T) {
	f := newDebateFixture(t)
	d := f.createDebate("kaifang", store.PolicyPost, nil)
	pre := f.createDebate("xianshen", store.PolicyPre, nil)
	f.createUser(t, "zhangsan", store.RoleResident, "")
	f.createUser(t, "jiaojing", store.RoleOfficial, debateDept)
	c := f.client(t)
	c.mustLogin("zhangsan")
	page := "/debates/" + d.Slug
	tok := c.csrf(page)

	// Without the token: refused, nothing stored.
	f.noPostStored(func() {
		if res := c.post(page+"/posts", url.Values{"stance": {"for"}, "body": {"没有令牌的发言。"}}); res.status != fiber.StatusForbidden {
			t.Errorf("post without csrf: %d", res.status)
		}
	})

	// The form has no badge to ask for; one added by hand is ignored.
	res := c.post(page+"/posts", url.Values{"_csrf": {tok}, "stance": {"for"}, "body": {"表单发表的支持意见。"}, "official": {"true"}})
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/debates/kaifang?notice=commented#posts" {
		t.Fatalf("form post: %s", res)
	}
	v := f.getDebate(d.ID, "")
	if len(v.Posts) != 1 || v.Posts[0].Body != "表单发表的支持意见。" || v.Posts[0].Author != "zhangsan同志" || v.Posts[0].Official {
		t.Fatalf("posts after the form: %+v", v.Posts)
	}
	top := v.Posts[0].ID
	// A reply through the reply form.
	res = c.post(page+"/posts", url.Values{"_csrf": {tok}, "stance": {"for"}, "parent": {fmt.Sprint(top)}, "body": {"补充一下我的意见。"}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("reply form: %s", res)
	}
	replyID := f.getDebate(d.ID, "").Posts[0].Replies[0].ID

	cases := []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"no stance, short body", url.Values{"body": {"短<i>"}}, 422,
			[]string{"请根据提示修改后重新发表", "请选择立场", "发言内容应为 5 到 3000 个字", ">短&lt;i&gt;</textarea>"}},
		{"unknown stance", url.Values{"stance": {"neutral"}, "body": {"我保持中立的态度。"}}, 422,
			[]string{"请选择立场", ">我保持中立的态度。</textarea>"}},
		{"long body keeps the stance", url.Values{"stance": {"against"}, "body": {strings.Repeat("长", 3001)}}, 422,
			[]string{`value="against" checked`, "现在 3001 个字"}},
		{"reply to a reply", url.Values{"stance": {"for"}, "parent": {fmt.Sprint(replyID)}, "body": {"回复一条回复。"}}, 422,
			[]string{"只能回复该讨论中的一级发言", ">回复一条回复。</textarea>"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			f.noPostStored(func() {
				tc.form.Set("_csrf", tok)
				res := c.post(page+"/posts", tc.form)
				if res.status != tc.status {
					t.Fatalf("status %d, want %d", res.status, tc.status)
				}
				for _, w := range tc.want {
					if !strings.Contains(res.body, w) {
						t.Errorf("page lacks %q", w)
					}
				}
				if strings.Contains(res.body, "<i>") {
					t.Error("typed body not escaped")
				}
				csrfFrom(t, res.body) // the re-rendered form can be sent again
			})
		})
	}
	f.t = t

	// A closed debate refuses with its reason.
	f.clock.Add(25 * time.Hour)
	f.noPostStored(func() {
		res := c.post(page+"/posts", url.Values{"_csrf": {tok}, "stance": {"for"}, "body": {"讨论结束后的发言。"}})
		if res.status != fiber.StatusConflict || !strings.Contains(res.body, "该讨论当前不在进行中") {
			t.Errorf("closed debate form: %d", res.status)
		}
	})
	f.clock.Add(-25 * time.Hour)

	// Under pre-moderation the notice says the post waits.
	tok = c.csrf("/debates/" + pre.Slug)
	res = c.post("/debates/"+pre.Slug+"/posts", url.Values{"_csrf": {tok}, "stance": {"proposal"}, "body": {"先审后发的表单发言。"}})
	if res.status != fiber.StatusSeeOther || !strings.Contains(res.header.Get(fiber.HeaderLocation), "notice=comment_pending") {
		t.Errorf("pre-moderated form post: %s", res)
	}

	// An invited official is told about the badge and gets it.
	o := f.client(t)
	o.mustLogin("jiaojing")
	body := o.get(page).body
	if !strings.Contains(body, "发言将带有“官方”标识") {
		t.Error("invited official's page lacks the badge hint")
	}
	res = o.post(page+"/posts", url.Values{"_csrf": {csrfFrom(t, body)}, "stance": {"proposal"}, "body": {"我们会认真研究大家的意见。"}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("official form post: %s", res)
	}
	if v := f.getDebate(d.ID, ""); !v.Posts[0].Official || v.Posts[0].Department != debateDept {
		t.Errorf("official's form post %+v", v.Posts[0])
	}
	// A resident's page has no such hint, and residents support through forms.
	body = c.get(page).body
	if strings.Contains(body, "发言将带有“官方”标识") {
		t.Error("resident's page promises the badge")
	}
	res = c.post(fmt.Sprintf("%s/posts/%d/support", page, top), url.Values{"_csrf": {csrfFrom(t, body)}})
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != fmt.Sprintf("/debates/kaifang#p%d", top) {
		t.Errorf("support form: %s", res)
	}
	if p, _ := f.store.DebatePostByID(context.Background(), top); p.SupportsCount != 1 {
		t.Errorf("supports after the form: %d", p.SupportsCount)
	}
}

func TestAdminDebateForm(t *testing.T) {
	f := newDebateFixture(t)
	f.createUser(t, "guanli", store.RoleAdmin, "")
	c := f.client(t)
	c.mustLogin("guanli")
	tok := c.csrf("/admin/debates/new")
	opens := f.clock.Now().In(chinaTime).Add(-time.Hour).Format(formTime)
	closes := f.clock.Now().In(chinaTime).Add(30 * 24 * time.Hour).Format(formTime)
	form := func() url.Values {
		return url.Values{"_csrf": {tok}, "slug": {"wenming-chuxing"}, "title": {"安全文明出行"}, "question": {"怎样让出行更安全？"},
			"background": {"背景介绍"}, "theme": {"社会公德"}, "campaign": {"wenming"}, "opens_at": {opens}, "closes_at": {closes},
			"policy": {"post"}, "departments": {"市公安局交通警察支队\r\n\r\n  市交通运输局  \r\n"}}
	}

	bad := form()
	bad.Set("slug", "Bad Slug")
	bad.Set("closes_at", opens)
	bad.Set("title", `标题<script>`)
	n := f.debateCount()
	res := c.post("/admin/debates/new", bad)
	if res.status != fiber.StatusUnprocessableEntity {
		t.Fatalf("bad form: %s", res)
	}
	for _, want := range []string{"网址标识只能包含", "结束时间必须晚于开始时间", `value="Bad Slug"`, `value="标题&lt;script&gt;"`, "市交通运输局"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	if f.debateCount() != n {
		t.Error("a refused form created a debate")
	}

	res = c.post("/admin/debates/new", form())
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/debates/wenming-chuxing" {
		t.Fatalf("admin form: %s", res)
	}
	v := f.getDebate("wenming-chuxing", "")
	if v.State != "open" || v.Campaign != "wenming" || len(v.Departments) != 2 || v.Theme != "社会公德" {
		t.Errorf("created debate %+v", v)
	}
	// Times are read as Beijing time.
	if got := v.OpensAt.In(chinaTime).Format(formTime); got != opens {
		t.Errorf("opens_at %s, want %s", got, opens)
	}
	page := c.get("/debates/wenming-chuxing").body
	for _, want := range []string{"市公安局交通警察支队", "市交通运输局", "安全文明出行"} {
		if !strings.Contains(page, want) {
			t.Errorf("debate page lacks %q", want)
		}
	}
	// The same slug again is refused on the form.
	res = c.post("/admin/debates/new", form())
	if res.status != fiber.StatusUnprocessableEntity || !strings.Contains(res.body, "该网址标识已被其他讨论使用") {
		t.Errorf("taken slug: %d", res.status)
	}
}

func TestDemoSeedsDebate(t *testing.T) {
	e := newTestApp(t, testOptions{})
	files, err := attachment.NewDir(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	svc := &ideas.Service{Store: e.store, Moderation: moderation.PolicyOnly{}, Themes: ideas.KeywordSuggester{}, Attachments: files}
	rep, err := demo.Seed(context.Background(), e.store, svc, testPassword, time.Now().UTC())
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if !strings.Contains(strings.Join(rep.Created, "\n"), demo.DebateSlug) {
		t.Errorf("report %v does not mention the debate", rep.Created)
	}
	res := e.client(t).get("/debates/" + demo.DebateSlug)
	if res.status != 200 {
		t.Fatalf("GET demo debate: %s", res)
	}
	deps := between(t, res.body, "受邀部门", "</p>")
	for _, want := range []string{"市公安局交通警察支队", "市交通运输局"} {
		if !strings.Contains(deps, want) {
			t.Errorf("invited departments lack %q: %s", want, deps)
		}
	}
	if !regexp.MustCompile(`badge-official">官方 · 市公安局交通警察支队`).MatchString(res.body) {
		t.Error("the demo debate shows no official post")
	}
	if !strings.Contains(res.body, "讨论中") {
		t.Error("the demo debate is not open")
	}
	// Seeding again is harmless.
	rep, err = demo.Seed(context.Background(), e.store, svc, testPassword, time.Now().UTC())
	if err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	if v, _ := e.store.DebateBySlug(context.Background(), demo.DebateSlug); v == nil {
		t.Fatal("demo debate gone")
	}
	var d debateView
	if res := e.client(t).get("/api/v1/debates/" + demo.DebateSlug); json.Unmarshal([]byte(res.body), &d) != nil || len(d.Posts) != 3 {
		t.Errorf("demo debate posts after seeding twice: %s", res.body)
	}
}
