package search

import (
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"
	"weak"

	"github.com/blevesearch/bleve/v2/index/scorch"
)

// answerWindow is how many hits a cached answer holds, from the first:
// pages of 20 up to the fifth all come from one search, so that paging
// through a query's results does not run it again for every page, as
// Solr's queryResultWindowSize does.
const answerWindow = 100

// maxCachedEnd is the deepest page end that is cached; deeper pages are
// searched each time.
const maxCachedEnd = 5 * answerWindow

// answerCacheSize is how many answers the cache keeps, least recently used
// first out: a few megabytes at most.
const answerCacheSize = 256

// answerKey is what an answer depends on besides the index snapshot: the
// request without its page, the window of hits the answer holds, and how
// many words had been added to the segmenter (an admin's new word changes
// how the query is cut).
type answerKey struct {
	text, kind, campaign, theme, region string
	statuses                            string // joined by "\x00"
	from, to                            int64
	sort                                string
	facets                              bool
	words                               int
	window                              int
}

// newAnswerKey returns the key of r's answer holding its first window hits.
func newAnswerKey(r Request, words, window int) answerKey {
	return answerKey{
		text: r.Text, kind: r.Kind, campaign: r.Campaign, theme: r.Theme, region: r.Region,
		statuses: strings.Join(r.Statuses, "\x00"),
		from:     r.From.UnixNano(), to: r.To.UnixNano(),
		sort: r.Sort, facets: r.Facets, words: words, window: window,
	}
}

// answerCache keeps whole answers (hits, total, facets) for the index
// snapshot searches see now. A snapshot never changes, so an answer stays
// right until the indexer introduces a new one; the cache then starts
// over. The snapshot is held weakly: the cache keeps none alive and never
// mistakes a new one for an old one.
//
// Searches of one request that arrive while it is being answered wait for
// that answer instead of searching too (as x/sync's singleflight does), so
// a popular query after a new snapshot is searched once.
type answerCache struct {
	mu       sync.Mutex
	snap     weak.Pointer[scorch.IndexSnapshot]
	entries  map[answerKey]*list.Element
	lru      list.List // of *answerEntry, most recently used first
	inflight map[answerKey]*answerCall
}

// answerCall is an answer being searched for.
type answerCall struct {
	done chan struct{} // closed once res and err are set
	res  *Result
	err  error
}

// do returns the answer for key on snap: the one kept, the one another
// search is collecting (waiting for it while ctx lasts), or what collect
// returns, which it then keeps. The answer is shared: callers take a page
// of it (Result.page) and change nothing.
func (c *answerCache) do(ctx context.Context, snap *scorch.IndexSnapshot, key answerKey, collect func() (*Result, error)) (*Result, error) {
	c.mu.Lock()
	c.reset(snap)
	if e, ok := c.entries[key]; ok {
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*answerEntry).res, nil
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			if call.err == nil {
				return call.res, nil
			}
			// That search failed (its caller may have gone): search here.
			return collect()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	call := &answerCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	// Deferred, so that waiters are released even if collect panics (the
	// server recovers the panic for this request; they search themselves).
	defer func() {
		if call.res == nil && call.err == nil {
			call.err = errAnswerFailed
		}
		c.mu.Lock()
		if c.inflight[key] == call {
			delete(c.inflight, key)
		}
		if call.err == nil && c.snap == weak.Make(snap) {
			c.keep(key, call.res)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	call.res, call.err = collect()
	return call.res, call.err
}

// errAnswerFailed is what waiters see of a search that panicked.
var errAnswerFailed = errors.New("search: the search being waited for failed")

// reset empties the cache when snap is not the snapshot it holds answers
// for: searches move on to the newest snapshot, and answers for older ones
// would not be asked for again. c.mu must be held.
func (c *answerCache) reset(snap *scorch.IndexSnapshot) {
	if p := weak.Make(snap); c.snap != p || c.entries == nil {
		c.snap = p
		c.entries = map[answerKey]*list.Element{}
		c.inflight = map[answerKey]*answerCall{}
		c.lru.Init()
	}
}

type answerEntry struct {
	key answerKey
	res *Result
}

// keep adds res as the answer for key, dropping the least recently used
// answer when the cache is full. c.mu must be held.
func (c *answerCache) keep(key answerKey, res *Result) {
	if e, ok := c.entries[key]; ok {
		e.Value.(*answerEntry).res = res
		c.lru.MoveToFront(e)
		return
	}
	c.entries[key] = c.lru.PushFront(&answerEntry{key: key, res: res})
	if c.lru.Len() > answerCacheSize {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*answerEntry).key)
	}
}

// page returns the hits of res from skip, size of them, with res's total
// and a copy of its facets: the caller may change what it gets.
func (res *Result) page(skip, size int) *Result {
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, size)}
	if skip < len(res.Hits) {
		out.Hits = append(out.Hits, res.Hits[skip:min(skip+size, len(res.Hits))]...)
	}
	if res.Facets != nil {
		out.Facets = make(map[string][]FacetCount, len(res.Facets))
		for name, counts := range res.Facets {
			out.Facets[name] = append([]FacetCount{}, counts...)
		}
	}
	return out
}
