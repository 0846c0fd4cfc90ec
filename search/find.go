package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Request is one search: what a resident typed, filters, order and page.
// Visibility is the caller's job: residents pass the public statuses.
type Request struct {
	Text     string
	Kind     string // "idea", "debate_post" or "" for both
	Campaign string
	Theme    string
	Region   string
	// Statuses limits results to these statuses (any when empty).
	Statuses []string
	From, To time.Time
	Sort     string // SortRelevance (default), SortNewest or SortSupported
	Page     int    // 1-based
	PerPage  int
	// Facets asks for counts per theme, campaign, region and status.
	Facets bool
	// PageOnly says the caller needs the page of hits and not the total,
	// as the similar-ideas lookup does. A search by relevance without
	// facets then skips the documents that cannot make the page (see
	// bm25Searcher.SetThreshold), and Result.Total counts only the
	// matches it looked at: a lower bound.
	PageOnly bool
	// Draft says Text is a resident's draft, matched "more like this":
	// only its draftTerms most telling terms are searched for. A draft is
	// prose, not a query: its quotes and minus signs are punctuation, and
	// a draft without words finds nothing.
	Draft bool
}

// parsed returns the request's text split into its parts; a draft is
// all words (draftWords).
func (r Request) parsed() Parsed {
	if r.Draft {
		return Parsed{Words: draftWords(r.Text)}
	}
	return ParseQuery(r.Text)
}

// draftWords is a draft as it is searched: all words, its quotes and
// minus signs punctuation like the rest, and every run of more than two
// marks (punctuation, spaces, control characters, invalid UTF-8) cut to
// its first two. Shorter runs stay as they are, and jieba cuts the words
// beside them the same (TestDraftWords); but the query is clipped to its
// first maxQueryRunes characters, which now hold words even when a draft
// begins with a row of dashes.
func draftWords(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	marks := 0 // the marks just before r
	for _, r := range text {
		if unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			marks++
		} else {
			marks = 0
		}
		if marks <= 2 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// draftTerms is how many terms of a draft a Draft search keeps (Lucene's
// MoreLikeThis keeps 25): a 200-character draft has some 400, which would
// make the search slow and rank by common words.
const draftTerms = 32

// FieldKind is the keyword field telling ideas from debate posts.
const FieldKind = "kind"

// Orderings of search results.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
	SortSupported = "supported"
)

// ErrBadSort is returned for an ordering not in the list above.
var ErrBadSort = errors.New("search: unknown sort order")

// Hit is one result: the document id and its score. Rows come from the store.
type Hit struct {
	ID    string
	Score float64
}

// FacetCount is how many results fall under one term of a facet.
type FacetCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// Result is one page of results.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount
}

// ids returns the ids of the page's hits, in order.
func (r *Result) ids() []string {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	return ids
}

// Parsed is a resident's query split into its parts.
type Parsed struct {
	Words    string   // everything that is neither a phrase nor excluded
	Phrases  []string // "quoted phrases" that must appear
	Excluded []string // -words that must not appear
}

// openQuotes are the characters that open a phrase.
const openQuotes = "\"“”「『"

// ParseQuery reads words, "phrases" (full-width quotes too) and -exclusions.
// Nothing else is syntax: field names, wildcards and operators are plain
// text. Unbalanced quotes close at the end; the input is clipped and
// invalid UTF-8 replaced, so any input parses.
func ParseQuery(text string) Parsed {
	var p Parsed
	var words []string
	scanQuery(text, func(part queryPart) {
		switch part.kind {
		case partWord:
			words = append(words, part.text)
		case partPhrase:
			p.Phrases = append(p.Phrases, part.text)
		case partExcluded:
			p.Excluded = append(p.Excluded, part.text)
		}
	})
	p.Words = strings.Join(words, " ")
	return p
}

// closeQuotes are the characters that end a phrase (see ParseQuery).
const closeQuotes = "\"“”」』"

// Kinds of queryPart.
const (
	partWord = iota
	partPhrase
	partExcluded
)

// queryPart is a word, phrase or exclusion of a query, as scanQuery reads
// it; joined says that nothing separated it from the part before.
type queryPart struct {
	kind   int
	text   string
	joined bool
}

// scanQuery calls emit with each part of text, in order (see ParseQuery).
func scanQuery(text string, emit func(queryPart)) {
	text = strings.ToValidUTF8(text, " ")
	if utf8.RuneCountInString(text) > 2*maxQueryRunes {
		text = string([]rune(text)[:2*maxQueryRunes])
	}
	rs := []rune(text)
	// phrase reads the quoted text opening at rs[i] and returns it with
	// the index after its closing quote.
	phrase := func(i int) (string, int) {
		j := i + 1
		for j < len(rs) && !strings.ContainsRune(closeQuotes, rs[j]) {
			j++
		}
		return strings.TrimSpace(string(rs[i+1 : j])), j + 1
	}
	joined := false // no space since the last part
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
			joined = false
			continue
		case strings.ContainsRune(openQuotes, r):
			var ph string
			if ph, i = phrase(i); ph != "" {
				emit(queryPart{kind: partPhrase, text: ph, joined: joined})
			}
		case isMinus(r) && i+1 < len(rs) && strings.ContainsRune(openQuotes, rs[i+1]):
			// -"a phrase" excludes the phrase.
			var ph string
			if ph, i = phrase(i + 1); ph != "" {
				emit(queryPart{kind: partExcluded, text: ph, joined: joined})
			}
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune(openQuotes, rs[j]) {
				j++
			}
			w := string(rs[i:j])
			if ex := strings.TrimLeftFunc(w, isMinus); isMinus(r) && ex != "" {
				emit(queryPart{kind: partExcluded, text: ex, joined: joined})
			} else {
				emit(queryPart{kind: partWord, text: w, joined: joined})
			}
			i = j
		}
		joined = true
	}
}

// WithoutQuotes returns the query text with its "phrases" as plain words
// where they stood (常凝市“砖厂”协会 → 常凝市砖厂协会), its words and
// -exclusions kept, and whether it had a phrase at all. A search that
// finds nothing for a phrase is tried again so: Chinese writing puts
// quotes round words for emphasis (居民“很受伤”) far more often than a
// resident means "exactly these characters", and a title pasted into the
// search box should still find its idea.
func WithoutQuotes(text string) (string, bool) {
	var b strings.Builder
	had := false
	// joinable: the last part written was a word, or a phrase's words,
	// that is not all minus signs.
	joinable := false
	scanQuery(text, func(part queryPart) {
		if part.kind == partExcluded {
			// A bare -word holds no space or opening quote and starts
			// with no minus; an excluded phrase may, but never holds a
			// closing quote.
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			if isMinusStart(part.text) || strings.ContainsFunc(part.text, func(r rune) bool {
				return unicode.IsSpace(r) || strings.ContainsRune(openQuotes, r)
			}) {
				b.WriteString(`-"` + part.text + `"`)
			} else {
				b.WriteString("-" + part.text)
			}
			joinable = false
			return
		}
		words := []string{part.text}
		if part.kind == partPhrase {
			had = true
			// A phrase may hold opening quotes (“a「b”): as words they
			// would open a phrase again, and a leading minus would
			// exclude.
			words = nil
			for _, w := range strings.FieldsFunc(part.text, func(r rune) bool {
				return unicode.IsSpace(r) || strings.ContainsRune(openQuotes+closeQuotes, r)
			}) {
				if w = strings.TrimLeftFunc(w, isMinus); w != "" {
					words = append(words, w)
				}
			}
		}
		for k, w := range words {
			// A word stays joined to the one before as it was, unless
			// the two would read as an exclusion.
			if b.Len() > 0 && !(k == 0 && part.joined && joinable && !isMinusStart(w)) {
				b.WriteByte(' ')
			}
			b.WriteString(w)
			joinable = strings.TrimLeftFunc(w, isMinus) != ""
		}
	})
	if !had {
		return text, false
	}
	return b.String(), true
}

// isMinusStart reports whether s starts with a minus.
func isMinusStart(s string) bool { return strings.IndexFunc(s, isMinus) == 0 }

// isMinus reports whether r excludes the word or phrase it starts.
func isMinus(r rune) bool { return r == '-' || r == '－' }

// phraseQuery matches text as a contiguous run of characters in the title
// or the body (see PhraseQuery).
func phraseQuery(text string) query.Query {
	return PhraseQuery(text)
}

// builtQuery is the Bleve query for a request, and what Search needs to know
// of it.
type builtQuery struct {
	query.Query
	// text is the query's BM25 part, when the request has words.
	text *textQuery
	// onlyText says that the text part alone scores: no phrases, whose
	// scores would add to it.
	onlyText bool
	// keep holds the request's filters, which collect checks against the
	// segments' columns instead of Bleve filtering every match through
	// term postings.
	keep filter
}

// filter is what a request asks of a document besides its text: per facet
// field (in facetFields order) the values it must have one of (a field
// without values is not filtered), and the span its creation time must
// fall in.
type filter struct {
	values   [][]string
	from, to int64 // Bleve's int64 form of the times; 0 for an open end
}

// filter is r's filters.
func (r Request) filter() filter {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	values := map[string][]string{FieldKind: one(r.Kind), FieldCampaign: one(r.Campaign), FieldTheme: one(r.Theme),
		FieldRegion: one(r.Region), FieldStatus: r.Statuses}
	f := filter{values: make([][]string, len(facetFields))}
	for i, field := range facetFields {
		f.values[i] = values[field]
	}
	if !r.From.IsZero() {
		f.from = spanEnd(r.From)
	}
	if !r.To.IsZero() {
		f.to = spanEnd(r.To)
	}
	return f
}

// Nanoseconds since 1970 reach from 1677 to 2262 (time.Time.UnixNano).
var (
	earliestNano = time.Unix(0, math.MinInt64+1)
	latestNano   = time.Unix(0, math.MaxInt64)
)

// spanEnd returns t as an end of a date span in Bleve's int64 form,
// clamped to what that form can hold: a time beyond it is an end that no
// document's time passes, rather than a number that wrapped around. (0 is
// an open end: 1970-01-01 00:00:00 UTC itself is read as one.)
func spanEnd(t time.Time) int64 {
	switch {
	case t.Before(earliestNano):
		return math.MinInt64 + 1
	case t.After(latestNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// active reports whether f filters on anything.
func (f filter) active() bool {
	for _, vs := range f.values {
		if len(vs) > 0 {
			return true
		}
	}
	return f.from != 0 || f.to != 0
}

// allowed returns, per facet field, which codes of cols pass the filter
// (nil for a field not filtered).
func (f filter) allowed(cols *columns) [][]bool {
	out := make([][]bool, len(f.values))
	for fi, vs := range f.values {
		if len(vs) == 0 {
			continue
		}
		ok := make([]bool, len(cols.values[fi])+1) // code 0, no value, never passes
		for code, v := range cols.values[fi] {
			ok[code+1] = slices.Contains(vs, v)
		}
		out[fi] = ok
	}
	return out
}

// inSpan reports whether a creation time (Bleve's int64 form, 0 when
// unknown) is within f's span, both ends included. A document without a
// time is outside any span.
func (f filter) inSpan(created int64) bool {
	if f.from == 0 && f.to == 0 {
		return true
	}
	return created != 0 && (f.from == 0 || created >= f.from) && (f.to == 0 || created <= f.to)
}

// toQuery builds the Bleve query for a request's text: its words, phrases
// and exclusions. The filters (kind, campaign, theme, region, status,
// dates) are left to collect (builtQuery.keep).
func (x *Index) toQuery(r Request) builtQuery {
	p := r.parsed()
	var out builtQuery
	var must []query.Query
	if strings.TrimSpace(p.Words) != "" {
		q := x.BuildQuery(p.Words)
		out.text, _ = q.(*textQuery)
		if out.text != nil && r.Draft {
			out.text.maxTerms = draftTerms
		}
		must = append(must, q)
	}
	for _, ph := range p.Phrases {
		must = append(must, phraseQuery(ph))
	}
	out.onlyText = out.text != nil && len(must) == 1 && len(p.Excluded) == 0
	out.keep = r.filter()
	if len(must) == 0 {
		must = append(must, bleve.NewMatchAllQuery())
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(must...)
	for _, ex := range p.Excluded {
		b.AddMustNot(phraseQuery(ex))
	}
	out.Query = b
	return out
}

// Search runs a request and returns one page of ids with facet counts.
func (x *Index) Search(ctx context.Context, r Request) (*Result, error) {
	if r.PerPage <= 0 || r.PerPage > 100 {
		r.PerPage = 20
	}
	if r.Page < 1 {
		r.Page = 1
	}
	text := r.parsed()
	empty := strings.TrimSpace(text.Words) == "" && len(text.Phrases) == 0
	if empty && r.Draft {
		return &Result{}, nil // nothing to be like
	}
	var order resultOrder
	switch r.Sort {
	case "", SortRelevance:
		order = byScore
		if empty {
			order = byNewest
		}
	case SortNewest:
		order = byNewest
	case SortSupported:
		order = bySupport
	default:
		return nil, ErrBadSort
	}
	q := x.toQuery(r)
	want := collection{
		order: order, facets: r.Facets,
		prune: r.PageOnly && !r.Facets && order == byScore && q.onlyText,
		skip:  (r.Page - 1) * r.PerPage, size: r.PerPage,
		postings: &x.postings,
	}
	// Whole answers are cached by windows of hits (see answerCache);
	// a PageOnly search's total is not a whole answer.
	if end := want.skip + want.size; !r.PageOnly && end <= maxCachedEnd {
		window := (end + answerWindow - 1) / answerWindow * answerWindow
		want.answers, want.key = &x.answers, newAnswerKey(r, x.seg.wordCount(), window)
	}
	var res *Result
	err := x.use(func(idx bleve.Index) error {
		var err error
		res, err = collect(ctx, idx, q, want)
		return err
	})
	return res, err
}

// resultOrder is how collect orders the matches.
type resultOrder int

const (
	// byScore orders by score, best first.
	byScore resultOrder = iota
	// byNewest orders by creation time, newest first; nothing is scored.
	byNewest
	// bySupport orders by support count, most first, then by score and
	// by creation time, newest first.
	bySupport
)

// collection says what collect gathers.
type collection struct {
	// order is the order of the hits; ties keep index order.
	order resultOrder
	// facets counts the facet fields' values over all matches.
	facets bool
	// prune (a relevance page without facets or total, q.onlyText) tells
	// the text searcher the score a document must beat whenever the page's
	// worst score rises (bm25Searcher.SetThreshold), so that it skips what
	// cannot make the page; Total then counts only the matches seen.
	prune bool
	// skip and size are the page.
	skip, size int
	// answers, when set, keeps the answer under key, holding the first
	// key.window hits, and gives it back to later searches of the same
	// snapshot.
	answers *answerCache
	key     answerKey
	// postings, when set, is the index's cache of decoded postings.
	postings *postingsCache
}

// collect runs q against the index's current snapshot and returns the
// page want asks for, in want.order (ties in index order), without Bleve's
// collector: filters, facets and the times and support counts to order by
// come from columns (see columns), not from every match's doc values or
// from range queries over term postings.
func collect(ctx context.Context, idx bleve.Index, q builtQuery, want collection) (*Result, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snap, _ := r.(*scorch.IndexSnapshot)
	// Searching takes one of searchSlots; an answer kept, or one being
	// searched for by another request, does not.
	if want.answers == nil || snap == nil {
		return searchSlots.run(ctx, func() (*Result, error) {
			return collectFrom(ctx, r, snap, idx.Mapping(), q, want)
		})
	}
	// The whole window, kept or collected now, and the page of it.
	res, err := want.answers.do(ctx, snap, want.key, func() (*Result, error) {
		window := want
		window.skip, window.size = 0, want.key.window
		return searchSlots.run(ctx, func() (*Result, error) {
			return collectFrom(ctx, r, snap, idx.Mapping(), q, window)
		})
	})
	if err != nil {
		return nil, err
	}
	return res.page(want.skip, want.size), nil
}

// collectFrom is collect on the snapshot r (snap when it is scorch's).
func collectFrom(ctx context.Context, r index.IndexReader, snap *scorch.IndexSnapshot, m mapping.IndexMapping, q builtQuery, want collection) (*Result, error) {
	ctx = withPostingsCache(ctx, want.postings)
	order, facets, prune, skip, size := want.order, want.facets, want.prune, want.skip, want.size
	newest := order == byNewest
	k := skip + size
	var bm *bm25Searcher
	var top query.Query = q.Query
	if q.onlyText {
		text := *q.text
		if prune {
			text.opened = func(s *bm25Searcher) { bm = s }
		}
		// Nothing else to combine: the text searcher alone, without the
		// boolean searcher around it.
		top = &text
	}
	var cols *snapshotColumns
	var counter *facetCounter
	var err error
	filter := q.keep.active()
	if facets || order != byScore || filter {
		if snap == nil {
			return nil, fmt.Errorf("search: facets need a scorch index, not %T", r)
		}
		if cols, err = newSnapshotColumns(snap); err != nil {
			return nil, err
		}
		if facets {
			counter = newFacetCounter(cols)
		}
	}
	s, err := top.Searcher(ctx, r, m, search.SearcherOptions{Score: map[bool]string{true: "none"}[newest]})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// The pool grows on demand: a deep page (k up to 10,000,000 through
	// the API) must not allocate ahead for matches there may not be.
	pool := newMatchPool(s.DocumentMatchPoolSize() + min(k, maxPreallocHits) + 1)
	sctx := &search.SearchContext{DocumentMatchPool: pool}
	// passes checks the keyword filters against a segment's columns,
	// with each segment's passing codes worked out once.
	var allowed [][][]bool // per segment, per field: whether each code passes
	if filter {
		allowed = make([][][]bool, len(cols.segs))
	}
	passes := func(seg int, row uint64) bool {
		c, ok := cols.segs[seg], allowed[seg]
		if ok == nil {
			ok = q.keep.allowed(c)
			allowed[seg] = ok
		}
		for f, codes := range ok {
			if codes != nil && !codes[c.codes[f][row]] {
				return false
			}
		}
		return true
	}
	type hit struct {
		dm                *search.DocumentMatch
		num               uint64
		created, supports int64
	}
	worse := func(a, b hit) bool {
		switch {
		case newest && a.created != b.created:
			return a.created < b.created
		case order == bySupport && a.supports != b.supports:
			return a.supports < b.supports
		case !newest && a.dm.Score != b.dm.Score:
			return a.dm.Score < b.dm.Score
		case order == bySupport && a.created != b.created:
			return a.created < b.created
		}
		return a.num > b.num
	}
	// best is a heap of the best k so far, the worst at the root.
	var best []hit
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(best) {
				return
			}
			m := l
			if r := l + 1; r < len(best) && worse(best[r], best[l]) {
				m = r
			}
			if !worse(best[m], best[i]) {
				return
			}
			best[i], best[m] = best[m], best[i]
			i = m
		}
	}
	var total uint64
	for {
		if total%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		h := hit{dm: dm, num: docNum(dm.IndexInternalID)}
		if cols != nil {
			seg, row := cols.at(h.num)
			c := cols.segs[seg]
			if filter && (!passes(seg, row) || !q.keep.inSpan(c.created[row])) {
				sctx.DocumentMatchPool.Put(dm)
				continue
			}
			if counter != nil {
				counter.add(seg, row)
			}
			h.created, h.supports = c.created[row], c.supports[row]
		}
		total++
		switch {
		case k == 0:
			sctx.DocumentMatchPool.Put(dm)
			continue
		case len(best) < k:
			best = append(best, h)
			for i := len(best) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(best[i], best[p]) {
					break
				}
				best[i], best[p] = best[p], best[i]
				i = p
			}
		case worse(best[0], h):
			sctx.DocumentMatchPool.Put(best[0].dm)
			best[0] = h
			down(0)
		default:
			sctx.DocumentMatchPool.Put(dm)
			continue
		}
		if len(best) == k && bm != nil {
			bm.SetThreshold(best[0].dm.Score)
		}
	}
	slices.SortFunc(best, func(a, b hit) int {
		if worse(a, b) {
			return 1
		}
		return -1
	})
	out := &Result{Total: total, Hits: make([]Hit, 0, size)}
	for _, h := range best[min(skip, len(best)):] {
		id, err := r.ExternalID(h.dm.IndexInternalID)
		if err != nil {
			return nil, err
		}
		score := h.dm.Score
		if newest {
			score = 0
		}
		out.Hits = append(out.Hits, Hit{ID: id, Score: score})
	}
	if counter != nil {
		out.Facets = counter.result()
	}
	if k <= maxPreallocHits {
		// Nothing refers to the matches any more: the next search takes
		// them, and a deep page's pool is left to the collector.
		for _, h := range best {
			pool.Put(h.dm)
		}
		matchPools.Put(pool)
	}
	return out, nil
}

// matchPools holds the document-match pools of finished searches for the
// next ones. Bleve's DocumentMatch is some 300 bytes, and a page's search
// keeps the best few dozen: a fresh pool for each was a tenth of what a
// search request allocated, and of the garbage collections under load.
var matchPools sync.Pool

// newMatchPool returns a pool of document matches, one a finished search
// left if there is one (it grows on demand), else a new one of size.
func newMatchPool(size int) *search.DocumentMatchPool {
	if p, ok := matchPools.Get().(*search.DocumentMatchPool); ok {
		return p
	}
	return search.NewDocumentMatchPool(size, 0)
}

// maxPreallocHits is how many document matches collect allocates ahead.
const maxPreallocHits = 256

// sortFacetCounts orders facet terms by count, then by term.
func sortFacetCounts(terms []FacetCount) {
	slices.SortFunc(terms, func(a, b FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Term, b.Term)
	})
}
