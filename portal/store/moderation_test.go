package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// modEnv is one moderation test's world: a real store, campaigns made the
// normal way, a moderator, and the residents' submission service.
type modEnv struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	svc *ideas.Service
	mod *store.User
	by  store.Actor
	seq int
}

func newModEnv(t *testing.T, st *store.Store) *modEnv {
	t.Helper()
	files, err := attachment.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &modEnv{t: t, ctx: context.Background(), st: st}
	e.svc = &ideas.Service{Store: st, Moderation: moderation.PolicyOnly{}, Themes: ideas.KeywordSuggester{}, Attachments: files}
	e.mod = e.user("moderator", store.RoleModerator)
	e.by = store.ActorFor(e.mod, "127.0.0.1")
	return e
}

// campaign creates a pre-moderated campaign with two themes through
// campaign.Create, with no daily limit and the given report threshold.
func (e *modEnv) campaign(slug string, threshold int) (*store.Campaign, []store.Theme) {
	e.t.Helper()
	unlimited := 0
	in := campaign.Input{
		Slug: slug, Title: "城市建设金点子征集", Policy: store.PolicyPre,
		DailyLimit: &unlimited, ReportThreshold: &threshold,
		Themes: []campaign.ThemeInput{
			{Name: "交通出行", Keywords: []string{"公交", "地铁"}},
			{Name: "环境保护", Keywords: []string{"垃圾", "绿化"}},
		},
	}
	c, err := campaign.Create(e.ctx, e.st, in, store.Actor{Name: "t"})
	if err != nil {
		e.t.Fatalf("create campaign %s: %v", slug, err)
	}
	themes, err := e.st.Themes(e.ctx, c.ID)
	if err != nil || len(themes) != 2 {
		e.t.Fatalf("themes of %s: %v, %v", slug, themes, err)
	}
	return c, themes
}

func (e *modEnv) user(name string, role store.Role) *store.User {
	e.t.Helper()
	u, err := e.st.CreateUser(e.ctx, store.NewUser{Name: name, DisplayName: name + "的昵称", Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// idea stores an idea with store.CreateIdea; edit adjusts it first.
func (e *modEnv) idea(c *store.Campaign, status store.IdeaStatus, edit func(*store.Idea)) *store.Idea {
	e.t.Helper()
	e.seq++
	i := &store.Idea{
		CampaignID: c.ID, TrackingCode: ideas.NewTrackingCode(),
		Title:  fmt.Sprintf("建议 %d：增加早高峰公交班次", e.seq),
		Body:   "早上七点到九点公交车非常拥挤，建议在主要线路上增加班次，缩短发车间隔。",
		Status: status, Source: "web",
	}
	i.TitleMasked, i.BodyMasked = i.Title, i.Body
	if status == store.IdeaPending {
		i.ReasonCodes = "policy_pre"
	}
	if edit != nil {
		edit(i)
	}
	if err := e.st.CreateIdea(e.ctx, i, nil, "已收到您的建议"); err != nil {
		e.t.Fatalf("create idea: %v", err)
	}
	return i
}

// submit files an idea through ideas.Service.Submit as u (nil: a visitor);
// the campaign is pre-moderated, so the idea is pending.
func (e *modEnv) submit(c *store.Campaign, u *store.User, theme string) *store.Idea {
	e.t.Helper()
	e.seq++
	sub := ideas.Submission{
		Campaign: c.Slug, Theme: theme,
		Title:        fmt.Sprintf("建议 %d：增加早高峰公交班次", e.seq),
		Body:         "早上七点到九点公交车非常拥挤，很多人挤不上车，建议在主要线路上增加班次，缩短发车间隔。",
		ProvinceCode: "330000", CityCode: "330100",
		DisplayName: "张先生", Phone: "13800138000", Consent: true,
	}
	r, err := e.svc.Submit(e.ctx, sub, nil, ideas.Meta{User: u, IP: "127.0.0.1"})
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	i := e.get(r.ID)
	if i.Status != store.IdeaPending {
		e.t.Fatalf("submitted idea is %s, want pending", i.Status)
	}
	return i
}

// published submits an idea as u and has the moderator approve it.
func (e *modEnv) published(c *store.Campaign, u *store.User) *store.Idea {
	e.t.Helper()
	i := e.submit(c, u, "交通出行")
	return e.decide(i.ID, store.Decision{Action: store.ActApprove})
}

// decide applies d as the moderator and fails the test if that does not work.
func (e *modEnv) decide(id int64, d store.Decision) *store.Idea {
	e.t.Helper()
	d.By, d.Role = e.by, store.RoleModerator
	i, err := e.st.Decide(e.ctx, id, d)
	if err != nil {
		e.t.Fatalf("%s idea %d: %v", d.Action, id, err)
	}
	return i
}

// decideErr applies d and returns the error, which must leave no trace:
// no audit entry, no status event and no outbox row.
func (e *modEnv) decideErr(id int64, d store.Decision) error {
	e.t.Helper()
	d.By, d.Role = e.by, store.RoleModerator
	audit, events, head := e.auditCount(), e.eventCount(id), e.outboxHead()
	_, err := e.st.Decide(e.ctx, id, d)
	if err == nil {
		e.t.Fatalf("%s idea %d succeeded, want an error", d.Action, id)
	}
	if n := e.auditCount(); n != audit {
		e.t.Errorf("failed %s wrote audit entries: %d → %d", d.Action, audit, n)
	}
	if n := e.eventCount(id); n != events {
		e.t.Errorf("failed %s wrote status events: %d → %d", d.Action, events, n)
	}
	if h := e.outboxHead(); h != head {
		e.t.Errorf("failed %s wrote outbox rows: head %d → %d", d.Action, head, h)
	}
	return err
}

func (e *modEnv) get(id int64) *store.Idea {
	e.t.Helper()
	i, err := e.st.IdeaByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return i
}

func (e *modEnv) support(ideaID int64, us ...*store.User) {
	e.t.Helper()
	for _, u := range us {
		if _, err := e.st.AddSupport(e.ctx, ideaID, u.ID); err != nil {
			e.t.Fatalf("user %d supports idea %d: %v", u.ID, ideaID, err)
		}
	}
}

// supporters lists which of us support the idea, by name.
func (e *modEnv) supporters(ideaID int64, us ...*store.User) []string {
	e.t.Helper()
	var out []string
	for _, u := range us {
		ok, err := e.st.HasSupported(e.ctx, ideaID, u.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if ok {
			out = append(out, u.Name)
		}
	}
	return out
}

func (e *modEnv) events(id int64) []store.IdeaStatusEvent {
	e.t.Helper()
	es, err := e.st.IdeaEvents(e.ctx, id, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func (e *modEnv) lastEvent(id int64) store.IdeaStatusEvent {
	e.t.Helper()
	es := e.events(id)
	if len(es) == 0 {
		e.t.Fatalf("idea %d has no public events", id)
	}
	return es[len(es)-1]
}

func (e *modEnv) eventCount(id int64) int {
	e.t.Helper()
	es, err := e.st.IdeaEvents(e.ctx, id, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(es)
}

func (e *modEnv) audit(f store.AuditFilter) ([]store.AuditEntry, int64) {
	e.t.Helper()
	es, n, err := e.st.AuditLog(e.ctx, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return es, n
}

func (e *modEnv) auditCount() int64 {
	e.t.Helper()
	_, n := e.audit(store.AuditFilter{})
	return n
}

func (e *modEnv) outboxHead() int64 {
	e.t.Helper()
	h, err := e.st.OutboxHead(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *modEnv) queue(f store.QueueFilter) ([]int64, int64) {
	e.t.Helper()
	is, n, err := e.st.Queue(e.ctx, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return ideaIDs(is), n
}

func ideaIDs(is []store.Idea) []int64 {
	out := []int64{}
	for _, i := range is {
		out = append(out, i.ID)
	}
	return out
}

func ptrEq(p *int64, want int64) bool { return p != nil && *p == want }

func idText(p *int64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// auditStatus reads the status from an audit entry's before or after JSON.
func auditStatus(t *testing.T, js string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("audit JSON %q: %v", js, err)
	}
	s, _ := m["status"].(string)
	return s
}

// cst is China Standard Time: moderators' dates come in it.
var cst = time.FixedZone("CST", 8*3600)

func TestQueue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		a, themes := e.campaign("queue-a", 3)
		b, _ := e.campaign("queue-b", 3)
		base := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
		at := func(d time.Duration, risk float64, codes string, theme *int64) func(*store.Idea) {
			return func(i *store.Idea) {
				i.CreatedAt, i.RiskScore, i.ReasonCodes, i.ThemeID = base.Add(d), risk, codes, theme
			}
		}
		t1, t2 := &themes[0].ID, &themes[1].ID
		low1 := e.idea(a, store.IdeaPending, at(-3*time.Hour, 0.2, "policy_pre", nil))
		risky := e.idea(a, store.IdeaPending, at(-1*time.Hour, 0.9, "policy_pre spam_links", t1))
		low2 := e.idea(a, store.IdeaPending, at(-2*time.Hour, 0.2, "spam", t2))
		mid := e.idea(a, store.IdeaPending, at(-30*time.Minute, 0.5, "policy_pre", nil))
		other := e.idea(b, store.IdeaPending, at(-5*time.Hour, 0.3, "policy_pre", nil))
		e.idea(a, store.IdeaPublished, at(-4*time.Hour, 0.95, "", nil))
		e.idea(a, store.IdeaRejected, at(-4*time.Hour, 0.95, "spam", nil))
		reported := e.idea(a, store.IdeaPublished, at(-6*time.Hour, 0, "", nil))
		if hidden, err := s.ReportTarget(e.ctx, "idea", reported.ID, store.Report{ReporterKey: "r1", Reason: "广告"}, 1); err != nil || !hidden {
			t.Fatalf("report: hidden=%v, %v", hidden, err)
		}

		tests := []struct {
			name  string
			f     store.QueueFilter
			want  []int64
			total int64
		}{
			{"all, riskiest then oldest", store.QueueFilter{},
				[]int64{risky.ID, mid.ID, other.ID, low1.ID, low2.ID, reported.ID}, 6},
			{"campaign", store.QueueFilter{CampaignID: a.ID},
				[]int64{risky.ID, mid.ID, low1.ID, low2.ID, reported.ID}, 5},
			{"other campaign", store.QueueFilter{CampaignID: b.ID}, []int64{other.ID}, 1},
			{"theme", store.QueueFilter{ThemeID: themes[0].ID}, []int64{risky.ID}, 1},
			{"whole code spam", store.QueueFilter{Reason: "spam"}, []int64{low2.ID}, 1},
			{"second code", store.QueueFilter{Reason: "spam_links"}, []int64{risky.ID}, 1},
			{"first code", store.QueueFilter{CampaignID: a.ID, Reason: "policy_pre"}, []int64{risky.ID, mid.ID, low1.ID}, 3},
			{"part of a code", store.QueueFilter{Reason: "links"}, []int64{}, 0},
			{"prefix of a code", store.QueueFilter{Reason: "policy"}, []int64{}, 0},
			{"wildcard is not a code", store.QueueFilter{Reason: "%"}, []int64{}, 0},
			{"underscore is literal", store.QueueFilter{Reason: "spam_link_"}, []int64{}, 0},
			{"reason and campaign", store.QueueFilter{CampaignID: b.ID, Reason: "spam"}, []int64{}, 0},
			{"before", store.QueueFilter{CampaignID: a.ID, Before: base.Add(-90 * time.Minute)},
				[]int64{low1.ID, low2.ID, reported.ID}, 3},
			{"before, given in China time", store.QueueFilter{CampaignID: a.ID, Before: base.Add(-90 * time.Minute).In(cst)},
				[]int64{low1.ID, low2.ID, reported.ID}, 3},
			{"before with reason", store.QueueFilter{Reason: "policy_pre", Before: base.Add(-90 * time.Minute)},
				[]int64{other.ID, low1.ID}, 2},
			{"page 2 of 2", store.QueueFilter{Page: store.Page{Number: 2, PerPage: 2}}, []int64{other.ID, low1.ID}, 6},
			{"last page", store.QueueFilter{Page: store.Page{Number: 3, PerPage: 4}}, []int64{}, 6},
		}
		for _, tt := range tests {
			got, total := e.queue(tt.f)
			if !slices.Equal(got, tt.want) || total != tt.total {
				t.Errorf("%s: got %v (total %d), want %v (total %d)", tt.name, got, total, tt.want, tt.total)
			}
		}

		// Approving the pending ones and the reported one empties campaign A's queue.
		for _, id := range []int64{risky.ID, mid.ID, low1.ID, low2.ID, reported.ID} {
			e.decide(id, store.Decision{Action: store.ActApprove})
		}
		if got, total := e.queue(store.QueueFilter{CampaignID: a.ID}); len(got) != 0 || total != 0 {
			t.Errorf("queue after approving all: %v (total %d)", got, total)
		}
	})
}

func TestDecideApprove(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, themes := e.campaign("approve", 3)
		idea := e.submit(c, nil, "交通出行")
		noTheme := e.idea(c, store.IdeaPending, nil)
		if idea.ThemeConfirmed || idea.PublishedAt != nil {
			t.Fatalf("fresh idea: confirmed=%v published=%v", idea.ThemeConfirmed, idea.PublishedAt)
		}
		head := e.outboxHead()
		events := len(e.events(idea.ID))

		got := e.decide(idea.ID, store.Decision{Action: store.ActApprove})
		stored := e.get(idea.ID)
		for _, i := range []*store.Idea{got, stored} {
			if i.Status != store.IdeaPublished || i.PublishedAt == nil || !i.ThemeConfirmed || !ptrEq(i.ThemeID, themes[0].ID) {
				t.Errorf("approved: status %s, published %v, theme %v confirmed %v", i.Status, i.PublishedAt, i.ThemeID, i.ThemeConfirmed)
			}
		}
		if _, err := s.PublicIdea(e.ctx, idea.ID); err != nil {
			t.Errorf("approved idea is not public: %v", err)
		}
		es := e.events(idea.ID)
		if len(es) != events+1 {
			t.Fatalf("events: %d, want %d", len(es), events+1)
		}
		if ev := es[len(es)-1]; ev.FromStatus != store.IdeaPending || ev.ToStatus != store.IdeaPublished ||
			!ev.Public || ev.Note == "" || !ptrEq(ev.ActorID, e.mod.ID) || ev.ActorRole != string(store.RoleModerator) {
			t.Errorf("approve event = %+v", ev)
		}
		ae, n := e.audit(store.AuditFilter{Action: "idea.approve", TargetType: "idea", TargetID: idea.ID})
		if n != 1 {
			t.Fatalf("audit entries for the approval: %d", n)
		}
		if a := ae[0]; !ptrEq(a.ActorID, e.mod.ID) || a.ActorName != e.mod.Name || a.IP != "127.0.0.1" ||
			auditStatus(t, a.BeforeJSON) != "pending" || auditStatus(t, a.AfterJSON) != "published" {
			t.Errorf("audit entry = %+v", a)
		}
		if h := e.outboxHead(); h <= head {
			t.Errorf("outbox head %d → %d, want it to grow", head, h)
		}
		ob, err := s.OutboxAfter(e.ctx, head, 10)
		if err != nil || !slices.ContainsFunc(ob, func(o store.OutboxEvent) bool { return o.Entity == "idea" && o.EntityID == idea.ID }) {
			t.Errorf("outbox after approval: %+v, %v", ob, err)
		}

		// Without a theme there is nothing to confirm.
		if i := e.decide(noTheme.ID, store.Decision{Action: store.ActApprove}); i.ThemeConfirmed || i.ThemeID != nil {
			t.Errorf("approved idea without theme: theme %v confirmed %v", i.ThemeID, i.ThemeConfirmed)
		}

		// A second approval of a visible idea is a conflict and writes nothing.
		if err := e.decideErr(idea.ID, store.Decision{Action: store.ActApprove}); !errors.Is(err, store.ErrStatusConflict) {
			t.Errorf("approve published idea: %v, want ErrStatusConflict", err)
		}
		if err := e.decideErr(idea.ID, store.Decision{Action: "publish"}); !errors.Is(err, store.ErrBadAction) {
			t.Errorf("unknown action: %v, want ErrBadAction", err)
		}
		if _, err := s.Decide(e.ctx, 999999, store.Decision{Action: store.ActApprove, By: e.by}); !errors.Is(err, store.ErrUnknownIdeas) {
			t.Errorf("approve missing idea: %v, want ErrUnknownIdeas", err)
		}
		if p := e.get(idea.ID).PublishedAt; p == nil || !p.Equal(*stored.PublishedAt) {
			t.Errorf("published_at changed by a refused approval: %v → %v", stored.PublishedAt, p)
		}
	})
}

func TestDecideRejectAndRequestChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("reject", 3)
		for _, tt := range []struct {
			action string
			status store.IdeaStatus
			reason string
		}{
			{store.ActReject, store.IdeaRejected, "内容与本次征集主题无关"},
			{store.ActRequestChanges, store.IdeaChanges, "请补充具体的路段和时间"},
		} {
			idea := e.submit(c, nil, "交通出行")
			for _, blank := range []string{"", "  \n\t"} {
				if err := e.decideErr(idea.ID, store.Decision{Action: tt.action, Reason: blank}); !errors.Is(err, store.ErrNeedsReason) {
					t.Errorf("%s with reason %q: %v, want ErrNeedsReason", tt.action, blank, err)
				}
			}
			if i := e.get(idea.ID); i.Status != store.IdeaPending {
				t.Fatalf("%s without reason changed the status to %s", tt.action, i.Status)
			}
			got := e.decide(idea.ID, store.Decision{Action: tt.action, Reason: tt.reason})
			if stored := e.get(idea.ID); got.Status != tt.status || stored.Status != tt.status || stored.StatusReason != tt.reason {
				t.Errorf("%s: status %s/%s reason %q", tt.action, got.Status, stored.Status, stored.StatusReason)
			}
			// The submitter reads the reason on the tracking page.
			tr, err := e.svc.Track(e.ctx, idea.TrackingCode)
			if err != nil {
				t.Fatal(err)
			}
			last := tr.Events[len(tr.Events)-1]
			if last.ToStatus != tt.status || last.Note != tt.reason || !last.Public {
				t.Errorf("%s: tracking page's last event = %+v", tt.action, last)
			}
			if _, n := e.audit(store.AuditFilter{Action: "idea." + tt.action, TargetID: idea.ID}); n != 1 {
				t.Errorf("%s: %d audit entries", tt.action, n)
			}
			if err := e.decideErr(idea.ID, store.Decision{Action: tt.action, Reason: tt.reason}); !errors.Is(err, store.ErrStatusConflict) {
				t.Errorf("%s twice: %v, want ErrStatusConflict", tt.action, err)
			}
		}
		pub := e.published(c, nil)
		if err := e.decideErr(pub.ID, store.Decision{Action: store.ActReject, Reason: "重复"}); !errors.Is(err, store.ErrStatusConflict) {
			t.Errorf("reject a visible published idea: %v, want ErrStatusConflict", err)
		}
	})
}

func TestDecideRetheme(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		a, themes := e.campaign("retheme-a", 3)
		_, otherThemes := e.campaign("retheme-b", 3)
		idea := e.idea(a, store.IdeaPending, func(i *store.Idea) { i.ThemeID, i.ThemeSuggested = &themes[0].ID, true })

		for _, th := range []int64{otherThemes[1].ID, 0, 999999} {
			if err := e.decideErr(idea.ID, store.Decision{Action: store.ActRetheme, ThemeID: th}); !errors.Is(err, store.ErrBadTheme) {
				t.Errorf("retheme to %d: %v, want ErrBadTheme", th, err)
			}
		}
		if i := e.get(idea.ID); !ptrEq(i.ThemeID, themes[0].ID) || !i.ThemeSuggested || i.ThemeConfirmed {
			t.Fatalf("refused retheme changed the idea: theme %v suggested %v confirmed %v", i.ThemeID, i.ThemeSuggested, i.ThemeConfirmed)
		}
		e.decide(idea.ID, store.Decision{Action: store.ActRetheme, ThemeID: themes[1].ID})
		i := e.get(idea.ID)
		if !ptrEq(i.ThemeID, themes[1].ID) || i.ThemeSuggested || !i.ThemeConfirmed || i.Status != store.IdeaPending {
			t.Errorf("rethemed: theme %v suggested %v confirmed %v status %s", i.ThemeID, i.ThemeSuggested, i.ThemeConfirmed, i.Status)
		}
		if _, n := e.audit(store.AuditFilter{Action: "idea.retheme", TargetID: idea.ID}); n != 1 {
			t.Errorf("retheme audit entries: %d", n)
		}
	})
}

// mergeSnapshot is what a merge changes and an unmerge must restore.
type mergeSnapshot struct {
	SourceStatus     store.IdeaStatus
	SourceMergedInto *int64
	SourceCount      int
	TargetCount      int
	SourceSupporters []string
	TargetSupporters []string
}

func TestDecideMergeAndUnmerge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		a, _ := e.campaign("merge-a", 3)
		b, _ := e.campaign("merge-b", 3)
		author := e.user("author", store.RoleResident)
		u1, u2, u3 := e.user("u1", store.RoleResident), e.user("u2", store.RoleResident), e.user("u3", store.RoleResident)
		everyone := []*store.User{author, u1, u2, u3}

		target := e.published(a, nil)
		e.support(target.ID, u2)
		// The source gathers supports while public, then goes back to review
		// (for example after an edit): a pending idea with supporters.
		source := e.published(a, author)
		e.support(source.ID, u1, u2, u3)
		if _, err := s.ChangeIdeaStatus(e.ctx, source.ID, []store.IdeaStatus{store.IdeaPublished}, store.IdeaPending,
			store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Note: "重新审核"}, nil); err != nil {
			t.Fatal(err)
		}
		otherCampaign := e.published(b, nil)
		pendingTarget := e.submit(a, nil, "交通出行")
		hiddenTarget := e.published(a, nil)
		if _, err := s.ReportTarget(e.ctx, "idea", hiddenTarget.ID, store.Report{ReporterKey: "k", Reason: "x"}, 1); err != nil {
			t.Fatal(err)
		}

		snap := func() mergeSnapshot {
			src, tgt := e.get(source.ID), e.get(target.ID)
			return mergeSnapshot{src.Status, src.MergedIntoID, src.SupportsCount, tgt.SupportsCount,
				e.supporters(source.ID, everyone...), e.supporters(target.ID, everyone...)}
		}
		before := snap()
		if before.SourceStatus != store.IdeaPending || before.SourceCount != 3 || before.TargetCount != 1 {
			t.Fatalf("fixture: %+v", before)
		}

		for name, to := range map[string]int64{
			"another campaign": otherCampaign.ID, "itself": source.ID, "a pending idea": pendingTarget.ID,
			"a hidden idea": hiddenTarget.ID, "a missing idea": 999999,
		} {
			if err := e.decideErr(source.ID, store.Decision{Action: store.ActMerge, Target: to}); !errors.Is(err, store.ErrBadTarget) {
				t.Errorf("merge into %s: %v, want ErrBadTarget", name, err)
			}
		}
		if err := e.decideErr(source.ID, store.Decision{Action: store.ActUnmerge}); !errors.Is(err, store.ErrNotMerged) {
			t.Errorf("unmerge of a pending idea: %v, want ErrNotMerged", err)
		}
		if got := snap(); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("refused merges changed things:\n got %+v\nwant %+v", got, before)
		}

		for round := 1; round <= 2; round++ {
			head := e.outboxHead()
			merged := e.decide(source.ID, store.Decision{Action: store.ActMerge, Target: target.ID, Reason: "内容相同"})
			if merged.Status != store.IdeaMerged || !ptrEq(merged.MergedIntoID, target.ID) {
				t.Fatalf("round %d: merged idea: status %s into %v", round, merged.Status, merged.MergedIntoID)
			}
			after := snap()
			wantTarget := []string{"author", "u1", "u2", "u3"}
			if after.SourceStatus != store.IdeaMerged || !ptrEq(after.SourceMergedInto, target.ID) ||
				!slices.Equal(after.TargetSupporters, wantTarget) || after.TargetCount != len(wantTarget) {
				t.Errorf("round %d: after merge %+v; want target supporters %v counted once each", round, after, wantTarget)
			}
			ev := e.lastEvent(source.ID)
			if ev.ToStatus != store.IdeaMerged || !strings.Contains(ev.Note, fmt.Sprintf("#%d", target.ID)) || !strings.Contains(ev.Note, "内容相同") {
				t.Errorf("round %d: merge event %+v", round, ev)
			}
			ob, err := s.OutboxAfter(e.ctx, head, 10)
			if err != nil || !slices.ContainsFunc(ob, func(o store.OutboxEvent) bool { return o.EntityID == target.ID }) ||
				!slices.ContainsFunc(ob, func(o store.OutboxEvent) bool { return o.EntityID == source.ID }) {
				t.Errorf("round %d: outbox after merge %+v, %v; want both ideas", round, ob, err)
			}
			tr, err := e.svc.Track(e.ctx, source.TrackingCode)
			if err != nil || tr.MergedInto == nil || tr.MergedInto.ID != target.ID {
				t.Errorf("round %d: tracking page of the merged idea: %+v, %v", round, tr, err)
			}

			if err := e.decideErr(source.ID, store.Decision{Action: store.ActMerge, Target: target.ID}); !errors.Is(err, store.ErrBadTarget) {
				t.Errorf("round %d: merging a merged idea: %v, want ErrBadTarget", round, err)
			}
			if err := e.decideErr(target.ID, store.Decision{Action: store.ActUnmerge}); !errors.Is(err, store.ErrNotMerged) {
				t.Errorf("round %d: unmerge of the target: %v, want ErrNotMerged", round, err)
			}

			restored := e.decide(source.ID, store.Decision{Action: store.ActUnmerge, Reason: "并非同一问题"})
			if restored.Status != store.IdeaPending || restored.MergedIntoID != nil || restored.SupportsCount != before.SourceCount {
				t.Errorf("round %d: unmerged idea: status %s into %v supports %d", round, restored.Status, restored.MergedIntoID, restored.SupportsCount)
			}
			if got := snap(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("round %d: unmerge did not restore:\n got %+v\nwant %+v", round, got, before)
			}
			if ev := e.lastEvent(source.ID); ev.Note != "已撤销合并" || ev.FromStatus != store.IdeaMerged || ev.ToStatus != store.IdeaPending || !ev.Public {
				t.Errorf("round %d: unmerge event %+v", round, ev)
			}
			if err := e.decideErr(source.ID, store.Decision{Action: store.ActUnmerge}); !errors.Is(err, store.ErrNotMerged) {
				t.Errorf("round %d: second unmerge: %v, want ErrNotMerged", round, err)
			}
			for _, act := range []string{"idea.merge", "idea.unmerge"} {
				es, n := e.audit(store.AuditFilter{Action: act, TargetType: "idea", TargetID: source.ID})
				if n != int64(round) || es[0].Reason == "" {
					t.Errorf("round %d: %s audit entries: %d (%+v)", round, act, n, es)
				}
			}
		}
		// After the rounds the idea can still be approved as usual.
		if i := e.decide(source.ID, store.Decision{Action: store.ActApprove}); i.Status != store.IdeaPublished || i.SupportsCount != 3 {
			t.Errorf("approve after unmerge: %s with %d supports", i.Status, i.SupportsCount)
		}
	})
}

// An author's own support and an author who already supports the target
// must come through a merge and its undoing unchanged.
func TestMergeAuthorSupports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("merge-author", 3)
		author, fan := e.user("author", store.RoleResident), e.user("fan", store.RoleResident)
		both := []*store.User{author, fan}
		snap := func(src, tgt int64) string {
			return fmt.Sprint(e.get(src).SupportsCount, e.get(tgt).SupportsCount, e.supporters(src, both...), e.supporters(tgt, both...))
		}

		cases := []struct {
			name  string
			setup func(src, tgt *store.Idea)
		}{
			{"author supports own idea", func(src, tgt *store.Idea) { e.support(src.ID, author, fan) }},
			{"author already supports target", func(src, tgt *store.Idea) { e.support(tgt.ID, author); e.support(src.ID, fan) }},
			{"author supports both", func(src, tgt *store.Idea) { e.support(tgt.ID, author); e.support(src.ID, author, fan) }},
		}
		for _, tc := range cases {
			target := e.published(c, nil)
			source := e.published(c, author)
			tc.setup(source, target)
			before := snap(source.ID, target.ID)
			e.decide(source.ID, store.Decision{Action: store.ActMerge, Target: target.ID})
			tgt := e.get(target.ID)
			if sup := e.supporters(target.ID, both...); len(sup) != 2 || tgt.SupportsCount != 2 {
				t.Errorf("%s: target after merge supported by %v, count %d", tc.name, sup, tgt.SupportsCount)
			}
			got := e.decide(source.ID, store.Decision{Action: store.ActUnmerge})
			if got.Status != store.IdeaPublished {
				t.Errorf("%s: unmerged status %s, want published", tc.name, got.Status)
			}
			if after := snap(source.ID, target.ID); after != before {
				t.Errorf("%s: before merge %s, after unmerge %s", tc.name, before, after)
			}
		}

		// A visitor's idea has no author to co-sign.
		target := e.published(c, nil)
		source := e.published(c, nil)
		e.support(source.ID, fan)
		e.decide(source.ID, store.Decision{Action: store.ActMerge, Target: target.ID})
		if sup := e.supporters(target.ID, both...); !slices.Equal(sup, []string{"fan"}) || e.get(target.ID).SupportsCount != 1 {
			t.Errorf("visitor's idea merged: target supported by %v", sup)
		}
	})
}

func TestReportTarget(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("report", 3)
		r1, r2 := e.user("r1", store.RoleResident), e.user("r2", store.RoleResident)
		idea := e.published(c, nil)
		report := func(key string, reporter *store.User) bool {
			t.Helper()
			r := store.Report{ReporterKey: key, Reason: "广告"}
			if reporter != nil {
				r.ReporterID = &reporter.ID
			}
			hidden, err := s.ReportTarget(e.ctx, "idea", idea.ID, r, c.ReportThreshold)
			if err != nil {
				t.Fatalf("report by %s: %v", key, err)
			}
			return hidden
		}
		steps := []struct {
			key      string
			reporter *store.User
			hidden   bool
			count    int
		}{
			{"u:r1", r1, false, 1},
			{"u:r1", r1, false, 1}, // the same reporter counts once
			{"u:r2", r2, false, 2},
			{"ip:abc", nil, true, 3},
			{"ip:def", nil, true, 4},
		}
		for n, st := range steps {
			if hidden := report(st.key, st.reporter); hidden != st.hidden {
				t.Errorf("report %d: hidden %v, want %v", n+1, hidden, st.hidden)
			}
			if i := e.get(idea.ID); i.Hidden != st.hidden || i.ReportsCount != st.count {
				t.Errorf("report %d: stored hidden %v count %d, want %v %d", n+1, i.Hidden, i.ReportsCount, st.hidden, st.count)
			}
		}
		if _, err := s.PublicIdea(e.ctx, idea.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("hidden idea is public: %v", err)
		}
		if q, _ := e.queue(store.QueueFilter{CampaignID: c.ID}); !slices.Equal(q, []int64{idea.ID}) {
			t.Errorf("queue = %v, want the hidden idea", q)
		}

		got := e.decide(idea.ID, store.Decision{Action: store.ActApprove})
		if got.Hidden || got.ReportsCount != 0 || got.Status != store.IdeaPublished {
			t.Errorf("approved reported idea: hidden %v reports %d status %s", got.Hidden, got.ReportsCount, got.Status)
		}
		if i := e.get(idea.ID); i.Hidden || i.ReportsCount != 0 {
			t.Errorf("stored after approval: hidden %v reports %d", i.Hidden, i.ReportsCount)
		}
		if ev := e.lastEvent(idea.ID); ev.FromStatus != store.IdeaPublished || ev.ToStatus != store.IdeaPublished {
			t.Errorf("restore event %+v", ev)
		}
		if q, _ := e.queue(store.QueueFilter{CampaignID: c.ID}); len(q) != 0 {
			t.Errorf("queue after approval = %v", q)
		}
		// The resolved reports no longer count: a new one starts from one.
		if report("u:new", nil) || e.get(idea.ID).ReportsCount != 1 {
			t.Errorf("first report after approval: count %d", e.get(idea.ID).ReportsCount)
		}

		pending := e.submit(c, nil, "交通出行")
		if _, err := s.ReportTarget(e.ctx, "idea", pending.ID, store.Report{ReporterKey: "x"}, 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("report a pending idea: %v, want ErrNotFound", err)
		}
		if _, err := s.ReportTarget(e.ctx, "idea", 999999, store.Report{ReporterKey: "x"}, 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("report a missing idea: %v, want ErrNotFound", err)
		}
		if _, err := s.ReportTarget(e.ctx, "user", idea.ID, store.Report{ReporterKey: "x"}, 3); err == nil {
			t.Error("report of an unknown target type succeeded")
		}
	})
}

func TestBlockUser(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("block", 3)
		bad, good := e.user("spammer", store.RoleResident), e.user("neighbour", store.RoleResident)
		pending1, pending2 := e.submit(c, bad, "交通出行"), e.submit(c, bad, "")
		changes := e.submit(c, bad, "交通出行")
		e.decide(changes.ID, store.Decision{Action: store.ActRequestChanges, Reason: "请补充"})
		public := e.published(c, bad)
		goodPending := e.submit(c, good, "交通出行")

		comment := func(u *store.User, status store.IdeaStatus) *store.Comment {
			cm := &store.Comment{IdeaID: public.ID, AuthorID: &u.ID, DisplayName: u.DisplayName,
				Body: "同意这个建议", BodyMasked: "同意这个建议", Status: status, Moderation: "{}"}
			if err := s.CreateComment(e.ctx, cm); err != nil {
				t.Fatal(err)
			}
			return cm
		}
		comment(bad, store.IdeaPending)
		badPublic, goodComment := comment(bad, store.IdeaPublished), comment(good, store.IdeaPending)

		if err := s.BlockUser(e.ctx, bad.ID, "批量发布广告", e.by); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{pending1.ID, pending2.ID, changes.ID} {
			i := e.get(id)
			ev := e.lastEvent(id)
			if i.Status != store.IdeaRejected || i.StatusReason != "账号已被停用" ||
				ev.ToStatus != store.IdeaRejected || ev.Note != "账号已被停用" || !ev.Public {
				t.Errorf("idea %d of the blocked user: status %s (%q), last event %+v", id, i.Status, i.StatusReason, ev)
			}
		}
		if i := e.get(public.ID); i.Status != store.IdeaPublished || i.Hidden {
			t.Errorf("published idea of the blocked user: %s hidden %v", i.Status, i.Hidden)
		}
		if i := e.get(goodPending.ID); i.Status != store.IdeaPending {
			t.Errorf("another user's idea became %s", i.Status)
		}
		cs, total, err := s.PendingComments(e.ctx, store.Page{})
		if err != nil || total != 1 || len(cs) != 1 || cs[0].ID != goodComment.ID {
			t.Errorf("pending comments after block: %v (total %d), %v; want only the neighbour's", cs, total, err)
		}
		pub, err := s.PublicComments(e.ctx, public.ID)
		if err != nil || len(pub) != 1 || pub[0].ID != badPublic.ID {
			t.Errorf("public comments after block: %v, %v", pub, err)
		}
		u, err := s.UserByID(e.ctx, bad.ID)
		if err != nil || u.BlockedAt == nil || u.BlockedReason != "批量发布广告" {
			t.Errorf("blocked user: %+v, %v", u, err)
		}
		if g, _ := s.UserByID(e.ctx, good.ID); g.BlockedAt != nil {
			t.Error("the neighbour got blocked too")
		}
		es, n := e.audit(store.AuditFilter{Action: "user.block", TargetType: "user", TargetID: bad.ID})
		if n != 1 || es[0].Reason != "批量发布广告" || !ptrEq(es[0].ActorID, e.mod.ID) {
			t.Errorf("block audit: %d entries %+v", n, es)
		}
		// A blocked account submits nothing more.
		sub := ideas.Submission{Campaign: c.Slug, Title: "再来一条广告信息", Body: strings.Repeat("广告", 12),
			ProvinceCode: "330000", CityCode: "330100", DisplayName: "x", Phone: "13800138000", Consent: true}
		if _, err := e.svc.Submit(e.ctx, sub, nil, ideas.Meta{User: u}); !errors.Is(err, ideas.ErrBlocked) {
			t.Errorf("blocked user submits: %v, want ErrBlocked", err)
		}
		if err := s.BlockUser(e.ctx, 999999, "x", e.by); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("block missing user: %v, want ErrNotFound", err)
		}
	})
}

func TestHolidays(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, h := range []store.Holiday{
			{Day: "2025-10-01", Name: "国庆节"},
			{Day: "2025-10-02", Name: "国庆节"},
			{Day: "2025-09-28", Name: "国庆调休", Workday: true},
			{Day: "2026-01-01", Name: "元旦"},
		} {
			if err := s.SetHoliday(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		list := func(from, to string) string {
			t.Helper()
			hs, err := s.Holidays(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, h := range hs {
				fmt.Fprintf(&b, "%s %s %v;", h.Day, h.Name, h.Workday)
			}
			return b.String()
		}
		if got, want := list("2025-09-01", "2025-10-31"), "2025-09-28 国庆调休 true;2025-10-01 国庆节 false;2025-10-02 国庆节 false;"; got != want {
			t.Errorf("autumn:\n got %s\nwant %s", got, want)
		}
		if got, want := list("2025-10-01", "2025-10-01"), "2025-10-01 国庆节 false;"; got != want {
			t.Errorf("one day (inclusive): got %s, want %s", got, want)
		}
		if got := list("2025-11-01", "2025-12-31"); got != "" {
			t.Errorf("empty range: %s", got)
		}
		// Setting an existing day changes it, down to a false workday flag.
		if err := s.SetHoliday(ctx, store.Holiday{Day: "2025-09-28", Name: "调整"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetHoliday(ctx, store.Holiday{Day: "2025-10-02", Name: "国庆节", Workday: true}); err != nil {
			t.Fatal(err)
		}
		if got, want := list("2025-01-01", "2026-12-31"), "2025-09-28 调整 false;2025-10-01 国庆节 false;2025-10-02 国庆节 true;2026-01-01 元旦 false;"; got != want {
			t.Errorf("after updates:\n got %s\nwant %s", got, want)
		}
	})
}

func TestAuditLog(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("audit", 3)
		mod2 := e.user("moderator2", store.RoleModerator)
		by2 := store.ActorFor(mod2, "10.0.0.2")
		i1, i2, i3 := e.submit(c, nil, "交通出行"), e.submit(c, nil, "交通出行"), e.submit(c, nil, "交通出行")
		spammer := e.user("spammer", store.RoleResident)

		// Phase one: mod approves i1, mod2 rejects i2.
		e.decide(i1.ID, store.Decision{Action: store.ActApprove})
		if _, err := s.Decide(e.ctx, i2.ID, store.Decision{Action: store.ActReject, Reason: "无关", By: by2, Role: store.RoleModerator}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		mark := time.Now().UTC().Truncate(time.Microsecond)
		time.Sleep(5 * time.Millisecond)
		// Phase two: mod merges i3 into i1 and undoes it; mod2 blocks a user.
		e.decide(i3.ID, store.Decision{Action: store.ActMerge, Target: i1.ID})
		e.decide(i3.ID, store.Decision{Action: store.ActUnmerge})
		if err := s.BlockUser(e.ctx, spammer.ID, "广告", by2); err != nil {
			t.Fatal(err)
		}

		actions := func(es []store.AuditEntry) string {
			var out []string
			for _, a := range es {
				out = append(out, fmt.Sprintf("%s:%d", a.Action, *a.TargetID))
			}
			return strings.Join(out, " ")
		}
		tests := []struct {
			name  string
			f     store.AuditFilter
			want  string
			total int64
		}{
			{"actor", store.AuditFilter{ActorID: e.mod.ID},
				fmt.Sprintf("idea.unmerge:%d idea.merge:%d idea.approve:%d", i3.ID, i3.ID, i1.ID), 3},
			{"other actor", store.AuditFilter{ActorID: mod2.ID},
				fmt.Sprintf("user.block:%d idea.reject:%d", spammer.ID, i2.ID), 2},
			{"idea. prefix", store.AuditFilter{Action: "idea."},
				fmt.Sprintf("idea.unmerge:%d idea.merge:%d idea.reject:%d idea.approve:%d", i3.ID, i3.ID, i2.ID, i1.ID), 4},
			{"idea.merge prefix", store.AuditFilter{Action: "idea.merge"}, fmt.Sprintf("idea.merge:%d", i3.ID), 1},
			{"no partial word", store.AuditFilter{Action: "idea.mergex"}, "", 0},
			{"campaign", store.AuditFilter{Action: "campaign."}, fmt.Sprintf("campaign.create:%d", c.ID), 1},
			{"target", store.AuditFilter{TargetType: "idea", TargetID: i1.ID}, fmt.Sprintf("idea.approve:%d", i1.ID), 1},
			{"target type", store.AuditFilter{TargetType: "user"}, fmt.Sprintf("user.block:%d", spammer.ID), 1},
			{"from", store.AuditFilter{Action: "idea.", From: mark},
				fmt.Sprintf("idea.unmerge:%d idea.merge:%d", i3.ID, i3.ID), 2},
			{"to", store.AuditFilter{Action: "idea.", To: mark},
				fmt.Sprintf("idea.reject:%d idea.approve:%d", i2.ID, i1.ID), 2},
			{"from, in China time", store.AuditFilter{Action: "idea.", From: mark.In(cst)},
				fmt.Sprintf("idea.unmerge:%d idea.merge:%d", i3.ID, i3.ID), 2},
			{"to, in China time", store.AuditFilter{Action: "idea.", To: mark.In(cst)},
				fmt.Sprintf("idea.reject:%d idea.approve:%d", i2.ID, i1.ID), 2},
			{"empty range", store.AuditFilter{From: mark.Add(time.Hour)}, "", 0},
			{"page 1", store.AuditFilter{Action: "idea.", Page: store.Page{Number: 1, PerPage: 3}},
				fmt.Sprintf("idea.unmerge:%d idea.merge:%d idea.reject:%d", i3.ID, i3.ID, i2.ID), 4},
			{"page 2", store.AuditFilter{Action: "idea.", Page: store.Page{Number: 2, PerPage: 3}},
				fmt.Sprintf("idea.approve:%d", i1.ID), 4},
		}
		for _, tt := range tests {
			es, total := e.audit(tt.f)
			if got := actions(es); got != tt.want || total != tt.total {
				t.Errorf("%s: got %q (total %d), want %q (total %d)", tt.name, got, total, tt.want, tt.total)
			}
		}
	})
}

// Audit entries are only ever added: a run of actions, failed ones included,
// leaves every earlier row as it was.
func TestAuditEntriesOnlyGrow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, themes := e.campaign("audit-grow", 2)
		rows := func() map[int64]string {
			es, err := s.AuditEntries(e.ctx, 10000)
			if err != nil {
				t.Fatal(err)
			}
			m := map[int64]string{}
			for _, a := range es {
				m[a.ID] = fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", idText(a.ActorID), a.ActorName, a.Action, a.TargetType,
					idText(a.TargetID), a.BeforeJSON, a.AfterJSON, a.Reason, a.IP, a.CreatedAt.UTC().Format(time.RFC3339Nano))
			}
			return m
		}
		prev := rows()
		step := func(name string, f func()) {
			t.Helper()
			f()
			now := rows()
			if len(now) < len(prev) {
				t.Errorf("%s: audit rows %d → %d", name, len(prev), len(now))
			}
			for id, r := range prev {
				if now[id] != r {
					t.Errorf("%s: audit row %d changed:\n was %s\n now %s", name, id, r, now[id])
				}
			}
			prev = now
		}
		u := e.user("resident", store.RoleResident)
		var a, b, d *store.Idea
		step("submit", func() { a, b, d = e.submit(c, u, "交通出行"), e.submit(c, nil, ""), e.submit(c, nil, "") })
		step("approve", func() { e.decide(a.ID, store.Decision{Action: store.ActApprove}) })
		step("approve twice", func() { e.decideErr(a.ID, store.Decision{Action: store.ActApprove}) })
		step("retheme", func() { e.decide(b.ID, store.Decision{Action: store.ActRetheme, ThemeID: themes[1].ID}) })
		step("merge", func() { e.decide(b.ID, store.Decision{Action: store.ActMerge, Target: a.ID}) })
		step("unmerge", func() { e.decide(b.ID, store.Decision{Action: store.ActUnmerge}) })
		step("reject", func() { e.decide(d.ID, store.Decision{Action: store.ActReject, Reason: "无关"}) })
		step("reject without reason", func() { e.decideErr(b.ID, store.Decision{Action: store.ActReject}) })
		step("reports", func() {
			for _, k := range []string{"a", "b"} {
				if _, err := s.ReportTarget(e.ctx, "idea", a.ID, store.Report{ReporterKey: k}, c.ReportThreshold); err != nil {
					t.Fatal(err)
				}
			}
		})
		step("restore", func() { e.decide(a.ID, store.Decision{Action: store.ActApprove}) })
		step("comment", func() {
			cm := &store.Comment{IdeaID: a.ID, Body: "好", BodyMasked: "好", Status: store.IdeaPending, Moderation: "{}"}
			if err := s.CreateComment(e.ctx, cm); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DecideComment(e.ctx, cm.ID, true, "", e.by); err != nil {
				t.Fatal(err)
			}
		})
		step("holiday", func() {
			if err := s.SetHoliday(e.ctx, store.Holiday{Day: "2025-10-01", Name: "国庆节"}); err != nil {
				t.Fatal(err)
			}
		})
		step("block", func() {
			if err := s.BlockUser(e.ctx, u.ID, "广告", e.by); err != nil {
				t.Fatal(err)
			}
		})
		// campaign.create, approve, retheme, merge, unmerge, reject, restore,
		// comment.approve and user.block; refused actions leave none.
		if len(prev) != 9 {
			t.Errorf("%d audit rows after those actions, want 9", len(prev))
		}
	})
}

// No code in the store package updates or deletes audit rows.
func TestNoCodeChangesAuditRows(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sqlChange := regexp.MustCompile(`(?i)(update\s+audit_entries|delete\s+from\s+audit_entries|truncate\s+(table\s+)?audit_entries|drop\s+table\s+audit_entries)`)
	gormChange := regexp.MustCompile(`(Model\(\s*&?(store\.)?AuditEntry\{\}\)|Table\("audit_entries"\)|Model\(\s*e\s*\))[^\n]*\.(Update|Updates|UpdateColumn|UpdateColumns|Delete|Save)\(|\.(Delete|Save|Updates?)\(\s*&?(store\.)?AuditEntry\{`)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, re := range []*regexp.Regexp{sqlChange, gormChange} {
			if m := re.Find(b); m != nil {
				t.Errorf("%s changes audit rows: %s", f, m)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d source files", checked)
	}
}

func TestPendingCommentsAndDecideComment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newModEnv(t, s)
		c, _ := e.campaign("comments", 2)
		u := e.user("commenter", store.RoleResident)
		idea := e.published(c, nil)
		comment := func(status store.IdeaStatus, risk float64) *store.Comment {
			t.Helper()
			cm := &store.Comment{IdeaID: idea.ID, AuthorID: &u.ID, DisplayName: u.DisplayName, Body: "同意这个建议",
				BodyMasked: "同意这个建议", Status: status, RiskScore: risk, Moderation: "{}"}
			if err := s.CreateComment(e.ctx, cm); err != nil {
				t.Fatal(err)
			}
			return cm
		}
		count := func() int { return e.get(idea.ID).CommentsCount }
		low, high, public := comment(store.IdeaPending, 0.1), comment(store.IdeaPending, 0.8), comment(store.IdeaPublished, 0)
		if n := count(); n != 1 {
			t.Fatalf("comments_count with one public comment = %d", n)
		}
		cs, total, err := s.PendingComments(e.ctx, store.Page{})
		if err != nil || total != 2 || len(cs) != 2 || cs[0].ID != high.ID || cs[1].ID != low.ID {
			t.Errorf("pending comments = %v (total %d), %v; want riskiest first", cs, total, err)
		}
		cs, total, _ = s.PendingComments(e.ctx, store.Page{Number: 2, PerPage: 1})
		if total != 2 || len(cs) != 1 || cs[0].ID != low.ID {
			t.Errorf("second page of pending comments = %v (total %d)", cs, total)
		}

		got, err := s.DecideComment(e.ctx, low.ID, true, "", e.by)
		if err != nil || got.Status != store.IdeaPublished {
			t.Fatalf("approve comment: %+v, %v", got, err)
		}
		if n := count(); n != 2 {
			t.Errorf("comments_count after approval = %d, want 2", n)
		}
		for _, reason := range []string{"", "   "} {
			if _, err := s.DecideComment(e.ctx, high.ID, false, reason, e.by); !errors.Is(err, store.ErrNeedsReason) {
				t.Errorf("reject with reason %q: %v, want ErrNeedsReason", reason, err)
			}
		}
		got, err = s.DecideComment(e.ctx, high.ID, false, "人身攻击", e.by)
		if err != nil || got.Status != store.IdeaRejected || got.StatusReason != "人身攻击" {
			t.Fatalf("reject comment: %+v, %v", got, err)
		}
		if n := count(); n != 2 {
			t.Errorf("comments_count after rejecting a pending comment = %d, want 2", n)
		}
		for _, id := range []int64{public.ID, low.ID} {
			if _, err := s.DecideComment(e.ctx, id, true, "", e.by); !errors.Is(err, store.ErrStatusConflict) {
				t.Errorf("approve visible comment %d: %v, want ErrStatusConflict", id, err)
			}
			if _, err := s.DecideComment(e.ctx, id, false, "x", e.by); !errors.Is(err, store.ErrStatusConflict) {
				t.Errorf("reject visible comment %d: %v, want ErrStatusConflict", id, err)
			}
		}
		if _, err := s.DecideComment(e.ctx, high.ID, true, "", e.by); !errors.Is(err, store.ErrStatusConflict) {
			t.Errorf("approve a rejected comment: %v, want ErrStatusConflict", err)
		}
		if _, err := s.DecideComment(e.ctx, 999999, true, "", e.by); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("decide missing comment: %v, want ErrNotFound", err)
		}
		if _, n := e.audit(store.AuditFilter{Action: "comment."}); n != 2 {
			t.Errorf("comment audit entries = %d, want 2", n)
		}

		// Reported comments wait for a moderator; approval clears the reports.
		report := func(key string) bool {
			t.Helper()
			hidden, err := s.ReportTarget(e.ctx, "comment", public.ID, store.Report{ReporterKey: key}, c.ReportThreshold)
			if err != nil {
				t.Fatal(err)
			}
			return hidden
		}
		if report("a") || !report("b") {
			t.Fatal("comment not hidden exactly at the threshold")
		}
		cs, _, _ = s.PendingComments(e.ctx, store.Page{})
		if len(cs) != 1 || cs[0].ID != public.ID {
			t.Errorf("pending comments with a hidden one = %v", cs)
		}
		got, err = s.DecideComment(e.ctx, public.ID, true, "", e.by)
		if err != nil || got.Hidden || got.Status != store.IdeaPublished || got.ReportsCount != 0 {
			t.Fatalf("approve hidden comment: %+v, %v", got, err)
		}
		if n := count(); n != 2 {
			t.Errorf("comments_count after restoring = %d, want 2", n)
		}
		if report("c") {
			t.Error("one report after the approval hid the comment again: the old reports still count")
		}
		if !report("d") {
			t.Error("comment not hidden at the threshold after approval")
		}
		if _, err := s.DecideComment(e.ctx, public.ID, false, "违规", e.by); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Errorf("comments_count after rejecting a hidden public comment = %d, want 1", n)
		}
	})
}
