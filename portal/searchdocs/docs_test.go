package searchdocs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
	"jindianzi/search/searchtest"
)

func TestMain(m *testing.M) { searchtest.Main(m) }

func segmenter(t *testing.T) *search.Segmenter { return searchtest.Segmenter(t) }

// world is a store with two campaigns (one publishing at once, one holding
// ideas for review), a debate and the ideas service residents submit through.
type world struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	svc    *ideas.Service
	open   *store.Campaign // policy post: ideas publish at once
	review *store.Campaign // policy pre: ideas wait for a moderator
	debate *store.Debate
	mod    *store.User
}

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	files, err := attachment.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: ctx, st: st,
		svc: &ideas.Service{Store: st, Moderation: moderation.PolicyOnly{}, Themes: ideas.KeywordSuggester{}, Attachments: files}}
	mk := func(slug, policy string) *store.Campaign {
		c, err := campaign.Create(ctx, st, campaign.Input{
			Slug: slug, Title: "城市建设金点子征集（" + slug + "）", Policy: policy,
			Themes: []campaign.ThemeInput{
				{Name: "社区治理", Keywords: []string{"小区", "电梯", "物业"}},
				{Name: "交通出行", Keywords: []string{"公交", "地铁", "停车"}},
			},
		}, store.Actor{Name: "test"})
		if err != nil {
			t.Fatalf("create campaign %s: %v", slug, err)
		}
		return c
	}
	w.open, w.review = mk("kaifang", store.PolicyPost), mk("shenhe", store.PolicyPre)
	now := time.Now().UTC()
	w.debate = &store.Debate{Slug: "jiazhuang-dianti", Title: "老旧小区加装电梯怎么分摊费用", Question: "低层住户要不要出钱？",
		Theme: "社区治理", Policy: store.PolicyPost, OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(72 * time.Hour)}
	if err := st.CreateDebate(ctx, w.debate, nil, store.Actor{Name: "test"}); err != nil {
		t.Fatalf("create debate: %v", err)
	}
	w.mod, err = st.CreateUser(ctx, store.NewUser{Name: "mod", DisplayName: "审核员", Role: store.RoleModerator})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// submit files an idea through the service, as residents do.
func (w *world) submit(c *store.Campaign, title, body, theme string) int64 {
	w.t.Helper()
	r, err := w.svc.Submit(w.ctx, ideas.Submission{
		Campaign: c.Slug, Theme: theme, Title: title, Body: body, ProvinceCode: "330000", CityCode: "330100",
		DisplayName: "张伟", Email: "zhang.wei@example.com", Consent: true,
	}, nil, ideas.Meta{Source: "api"})
	if err != nil {
		w.t.Fatalf("submit %q: %v", title, err)
	}
	return r.ID
}

// post adds a public post to the debate.
func (w *world) post(body string) int64 {
	w.t.Helper()
	p := &store.DebatePost{DebateID: w.debate.ID, Stance: store.StanceFor, Body: body, BodyMasked: body,
		Status: store.IdeaPublished, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := w.st.CreateDebatePost(w.ctx, p); err != nil {
		w.t.Fatalf("create post: %v", err)
	}
	return p.ID
}

func (w *world) head() int64 {
	w.t.Helper()
	h, err := w.st.OutboxHead(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// seed adds three published ideas, one pending, one hidden and two posts.
func (w *world) seed() (published []int64, pending, hidden int64, posts []int64) {
	w.t.Helper()
	published = []int64{
		w.submit(w.open, "老旧小区加装电梯", "我们小区六层没有电梯，老人上下楼困难，建议政府补贴加装电梯。", "社区治理"),
		w.submit(w.open, "增加夜班公交线路", "加班到深夜的市民很难回家，建议增开夜班公交，覆盖主要居住区。", "交通出行"),
		w.submit(w.open, "小区停车位太少", "晚上回家找不到停车位，建议利用边角地块建设立体停车库。", ""),
	}
	pending = w.submit(w.review, "物业收费不透明", "物业公司每年涨价却不公开账目，希望街道督促物业公示收支。", "社区治理")
	h := &store.Idea{CampaignID: w.open.ID, TrackingCode: "JDZ-HIDE-0001", Title: "被举报隐藏的建议", Body: "这条建议因为多次举报被隐藏，内容关于广场舞噪音扰民。",
		Status: store.IdeaPublished, Hidden: true, ProvinceCode: "110000", Source: "web", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := w.st.CreateIdea(w.ctx, h, nil, ""); err != nil {
		w.t.Fatalf("create hidden idea: %v", err)
	}
	posts = []int64{
		w.post("我支持加装电梯，但是低层住户的利益也要考虑，费用可以按楼层分摊。"),
		w.post("建议先做业主意见征询，同意率达到三分之二再启动加装。"),
	}
	return published, pending, h.ID, posts
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in     string
		entity string
		id     int64
		bad    bool
	}{
		{"12", searchdocs.EntityIdea, 12, false},
		{"post-7", searchdocs.EntityPost, 7, false},
		{searchdocs.PostIDPrefix + "9000000000", searchdocs.EntityPost, 9000000000, false},
		{"", "", 0, true},
		{"post-", "", 0, true},
		{"post-x", "", 0, true},
		{"post-post-1", "", 0, true},
		{"abc", "", 0, true},
		{"1.5", "", 0, true},
		{"99999999999999999999", "", 0, true},
	}
	for _, tt := range tests {
		entity, id, err := searchdocs.ParseID(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseID(%q) = %s %d, want an error", tt.in, entity, id)
			}
			continue
		}
		if err != nil || entity != tt.entity || id != tt.id {
			t.Errorf("ParseID(%q) = %s %d %v, want %s %d", tt.in, entity, id, err, tt.entity, tt.id)
		}
	}
	// Document ids round-trip.
	for _, id := range []int64{1, 42, 1 << 40} {
		i := searchdocs.IdeaDoc(&store.Idea{ID: id}, "c", "")
		if e, got, err := searchdocs.ParseID(i.ID); err != nil || e != searchdocs.EntityIdea || got != id {
			t.Errorf("idea %d: doc id %q parses as %s %d %v", id, i.ID, e, got, err)
		}
		p := searchdocs.PostDoc(&store.DebatePost{ID: id}, &store.Debate{Slug: "d"})
		if e, got, err := searchdocs.ParseID(p.ID); err != nil || e != searchdocs.EntityPost || got != id {
			t.Errorf("post %d: doc id %q parses as %s %d %v", id, p.ID, e, got, err)
		}
	}
}

func TestIdeaDocUsesMaskedText(t *testing.T) {
	created := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	i := &store.Idea{ID: 5, Title: "联系13812345678", Body: "我的电话13812345678", TitleMasked: "联系138****5678", BodyMasked: "我的电话138****5678",
		ProvinceCode: "330000", Status: store.IdeaAdopted, SupportsCount: 3, ImportedSupports: 4, CreatedAt: created}
	d := searchdocs.IdeaDoc(i, "kaifang", "社区治理")
	want := search.Doc{ID: "5", Kind: searchdocs.EntityIdea, Title: "联系138****5678", Body: "我的电话138****5678", Theme: "社区治理",
		Campaign: "kaifang", Region: "330000", Status: "adopted", Created: created, Supports: 7}
	if d != want {
		t.Errorf("IdeaDoc = %+v\nwant      %+v", d, want)
	}
	// Without masked copies (older rows), the text itself.
	i.TitleMasked, i.BodyMasked = "", ""
	if d := searchdocs.IdeaDoc(i, "kaifang", ""); d.Title != i.Title || d.Body != i.Body {
		t.Errorf("unmasked idea: %q / %q", d.Title, d.Body)
	}
	// Hidden public ideas are indexed as hidden, not as their status.
	i.Hidden = true
	if d := searchdocs.IdeaDoc(i, "kaifang", ""); d.Status != "hidden" {
		t.Errorf("hidden idea indexed with status %q", d.Status)
	}
	p := searchdocs.PostDoc(&store.DebatePost{ID: 3, Body: "电话13812345678", BodyMasked: "电话138****5678", Status: store.IdeaPublished, Hidden: true},
		&store.Debate{Slug: "d", Title: "讨论", Theme: "社区治理"})
	if p.Body != "电话138****5678" || p.Status != "hidden" || p.Kind != searchdocs.EntityPost {
		t.Errorf("PostDoc = %+v", p)
	}
}

func TestLoaderDocs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		published, pending, hidden, posts := w.seed()
		l := &searchdocs.Loader{Store: st}

		ids := append(slices.Clone(published), pending, hidden, 999999)
		docs, gone, err := l.Docs(w.ctx, searchdocs.EntityIdea, ids)
		if err != nil {
			t.Fatalf("Docs: %v", err)
		}
		if !slices.Equal(gone, []string{"999999"}) {
			t.Errorf("gone = %q, want [999999]", gone)
		}
		byID := map[string]search.Doc{}
		for _, d := range docs {
			byID[d.ID] = d
		}
		if len(byID) != 5 {
			t.Fatalf("%d documents, want 5: %+v", len(byID), docs)
		}
		first := byID[strconv.FormatInt(published[0], 10)]
		if first.Kind != searchdocs.EntityIdea || first.Title != "老旧小区加装电梯" || first.Theme != "社区治理" ||
			first.Campaign != "kaifang" || first.Region != "330000" || first.Status != "published" || first.Created.IsZero() {
			t.Errorf("published idea document = %+v", first)
		}
		// The keyword suggester picks a theme for the idea submitted without one.
		if d := byID[strconv.FormatInt(published[2], 10)]; d.Theme != "交通出行" {
			t.Errorf("suggested theme = %q, want 交通出行", d.Theme)
		}
		if d := byID[strconv.FormatInt(pending, 10)]; d.Status != "pending" || d.Campaign != "shenhe" {
			t.Errorf("pending idea document = %+v", d)
		}
		if d := byID[strconv.FormatInt(hidden, 10)]; d.Status != "hidden" || d.Theme != "" {
			t.Errorf("hidden idea document = %+v", d)
		}

		docs, gone, err = l.Docs(w.ctx, searchdocs.EntityPost, append(slices.Clone(posts), 888888))
		if err != nil {
			t.Fatalf("Docs(posts): %v", err)
		}
		if !slices.Equal(gone, []string{"post-888888"}) {
			t.Errorf("gone posts = %q, want [post-888888]", gone)
		}
		if len(docs) != 2 {
			t.Fatalf("%d post documents, want 2", len(docs))
		}
		for _, d := range docs {
			if !strings.HasPrefix(d.ID, searchdocs.PostIDPrefix) || d.Kind != searchdocs.EntityPost || d.Title != w.debate.Title ||
				d.Campaign != "debate:"+w.debate.Slug || d.Theme != "社区治理" || d.Status != "published" || d.Body == "" {
				t.Errorf("post document = %+v", d)
			}
		}

		if _, _, err := l.Docs(w.ctx, "comment", []int64{1}); err == nil {
			t.Error("Docs of an unknown entity: no error")
		}
		if docs, gone, err := l.Docs(w.ctx, searchdocs.EntityIdea, nil); err != nil || len(docs)+len(gone) != 0 {
			t.Errorf("Docs(no ids) = %v %v %v", docs, gone, err)
		}
	})
}

func TestLoaderAllAndOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		published, pending, hidden, posts := w.seed()
		l := &searchdocs.Loader{Store: st}

		var want []string
		for _, id := range append(slices.Clone(published), pending, hidden) {
			want = append(want, strconv.FormatInt(id, 10))
		}
		for _, id := range posts {
			want = append(want, searchdocs.PostIDPrefix+strconv.FormatInt(id, 10))
		}
		var got []string
		batches := 0
		err := l.All(w.ctx, 2, func(docs []search.Doc) error {
			batches++
			if len(docs) == 0 || len(docs) > 2 {
				t.Errorf("batch of %d documents", len(docs))
			}
			for _, d := range docs {
				got = append(got, d.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("All emitted %q, want %q", got, want)
		}
		if batches != 4 { // 5 ideas in 3 batches, 2 posts in 1
			t.Errorf("%d batches, want 4", batches)
		}
		stop := errors.New("stop")
		if err := l.All(w.ctx, 100, func([]search.Doc) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("All with a failing emit: %v, want it passed on", err)
		}

		head, err := l.OutboxHead(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		events, err := l.OutboxAfter(w.ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 7 || events[len(events)-1].ID != head {
			t.Errorf("%d outbox events ending at %d, want 7 ending at head %d", len(events), events[len(events)-1].ID, head)
		}
		if more, _ := l.OutboxAfter(w.ctx, head, 100); len(more) != 0 {
			t.Errorf("events after the head: %v", more)
		}
		if two, _ := l.OutboxAfter(w.ctx, events[0].ID, 2); len(two) != 2 || two[0].ID != events[1].ID {
			t.Errorf("OutboxAfter(first, 2) = %v", two)
		}
	})
}

// indexEnv is a store, the loader over it and an index in a generation
// directory fed by an indexer.
type indexEnv struct {
	*world
	dir string
	idx *search.Index
	ix  *search.Indexer
}

func newIndexEnv(t *testing.T, st *store.Store) *indexEnv {
	t.Helper()
	e := &indexEnv{world: newWorld(t, st), dir: filepath.Join(t.TempDir(), "index")}
	e.idx = e.openIndex()
	e.ix = &search.Indexer{Index: e.idx, Source: &searchdocs.Loader{Store: st}, Batch: 3}
	return e
}

func (e *indexEnv) openIndex() *search.Index {
	e.t.Helper()
	idx, err := search.OpenCurrent(e.dir, segmenter(e.t))
	if err != nil {
		e.t.Fatalf("OpenCurrent: %v", err)
	}
	e.t.Cleanup(func() { idx.Close() })
	return idx
}

func (e *indexEnv) catchUp(ix *search.Indexer) int {
	e.t.Helper()
	n, err := ix.CatchUp(e.ctx)
	if err != nil {
		e.t.Fatalf("CatchUp: %v", err)
	}
	return n
}

func (e *indexEnv) lag(ix *search.Indexer) int64 {
	e.t.Helper()
	n, err := ix.Lag(e.ctx)
	if err != nil {
		e.t.Fatalf("Lag: %v", err)
	}
	return n
}

// residentIDs searches as a resident would: public statuses only.
func residentIDs(t *testing.T, idx *search.Index, text string) []string {
	t.Helper()
	var public []string
	for _, s := range store.PublicStatuses() {
		public = append(public, string(s))
	}
	return searchIDs(t, idx, search.Request{Text: text, Statuses: public, PerPage: 100})
}

func searchIDs(t *testing.T, idx *search.Index, r search.Request) []string {
	t.Helper()
	res, err := idx.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("Search(%+v): %v", r, err)
	}
	ids := []string{}
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	sort.Strings(ids)
	return ids
}

func docCount(t *testing.T, idx *search.Index) uint64 {
	t.Helper()
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIndexerCatchesUpFromTheOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newIndexEnv(t, st)
		if n := e.lag(e.ix); n != 0 {
			t.Errorf("Lag on an empty outbox = %d", n)
		}
		published, pending, hidden, posts := e.seed()
		if n := e.lag(e.ix); n != 7 {
			t.Errorf("Lag before catching up = %d, want 7", n)
		}
		if n := e.catchUp(e.ix); n != 7 {
			t.Errorf("CatchUp applied %d events, want 7", n)
		}
		if n := e.lag(e.ix); n != 0 {
			t.Errorf("Lag after catching up = %d", n)
		}
		if c, _ := e.idx.Cursor(); c != e.head() {
			t.Errorf("cursor %d, want the outbox head %d", c, e.head())
		}
		if n := docCount(t, e.idx); n != 7 {
			t.Errorf("%d documents, want 7", n)
		}
		if n := e.catchUp(e.ix); n != 0 {
			t.Errorf("second CatchUp applied %d events", n)
		}

		// Posts carry their debate's title, so both posts match it.
		p0 := strconv.FormatInt(published[0], 10)
		post0 := searchdocs.PostIDPrefix + strconv.FormatInt(posts[0], 10)
		post1 := searchdocs.PostIDPrefix + strconv.FormatInt(posts[1], 10)
		if got := residentIDs(t, e.idx, "加装电梯"); !slices.Equal(got, []string{p0, post0, post1}) {
			t.Errorf("resident search 加装电梯 = %q, want [%s %s %s]", got, p0, post0, post1)
		}
		if got := residentIDs(t, e.idx, "意见征询"); !slices.Equal(got, []string{post1}) {
			t.Errorf("resident search 意见征询 = %q, want [%s]", got, post1)
		}
		// Pending and hidden ideas are in the index, but not for residents.
		if got := residentIDs(t, e.idx, "公示收支"); len(got) != 0 {
			t.Errorf("resident finds the pending idea: %q", got)
		}
		if got := residentIDs(t, e.idx, "广场舞噪音"); len(got) != 0 {
			t.Errorf("resident finds the hidden idea: %q", got)
		}
		if got := searchIDs(t, e.idx, search.Request{Text: "公示收支"}); !slices.Equal(got, []string{strconv.FormatInt(pending, 10)}) {
			t.Errorf("moderator search 公示收支 = %q, want the pending idea", got)
		}
		if got := searchIDs(t, e.idx, search.Request{Text: "广场舞噪音", Statuses: []string{"hidden"}}); !slices.Equal(got, []string{strconv.FormatInt(hidden, 10)}) {
			t.Errorf("hidden search = %q", got)
		}
	})
}

func TestIndexerFollowsStatusChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newIndexEnv(t, st)
		_, pending, _, _ := e.seed()
		e.catchUp(e.ix)
		id := strconv.FormatInt(pending, 10)
		by := store.ActorFor(e.mod, "127.0.0.1")

		// Approved: residents find it once the indexer has run.
		if _, err := st.Decide(e.ctx, pending, store.Decision{Action: store.ActApprove, By: by, Role: store.RoleModerator}); err != nil {
			t.Fatalf("approve: %v", err)
		}
		if n := e.lag(e.ix); n != 1 {
			t.Errorf("Lag after a decision = %d, want 1", n)
		}
		e.catchUp(e.ix)
		if got := residentIDs(t, e.idx, "公示收支"); !slices.Equal(got, []string{id}) {
			t.Errorf("after approval, resident search = %q, want [%s]", got, id)
		}

		// Hidden by reports: gone for residents.
		if _, err := st.ReportTarget(e.ctx, "idea", pending, store.Report{Reason: "spam", ReporterKey: "r1"}, 1); err != nil {
			t.Fatalf("report: %v", err)
		}
		e.catchUp(e.ix)
		if got := residentIDs(t, e.idx, "公示收支"); len(got) != 0 {
			t.Errorf("after hiding, resident search = %q", got)
		}

		// Rejected on review: indexed as rejected, still not for residents.
		if _, err := st.Decide(e.ctx, pending, store.Decision{Action: store.ActReject, Reason: "与活动主题无关", By: by, Role: store.RoleModerator}); err != nil {
			t.Fatalf("reject: %v", err)
		}
		e.catchUp(e.ix)
		if got := residentIDs(t, e.idx, "公示收支"); len(got) != 0 {
			t.Errorf("after rejection, resident search = %q", got)
		}
		if got := searchIDs(t, e.idx, search.Request{Text: "公示收支", Statuses: []string{"rejected"}}); !slices.Equal(got, []string{id}) {
			t.Errorf("search for rejected ideas = %q, want [%s]", got, id)
		}
		if n := docCount(t, e.idx); n != 7 {
			t.Errorf("%d documents after status changes, want still 7", n)
		}
	})
}

// extraEvents is a Source whose outbox has more events after the store's:
// ones naming rows that do not exist (deleted).
type extraEvents struct {
	*searchdocs.Loader
	extra []store.OutboxEvent
}

func (s *extraEvents) OutboxAfter(ctx context.Context, cursor int64, limit int) ([]store.OutboxEvent, error) {
	es, err := s.Loader.OutboxAfter(ctx, cursor, limit)
	if err != nil {
		return nil, err
	}
	for _, e := range s.extra {
		if e.ID > cursor && len(es) < limit {
			es = append(es, e)
		}
	}
	return es, nil
}

func (s *extraEvents) OutboxHead(ctx context.Context) (int64, error) {
	return s.extra[len(s.extra)-1].ID, nil
}

func TestIndexerRemovesDeletedRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newIndexEnv(t, st)
		e.seed()
		e.catchUp(e.ix)
		// Documents whose rows are gone (deleted while the index was away).
		stale := []search.Doc{
			{ID: "999999", Kind: searchdocs.EntityIdea, Title: "已删除的建议", Body: "这条建议的记录已经删除", Status: "published"},
			{ID: "post-888888", Kind: searchdocs.EntityPost, Title: "已删除的发言", Body: "这条发言的记录已经删除", Status: "published"},
		}
		if err := e.idx.Index(stale...); err != nil {
			t.Fatal(err)
		}
		if got := residentIDs(t, e.idx, "已经删除"); len(got) != 2 {
			t.Fatalf("stale documents not indexed: %q", got)
		}
		head := e.head()
		src := &extraEvents{Loader: &searchdocs.Loader{Store: st}, extra: []store.OutboxEvent{
			{ID: head + 1, Entity: searchdocs.EntityIdea, EntityID: 999999, Op: "delete"},
			{ID: head + 2, Entity: searchdocs.EntityPost, EntityID: 888888, Op: "delete"},
		}}
		ix := &search.Indexer{Index: e.idx, Source: src}
		if n := e.lag(ix); n != 2 {
			t.Errorf("Lag = %d, want 2", n)
		}
		if n := e.catchUp(ix); n != 2 {
			t.Errorf("CatchUp applied %d events, want 2", n)
		}
		if got := residentIDs(t, e.idx, "已经删除"); len(got) != 0 {
			t.Errorf("deleted rows still found: %q", got)
		}
		if n := docCount(t, e.idx); n != 7 {
			t.Errorf("%d documents, want 7", n)
		}
		if c, _ := e.idx.Cursor(); c != head+2 {
			t.Errorf("cursor %d, want %d", c, head+2)
		}
	})
}

func TestIndexerRecoversAfterACrash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newIndexEnv(t, st)
		e.seed()
		e.ix.Batch = 2
		// One step, then the process dies.
		if n, err := e.ix.Step(e.ctx); err != nil || n != 2 {
			t.Fatalf("Step = %d, %v; want 2 events", n, err)
		}
		if err := e.idx.Close(); err != nil {
			t.Fatal(err)
		}
		reopened := e.openIndex()
		ix := &search.Indexer{Index: reopened, Source: &searchdocs.Loader{Store: st}}
		if n := e.lag(ix); n != 5 {
			t.Errorf("Lag after restart = %d, want 5", n)
		}
		if n := e.catchUp(ix); n != 5 {
			t.Errorf("CatchUp after restart applied %d events, want 5", n)
		}
		if n := docCount(t, reopened); n != 7 {
			t.Errorf("%d documents after restart, want 7", n)
		}

		// A new node with an empty index catches up from cursor 0.
		fresh, err := search.OpenCurrent(filepath.Join(t.TempDir(), "index"), segmenter(t))
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		ix2 := &search.Indexer{Index: fresh, Source: &searchdocs.Loader{Store: st}}
		if n := e.lag(ix2); n != e.head() {
			t.Errorf("Lag of an empty index = %d, want the head %d", n, e.head())
		}
		if n := e.catchUp(ix2); n != 7 {
			t.Errorf("empty index caught up %d events, want 7", n)
		}
		if a, b := residentIDs(t, fresh, "电梯"), residentIDs(t, reopened, "电梯"); !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("new node finds %q, old one %q", a, b)
		}
	})
}

func TestIndexerRunAndNotify(t *testing.T) {
	st := storetest.Open(t)
	e := newIndexEnv(t, st)
	e.ix.Every = time.Hour // only Notify wakes it
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	// Notify may come before, during and after Run starts.
	e.ix.Notify()
	go func() { defer close(done); e.ix.Run(ctx) }()
	e.ix.Notify()
	defer func() { cancel(); <-done }()

	waitFor := func(text string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(residentIDs(t, e.idx, text)) != n {
			if time.Now().After(deadline) {
				t.Fatalf("%q: the running indexer did not index %d documents within 10s", text, n)
			}
			e.ix.Notify()
			time.Sleep(20 * time.Millisecond)
		}
	}
	e.submit(e.open, "路灯坏了没人修", "村口的路灯坏了三个月，晚上走路很危险，希望尽快维修。", "")
	waitFor("路灯", 1)
	e.post("路灯的问题我也遇到过，希望一起反映。")
	waitFor("路灯", 2)
}

func TestRebuild(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newIndexEnv(t, st)
		e.seed()
		e.catchUp(e.ix)
		head0 := e.head()

		// A change made while the rebuild runs is left to the indexer.
		var progress []int
		var late int64
		err := search.Rebuild(e.ctx, e.dir, segmenter(t), &searchdocs.Loader{Store: st, Settle: 10 * time.Millisecond}, func(n int) {
			progress = append(progress, n)
			if late == 0 {
				late = e.submit(e.open, "社区食堂延长营业时间", "希望社区食堂晚上也开门，方便下班晚的居民吃饭。", "")
			}
		})
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		if len(progress) == 0 || !slices.IsSorted(progress) || progress[len(progress)-1] < 7 {
			t.Errorf("progress %v: want rising counts up to at least 7", progress)
		}
		entries, _ := os.ReadDir(e.dir)
		var gens []string
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), "gen-") {
				gens = append(gens, en.Name())
			}
		}
		if !slices.Equal(gens, []string{"gen-000001", "gen-000002"}) {
			t.Errorf("generations after Rebuild = %q (the served one goes when Follow swaps)", gens)
		}
		cur, _ := os.ReadFile(filepath.Join(e.dir, "CURRENT"))
		if strings.TrimSpace(string(cur)) != "gen-000002" {
			t.Errorf("CURRENT = %q, want gen-000002", cur)
		}

		// The next start opens the rebuilt generation at the head the
		// rebuild began from, and catches up the late change.
		if err := e.idx.Close(); err != nil {
			t.Fatal(err)
		}
		rebuilt := e.openIndex()
		if c, _ := rebuilt.Cursor(); c != head0 {
			t.Errorf("rebuilt cursor %d, want the head at the start %d", c, head0)
		}
		ix := &search.Indexer{Index: rebuilt, Source: &searchdocs.Loader{Store: st}}
		if n := e.lag(ix); n != 1 {
			t.Errorf("Lag after Rebuild = %d, want 1 (the late submission)", n)
		}
		e.catchUp(ix)
		if got := residentIDs(t, rebuilt, "社区食堂"); !slices.Equal(got, []string{strconv.FormatInt(late, 10)}) {
			t.Errorf("late submission: %q", got)
		}
		if n := docCount(t, rebuilt); n != 8 {
			t.Errorf("%d documents, want 8", n)
		}
		if rebuilt.NeedsRebuild() {
			t.Error("rebuilt index needs a rebuild")
		}

		// A rebuild that fails leaves no generation behind and CURRENT alone.
		ctx, cancel := context.WithCancel(e.ctx)
		err = search.Rebuild(ctx, e.dir, segmenter(t), &searchdocs.Loader{Store: st, Settle: 10 * time.Millisecond}, func(int) { cancel() })
		if err == nil {
			t.Fatal("Rebuild with a cancelled context: no error")
		}
		entries, _ = os.ReadDir(e.dir)
		gens = nil
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), "gen-") {
				gens = append(gens, en.Name())
			}
		}
		if !slices.Equal(gens, []string{"gen-000002"}) {
			t.Errorf("generations after a failed rebuild = %q, want [gen-000002]", gens)
		}
		cur, _ = os.ReadFile(filepath.Join(e.dir, "CURRENT"))
		if strings.TrimSpace(string(cur)) != "gen-000002" {
			t.Errorf("CURRENT after a failed rebuild = %q", cur)
		}
	})
}
