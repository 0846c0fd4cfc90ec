package search

import (
	"errors"
	"slices"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names under which the Chinese analysis is registered with Bleve. An index
// mapping refers to them by name, so they must never be renamed.
const (
	// TokenizerName is the Bleve tokenizer that cuts text with the
	// process-wide Segmenter in search mode.
	TokenizerName = "jindianzi_jieba"
	// AnalyzerName is the Bleve analyzer for Chinese text fields: the
	// TokenizerName tokenizer followed by lower-casing.
	AnalyzerName = "jindianzi"
)

// errNoSegmenter is returned when Bleve builds the tokenizer before
// OpenSegmenter has loaded jieba.
var errNoSegmenter = errors.New("search: jieba tokenizer needs OpenSegmenter to be called first")

// Registration only records constructors; nothing is built or loaded until an
// index asks for the analyzer, which is why the tokenizer can look up the
// Segmenter lazily.
func init() {
	if err := registry.RegisterTokenizer(TokenizerName, tokenizerConstructor); err != nil {
		panic(err)
	}
	if err := registry.RegisterAnalyzer(AnalyzerName, analyzerConstructor); err != nil {
		panic(err)
	}
}

// analyzerConstructor builds the "jindianzi" analyzer. It lives in code rather
// than as a custom analyzer inside each index mapping so that NewMapping needs
// no loaded jieba (Bleve builds custom analyzers as soon as they are added);
// a change here must raise MappingVersion.
func analyzerConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	return custom.AnalyzerConstructor(map[string]any{
		"tokenizer":     TokenizerName,
		"token_filters": []string{lowercase.Name},
	}, cache)
}

// tokenizerConstructor builds the "jindianzi_jieba" tokenizer around the
// process-wide Segmenter.
func tokenizerConstructor(_ map[string]any, _ *registry.Cache) (analysis.Tokenizer, error) {
	return newTokenizer(currentSegmenter())
}

func newTokenizer(seg *Segmenter) (analysis.Tokenizer, error) {
	if seg == nil {
		return nil, errNoSegmenter
	}
	return &jiebaTokenizer{seg: seg}, nil
}

// jiebaTokenizer turns jieba's search-mode cut into a Bleve token stream.
type jiebaTokenizer struct {
	seg *Segmenter
}

// Tokenize implements analysis.Tokenizer.
//
// Search mode yields each exact-mode word plus the dictionary words inside
// it. All tokens from one exact-mode word share its position, the way
// synonyms do, so a phrase query matches whichever granularity the query text
// was cut into. Tokens without a letter or digit (spaces, punctuation,
// symbols) are dropped and take no position.
func (t *jiebaTokenizer) Tokenize(input []byte) analysis.TokenStream {
	words := t.seg.Tokenize(string(input), true)
	// Longest first at each start, so an exact-mode word opens its group.
	slices.SortStableFunc(words, func(a, b Token) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	stream := make(analysis.TokenStream, 0, len(words))
	pos, groupEnd, groupHasPos := 0, -1, false
	for _, w := range words {
		if w.Start >= groupEnd {
			groupEnd, groupHasPos = w.End, false
		} else if w.End > groupEnd {
			groupEnd = w.End
		}
		typ, ok := tokenType(w.Text)
		if !ok {
			continue
		}
		if !groupHasPos {
			pos++
			groupHasPos = true
		}
		stream = append(stream, &analysis.Token{
			Term:     []byte(w.Text),
			Start:    w.Start,
			End:      w.End,
			Position: pos,
			Type:     typ,
		})
	}
	return stream
}

// tokenType classifies a word: Ideographic if it holds a Han character,
// AlphaNumeric if it holds another letter or a digit, and not worth indexing
// otherwise.
func tokenType(word string) (analysis.TokenType, bool) {
	typ, ok := analysis.AlphaNumeric, false
	for _, r := range word {
		switch {
		case unicode.Is(unicode.Han, r):
			return analysis.Ideographic, true
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			ok = true
		}
	}
	return typ, ok
}
