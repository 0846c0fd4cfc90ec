package moderation

import (
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Normalized is a text folded for matching, with the way back to the
// original: every rune of Text knows the byte range of the original it came
// from, so a match found in Text or Dense can be highlighted in Original.
//
// The folding, in order, per NFKC segment of the original:
//   - NFKC, which also turns full-width letters and digits to ASCII, ① to 1,
//     the ideographic space to a space and compatibility ideographs to their
//     unified forms; any full-width form NFKC leaves is narrowed too;
//   - format characters (zero-width space and joiners, BOM, soft hyphen,
//     bidi controls) and variation selectors are dropped;
//   - lower case (unicode.ToLower, rune by rune);
//   - traditional → simplified Chinese, character by character (OpenCC's
//     table, so 法輪 → 法轮);
//   - look-alikes: 〇 → 0, a few Cyrillic and Greek letters → Latin, and o/l/i
//     → 0/1/1 inside a run of digits (138OO138OOO → 13800138000).
//
// Dense then keeps letters and digits only, so separators put between
// characters to dodge a filter (法 轮, 法*轮, 法_轮, 法.轮) vanish.
type Normalized struct {
	// Original is the text as submitted.
	Original string
	// Text is the folded text with separators kept: PII and links are
	// found here, where punctuation still carries structure.
	Text string
	// Dense is Text with every rune that is neither a letter nor a digit
	// removed: words are matched here.
	Dense string

	runes   []normRune // one per rune of Text
	dense   []int32    // for each rune of Dense, its index in runes
	denseAt []int32    // byte offset in Dense of each dense rune, then len(Dense)
}

// normRune is one rune of Normalized.Text and where it came from.
type normRune struct {
	r          rune
	at         int32 // byte offset in Text
	start, end int32 // byte range in Original
	sep        bool  // neither letter nor digit: left out of Dense
}

// lookalikes maps letters that are drawn like Latin ones to those.
var lookalikes = map[rune]rune{
	'〇': '0',
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p',
	'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
}

// Normalize folds s for matching; see Normalized. It never fails: if
// OpenCC's table could not be read (a broken build, which NewPipeline
// reports) traditional characters are left as they are. The first call
// builds the folding tables (about 20 ms, most of it reading OpenCC).
func Normalize(s string) *Normalized {
	fold := foldBMP()
	n := &Normalized{Original: s, runes: make([]normRune, 0, len(s)/2+1)}
	emit := func(r rune, start, end int) {
		var sep bool
		if 0 <= r && r < 0x10000 {
			e := fold.e[r]
			if e&foldDrop != 0 {
				return
			}
			r, sep = rune(e&foldRune), e&foldSep != 0
		} else {
			var keep bool
			if r, sep, keep = foldRuneSlow(r, fold.t2s); !keep {
				return
			}
		}
		n.runes = append(n.runes, normRune{r: r, start: int32(start), end: int32(end), sep: sep})
	}
	tab := nfkcBMP()
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				emit(utf8.RuneError, i, i+1)
				i++
				continue
			}
		}
		// Fast path: a rune that starts a segment, followed by one that
		// starts the next, is normalised on its own (a table look-up).
		// Anything else — combining marks, Hangul jamo, runes outside the
		// BMP — goes through norm's segment-wise NFKC.
		if e := tab.info(r); e&nfkcStarter != 0 && tab.startsSegment(s[i+size:]) {
			if e&nfkcMapped == 0 {
				emit(r, i, i+size)
			} else {
				for _, m := range tab.mapped[e&nfkcIndex] {
					emit(m, i, i+size)
				}
			}
			i += size
			continue
		}
		seg := norm.NFKC.NextBoundaryInString(s[i:], true)
		if seg < size || !utf8.ValidString(s[i:i+seg]) {
			seg = size
		}
		chunk := s[i : i+seg]
		if !norm.NFKC.IsNormalString(chunk) {
			chunk = norm.NFKC.String(chunk)
		}
		for _, r := range chunk {
			emit(r, i, i+seg)
		}
		i += seg
	}
	foldDigitLookalikes(n.runes)

	var text, dense strings.Builder
	text.Grow(len(s))
	dense.Grow(len(s))
	n.dense = make([]int32, 0, len(n.runes))
	n.denseAt = make([]int32, 0, len(n.runes)+1)
	for i := range n.runes {
		nr := &n.runes[i]
		nr.at = int32(text.Len())
		text.WriteRune(nr.r)
		if !nr.sep {
			n.dense = append(n.dense, int32(i))
			n.denseAt = append(n.denseAt, int32(dense.Len()))
			dense.WriteRune(nr.r)
		}
	}
	n.denseAt = append(n.denseAt, int32(dense.Len()))
	n.Text = text.String()
	n.Dense = dense.String()
	return n
}

// nfkcTable holds, for every rune of the Basic Multilingual Plane, whether
// it starts a segment that nothing before it can join (norm's
// BoundaryBefore) and what NFKC makes of it alone. Built once, in a few
// milliseconds, it spares the segment machinery for nearly every rune of
// Chinese text, full-width punctuation included.
type nfkcTable struct {
	e      [0x10000]uint32
	mapped []string
}

const (
	nfkcStarter = 1 << 31
	nfkcMapped  = 1 << 30
	nfkcIndex   = 1<<30 - 1
)

var nfkcBMP = sync.OnceValue(func() *nfkcTable {
	t := &nfkcTable{}
	for r := rune(0); r < 0x10000; r++ {
		if 0xD800 <= r && r <= 0xDFFF {
			continue
		}
		if r < utf8.RuneSelf || (0x4E00 <= r && r <= 0x9FFF) {
			t.e[r] = nfkcStarter // NFKC-stable; joins nothing before it
			continue
		}
		s := string(r)
		var e uint32
		if norm.NFKC.PropertiesString(s).BoundaryBefore() {
			e |= nfkcStarter
		}
		if out := norm.NFKC.String(s); out != s {
			e |= nfkcMapped | uint32(len(t.mapped))
			t.mapped = append(t.mapped, out)
		}
		t.e[r] = e
	}
	return t
})

// info returns r's entry; runes outside the BMP have none (0).
func (t *nfkcTable) info(r rune) uint32 {
	if r < 0 || r >= 0x10000 {
		return 0
	}
	return t.e[r]
}

// startsSegment reports whether the text after a rune cannot join it: it
// is empty or begins with a rune that starts a segment.
func (t *nfkcTable) startsSegment(rest string) bool {
	if rest == "" {
		return true
	}
	if c := rest[0]; c < utf8.RuneSelf {
		return true
	}
	r, size := utf8.DecodeRuneInString(rest)
	if r == utf8.RuneError && size == 1 {
		return true
	}
	return t.info(r)&nfkcStarter != 0
}

// foldTable holds the rune-by-rune folding after NFKC for the BMP: the
// folded rune and whether it is dropped or a separator. Built once with
// OpenCC's table (a few milliseconds).
type foldTable struct {
	e   [0x10000]uint32
	t2s map[rune]rune // for runes outside the BMP
}

const (
	foldDrop = 1 << 31
	foldSep  = 1 << 30
	foldRune = 1<<21 - 1
)

var foldBMP = sync.OnceValue(func() *foldTable {
	t2s, _ := t2sTable() // NewPipeline reports a failure
	t := &foldTable{t2s: t2s}
	for r := rune(0); r < 0x10000; r++ {
		f, sep, keep := foldRuneSlow(r, t2s)
		switch {
		case !keep:
			t.e[r] = foldDrop
		case sep:
			t.e[r] = uint32(f) | foldSep
		default:
			t.e[r] = uint32(f)
		}
	}
	return t
})

// foldRuneSlow folds one rune after NFKC: invisible runes are dropped
// (keep false); full-width forms NFKC left are narrowed; then lower case,
// traditional → simplified, look-alikes. sep reports a rune that is neither
// letter nor digit.
func foldRuneSlow(r rune, t2s map[rune]rune) (out rune, sep, keep bool) {
	if r >= utf8.RuneSelf {
		if dropRune(r) {
			return 0, false, false
		}
		if p := width.LookupRune(r); p.Kind() == width.EastAsianFullwidth {
			if nr := p.Narrow(); nr != 0 {
				r = nr
			}
		}
	}
	r = unicode.ToLower(r)
	if to, ok := t2s[r]; ok {
		r = to
	} else if to, ok := lookalikes[r]; ok {
		r = to
	}
	return r, isSeparator(r), true
}

// dropRune reports runes that carry nothing visible: format characters
// (zero-width space and joiners, BOM, soft hyphen, bidi controls), variation
// selectors and the combining grapheme joiner.
func dropRune(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) || r == 0x034F
}

// isSeparator reports runes left out of Dense.
func isSeparator(r rune) bool {
	if r < utf8.RuneSelf {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z')
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// foldDigitLookalikes turns o, l and i into 0, 1 and 1 inside runs of
// digits and those letters that hold at least two real digits, or start
// with one and are three long, and are not part of a longer word
// (138OO138OOO, 1OO, but not "hello1" or "o2o").
func foldDigitLookalikes(rs []normRune) {
	isLook := func(r rune) bool { return r == 'o' || r == 'l' || r == 'i' }
	isASCIILetter := func(r rune) bool { return 'a' <= r && r <= 'z' }
	for i := 0; i < len(rs); {
		r := rs[i].r
		if !(('0' <= r && r <= '9') || isLook(r)) {
			i++
			continue
		}
		j, digits, looks := i, 0, 0
		for ; j < len(rs); j++ {
			r := rs[j].r
			if '0' <= r && r <= '9' {
				digits++
			} else if isLook(r) {
				looks++
			} else {
				break
			}
		}
		numeric := digits >= 2 || (digits == 1 && isDigit(rs[i].r) && j-i >= 3) // 138OO…, 1OO
		if looks > 0 && numeric && (i == 0 || !isASCIILetter(rs[i-1].r)) && (j == len(rs) || !isASCIILetter(rs[j].r)) {
			for k := i; k < j; k++ {
				switch rs[k].r {
				case 'o':
					rs[k].r = '0'
				case 'l', 'i':
					rs[k].r = '1'
				}
			}
		}
		i = j
	}
}

// runeAt returns the index in n.runes of the rune of Text starting at or
// containing byte offset off.
func (n *Normalized) runeAt(off int) int {
	i := sort.Search(len(n.runes), func(i int) bool { return int(n.runes[i].at) > off })
	return max(i-1, 0)
}

// TextSpan maps the byte range [start, end) of Text to the byte range of
// Original it came from. An empty or out-of-range span maps to (0, 0).
func (n *Normalized) TextSpan(start, end int) (int, int) {
	if start < 0 || end > len(n.Text) || start >= end || len(n.runes) == 0 {
		return 0, 0
	}
	a, b := n.runeAt(start), n.runeAt(end-1)
	return int(n.runes[a].start), int(n.runes[b].end)
}

// DenseSpan maps the byte range [start, end) of Dense to the byte range of
// Original it came from, separators between included. An empty or
// out-of-range span maps to (0, 0).
func (n *Normalized) DenseSpan(start, end int) (int, int) {
	if start < 0 || end > len(n.Dense) || start >= end || len(n.dense) == 0 {
		return 0, 0
	}
	at := n.denseAt[:len(n.dense)]
	a := max(sort.Search(len(at), func(i int) bool { return int(at[i]) > start })-1, 0)
	b := max(sort.Search(len(at), func(i int) bool { return int(at[i]) > end-1 })-1, 0)
	return int(n.runes[n.dense[a]].start), int(n.runes[n.dense[b]].end)
}

// denseRunes is the number of runes in Dense.
func (n *Normalized) denseRunes() int { return len(n.dense) }
