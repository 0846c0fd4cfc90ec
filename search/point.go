package search

import (
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/numeric"
	index "github.com/blevesearch/bleve_index_api"
)

// pointField is a date or number field indexed at full precision only.
//
// Bleve's mapping indexes a date or a number as sixteen terms, the value at
// every fourth bit of precision, so that a range query can cover a span
// with a few coarse terms. The index never asks Bleve for a range or a sort
// on these fields: collect filters the creation time and sorts by it or by
// the support count from the segments' doc values (see columns), which only
// need the full-precision term. The coarser terms of the creation time were
// 912,000 of the 1.35 million distinct terms of a 100,000-idea index
// (TestScaleTerms), and building and merging a segment costs per distinct
// term (ANALYSIS.md, "Dates and numbers at full precision").
type pointField struct {
	document.Field
	freqs index.TokenFrequencies
}

// newPointField returns f as a pointField when it is a date or number
// field indexed with doc values, and f itself otherwise.
func newPointField(f document.Field) document.Field {
	switch f.(type) {
	case *document.DateTimeField, *document.NumericField:
	default:
		return f
	}
	if opts := f.Options(); !opts.IsIndexed() || !opts.IncludeDocValues() {
		return f
	}
	return &pointField{Field: f}
}

// fullPrecision returns the prefix-coded term of f's value at shift 0, as
// Bleve's field would index it, and false when f has no value.
func (f *pointField) fullPrecision() (numeric.PrefixCoded, bool) {
	var v int64
	switch x := f.Field.(type) {
	case *document.DateTimeField:
		t, _, err := x.DateTime()
		if err != nil {
			return nil, false
		}
		v = t.UnixNano()
	case *document.NumericField:
		n, err := x.Number()
		if err != nil {
			return nil, false
		}
		v = numeric.Float64ToInt64(n)
	}
	term, err := numeric.NewPrefixCodedInt64(v, 0)
	return term, err == nil
}

// Analyze implements index.Field.
func (f *pointField) Analyze() {
	f.freqs = index.TokenFrequencies{}
	term, ok := f.fullPrecision()
	if !ok {
		return
	}
	tf := &index.TokenFreq{Term: term}
	tf.SetFrequency(1)
	f.freqs[string(term)] = tf
}

// AnalyzedLength implements index.Field: the one term.
func (f *pointField) AnalyzedLength() int { return len(f.freqs) }

// AnalyzedTokenFrequencies implements index.Field.
func (f *pointField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

// Size implements document.Field.
func (f *pointField) Size() int {
	n := f.Field.Size()
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}
