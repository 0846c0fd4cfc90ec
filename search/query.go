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

// titleWeight is how much more a match in the title counts than one in the
// body. The title says in a few words what an idea is about (a choice, not
// a measurement: Eval indexes bodies only).
const titleWeight = 2.0

// BuildQuery turns a resident's search text into the Bleve query SearchIDs
// runs (and the faceted search builds on): BM25 over the title (weighted
// ×2) and the body, each cut into words, character pairs and uncommon
// characters (see TextAnalyzerName and textQuery). ANALYSIS.md records the
// measurements behind this shape.
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
	if !hasWordRune(text) {
		return bleve.NewMatchNoneQuery()
	}
	return &textQuery{text: text, fields: textFields(), boost: 1}
}

// PhraseQuery matches the ideas whose title or body holds text as one run
// of characters (after folding; spaces and punctuation are ignored), for
// "quoted phrases" and exclusions. The index keeps no positions, so it
// matches the documents holding every character pair of text in one field
// and scores them by BM25 on those pairs; for two characters or more of
// Chinese text that is almost always the phrase itself (ContainsPhrase
// checks the loaded text exactly). A single common character (的, 人) is
// not indexed on its own and matches only where it stands alone. Text
// without a word matches nothing.
func PhraseQuery(text string) query.Query {
	text = clipQuery(text)
	if !hasWordRune(text) {
		return bleve.NewMatchNoneQuery()
	}
	return &textQuery{text: text, fields: textFields(), boost: 1, phrase: true}
}

// HoldsPhrases reports whether a document's title or its body holds each
// phrase, as the index means it: each phrase within one field (see
// ContainsPhrase). The index matches a phrase by its character pairs, so
// "小区电梯" also matches a text with 小区 and 电梯 apart; callers check
// the hits' loaded texts with this.
func HoldsPhrases(title, body string, phrases []string) bool {
	for _, ph := range phrases {
		if !ContainsPhrase(title, ph) && !ContainsPhrase(body, ph) {
			return false
		}
	}
	return true
}

// ContainsPhrase reports whether text holds phrase as PhraseQuery means it:
// both folded (see Fold), with everything but letters and digits ignored.
// An empty phrase is in every text.
func ContainsPhrase(text, phrase string) bool {
	return strings.Contains(squeeze(Fold(text)), squeeze(Fold(phrase)))
}

// squeeze keeps only the letters and digits of s.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if isCJK(r) || isWordRune(r) {
			return r
		}
		return -1
	}, s)
}

// textFields are the fields BuildQuery and PhraseQuery search.
func textFields() []weightedField {
	return []weightedField{{FieldTitle, titleWeight}, {FieldBody, 1}}
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
