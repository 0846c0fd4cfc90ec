package zapbuild

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

	"jindianzi/search/internal/zapbuild/zaptest"
)

// declaredFields lists every field of docs with its options (FieldsKey).
func declaredFields(docs ...[]index.Document) map[string]index.FieldIndexingOptions {
	declared := map[string]index.FieldIndexingOptions{}
	for _, batch := range docs {
		for _, d := range batch {
			visit := func(f index.Field) {
				if f.Name() != "_id" {
					declared[f.Name()] |= f.Options()
				}
			}
			d.VisitComposite(func(f index.CompositeField) { visit(f) })
			d.VisitFields(visit)
		}
	}
	return declared
}

// segmentFiles builds a segment of each batch with FieldsKey set to
// every field of them all, writes it to a file in dir and opens it.
func segmentFiles(t *testing.T, dir string, batches [][]index.Document) []segment.Segment {
	t.Helper()
	config := map[string]any{FieldsKey: declaredFields(batches...)}
	var segs []segment.Segment
	for _, docs := range batches {
		s, _, err := (&Plugin{}).NewUsing(docs, config)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
	}
	return zaptest.Persist(t, dir, segs...)
}

// splitByBody returns docs without a body field and those with one.
func splitByBody(docs []index.Document) (without, with []index.Document) {
	for _, d := range docs {
		hasBody := false
		d.VisitFields(func(f index.Field) { hasBody = hasBody || f.Name() == "body" })
		if hasBody {
			with = append(with, d)
		} else {
			without = append(without, d)
		}
	}
	return without, with
}

// checkMergeWritesZapxBytes merges segs with zapx and with the parallel
// merge, and fails t unless the parallel merge took its own path and
// wrote the same file as zapx, but for the order zapx lists a field's
// sections in (from a map), and so the checksum.
func checkMergeWritesZapxBytes(t *testing.T, segs []segment.Segment) {
	t.Helper()
	drops := make([]*roaring.Bitmap, len(segs))
	if newMerger(segs, drops) == nil {
		t.Fatal("the parallel merge hands these segments to zapx")
	}
	dir := t.TempDir()
	wantPath, gotPath := filepath.Join(dir, "zapx.zap"), filepath.Join(dir, "parallel.zap")
	wantNums, wantSize, err := (&zap.ZapPlugin{}).Merge(segs, drops, wantPath, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stats := &segment.Stats{}
	before := ParallelMerges()
	gotNums, gotSize, err := (&Plugin{}).MergeUsing(segs, drops, gotPath, nil, nil,
		map[string]any{ParallelMergeKey: true, segment.StatsKey: stats})
	if err != nil {
		t.Fatal(err)
	}
	if ParallelMerges() != before+1 {
		t.Fatalf("ParallelMerges went from %d to %d over one merge", before, ParallelMerges())
	}
	if stats.TotMergesEnd != 1 || stats.TotMergesErrors != 0 {
		t.Fatalf("stats after one merge: %+v", stats)
	}
	if !slices.EqualFunc(wantNums, gotNums, slices.Equal) || wantSize != gotSize {
		t.Fatalf("new document numbers and size differ: zapx %d bytes, parallel %d", wantSize, gotSize)
	}
	if err := zaptest.CompareFiles(wantPath, gotPath); err != nil {
		t.Fatalf("zapx's merge first: %v", err)
	}
}

// TestMergeWritesZapxBytes merges segments of random documents (Bleve's
// default mapping: term vectors, doc values, stored fields, numbers,
// dates, _all; documents missing fields) with zapx and in parallel: at
// sizes with one postings chunk and with several, one segment and many,
// and terms in a single document (kept in the dictionary).
func TestMergeWritesZapxBytes(t *testing.T) {
	for _, sizes := range [][]int{{1}, {3, 1}, {40, 7, 300}, {1030, 2600, 5, 700}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			var batches [][]index.Document
			for i, n := range sizes {
				batches = append(batches, testDocs(t, n, uint64(10*n+i), false))
			}
			checkMergeWritesZapxBytes(t, segmentFiles(t, t.TempDir(), batches))
		})
	}
}

// TestMergeFallsBack checks that merges the parallel merge does not copy
// go to zapx: segments listing different fields, deletions, segments in
// memory, no configuration.
func TestMergeFallsBack(t *testing.T) {
	docs := testDocs(t, 200, 3, false)
	dir := t.TempDir()
	segs := segmentFiles(t, dir, [][]index.Document{docs[:100], docs[100:]})
	drops := make([]*roaring.Bitmap, 2)
	if newMerger(segs, drops) == nil {
		t.Fatal("segments listing the same fields should merge in parallel")
	}
	deleted := []*roaring.Bitmap{roaring.BitmapOf(3), nil}
	if newMerger(segs, deleted) != nil {
		t.Error("a merge with deletions should go to zapx")
	}
	segs[1].(*zap.Segment).SetUpdatedFields(map[string]*index.UpdateFieldInfo{"body": {Deleted: true}})
	if newMerger(segs, drops) != nil {
		t.Error("a merge of a segment whose mapping lost a field should go to zapx")
	}
	segs[1].(*zap.Segment).SetUpdatedFields(nil)
	// Without declared fields, a batch without bodies lists fewer fields.
	var differing []segment.Segment
	without, with := splitByBody(testDocs(t, 200, 3, false))
	for _, batch := range [][]index.Document{without, with} {
		s, _, err := (&Plugin{}).New(batch)
		if err != nil {
			t.Fatal(err)
		}
		differing = append(differing, s)
	}
	differing = zaptest.Persist(t, dir, differing...)
	if newMerger(differing, drops) != nil {
		t.Error("segments listing different fields should go to zapx")
	}
	inMemory, _, err := (&Plugin{}).New(testDocs(t, 10, 4, false))
	if err != nil {
		t.Fatal(err)
	}
	if newMerger([]segment.Segment{inMemory}, drops[:1]) != nil {
		t.Error("a segment in memory should go to zapx")
	}
	// Merged through MergeUsing, each of these reads as zapx's merge.
	for name, c := range map[string]struct {
		segs   []segment.Segment
		drops  []*roaring.Bitmap
		config map[string]any
	}{
		"deletions":        {segs, deleted, map[string]any{ParallelMergeKey: true}},
		"different fields": {differing, drops, map[string]any{ParallelMergeKey: true}},
		"no configuration": {segs, drops, nil},
	} {
		want, got := filepath.Join(dir, name+"-zapx.zap"), filepath.Join(dir, name+"-plugin.zap")
		if _, _, err := (&zap.ZapPlugin{}).Merge(c.segs, c.drops, want, nil, nil); err != nil {
			t.Fatal(err)
		}
		before := ParallelMerges()
		if _, _, err := (&Plugin{}).MergeUsing(c.segs, c.drops, got, nil, nil, c.config); err != nil {
			t.Fatal(err)
		}
		if ParallelMerges() != before {
			t.Errorf("%s: merged in parallel", name)
		}
		if err := zaptest.CompareFiles(want, got); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMergeStopsWhenClosed checks that a merge whose index closes returns
// segment.ErrClosed and leaves no file behind.
func TestMergeStopsWhenClosed(t *testing.T) {
	docs := testDocs(t, 600, 5, false)
	dir := t.TempDir()
	segs := segmentFiles(t, dir, [][]index.Document{docs[:300], docs[300:]})
	closed := make(chan struct{})
	close(closed)
	path := filepath.Join(dir, "merged.zap")
	_, _, err := (&Plugin{}).MergeUsing(segs, make([]*roaring.Bitmap, 2), path, closed, nil, map[string]any{ParallelMergeKey: true})
	if !errors.Is(err, segment.ErrClosed) {
		t.Fatalf("merge of a closed index: %v, want segment.ErrClosed", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the unfinished file is still there (%v)", err)
	}
}
