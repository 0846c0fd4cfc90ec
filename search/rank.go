package search

import (
	"context"
	"fmt"
	"math"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
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
	}
	if s.boost == 0 {
		s.boost = 1
	}
	if err := s.open(ctx, r, q.fields); err != nil {
		s.Close()
		return nil, err
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
type bm25Searcher struct {
	terms   []queryTerm
	weights []float64     // per term: n(t)·idf(t)
	idfs    []float64     // per term, for explanations
	heap    []*termCursor // cursors not yet exhausted, a min-heap by document
	all     []*termCursor // every cursor, for Close
	count   uint64
	boost   float64
	explain bool
	noScore bool

	// Scratch for the document being scored.
	id      index.IndexInternalID
	x       []float64 // per term: the weighted, length-normalised frequency
	touched []int     // terms with x > 0

	// requireAll: a document matches only if, in one field, every query
	// term matched; need[f] is how many terms that is in field f (0 when
	// some term is missing from the field altogether), seen[f] how many
	// matched the current document.
	requireAll bool
	need, seen []int
}

// termCursor walks the postings of one term in one field.
type termCursor struct {
	reader index.TermFieldReader
	doc    index.TermFieldDoc
	cur    *index.TermFieldDoc // nil once exhausted
	term   int                 // index into bm25Searcher.terms
	field  int                 // index into the query's fields
	name   string              // the field's name
	// x contribution = weight·tf / (lenConst + lenCoef·length)
	weight, lenConst, lenCoef float64
}

// open creates the cursors of every query term in every field that has
// documents, and the terms' weights.
func (s *bm25Searcher) open(ctx context.Context, r index.IndexReader, fields []weightedField) error {
	s.weights = make([]float64, len(s.terms))
	s.idfs = make([]float64, len(s.terms))
	s.x = make([]float64, len(s.terms))
	s.need = make([]int, len(fields))
	s.seen = make([]int, len(fields))
	df := make([]float64, len(s.terms))
	var n float64
	for fi, f := range fields {
		docs, avgLen, err := lengthStats(ctx, r, f.name)
		if err != nil {
			return err
		}
		if docs == 0 || len(s.terms) == 0 {
			continue
		}
		n = max(n, docs)
		first := len(s.all)
		for ti, t := range s.terms {
			tfr, err := r.TermFieldReader(ctx, []byte(t.term), f.name, true, true, false)
			if err != nil {
				return err
			}
			c := &termCursor{
				reader:   tfr,
				term:     ti,
				field:    fi,
				name:     f.name,
				weight:   f.weight,
				lenConst: 1 - bm25B,
				lenCoef:  bm25B / avgLen,
			}
			s.all = append(s.all, c)
			count := tfr.Count()
			if count == 0 && s.requireAll {
				// The field cannot hold every term.
				for _, c := range s.all[first:] {
					c.reader.Close()
				}
				s.all = s.all[:first]
				break
			}
			df[ti] = max(df[ti], float64(count))
		}
		s.need[fi] = len(s.all) - first
	}
	for ti, t := range s.terms {
		if df[ti] > 0 {
			s.idfs[ti] = math.Log(1 + (max(n-df[ti], 0)+0.5)/(df[ti]+0.5))
			s.weights[ti] = float64(t.count) * s.idfs[ti]
		}
	}
	for _, c := range s.all {
		s.count += c.reader.Count()
		if err := c.next(); err != nil {
			return err
		}
	}
	s.init()
	return nil
}

// next moves c to its next posting.
func (c *termCursor) next() error {
	var err error
	c.cur, err = c.reader.Next(&c.doc)
	return err
}

// advance moves c to its first posting at or after id.
func (c *termCursor) advance(id index.IndexInternalID) error {
	var err error
	c.cur, err = c.reader.Advance(id, &c.doc)
	return err
}

// x is c's contribution to its term's weighted frequency in the current
// document. The norm Bleve stores is 1/√length.
func (c *termCursor) x() float64 {
	length := 1 / (c.cur.Norm * c.cur.Norm)
	return c.weight * float64(c.cur.Freq) / (c.lenConst + c.lenCoef*length)
}

// init builds the heap from the cursors that found something.
func (s *bm25Searcher) init() {
	s.heap = s.heap[:0]
	for _, c := range s.all {
		if c.cur != nil {
			s.heap = append(s.heap, c)
		}
	}
	for i := len(s.heap)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}

func (s *bm25Searcher) less(i, j int) bool {
	return s.heap[i].cur.ID.Compare(s.heap[j].cur.ID) < 0
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

// Next implements search.Searcher: the next document in index order that
// holds a query term (all of them in one field, for a phrase), with its
// score.
func (s *bm25Searcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for len(s.heap) > 0 {
		s.id = append(s.id[:0], s.heap[0].cur.ID...)
		clear(s.seen)
		for len(s.heap) > 0 && s.heap[0].cur.ID.Equals(s.id) {
			c := s.heap[0]
			s.seen[c.field]++
			if s.x[c.term] == 0 {
				s.touched = append(s.touched, c.term)
			}
			s.x[c.term] += c.x()
			if err := c.next(); err != nil {
				return nil, err
			}
			if c.cur == nil {
				last := len(s.heap) - 1
				s.heap[0] = s.heap[last]
				s.heap = s.heap[:last]
			}
			s.down(0)
		}
		if s.requireAll && !s.complete() {
			s.reset()
			continue
		}
		dm := ctx.DocumentMatchPool.Get()
		dm.IndexInternalID = append(dm.IndexInternalID[:0], s.id...)
		if !s.noScore {
			dm.Score = s.score(dm)
		}
		s.reset()
		return dm, nil
	}
	return nil, nil
}

// score adds up the touched terms' BM25F contributions (and explains them
// when asked).
func (s *bm25Searcher) score(dm *search.DocumentMatch) float64 {
	var sum float64
	var parts []*search.Explanation
	for _, t := range s.touched {
		x := s.x[t]
		v := s.weights[t] * x * (bm25K1 + 1) / (bm25K1 + x)
		sum += v
		if s.explain {
			parts = append(parts, &search.Explanation{
				Value:   v,
				Message: fmt.Sprintf("bm25f(term=%q, n=%d, idf=%.3f, x=%.3f)", s.terms[t].term, s.terms[t].count, s.idfs[t], x),
			})
		}
	}
	sum *= s.boost
	if s.explain {
		dm.Expl = &search.Explanation{Value: sum, Message: fmt.Sprintf("sum of, × boost %g:", s.boost), Children: parts}
	}
	return sum
}

// reset clears the scratch of the document just scored.
func (s *bm25Searcher) reset() {
	for _, t := range s.touched {
		s.x[t] = 0
	}
	s.touched = s.touched[:0]
}

// complete reports whether the current document matched every term in
// some field.
func (s *bm25Searcher) complete() bool {
	for f, n := range s.need {
		if n > 0 && s.seen[f] == n {
			return true
		}
	}
	return false
}

// Advance implements search.Searcher: the first document at or after id.
func (s *bm25Searcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	for _, c := range s.heap {
		if c.cur.ID.Compare(id) < 0 {
			if err := c.advance(id); err != nil {
				return nil, err
			}
		}
	}
	s.init()
	return s.Next(ctx)
}

// Close implements search.Searcher.
func (s *bm25Searcher) Close() error {
	var first error
	for _, c := range s.all {
		if err := c.reader.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.all, s.heap = nil, nil
	return first
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
