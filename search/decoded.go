package search

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Decoded postings: the common terms' postings of a segment kept in memory
// as plain arrays, so that a search moves its cursors over them by index
// and binary search instead of through zap's iterator, which decodes
// every posting it passes, frequencies and norms included, even when it
// only skips (ANALYSIS.md, "Reading postings" and "Decoded postings").
//
// A posting takes 5 bytes: its document number (4) and frequency (1; a
// frequency above 255 is kept aside). The norm, which depends only on the
// document and the field, is kept once per document of a segment and field.
// The cache holds at most its budget of bytes. Which terms it holds is
// decided by how often searches have asked for them lately (a count per
// field and term, halved every so often): a term is decoded at its second
// request, and it displaces the least recently used terms only when it has
// been asked for more often than each of them, so that a stream of
// one-off queries cannot flush the terms most searches share (TinyLFU's
// admission rule: Einziger, Friedman and Manes, 2017). No term's postings
// may take more than an eighth of the budget.

const (
	// decodeMinPostings is the fewest postings a term must have in a
	// segment for its postings there to be decoded: below it zap's
	// iterator is quick enough and the bookkeeping would cost more.
	decodeMinPostings = 1024
	// decodedBudget is how many bytes of decoded postings and norms one
	// Index keeps. Measured (ANALYSIS.md, "Decoded postings"): serve's
	// resident memory with the 100,000-idea index was 360–367 MB without
	// the cache and 383–387 MB with it, under the 400 MB target; 16 MiB
	// took most of the gain that 32 MiB gave.
	decodedBudget = 16 << 20
	// decodedAging is how many requests for decodable terms pass before
	// every popularity count is halved (and the zeros forgotten).
	decodedAging = 1 << 14
)

// errPostingsMemory wraps a failure to map memory for decoded postings.
var errPostingsMemory = errors.New("search: no memory for decoded postings")

// decodedPostings is one term's postings in one segment, deleted documents
// left out, in document order. docs and freqs are one block of memory
// outside the Go heap (allocPostingsMemory), given back when the
// decodedPostings itself is collected: a cursor holding it keeps it
// readable after the cache has evicted it, and only cursors (through
// termSegment.dec) may hold docs or freqs.
type decodedPostings struct {
	docs  []uint32          // the segment's document numbers
	freqs []uint8           // frequencies; 0 means look in big
	big   map[uint32]uint64 // frequencies above 255, by index into docs
	norms []atomic.Uint32   // the segment's norms in the term's field, by document
	bytes int               // what docs and freqs take, in whole pages
}

// freq returns the frequency of the i-th posting.
func (d *decodedPostings) freq(i int) uint64 {
	if f := d.freqs[i]; f != 0 {
		return uint64(f)
	}
	return d.big[uint32(i)]
}

// norm returns the norm of document doc of the segment, as zap's
// Posting.Norm gives it.
func (d *decodedPostings) norm(doc uint32) float64 {
	return float64(math.Float32frombits(d.norms[doc].Load()))
}

// size is the bytes d takes, roughly.
func (d *decodedPostings) size() int {
	return d.bytes + 24*len(d.big) + 96
}

// decodedSize is the size of a decodedPostings of n postings, without
// frequencies above 255.
func decodedSize(n uint64) int {
	return pageRound(5*int(n)) + 96
}

// seek returns the first index from i whose document is at or after doc
// (len(d.docs) if none): a gallop then a binary search, since a cursor
// mostly moves a short way.
func (d *decodedPostings) seek(i int, doc uint32) int {
	docs := d.docs
	if i >= len(docs) || docs[i] >= doc {
		return i
	}
	lo, step := i, 1 // docs[lo] < doc
	hi := i + step
	for hi < len(docs) && docs[hi] < doc {
		lo = hi
		step *= 2
		hi = lo + step
	}
	hi = min(hi, len(docs))
	for lo+1 < hi { // docs[lo] < doc, docs[hi] ≥ doc or hi = len
		m := int(uint(lo+hi) >> 1)
		if docs[m] < doc {
			lo = m
		} else {
			hi = m
		}
	}
	return hi
}

// decodedKey names one term's postings in one segment with its deletions.
type decodedKey struct {
	seg     segment.Segment
	deleted *roaring.Bitmap
	field   string
	term    string
}

// normKey names the norms of one field of a segment.
type normKey struct {
	seg   segment.Segment
	field string
}

// termKey is a term of a field, whatever the segment: what popularity is
// counted for.
type termKey struct{ field, term string }

// termKey returns k's term of its field.
func (k decodedKey) termKey() termKey { return termKey{k.field, k.term} }

// decodedEntry is a cached decodedPostings, an element of the recency list.
type decodedEntry struct {
	key  decodedKey
	d    *decodedPostings
	size int
}

// postingsCache keeps decoded postings of one Index (see decodedPostings).
// It is safe for concurrent use; a decodedPostings it hands out is never
// changed, and stays valid after it is evicted.
type postingsCache struct {
	budget      int // bytes; decodedBudget if 0, nothing decoded if < 0
	minPostings int // decodeMinPostings if 0

	mu      sync.Mutex
	used    int
	entries map[decodedKey]*list.Element // of *decodedEntry
	lru     list.List                    // most recently used first
	norms   map[normKey][]atomic.Uint32
	seen    map[termKey]uint8 // popularity, halved every decodedAging requests
	asks    int
	snap    weak.Pointer[scorch.IndexSnapshot] // the last snapshot purge saw
	stats   decodedStats
}

// decodedStats counts what the cache did, for tests and benchmarks.
type decodedStats struct {
	hits, misses, decoded, rejected, evicted int
}

// newPostingsCache returns an empty cache of budget bytes that decodes the
// postings of terms with at least minPostings in a segment.
func newPostingsCache(budget, minPostings int) *postingsCache {
	c := &postingsCache{budget: budget, minPostings: minPostings}
	c.init()
	return c
}

// limit is the cache's budget in bytes (decodedBudget for a zero one). Like
// fewest, it reads fields set before the cache is first used and never
// after, so it needs no lock.
func (c *postingsCache) limit() int {
	if c.budget == 0 {
		return decodedBudget
	}
	return c.budget
}

// fewest is the fewest postings in a segment worth decoding.
func (c *postingsCache) fewest() uint64 {
	if c.minPostings == 0 {
		return decodeMinPostings
	}
	return uint64(c.minPostings)
}

// init makes the cache's maps and list, if not yet made.
func (c *postingsCache) init() {
	if c.entries == nil {
		c.entries = map[decodedKey]*list.Element{}
		c.norms = map[normKey][]atomic.Uint32{}
		c.seen = map[termKey]uint8{}
		c.lru.Init()
	}
}

type postingsCacheKey struct{}

// withPostingsCache returns ctx carrying c for the text searcher.
func withPostingsCache(ctx context.Context, c *postingsCache) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, postingsCacheKey{}, c)
}

// postingsCacheOf returns the cache ctx carries, or nil.
func postingsCacheOf(ctx context.Context) *postingsCache {
	c, _ := ctx.Value(postingsCacheKey{}).(*postingsCache)
	return c
}

// purge forgets the postings and norms of segments snap does not hold, the
// first time it sees snap.
func (c *postingsCache) purge(snap *scorch.IndexSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	p := weak.Make(snap)
	if c.snap == p {
		return
	}
	c.snap = p
	live := map[segment.Segment]bool{}
	for _, ss := range snap.Segments() {
		live[ss.Segment()] = true
	}
	for el := c.lru.Back(); el != nil; {
		prev := el.Prev()
		if !live[el.Value.(*decodedEntry).key.seg] {
			c.remove(el)
		}
		el = prev
	}
	for k, n := range c.norms {
		if !live[k.seg] {
			delete(c.norms, k)
			c.used -= 4 * len(n)
		}
	}
}

// clear forgets everything the cache holds (its index is closed): the
// decoded postings' memory goes back once no cursor reads them.
func (c *postingsCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.norms, c.seen, c.used, c.snap = nil, nil, nil, 0, weak.Pointer[scorch.IndexSnapshot]{}
	c.init()
}

// remove takes the entry el out of the cache.
func (c *postingsCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*decodedEntry)
	delete(c.entries, e.key)
	c.used -= e.size
}

// lookup returns the decoded postings of key, decoding them from pl when
// the term is popular enough to be admitted (nil otherwise, and the caller
// reads pl itself). segDocs is the number of documents of the segment.
func (c *postingsCache) lookup(key decodedKey, pl segment.PostingsList, segDocs uint64) (*decodedPostings, error) {
	// Most terms have too few postings: they take no lock.
	count := pl.Count()
	if count < c.fewest() || segDocs > math.MaxUint32 || c.budget < 0 {
		return nil, nil
	}
	c.mu.Lock()
	c.init()
	pop := c.ask(key.termKey())
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		c.stats.hits++
		c.mu.Unlock()
		return el.Value.(*decodedEntry).d, nil
	}
	c.stats.misses++
	size := decodedSize(count)
	nk := normKey{key.seg, key.field}
	norms, haveNorms := c.norms[nk]
	need := size
	if !haveNorms {
		need += 4 * int(segDocs)
	}
	if size > c.limit()/8 {
		c.stats.rejected++
		c.mu.Unlock()
		return nil, nil
	}
	admit := pop >= 2 && c.makeRoom(need, pop)
	if admit && !haveNorms {
		norms = make([]atomic.Uint32, segDocs)
		c.norms[nk] = norms
		c.used += 4 * len(norms)
	}
	c.mu.Unlock()
	if !admit {
		return nil, nil
	}

	d, err := decodePostings(pl, norms)
	if errors.Is(err, errPostingsMemory) {
		return nil, nil // no memory to map: read pl as without the cache
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.decoded++
	if el, ok := c.entries[key]; ok { // decoded meanwhile by another search
		return el.Value.(*decodedEntry).d, nil
	}
	if _, ok := c.norms[nk]; !ok {
		return d, nil // the segment was purged meanwhile: use it once
	}
	e := &decodedEntry{key: key, d: d, size: d.size()}
	if !c.makeRoom(e.size, pop) {
		return d, nil
	}
	c.entries[key] = c.lru.PushFront(e)
	c.used += e.size
	return d, nil
}

// ask counts a request for t and returns its popularity.
func (c *postingsCache) ask(t termKey) uint8 {
	if c.asks++; c.asks >= decodedAging {
		c.asks = 0
		for k, n := range c.seen {
			if n /= 2; n == 0 {
				delete(c.seen, k)
			} else {
				c.seen[k] = n
			}
		}
	}
	n := c.seen[t]
	if n < math.MaxUint8 {
		n++
		c.seen[t] = n
	}
	return n
}

// makeRoom evicts the least recently used entries until need more bytes
// fit in the budget, and reports whether they do. It evicts nothing, and
// reports false, when one of the entries it would evict has been asked
// for at least as often as pop.
func (c *postingsCache) makeRoom(need int, pop uint8) bool {
	free, victims := c.limit()-c.used, 0
	for el := c.lru.Back(); free < need && el != nil; el = el.Prev() {
		e := el.Value.(*decodedEntry)
		if c.seen[e.key.termKey()] >= pop {
			c.stats.rejected++
			return false
		}
		free += e.size
		victims++
	}
	if free < need {
		c.stats.rejected++
		return false
	}
	for range victims {
		c.remove(c.lru.Back())
		c.stats.evicted++
	}
	return true
}

// decodePostings reads every posting of pl into arrays, and each posting's
// norm into norms by document.
func decodePostings(pl segment.PostingsList, norms []atomic.Uint32) (*decodedPostings, error) {
	n := int(pl.Count())
	mem, release, err := allocPostingsMemory(5 * n)
	if err != nil {
		return nil, err
	}
	d := &decodedPostings{freqs: mem[4*n:], norms: norms, bytes: pageRound(5 * n)}
	if n > 0 {
		d.docs = unsafe.Slice((*uint32)(unsafe.Pointer(&mem[0])), n)
	}
	i := 0
	it := pl.Iterator(true, true, false, nil)
	for ; ; i++ {
		p, err := it.Next()
		if err == nil && p != nil && i == n {
			err = fmt.Errorf("more postings than the %d counted", n)
		}
		if err != nil {
			release()
			return nil, err
		}
		if p == nil {
			break
		}
		doc, f := uint32(p.Number()), p.Frequency()
		if f > math.MaxUint8 || f == 0 {
			if d.big == nil {
				d.big = map[uint32]uint64{}
			}
			d.big[uint32(i)] = f
			f = 0
		}
		d.docs[i], d.freqs[i] = doc, uint8(f)
		norms[doc].Store(math.Float32bits(float32(p.Norm())))
	}
	d.docs, d.freqs = d.docs[:i], d.freqs[:i]
	runtime.AddCleanup(d, func(release func()) { release() }, release)
	return d, nil
}
