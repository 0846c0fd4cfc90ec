package debate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"jindianzi/moderation"
	"jindianzi/portal/campaign"
	"jindianzi/portal/debate"
	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// Departments of the fixture: the first is invited to every fixture debate,
// the second never is.
const (
	invitedDept = "市交通运输局"
	otherDept   = "市文化广电旅游局"
)

// fixture is a real store with one user per role, a campaign and a debate
// open at the service's clock.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	st       *store.Store
	svc      *debate.Service
	clock    time.Time // what svc.Now returns; tests move it
	admin    store.Actor
	resident *store.User
	neighbor *store.User // a second resident
	official *store.User // of the invited department
	outsider *store.User // official of a department that is not invited
	mod      *store.User
	camp     *store.Campaign
	open     *store.Debate // open at clock, post policy, with the campaign
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), st: st, clock: time.Date(2025, 7, 10, 4, 0, 0, 0, time.UTC)}
	f.svc = &debate.Service{Store: st, Moderation: moderation.PolicyOnly{}, Now: func() time.Time { return f.clock }}
	admin := f.user("guanliyuan", store.RoleAdmin, "")
	f.admin = store.ActorFor(admin, "127.0.0.1")
	f.resident = f.user("jumin", store.RoleResident, "")
	f.neighbor = f.user("linju", store.RoleResident, "")
	f.official = f.user("jiaotong", store.RoleOfficial, invitedDept)
	f.outsider = f.user("wenlv", store.RoleOfficial, otherDept)
	f.mod = f.user("shenhe", store.RoleModerator, "")
	c, err := campaign.Create(f.ctx, st, campaign.Input{Slug: "wenming", Title: "文明城市金点子", Policy: store.PolicyPost,
		Themes: []campaign.ThemeInput{{Name: "交通出行"}}}, f.admin)
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	f.camp = c
	f.open = f.debate("chuxing", store.PolicyPost, "wenming")
	return f
}

func (f *fixture) user(name string, role store.Role, dept string) *store.User {
	f.t.Helper()
	u, err := f.st.CreateUser(f.ctx, store.NewUser{Name: name, DisplayName: name + "同志", PasswordHash: "x", Role: role, Department: dept})
	if err != nil {
		f.t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// input is a valid debate open from a day before the clock to a week after.
func (f *fixture) input(slug, policy, campaignSlug string) debate.Input {
	opens, closes := f.clock.Add(-24*time.Hour), f.clock.Add(7*24*time.Hour)
	return debate.Input{Slug: slug, Title: "文明出行大讨论", Question: "怎样让出行更文明？", Background: "背景<b>介绍</b>",
		Theme: "交通出行", Campaign: campaignSlug, OpensAt: &opens, ClosesAt: &closes, Policy: policy,
		Departments: []string{invitedDept, " 市公安局交通警察支队 "}}
}

func (f *fixture) debate(slug, policy, campaignSlug string) *store.Debate {
	f.t.Helper()
	d, err := debate.Create(f.ctx, f.st, f.input(slug, policy, campaignSlug), f.admin)
	if err != nil {
		f.t.Fatalf("create debate %s: %v", slug, err)
	}
	return d
}

// post adds a post and fails the test on error.
func (f *fixture) post(u *store.User, d *store.Debate, stance, body string, parent *int64) *store.DebatePost {
	f.t.Helper()
	p, err := f.svc.Post(f.ctx, u, d.ID, debate.PostInput{Stance: stance, Body: body, Parent: parent}, "127.0.0.1")
	if err != nil {
		f.t.Fatalf("post %q: %v", body, err)
	}
	return p
}

// stored counts every stored post (public and pending, of every debate) and
// the debate_post outbox rows.
func (f *fixture) stored(ds ...*store.Debate) (posts, outbox int) {
	f.t.Helper()
	for _, d := range ds {
		ps, err := f.st.DebatePosts(f.ctx, d.ID, store.PostsNewest)
		if err != nil {
			f.t.Fatal(err)
		}
		posts += len(ps)
	}
	_, pending, err := f.st.PendingDebatePosts(f.ctx, store.Page{Number: 1, PerPage: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	posts += int(pending)
	for _, e := range f.outbox() {
		if e.Entity == "debate_post" {
			outbox++
		}
	}
	return posts, outbox
}

func (f *fixture) outbox() []store.OutboxEvent {
	f.t.Helper()
	es, err := f.st.OutboxAfter(f.ctx, 0, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func ptr[T any](v T) *T { return &v }

// wantFieldError checks err is invalid input naming field with code and a
// Chinese message.
func wantFieldError(t *testing.T, err error, field, code string) {
	t.Helper()
	var ie *input.Errors
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want *input.Errors with %s on %s", err, err, code, field)
	}
	for _, fe := range ie.Fields {
		if fe.Field == field && fe.Code == code {
			if !strings.ContainsFunc(fe.Message, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("%s/%s: message %q is not Chinese", field, code, fe.Message)
			}
			return
		}
	}
	t.Errorf("errors %+v, want %s on %s", ie.Fields, code, field)
}

// wantProblem checks err is a participant-facing problem with that code.
func wantProblem(t *testing.T, err error, code string) {
	t.Helper()
	var p *ideas.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T), want problem %s", err, err, code)
	}
	if p.Code != code || p.Message == "" || p.Status < 400 {
		t.Errorf("problem %+v, want code %s", p, code)
	}
}

func TestCreateRejects(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		before, _, err := st.Debates(f.ctx, store.Page{Number: 1, PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name        string
			change      func(*debate.Input)
			field, code string
		}{
			{"empty slug", func(in *debate.Input) { in.Slug = "" }, "slug", "invalid_slug"},
			{"slug with Chinese", func(in *debate.Input) { in.Slug = "大讨论-1" }, "slug", "invalid_slug"},
			{"slug with a space", func(in *debate.Input) { in.Slug = "da tao lun" }, "slug", "invalid_slug"},
			{"slug ending in a dash", func(in *debate.Input) { in.Slug = "taolun-" }, "slug", "invalid_slug"},
			{"slug of 65 characters", func(in *debate.Input) { in.Slug = strings.Repeat("a", 65) }, "slug", "invalid_slug"},
			// /debates/:slug and /api/v1/debates/:id read a number as an id.
			{"slug of digits only", func(in *debate.Input) { in.Slug = "2025" }, "slug", "invalid_slug"},
			{"no title", func(in *debate.Input) { in.Title = " " }, "title", "invalid_title"},
			{"no question", func(in *debate.Input) { in.Question = "" }, "question", "invalid_question"},
			{"background too long", func(in *debate.Input) { in.Background = strings.Repeat("长", 10001) }, "background", "background_too_long"},
			{"no dates", func(in *debate.Input) { in.OpensAt, in.ClosesAt = nil, nil }, "opens_at", "dates_required"},
			{"no closing date", func(in *debate.Input) { in.ClosesAt = nil }, "opens_at", "dates_required"},
			{"closes before it opens", func(in *debate.Input) { in.OpensAt, in.ClosesAt = in.ClosesAt, in.OpensAt }, "closes_at", "invalid_dates"},
			{"closes as it opens", func(in *debate.Input) { in.ClosesAt = in.OpensAt }, "closes_at", "invalid_dates"},
			{"unknown campaign", func(in *debate.Input) { in.Campaign = "no-such-campaign" }, "campaign", "unknown_campaign"},
			{"unknown policy", func(in *debate.Input) { in.Policy = "later" }, "policy", "invalid_policy"},
			{"department name too long", func(in *debate.Input) { in.Departments = []string{strings.Repeat("部", 101)} }, "departments", "invalid_department"},
			{"control character in title", func(in *debate.Input) { in.Title = "文明\x00出行" }, "title", "control_characters"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := f.input("xin-taolun", store.PolicyPost, "wenming")
				tc.change(&in)
				d, err := debate.Create(f.ctx, st, in, f.admin)
				if d != nil {
					t.Errorf("Create returned a debate: %+v", d)
				}
				wantFieldError(t, err, tc.field, tc.code)
			})
		}
		in := f.input("chuxing", store.PolicyPre, "")
		in.Title = "另一场讨论"
		_, err = debate.Create(f.ctx, st, in, f.admin)
		wantFieldError(t, err, "slug", "slug_taken")

		after, _, err := st.Debates(f.ctx, store.Page{Number: 1, PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("refused input stored debates: %d → %d", len(before), len(after))
		}
		if got, _ := st.DebateBySlug(f.ctx, "chuxing"); got.Title != "文明出行大讨论" {
			t.Errorf("slug_taken changed the first debate: %+v", got)
		}
	})
}

func TestCreateStoresDebate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		d, err := st.DebateBySlug(f.ctx, "chuxing")
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != f.open.ID || d.Title != "文明出行大讨论" || d.Question != "怎样让出行更文明？" || d.Background != "背景<b>介绍</b>" ||
			d.Theme != "交通出行" || d.Policy != store.PolicyPost || d.CampaignID == nil || *d.CampaignID != f.camp.ID {
			t.Errorf("stored debate %+v", d)
		}
		if !d.OpensAt.Equal(f.clock.Add(-24*time.Hour)) || !d.ClosesAt.Equal(f.clock.Add(7*24*time.Hour)) {
			t.Errorf("dates %v – %v", d.OpensAt, d.ClosesAt)
		}
		if d.State(f.clock) != "open" || d.State(d.OpensAt.Add(-time.Second)) != "upcoming" || d.State(d.ClosesAt) != "closed" {
			t.Error("State does not follow opens_at/closes_at")
		}
		deps, err := st.DebateDepartments(f.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, dep := range deps {
			names = append(names, dep.Name)
		}
		if len(names) != 2 || !strings.Contains(strings.Join(names, ","), invitedDept) || !strings.Contains(strings.Join(names, ","), "市公安局交通警察支队") {
			t.Errorf("invited departments %q", names)
		}
		for _, dep := range deps {
			if dep.Name == invitedDept && (f.official.DepartmentID == nil || dep.ID != *f.official.DepartmentID) {
				t.Error("an existing department was created again instead of reused")
			}
		}
		// No campaign and the default policy.
		in := f.input("wu-huodong", "", "")
		d2, err := debate.Create(f.ctx, st, in, f.admin)
		if err != nil {
			t.Fatal(err)
		}
		if d2.CampaignID != nil || d2.Policy != store.PolicyPost {
			t.Errorf("debate without campaign: %+v", d2)
		}
	})
}

func TestPost(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		other := f.debate("lingyichang", store.PolicyPost, "")

		var ids []int64
		for _, stance := range []string{store.StanceFor, store.StanceAgainst, store.StanceProposal} {
			p := f.post(f.resident, f.open, stance, "  我的看法："+stance+"，请<script>大家</script>讨论。  ", nil)
			if p.ID == 0 || p.DebateID != f.open.ID || p.Stance != stance || p.Status != store.IdeaPublished ||
				p.Official || p.DepartmentID != nil || p.AuthorID == nil || *p.AuthorID != f.resident.ID || p.ParentID != nil {
				t.Errorf("%s post %+v", stance, p)
			}
			if p.Body != "我的看法："+stance+"，请<script>大家</script>讨论。" {
				t.Errorf("body %q not trimmed or not kept as text", p.Body)
			}
			ids = append(ids, p.ID)
		}
		// Saying "not official" is always allowed.
		p, err := f.svc.Post(f.ctx, f.resident, f.open.ID, debate.PostInput{Stance: store.StanceFor, Body: "我不是工作人员。", Official: ptr(false)}, "")
		if err != nil || p.Official {
			t.Fatalf("official=false: %+v %v", p, err)
		}
		ids = append(ids, p.ID)

		// An official of an invited department carries the badge, asked for or not.
		for _, asked := range []*bool{nil, ptr(true)} {
			p, err := f.svc.Post(f.ctx, f.official, f.open.ID, debate.PostInput{Stance: store.StanceProposal,
				Body: "我们将在学校周边增设护学岗。", Official: asked}, "")
			if err != nil {
				t.Fatal(err)
			}
			if !p.Official || p.DepartmentID == nil || *p.DepartmentID != *f.official.DepartmentID || p.Status != store.IdeaPublished {
				t.Errorf("invited official's post (asked %v): %+v", asked, p)
			}
			ids = append(ids, p.ID)
		}
		// An official of another department speaks as anyone else.
		p = f.post(f.outsider, f.open, store.StanceFor, "文旅局的同志也来说两句。", nil)
		if p.Official || p.DepartmentID != nil {
			t.Errorf("non-invited official's post has a badge: %+v", p)
		}
		ids = append(ids, p.ID)

		// One level of replies.
		reply := f.post(f.neighbor, f.open, store.StanceFor, "同意楼上的意见。", &ids[0])
		if reply.ParentID == nil || *reply.ParentID != ids[0] {
			t.Errorf("reply %+v", reply)
		}
		ids = append(ids, reply.ID)
		otherPost := f.post(f.resident, other, store.StanceFor, "另一场讨论的发言。", nil)
		ids = append(ids, otherPost.ID)

		// Every post queues an index update.
		queued := map[int64]int{}
		for _, e := range f.outbox() {
			if e.Entity == "debate_post" {
				queued[e.EntityID]++
				if e.Op != "upsert" {
					t.Errorf("outbox op %q", e.Op)
				}
			}
		}
		for _, id := range ids {
			if queued[id] != 1 {
				t.Errorf("post %d has %d outbox rows, want 1", id, queued[id])
			}
		}
		if len(queued) != len(ids) {
			t.Errorf("outbox rows for %d posts, want %d", len(queued), len(ids))
		}

		pending := f.post(f.resident, f.debate("xianshen", store.PolicyPre, ""), store.StanceFor, "先审后发的讨论。", nil)
		if pending.Status != store.IdeaPending {
			t.Errorf("pre-moderated post is %s", pending.Status)
		}
		pendingDebate, _ := st.DebateByID(f.ctx, pending.DebateID)

		blocked := *f.neighbor
		blocked.BlockedAt = ptr(f.clock)
		upcoming := f.debate("weikaishi", store.PolicyPost, "")
		closed := f.debate("yijieshu", store.PolicyPost, "")
		body := "一条正常的发言内容。"
		refusals := []struct {
			name  string
			user  *store.User
			d     *store.Debate
			in    debate.PostInput
			clock time.Time // zero: f.clock
			field string    // for invalid input
			code  string
		}{
			{"unknown stance", f.resident, f.open, debate.PostInput{Stance: "neutral", Body: body}, time.Time{}, "stance", "invalid_stance"},
			{"no stance", f.resident, f.open, debate.PostInput{Body: body}, time.Time{}, "stance", "invalid_stance"},
			{"empty body", f.resident, f.open, debate.PostInput{Stance: "for", Body: " \n "}, time.Time{}, "body", "body_too_short"},
			{"4-character body", f.resident, f.open, debate.PostInput{Stance: "for", Body: "四个字儿"}, time.Time{}, "body", "body_too_short"},
			{"3001-character body", f.resident, f.open, debate.PostInput{Stance: "for", Body: strings.Repeat("长", debate.PostMax+1)}, time.Time{}, "body", "body_too_long"},
			{"invalid UTF-8", f.resident, f.open, debate.PostInput{Stance: "for", Body: "文明\xff出行的建议"}, time.Time{}, "body", "invalid_utf8"},
			{"control character", f.resident, f.open, debate.PostInput{Stance: "for", Body: "文明\u0007出行的建议"}, time.Time{}, "body", "control_characters"},
			{"upcoming debate", f.resident, upcoming, debate.PostInput{Stance: "for", Body: body}, upcoming.OpensAt.Add(-time.Second), "", "debate_not_open"},
			{"closed debate", f.resident, closed, debate.PostInput{Stance: "for", Body: body}, closed.ClosesAt, "", "debate_not_open"},
			{"resident claims to be official", f.resident, f.open, debate.PostInput{Stance: "for", Body: body, Official: ptr(true)}, time.Time{}, "", "not_official"},
			{"non-invited official claims the badge", f.outsider, f.open, debate.PostInput{Stance: "for", Body: body, Official: ptr(true)}, time.Time{}, "", "not_official"},
			{"moderator claims the badge", f.mod, f.open, debate.PostInput{Stance: "for", Body: body, Official: ptr(true)}, time.Time{}, "", "not_official"},
			{"reply to a reply", f.resident, f.open, debate.PostInput{Stance: "for", Body: body, Parent: &reply.ID}, time.Time{}, "", "invalid_parent"},
			{"reply to a post of another debate", f.resident, f.open, debate.PostInput{Stance: "for", Body: body, Parent: &otherPost.ID}, time.Time{}, "", "invalid_parent"},
			{"reply to a missing post", f.resident, f.open, debate.PostInput{Stance: "for", Body: body, Parent: ptr(int64(999999))}, time.Time{}, "", "invalid_parent"},
			{"reply to a pending post", f.resident, pendingDebate, debate.PostInput{Stance: "for", Body: body, Parent: &pending.ID}, time.Time{}, "", "invalid_parent"},
			{"visitor", nil, f.open, debate.PostInput{Stance: "for", Body: body}, time.Time{}, "", "unauthorized"},
			{"blocked resident", &blocked, f.open, debate.PostInput{Stance: "for", Body: body}, time.Time{}, "", "blocked"},
			{"unknown debate", f.resident, &store.Debate{ID: 999999}, debate.PostInput{Stance: "for", Body: body}, time.Time{}, "", "not_found"},
		}
		all := []*store.Debate{f.open, other, pendingDebate, upcoming, closed}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				f.t = t
				defer func(c time.Time) { f.clock = c }(f.clock)
				if !tc.clock.IsZero() {
					f.clock = tc.clock
				}
				posts, outbox := f.stored(all...)
				p, err := f.svc.Post(f.ctx, tc.user, tc.d.ID, tc.in, "127.0.0.1")
				if p != nil {
					t.Errorf("refused post returned %+v", p)
				}
				if tc.field != "" {
					wantFieldError(t, err, tc.field, tc.code)
				} else {
					wantProblem(t, err, tc.code)
				}
				if posts2, outbox2 := f.stored(all...); posts2 != posts || outbox2 != outbox {
					t.Errorf("refused post stored something: posts %d → %d, outbox %d → %d", posts, posts2, outbox, outbox2)
				}
			})
		}
		f.t = t
		// The sentinel problems are the ones returned, for errors.Is.
		_, err = f.svc.Post(f.ctx, f.resident, f.open.ID, debate.PostInput{Stance: "for", Body: body, Parent: &reply.ID}, "")
		if !errors.Is(err, debate.ErrBadParent) {
			t.Errorf("reply to a reply: %v, want ErrBadParent", err)
		}
		_, err = f.svc.Post(f.ctx, f.resident, f.open.ID, debate.PostInput{Stance: "for", Body: body, Official: ptr(true)}, "")
		if !errors.Is(err, debate.ErrNotOfficial) {
			t.Errorf("resident as official: %v, want ErrNotOfficial", err)
		}
		f.clock = closed.ClosesAt.Add(time.Hour)
		if _, err = f.svc.Post(f.ctx, f.resident, closed.ID, debate.PostInput{Stance: "for", Body: body}, ""); !errors.Is(err, debate.ErrNotOpen) {
			t.Errorf("closed debate: %v, want ErrNotOpen", err)
		}
		f.clock = upcoming.OpensAt.Add(-time.Hour)
		if _, err = f.svc.Post(f.ctx, f.resident, upcoming.ID, debate.PostInput{Stance: "for", Body: body}, ""); !errors.Is(err, debate.ErrNotOpen) {
			t.Errorf("upcoming debate: %v, want ErrNotOpen", err)
		}
		// The bounds themselves are fine.
		f.clock = upcoming.OpensAt
		f.post(f.resident, upcoming, store.StanceFor, strings.Repeat("字", debate.PostMin), nil)
		f.post(f.resident, upcoming, store.StanceFor, strings.Repeat("字", debate.PostMax), nil)
	})
}

func TestSupport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		p := f.post(f.official, f.open, store.StanceProposal, "我们将在学校周边增设护学岗。", nil)
		count := func() int {
			t.Helper()
			got, err := st.DebatePostByID(f.ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.SupportsCount
		}
		steps := []struct {
			user   *store.User
			remove bool
			want   int
		}{
			{f.resident, false, 1},
			{f.resident, false, 1}, // idempotent
			{f.neighbor, false, 2},
			{f.resident, true, 1},
			{f.resident, true, 1}, // withdrawing twice
			{f.resident, false, 2},
		}
		for i, s := range steps {
			n, err := f.svc.Support(f.ctx, s.user, p.ID, s.remove)
			if err != nil || n != s.want || count() != s.want {
				t.Errorf("step %d: %d %v (stored %d), want %d", i, n, err, count(), s.want)
			}
		}
		blocked := *f.neighbor
		blocked.BlockedAt = ptr(f.clock)
		pending := f.post(f.resident, f.debate("xianshen", store.PolicyPre, ""), store.StanceFor, "先审后发的发言。", nil)
		refusals := []struct {
			name string
			user *store.User
			post int64
			code string
		}{
			{"visitor", nil, p.ID, "unauthorized"},
			{"official", f.official, p.ID, "residents_only"},
			{"moderator", f.mod, p.ID, "residents_only"},
			{"blocked resident", &blocked, p.ID, "blocked"},
			{"missing post", f.resident, 999999, "not_found"},
			{"pending post", f.neighbor, pending.ID, "not_found"},
		}
		for _, tc := range refusals {
			for _, remove := range []bool{false, true} {
				_, err := f.svc.Support(f.ctx, tc.user, tc.post, remove)
				wantProblem(t, err, tc.code)
			}
		}
		if count() != 2 {
			t.Errorf("refused supports changed the count to %d", count())
		}
		if got, _ := st.DebatePostByID(f.ctx, pending.ID); got.SupportsCount != 0 {
			t.Errorf("pending post has %d supports", got.SupportsCount)
		}
	})
}

// idea stores an idea of the fixture's campaign with the given status.
func (f *fixture) idea(title string, status store.IdeaStatus) *store.Idea {
	f.t.Helper()
	i := &store.Idea{CampaignID: f.camp.ID, TrackingCode: ideas.NewTrackingCode(), Title: title, TitleMasked: title,
		Body: title + "，具体内容如下。", BodyMasked: title + "，具体内容如下。", Status: status}
	if err := f.st.CreateIdea(f.ctx, i, nil, "提交"); err != nil {
		f.t.Fatalf("create idea: %v", err)
	}
	return i
}

func TestConclude(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a, b := f.idea("学校门口增设护学岗", store.IdeaPublished), f.idea("路口增设礼让提示", store.IdeaAdopted)
		hidden := f.idea("还在审核中的建议", store.IdeaPending)
		by := store.ActorFor(f.mod, "127.0.0.1")
		text := "经过一个月的讨论，各方一致同意在学校周边增设护学岗。"

		// While open, nothing may be concluded.
		if err := f.svc.Conclude(f.ctx, f.open.ID, text, []int64{a.ID}, by); !errors.Is(err, debate.ErrNotClosed) {
			t.Errorf("open debate: %v, want ErrNotClosed", err)
		}
		f.clock = f.open.OpensAt.Add(-time.Hour)
		if err := f.svc.Conclude(f.ctx, f.open.ID, text, nil, by); !errors.Is(err, debate.ErrNotClosed) {
			t.Errorf("upcoming debate: %v, want ErrNotClosed", err)
		}
		f.clock = f.open.ClosesAt
		cases := []struct {
			name, text  string
			ideas       []int64
			field, code string
		}{
			{"empty", "", nil, "conclusion", "invalid_conclusion"},
			{"9 characters", strings.Repeat("结", 9), nil, "conclusion", "invalid_conclusion"},
			{"10001 characters", strings.Repeat("结", 10001), nil, "conclusion", "invalid_conclusion"},
			{"control character", "结论\x00" + text, nil, "conclusion", "control_characters"},
			{"unknown idea", text, []int64{a.ID, 999999}, "ideas", "unknown_idea"},
			{"unpublished idea", text, []int64{hidden.ID}, "ideas", "unknown_idea"},
		}
		for _, tc := range cases {
			wantFieldError(t, f.svc.Conclude(f.ctx, f.open.ID, tc.text, tc.ideas, by), tc.field, tc.code)
		}
		if err := f.svc.Conclude(f.ctx, 999999, text, nil, by); !errors.Is(err, debate.ErrNotFound) {
			t.Errorf("unknown debate: %v", err)
		}
		d, _ := st.DebateByID(f.ctx, f.open.ID)
		if d.Conclusion != "" || d.ConcludedAt != nil {
			t.Errorf("refused conclusions were stored: %+v", d)
		}
		if os, _ := st.DebateOutcomes(f.ctx, f.open.ID); len(os) != 0 {
			t.Errorf("refused conclusions linked %d ideas", len(os))
		}

		// The same idea named twice (a moderator typing "3, 3") is linked once.
		if err := f.svc.Conclude(f.ctx, f.open.ID, "  "+text+"  ", []int64{b.ID, a.ID, b.ID}, by); err != nil {
			t.Fatalf("conclude: %v", err)
		}
		d, _ = st.DebateByID(f.ctx, f.open.ID)
		if d.Conclusion != text || d.ConcludedAt == nil || d.ConcludedBy == nil || *d.ConcludedBy != f.mod.ID {
			t.Errorf("concluded debate %+v", d)
		}
		outcomes, err := st.DebateOutcomes(f.ctx, f.open.ID)
		if err != nil || len(outcomes) != 2 || outcomes[0].ID != a.ID || outcomes[1].ID != b.ID {
			t.Errorf("outcomes %+v %v, want ideas %d and %d", outcomes, err, a.ID, b.ID)
		}
		// A new conclusion replaces the links.
		if err := f.svc.Conclude(f.ctx, f.open.ID, text+"（更新）", []int64{b.ID}, by); err != nil {
			t.Fatal(err)
		}
		if outcomes, _ = st.DebateOutcomes(f.ctx, f.open.ID); len(outcomes) != 1 || outcomes[0].ID != b.ID {
			t.Errorf("outcomes after update %+v", outcomes)
		}
	})
}

func TestPromote(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		by := store.ActorFor(f.mod, "127.0.0.1")
		proposal := f.post(f.resident, f.open, store.StanceProposal, "建议在中小学周边道路设置护学岗，高峰时段维护秩序。", nil)
		for _, u := range []*store.User{f.resident, f.neighbor} {
			if _, err := f.svc.Support(f.ctx, u, proposal.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		forPost := f.post(f.resident, f.open, store.StanceFor, "支持开展这次讨论。", nil)
		againstPost := f.post(f.neighbor, f.open, store.StanceAgainst, "我觉得没有必要。", nil)
		noCampaign := f.debate("wu-huodong", store.PolicyPost, "")
		orphan := f.post(f.resident, noCampaign, store.StanceProposal, "没有关联活动的建议。", nil)
		pre := f.debate("xianshen", store.PolicyPre, "wenming")
		pending := f.post(f.resident, pre, store.StanceProposal, "还在审核中的建议。", nil)
		title := "学校周边设置护学岗"

		countIdeas := func() int64 {
			_, n, err := st.Ideas(f.ctx, store.IdeaFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := countIdeas()
		refusals := []struct {
			name  string
			post  int64
			title string
			check func(error)
		}{
			{"for", forPost.ID, title, func(err error) { wantProblem(t, err, "not_promotable") }},
			{"against", againstPost.ID, title, func(err error) { wantProblem(t, err, "not_promotable") }},
			{"pending proposal", pending.ID, title, func(err error) { wantProblem(t, err, "not_promotable") }},
			{"no campaign", orphan.ID, title, func(err error) { wantProblem(t, err, "no_campaign") }},
			{"missing post", 999999, title, func(err error) { wantProblem(t, err, "not_found") }},
			{"empty title", proposal.ID, " ", func(err error) { wantFieldError(t, err, "title", "invalid_title") }},
			{"short title", proposal.ID, "护学岗", func(err error) { wantFieldError(t, err, "title", "invalid_title") }},
		}
		for _, tc := range refusals {
			idea, err := f.svc.Promote(f.ctx, tc.post, tc.title, by)
			if idea != nil {
				t.Errorf("%s: promoted to %+v", tc.name, idea)
			}
			tc.check(err)
		}
		if _, err := f.svc.Promote(f.ctx, forPost.ID, title, by); !errors.Is(err, debate.ErrNotPromotable) {
			t.Errorf("for post: %v, want ErrNotPromotable", err)
		}
		if _, err := f.svc.Promote(f.ctx, orphan.ID, title, by); !errors.Is(err, debate.ErrNoCampaign) {
			t.Errorf("no campaign: %v, want ErrNoCampaign", err)
		}
		if n := countIdeas(); n != before {
			t.Fatalf("refused promotions stored %d ideas", n-before)
		}

		head, _ := st.OutboxHead(f.ctx)
		idea, err := f.svc.Promote(f.ctx, proposal.ID, title, by)
		if err != nil {
			t.Fatalf("promote: %v", err)
		}
		got, err := st.PublicIdea(f.ctx, idea.ID)
		if err != nil {
			t.Fatalf("the promoted idea is not public: %v", err)
		}
		if got.CampaignID != f.camp.ID || got.Title != title || got.Body != proposal.Body || got.Status != store.IdeaPublished ||
			got.AuthorID == nil || *got.AuthorID != f.resident.ID || got.DisplayName != f.resident.DisplayName ||
			got.ImportedSupports != 2 || got.TotalSupports() != 2 || got.Source != "debate" || got.PublishedAt == nil {
			t.Errorf("promoted idea %+v", got)
		}
		p, _ := st.DebatePostByID(f.ctx, proposal.ID)
		if p.PromotedIdeaID == nil || *p.PromotedIdeaID != idea.ID {
			t.Errorf("post does not link the idea: %+v", p)
		}
		es, _ := st.OutboxAfter(f.ctx, head, 100)
		if len(es) != 1 || es[0].Entity != "idea" || es[0].EntityID != idea.ID {
			t.Errorf("outbox after promotion %+v, want one idea row", es)
		}
		if evs, _ := st.IdeaEvents(f.ctx, idea.ID, true); len(evs) != 1 || evs[0].ToStatus != store.IdeaPublished {
			t.Errorf("public events of the promoted idea %+v", evs)
		}
		// Twice is refused and stores nothing.
		n := countIdeas()
		if again, err := f.svc.Promote(f.ctx, proposal.ID, title+"二", by); !errors.Is(err, debate.ErrNotPromotable) || again != nil {
			t.Errorf("promoting twice: %v %v", again, err)
		}
		if countIdeas() != n {
			t.Error("promoting twice stored an idea")
		}
	})
}

func TestStanceCountsAndActivity(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		day1 := f.clock // 12:00 in China
		f.post(f.resident, f.open, store.StanceFor, "第一天的支持意见。", nil)
		first := f.post(f.neighbor, f.open, store.StanceFor, "第一天的另一条支持。", nil)
		f.post(f.official, f.open, store.StanceProposal, "部门的第一条建议。", nil)
		// 23:30 UTC is already the next day in China.
		f.clock = time.Date(day1.Year(), day1.Month(), day1.Day(), 23, 30, 0, 0, time.UTC)
		f.post(f.resident, f.open, store.StanceAgainst, "第二天的反对意见。", nil)
		f.post(f.resident, f.open, store.StanceProposal, "第二天的一条建议。", nil)
		f.post(f.official, f.open, store.StanceFor, "回复不计入立场统计。", &first.ID)
		// Pending posts of another debate count nowhere here.
		f.post(f.resident, f.debate("xianshen", store.PolicyPre, ""), store.StanceAgainst, "别处的发言。", nil)

		counts, err := st.StanceCounts(f.ctx, f.open.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"for": 2, "against": 1, "proposal": 2}
		if len(counts) != len(want) {
			t.Errorf("stance counts %v, want %v", counts, want)
		}
		for k, v := range want {
			if counts[k] != v {
				t.Errorf("stance counts %v, want %v", counts, want)
				break
			}
		}
		act, err := st.DebateActivity(f.ctx, f.open.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantAct := map[string]int{"2025-07-10": 3, "2025-07-11": 3}
		if len(act) != 2 || act["2025-07-10"] != 3 || act["2025-07-11"] != 3 {
			t.Errorf("activity %v, want %v (days by the service clock, in China time)", act, wantAct)
		}
		// Pending posts of a pre-moderated debate are neither counted nor shown.
		pre, _ := st.DebateBySlug(f.ctx, "xianshen")
		if c, _ := st.StanceCounts(f.ctx, pre.ID); len(c) != 0 {
			t.Errorf("pending posts counted: %v", c)
		}
		if a, _ := st.DebateActivity(f.ctx, pre.ID); len(a) != 0 {
			t.Errorf("pending posts in the timeline: %v", a)
		}
		// Newest first, and by supports on request.
		ps, _ := st.DebatePosts(f.ctx, f.open.ID, store.PostsNewest)
		if len(ps) != 6 {
			t.Fatalf("%d public posts, want 6", len(ps))
		}
		if _, err := f.svc.Support(f.ctx, f.resident, first.ID, false); err != nil {
			t.Fatal(err)
		}
		ps, _ = st.DebatePosts(f.ctx, f.open.ID, store.PostsSupported)
		var order []string
		for _, p := range ps {
			if !p.Official {
				order = append(order, p.Body)
			}
		}
		if order[0] != first.Body {
			t.Errorf("most supported first: %q", order)
		}
	})
}
