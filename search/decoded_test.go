package search

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// cacheTerm is one term's postings list in one segment of a snapshot, as
// fieldDicts.cursor hands it to the cache.
type cacheTerm struct {
	key  decodedKey
	pl   segment.PostingsList
	docs uint64
}

// cacheTerms returns the body field's terms in the first segment of snap
// that holds each of them, with their postings lists.
func cacheTerms(t *testing.T, snap *scorch.IndexSnapshot, terms ...string) []cacheTerm {
	t.Helper()
	var out []cacheTerm
	for _, term := range terms {
		found := false
		for _, ss := range snap.Segments() {
			dict, err := ss.Segment().Dictionary(FieldBody)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := dict.PostingsList([]byte(term), ss.Deleted(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if pl.Count() > 0 {
				out = append(out, cacheTerm{decodedKey{ss.Segment(), ss.Deleted(), FieldBody, term}, pl, ss.Segment().Count()})
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("no segment holds %q", term)
		}
	}
	return out
}

func (ct cacheTerm) lookup(t *testing.T, c *postingsCache) *decodedPostings {
	t.Helper()
	d, err := c.lookup(ct.key, ct.pl, ct.docs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPostingsCacheAdmission checks which terms the cache decodes and
// keeps: none at its first request, each at its second; a term below the
// fewest postings never; within the budget, the least recently used going
// first, but never for a term asked for less often; one that would take
// more than an eighth of the budget never.
func TestPostingsCacheAdmission(t *testing.T) {
	x := unmergedIndex(t)
	snap := snapshotReader(t, x.index).(*scorch.IndexSnapshot)
	terms := cacheTerms(t, snap, "电梯", "小区", "老旧", "垃圾")
	// Room for the norms of the segment and four terms' postings: each
	// takes a page of the mapping.
	one := decodedSize(terms[0].pl.Count())
	norms := 4 * int(terms[0].docs)
	c := newPostingsCache(8*(norms+4*one), 1)
	c.purge(snap)

	a, b := terms[0], terms[1]
	if d := a.lookup(t, c); d != nil {
		t.Fatal("decoded at the first request")
	}
	d := a.lookup(t, c)
	if d == nil || len(d.docs) != int(a.pl.Count()) {
		t.Fatalf("second request: %v, want %d postings decoded", d, a.pl.Count())
	}
	if again := a.lookup(t, c); again != d {
		t.Fatal("third request decoded again instead of hitting")
	}
	if c.stats.hits != 1 || c.stats.decoded != 1 || c.used != norms+d.size() {
		t.Fatalf("stats %+v, %d bytes used; want 1 hit, 1 decoded, %d bytes", c.stats, c.used, norms+d.size())
	}

	// Fewer postings than the cache's minimum: never decoded.
	few := newPostingsCache(1<<30, int(b.pl.Count())+1)
	for range 3 {
		if b.lookup(t, few) != nil {
			t.Fatal("decoded a term below the fewest postings")
		}
	}

	// Over an eighth of the budget: never decoded.
	small := newPostingsCache(8*one-1, 1)
	for range 3 {
		if a.lookup(t, small) != nil {
			t.Fatal("decoded a term over an eighth of the budget")
		}
	}

	// A budget with room for the segment's norms and eight terms' postings:
	// a ninth term asked for as often as the ones held displaces none of
	// them; asked for more often, it displaces the least recently used.
	var same []cacheTerm
	for _, ct := range cacheTerms(t, snap, fieldTerms(t, snap, FieldBody)...) {
		if ct.key.seg == a.key.seg && decodedSize(ct.pl.Count()) == one {
			same = append(same, ct)
		}
	}
	if len(same) < 9 {
		t.Fatalf("only %d terms of one page in the first segment", len(same))
	}
	tight := newPostingsCache(norms+8*one, 1)
	tight.purge(snap)
	for _, ct := range same[:8] {
		for range 3 {
			ct.lookup(t, tight) // popularity 3, decoded at the second
		}
	}
	if tight.used != tight.budget || len(tight.entries) != 8 {
		t.Fatalf("%d of %d bytes in %d entries; want the budget full with 8", tight.used, tight.budget, len(tight.entries))
	}
	ninth := same[8]
	for i := range 3 {
		if d := ninth.lookup(t, tight); d != nil {
			t.Fatalf("request %d of a term no more popular than those held displaced one", i+1)
		}
	}
	if d := ninth.lookup(t, tight); d == nil {
		t.Fatal("a term asked for more often than those held was not decoded")
	}
	if tight.stats.evicted != 1 || tight.used > tight.budget {
		t.Fatalf("stats %+v, %d of %d bytes used; want one eviction within the budget", tight.stats, tight.used, tight.budget)
	}
	if _, ok := tight.entries[same[0].key]; ok {
		t.Fatal("the least recently used term is still held")
	}

	// Popularity fades: after decodedAging requests every count halves.
	for range decodedAging {
		tight.ask(termKey{"x", "y"})
	}
	if n := tight.seen[ninth.key.termKey()]; n != 2 {
		t.Fatalf("popularity %d after halving, want 2 (4 halved)", n)
	}
}

// TestPostingsCachePurge checks that the postings and norms of segments a
// new snapshot no longer holds are dropped, and those of the others kept.
func TestPostingsCachePurge(t *testing.T) {
	x := unmergedIndex(t)
	x.postings.budget, x.postings.minPostings = 1<<30, 1
	for range 2 {
		find(t, x, Request{Text: "老旧小区加装电梯", PageOnly: true})
	}
	c := &x.postings
	before := len(c.entries)
	if before == 0 {
		t.Fatal("nothing decoded")
	}
	// A new document makes a new snapshot with one segment more; the
	// old segments and their deletions stay.
	if err := x.Index(Doc{ID: "z9", Title: "新的", Body: "新的文本"}); err != nil {
		t.Fatal(err)
	}
	find(t, x, Request{Text: "老旧小区加装电梯", PageOnly: true})
	if len(c.entries) < before {
		t.Fatalf("%d entries after a segment was added, %d before", len(c.entries), before)
	}
	// Merging everything into one segment: every old segment goes.
	if err := mergeAll(context.Background(), x.index); err != nil {
		t.Fatal(err)
	}
	snap := snapshotReader(t, x.index).(*scorch.IndexSnapshot)
	c.purge(snap)
	live := map[segment.Segment]bool{}
	for _, ss := range snap.Segments() {
		live[ss.Segment()] = true
	}
	used := 0
	for k, e := range c.entries {
		if !live[k.seg] {
			t.Fatalf("%q of a merged-away segment still held", k.term)
		}
		used += e.Value.(*decodedEntry).size
	}
	for k, n := range c.norms {
		if !live[k.seg] {
			t.Fatal("norms of a merged-away segment still held")
		}
		used += 4 * len(n)
	}
	if used != c.used {
		t.Fatalf("%d bytes counted, %d held", c.used, used)
	}
	// Closing the index lets go of everything.
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.entries)+len(c.norms) != 0 || c.used != 0 {
		t.Fatalf("after Close: %d entries, %d norms, %d bytes", len(c.entries), len(c.norms), c.used)
	}
}

// TestDecodedUnderEviction searches from several goroutines with a cache
// too small for the queries' terms, collecting garbage in between, so
// that postings are decoded, evicted and given back while other searches
// may still read them: every answer must equal the one without the cache.
// Run it with -race too.
func TestDecodedUnderEviction(t *testing.T) {
	x := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	var docs []Doc
	for i := range 60 {
		d := findDocs()[i%len(findDocs())]
		d.ID = fmt.Sprintf("%s-%d", d.ID, i)
		docs = append(docs, d)
	}
	if err := x.Index(docs...); err != nil {
		t.Fatal(err)
	}
	// Ties come in index order, which a merge may change: compare every
	// match, in order of score and id.
	page := func(q string) Request { return Request{Text: q, PerPage: 100, PageOnly: true} }
	sortHits := func(hits []Hit) []Hit {
		return slices.SortedFunc(slices.Values(hits), func(a, b Hit) int {
			if a.Score != b.Score {
				return cmp.Compare(b.Score, a.Score)
			}
			return cmp.Compare(a.ID, b.ID)
		})
	}
	queries := []string{"电梯", "老旧小区加装电梯", "垃圾分类 指引", "小区 停车", "公交 地铁 电梯 小区", "水管 爆裂"}
	want := map[string][]Hit{}
	x.postings.budget = -1
	for _, q := range queries {
		want[q] = sortHits(find(t, x, page(q)).Hits)
	}
	// Room for about a dozen terms' postings (a page each), fewer than
	// the queries have.
	x.postings.budget, x.postings.minPostings = 8*2*decodedSize(1), 1
	cached := x
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				q := queries[(g+i)%len(queries)]
				res, err := cached.Search(context.Background(), page(q))
				if err != nil {
					t.Error(err)
					return
				}
				if got := sortHits(res.Hits); !slices.Equal(got, want[q]) {
					t.Errorf("%q: %v with the cache, %v without", q, res.Hits, want[q])
					return
				}
				if i%10 == 0 {
					runtime.GC()
				}
			}
		})
	}
	wg.Wait()
	st := cached.postings.stats
	if st.decoded == 0 || st.evicted == 0 {
		t.Fatalf("the cache did not decode and evict: %+v", st)
	}
	t.Logf("cache: %+v", st)
}

// TestDecodedSeek checks seek's gallop and binary search against a linear
// scan, from every start, for targets before, on, between and after the
// documents of lists of several lengths.
func TestDecodedSeek(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
		d := &decodedPostings{}
		for i := range n {
			d.docs = append(d.docs, uint32(3*i+1)) // 1, 4, 7, …
		}
		for from := 0; from <= n; from++ {
			for target := uint32(0); target <= uint32(3*n+2); target++ {
				want := from
				for want < n && d.docs[want] < target {
					want++
				}
				if got := d.seek(from, target); got != want {
					t.Fatalf("%d postings: seek(%d, %d) = %d, want %d", n, from, target, got, want)
				}
			}
		}
	}
}
