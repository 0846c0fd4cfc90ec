package search

import (
	"errors"
	"fmt"
	"slices"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names under which the Chinese analysis is registered with Bleve. An index
// mapping refers to them by name, so they must never be renamed; a change in
// what they produce must raise MappingVersion.
const (
	// TokenizerName is the Bleve tokenizer that folds text (see Fold) and
	// cuts it with the process-wide Segmenter. Its "mode" option is
	// "search" (the default: every word plus the dictionary words inside it)
	// or "exact" (jieba's exact mode only).
	TokenizerName = "jindianzi_jieba"
	// AnalyzerName is the Bleve analyzer for the word fields (title, body):
	// the TokenizerName tokenizer in exact mode followed by the
	// SynonymFilterName filter, at index and at query time alike. Exact mode
	// because the pair and character fields already find the parts of a
	// long word, which search mode would count a second time (ANALYSIS.md).
	AnalyzerName = "jindianzi"
	// BigramAnalyzerName is the Bleve analyzer for the fallback fields
	// (title_bigram, body_bigram): folded text cut into Unicode words, Han
	// runs into overlapping character pairs, which finds what jieba cut
	// differently in the query and in the document (names, typos, new words).
	BigramAnalyzerName = "jindianzi_bigram"
	// UnigramAnalyzerName is the Bleve analyzer for the single-character
	// fields (title_char, body_char): folded text cut into Unicode words,
	// so each Han character on its own, which scores partial overlaps
	// (燃气 in 天然气) that neither words nor pairs see, less the 500 most
	// common characters (CommonCharFilterName).
	UnigramAnalyzerName = "jindianzi_unigram"
	// CommonCharFilterName is the Bleve token filter that drops the most
	// common Han characters (dict/common_chars.utf8): in nearly every text,
	// they make long posting lists that cost index space and query time and
	// tell documents apart no better than the pair field already does.
	CommonCharFilterName = "jindianzi_common_chars"
	// SynonymFilterName is the Bleve token filter that adds, at the same
	// position, the canonical word of a synonym group (dict/synonyms.utf8)
	// after each other member, so that 电瓶车 in a document is found by 电动车
	// and the other way round.
	SynonymFilterName = "jindianzi_synonyms"
	// StopFilterName is the Bleve token filter that drops the stop words of
	// dict/search_stop.utf8 (function words and set phrases, not jieba's
	// longer list, which also holds content words). BuildQuery does not use
	// it: with IDF weighting, dropping them changed nothing measurable
	// (ANALYSIS.md); it is there for analyses that must stay small, such as
	// a whole body turned into a "more like this" query.
	StopFilterName = "jindianzi_stop"
	// FoldTokenizerName is the Bleve tokenizer that folds text (see Fold)
	// and splits it into Unicode words (Bleve's "unicode" tokenizer).
	FoldTokenizerName = "jindianzi_unicode"
	// TextAnalyzerName is the Bleve analyzer of the title and body fields:
	// the text folded once and cut into words, character pairs and
	// uncommon characters in one stream (see textCutter), ending with a
	// marker of the field's length that BuildQuery's BM25 reads. It does the
	// work of the three analyzers above in one pass over one field, which
	// is what keeps the index small and fast to build (ANALYSIS.md).
	TextAnalyzerName = "jindianzi_text"
	// BodyAnalyzerName is TextAnalyzerName for the body field: the terms
	// that start within the first leadBytes bytes of the folded text count
	// twice, as a resident states the matter in a letter's opening lines
	// (ANALYSIS.md, "The opening of a body").
	BodyAnalyzerName = "jindianzi_body"
)

// leadBytes is how much of a body's folded text BodyAnalyzerName counts
// twice: 180 bytes, about 60 Chinese characters. Measured with `search
// eval` on both data files (ANALYSIS.md, row 31), 120 to 360 bytes all
// gained on the messages; 180 gained most on the check file.
const leadBytes = 180

// Tokenizer modes, the values of TokenizerName's "mode" option.
const (
	modeSearch = "search"
	modeExact  = "exact"
)

// errNoSegmenter is returned when Bleve builds the tokenizer before
// OpenSegmenter has loaded jieba.
var errNoSegmenter = errors.New("search: jieba tokenizer needs OpenSegmenter to be called first")

// Registration only records constructors; nothing is built or loaded until an
// index asks for the analyzer, which is why the tokenizer can look up the
// Segmenter lazily.
func init() {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(registry.RegisterTokenizer(TokenizerName, tokenizerConstructor))
	must(registry.RegisterTokenizer(FoldTokenizerName, foldTokenizerConstructor))
	must(registry.RegisterTokenFilter(SynonymFilterName, synonymFilterConstructor))
	must(registry.RegisterTokenFilter(StopFilterName, stopFilterConstructor))
	must(registry.RegisterTokenFilter(CommonCharFilterName, commonCharFilterConstructor))
	must(registry.RegisterAnalyzer(AnalyzerName, analyzerConstructor))
	must(registry.RegisterAnalyzer(BigramAnalyzerName, bigramAnalyzerConstructor))
	must(registry.RegisterAnalyzer(UnigramAnalyzerName, unigramAnalyzerConstructor))
	must(registry.RegisterAnalyzer(TextAnalyzerName, textAnalyzerConstructor(0)))
	must(registry.RegisterAnalyzer(BodyAnalyzerName, textAnalyzerConstructor(leadBytes)))
}

// textAnalyzerConstructor returns the constructor of a textAnalyzer around
// the process-wide Segmenter counting the terms within the first lead
// bytes twice: "jindianzi_text" with 0, "jindianzi_body" with leadBytes.
func textAnalyzerConstructor(lead int) registry.AnalyzerConstructor {
	return func(_ map[string]any, _ *registry.Cache) (analysis.Analyzer, error) {
		cut, err := newTextCutter(currentSegmenter())
		if err != nil {
			return nil, err
		}
		return &textAnalyzer{cut: cut, lead: lead}, nil
	}
}

// analyzerConstructor builds the "jindianzi" analyzer. It lives in code rather
// than as a custom analyzer inside each index mapping so that NewMapping needs
// no loaded jieba (Bleve builds custom analyzers as soon as they are added);
// a change here must raise MappingVersion. Folding happens in the tokenizer,
// which also lower-cases, so no lowercase filter follows.
func analyzerConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	tok, err := newTokenizer(currentSegmenter(), false)
	if err != nil {
		return nil, err
	}
	syn, err := cache.TokenFilterNamed(SynonymFilterName)
	if err != nil {
		return nil, err
	}
	return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: []analysis.TokenFilter{syn}}, nil
}

// bigramAnalyzerConstructor builds the "jindianzi_bigram" analyzer: Bleve's
// "cjk" analyzer with Fold in place of its width and lower-case filters.
func bigramAnalyzerConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	return custom.AnalyzerConstructor(map[string]any{
		"tokenizer":     FoldTokenizerName,
		"token_filters": []string{cjk.BigramName},
	}, cache)
}

// unigramAnalyzerConstructor builds the "jindianzi_unigram" analyzer.
func unigramAnalyzerConstructor(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	return custom.AnalyzerConstructor(map[string]any{
		"tokenizer":     FoldTokenizerName,
		"token_filters": []string{CommonCharFilterName},
	}, cache)
}

// tokenizerConstructor builds the "jindianzi_jieba" tokenizer around the
// process-wide Segmenter.
func tokenizerConstructor(config map[string]any, _ *registry.Cache) (analysis.Tokenizer, error) {
	mode := modeSearch
	if v, ok := config["mode"]; ok {
		s, _ := v.(string)
		if s != modeSearch && s != modeExact {
			return nil, fmt.Errorf("search: tokenizer %s: mode %v is neither %q nor %q", TokenizerName, v, modeSearch, modeExact)
		}
		mode = s
	}
	return newTokenizer(currentSegmenter(), mode == modeSearch)
}

func newTokenizer(seg *Segmenter, searchMode bool) (analysis.Tokenizer, error) {
	if seg == nil {
		return nil, errNoSegmenter
	}
	return &jiebaTokenizer{seg: seg, searchMode: searchMode}, nil
}

// jiebaTokenizer turns jieba's cut of the folded text into a Bleve token
// stream whose offsets point into the original text.
type jiebaTokenizer struct {
	seg        *Segmenter
	searchMode bool
	noFold     bool // only for measuring what folding brings (see ANALYSIS.md)
}

// Tokenize implements analysis.Tokenizer.
//
// Terms are folded (see Fold); Start and End are byte offsets into input, so
// highlighting marks the text as the resident wrote it. Search mode yields
// each exact-mode word plus the dictionary words inside it. All tokens from
// one exact-mode word share its position, the way synonyms do, so a phrase
// query matches whichever granularity the query text was cut into. Tokens
// without a letter or digit (spaces, punctuation, symbols) are dropped and
// take no position.
func (t *jiebaTokenizer) Tokenize(input []byte) analysis.TokenStream {
	text, fm := string(input), &folded{text: string(input), orig: len(input)}
	if !t.noFold {
		text, fm = foldText(text)
	}
	words := t.seg.Tokenize(text, t.searchMode)
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
			Start:    fm.origStart(w.Start),
			End:      fm.origEnd(w.End),
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

// foldTokenizerConstructor builds the "jindianzi_unicode" tokenizer.
func foldTokenizerConstructor(_ map[string]any, _ *registry.Cache) (analysis.Tokenizer, error) {
	return foldTokenizer{inner: unicodetok.NewUnicodeTokenizer()}, nil
}

// foldTokenizer folds text (see Fold), splits the folded text with inner
// and maps the tokens' offsets back to the original text.
type foldTokenizer struct {
	inner analysis.Tokenizer
}

// Tokenize implements analysis.Tokenizer.
func (t foldTokenizer) Tokenize(input []byte) analysis.TokenStream {
	text, fm := foldText(string(input))
	stream := t.inner.Tokenize([]byte(text))
	for _, tok := range stream {
		tok.Start, tok.End = fm.origStart(tok.Start), fm.origEnd(tok.End)
	}
	return stream
}

// synonymFilterConstructor builds the "jindianzi_synonyms" token filter.
func synonymFilterConstructor(_ map[string]any, _ *registry.Cache) (analysis.TokenFilter, error) {
	return synonymFilter{canon: synonymCanon()}, nil
}

// synonymFilter adds after each token that is a non-canonical member of a
// synonym group the group's canonical word, at the same position and over
// the same text. Keeping the original term lets an exact match score above a
// synonym match.
type synonymFilter struct {
	canon map[string]string
}

// Filter implements analysis.TokenFilter.
func (f synonymFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream // allocated on the first synonym only
	for i, tok := range input {
		c, ok := f.canon[string(tok.Term)]
		if !ok {
			if out != nil {
				out = append(out, tok)
			}
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, i, len(input)+4)
			copy(out, input[:i])
		}
		syn := *tok
		syn.Term = []byte(c)
		out = append(out, tok, &syn)
	}
	if out == nil {
		return input
	}
	return out
}

// stopFilterConstructor builds the "jindianzi_stop" token filter.
func stopFilterConstructor(_ map[string]any, _ *registry.Cache) (analysis.TokenFilter, error) {
	return stop.NewStopTokensFilter(analysis.TokenMap(searchStopWords())), nil
}

// commonCharFilterConstructor builds the "jindianzi_common_chars" filter.
func commonCharFilterConstructor(_ map[string]any, _ *registry.Cache) (analysis.TokenFilter, error) {
	return stop.NewStopTokensFilter(analysis.TokenMap(commonChars())), nil
}
