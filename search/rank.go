package search

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"weak"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// BM25 parameters of BuildQuery's ranking: the textbook values. ANALYSIS.md
// found k1 0.6–1.6 and b 0.75–1 within ±0.002 of each other on both data
// sets, so nothing is tuned.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// textQuery is the query BuildQuery returns: BM25F over the title and body
// fields (Robertson, Zaragoza and Taylor, "Simple BM25 extension to
// multiple weighted fields", 2004), computed here from the index's postings
// instead of by Bleve's scorers, whose BM25 takes the field's vocabulary
// size for its average length and whose disjunction multiplies by a
// coordination factor.
//
// The score of a document is the sum over the query's distinct terms t of
//
//	n(t) · idf(t) · x·(k1+1) / (k1 + x),   x = Σ_f w_f · tf_f / (1 − b + b·len_f/avglen_f)
//
// where n(t) is how often the query holds t, tf_f how often field f of the
// document does, len_f the field's length in terms, avglen_f its average
// over the documents that have it (from the length markers, see lengthTerm),
// w_f the field's weight and idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5)) with
// N and df the larger of the fields' counts. Adding the fields' term
// frequencies before saturating them, rather than adding per-field scores,
// keeps a term that is in both title and body from counting twice in full.
//
// A place code the query names (placeCodes: a市, a7县) adds more: a
// document that names no place in any field (placelessMarker) is scored
// for it as if its body held it once (tf 1), and such a document, one
// holding it or one naming only places that agree with it (a市 for a7县,
// a7县 for a市) gains placeAgrees × n(t)·idf(t). A document naming other
// places gains nothing: residents often leave out the county they write
// to, but a letter about K3县 is not about A7县. Measured in ANALYSIS.md,
// "Letters that name no place".
//
// It is an ordinary Bleve query: it combines with filters (put them in a
// BooleanQuery's Filter so they do not score), facets, sorting and paging.
//
// A phrase query (phrase true) reads only the pairs of its text (and its
// runs of letters and digits) and matches a document only if one of its
// fields holds all of them: without positions in the index, that stands for
// "holds the phrase", which overlapping pairs make nearly exact
// (ContainsPhrase checks it exactly on the text).
type textQuery struct {
	text   string
	fields []weightedField
	boost  float64
	phrase bool
	// maxTerms, when above zero, keeps only the query's maxTerms heaviest
	// terms (n(t)·idf(t)), for a draft matched "more like this".
	maxTerms int
	// opened, when set, is told of the searcher Searcher makes, so that a
	// collector of the best few documents can pass it its threshold (see
	// bm25Searcher.SetThreshold).
	opened func(*bm25Searcher)
}

// weightedField is a field searched by textQuery and its weight.
type weightedField struct {
	name   string
	weight float64
}

// SetBoost implements query.BoostableQuery.
func (q *textQuery) SetBoost(b float64) { q.boost = b }

// Boost implements query.BoostableQuery.
func (q *textQuery) Boost() float64 { return q.boost }

// Searcher implements query.Query.
func (q *textQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		// The searcher reads scorch's segments and orders documents by
		// its document numbers.
		return nil, fmt.Errorf("search: text query needs a scorch index, not %T", r)
	}
	cutter, err := cutterFor(m)
	if err != nil {
		return nil, err
	}
	s := &bm25Searcher{
		boost:      q.boost,
		explain:    options.Explain,
		noScore:    options.Score == "none",
		requireAll: q.phrase,
		terms:      cutter.queryTerms(q.text, !q.phrase),
		maxTerms:   q.maxTerms,
	}
	if s.boost == 0 {
		s.boost = 1
	}
	var codes []string // a phrase is matched as written, places and all
	if !q.phrase {
		codes = placeCodes(Fold(clipQuery(q.text)))
	}
	if err := s.open(ctx, snap, q.fields, codes); err != nil {
		return nil, err
	}
	if q.opened != nil {
		q.opened(s)
	}
	return s, nil
}

// cutterFor returns the textCutter behind the mapping's TextAnalyzerName,
// so queries are cut exactly like the index was.
func cutterFor(m mapping.IndexMapping) (*textCutter, error) {
	if m != nil {
		if a, ok := m.AnalyzerNamed(TextAnalyzerName).(*textAnalyzer); ok {
			return a.cut, nil
		}
	}
	return newTextCutter(currentSegmenter())
}

// lengthStats returns how many documents have field and their average
// length in terms, from the length markers in the field's dictionary: about
// a hundred terms whatever the index's size, each counted by its postings
// (the dictionary's own counts are not summed right across segments in
// Bleve 2.6.3, and include deleted documents).
func lengthStats(ctx context.Context, r index.IndexReader, field string) (docs, avgLen float64, err error) {
	snap, _ := r.(*scorch.IndexSnapshot)
	if snap != nil {
		if st, ok := statsCache.get(snap, field); ok {
			return st.docs, st.avgLen, nil
		}
	}
	docs, avgLen, err = readLengthStats(ctx, r, field)
	if err == nil && snap != nil {
		statsCache.put(snap, field, fieldStats{docs, avgLen})
	}
	return docs, avgLen, err
}

// fieldStats is what lengthStats returns.
type fieldStats struct {
	docs, avgLen float64
}

// statsCache keeps lengthStats for the last few index snapshots: a
// snapshot never changes, and every search of the same snapshot (all
// searches between two batches) would read the same hundred markers again.
// Snapshots are held weakly, so the cache keeps none of them alive and
// never mistakes a new one for an old one.
var statsCache = &snapshotStats{}

// snapshotStats is a small cache of field statistics per index snapshot.
type snapshotStats struct {
	mu      sync.Mutex
	entries []snapshotStatsEntry // most recent last
}

type snapshotStatsEntry struct {
	snap  weak.Pointer[scorch.IndexSnapshot]
	field string
	stats fieldStats
}

// snapshotStatsSize is how many (snapshot, field) entries the cache keeps.
const snapshotStatsSize = 8

func (c *snapshotStats) get(snap *scorch.IndexSnapshot, field string) (fieldStats, bool) {
	key := weak.Make(snap)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.snap == key && e.field == field {
			return e.stats, true
		}
	}
	return fieldStats{}, false
}

func (c *snapshotStats) put(snap *scorch.IndexSnapshot, field string, st fieldStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == snapshotStatsSize {
		c.entries = append(c.entries[:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, snapshotStatsEntry{snap: weak.Make(snap), field: field, stats: st})
}

// readLengthStats is lengthStats without the cache.
func readLengthStats(ctx context.Context, r index.IndexReader, field string) (docs, avgLen float64, err error) {
	dict, err := r.FieldDictPrefix(field, []byte(lengthMarker))
	if err != nil {
		return 0, 0, err
	}
	var terms []string
	for {
		e, err := dict.Next()
		if err != nil {
			dict.Close()
			return 0, 0, err
		}
		if e == nil {
			break
		}
		terms = append(terms, e.Term)
	}
	if err := dict.Close(); err != nil {
		return 0, 0, err
	}
	var total float64
	for _, term := range terms {
		l, ok := lengthOfTerm(term)
		if !ok {
			continue
		}
		tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
		if err != nil {
			return 0, 0, err
		}
		n := float64(tfr.Count())
		if err := tfr.Close(); err != nil {
			return 0, 0, err
		}
		docs += n
		total += n * l
	}
	if docs == 0 {
		return 0, 0, nil
	}
	return docs, total / docs, nil
}

// bm25Searcher merges one posting cursor per (term, field) in document
// order and scores each document with BM25F.
//
// A document must hold query terms worth at least minCoverage of the
// query's weight (see textQuery): the terms of least weight, together
// worth less than that, cannot make a match on their own, so they do not
// propose documents; their cursors (lazy) are only moved to the documents
// the other terms propose (MaxScore's "non-essential" terms, Turtle and
// Flood 1995). They are the common terms with the longest postings, which
// this skips.
type bm25Searcher struct {
	terms    []queryTerm
	weights  []float64 // per term: n(t)·idf(t)
	idfs     []float64 // per term, for explanations
	minCover float64   // the weight a document's terms must reach
	heap     []*termCursor
	lazy     []*termCursor // heaviest first
	lazySum  float64       // the lazy terms' weight
	all      []*termCursor // every cursor, for Close
	count    uint64
	boost    float64
	explain  bool
	noScore  bool

	// Scratch for the document being scored.
	x       []float64 // per term: the weighted, length-normalised frequency
	touched []int     // terms with x > 0

	// requireAll: a document matches only if, in one field, every query
	// term matched; need[f] is how many terms that is in field f (0 when
	// some term is missing from the field altogether), seen[f] how many
	// matched the current document.
	requireAll bool
	need, seen []int

	// theta, once a collector has set it (SetThreshold), is the score a
	// document must exceed to be worth returning, divided by the boost;
	// order lists the terms by weight, lightest first, and lazyTerms is how
	// many of them are lazy.
	theta     float64
	order     []int
	lazyTerms int

	// maxTerms, when above zero, is how many of the heaviest terms count.
	maxTerms int

	// places are the indices of the terms that are place codes the query
	// names (see placeCodes), and placeSum their
	// weight. Per field with documents: placeless, a cursor over
	// placelessMarker, and agree[p], one over the marker of the documents
	// agreeing with place p (agreeMarker). creditBody is the body's index
	// among them (-1 if the body is not searched: no place scoring then).
	// onField is scratch for addCredit. See addCredit.
	places     []int
	placeless  []*termCursor
	agree      [][]*termCursor
	onField    []bool
	creditBody int
	placeSum   float64
	agrees     float64 // for the document being scored: see placeAgrees
}

// minCoverage is the share of a query's weight (its terms' n(t)·idf(t))
// that a document's terms must reach to match: Lucene's "minimum should
// match", by weight. With words, pairs and characters in one field, nearly
// every document shares some pair or character with a query; measured,
// 15% leaves every ranking as it was on both data sets (20% loses recall)
// and cuts the matches of a title query on messages.csv from 2,718
// documents to about 200 (ANALYSIS.md), which is what totals, facets and
// sorting then work on.
const minCoverage = 0.15

// shortQueryTerms and shortQueryCoverage: a query of at most
// shortQueryTerms distinct terms (what a resident types in the search box:
// one to three words, their pairs and rare characters) must be covered to
// shortQueryCoverage of its weight instead. With minCoverage a common word
// alone matches ("西地省 医疗保障" matched the 15,000 documents naming the
// province), and a search scores and counts all of them. Measured
// (ANALYSIS.md, row 30): 25% cuts a faceted keyword search's CPU by a
// quarter at 100,000 ideas and leaves the title queries of both eval files
// as they were; 50% loses 2–3 points of recall on keyword queries.
const (
	shortQueryTerms    = 12
	shortQueryCoverage = 0.25
)

// open creates the cursors of every query term in every field that has
// documents, the terms' weights, and which cursors are lazy.
func (s *bm25Searcher) open(ctx context.Context, snap *scorch.IndexSnapshot, fields []weightedField, codes []string) error {
	if s.maxTerms > 0 && len(s.terms) > s.maxTerms {
		kept, err := heaviestTerms(ctx, snap, fields, s.terms, s.maxTerms)
		if err != nil {
			return err
		}
		s.terms = kept
	}
	s.weights = make([]float64, len(s.terms))
	s.idfs = make([]float64, len(s.terms))
	s.x = make([]float64, len(s.terms))
	s.need = make([]int, len(fields))
	s.seen = make([]int, len(fields))
	s.creditBody = -1
	for ti, t := range s.terms {
		if slices.Contains(codes, t.term) {
			s.places = append(s.places, ti)
		}
	}
	s.agree = make([][]*termCursor, len(s.places))
	df := make([]float64, len(s.terms))
	var n float64
	offsets := segmentOffsets(snap)
	cache := postingsCacheOf(ctx)
	if cache != nil {
		cache.purge(snap)
	}
	for fi, f := range fields {
		docs, avgLen, err := lengthStats(ctx, snap, f.name)
		if err != nil {
			return err
		}
		if docs == 0 || len(s.terms) == 0 {
			continue
		}
		n = max(n, docs)
		first := len(s.all)
		dicts, err := openFieldDicts(snap, offsets, f.name)
		if err != nil {
			return err
		}
		for ti, t := range s.terms {
			c, err := dicts.cursor(t.term, cache)
			if err != nil {
				return err
			}
			if c.count == 0 {
				if s.requireAll {
					// The field cannot hold every term.
					s.all = s.all[:first]
					break
				}
				continue
			}
			c.term = ti
			c.inField(fi, f, avgLen)
			s.all = append(s.all, c)
			df[ti] = max(df[ti], float64(c.count))
		}
		s.need[fi] = len(s.all) - first
		if len(s.places) > 0 {
			if err := s.openPlaceCursors(dicts, cache, fi, f, avgLen); err != nil {
				return err
			}
		}
	}
	for ti, t := range s.terms {
		if df[ti] > 0 {
			s.idfs[ti] = idf(n, df[ti])
			s.weights[ti] = float64(t.count) * s.idfs[ti]
		}
	}
	var total float64
	for _, w := range s.weights {
		total += w
	}
	if s.creditBody < 0 {
		s.places = nil
	}
	for _, ti := range s.places {
		s.placeSum += s.weights[ti]
	}
	s.order = make([]int, len(s.terms))
	for i := range s.order {
		s.order[i] = i
	}
	sort.SliceStable(s.order, func(a, b int) bool { return s.weights[s.order[a]] < s.weights[s.order[b]] })
	if !s.requireAll {
		s.minCover = minCoverage * total
		if len(s.terms) <= shortQueryTerms {
			s.minCover = shortQueryCoverage * total
		}
		s.lazyTerms = s.lazyPrefix()
	}
	lazy := make([]bool, len(s.terms))
	for _, ti := range s.order[:s.lazyTerms] {
		lazy[ti] = true
		s.lazySum += s.weights[ti]
	}
	for _, c := range s.all {
		s.count += c.count
		if lazy[c.term] {
			// Left before its first posting: moved on demand.
			c.lazy = true
			s.lazy = append(s.lazy, c)
			continue
		}
		if err := c.next(); err != nil {
			return err
		}
	}
	s.sortLazy()
	s.init()
	return nil
}

// openPlaceCursors adds field f's cursors (index fi of the query's
// fields, average length avgLen) over placelessMarker and the agreeing
// markers of the query's places.
func (s *bm25Searcher) openPlaceCursors(dicts *fieldDicts, cache *postingsCache, fi int, f weightedField, avgLen float64) error {
	open := func(marker string) (*termCursor, error) {
		c, err := dicts.cursor(marker, cache)
		if err != nil {
			return nil, err
		}
		c.term, c.lazy = -1, true
		c.inField(fi, f, avgLen)
		return c, nil
	}
	c, err := open(placelessMarker)
	if err != nil {
		return err
	}
	if f.name == FieldBody {
		s.creditBody = len(s.placeless)
	}
	s.placeless = append(s.placeless, c)
	s.onField = append(s.onField, false)
	for p, ti := range s.places {
		c, err := open(agreeMarker(s.terms[ti].term))
		if err != nil {
			return err
		}
		s.agree[p] = append(s.agree[p], c)
	}
	return nil
}

// placeAgrees is the share of a place term's weight n(t)·idf(t) added to
// the score of a document that names the place, names no place at all, or
// names only places within the place's city (a市 for a7县, a7县 for a市;
// see agreeMarker): a document naming other places is taken to be about
// somewhere else (ANALYSIS.md, "Letters that name no place").
const placeAgrees = 0.5

// addCredit scores the document being scored (num) for the query's place
// terms. For one it lacks, a document whose every field names no place is
// scored as if its body named it once (see placelessMarker); and each
// place term adds placeAgrees of its weight to a document that holds it,
// names no place, or names only places that agree with it.
func (s *bm25Searcher) addCredit(num uint64) error {
	placeless := true
	for fi, c := range s.placeless {
		on, err := c.on(num)
		if err != nil {
			return err
		}
		s.onField[fi] = on
		placeless = placeless && on
	}
	var x float64
	if placeless {
		body := s.placeless[s.creditBody]
		length := 1 / (body.norm * body.norm)
		x = body.weight / (body.lenConst + body.lenCoef*length)
	}
	for p, ti := range s.places {
		w := s.weights[ti]
		switch {
		case w == 0:
		case s.x[ti] > 0:
			s.agrees += placeAgrees * w
		case placeless:
			s.touched = append(s.touched, ti)
			s.x[ti] = x
			s.agrees += placeAgrees * w
		default:
			agrees, err := s.agreesWith(p, num)
			if err != nil {
				return err
			}
			if agrees {
				s.agrees += placeAgrees * w
			}
		}
	}
	return nil
}

// agreesWith reports whether every field of document num names no place
// or only places agreeing with place p (addCredit has set onField).
func (s *bm25Searcher) agreesWith(p int, num uint64) (bool, error) {
	for fi, c := range s.agree[p] {
		if s.onField[fi] {
			continue
		}
		on, err := c.on(num)
		if err != nil || !on {
			return false, err
		}
	}
	return true, nil
}

// idf is BM25's inverse document frequency of a term in df of n
// documents: ln(1 + (n − df + 0.5)/(df + 0.5)).
func idf(n, df float64) float64 {
	return math.Log(1 + (max(n-df, 0)+0.5)/(df+0.5))
}

// heaviestTerms returns the limit terms of greatest weight n(t)·idf(t), with
// the document counts open uses, in their order in terms, the first of
// equal weights kept. This is how "more like this" searches read a long
// text (Lucene's MoreLikeThis keeps 25 terms): the telling terms find the
// like documents, and the hundreds of others would only make the search
// slow. It reads each term's count from the segments' dictionaries without
// making a cursor of it: a 200-character draft has some 400 terms in each
// field, and opening a postings reader for every one only to close all but
// 32 took a fifth of a similar-ideas look-up's CPU (ANALYSIS.md, "Similar
// ideas").
func heaviestTerms(ctx context.Context, snap *scorch.IndexSnapshot, fields []weightedField, terms []queryTerm, limit int) ([]queryTerm, error) {
	df := make([]float64, len(terms))
	var n float64
	for _, f := range fields {
		docs, _, err := lengthStats(ctx, snap, f.name)
		if err != nil {
			return nil, err
		}
		if docs == 0 {
			continue
		}
		n = max(n, docs)
		counts, err := termCounts(snap, f.name, terms)
		if err != nil {
			return nil, err
		}
		for ti, c := range counts {
			df[ti] = max(df[ti], float64(c))
		}
	}
	weights := make([]float64, len(terms))
	for ti, t := range terms {
		if df[ti] > 0 {
			weights[ti] = float64(t.count) * idf(n, df[ti])
		}
	}
	order := make([]int, len(terms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return weights[order[a]] > weights[order[b]] })
	keep := make([]bool, len(terms))
	for _, ti := range order[:limit] {
		keep[ti] = true
	}
	kept := make([]queryTerm, 0, limit)
	for ti, t := range terms {
		if keep[ti] {
			kept = append(kept, t)
		}
	}
	return kept, nil
}

// termCounts returns how many documents of the snapshot hold each term in
// field, deleted ones left out: what a TermFieldReader's Count says,
// read from each segment's dictionary.
func termCounts(snap *scorch.IndexSnapshot, field string, terms []queryTerm) ([]uint64, error) {
	d, err := openFieldDicts(snap, nil, field)
	if err != nil {
		return nil, err
	}
	counts := make([]uint64, len(terms))
	var pl segment.PostingsList
	for i, ss := range snap.Segments() {
		for ti, t := range terms {
			if pl, err = d.dicts[i].PostingsList([]byte(t.term), ss.Deleted(), pl); err != nil {
				return nil, fmt.Errorf("search: postings of %q in %s: %w", t.term, field, err)
			}
			counts[ti] += pl.Count()
		}
	}
	return counts, nil
}

// lazyPrefix returns how many of the lightest terms (s.order) are lazy:
// as many as cannot make a match on their own, because together they weigh
// less than minCover or could not score above theta even at their largest
// (a term scores less than its weight × (k1 + 1), the limit of BM25's
// saturation). This is MaxScore's split into essential and non-essential
// terms (Turtle and Flood 1995), for both conditions at once.
func (s *bm25Searcher) lazyPrefix() int {
	var sum float64
	for i, ti := range s.order {
		w := s.weights[ti]
		if sum+w >= s.minCover && (sum+w)*(bm25K1+1)+s.placeBound() >= s.theta {
			return i
		}
		sum += w
	}
	return len(s.order)
}

// sortLazy orders the lazy cursors heaviest first, and a term's cursors
// together.
func (s *bm25Searcher) sortLazy() {
	sort.SliceStable(s.lazy, func(a, b int) bool {
		wa, wb := s.weights[s.lazy[a].term], s.weights[s.lazy[b].term]
		if wa != wb {
			return wa > wb
		}
		return s.lazy[a].term < s.lazy[b].term
	})
}

// SetThreshold tells the searcher that only documents scoring above theta
// are still wanted: a collector of the best k documents passes its k-th
// score once it holds k. The searcher then skips documents that cannot
// score above it, without reading the postings of the terms that could not
// lift them there, and Next returns only documents above theta, so Count
// and the collector's total no longer count every match. A phrase query
// ignores it. theta must not decrease.
func (s *bm25Searcher) SetThreshold(theta float64) {
	if s.requireAll || s.boost <= 0 {
		return
	}
	theta /= s.boost
	if theta <= s.theta {
		return
	}
	s.theta = theta
	n := s.lazyPrefix()
	if n <= s.lazyTerms {
		return
	}
	for _, ti := range s.order[s.lazyTerms:n] {
		s.lazySum += s.weights[ti]
		for _, c := range s.all {
			if c.term == ti && !c.lazy {
				// Its position stays; Next moves it on from there.
				c.lazy = true
				s.lazy = append(s.lazy, c)
			}
		}
	}
	s.lazyTerms = n
	s.sortLazy()
	s.init()
}

// docNum returns the document number in a scorch internal id (8 bytes,
// big-endian), which orders documents the way the index does.
func docNum(id index.IndexInternalID) uint64 {
	return binary.BigEndian.Uint64(id)
}

// init builds the heap from the proposing cursors that have postings left.
func (s *bm25Searcher) init() {
	s.heap = s.heap[:0]
	for _, c := range s.all {
		if !c.done && !c.lazy {
			s.heap = append(s.heap, c)
		}
	}
	for i := len(s.heap)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}

func (s *bm25Searcher) less(i, j int) bool {
	return s.heap[i].num < s.heap[j].num
}

func (s *bm25Searcher) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			return
		}
		s.heap[i], s.heap[m] = s.heap[m], s.heap[i]
		i = m
	}
}

// add counts c's current posting for the document being scored.
func (s *bm25Searcher) add(c *termCursor) {
	s.seen[c.field]++
	if s.x[c.term] == 0 {
		s.touched = append(s.touched, c.term)
	}
	s.x[c.term] += c.x()
}

// Next implements search.Searcher: the next document in index order whose
// terms reach the minimum coverage (hold every term in one field, for a
// phrase), with its score.
func (s *bm25Searcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for len(s.heap) > 0 {
		num := s.heap[0].num
		clear(s.seen)
		for len(s.heap) > 0 && s.heap[0].num == num {
			c := s.heap[0]
			s.add(c)
			if err := c.next(); err != nil {
				return nil, err
			}
			if c.done {
				last := len(s.heap) - 1
				s.heap[0] = s.heap[last]
				s.heap = s.heap[:last]
			}
			s.down(0)
		}
		// The lazy terms, heaviest first, while they can still make the
		// document a match: rest is the weight of those not looked at yet
		// (a term's cursors, one per field, stand together in s.lazy).
		//
		// With a threshold, also while the document can still score
		// above it: bound is its score so far plus the most each lazy
		// term not yet looked at, or already found, could add.
		covered, rest := s.covered(), s.lazySum
		pruning := s.theta > 0 && !s.noScore
		var bound, found float64
		if pruning {
			bound = s.partialScore()
		}
		for i := 0; i < len(s.lazy); {
			term := s.lazy[i].term
			if covered+rest < s.minCover || pruning && bound+(rest+found)*(bm25K1+1)+s.placeBound() <= s.theta {
				break
			}
			w := s.weights[term]
			rest -= w
			hit := false
			for ; i < len(s.lazy) && s.lazy[i].term == term; i++ {
				// As termCursor.on, written out: this loop is hot and
				// the compiler does not inline on.
				c := s.lazy[i]
				if c.done {
					continue
				}
				if c.fresh || c.num < num {
					if err := c.advance(num); err != nil {
						return nil, err
					}
				}
				if !c.done && c.num == num {
					hit = true
					s.add(c)
				}
			}
			if hit {
				covered += w
				found += w
			}
		}
		if !s.matches() {
			s.reset()
			continue
		}
		if s.places != nil {
			if err := s.addCredit(num); err != nil {
				return nil, err
			}
		}
		var score float64
		if !s.noScore {
			score = s.partialScore() + s.agrees
		}
		if pruning && score <= s.theta {
			s.reset()
			continue
		}
		dm := ctx.DocumentMatchPool.Get()
		dm.IndexInternalID = binary.BigEndian.AppendUint64(dm.IndexInternalID[:0], num)
		if !s.noScore {
			dm.Score = s.boost * score
			if s.explain {
				s.explainScore(dm)
			}
		}
		s.reset()
		return dm, nil
	}
	return nil, nil
}

// matches reports whether the document being scored is a match.
func (s *bm25Searcher) matches() bool {
	if s.requireAll {
		for f, n := range s.need {
			if n > 0 && s.seen[f] == n {
				return true
			}
		}
		return false
	}
	return s.covered() >= s.minCover
}

// covered is the weight of the terms the document being scored holds.
func (s *bm25Searcher) covered() float64 {
	var sum float64
	for _, t := range s.touched {
		sum += s.weights[t]
	}
	return sum
}

// partialScore adds up the BM25F contributions of the terms touched so
// far, without the boost. The terms are added in query order, so that
// equal documents get equal scores whatever order their postings came in.
func (s *bm25Searcher) partialScore() float64 {
	slices.Sort(s.touched)
	var sum float64
	for _, t := range s.touched {
		x := s.x[t]
		sum += s.weights[t] * x * (bm25K1 + 1) / (bm25K1 + x)
	}
	return sum
}

// explainScore sets dm's explanation of its score: one part per touched
// term.
func (s *bm25Searcher) explainScore(dm *search.DocumentMatch) {
	var parts []*search.Explanation
	for _, t := range s.touched {
		x := s.x[t]
		parts = append(parts, &search.Explanation{
			Value:   s.weights[t] * x * (bm25K1 + 1) / (bm25K1 + x),
			Message: fmt.Sprintf("bm25f(term=%q, n=%d, idf=%.3f, x=%.3f)", s.terms[t].term, s.terms[t].count, s.idfs[t], x),
		})
	}
	if s.agrees > 0 {
		parts = append(parts, &search.Explanation{Value: s.agrees, Message: fmt.Sprintf("names the query's places, places within them or none (%g of their weight)", placeAgrees)})
	}
	dm.Expl = &search.Explanation{Value: dm.Score, Message: fmt.Sprintf("sum of, × boost %g:", s.boost), Children: parts}
}

// placeBound is the most the place terms can add to a document's score
// beyond the terms it holds: the credit of each (at most its weight ×
// (k1 + 1)) and placeAgrees of its weight.
func (s *bm25Searcher) placeBound() float64 {
	return s.placeSum * (bm25K1 + 1 + placeAgrees)
}

// reset clears the scratch of the document just scored.
func (s *bm25Searcher) reset() {
	s.agrees = 0
	for _, t := range s.touched {
		s.x[t] = 0
	}
	s.touched = s.touched[:0]
}

// Advance implements search.Searcher: the first match at or after id.
func (s *bm25Searcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	target := docNum(id)
	for _, c := range s.heap {
		if c.num < target {
			if err := c.advance(target); err != nil {
				return nil, err
			}
		}
	}
	s.init()
	return s.Next(ctx)
}

// Close implements search.Searcher. The cursors read the snapshot's
// segments, which hold nothing for them to release.
func (s *bm25Searcher) Close() error {
	s.all, s.heap, s.lazy = nil, nil, nil
	return nil
}

// Weight implements search.Searcher. BM25 scores are not normalised by
// the query, so the weight is neutral.
func (s *bm25Searcher) Weight() float64 { return 1 }

// SetQueryNorm implements search.Searcher; BM25 ignores query norms.
func (s *bm25Searcher) SetQueryNorm(float64) {}

// Count implements search.Searcher: an upper bound of the matches.
func (s *bm25Searcher) Count() uint64 { return s.count }

// Min implements search.Searcher.
func (s *bm25Searcher) Min() int { return 0 }

// Size implements search.Searcher (an estimate in bytes).
func (s *bm25Searcher) Size() int { return 128 + 160*len(s.all) }

// DocumentMatchPoolSize implements search.Searcher: Next holds no match
// of its own between calls.
func (s *bm25Searcher) DocumentMatchPoolSize() int { return 1 }
