package search

import (
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// maxQueryRunes is how much of a resident's text BuildQuery reads. A search
// box query is a few words; beyond this it is pasted text, whose first part
// says enough and whose whole would make thousands of term clauses.
const maxQueryRunes = 256

// Boosts of BuildQuery's clauses. The title says in a few words what an idea
// is about, so a match there counts for more than one in the body (a choice,
// not a measurement: Eval indexes bodies only). Words, pairs and characters
// weigh the same: ANALYSIS.md found the result flat in their weights.
const (
	titleBoost  = 2.0
	bodyBoost   = 1.0
	bigramBoost = 1.0
	charBoost   = 1.0
)

// BuildQuery turns a resident's search text into the Bleve query SearchIDs
// runs (and the faceted search builds on): a disjunction of match queries on
// the title (boosted) and the body, each as words (AnalyzerName), character
// pairs (BigramAnalyzerName) and uncommon characters (UnigramAnalyzerName),
// scored with Bleve's default TF-IDF. See ANALYSIS.md for the measurements
// behind this shape.
//
// Any text is accepted and none of it is syntax: "status:pending", quotes,
// "+" and "-" are just characters to analyse; invalid UTF-8 and NULs are
// read as spaces; only the first 256 characters count. Text without a word
// (empty, only punctuation) yields a query that matches nothing.
func (x *Index) BuildQuery(text string) query.Query {
	return buildQuery(text)
}

// buildQuery is BuildQuery; it needs nothing from the Index.
func buildQuery(text string) query.Query {
	text = clipQuery(text)
	if strings.TrimSpace(text) == "" {
		return bleve.NewMatchNoneQuery()
	}
	match := func(field, analyzer string, boost float64) query.Query {
		q := bleve.NewMatchQuery(text)
		q.SetField(field)
		q.Analyzer = analyzer
		q.SetBoost(boost)
		return q
	}
	return bleve.NewDisjunctionQuery(
		match(FieldTitle, AnalyzerName, titleBoost*bodyBoost),
		match(FieldBody, AnalyzerName, bodyBoost),
		match(fieldTitleBigram, BigramAnalyzerName, titleBoost*bigramBoost),
		match(fieldBodyBigram, BigramAnalyzerName, bigramBoost),
		match(fieldTitleChar, UnigramAnalyzerName, titleBoost*charBoost),
		match(fieldBodyChar, UnigramAnalyzerName, charBoost),
	)
}

// clipQuery makes text valid UTF-8 (each bad byte a space) and cuts it to
// maxQueryRunes characters.
func clipQuery(text string) string {
	if !utf8.ValidString(text) {
		var b strings.Builder
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteByte(' ')
			} else {
				b.WriteString(text[i : i+size])
			}
			i += size
		}
		text = b.String()
	}
	return clipRunes(text, maxQueryRunes)
}

// clipRunes returns the first n characters of text.
func clipRunes(text string, n int) string {
	for i := range text {
		if n == 0 {
			return text[:i]
		}
		n--
	}
	return text
}
