package search

import (
	"context"
	"fmt"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
)

// TestTermCursorMatchesReader checks termCursor against scorch's own
// TermFieldReader on an index of several segments with deleted documents:
// for every term of the text fields, the same postings (document number,
// frequency, norm) in the same order and the same count, walking with next,
// and the same posting after each advance. It runs once reading zap's
// iterators and once with every term's postings decoded (postingsCache).
func TestTermCursorMatchesReader(t *testing.T) {
	for _, decoded := range []bool{false, true} {
		t.Run(map[bool]string{false: "iterators", true: "decoded"}[decoded], func(t *testing.T) {
			testTermCursorMatchesReader(t, decoded)
		})
	}
}

func testTermCursorMatchesReader(t *testing.T, decoded bool) {
	x := unmergedIndex(t)
	r := snapshotReader(t, x.index)
	snap := r.(*scorch.IndexSnapshot)
	offsets := segmentOffsets(snap)
	ctx := context.Background()
	type posting struct {
		num, freq uint64
		norm      float64
	}
	// want lists the term's postings as scorch's reader gives them.
	want := func(field, term string) ([]posting, uint64) {
		tfr, err := r.TermFieldReader(ctx, []byte(term), field, true, true, false)
		if err != nil {
			t.Fatal(err)
		}
		defer tfr.Close()
		var out []posting
		var d index.TermFieldDoc
		for {
			p, err := tfr.Next(&d)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				return out, tfr.Count()
			}
			out = append(out, posting{docNum(p.ID), p.Freq, p.Norm})
		}
	}
	// With decoded, a cache that decodes every term at its second
	// request and never runs out of room.
	var cache *postingsCache
	if decoded {
		cache = newPostingsCache(1<<30, 1)
		cache.purge(snap)
	}
	cursor := func(field, term string) *termCursor {
		dicts, err := openFieldDicts(snap, offsets, field)
		if err != nil {
			t.Fatal(err)
		}
		c, err := dicts.cursor(term, cache)
		if err == nil && cache != nil {
			c, err = dicts.cursor(term, cache)
			for _, s := range c.segs {
				if s.dec == nil {
					t.Fatalf("%s %q: not decoded at the second request", field, term)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	current := func(c *termCursor) string {
		if c.done {
			return "done"
		}
		return fmt.Sprint(posting{c.num, c.freq, c.norm})
	}
	terms := 0
	for _, f := range textFields() {
		all := fieldTerms(t, r, f.name)
		for _, term := range append(all, "没有这个词") {
			terms++
			postings, count := want(f.name, term)
			c := cursor(f.name, term)
			if c.count != count {
				t.Errorf("%s %q: count %d, the reader's %d", f.name, term, c.count, count)
			}
			for i, p := range postings {
				if err := c.next(); err != nil {
					t.Fatal(err)
				}
				if got := current(c); got != fmt.Sprint(p) {
					t.Fatalf("%s %q: posting %d is %s, want %v", f.name, term, i, got, p)
				}
			}
			if err := c.next(); err != nil || !c.done {
				t.Fatalf("%s %q: past the last posting: %s, %v", f.name, term, current(c), err)
			}
			// Advancing to each posting, and to the number just before
			// each, from a fresh cursor and from the previous posting.
			for i, p := range postings {
				for _, target := range []uint64{p.num, p.num - 1} {
					if target > p.num || i > 0 && target <= postings[i-1].num {
						continue
					}
					c := cursor(f.name, term)
					if i > 0 {
						if err := c.advance(postings[i-1].num); err != nil {
							t.Fatal(err)
						}
					}
					if err := c.advance(target); err != nil {
						t.Fatal(err)
					}
					if got := current(c); got != fmt.Sprint(p) {
						t.Fatalf("%s %q: advance to %d gives %s, want %v", f.name, term, target, got, p)
					}
				}
			}
			if len(postings) > 0 {
				c := cursor(f.name, term)
				if err := c.advance(postings[len(postings)-1].num + 1); err != nil || !c.done {
					t.Fatalf("%s %q: advance past the last posting: %s, %v", f.name, term, current(c), err)
				}
			}
		}
	}
	t.Logf("%d terms compared", terms)
	if cache != nil {
		t.Logf("cache: %+v, %d bytes", cache.stats, cache.used)
		if cache.stats.decoded < terms/2 || cache.stats.hits == 0 {
			t.Fatalf("cache decoded %d postings lists and was hit %d times for %d terms", cache.stats.decoded, cache.stats.hits, terms)
		}
	}
	if terms < 100 {
		t.Fatalf("only %d terms compared", terms)
	}
}
