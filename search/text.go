package search

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// textTerm is one term cut from folded text by textCutter: folded[start:end],
// or, for a synonym, the group's canonical word over that span.
type textTerm struct {
	start, end int
	canon      string // the canonical word when this term is a synonym
}

// textCutter cuts folded text into the terms of the title and body fields,
// three granularities in one stream (ANALYSIS.md):
//
//   - words: jieba's exact-mode words holding a letter or digit, each
//     followed by its synonym group's canonical word when it has one;
//   - pairs: every two neighbouring characters of a run of CJK characters
//     (a run of one gives that character);
//   - characters: each CJK character outside the most common 500.
//
// A run of other letters and digits (abc, 2019, a7) is its own pair and its
// own character, so it stands three times, as a CJK text of the same length
// roughly does; measured, this weight is worth 0.013 MRR.
type textCutter struct {
	seg    *Segmenter
	canon  map[string]string
	common map[rune]bool
}

// newTextCutter returns a textCutter around seg, or errNoSegmenter.
func newTextCutter(seg *Segmenter) (*textCutter, error) {
	if seg == nil {
		return nil, errNoSegmenter
	}
	return &textCutter{seg: seg, canon: synonymCanon(), common: commonRunes()}, nil
}

// commonRunes is commonChars as runes.
var commonRunes = sync.OnceValue(func() map[rune]bool {
	m := map[rune]bool{}
	for c := range commonChars() {
		r, _ := utf8.DecodeRuneInString(c)
		m[r] = true
	}
	return m
})

// isCJK reports whether r is written without spaces between words: Han
// characters and the Japanese and Korean scripts, which are cut into pairs.
func isCJK(r rune) bool {
	switch {
	case r < 0x2E80:
		return false
	case 0x4E00 <= r && r <= 0x9FFF:
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// isWordRune reports whether r belongs in a run of letters and digits.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// cut appends the terms of folded (text already folded with Fold) to dst;
// without words, only the pairs (and runs of letters and digits, once).
func (c *textCutter) cut(folded string, dst []textTerm, words bool) []textTerm {
	if !words {
		return c.pairs(folded, dst, false)
	}
	for _, w := range c.seg.Tokenize(folded, false) {
		if !hasWordRune(w.Text) {
			continue
		}
		dst = append(dst, textTerm{start: w.Start, end: w.End})
		if canon, ok := c.canon[w.Text]; ok {
			dst = append(dst, textTerm{start: w.Start, end: w.End, canon: canon})
		}
	}
	return c.pairs(folded, dst, true)
}

// pairs appends the pairs of folded to dst and, with chars, the uncommon
// characters and each run of letters and digits a second time.
func (c *textCutter) pairs(folded string, dst []textTerm, chars bool) []textTerm {
	prevStart, prevCJK := -1, false // the previous rune, if CJK and adjacent
	runLen := 0                     // CJK runes in the current run
	wordStart := -1                 // start of the current run of letters and digits
	endWord := func(end int) {
		if wordStart >= 0 {
			dst = append(dst, textTerm{start: wordStart, end: end})
			if chars {
				dst = append(dst, textTerm{start: wordStart, end: end})
			}
			wordStart = -1
		}
	}
	endRun := func() {
		if runLen == 1 {
			// A lone CJK character stands for its pair.
			_, size := utf8.DecodeRuneInString(folded[prevStart:])
			dst = append(dst, textTerm{start: prevStart, end: prevStart + size})
		}
		runLen, prevCJK = 0, false
	}
	for i, r := range folded {
		if isCJK(r) {
			endWord(i)
			size := utf8.RuneLen(r)
			if prevCJK {
				dst = append(dst, textTerm{start: prevStart, end: i + size})
			}
			if chars && !c.common[r] {
				dst = append(dst, textTerm{start: i, end: i + size})
			}
			prevStart, prevCJK = i, true
			runLen++
			continue
		}
		if runLen > 0 {
			endRun()
		}
		if isWordRune(r) {
			if wordStart < 0 {
				wordStart = i
			}
			continue
		}
		endWord(i)
	}
	endWord(len(folded))
	if runLen > 0 {
		endRun()
	}
	return dst
}

// hasWordRune reports whether s holds a letter or a digit.
func hasWordRune(s string) bool {
	for _, r := range s {
		if isCJK(r) || unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
	}
	return false
}

// lengthMarker starts the one term per field that records the field's
// length in the index (see lengthTerm); no text yields it, since folding
// turns control characters into spaces and no term holds a space or a
// control character.
const lengthMarker = "\x01"

// Field lengths are recorded in buckets: exact up to lengthExact tokens,
// then geometric steps of lengthStep (so within ±3%), which keeps the
// number of distinct marker terms near a hundred for any index.
const (
	lengthExact = 32
	lengthStep  = 1.0625
)

// lengthTerm returns the marker term for a field of n tokens (the marker
// itself included).
func lengthTerm(n int) string {
	b := n
	if n > lengthExact {
		b = lengthExact + 1 + int(math.Log(float64(n)/lengthExact)/math.Log(lengthStep))
	}
	return lengthMarker + strconv.Itoa(b)
}

// lengthOfTerm returns the typical length of the fields whose marker is
// term, and false if term is not a marker.
func lengthOfTerm(term string) (float64, bool) {
	rest, ok := strings.CutPrefix(term, lengthMarker)
	if !ok {
		return 0, false
	}
	b, err := strconv.Atoi(rest)
	if err != nil || b < 0 {
		return 0, false
	}
	if b <= lengthExact {
		return float64(b), true
	}
	return lengthExact * math.Pow(lengthStep, float64(b-lengthExact-1)+0.5), true
}

// placelessMarker is the term a title or body holds, once, when its text
// names no place code (see placeCodes). A query naming a place scores a
// document whose fields all hold it as if its body named that place once:
// a letter that names no county is not about another county, while one
// that names K3县 is (ANALYSIS.md, "Letters that name no place"). Like
// lengthMarker, no text yields it.
const placelessMarker = "\x02"

// A title or body whose place codes all lie in one city (a, a3, a7: city
// a) holds withinCityMarker + that letter; one that names the city's own
// code and no other also holds cityOnlyMarker + the letter. A document
// naming no other place thus agrees with a query naming a7县 if it names
// only a市, and with one naming a市 if it names a7县 (see placeAgrees).
const (
	withinCityMarker = "\x03"
	cityOnlyMarker   = "\x04"
)

// placeMarkers returns the place markers of a title or body whose folded
// text is folded: placelessMarker, or those of withinCityMarker and
// cityOnlyMarker that apply, or none.
func placeMarkers(folded string) []string {
	codes := placeCodes(folded)
	if len(codes) == 0 {
		return []string{placelessMarker}
	}
	city := codes[0][:1]
	for _, c := range codes {
		if c[:1] != city {
			return nil
		}
	}
	if len(codes) == 1 && codes[0] == city {
		return []string{withinCityMarker + city, cityOnlyMarker + city}
	}
	return []string{withinCityMarker + city}
}

// agreeMarker returns the marker of the titles and bodies that agree with
// a query's place code without naming it: those within its city for a
// city's code (a), those naming only its city for a county's (a7).
func agreeMarker(code string) string {
	if len(code) == 1 {
		return withinCityMarker + code
	}
	return cityOnlyMarker + code[:1]
}

// placeCodes returns the place codes folded text names, in order, each
// once: a Latin letter with at most two digits, standing alone (no letter
// or digit before or after it) and followed, after at most one space, by
// 市, 县, 区, 州, 镇 or 乡 — "a市", "a7县", "j10 县". This is how the
// message boards this portal learns from write divisions once anonymised,
// and how residents quote them back.
func placeCodes(folded string) []string {
	var codes []string
	for i := 0; i < len(folded); i++ {
		if !isLowerASCII(folded[i]) || i > 0 && isASCIIAlnum(folded[i-1]) {
			continue
		}
		j := i + 1
		for j < len(folded) && j-i <= 2 && isDigitASCII(folded[j]) {
			j++
		}
		if j < len(folded) && isASCIIAlnum(folded[j]) {
			continue
		}
		k := j
		if k < len(folded) && folded[k] == ' ' {
			k++
		}
		r, _ := utf8.DecodeRuneInString(folded[k:])
		switch r {
		case '市', '县', '区', '州', '镇', '乡':
			if code := folded[i:j]; !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
	}
	return codes
}

func isLowerASCII(b byte) bool { return 'a' <= b && b <= 'z' }
func isDigitASCII(b byte) bool { return '0' <= b && b <= '9' }
func isASCIIAlnum(b byte) bool { return isLowerASCII(b) || isDigitASCII(b) || 'A' <= b && b <= 'Z' }

// textAnalyzer is the TextAnalyzerName analyzer (and BodyAnalyzerName's).
// It folds the text once, cuts it with textCutter and ends the stream with
// the field's length marker. Terms share one buffer; offsets point into
// the original text.
type textAnalyzer struct {
	cut *textCutter
	// lead: the terms starting within the first lead bytes of the folded
	// text are in the stream twice, so count twice in the frequencies and
	// the length (see leadBytes).
	lead int
}

// repeats returns how many times t is counted in a field whose first lead
// bytes count twice.
func repeats(t textTerm, lead int) int {
	if t.start < lead {
		return 2
	}
	return 1
}

// Analyze implements analysis.Analyzer.
func (a *textAnalyzer) Analyze(input []byte) analysis.TokenStream {
	text, fm := foldText(string(input))
	terms := a.cut.cut(text, make([]textTerm, 0, len(text)/2), true)
	if len(terms) == 0 {
		return nil // an empty field: no length either
	}
	buf := []byte(text)
	n := 1 // the marker
	for _, t := range terms {
		n += repeats(t, a.lead)
	}
	markers := placeMarkers(text)
	n += len(markers)
	slab := make([]analysis.Token, n)
	stream := make(analysis.TokenStream, 0, n)
	for _, t := range terms {
		for range repeats(t, a.lead) {
			tok := &slab[len(stream)]
			if t.canon != "" {
				tok.Term = []byte(t.canon)
			} else {
				tok.Term = buf[t.start:t.end:t.end]
			}
			tok.Start, tok.End = fm.origStart(t.start), fm.origEnd(t.end)
			tok.Position = len(stream) + 1
			tok.Type = analysis.AlphaNumeric
			if r, _ := utf8.DecodeRune(tok.Term); isCJK(r) {
				tok.Type = analysis.Ideographic
			}
			stream = append(stream, tok)
		}
	}
	for _, m := range markers {
		tok := &slab[len(stream)]
		tok.Term = []byte(m)
		tok.Start, tok.End = len(input), len(input)
		tok.Position = len(stream) + 1
		tok.Type = analysis.Single
		stream = append(stream, tok)
	}
	marker := &slab[n-1]
	marker.Term = []byte(lengthTerm(n))
	marker.Start, marker.End = len(input), len(input)
	marker.Position = n
	marker.Type = analysis.Single
	return append(stream, marker)
}

// termFrequencies cuts input as textAnalyzer.Analyze does, counting the
// terms within the first lead bytes twice as an analyzer with that lead
// does, straight into Bleve's term frequencies. For a field without term
// vectors (NewMapping's title and body) that is what Bleve's TextField makes
// of textAnalyzer's tokens with analysis.TokenFrequency — the same terms,
// frequencies and length (the number of terms with the marker, from which
// the segment derives the norm) — without a Token per term or a string per
// map key: keys are slices of the folded text, terms of one copy of it,
// and the TokenFreqs come from one slab.
func (c *textCutter) termFrequencies(input []byte, lead int) (int, index.TokenFrequencies) {
	text := Fold(string(input))
	terms := c.cut(text, make([]textTerm, 0, len(text)/2), true)
	if len(terms) == 0 {
		return 0, index.TokenFrequencies{} // as TokenFrequency makes of no tokens
	}
	buf := []byte(text)
	freqs := make(index.TokenFrequencies, len(terms)/2)
	slab := make([]index.TokenFreq, 0, len(terms)+3) // never grows: freqs points into it
	add := func(key string, term []byte) {
		if tf := freqs[key]; tf != nil {
			tf.SetFrequency(tf.Frequency() + 1)
			return
		}
		slab = append(slab, index.TokenFreq{Term: term})
		tf := &slab[len(slab)-1]
		tf.SetFrequency(1)
		freqs[key] = tf
	}
	n := 1 // the marker
	for _, t := range terms {
		for range repeats(t, lead) {
			n++
			if t.canon != "" {
				add(t.canon, []byte(t.canon))
				continue
			}
			add(text[t.start:t.end], buf[t.start:t.end:t.end])
		}
	}
	for _, m := range placeMarkers(text) {
		n++
		add(m, []byte(m))
	}
	marker := lengthTerm(n)
	add(marker, []byte(marker))
	return n, freqs
}

// textField is a field analysed by TextAnalyzerName, as Bleve's mapping
// builds it (name, value, options), whose Analyze fills the term
// frequencies with textCutter.termFrequencies instead of going through
// tokens. newTextField returns it only for fields without term vectors and
// with frequencies and norms, the case where both ways index the same.
type textField struct {
	*document.TextField
	cut    *textCutter
	lead   int // as the analyzer's
	length int
	freqs  index.TokenFrequencies
}

// newTextField returns f as a textField when f is analysed by a
// textAnalyzer (TextAnalyzerName, BodyAnalyzerName) and indexed without
// term vectors or SkipFreqNorm, and f itself otherwise.
func newTextField(f *document.TextField) document.Field {
	a, ok := f.Analyzer().(*textAnalyzer)
	opts := f.Options()
	if !ok || opts.IncludeTermVectors() || opts.SkipFreqNorm() || !opts.IsIndexed() {
		return f
	}
	return &textField{TextField: f, cut: a.cut, lead: a.lead}
}

// Analyze implements index.Field.
func (f *textField) Analyze() {
	f.length, f.freqs = f.cut.termFrequencies(f.Value(), f.lead)
}

// AnalyzedLength implements index.Field.
func (f *textField) AnalyzedLength() int { return f.length }

// AnalyzedTokenFrequencies implements index.Field.
func (f *textField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

// Size implements document.Field: the embedded field's size counts no
// frequencies, since it never analysed.
func (f *textField) Size() int {
	n := f.TextField.Size()
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}

// queryTerm is a distinct term of a query and how often the query holds it.
type queryTerm struct {
	term  string
	count int
}

// queryTerms cuts query text (clipped, see clipQuery) like the fields are cut,
// without the length marker, and counts each distinct term; without words,
// only its pairs (see cut).
func (c *textCutter) queryTerms(text string, words bool) []queryTerm {
	folded := Fold(clipQuery(text))
	// Sized once: a draft of 200 characters has some 450 terms, and the
	// similar-ideas look-up cuts one at every keystroke pause.
	terms := c.cut(folded, make([]textTerm, 0, len(folded)+1), words)
	out := make([]queryTerm, 0, len(terms))
	at := make(map[string]int, len(terms))
	for _, t := range terms {
		term := t.canon
		if term == "" {
			term = folded[t.start:t.end]
		}
		if i, ok := at[term]; ok {
			out[i].count++
			continue
		}
		at[term] = len(out)
		out = append(out, queryTerm{term: term, count: 1})
	}
	return out
}
