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

// t2sIdeographs is a bitmap of the CJK ideographs U+4E00–U+9FFF that
// t2sTable maps, bit r−0x4E00, which is cheaper to test than the map.
var t2sIdeographs = sync.OnceValue(func() *[(0x9FFF - 0x4E00 + 64) / 64]uint64 {
	var bits [(0x9FFF - 0x4E00 + 64) / 64]uint64
	for r := range t2sTable() {
		if 0x4E00 <= r && r <= 0x9FFF {
			bits[(r-0x4E00)>>6] |= 1 << ((r - 0x4E00) & 63)
		}
	}
	return &bits
})

// startsFree reports whether rest (the text after a character) starts with
// nothing that NFKC could combine with that character: its end, ASCII, a
// CJK character or punctuation mark, or one of the starters common in
// Chinese text that nothing combines with (the no-break space, the
// ellipsis, curly quotes, the em dash; pasted text has runs of no-break
// spaces).
func startsFree(rest string) bool {
	if rest == "" || rest[0] < utf8.RuneSelf {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return (0x3000 <= r && r <= 0x3029) || (0x3030 <= r && r <= 0x303F) || (0x4E00 <= r && r <= 0x9FFF) || (0xFF01 <= r && r <= 0xFF5E) ||
		r == 0xA0 || r == 0x2026 || isStablePunct(r)
}

// asciiForm returns what NFKC makes of the no-break space and the
// ellipsis, "" for other characters.
func asciiForm(r rune) string {
	switch r {
	case 0xA0:
		return " "
	case 0x2026:
		return "..."
	}
	return ""
}

// isStablePunct reports whether r is one of the punctuation marks common in
// Chinese text outside the CJK blocks (‘’“” and the em dash) that NFKC,
// lower-casing and the traditional-to-simplified table all leave alone.
func isStablePunct(r rune) bool {
	return r == 0x2018 || r == 0x2019 || r == 0x201C || r == 0x201D || r == 0x2014
}

// Fold returns text the way the analyzers see it before segmentation:
// compatibility forms unified (NFKC, so full-width ＡＢＣ１２３ becomes
// ABC123 and the ideographic space a space), traditional characters replaced
// by their simplified forms (臺灣 → 台湾), letters lower-cased, and NUL
// bytes and invalid UTF-8 replaced by spaces. Index and queries fold the same
// way, so a resident finds a text whichever of these forms either side used.
func Fold(text string) string {
	f, _ := foldWith(text, false)
	return f
}

// foldSpan records that the folded bytes [folded, foldedEnd) came from
// text[origStart:origEnd] and map to it as a whole. Only the characters
// whose folded bytes do not stand byte for byte for theirs (，→ ",",
// ① → "1", … → "...", ℃ → "°c", one folded to nothing) make a span:
// between spans every folded byte stands at the same distance from its
// original as after the span before, since the rest was kept or changed
// letter for letter into as many bytes (lower case, one traditional
// character for one simplified). Chinese text has a full-width comma every
// dozen characters, and a search page folds the text of every hit.
type foldSpan struct {
	folded, foldedEnd  int
	origStart, origEnd int
}

// folded is a folded text with the way back to the original's byte offsets.
type folded struct {
	text  string
	spans []foldSpan // none when every character kept its length
	orig  int        // length of the original
}

// origStart returns the offset in the original text where the folded byte
// at i came from; i == len(text) maps to the original's end.
func (f *folded) origStart(i int) int {
	if i >= len(f.text) {
		return f.orig
	}
	k := f.spanAt(i)
	if k < 0 {
		return i
	}
	s := &f.spans[k]
	if i < s.foldedEnd {
		return s.origStart
	}
	return s.origEnd + i - s.foldedEnd
}

// origEnd returns the offset in the original text just after the source of
// the folded bytes ending at i (i > 0).
func (f *folded) origEnd(i int) int {
	if i <= 0 {
		return 0
	}
	k := f.spanAt(i - 1)
	if k < 0 {
		return i
	}
	s := &f.spans[k]
	if i-1 < s.foldedEnd {
		return s.origEnd
	}
	return s.origEnd + i - s.foldedEnd
}

// spanAt returns the index of the last span starting at or before folded
// byte i, or -1. A character folded to nothing leaves an empty span,
// followed by the next at the same place: the later one is the one that
// holds i.
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

// identRun returns the end of the run of characters from text[i] that fold
// to themselves, so foldText can copy them at once: ASCII other than
// capitals and NUL (and not right before a non-ASCII byte, which might
// combine with it), CJK ideographs without a simplified form, and the CJK
// punctuation the fast path below keeps.
func identRun(text string, i int, t2sHan *[(0x9FFF - 0x4E00 + 64) / 64]uint64) int {
	j := i
	for j < len(text) {
		c := text[j]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' || c == 0 || !startsFree(text[j+1:]) {
				return j
			}
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[j:])
		switch {
		case 0x4E00 <= r && r <= 0x9FFF && t2sHan[(r-0x4E00)>>6]&(1<<((r-0x4E00)&63)) == 0:
		case 0x3001 <= r && r <= 0x3029 && startsFree(text[j+size:]):
		case isStablePunct(r) && startsFree(text[j+size:]):
		default:
			return j
		}
		j += size
	}
	return j
}

// foldText folds text like Fold and keeps the mapping back to the
// original's byte offsets, so tokens cut from the folded text can point into
// the original for highlighting.
//
// The common characters take a fast path: ASCII, the CJK ideographs
// U+4E00–U+9FFF (which NFKC leaves alone and which change, if at all, into
// a simplified character of the same length), CJK and full-width
// punctuation, the no-break space, curly quotes and the em dash, each when
// what follows cannot combine with it (startsFree). Everything else is
// normalised one NFKC segment at a time.
func foldText(text string) (string, *folded) {
	return foldWith(text, true)
}

// foldWith is foldText; without spans it records no way back and returns
// no *folded, for Fold. The folded text is built in a strings.Builder, so
// it is not copied again at the end, and the rare characters outside the fast
// path are normalised into one scratch buffer: a search page folds the
// text of every hit it highlights, and each allocation here is paid per
// hit.
func foldWith(text string, withSpans bool) (string, *folded) {
	t2s := t2sTable()
	t2sHan := t2sIdeographs()
	var b strings.Builder
	b.Grow(len(text))
	var spans []foldSpan
	if withSpans {
		// About one span in 45 bytes of Chinese text (its commas).
		spans = make([]foldSpan, 0, len(text)/40)
	}
	var scratch []byte // one NFKC segment at a time
	changed := false   // the folded bytes differ from text
	// add records that the folded bytes from start to the end came from
	// text[i:j]; ident says they stand byte for byte for its bytes.
	add := func(start, i, j int, ident bool) {
		if withSpans && !ident {
			spans = append(spans, foldSpan{folded: start, foldedEnd: b.Len(), origStart: i, origEnd: j})
		}
	}
	for i := 0; i < len(text); {
		if j := identRun(text, i, t2sHan); j > i {
			start := b.Len()
			b.WriteString(text[i:j])
			add(start, i, j, true)
			i = j
			continue
		}
		start := b.Len()
		c := text[i]
		if c < utf8.RuneSelf && startsFree(text[i+1:]) {
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
				changed = true
			case c == 0:
				c = ' '
				changed = true
			}
			b.WriteByte(c)
			add(start, i, i+1, true)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if 0x4E00 <= r && r <= 0x9FFF {
			if t2sHan[(r-0x4E00)>>6]&(1<<((r-0x4E00)&63)) != 0 {
				r = t2s[r]
				changed = true
			}
			b.WriteRune(r)
			add(start, i, i+size, b.Len()-start == size)
			i += size
			continue
		}
		if 0x3001 <= r && r <= 0x3029 && startsFree(text[i+size:]) {
			// CJK punctuation (、。《》「」【】…), which NFKC leaves alone
			// and which nothing after it combines with.
			b.WriteString(text[i : i+size])
			add(start, i, i+size, true)
			i += size
			continue
		}
		if nfkc := asciiForm(r); nfkc != "" && startsFree(text[i+size:]) {
			// The no-break space (common in pasted text) and the
			// ellipsis, as NFKC writes them; "..." has the ellipsis's
			// length but not its bytes, so it maps as a whole.
			b.WriteString(nfkc)
			add(start, i, i+size, false)
			changed = true
			i += size
			continue
		}
		if (0xFF01 <= r && r <= 0xFF5E || r == 0x3000) && startsFree(text[i+size:]) {
			// Full-width ASCII and the ideographic space: NFKC's mapping.
			c := byte(' ')
			if r != 0x3000 {
				c = byte(r - 0xFEE0)
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
			}
			b.WriteByte(c)
			add(start, i, i+size, false)
			changed = true
			i += size
			continue
		}
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteByte(' ')
			add(start, i, i+1, true)
			changed = true
			i++
			continue
		}
		// One normalisation segment: a starter and what combines with it.
		n := size
		if r >= utf8.RuneSelf || i+1 < len(text) {
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
		scratch = norm.NFKC.AppendString(scratch[:0], text[i:i+n])
		for _, c := range string(scratch) {
			if s, ok := t2s[c]; ok {
				c = s
			}
			b.WriteRune(unicode.ToLower(c))
		}
		// Only a segment kept byte for byte maps byte for byte (℃ folds
		// to °c, of the same length). NFKC may map a character to nothing:
		// an empty span.
		same := b.String()[start:] == text[i:i+n]
		changed = changed || !same
		add(start, i, i+n, same)
		i += n
	}
	out := text
	if changed {
		out = b.String()
	}
	if !withSpans {
		return out, nil
	}
	if !changed {
		return text, &folded{text: text, orig: len(text)}
	}
	return out, &folded{text: out, spans: spans, orig: len(text)}
}
