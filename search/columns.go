package search

import (
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/numeric"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// facetFields are the keyword fields Search counts facets on, in the
// order columns keeps them.
var facetFields = []string{FieldTheme, FieldCampaign, FieldRegion, FieldStatus, FieldKind}

// facetTerms is how many terms a facet lists, most frequent first.
const facetTerms = 40

// columns is what one index segment holds in the facet fields, the
// creation time and the support count, one value per document, read once
// from the segment's doc values and kept while the segment lives. Counting
// a facet over thousands of matches is then an array look-up per match,
// where Bleve's collector decodes (and decompresses) the doc values of
// every match on every search: at 100,000 ideas that was half of a faceted
// search's time (ANALYSIS.md).
type columns struct {
	// codes[f][doc] is 1 + the index in values[f] of document doc's value
	// in facetFields[f], or 0 when it has none.
	codes  [][]uint32
	values [][]string
	// created[doc] is the creation time in Bleve's sortable int64 form
	// (0 when unknown).
	created []int64
	// supports[doc] is the support count.
	supports []int64
}

// columnCache keeps the columns of the segments searched lately. Segments
// never change; a merge makes new ones, so the old ones' columns age out.
var columnCache = &segmentColumns{entries: map[segment.Segment]*columnsEntry{}}

// columnCacheSize is how many segments' columns the cache keeps: more than
// a settled index has (a dozen), fewer than would hold much memory.
const columnCacheSize = 64

type segmentColumns struct {
	mu      sync.Mutex
	entries map[segment.Segment]*columnsEntry
	clock   uint64
}

type columnsEntry struct {
	cols *columns
	used uint64
}

// get returns the columns of seg, reading them on first use.
func (c *segmentColumns) get(seg segment.Segment) (*columns, error) {
	c.mu.Lock()
	c.clock++
	if e, ok := c.entries[seg]; ok {
		e.used = c.clock
		c.mu.Unlock()
		return e.cols, nil
	}
	c.mu.Unlock()
	cols, err := readColumns(seg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= columnCacheSize {
		var oldest segment.Segment
		var at uint64
		for s, e := range c.entries {
			if oldest == nil || e.used < at {
				oldest, at = s, e.used
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[seg] = &columnsEntry{cols: cols, used: c.clock}
	return cols, nil
}

// readColumns reads the facet fields and the creation time of every
// document of seg.
func readColumns(seg segment.Segment) (*columns, error) {
	dvv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return nil, fmt.Errorf("search: segment %T has no doc values", seg)
	}
	n := seg.Count()
	cols := &columns{
		codes:    make([][]uint32, len(facetFields)),
		values:   make([][]string, len(facetFields)),
		created:  make([]int64, n),
		supports: make([]int64, n),
	}
	at := make([]map[string]uint32, len(facetFields))
	field := map[string]int{}
	for f, name := range facetFields {
		cols.codes[f] = make([]uint32, n)
		at[f] = map[string]uint32{}
		field[name] = f
	}
	fields := append([]string{FieldCreated, FieldSupports}, facetFields...)
	var doc uint64
	visit := func(name string, term []byte) {
		if name == FieldCreated || name == FieldSupports {
			// The full-precision term (shift 0) is the value; pointField
			// indexes no other, Bleve's own fields fifteen coarser ones.
			pc := numeric.PrefixCoded(term)
			shift, err := pc.Shift()
			if err != nil || shift != 0 {
				return
			}
			v, err := pc.Int64()
			if err != nil {
				return
			}
			if name == FieldCreated {
				cols.created[doc] = v
			} else {
				cols.supports[doc] = int64(numeric.Int64ToFloat64(v))
			}
			return
		}
		f, ok := field[name]
		if !ok || cols.codes[f][doc] != 0 {
			return
		}
		code, ok := at[f][string(term)]
		if !ok {
			cols.values[f] = append(cols.values[f], string(term))
			code = uint32(len(cols.values[f]))
			at[f][string(term)] = code
		}
		cols.codes[f][doc] = code
	}
	var state segment.DocVisitState
	for doc = 0; doc < n; doc++ {
		var err error
		if state, err = dvv.VisitDocValues(doc, fields, visit, state); err != nil {
			return nil, fmt.Errorf("search: read doc values: %w", err)
		}
	}
	return cols, nil
}

// snapshotColumns finds, for the documents of one index snapshot in
// order, the columns of the segment each belongs to.
type snapshotColumns struct {
	segs    []*columns
	offsets []uint64 // segmentOffsets: first document number of each segment, and the end
	cur     int      // the segment of the last document looked up
}

// newSnapshotColumns returns the columns of every segment of snap.
func newSnapshotColumns(snap *scorch.IndexSnapshot) (*snapshotColumns, error) {
	sc := &snapshotColumns{offsets: segmentOffsets(snap)}
	for _, ss := range snap.Segments() {
		cols, err := columnCache.get(ss.Segment())
		if err != nil {
			return nil, err
		}
		sc.segs = append(sc.segs, cols)
	}
	return sc, nil
}

// at returns the segment (an index into sc.segs) and the row of document
// number num. Looking documents up in increasing order, as searchers
// return them, is cheapest.
func (sc *snapshotColumns) at(num uint64) (int, uint64) {
	if sc.cur >= len(sc.segs) || num < sc.offsets[sc.cur] {
		sc.cur = 0
	}
	for sc.cur+1 < len(sc.segs) && num >= sc.offsets[sc.cur+1] {
		sc.cur++
	}
	return sc.cur, num - sc.offsets[sc.cur]
}

// facetCounter counts the facet fields' values over matches.
type facetCounter struct {
	sc     *snapshotColumns
	counts [][][]int // per segment, per field: count per code (nil until used)
}

func newFacetCounter(sc *snapshotColumns) *facetCounter {
	return &facetCounter{sc: sc, counts: make([][][]int, len(sc.segs))}
}

// add counts the document at row of segment seg.
func (fc *facetCounter) add(seg int, row uint64) {
	cols, counts := fc.sc.segs[seg], fc.counts[seg]
	if counts == nil {
		counts = make([][]int, len(facetFields))
		for f := range counts {
			counts[f] = make([]int, len(cols.values[f])+1)
		}
		fc.counts[seg] = counts
	}
	for f := range facetFields {
		counts[f][cols.codes[f][row]]++
	}
}

// result returns each field's most frequent terms (facetTerms of them),
// by count and then term, as Bleve's facets order them; documents without
// a value, or with an empty one, are not a term.
func (fc *facetCounter) result() map[string][]FacetCount {
	out := map[string][]FacetCount{}
	for f, name := range facetFields {
		sum := map[string]int{}
		for seg, counts := range fc.counts {
			if counts == nil {
				continue
			}
			for code, n := range counts[f] {
				if n > 0 && code > 0 {
					sum[fc.sc.segs[seg].values[f][code-1]] += n
				}
			}
		}
		terms := []FacetCount{}
		for term, n := range sum {
			if term != "" {
				terms = append(terms, FacetCount{Term: term, Count: n})
			}
		}
		sortFacetCounts(terms)
		out[name] = terms[:min(len(terms), facetTerms)]
	}
	return out
}
