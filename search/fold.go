package search

import (
	"bufio"
	"bytes"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// t2sTable maps a traditional character to its preferred simplified form.
// It is read-only after the first call, which parses the embedded table.
var t2sTable = sync.OnceValue(func() map[rune]rune {
	data := mustReadAnalysisFile(t2sFile)
	m := make(map[rune]rune, 4200)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.HasPrefix(from, "#") {
			continue
		}
		t, _ := utf8.DecodeRuneInString(from)
		s, _ := utf8.DecodeRuneInString(to)
		m[t] = s
	}
	return m
})

// Fold returns text the way the analyzers see it before segmentation:
// compatibility forms unified (NFKC, so full-width ＡＢＣ１２３ becomes
// ABC123 and the ideographic space a space), traditional characters replaced
// by their simplified forms (臺灣 → 台湾), letters lower-cased, and NUL
// bytes and invalid UTF-8 replaced by spaces. Index and queries fold the same
// way, so a resident finds a text whichever of these forms either side used.
func Fold(text string) string {
	f, _ := foldText(text)
	return f
}

// foldSpan records that the folded bytes from its position up to the next
// span's came from text[origStart:origEnd].
type foldSpan struct {
	folded             int
	origStart, origEnd int
}

// folded is a folded text with the way back to the original's byte offsets.
type folded struct {
	text  string
	spans []foldSpan // nil when text is byte-for-byte the original
	orig  int        // length of the original
}

// origStart returns the offset in the original text where the folded byte
// at i came from; i == len(text) maps to the original's end.
func (f *folded) origStart(i int) int {
	if f.spans == nil {
		return i
	}
	if i >= len(f.text) {
		return f.orig
	}
	return f.spans[f.spanAt(i)].origStart
}

// origEnd returns the offset in the original text just after the source of
// the folded bytes ending at i (i > 0).
func (f *folded) origEnd(i int) int {
	if f.spans == nil {
		return i
	}
	if i <= 0 {
		return 0
	}
	return f.spans[f.spanAt(i-1)].origEnd
}

// spanAt returns the index of the span holding folded byte i.
func (f *folded) spanAt(i int) int {
	lo, hi := 0, len(f.spans) // first span starting after i, minus one
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.spans[m].folded <= i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// foldText folds text like Fold and keeps the mapping back to the
// original's byte offsets, so tokens cut from the folded text can point into
// the original for highlighting.
func foldText(text string) (string, *folded) {
	if isFolded(text) {
		return text, &folded{text: text, orig: len(text)}
	}
	t2s := t2sTable()
	var b strings.Builder
	b.Grow(len(text))
	spans := make([]foldSpan, 0, len(text)/2)
	for i := 0; i < len(text); {
		start := b.Len()
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteByte(' ')
			spans = append(spans, foldSpan{folded: start, origStart: i, origEnd: i + 1})
			i++
			continue
		}
		// One normalisation segment: a starter and what combines with it.
		n := size
		if r >= utf8.RuneSelf {
			n = norm.NFKC.NextBoundaryInString(text[i:], true)
			if n <= 0 {
				n = size
			}
			// Keep invalid bytes and NULs out of the segment; they are
			// handled one by one above.
			for j := size; j < n; {
				rj, sj := utf8.DecodeRuneInString(text[i+j:])
				if rj == 0 || (rj == utf8.RuneError && sj == 1) {
					n = j
					break
				}
				j += sj
			}
		}
		seg := text[i : i+n]
		if !norm.NFKC.IsNormalString(seg) {
			seg = norm.NFKC.String(seg)
		}
		for _, c := range seg {
			if s, ok := t2s[c]; ok {
				c = s
			}
			b.WriteRune(unicode.ToLower(c))
		}
		if b.Len() > start { // NFKC may map a character to nothing
			spans = append(spans, foldSpan{folded: start, origStart: i, origEnd: i + n})
		}
		i += n
	}
	out := b.String()
	return out, &folded{text: out, spans: spans, orig: len(text)}
}

// isFolded reports whether folding would leave text unchanged, which is
// cheap to check and true for most ASCII and for simplified Chinese that needs
// no normalisation: every rune is valid, not NUL, not upper-case, not in the
// traditional table, and the whole text is already NFKC.
func isFolded(text string) bool {
	t2s := t2sTable()
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError:
			return false
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				return false
			}
		default:
			if unicode.IsUpper(r) {
				return false
			}
			if _, ok := t2s[r]; ok {
				return false
			}
		}
	}
	return norm.NFKC.IsNormalString(text)
}
