package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jindianzi/portal"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
	"jindianzi/search/searchtest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStartupAppliesDictionary: the words admins stored are in the
// segmenter once serve's wiring, or reindex and search, have opened it.
func TestStartupAppliesDictionary(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	target := "sqlite:" + filepath.Join(data, "j.db")
	st := storetest.OpenTarget(t, target)
	byServe, byReindex, bySearch := searchtest.MadeUpWord("葫芦岛湾区口袋公园"), searchtest.MadeUpWord("兴城古城墙步道"), searchtest.MadeUpWord("龙湾海滨夜市")

	if _, err := st.AddDictionaryTerms(ctx, []string{byServe}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	p, err := wire(ctx, st, data)
	if err != nil {
		t.Fatal(err)
	}
	if !p.seg.HasWord(byServe) {
		t.Errorf("serve's wiring did not add the stored word %q", byServe)
	}
	sentence := "建议" + byServe + "增加座椅"
	if cut := p.seg.Cut(sentence); !slices.Contains(cut, byServe) {
		t.Errorf("%q is not cut whole: %q", byServe, cut)
	}

	common := []string{"--db", target, "--data", data, "--log-level", "warn"}
	if _, err := st.AddDictionaryTerms(ctx, []string{byReindex}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", append([]string{"reindex", "--quiet"}, common...)...); res.code != 0 {
		t.Fatalf("reindex: exit %d\n%s", res.code, res.stderr)
	}
	if !p.seg.HasWord(byReindex) {
		t.Errorf("reindex did not add the stored word %q", byReindex)
	}
	if _, err := st.AddDictionaryTerms(ctx, []string{bySearch}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", append([]string{"search", "夜市"}, common...)...); res.code != 0 {
		t.Fatalf("search: exit %d\n%s", res.code, res.stderr)
	}
	if !p.seg.HasWord(bySearch) {
		t.Errorf("search did not add the stored word %q", bySearch)
	}
}

// TestWatchDictionary: words added on another node reach this node's
// segmenter and start a rebuild of its own index.
func TestWatchDictionary(t *testing.T) {
	st := storetest.Open(t)
	seg, err := openSegmenter(context.Background(), st, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int64
	rb := newRebuilds(ctx, quietLog(), func(context.Context) error { runs.Add(1); return nil })
	stopped := make(chan struct{})
	go func() {
		watchDictionary(ctx, st, seg, 20*time.Millisecond, rb, quietLog())
		close(stopped)
	}()
	word := searchtest.MadeUpWord("笔架山潮汐栈道")
	if _, err := st.AddDictionaryTerms(context.Background(), []string{word}, store.Actor{Name: "other-node"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !seg.HasWord(word) || runs.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: segmenter has the word: %v; rebuilds: %d", seg.HasWord(word), runs.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // several more checks: nothing new, no more rebuilds
	cancel()
	<-stopped
	rb.wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("%d rebuilds, want 1", n)
	}
}

// TestRebuildsOneAtATime: rebuilds asked for while one runs make exactly
// one more, after it, never two at once; each one waits for the swap, and
// the index keeps answering throughout.
func TestRebuildsOneAtATime(t *testing.T) {
	st := storetest.Open(t)
	data := t.TempDir()
	seg, err := openSegmenter(context.Background(), st, data)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "index")
	idx, err := search.OpenCurrent(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var follow sync.WaitGroup
	follow.Go(func() { idx.Follow(ctx, 20*time.Millisecond, quietLog()) })

	var running, overlaps, runs atomic.Int64
	release := make(chan struct{})
	rb := newRebuilds(ctx, quietLog(), func(ctx context.Context) error {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		if runs.Add(1) == 1 {
			<-release // hold the first rebuild while more are asked for
		}
		return rebuildServed(ctx, idx, dir, seg, &searchdocs.Loader{Store: st})
	})
	var _ portal.Reindexer = rb
	start := idx.Path()
	rb.Reindex()
	for range 3 {
		rb.Reindex()
	}
	if s := rb.ReindexState(); !s.Running || !s.Queued || s.Finished != nil {
		t.Errorf("while the first runs: %+v", s)
	}
	if _, err := idx.Search(context.Background(), search.Request{Text: "电梯"}); err != nil {
		t.Errorf("search during the rebuild: %v", err)
	}
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for rb.ReindexState().Running {
		if time.Now().After(deadline) {
			t.Fatal("rebuilds still running after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := rb.ReindexState()
	if runs.Load() != 2 || overlaps.Load() != 0 || s.Failed || s.Queued || s.Finished == nil {
		t.Errorf("%d rebuilds (want 2), %d overlapping, state %+v", runs.Load(), overlaps.Load(), s)
	}
	if idx.Path() == start {
		t.Errorf("still serving %s", start)
	}
	if _, err := idx.Search(context.Background(), search.Request{Text: "电梯"}); err != nil {
		t.Errorf("search after the rebuilds: %v", err)
	}

	// After wait, nothing starts.
	rb.wait()
	rb.Reindex()
	if rb.ReindexState().Running {
		t.Error("a rebuild started after wait")
	}
	cancel()
	follow.Wait()
}
