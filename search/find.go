package search

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
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
}

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
	text = strings.ToValidUTF8(text, " ")
	if utf8.RuneCountInString(text) > 2*maxQueryRunes {
		text = string([]rune(text)[:2*maxQueryRunes])
	}
	var p Parsed
	var words []string
	rs := []rune(text)
	isMinus := func(r rune) bool { return r == '-' || r == '－' }
	// phrase reads the quoted text opening at rs[i] and returns it with
	// the index after its closing quote.
	phrase := func(i int) (string, int) {
		j := i + 1
		for j < len(rs) && !strings.ContainsRune("\"“”」』", rs[j]) {
			j++
		}
		return strings.TrimSpace(string(rs[i+1 : j])), j + 1
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case strings.ContainsRune(openQuotes, r):
			var ph string
			if ph, i = phrase(i); ph != "" {
				p.Phrases = append(p.Phrases, ph)
			}
		case isMinus(r) && i+1 < len(rs) && strings.ContainsRune(openQuotes, rs[i+1]):
			// -"a phrase" excludes the phrase.
			var ph string
			if ph, i = phrase(i + 1); ph != "" {
				p.Excluded = append(p.Excluded, ph)
			}
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune(openQuotes, rs[j]) {
				j++
			}
			w := string(rs[i:j])
			if ex := strings.TrimLeftFunc(w, isMinus); isMinus(r) && ex != "" {
				p.Excluded = append(p.Excluded, ex)
			} else {
				words = append(words, w)
			}
			i = j
		}
	}
	p.Words = strings.Join(words, " ")
	return p
}

// phraseQuery matches text as a contiguous run of characters in the title
// or the body (see PhraseQuery).
func phraseQuery(text string) query.Query {
	return PhraseQuery(text)
}

// toQuery builds the Bleve query for a request.
func (x *Index) toQuery(r Request) query.Query {
	p := ParseQuery(r.Text)
	var must []query.Query
	hasText := strings.TrimSpace(p.Words) != "" || len(p.Phrases) > 0
	if strings.TrimSpace(p.Words) != "" {
		must = append(must, x.BuildQuery(p.Words))
	}
	for _, ph := range p.Phrases {
		must = append(must, phraseQuery(ph))
	}
	term := func(field, value string) query.Query {
		q := bleve.NewTermQuery(value)
		q.SetField(field)
		return q
	}
	if r.Kind != "" {
		must = append(must, term(FieldKind, r.Kind))
	}
	for field, v := range map[string]string{FieldCampaign: r.Campaign, FieldTheme: r.Theme, FieldRegion: r.Region} {
		if v != "" {
			must = append(must, term(field, v))
		}
	}
	if len(r.Statuses) > 0 {
		var any []query.Query
		for _, s := range r.Statuses {
			any = append(any, term(FieldStatus, s))
		}
		must = append(must, bleve.NewDisjunctionQuery(any...))
	}
	if !r.From.IsZero() || !r.To.IsZero() {
		var from, to time.Time
		if !r.From.IsZero() {
			from = r.From
		}
		if !r.To.IsZero() {
			to = r.To
		}
		inclusive := true
		q := bleve.NewDateRangeInclusiveQuery(from, to, &inclusive, &inclusive)
		q.SetField(FieldCreated)
		must = append(must, q)
	}
	if !hasText {
		must = append(must, bleve.NewMatchAllQuery())
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(must...)
	for _, ex := range p.Excluded {
		b.AddMustNot(phraseQuery(ex))
	}
	return b
}

// Search runs a request and returns one page of ids with facet counts.
func (x *Index) Search(ctx context.Context, r Request) (*Result, error) {
	if r.PerPage <= 0 || r.PerPage > 100 {
		r.PerPage = 20
	}
	if r.Page < 1 {
		r.Page = 1
	}
	req := bleve.NewSearchRequestOptions(x.toQuery(r), r.PerPage, (r.Page-1)*r.PerPage, false)
	text := ParseQuery(r.Text)
	empty := strings.TrimSpace(text.Words) == "" && len(text.Phrases) == 0
	switch r.Sort {
	case "", SortRelevance:
		if empty {
			req.SortBy([]string{"-" + FieldCreated, "_id"})
		} else {
			req.SortBy([]string{"-_score", "-" + FieldCreated, "_id"})
		}
	case SortNewest:
		req.SortBy([]string{"-" + FieldCreated, "_id"})
	case SortSupported:
		req.SortBy([]string{"-" + FieldSupports, "-_score", "_id"})
	default:
		return nil, ErrBadSort
	}
	if r.Facets {
		for _, f := range []string{FieldTheme, FieldCampaign, FieldRegion, FieldStatus, FieldKind} {
			req.AddFacet(f, bleve.NewFacetRequest(f, 40))
		}
	}
	var res *bleve.SearchResult
	err := x.use(func(idx bleve.Index) error {
		var err error
		res, err = idx.SearchInContext(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, Hit{ID: h.ID, Score: h.Score})
	}
	if r.Facets {
		out.Facets = map[string][]FacetCount{}
		for name, f := range res.Facets {
			counts := []FacetCount{}
			if f.Terms != nil {
				for _, t := range f.Terms.Terms() {
					// Documents without a value (debate posts have no
					// region) are not a term to narrow by.
					if t.Term != "" {
						counts = append(counts, FacetCount{Term: t.Term, Count: t.Count})
					}
				}
			}
			out.Facets[name] = counts
		}
	}
	return out, nil
}
