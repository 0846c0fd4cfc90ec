package search

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"jindianzi/portal/store"
)

// genDirs lists the gen-* directories in dir, sorted.
func genDirs(t *testing.T, dir string) []string {
	t.Helper()
	gens, err := generations(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gens {
		out = append(out, genName(g))
	}
	return out
}

// currentName reads CURRENT, failing the test if it cannot.
func currentName(t *testing.T, dir string) string {
	t.Helper()
	name, err := current(dir)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// openCurrent is OpenCurrent with the shared Segmenter, closed at cleanup.
func openCurrent(t *testing.T, dir string) *Index {
	t.Helper()
	x, err := OpenCurrent(dir, testSegmenter(t))
	if err != nil {
		t.Fatalf("OpenCurrent: %v", err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// wantCursor checks the index's outbox cursor.
func wantCursor(t *testing.T, x *Index, want int64) {
	t.Helper()
	got, err := x.Cursor()
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	if got != want {
		t.Errorf("Cursor = %d, want %d", got, want)
	}
}

// searchAll returns the ids of every document matching text (all documents
// for ""), sorted.
func searchAll(t *testing.T, x *Index, text string) []string {
	t.Helper()
	res, err := x.Search(context.Background(), Request{Text: text, PerPage: 100})
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestOpenCurrentStartsFirstGeneration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index") // does not exist yet
	x := openCurrent(t, dir)
	if got := currentName(t, dir); got != "gen-000001" {
		t.Errorf("CURRENT = %q, want gen-000001", got)
	}
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000001"}) {
		t.Errorf("generations = %q, want [gen-000001]", got)
	}
	if x.Path() != filepath.Join(dir, "gen-000001") {
		t.Errorf("Path = %q", x.Path())
	}
	if x.NeedsRebuild() {
		t.Error("a new generation needs a rebuild")
	}
	wantCursor(t, x, 0)
	assertCount(t, x, 0)
}

func TestApplyMovesCursorWithDocs(t *testing.T) {
	dir := t.TempDir()
	x := openCurrent(t, dir)
	if err := x.Apply(testDocs, nil, 5); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantCursor(t, x, 5)
	assertCount(t, x, 3)

	// A batch that fails writes nothing: neither documents nor the cursor.
	bad := []Doc{{ID: "4", Title: "新的建议", Body: "公交站台加装遮阳棚"}, {Title: "没有编号"}}
	if err := x.Apply(bad, []string{"1"}, 9); err == nil {
		t.Fatal("Apply with a document without an id: no error")
	}
	wantCursor(t, x, 5)
	assertCount(t, x, 3)

	// Deletes and the cursor move together; deleting an unknown id is fine.
	if err := x.Apply([]Doc{{ID: "4", Title: "新的建议", Body: "公交站台加装遮阳棚"}}, []string{"1", "no-such-id"}, 7); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	wantCursor(t, x, 7)
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Errorf("documents after Apply = %q, want [2 3 4]", got)
	}

	// Reopening keeps the cursor and the documents.
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y := openCurrent(t, dir)
	wantCursor(t, y, 7)
	if got := searchAll(t, y, "遮阳棚"); !slices.Equal(got, []string{"4"}) {
		t.Errorf("after reopen, 遮阳棚 finds %q, want [4]", got)
	}
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000001"}) {
		t.Errorf("generations after reopen = %q", got)
	}

	// SetCursor alone moves it too.
	if err := y.SetCursor(11); err != nil {
		t.Fatal(err)
	}
	wantCursor(t, y, 11)
}

func TestClosedIndexRefusesLifecycleCalls(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Cursor(); !errors.Is(err, ErrClosed) {
		t.Errorf("Cursor after Close: %v, want ErrClosed", err)
	}
	if err := x.Apply(testDocs, nil, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
	if _, err := x.Search(context.Background(), Request{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Search after Close: %v, want ErrClosed", err)
	}
}

// A rebuild fills a new generation while the served index keeps answering
// from the old one; Commit points CURRENT at it and Follow swaps it in,
// then deletes the old generation.
func TestRebuildSwapsUnderFollow(t *testing.T) {
	dir := t.TempDir()
	seg := testSegmenter(t)
	x := openCurrent(t, dir)
	if err := x.Apply(testDocs, nil, 3); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		x.Follow(ctx, 50*time.Millisecond, quietLog())
	}()
	t.Cleanup(func() { cancel(); <-followed })

	// Searches run throughout the swap and must never fail.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var searchErrs []error
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := x.Search(context.Background(), Request{Text: "小区", Facets: true}); err != nil {
					mu.Lock()
					searchErrs = append(searchErrs, err)
					mu.Unlock()
					return
				}
			}
		})
	}

	b, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatalf("NewBuilder: %v", err)
	}
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000001", "gen-000002"}) {
		t.Errorf("generations while building = %q", got)
	}
	fresh := []Doc{
		{ID: "10", Title: "社区食堂延长营业时间", Body: "希望社区食堂晚上也开门，方便下班晚的居民。", Status: "published",
			Created: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)},
		{ID: "2", Title: "老旧小区停车难", Body: "晚上电动车没有地方充电。", Status: "published",
			Created: time.Date(2024, 5, 2, 18, 0, 0, 0, time.UTC)},
	}
	if err := b.Index.Index(fresh...); err != nil {
		t.Fatal(err)
	}
	// Not committed: the served index still answers from the old generation.
	time.Sleep(150 * time.Millisecond)
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("before Commit the served index has %q, want [1 2 3]", got)
	}
	if got := searchAll(t, x, "食堂"); len(got) != 0 {
		t.Errorf("before Commit 食堂 finds %q", got)
	}
	if err := b.Commit(42); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := currentName(t, dir); got != "gen-000002" {
		t.Errorf("CURRENT after Commit = %q, want gen-000002", got)
	}

	deadline := time.Now().Add(5 * time.Second)
	for x.generation() != "gen-000002" {
		if time.Now().After(deadline) {
			t.Fatal("Follow did not swap in gen-000002 within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for _, err := range searchErrs {
		t.Errorf("search during the swap: %v", err)
	}

	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"10", "2"}) {
		t.Errorf("after the swap the index has %q, want [10 2]", got)
	}
	if got := searchAll(t, x, "食堂"); !slices.Equal(got, []string{"10"}) {
		t.Errorf("after the swap 食堂 finds %q, want [10]", got)
	}
	if got := searchAll(t, x, "垃圾分类"); len(got) != 0 {
		t.Errorf("after the swap 垃圾分类 (only in the old generation) finds %q", got)
	}
	wantCursor(t, x, 42)
	if x.Path() != filepath.Join(dir, "gen-000002") {
		t.Errorf("Path after the swap = %q", x.Path())
	}
	// The old generation is removed right after the swap.
	for time.Now().Before(deadline) && len(genDirs(t, dir)) > 1 {
		time.Sleep(20 * time.Millisecond)
	}
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000002"}) {
		t.Errorf("generations after the swap = %q, want [gen-000002]", got)
	}
	// Writes after the swap land in the new generation.
	if err := x.Apply([]Doc{{ID: "11", Title: "路灯不亮", Body: "村口的路灯坏了三个月。"}}, nil, 43); err != nil {
		t.Fatal(err)
	}
	if got := searchAll(t, x, "路灯"); !slices.Equal(got, []string{"11"}) {
		t.Errorf("after the swap 路灯 finds %q, want [11]", got)
	}

	// The next start opens the new generation.
	cancel()
	<-followed
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y := openCurrent(t, dir)
	wantCursor(t, y, 43)
	assertCount(t, y, 3)
}

func TestFollowWithoutGenerationsReturns(t *testing.T) {
	x := openTestIndex(t, t.TempDir()) // OpenIndex: no directory of generations
	done := make(chan struct{})
	go func() {
		x.Follow(context.Background(), 10*time.Millisecond, quietLog())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow on an index outside a generation directory did not return")
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	x := openCurrent(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		x.Follow(ctx, 10*time.Millisecond, quietLog())
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after its context ended")
	}
}

func TestBuilderAbort(t *testing.T) {
	dir := t.TempDir()
	x := openCurrent(t, dir)
	if err := x.Apply(testDocs, nil, 3); err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(dir, testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Index.Index(Doc{ID: "9", Title: "半成品"}); err != nil {
		t.Fatal(err)
	}
	b.Abort()
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000001"}) {
		t.Errorf("generations after Abort = %q, want [gen-000001]", got)
	}
	if got := currentName(t, dir); got != "gen-000001" {
		t.Errorf("CURRENT after Abort = %q", got)
	}
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("served index after Abort = %q", got)
	}
	// The next builder takes the number again.
	b2, err := NewBuilder(dir, testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Abort()
	if filepath.Base(b2.Path()) != "gen-000002" {
		t.Errorf("next builder in %s, want gen-000002", b2.Path())
	}
}

func TestNewBuilderInEmptyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	b, err := NewBuilder(dir, testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Index.Index(testDocs...); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(17); err != nil {
		t.Fatal(err)
	}
	x := openCurrent(t, dir)
	if x.Path() != filepath.Join(dir, "gen-000001") {
		t.Errorf("opened %s, want gen-000001", x.Path())
	}
	wantCursor(t, x, 17)
	assertCount(t, x, 3)
}

func TestOpenCurrentRemovesStaleGenerations(t *testing.T) {
	dir := t.TempDir()
	seg := testSegmenter(t)
	// gen-000002 is current; gen-000001 was left by a swap and gen-000003
	// by an interrupted rebuild.
	for _, name := range []string{"gen-000001", "gen-000002", "gen-000003"} {
		x, err := OpenIndex(filepath.Join(dir, name), seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Index(Doc{ID: name, Title: name}); err != nil {
			t.Fatal(err)
		}
		x.Close()
	}
	if err := setCurrent(dir, "gen-000002"); err != nil {
		t.Fatal(err)
	}
	// Other files and directories are left alone.
	if err := os.Mkdir(filepath.Join(dir, "backup"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := openCurrent(t, dir)
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000002"}) {
		t.Errorf("generations = %q, want [gen-000002]", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "backup")); err != nil {
		t.Errorf("OpenCurrent removed an unrelated directory: %v", err)
	}
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"gen-000002"}) {
		t.Errorf("opened documents %q, want [gen-000002]", got)
	}
	// A rebuild after that takes a number above the current one.
	b, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	if filepath.Base(b.Path()) != "gen-000003" {
		t.Errorf("builder in %s, want gen-000003", b.Path())
	}
}

func TestOpenCurrentReadOnly(t *testing.T) {
	seg := testSegmenter(t)
	t.Run("no index yet", func(t *testing.T) {
		if _, err := OpenCurrentReadOnly(t.TempDir(), seg); err == nil {
			t.Error("no error for a directory without an index")
		}
	})
	t.Run("without a segmenter", func(t *testing.T) {
		if _, err := OpenCurrentReadOnly(t.TempDir(), nil); !errors.Is(err, errNoSegmenter) {
			t.Errorf("err = %v, want errNoSegmenter", err)
		}
	})

	dir := t.TempDir()
	w, err := OpenCurrent(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Apply(testDocs, nil, 3); err != nil {
		t.Fatal(err)
	}

	t.Run("while a writer holds it", func(t *testing.T) {
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			r, err := OpenCurrentReadOnly(dir, seg)
			if err == nil {
				r.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Error("opened read-only beside a writer: want an error")
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("gave up after %v, want a few seconds", d)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("OpenCurrentReadOnly hangs while a writer holds the index")
		}
	})

	t.Run("after the writer closed", func(t *testing.T) {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := OpenCurrentReadOnly(dir, seg)
		if err != nil {
			t.Fatalf("OpenCurrentReadOnly: %v", err)
		}
		defer r.Close()
		wantCursor(t, r, 3)
		if got := searchAll(t, r, "垃圾分类"); !slices.Equal(got, []string{"1"}) {
			t.Errorf("垃圾分类 finds %q, want [1]", got)
		}
		// Two readers at once are fine.
		r2, err := OpenCurrentReadOnly(dir, seg)
		if err != nil {
			t.Fatalf("second reader: %v", err)
		}
		r2.Close()
	})
}

// memSource is an outbox in memory: event i names idea "i", whose document
// says which event last wrote it. before runs at the start of each Docs call.
type memSource struct {
	events []store.OutboxEvent
	before func()
}

func (s *memSource) OutboxAfter(_ context.Context, cursor int64, limit int) ([]store.OutboxEvent, error) {
	var out []store.OutboxEvent
	for _, e := range s.events {
		if e.ID > cursor && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memSource) OutboxHead(context.Context) (int64, error) {
	if len(s.events) == 0 {
		return 0, nil
	}
	return s.events[len(s.events)-1].ID, nil
}

func (s *memSource) Docs(_ context.Context, _ string, ids []int64) ([]Doc, []string, error) {
	if s.before != nil {
		s.before()
	}
	var docs []Doc
	for _, id := range ids {
		docs = append(docs, Doc{ID: strconv.FormatInt(id, 10), Title: "建议", Body: "路灯维修"})
	}
	return docs, nil, nil
}

// A rebuilt generation swapped in while the indexer is between reading its
// cursor and writing a batch must not be given that batch's cursor: the
// events between the rebuild's cursor and the old one would never reach it.
func TestIndexerStepAcrossASwap(t *testing.T) {
	dir := t.TempDir()
	seg := testSegmenter(t)
	x := openCurrent(t, dir)
	src := &memSource{}
	for id := int64(1); id <= 6; id++ {
		src.events = append(src.events, store.OutboxEvent{ID: id, Entity: "idea", EntityID: id, Op: "upsert"})
	}
	ix := &Indexer{Index: x, Source: src, Batch: 2}
	// The served generation has applied events 1-4.
	for range 2 {
		if _, err := ix.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	wantCursor(t, x, 4)

	// A rebuild that started at event 2 commits (it holds only 1 and 2),
	// and is swapped in while the indexer loads events 5-6.
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() { defer close(followed); x.Follow(ctx, 10*time.Millisecond, quietLog()) }()
	defer func() { cancel(); <-followed }()
	src.before = func() {
		src.before = nil
		b, err := NewBuilder(dir, seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Index.Index(Doc{ID: "1", Title: "建议"}, Doc{ID: "2", Title: "建议"}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(2); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); x.generation() != "gen-000002"; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no swap")
			}
		}
	}
	if _, err := ix.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if x.generation() != "gen-000002" {
		t.Fatalf("generation %s", x.generation())
	}
	wantCursor(t, x, 6)
	if got := searchAll(t, x, ""); !slices.Equal(got, []string{"1", "2", "3", "4", "5", "6"}) {
		t.Errorf("rebuilt generation after catching up holds %q, want 1-6", got)
	}
}

// TestFollowKeepsNewerGeneration checks that switching to a rebuilt
// generation deletes the older ones but not a newer one another rebuild is
// still filling, which then becomes current in turn.
func TestFollowKeepsNewerGeneration(t *testing.T) {
	dir := t.TempDir()
	seg := testSegmenter(t)
	x := openCurrent(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		x.Follow(ctx, 20*time.Millisecond, quietLog())
	}()
	t.Cleanup(func() { cancel(); <-followed })

	first, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Index.Index(Doc{ID: "9", Title: "社区食堂", Body: "晚上也开门。", Status: "published"}); err != nil {
		t.Fatal(err)
	}
	if err := first.Commit(0); err != nil {
		t.Fatal(err)
	}
	waitFor := func(gen string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); x.generation() != gen; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("still on %s, want %s", x.generation(), gen)
			}
		}
		time.Sleep(50 * time.Millisecond) // the clean-up after the swap
	}
	waitFor("gen-000002")
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000002", "gen-000003"}) {
		t.Fatalf("after switching to gen-000002: %q, want the one being filled kept", got)
	}
	if err := second.Commit(0); err != nil {
		t.Fatalf("committing the newer generation: %v", err)
	}
	waitFor("gen-000003")
	if got := searchAll(t, x, "食堂"); !slices.Equal(got, []string{"9"}) {
		t.Errorf("after switching to gen-000003: 食堂 finds %q", got)
	}
	if got := genDirs(t, dir); !slices.Equal(got, []string{"gen-000003"}) {
		t.Errorf("generations left: %q", got)
	}
}
