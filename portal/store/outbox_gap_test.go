package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
	"jindianzi/search/searchtest"
)

// The tests here need the search package (its segmenter), which removes
// its dictionaries when they are done.
func TestMain(m *testing.M) { searchtest.Main(m) }

// gapEnv is a store, a second connection to its database beside the
// store's pools (to hold a transaction open), a campaign with one published
// idea, and an index fed by an indexer.
type gapEnv struct {
	*modEnv
	raw   *gorm.DB
	c     *store.Campaign
	first *store.Idea
	dir   string
	idx   *search.Index
	ix    *search.Indexer
}

// forEachGapEnv runs f against each backend, like storetest.ForEach, with
// the indexer caught up on the first idea.
func forEachGapEnv(t *testing.T, f func(t *testing.T, e *gapEnv)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			target := b.Target(t)
			st := storetest.OpenTarget(t, target)
			e := &gapEnv{modEnv: newModEnv(t, st), raw: openRaw(t, target), dir: filepath.Join(t.TempDir(), "index")}
			e.c, _ = e.campaign("outbox-gap", 3)
			e.first = e.idea(e.c, store.IdeaPublished, nil)
			var err error
			if e.idx, err = search.OpenCurrent(e.dir, searchtest.Segmenter(t)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.idx.Close() })
			e.ix = &search.Indexer{Index: e.idx, Source: &searchdocs.Loader{Store: st}, Settle: time.Hour}
			if _, err := e.ix.CatchUp(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.wantCursor(e.outboxHead())
			f(t, e)
		})
	}
}

// openRaw opens a plain GORM connection to target, closed at cleanup.
func openRaw(t *testing.T, target string) *gorm.DB {
	t.Helper()
	tg, err := store.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	d := gormmysql.Open(tg.DSN)
	if tg.Dialect == store.SQLite {
		d = sqlite.Open("file:" + tg.DSN + "?_busy_timeout=10000&_foreign_keys=1")
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open %s: %v", tg.Display, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// heldEdit retitles an idea the way the store writes any change — the row
// and an outbox row in one transaction — taking its outbox id before a
// later write commits, and committing (or rolling back) after it.
//
// On MySQL it is a real transaction, open on a connection of its own until
// commit or rollback. SQLite has one writer: no other write could commit
// while it is open, which is why SQLite never sees ids out of order. There
// the id is reserved instead (an outbox row inserted and deleted, so the
// next insert gets the id after it) and the edit is written with it at
// commit, which gives the indexer the same view: an id that appears after
// a higher one.
type heldEdit struct {
	t       *testing.T
	raw, tx *gorm.DB
	ideaID  int64
	title   string
	id      int64 // the outbox id
}

func (e *gapEnv) hold(ideaID int64, title string) *heldEdit {
	e.t.Helper()
	h := &heldEdit{t: e.t, raw: e.raw, ideaID: ideaID, title: title}
	if e.st.Dialect() == store.MySQL {
		h.tx = e.raw.Begin()
		if err := h.write(h.tx); err != nil {
			h.tx.Rollback()
			e.t.Fatalf("hold an edit: %v", err)
		}
		e.t.Cleanup(func() { h.tx.Rollback() }) // ErrTxDone once committed
		return h
	}
	ev := store.OutboxEvent{Entity: searchdocs.EntityIdea, EntityID: ideaID, Op: "upsert", CreatedAt: time.Now().UTC()}
	if err := e.raw.Create(&ev).Error; err != nil {
		e.t.Fatalf("reserve an outbox id: %v", err)
	}
	if err := e.raw.Delete(&ev).Error; err != nil {
		e.t.Fatalf("reserve an outbox id: %v", err)
	}
	h.id = ev.ID
	return h
}

// write updates the idea and inserts the outbox row (with the reserved id
// on SQLite) in tx.
func (h *heldEdit) write(tx *gorm.DB) error {
	if err := tx.Model(&store.Idea{}).Where("id = ?", h.ideaID).
		Updates(map[string]any{"title": h.title, "title_masked": h.title}).Error; err != nil {
		return err
	}
	ev := store.OutboxEvent{ID: h.id, Entity: searchdocs.EntityIdea, EntityID: h.ideaID, Op: "upsert", CreatedAt: time.Now().UTC()}
	if err := tx.Create(&ev).Error; err != nil {
		return err
	}
	h.id = ev.ID
	return nil
}

func (h *heldEdit) commit() {
	h.t.Helper()
	var err error
	if h.tx != nil {
		err = h.tx.Commit().Error
	} else {
		err = h.raw.Transaction(h.write)
	}
	if err != nil {
		h.t.Fatalf("commit the held edit: %v", err)
	}
}

func (h *heldEdit) rollback() {
	h.t.Helper()
	if h.tx != nil {
		if err := h.tx.Rollback().Error; err != nil {
			h.t.Fatalf("roll the held edit back: %v", err)
		}
	}
	// SQLite: the reserved id is simply never used.
}

// later stores a new published idea through the store's API while the held
// edit is open; its outbox id must come after the held one.
func (e *gapEnv) later(h *heldEdit, title string) *store.Idea {
	e.t.Helper()
	i := e.idea(e.c, store.IdeaPublished, func(i *store.Idea) { i.Title, i.TitleMasked = title, title })
	if head := e.outboxHead(); head <= h.id {
		e.t.Fatalf("the later write's outbox id %d is not after the held one %d", head, h.id)
	}
	return i
}

func (e *gapEnv) step(ix *search.Indexer, want int) {
	e.t.Helper()
	n, err := ix.Step(e.ctx)
	if err != nil {
		e.t.Fatalf("Step: %v", err)
	}
	if n != want {
		e.t.Errorf("Step applied %d events, want %d", n, want)
	}
}

func (e *gapEnv) wantCursor(want int64) {
	e.t.Helper()
	if c, err := e.idx.Cursor(); err != nil || c != want {
		e.t.Errorf("index cursor %d, %v; want %d", c, err, want)
	}
}

func (e *gapEnv) wantLag(ix *search.Indexer, want int64) {
	e.t.Helper()
	if n, err := ix.Lag(e.ctx); err != nil || n != want {
		e.t.Errorf("Lag = %d, %v; want %d", n, err, want)
	}
}

// found lists the ideas idx finds for text.
func found(t *testing.T, idx *search.Index, text string) []string {
	t.Helper()
	res, err := idx.Search(context.Background(), search.Request{Text: text, PerPage: 100})
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	ids := []string{}
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	sort.Strings(ids)
	return ids
}

func idStrings(ids ...int64) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, strconv.FormatInt(id, 10))
	}
	sort.Strings(out)
	return out
}

// A transaction that took the lower outbox id commits after one with a
// higher id was indexed: the indexer must still apply it.
func TestIndexerAppliesAnEarlierIDCommittedLate(t *testing.T) {
	forEachGapEnv(t, func(t *testing.T, e *gapEnv) {
		before := e.outboxHead()
		a := e.hold(e.first.ID, "村口路灯坏了三个月没人修")
		b := e.later(a, "垃圾分类投放点太少")

		e.step(e.ix, 1) // b
		if got := found(t, e.idx, "垃圾分类"); !slices.Equal(got, idStrings(b.ID)) {
			t.Errorf("after the later write, 垃圾分类 finds %q, want [%d]", got, b.ID)
		}
		e.wantCursor(before) // held before a's id
		e.wantLag(e.ix, 0)

		a.commit()
		e.step(e.ix, 1) // a
		if got := found(t, e.idx, "路灯"); !slices.Equal(got, idStrings(e.first.ID)) {
			t.Errorf("after the late commit, 路灯 finds %q, want [%d]", got, e.first.ID)
		}
		e.wantCursor(e.outboxHead())
		e.wantLag(e.ix, 0)
		e.step(e.ix, 0)
	})
}

// A rolled-back transaction leaves an id that never commits: it holds the
// cursor back (a restart reads the events after it again) until the settle
// time has passed, and not for good.
func TestIndexerPassesARolledBackID(t *testing.T) {
	forEachGapEnv(t, func(t *testing.T, e *gapEnv) {
		before := e.outboxHead()
		a := e.hold(e.first.ID, "村口路灯坏了三个月没人修")
		b := e.later(a, "垃圾分类投放点太少")
		e.step(e.ix, 1)
		a.rollback()
		e.step(e.ix, 0)
		e.wantCursor(before)

		// A restart, with the gap still open: b is applied again, harmlessly.
		ix := &search.Indexer{Index: e.idx, Source: &searchdocs.Loader{Store: e.st}, Settle: time.Hour}
		e.wantLag(ix, e.outboxHead()-before)
		e.step(ix, 1)
		e.wantCursor(before)
		if n, err := e.idx.DocCount(); err != nil || n != 2 {
			t.Errorf("DocCount = %d, %v; want 2", n, err)
		}

		ix.Settle = 20 * time.Millisecond
		time.Sleep(40 * time.Millisecond)
		e.step(ix, 0)
		e.wantCursor(e.outboxHead())
		e.wantLag(ix, 0)
		if got := found(t, e.idx, "路灯"); len(got) != 0 {
			t.Errorf("the rolled-back edit is indexed: %q", got)
		}
		if got := found(t, e.idx, "垃圾分类"); !slices.Equal(got, idStrings(b.ID)) {
			t.Errorf("垃圾分类 finds %q, want [%d]", got, b.ID)
		}

		c := e.idea(e.c, store.IdeaPublished, nil)
		e.step(ix, 1)
		e.wantCursor(e.outboxHead())
		if n, err := e.idx.DocCount(); err != nil || n != 3 {
			t.Errorf("DocCount after idea %d = %d, %v; want 3", c.ID, n, err)
		}
	})
}

// headThenCommit is the Loader as Rebuild sees it, committing a held edit
// shortly after Rebuild has taken the outbox head.
type headThenCommit struct {
	*searchdocs.Loader
	after     time.Duration
	commit    func()
	committed chan struct{}
}

func (s *headThenCommit) OutboxHead(ctx context.Context) (int64, error) {
	head, err := s.Loader.OutboxHead(ctx)
	go func() {
		defer close(s.committed)
		time.Sleep(s.after)
		s.commit()
	}()
	return head, err
}

// A rebuild starts from the outbox head: a transaction holding an id below
// it that commits soon after must be in the rebuilt generation, since the
// indexer will not apply it there.
func TestRebuildWaitsForOpenTransactions(t *testing.T) {
	forEachGapEnv(t, func(t *testing.T, e *gapEnv) {
		loader := &searchdocs.Loader{Store: e.st, Settle: 2 * time.Second}
		if e.st.Dialect() == store.SQLite {
			// One writer: no transaction is ever open below the head.
			if s := loader.OutboxSettle(); s != 0 {
				t.Errorf("OutboxSettle on SQLite = %v, want 0", s)
			}
			return
		}
		a := e.hold(e.first.ID, "村口路灯坏了三个月没人修")
		b := e.later(a, "垃圾分类投放点太少")
		head := e.outboxHead()
		src := &headThenCommit{Loader: loader, after: 200 * time.Millisecond, committed: make(chan struct{})}
		src.commit = func() {
			if err := a.tx.Commit().Error; err != nil {
				t.Errorf("commit the held edit: %v", err)
			}
		}
		start := time.Now()
		if err := search.Rebuild(e.ctx, e.dir, searchtest.Segmenter(t), src, nil); err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		<-src.committed
		if d := time.Since(start); d < loader.Settle {
			t.Errorf("Rebuild took %v, less than the settle time %v", d, loader.Settle)
		}
		if err := e.idx.Close(); err != nil {
			t.Fatal(err)
		}
		rebuilt, err := search.OpenCurrent(e.dir, searchtest.Segmenter(t))
		if err != nil {
			t.Fatal(err)
		}
		defer rebuilt.Close()
		if c, err := rebuilt.Cursor(); err != nil || c != head {
			t.Errorf("rebuilt cursor %d, %v; want the head %d", c, err, head)
		}
		if got := found(t, rebuilt, "路灯"); !slices.Equal(got, idStrings(e.first.ID)) {
			t.Errorf("rebuilt index: 路灯 finds %q, want [%d] (the edit that committed during the rebuild)", got, e.first.ID)
		}
		if got := found(t, rebuilt, "垃圾分类"); !slices.Equal(got, idStrings(b.ID)) {
			t.Errorf("rebuilt index: 垃圾分类 finds %q, want [%d]", got, b.ID)
		}
	})
}
