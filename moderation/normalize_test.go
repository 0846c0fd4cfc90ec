package moderation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeFolds(t *testing.T) {
	tests := []struct {
		name, in, text, dense string
	}{
		{"plain", "法轮", "法轮", "法轮"},
		{"space", "法 轮", "法 轮", "法轮"},
		{"star", "法*轮", "法*轮", "法轮"},
		{"underscore", "法_轮", "法_轮", "法轮"},
		{"dot", "法.轮", "法.轮", "法轮"},
		{"ideographic space", "法\u3000轮", "法 轮", "法轮"},
		{"zero-width", "法\u200b轮\u200d", "法轮", "法轮"},
		{"bom and soft hyphen", "\ufeff法\u00ad轮", "法轮", "法轮"},
		{"traditional", "法輪", "法轮", "法轮"},
		{"full-width latin", "ＡＢＣ１２３", "abc123", "abc123"},
		{"full-width punctuation", "你好，世界！", "你好,世界!", "你好世界"},
		{"case", "WeChat", "wechat", "wechat"},
		{"circled digits", "①②③", "123", "123"},
		{"chinese zero", "二〇二〇", "二0二0", "二0二0"},
		{"o for zero in digits", "138OO138OOO", "13800138000", "13800138000"},
		{"l for one in digits", "l38oo", "13800", "13800"},
		{"o in a word stays", "hello1 o2o", "hello1 o2o", "hello1o2o"},
		{"cyrillic look-alikes", "Ѕех", "sex", "sex"},
		{"combining accent composes", "cafe\u0301", "café", "café"},
		{"compatibility ideograph", "\uF900", "岂", "岂"},
		{"parenthesised", "㈱", "(株)", "株"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb", "ab"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := Normalize(tt.in)
			if n.Text != tt.text || n.Dense != tt.dense {
				t.Errorf("Normalize(%q) = text %q dense %q, want %q %q", tt.in, n.Text, n.Dense, tt.text, tt.dense)
			}
			checkMapping(t, n)
		})
	}
}

func TestNormalizeSpans(t *testing.T) {
	in := "请加　Ｖ＊信：ｌ３８ＯＯ"
	n := Normalize(in)
	if n.Dense != "请加v信13800" {
		t.Fatalf("dense %q", n.Dense)
	}
	// 加v信 in Dense covers 加　Ｖ＊信 in the original.
	i := strings.Index(n.Dense, "加v信")
	start, end := n.DenseSpan(i, i+len("加v信"))
	if got := in[start:end]; got != "加　Ｖ＊信" {
		t.Errorf("DenseSpan → %q", got)
	}
	i = strings.Index(n.Text, "13800")
	start, end = n.TextSpan(i, i+5)
	if got := in[start:end]; got != "ｌ３８ＯＯ" {
		t.Errorf("TextSpan → %q", got)
	}
	if s, e := n.DenseSpan(0, 0); s != 0 || e != 0 {
		t.Errorf("empty span → %d,%d", s, e)
	}
	if s, e := n.DenseSpan(-1, 999); s != 0 || e != 0 {
		t.Errorf("out-of-range span → %d,%d", s, e)
	}
}

// checkMapping verifies the invariants every Normalized keeps: each rune of
// Text maps to a non-empty, in-range byte range of Original on rune
// boundaries, ranges never go backwards, and Dense is Text without
// separators.
func checkMapping(t testing.TB, n *Normalized) {
	t.Helper()
	if !utf8.ValidString(n.Text) || !utf8.ValidString(n.Dense) {
		t.Fatalf("invalid UTF-8 out of %q", n.Original)
	}
	if got := utf8.RuneCountInString(n.Text); got != len(n.runes) {
		t.Fatalf("%q: %d runes in Text, %d mapped", n.Original, got, len(n.runes))
	}
	bounds := runeBoundaries(n.Original)
	prevStart, prevEnd := 0, 0
	var dense strings.Builder
	for i, r := range n.runes {
		s, e := int(r.start), int(r.end)
		if s < 0 || e > len(n.Original) || s >= e {
			t.Fatalf("%q: rune %d maps to [%d,%d)", n.Original, i, s, e)
		}
		if !bounds[s] || !bounds[e] {
			t.Fatalf("%q: rune %d maps to [%d,%d), not on rune boundaries", n.Original, i, s, e)
		}
		if s < prevStart || (s != prevStart && s < prevEnd) {
			t.Fatalf("%q: rune %d maps to [%d,%d) after [%d,%d)", n.Original, i, s, e, prevStart, prevEnd)
		}
		prevStart, prevEnd = s, e
		if !r.sep {
			dense.WriteRune(r.r)
		}
	}
	if dense.String() != n.Dense {
		t.Fatalf("%q: Dense %q, runes give %q", n.Original, n.Dense, dense.String())
	}
}

// runeBoundaries returns the offsets where the runes of s start, as a
// decoding walk finds them (an invalid byte is a rune of its own), and
// len(s).
func runeBoundaries(s string) map[int]bool {
	b := map[int]bool{len(s): true}
	for i := 0; i < len(s); {
		b[i] = true
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return b
}
