package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
)

// TestAnswerCacheFollowsIndex checks that a cached answer is not given
// once the index has changed: a new, changed or deleted document shows at
// the next search.
func TestAnswerCacheFollowsIndex(t *testing.T) {
	x := openFindIndex(t)
	r := Request{Text: "电梯", Facets: true}
	first := find(t, x, r)
	if x.answers.lru.Len() != 1 {
		t.Fatalf("%d answers cached after one search", x.answers.lru.Len())
	}
	if again := find(t, x, r); !slices.Equal(hitIDs(again), hitIDs(first)) || again.Total != first.Total {
		t.Fatalf("the same search twice: %q (%d) then %q (%d)", hitIDs(first), first.Total, hitIDs(again), again.Total)
	}
	added := Doc{ID: "new", Kind: "idea", Title: "电梯", Body: "电梯电梯", Theme: "新主题", Campaign: "c9",
		Status: "published", Created: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)}
	if err := x.Index(added); err != nil {
		t.Fatal(err)
	}
	after := find(t, x, r)
	if after.Total != first.Total+1 || !slices.Contains(hitIDs(after), "new") {
		t.Fatalf("after indexing a match: %q, total %d (before %d)", hitIDs(after), after.Total, first.Total)
	}
	if got := facetCount(after, FieldTheme, "新主题"); got != 1 {
		t.Errorf("facet 新主题 = %d after indexing, want 1", got)
	}
	if err := x.Delete("new"); err != nil {
		t.Fatal(err)
	}
	if gone := find(t, x, r); gone.Total != first.Total || slices.Contains(hitIDs(gone), "new") {
		t.Errorf("after deleting it: %q, total %d", hitIDs(gone), gone.Total)
	}
}

func facetCount(res *Result, field, term string) int {
	for _, fc := range res.Facets[field] {
		if fc.Term == term {
			return fc.Count
		}
	}
	return 0
}

// TestAnswerCachePages checks that pages served from a cached window are
// the pages an uncached search returns, for every order, past the end of
// the window and past the last match.
func TestAnswerCachePages(t *testing.T) {
	x := openFindIndex(t)
	more := findDocs()
	for i := range more {
		more[i].ID += "-b"
	}
	if err := x.Index(more...); err != nil {
		t.Fatal(err)
	}
	for _, sort := range []string{SortRelevance, SortNewest} {
		for _, text := range []string{"垃圾分类", "电梯", ""} {
			var all []string
			for page := 1; page <= 12; page++ {
				r := Request{Text: text, Sort: sort, PerPage: 3, Page: page, Facets: true}
				got := find(t, x, r)
				want := uncached(t, x, r)
				if !slices.Equal(hitIDs(got), hitIDs(want)) || got.Total != want.Total {
					t.Errorf("%s %q page %d: %q (%d), uncached %q (%d)", sort, text, page, hitIDs(got), got.Total, hitIDs(want), want.Total)
				}
				for _, f := range facetFields {
					if !slices.Equal(got.Facets[f], want.Facets[f]) {
						t.Errorf("%s %q page %d facet %s: %v, uncached %v", sort, text, page, f, got.Facets[f], want.Facets[f])
					}
				}
				all = append(all, hitIDs(got)...)
			}
			if whole := find(t, x, Request{Text: text, Sort: sort, PerPage: 36}); !slices.Equal(all, hitIDs(whole)[:len(all)]) {
				t.Errorf("%s %q: pages of 3 %q, one page %q", sort, text, all, hitIDs(whole))
			}
		}
	}
}

// uncached runs r as Search does, without the answer cache.
func uncached(t *testing.T, x *Index, r Request) *Result {
	t.Helper()
	order := byScore
	switch {
	case r.Sort == SortSupported:
		order = bySupport
	case r.Sort == SortNewest || r.Text == "":
		order = byNewest
	}
	res, err := collect(t.Context(), x.index, x.toQuery(r),
		collection{order: order, facets: r.Facets, skip: (r.Page - 1) * r.PerPage, size: r.PerPage})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAnswerCacheCopies checks that changing an answer does not change
// what the next search of the same request gets.
func TestAnswerCacheCopies(t *testing.T) {
	x := openFindIndex(t)
	r := Request{Text: "电梯", Facets: true}
	first := find(t, x, r)
	ids, themes := hitIDs(first), slices.Clone(first.Facets[FieldTheme])
	first.Hits[0].ID = "changed"
	first.Facets[FieldTheme][0].Count = 999
	first.Facets[FieldRegion] = nil
	again := find(t, x, r)
	if !slices.Equal(hitIDs(again), ids) || !slices.Equal(again.Facets[FieldTheme], themes) || len(again.Facets[FieldRegion]) == 0 {
		t.Errorf("after changing the first answer: %q %v %v", hitIDs(again), again.Facets[FieldTheme], again.Facets[FieldRegion])
	}
}

// TestAnswerCacheKey checks that an answer is kept apart for everything
// it depends on: filters, visibility, order, facets, the window of hits,
// and the words added to the segmenter since.
func TestAnswerCacheKey(t *testing.T) {
	x := openFindIndex(t)
	base := Request{Text: "电梯", Statuses: []string{"published"}, Facets: true}
	public := find(t, x, base)
	all := base
	all.Statuses = nil
	if everything := find(t, x, all); everything.Total <= public.Total || !slices.Contains(hitIDs(everything), "a4") {
		t.Errorf("without the status filter: %q (%d); published only %q (%d)", hitIDs(everything), everything.Total, hitIDs(public), public.Total)
	}
	if slices.Contains(hitIDs(find(t, x, base)), "a4") {
		t.Error("the pending idea a4 in the published-only answer")
	}
	region := base
	region.Region = "330000"
	if got := find(t, x, region); got.Total >= public.Total {
		t.Errorf("with a region filter: total %d, without %d", got.Total, public.Total)
	}
	noFacets := base
	noFacets.Facets = false
	if got := find(t, x, noFacets); got.Facets != nil {
		t.Errorf("a search without facets got facets %v", got.Facets)
	}

	k1 := newAnswerKey(base, x.seg.wordCount(), answerWindow)
	if n := x.seg.AddWords([]string{"答案缓存测试词"}); n != 1 {
		t.Fatalf("AddWords added %d words", n)
	}
	if k2 := newAnswerKey(base, x.seg.wordCount(), answerWindow); k1 == k2 {
		t.Error("the key did not change when a word was added")
	}
	later := base
	later.Page = 6 // the second window of 100
	if k := newAnswerKey(later, 0, 2*answerWindow); k == newAnswerKey(base, 0, answerWindow) {
		t.Error("two windows share a key")
	}
}

// TestAnswerCacheBounds checks the cache's size limit, its least-recently-
// used order and that a new snapshot starts it over.
func TestAnswerCacheBounds(t *testing.T) {
	var c answerCache
	snap := &scorch.IndexSnapshot{}
	key := func(i int) answerKey { return answerKey{text: fmt.Sprint(i), window: answerWindow} }
	// answer asks for key i's answer, collecting it as total i when it
	// is not kept, and reports whether it was.
	answer := func(snap *scorch.IndexSnapshot, i int) bool {
		kept := true
		res, err := c.do(t.Context(), snap, key(i), func() (*Result, error) {
			kept = false
			return &Result{Total: uint64(i)}, nil
		})
		if err != nil || res.Total != uint64(i) {
			t.Fatalf("answer %d: %v, %v", i, res, err)
		}
		return kept
	}
	for i := range answerCacheSize {
		answer(snap, i)
	}
	if !answer(snap, 0) { // now the most recently used
		t.Fatal("key 0 missing before the cache was full")
	}
	answer(snap, answerCacheSize)
	if c.lru.Len() != answerCacheSize || len(c.entries) != answerCacheSize {
		t.Errorf("%d entries, %d in the map; limit %d", c.lru.Len(), len(c.entries), answerCacheSize)
	}
	if !answer(snap, 0) {
		t.Error("key 0, used recently, evicted")
	}
	if answer(snap, 1) {
		t.Error("key 1, the least recently used, still kept")
	}
	next := &scorch.IndexSnapshot{}
	if answer(next, 0) {
		t.Error("an answer given for another snapshot")
	}
	if c.lru.Len() != 1 {
		t.Errorf("after an answer for a new snapshot: %d entries kept", c.lru.Len())
	}
}

// TestAnswerCacheOneSearch checks that searches of one request arriving
// while it is searched wait for its answer, that a failed search is not
// kept, and that a waiter whose context ends stops waiting.
func TestAnswerCacheOneSearch(t *testing.T) {
	var c answerCache
	snap := &scorch.IndexSnapshot{}
	key := answerKey{text: "电梯", window: answerWindow}
	release := make(chan struct{})
	var calls atomic.Int32
	slow := func() (*Result, error) {
		calls.Add(1)
		<-release
		return &Result{Total: 42}, nil
	}
	var wg sync.WaitGroup
	results := make(chan uint64, 8)
	for range 8 {
		wg.Go(func() {
			res, err := c.do(t.Context(), snap, key, slow)
			if err != nil {
				t.Error(err)
				return
			}
			results <- res.Total
		})
	}
	// A waiter that gives up.
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() {
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		_, err := c.do(ctx, snap, key, slow)
		gaveUp <- err
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others find the search in flight
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended got %v", err)
	}
	close(release)
	wg.Wait()
	close(results)
	for total := range results {
		if total != 42 {
			t.Errorf("a waiter got total %d", total)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d searches for one request asked 8 times at once", n)
	}

	failing := answerKey{text: "失败", window: answerWindow}
	boom := errors.New("boom")
	if _, err := c.do(t.Context(), snap, failing, func() (*Result, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed search: %v", err)
	}
	if _, ok := c.entries[failing]; ok {
		t.Error("a failed search's answer was kept")
	}
}

// TestAnswerCachePanic checks that a search that panics releases the
// searches waiting for it and leaves nothing behind: the next one searches.
func TestAnswerCachePanic(t *testing.T) {
	var c answerCache
	snap := &scorch.IndexSnapshot{}
	key := answerKey{text: "电梯", window: answerWindow}
	started, release := make(chan struct{}), make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = c.do(t.Context(), snap, key, func() (*Result, error) {
			close(started)
			<-release
			panic("boom")
		})
	}()
	<-started
	waited := make(chan *Result, 1)
	go func() {
		res, err := c.do(t.Context(), snap, key, func() (*Result, error) { return &Result{Total: 7}, nil })
		if err != nil {
			t.Error(err)
		}
		waited <- res
	}()
	time.Sleep(20 * time.Millisecond) // let it find the search in flight
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("recovered %v", p)
	}
	select {
	case res := <-waited:
		if res == nil || res.Total != 7 {
			t.Errorf("the waiter got %+v, want its own search's answer", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter is still waiting for the search that panicked")
	}
	if _, ok := c.inflight[key]; ok {
		t.Error("the panicked search is still in flight")
	}
}
