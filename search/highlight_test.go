package search

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// marked returns the marked parts of a snippet.
func marked(t *testing.T, snippet string, spans [][2]int) []string {
	t.Helper()
	var out []string
	last := -1
	for _, sp := range spans {
		if sp[0] < 0 || sp[1] > len(snippet) || sp[0] >= sp[1] || sp[0] < last {
			t.Fatalf("span %v out of order or range in %q (spans %v)", sp, snippet, spans)
		}
		if !utf8.ValidString(snippet[sp[0]:sp[1]]) {
			t.Fatalf("span %v cuts a character in %q", sp, snippet)
		}
		last = sp[1]
		out = append(out, snippet[sp[0]:sp[1]])
	}
	return out
}

func TestHighlight(t *testing.T) {
	seg := testSegmenter(t)
	for _, tc := range []struct {
		name, text, query string
		want              []string // the marked parts, in order
	}{
		{"word", "小区的垃圾分类投放点太少。", "垃圾分类", []string{"垃圾分类"}},
		{"words apart", "晚上电动车没有地方充电，只能停在楼道。", "电动车充电", []string{"电动车", "充电"}},
		{"traditional text", "臺灣的電動車很多，充電樁太少。", "电动车", []string{"電動車"}},
		{"traditional query", "台湾的电动车很多", "電動車", []string{"电动车"}},
		{"full-width letters", "ＡＢＣ小区的电梯坏了", "abc", []string{"ＡＢＣ"}},
		{"upper case", "WiFi信号差，ABC小区", "wifi abc", []string{"WiFi", "ABC"}},
		{"mixed scripts", "A3区魏家坡小区12345热线打不通", "a3区 12345", []string{"A3区", "12345"}},
		{"whole latin words only", "abcd和abc都在", "abc", []string{"abc"}},
		{"synonym", "有人把电瓶车推进楼道。", "电动车", []string{"电瓶车"}},
		{"pairs of an unknown word", "翠微坡口袋花园没人管", "口袋花园", []string{"口袋花园"}},
		{"no single common characters", "我们的小区在路的东边", "小区的路", []string{"小区"}},
		{"one-character query", "水管爆了，没有水", "水", []string{"水", "水"}},
		{"punctuation in query", "垃圾分类，人人有责", "垃圾，分类！", []string{"垃圾分类"}},
		{"no match", "公园里的卫生间晚上锁门。", "地铁站", nil},
		{"empty query", "公园里的卫生间晚上锁门。", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snippet, spans := Highlight(seg, tc.text, tc.query, 200)
			if snippet != tc.text {
				t.Errorf("snippet %q, want the whole short text %q", snippet, tc.text)
			}
			if got := marked(t, snippet, spans); !slices.Equal(got, tc.want) {
				t.Errorf("Highlight(%q, %q) marks %q, want %q", tc.text, tc.query, got, tc.want)
			}
		})
	}
}

func TestHighlightWindow(t *testing.T) {
	seg := testSegmenter(t)
	filler := strings.Repeat("今天天气很好，大家出去散步。", 30) // 420 characters
	text := filler + "小区门口的路灯坏了三个月，晚上很黑。" + filler + "路灯"
	snippet, spans := Highlight(seg, text, "路灯坏了", 60)
	if n := utf8.RuneCountInString(snippet); n > 60+2 {
		t.Errorf("snippet has %d characters, want at most 60 and two ellipses", n)
	}
	if !strings.HasPrefix(snippet, ellipsis) || !strings.HasSuffix(snippet, ellipsis) {
		t.Errorf("snippet %q cut from the middle lacks its ellipses", snippet)
	}
	got := marked(t, snippet, spans)
	if !slices.Contains(got, "路灯坏了") {
		t.Errorf("snippet %q marks %q, want the densest match 路灯坏了", snippet, got)
	}
	if !strings.Contains(strings.TrimSuffix(strings.TrimPrefix(snippet, ellipsis), ellipsis), "小区门口的路灯坏了") {
		t.Errorf("snippet %q lacks the context before the match", snippet)
	}

	// Nothing found: the start of the text.
	snippet, spans = Highlight(seg, text, "地铁", 20)
	if spans != nil || snippet != string([]rune(text)[:20])+ellipsis {
		t.Errorf("no match: %q %v, want the first 20 characters", snippet, spans)
	}

	// A match at the very end.
	snippet, spans = Highlight(seg, filler+"末尾提到电梯", "电梯", 30)
	if got := marked(t, snippet, spans); !slices.Equal(got, []string{"电梯"}) || !strings.HasSuffix(snippet, "电梯") || !strings.HasPrefix(snippet, ellipsis) {
		t.Errorf("match at the end: %q marks %q", snippet, got)
	}
}

// Spans point into the original text even where folding changed lengths,
// and into a snippet that starts with an ellipsis.
func TestHighlightOffsetsIntoOriginal(t *testing.T) {
	seg := testSegmenter(t)
	prefix := strings.Repeat("ＡＢＣ，　", 40) // full width: folding shrinks it
	text := prefix + "臺北市電動車充電樁ｅ\u0301不足"
	snippet, spans := Highlight(seg, text, "电动车充电桩", 12)
	got := marked(t, snippet, spans)
	if !slices.Equal(got, []string{"電動車充電樁"}) {
		t.Errorf("%q marks %q, want 電動車充電樁", snippet, got)
	}
	for _, sp := range spans {
		if Fold(snippet[sp[0]:sp[1]]) != "电动车充电桩" {
			t.Errorf("span %v is %q", sp, snippet[sp[0]:sp[1]])
		}
	}
}

func TestHighlightHostileInput(t *testing.T) {
	seg := testSegmenter(t)
	for _, tc := range []struct{ text, query string }{
		{"", "垃圾"},
		{"\xff\xfe垃圾\x00分类", "垃圾分类"},
		{"垃圾分类", "\xff\x00"},
		{strings.Repeat("垃圾分类", 3000), strings.Repeat("垃圾", 500)},
		{"e\u0301\u0301\u0301", "é"},
	} {
		snippet, spans := Highlight(seg, tc.text, tc.query, 50)
		marked(t, snippet, spans)
		if utf8.RuneCountInString(snippet) > 52 {
			t.Errorf("snippet of %d characters", utf8.RuneCountInString(snippet))
		}
	}
	if s, sp := Highlight(nil, "垃圾分类", "垃圾", 10); s != "垃圾分类" || sp != nil {
		t.Errorf("without a segmenter: %q %v, want the text unmarked", s, sp)
	}
}

// Highlighting random texts of characters that fold to other lengths
// (，→ ",", ① → "1", ℃ → "°c", … → "...", combining marks) never cuts a
// character, and every span marks what folds to a word of the query.
func TestHighlightProperty(t *testing.T) {
	seg := testSegmenter(t)
	alphabet := []string{"电梯", "小区", "A3区", "ａ３区", "，", "①", "℃", "…", "\u00A0", "“", "e\u0301", "臺灣", "台湾", " ", "ＡＢＣ", "abc", "。", "\xff", "\x00"}
	queries := []string{"电梯 小区", "a3区", "台湾", "abc", "1", "电梯", "c"}
	rng := rand.New(rand.NewSource(2))
	for n := 0; n < 3000; n++ {
		text := randomMix(rng, alphabet, 40)
		q := queries[rng.Intn(len(queries))]
		snippet, spans := Highlight(seg, text, q, 1+rng.Intn(40))
		for _, m := range marked(t, snippet, spans) {
			f := Fold(m)
			found := false
			for _, w := range strings.Fields(q) {
				found = found || strings.Contains(f, Fold(w)) || strings.Contains(Fold(w), f)
			}
			if !found {
				t.Fatalf("Highlight(%q, %q) marks %q, which folds to %q", text, q, m, f)
			}
		}
	}
}

func BenchmarkHighlight(b *testing.B) {
	seg := testSegmenter(b)
	text := strings.Repeat("今天天气很好，大家出去散步。小区门口的路灯坏了三个月，晚上很黑。", 60) // ~2,000 characters
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		Highlight(seg, text, "小区路灯坏了 晚上", 120)
	}
}

// BenchmarkHighlightPage highlights a search page: 20 texts of about 400
// characters for one query, the query cut once.
func BenchmarkHighlightPage(b *testing.B) {
	seg := testSegmenter(b)
	var texts []string
	size := 0
	for i := range 20 {
		t := strings.Repeat(fmt.Sprintf("第%d号楼的住户反映，小区门口的路灯坏了三个月，晚上很黑，老人出门不方便。", i), 12)
		texts = append(texts, t)
		size += len(t)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		h := NewHighlighter(seg, "小区路灯坏了 晚上")
		for _, t := range texts {
			h.Snippet(t, 120)
		}
	}
}
