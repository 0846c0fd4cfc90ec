package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// termCursor walks the postings of one term in one field of an index
// snapshot, segment by segment, reading each segment's postings iterator
// directly rather than through scorch's TermFieldReader, which turns every
// posting into an 8-byte internal id and a TermFieldDoc on the way: a
// similar-ideas look-up at 100,000 ideas takes about a seventh less time,
// a keyword search about a tenth (ANALYSIS.md, "Reading postings").
type termCursor struct {
	segs  []termSegment // the segments that hold the term, in document order
	seg   int           // index into segs of the current posting
	done  bool          // no posting left
	fresh bool          // not yet moved to a first posting
	count uint64        // documents holding the term, deleted ones left out

	// The current posting: its document number in the snapshot (see
	// docNum), frequency and norm (1/√length).
	num  uint64
	freq uint64
	norm float64

	term  int  // index into bm25Searcher.terms
	field int  // index into the query's fields
	lazy  bool // moved only to documents other terms propose
	// x contribution = weight·tf / (lenConst + lenCoef·length)
	weight, lenConst, lenCoef float64
}

// termSegment is one segment's postings of a cursor's term: zap's iterator,
// or the postings decoded (see postingsCache).
type termSegment struct {
	offset, end uint64 // the snapshot's document numbers [offset, end) are this segment's
	it          segment.PostingsIterator
	dec         *decodedPostings
	pos         int // dec's next posting
}

// segmentOffsets returns the first document number of each of snap's
// segments, as scorch numbers them (each segment's documents, deleted ones
// included, after the previous segment's), and last the number after the
// last segment's.
func segmentOffsets(snap *scorch.IndexSnapshot) []uint64 {
	segs := snap.Segments()
	offsets := make([]uint64, len(segs)+1)
	for i, ss := range segs {
		offsets[i+1] = offsets[i] + ss.Segment().Count()
	}
	return offsets
}

// fieldDicts are the term dictionaries of one field in each segment of a
// snapshot, opened once for all of a query's terms: opening one reads its
// header and makes an FST reader, and a draft looks up 32 terms.
type fieldDicts struct {
	snap    *scorch.IndexSnapshot
	offsets []uint64 // segmentOffsets(snap)
	field   string
	dicts   []segment.TermDictionary
	// spare is a postings list no cursor reads, for the next look-up.
	spare segment.PostingsList
}

// openFieldDicts opens field's dictionary in each of snap's segments;
// offsets may be nil if no cursor is made.
func openFieldDicts(snap *scorch.IndexSnapshot, offsets []uint64, field string) (*fieldDicts, error) {
	segs := snap.Segments()
	d := &fieldDicts{snap: snap, offsets: offsets, field: field, dicts: make([]segment.TermDictionary, len(segs))}
	for i, ss := range segs {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("search: dictionary of %s: %w", field, err)
		}
		d.dicts[i] = dict
	}
	return d, nil
}

// cursor returns a cursor over term's postings in d's field, positioned
// before its first posting (fresh). A term no document holds gives a
// cursor with count 0. With a cache, the segments' postings it decodes or
// holds are read from it.
func (d *fieldDicts) cursor(term string, cache *postingsCache) (*termCursor, error) {
	c := &termCursor{fresh: true}
	for i, ss := range d.snap.Segments() {
		pl, err := d.dicts[i].PostingsList([]byte(term), ss.Deleted(), d.spare)
		if err != nil {
			return nil, fmt.Errorf("search: postings of %q in %s: %w", term, d.field, err)
		}
		d.spare = nil
		n := pl.Count()
		if n == 0 {
			d.spare = pl
			continue
		}
		c.count += n
		s := termSegment{offset: d.offsets[i], end: d.offsets[i+1]}
		if cache != nil {
			key := decodedKey{seg: ss.Segment(), deleted: ss.Deleted(), field: d.field, term: term}
			if s.dec, err = cache.lookup(key, pl, ss.Segment().Count()); err != nil {
				return nil, fmt.Errorf("search: decode postings of %q in %s: %w", term, d.field, err)
			}
		}
		if s.dec == nil {
			s.it = pl.Iterator(true, true, false, nil)
		}
		c.segs = append(c.segs, s)
	}
	c.done = len(c.segs) == 0
	return c, nil
}

// set makes p, a posting of segment s, the current one.
func (c *termCursor) set(s *termSegment, p segment.Posting) {
	c.fresh = false
	c.num, c.freq, c.norm = s.offset+p.Number(), p.Frequency(), p.Norm()
}

// next moves c to its next posting.
func (c *termCursor) next() error { return c.advance(0) }

// advance moves c past its current posting to the first at or after
// document num: with 0, to the next posting.
func (c *termCursor) advance(num uint64) error {
	for ; c.seg < len(c.segs); c.seg++ {
		s := &c.segs[c.seg]
		if s.end <= num {
			continue
		}
		if d := s.dec; d != nil {
			i := s.pos
			if num > s.offset {
				i = d.seek(i, uint32(num-s.offset))
			}
			if i < len(d.docs) {
				s.pos = i + 1
				doc := d.docs[i]
				c.fresh = false
				c.num, c.freq, c.norm = s.offset+uint64(doc), d.freq(i), d.norm(doc)
				return nil
			}
			s.pos = i
			continue
		}
		var p segment.Posting
		var err error
		if num > s.offset {
			p, err = s.it.Advance(num - s.offset)
		} else {
			p, err = s.it.Next()
		}
		if err != nil {
			return err
		}
		if p != nil {
			c.set(s, p)
			return nil
		}
	}
	c.done = true
	return nil
}

// inField sets what c's postings count for: field fi of the query's
// fields, f, whose documents average avgLen terms (see x).
func (c *termCursor) inField(fi int, f weightedField, avgLen float64) {
	c.field = fi
	c.weight, c.lenConst, c.lenCoef = f.weight, 1-bm25B, bm25B/avgLen
}

// on moves a lazy cursor to document num, if it is not there or past it
// already, and reports whether num holds c's term.
func (c *termCursor) on(num uint64) (bool, error) {
	if c.done {
		return false, nil
	}
	if c.fresh || c.num < num {
		if err := c.advance(num); err != nil {
			return false, err
		}
	}
	return !c.done && c.num == num, nil
}

// x is c's contribution to its term's weighted frequency in the current
// document.
func (c *termCursor) x() float64 {
	length := 1 / (c.norm * c.norm)
	return c.weight * float64(c.freq) / (c.lenConst + c.lenCoef*length)
}
