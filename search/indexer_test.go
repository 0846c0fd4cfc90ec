package search

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"jindianzi/portal/store"
)

// gapSource is an outbox whose rows commit out of id order, as on MySQL:
// only the ids committed so far are visible. Event i names idea "i"; Docs
// records which ideas were (re)indexed, in order.
type gapSource struct {
	mu      sync.Mutex
	visible []int64 // ascending
	applied []int64
}

func (s *gapSource) commit(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visible = append(s.visible, ids...)
	slices.Sort(s.visible)
}

// reindexed returns the ideas indexed since the last call.
func (s *gapSource) reindexed() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.applied
	s.applied = nil
	slices.Sort(out)
	return out
}

func (s *gapSource) OutboxAfter(_ context.Context, cursor int64, limit int) ([]store.OutboxEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.OutboxEvent
	for _, id := range s.visible {
		if id > cursor && len(out) < limit {
			out = append(out, store.OutboxEvent{ID: id, Entity: "idea", EntityID: id, Op: "upsert"})
		}
	}
	return out, nil
}

func (s *gapSource) OutboxHead(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.visible) == 0 {
		return 0, nil
	}
	return s.visible[len(s.visible)-1], nil
}

func (s *gapSource) Docs(_ context.Context, _ string, ids []int64) ([]Doc, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var docs []Doc
	for _, id := range ids {
		s.applied = append(s.applied, id)
		docs = append(docs, Doc{ID: strconv.FormatInt(id, 10), Title: "建议", Body: "路灯维修"})
	}
	return docs, nil, nil
}

func step(t *testing.T, ix *Indexer, want int) {
	t.Helper()
	n, err := ix.Step(context.Background())
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	if n != want {
		t.Errorf("Step applied %d events, want %d", n, want)
	}
}

func wantLag(t *testing.T, ix *Indexer, want int64) {
	t.Helper()
	n, err := ix.Lag(context.Background())
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if n != want {
		t.Errorf("Lag = %d, want %d", n, want)
	}
}

func wantReindexed(t *testing.T, src *gapSource, want ...int64) {
	t.Helper()
	if got := src.reindexed(); !slices.Equal(got, want) {
		t.Errorf("indexed %v, want %v", got, want)
	}
}

// Event 3 commits after 4 and 5: the indexer applies 4 and 5 at once but
// keeps its cursor at 2 until 3 has come, then applies 3 alone.
func TestIndexerWaitsForAGapToFill(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	src := &gapSource{}
	ix := &Indexer{Index: x, Source: src, Settle: time.Hour}
	src.commit(1, 2, 4, 5)
	step(t, ix, 4)
	wantReindexed(t, src, 1, 2, 4, 5)
	wantCursor(t, x, 2)
	wantLag(t, ix, 0) // 5 is applied; 3 is not an event yet
	step(t, ix, 0)
	wantReindexed(t, src)
	wantCursor(t, x, 2)

	src.commit(3)
	step(t, ix, 1)
	wantReindexed(t, src, 3)
	wantCursor(t, x, 5)
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("index holds %q", got)
	}
}

// A process that stops with a gap open starts again from the stored cursor,
// before the gap: it applies the events after the gap again (harmless) and
// then the one that filled it.
func TestIndexerRestartsBeforeAGap(t *testing.T) {
	dir := t.TempDir()
	x := openCurrent(t, dir)
	src := &gapSource{}
	src.commit(1, 3)
	step(t, &Indexer{Index: x, Source: src, Settle: time.Hour}, 2)
	wantCursor(t, x, 1)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	src.reindexed()

	y := openCurrent(t, dir)
	ix := &Indexer{Index: y, Source: src, Settle: time.Hour}
	wantLag(t, ix, 2)
	step(t, ix, 1)
	wantReindexed(t, src, 3)
	wantCursor(t, y, 1)
	src.commit(2)
	step(t, ix, 1)
	wantReindexed(t, src, 2)
	wantCursor(t, y, 3)
	if n, err := y.DocCount(); err != nil || n != 3 {
		t.Errorf("DocCount = %d, %v; want 3", n, err)
	}
}

// An id that never commits (a rolled-back transaction) holds the cursor
// back for Settle only.
func TestIndexerPassesASettledGap(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	src := &gapSource{}
	ix := &Indexer{Index: x, Source: src, Settle: time.Hour}
	src.commit(1, 3, 4, 7)
	step(t, ix, 4)
	wantCursor(t, x, 1)
	step(t, ix, 0)
	wantCursor(t, x, 1)

	ix.Settle = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	step(t, ix, 0)
	wantCursor(t, x, 7)
	wantReindexed(t, src, 1, 3, 4, 7)
	wantLag(t, ix, 0)
	// A gap seen later waits its own Settle.
	ix.Settle = time.Hour
	src.commit(9)
	step(t, ix, 1)
	wantCursor(t, x, 7)
}

// While a gap is open, a step reads the applied events after it again; when
// there are too many of those it stops taking new events until the gap
// fills or settles.
func TestIndexerBoundsTheSpanItRereads(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	src := &gapSource{}
	ix := &Indexer{Index: x, Source: src, Batch: 1, Settle: time.Hour}
	src.commit(1)
	for id := int64(3); id <= 30; id++ {
		src.commit(id)
	}
	if n, err := ix.CatchUp(context.Background()); err != nil || n != 1+maxSpanBatches {
		t.Fatalf("CatchUp = %d, %v; want %d events", n, err, 1+maxSpanBatches)
	}
	wantCursor(t, x, 1)
	wantLag(t, ix, 30-2-maxSpanBatches)
	src.commit(2)
	if n, err := ix.CatchUp(context.Background()); err != nil || n != 29-maxSpanBatches {
		t.Fatalf("CatchUp = %d, %v; want %d events", n, err, 29-maxSpanBatches)
	}
	wantCursor(t, x, 30)
	wantLag(t, ix, 0)
}

// A read cut short by the batch limit must not pass a gap it did not
// reach, however old: the gap may have filled.
func TestIndexerPassesOnlyGapsItRead(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	src := &gapSource{}
	ix := &Indexer{Index: x, Source: src, Batch: 1, Settle: time.Hour}
	src.commit(1, 5, 7)
	step(t, ix, 1) // 1
	step(t, ix, 1) // 5: gap 2-4
	step(t, ix, 1) // 7: gap 6
	wantCursor(t, x, 1)
	src.commit(2, 3, 4, 6)
	ix.Settle = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	step(t, ix, 3) // reads 2, 3, 4 and stops short of 6
	wantCursor(t, x, 5)
	step(t, ix, 1)
	wantCursor(t, x, 7)
	wantReindexed(t, src, 1, 2, 3, 4, 5, 6, 7)
}

// A rebuilt generation swapped in at the very cursor the indexer stands at
// holds none of the events applied past it: the indexer applies them again.
func TestIndexerReappliesAfterASwapAtTheSameCursor(t *testing.T) {
	dir := t.TempDir()
	x := openCurrent(t, dir)
	src := &gapSource{}
	ix := &Indexer{Index: x, Source: src, Settle: time.Hour}
	src.commit(1, 3)
	step(t, ix, 2)
	wantCursor(t, x, 1)

	b, err := NewBuilder(dir, testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Index.Index(Doc{ID: "1", Title: "建议", Body: "路灯维修"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(1); err != nil {
		t.Fatal(err)
	}
	next, err := OpenIndex(filepath.Join(dir, genName(2)), testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	if old := x.swap(next, genName(2)); old != nil {
		old.Close()
	}
	src.reindexed()
	step(t, ix, 1)
	wantReindexed(t, src, 3)
	wantCursor(t, x, 1)
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("swapped-in generation holds %q, want [1 3]", got)
	}
}
