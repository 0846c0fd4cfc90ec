package moderation

import (
	"testing"
)

var fuzzSeeds = []string{
	"", "法 轮", "法*輪", "加ＶＸ聊", "138OO138OOO", "e\u0301", "a\xffb\xc0", "\u200b\u200d\ufeff",
	"㈱①⑴", "ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "+86 138-0013-8000", "粤B12345", "刷 单返利",
	"\u1100\u1161\u11a8", "ｶﾞ", "𠀀𫝈", "Ѕех", "new xbox vx",
}

// FuzzNormalize: Normalize never panics and every rune of its output maps
// to a non-empty range of the input on rune boundaries, in order.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		checkMapping(t, n)
		if len(n.Text) > 0 {
			start, end := n.TextSpan(0, len(n.Text))
			if start < 0 || end > len(s) || start > end {
				t.Fatalf("TextSpan of all of %q = [%d,%d)", s, start, end)
			}
		}
	})
}

// FuzzMatch: matching never panics and every hit lies inside the original
// text, on rune boundaries; the same holds for personal data and masking.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	m, err := NewMatcher(append(StarterWords(), testWords(f)...))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bounds := runeBoundaries(s)
		for _, h := range m.Match(s) {
			if h.Start < 0 || h.Start >= h.End || h.End > len(s) || !bounds[h.Start] || !bounds[h.End] {
				t.Fatalf("Match(%q): hit %+v out of bounds", s, h)
			}
		}
		masked, found := Mask(s)
		end := 0
		for _, p := range found {
			if p.Start < end || p.Start >= p.End || p.End > len(s) || !bounds[p.Start] || !bounds[p.End] {
				t.Fatalf("Mask(%q): %+v out of bounds or overlapping", s, p)
			}
			end = p.End
		}
		if len(found) == 0 && masked != s {
			t.Fatalf("Mask(%q) changed text without finding anything: %q", s, masked)
		}
	})
}
