package search

import (
	"math"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"golang.org/x/text/unicode/norm"
)

func textTerms(t *testing.T, text string) []string {
	t.Helper()
	testSegmenter(t)
	a := NewMapping().AnalyzerNamed(TextAnalyzerName)
	if a == nil {
		t.Fatalf("mapping has no analyzer %q", TextAnalyzerName)
	}
	return terms(a.Analyze([]byte(text)))
}

func count(terms []string, term string) int {
	n := 0
	for _, t := range terms {
		if t == term {
			n++
		}
	}
	return n
}

func TestTextAnalyzer(t *testing.T) {
	got := textTerms(t, "加装电梯，ABC小区")
	// 加装电梯 is a civic word; 装电 only a pair; a run of letters is its
	// own word, pair and character.
	for term, n := range map[string]int{"加装电梯": 1, "装电": 1, "abc": 3} {
		if c := count(got, term); c != n {
			t.Errorf("%q: %d times, want %d, in %q", term, c, n, got)
		}
	}
	// 电梯 and 小区 are pairs, and words unless jieba kept them inside a
	// longer word; either way they are there.
	for _, term := range []string{"加装", "电梯", "小区"} {
		if count(got, term) == 0 {
			t.Errorf("no %q in %q", term, got)
		}
	}
	// Uncommon characters stand alone; the 500 most common do not.
	if count(got, "梯") != 1 {
		t.Errorf("uncommon 梯 missing from %q", got)
	}
	if count(got, "小") != 0 {
		t.Errorf("common 小 indexed alone in %q", got)
	}
	// The stream ends with the length marker, counting itself.
	last := got[len(got)-1]
	if n, ok := lengthOfTerm(last); !ok || int(n) != len(got) {
		t.Errorf("last term %q, want the length marker of %d terms", last, len(got))
	}
	if slices.Contains(got, "，") {
		t.Error("punctuation indexed")
	}
}

func TestTextAnalyzerSynonymsAndLoneCharacters(t *testing.T) {
	got := textTerms(t, "楼道里的电瓶车 A市")
	if count(got, "电动车") != 1 || count(got, "电瓶车") != 1 {
		t.Errorf("want 电瓶车 and its canonical 电动车 once each: %q", got)
	}
	// 市 stands alone between a letter and the end: its own pair.
	if count(got, "市") == 0 {
		t.Errorf("lone 市 missing: %q", got)
	}
	if got := textTerms(t, ""); len(got) != 0 {
		t.Errorf("empty text gives %q, want nothing (not even a length)", got)
	}
	if got := textTerms(t, "！？。"); len(got) != 0 {
		t.Errorf("punctuation gives %q, want nothing", got)
	}
}

func TestTextAnalyzerTokenTypes(t *testing.T) {
	testSegmenter(t)
	stream := NewMapping().AnalyzerNamed(TextAnalyzerName).Analyze([]byte("abc小区a7县"))
	for _, tok := range stream {
		want := analysis.Ideographic
		switch {
		case tok.Type == analysis.Single:
			if tok.Term[0] >= ' ' { // not a length or place marker
				t.Errorf("%q typed Single", tok.Term)
			}
			continue
		case string(tok.Term) == "abc", string(tok.Term) == "a7":
			want = analysis.AlphaNumeric
		}
		if tok.Type != want {
			t.Errorf("%q has type %v, want %v", tok.Term, tok.Type, want)
		}
	}
}

func TestQueryTerms(t *testing.T) {
	cut, err := newTextCutter(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	terms := cut.queryTerms("停车难 停车", true)
	got := map[string]int{}
	for _, q := range terms {
		got[q.term] = q.count
	}
	if got["停车"] < 2 || got["停车难"] != 1 {
		t.Errorf("queryTerms = %v, want 停车 counted each time and 停车难 once", terms)
	}
	for term := range got {
		if strings.HasPrefix(term, lengthMarker) {
			t.Errorf("query holds the length marker %q", term)
		}
	}
	pairs := cut.queryTerms("垃圾分类 abc", false)
	var ps []string
	for _, q := range pairs {
		ps = append(ps, q.term)
	}
	sort.Strings(ps)
	if !slices.Equal(ps, []string{"abc", "分类", "圾分", "垃圾"}) {
		t.Errorf("phrase terms %q, want the pairs and the letters", ps)
	}
	if _, err := newTextCutter(nil); err == nil {
		t.Error("newTextCutter(nil) works")
	}
}

func TestLengthTerms(t *testing.T) {
	if lengthTerm(1) == lengthTerm(2) || lengthTerm(32) == lengthTerm(33) {
		t.Error("short lengths share a marker")
	}
	buckets := map[string]bool{}
	for n := 1; n < 200000; n += 1 + n/50 {
		term := lengthTerm(n)
		buckets[term] = true
		l, ok := lengthOfTerm(term)
		if !ok {
			t.Fatalf("lengthOfTerm(%q) not a marker", term)
		}
		if math.Abs(l-float64(n)) > 0.035*float64(n) {
			t.Errorf("length %d reads back as %.1f", n, l)
		}
	}
	if len(buckets) > 250 {
		t.Errorf("%d markers up to 200,000 terms, want few", len(buckets))
	}
	for _, s := range []string{"", "abc", lengthMarker, lengthMarker + "x", lengthMarker + "-1"} {
		if _, ok := lengthOfTerm(s); ok {
			t.Errorf("lengthOfTerm(%q) accepted", s)
		}
	}
}

// Folding maps every folded character back to the characters it came from.
func TestFoldOffsetsProperty(t *testing.T) {
	alphabet := []string{"a", "B", "Z", "1", " ", "\x00", "\xff", "中", "國", "臺", "灣", "ｅ", "\u0301", "，", "Ａ", "　",
		"ﬁ", "\u3099", "か", "㈱", "①", "é", "É", "Ⅻ", "\U00020000", "\uF900", "\u00AD", "e", "ｶ", "ﾞ", "。", "、", "《", "〶", "\u302A", "〸", "℃", "…", "\u00A0", "“"}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		s := randomMix(rng, alphabet, 10)
		got, fm := foldText(s)
		if !utf8.ValidString(got) || got != referenceFold(s) || Fold(s) != got {
			t.Fatalf("foldText(%q) = %q, Fold %q", s, got, Fold(s))
		}
		prev := 0
		for i, r := range got {
			a, z := fm.origStart(i), fm.origEnd(i+utf8.RuneLen(r))
			if a < prev || z < a || z > len(s) {
				t.Fatalf("%q: folded rune at %d maps to %d:%d after %d", s, i, a, z, prev)
			}
			prev = a
			if r != ' ' && !strings.ContainsRune(Fold(s[a:z]), r) {
				t.Fatalf("%q: folded %q at %d maps to %q", s, r, i, s[a:z])
			}
		}
		if fm.origStart(len(got)) != len(s) {
			t.Fatalf("%q: the end maps to %d", s, fm.origStart(len(got)))
		}
	}
}

func BenchmarkFold(b *testing.B) {
	docs := loadMessages(b)
	var text strings.Builder
	for _, d := range docs[:500] {
		text.WriteString(d.Body)
	}
	s := text.String()
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		foldText(s)
	}
}

func BenchmarkTextAnalyzer(b *testing.B) {
	docs := loadMessages(b)
	testSegmenter(b)
	a := NewMapping().AnalyzerNamed(TextAnalyzerName)
	var n int64
	for _, d := range docs[:500] {
		n += int64(len(d.Body))
	}
	b.SetBytes(n)
	for i := 0; i < b.N; i++ {
		for _, d := range docs[:500] {
			a.Analyze([]byte(d.Body))
		}
	}
}

// The CJK punctuation foldText passes through unchanged is what Fold's
// definition leaves unchanged too, before ideographs, letters and the end of
// the text.
func TestFoldKeepsCJKPunctuation(t *testing.T) {
	for r := rune(0x3001); r <= 0x3029; r++ {
		for _, after := range []string{"", "中", "a", "，"} {
			s := string(r) + after
			if got, _ := foldText(s); got != referenceFold(s) || Fold(string(r)) != string(r) {
				t.Errorf("%U: foldText %q, by definition %q", r, got, referenceFold(s))
			}
		}
	}
}

// referenceFold is Fold's definition, without its fast paths: NUL bytes
// and invalid UTF-8 replaced by spaces, the whole text NFKC-normalised,
// then each character simplified and lower-cased.
func referenceFold(text string) string {
	var clean strings.Builder
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			clean.WriteByte(' ')
		} else {
			clean.WriteString(text[i : i+size])
		}
		i += size
	}
	t2s := t2sTable()
	var out strings.Builder
	for _, c := range norm.NFKC.String(clean.String()) {
		if s, ok := t2s[c]; ok {
			c = s
		}
		out.WriteRune(unicode.ToLower(c))
	}
	return out.String()
}

// Fold's fast paths give what its definition gives, on texts mixing what
// they pass (ASCII, ideographs, CJK and full-width punctuation, no-break
// spaces, curly quotes, dashes) with what could combine with them.
func TestFoldMatchesDefinition(t *testing.T) {
	alphabet := []string{"a", "B", "z", "1", " ", ".", "\x00", "\xff", "中", "國", "区", "，", "。", "、", "《", "Ａ", "　", "ｅ",
		"\u00a0", "“", "”", "‘", "’", "—", "…", "\u0301", "\u0308", "\u302A", "\u3099", "か", "é", "ﬁ", "①", "㎡", "\U00020000"}
	rng := rand.New(rand.NewSource(2))
	for n := 0; n < 50000; n++ {
		s := randomMix(rng, alphabet, 8)
		if got, want := Fold(s), referenceFold(s); got != want {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	t.Run("messages", func(t *testing.T) {
		for _, d := range loadMessages(t) {
			if got, want := Fold(d.Title+d.Body), referenceFold(d.Title+d.Body); got != want {
				t.Fatalf("Fold of message %s differs from its definition:\n%q\n%q", d.ID, got, want)
			}
		}
	})
}

// randomMix strings together 1 to most pieces of alphabet, chosen by rng.
func randomMix(rng *rand.Rand, alphabet []string, most int) string {
	var b strings.Builder
	for k := rng.Intn(most); k >= 0; k-- {
		b.WriteString(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

// TestBodyAnalyzerLead checks that the body's analyzer counts the terms
// starting within the first leadBytes of the folded text twice, in the
// stream, its length marker and termFrequencies, and the title's does not.
func TestBodyAnalyzerLead(t *testing.T) {
	testSegmenter(t)
	im := NewMapping()
	// 垃圾分类 opens the text and closes it, past leadBytes; full-width
	// letters fold to fewer bytes, so the lead is measured on the folded
	// text.
	filler := strings.Repeat("。", leadBytes/3)
	text := "垃圾分类ＡＢ" + filler + "垃圾分类"
	if len(Fold(text)) <= leadBytes {
		t.Fatalf("text too short: %d folded bytes", len(Fold(text)))
	}
	for _, c := range []struct {
		analyzer string
		lead     int
		want     int // 垃圾分类's count
	}{
		{TextAnalyzerName, 0, 2},
		{BodyAnalyzerName, leadBytes, 3},
	} {
		stream := im.AnalyzerNamed(c.analyzer).Analyze([]byte(text))
		got := terms(stream)
		if n := count(got, "垃圾分类"); n != c.want {
			t.Errorf("%s: 垃圾分类 %d times, want %d, in %q", c.analyzer, n, c.want, got)
		}
		// "ab" is a word, a pair and a character, all in the lead.
		if n, want := count(got, "ab"), 3*(1+min(c.lead, 1)); n != want {
			t.Errorf("%s: ab %d times, want %d", c.analyzer, n, want)
		}
		marker, _ := lengthOfTerm(string(stream[len(stream)-1].Term))
		want, _ := lengthOfTerm(lengthTerm(len(stream)))
		if marker != want {
			t.Errorf("%s: length marker for %v terms, the stream has %d", c.analyzer, marker, len(stream))
		}
		cut, err := newTextCutter(currentSegmenter())
		if err != nil {
			t.Fatal(err)
		}
		n, freqs := cut.termFrequencies([]byte(text), c.lead)
		if n != len(stream) || int(freqs["垃圾分类"].Frequency()) != c.want {
			t.Errorf("%s: termFrequencies length %d and 垃圾分类 %d, want %d and %d", c.analyzer, n, freqs["垃圾分类"].Frequency(), len(stream), c.want)
		}
	}
}

func TestPlaceCodes(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"A市何时能实现冬季集中供暖？", []string{"a"}},
		{"Ａ7县管道天然气入户问题", []string{"a7"}},
		{"J10 县s212省道路灯建议提前开启", []string{"j10"}}, // 省 is no suffix
		{"西地省A市A3区、K12区和A3区", []string{"a", "a3", "k12"}},
		{"a 市", []string{"a"}},
		{"a  市", nil},  // two spaces
		{"abc市", nil},  // a word, not a code
		{"a123县", nil}, // three digits
		{"2a市", nil},   // a digit before
		{"https://baidu.com/市", nil},
		{"ｋ２区", []string{"k2"}}, // folded first
		{"我们小区的燃气管道", nil},
	} {
		got := placeCodes(Fold(tc.text))
		if !slices.Equal(got, tc.want) {
			t.Errorf("placeCodes(%q) = %q, want %q", tc.text, got, tc.want)
		}
		marked := slices.Contains(textTerms(t, tc.text), placelessMarker)
		if names := len(tc.want) > 0; marked == names {
			t.Errorf("%q: placelessMarker %v, names a place %v", tc.text, marked, names)
		}
	}
}

func TestPlaceMarkers(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"我们小区的燃气管道", []string{placelessMarker}},
		{"A市的燃气管道", []string{withinCityMarker + "a", cityOnlyMarker + "a"}},
		{"A市A7县的燃气管道", []string{withinCityMarker + "a"}},
		{"A7县和A3区", []string{withinCityMarker + "a"}},
		{"A7县和K3县", nil},
		{"K市和A市", nil},
	} {
		got := placeMarkers(Fold(tc.text))
		if !slices.Equal(got, tc.want) {
			t.Errorf("placeMarkers(%q) = %q, want %q", tc.text, got, tc.want)
		}
		// The analyzer puts them in the stream once each.
		terms := textTerms(t, tc.text)
		for _, m := range tc.want {
			if count(terms, m) != 1 {
				t.Errorf("%q: %q in the stream %d times, want once", tc.text, m, count(terms, m))
			}
		}
	}
	for code, want := range map[string]string{"a": withinCityMarker + "a", "a7": cityOnlyMarker + "a", "k12": cityOnlyMarker + "k"} {
		if got := agreeMarker(code); got != want {
			t.Errorf("agreeMarker(%q) = %q, want %q", code, got, want)
		}
	}
}
