package search

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// defaultSnippetRunes is Highlight's window when maxRunes is zero or less.
const defaultSnippetRunes = 120

// ellipsis marks a snippet cut out of a longer text.
const ellipsis = "…"

// Highlight picks the part of text to show for a search result and what to
// mark in it. The index keeps no text, so results are highlighted from the
// text the caller loaded from the database.
//
// Text and query are folded the way the index folds them (see Fold), so
// 電動車 in the text is marked for 电动车 in the query, ＡＢＣ for abc, and
// the query is cut the way BuildQuery cuts it: its words, their synonyms
// (电瓶车 for 电动车), its character pairs and its runs of letters and
// digits are looked for in the text. Single characters are marked only when
// the query is one character: on their own they would mark half the text.
//
// The snippet is at most maxRunes characters of text (120 if maxRunes ≤ 0)
// around the stretch holding the most query terms (each counted once,
// longer ones more), with "…" where text was cut; it is text itself when
// short enough. spans are the byte ranges of snippet to mark, in order and
// not overlapping; they always cut snippet at character boundaries. Without
// a match, the snippet is the start of text and spans is nil.
//
// To highlight many texts for one query, NewHighlighter cuts the query once.
func Highlight(seg *Segmenter, text, query string, maxRunes int) (snippet string, spans [][2]int) {
	if text == "" {
		return "", nil
	}
	return NewHighlighter(seg, query).Snippet(text, maxRunes)
}

// Highlighter highlights texts for one query (see Highlight). It is safe
// for concurrent use.
type Highlighter struct {
	needles []hlNeedle
}

// NewHighlighter cuts query into what Highlight looks for. Without a
// segmenter nothing is marked.
func NewHighlighter(seg *Segmenter, query string) *Highlighter {
	h := &Highlighter{}
	if cut, err := newTextCutter(seg); err == nil {
		h.needles = highlightNeedles(cut, query)
	}
	return h
}

// Snippet is Highlight of text for the highlighter's query.
func (h *Highlighter) Snippet(text string, maxRunes int) (snippet string, spans [][2]int) {
	if maxRunes <= 0 {
		maxRunes = defaultSnippetRunes
	}
	return snippetAround(text, findMatches(text, h.needles), maxRunes)
}

// hlNeedle is a folded string Highlight looks for. A needle starting
// (ending) with a letter or digit outside the CJK scripts must not be
// preceded (followed) by another: abc is not marked inside abcd.
type hlNeedle struct {
	text                 string
	wholeStart, wholeEnd bool
}

// highlightNeedles returns what to look for in a text for query: its words
// and their synonyms, its pairs, its runs of letters and digits and its
// space-separated parts, folded.
func highlightNeedles(cut *textCutter, query string) []hlNeedle {
	folded := Fold(clipQuery(query))
	squeezed := squeeze(folded)
	oneChar := utf8.RuneCountInString(squeezed) == 1
	seen := map[string]bool{}
	var needles []hlNeedle
	add := func(s string) {
		if s == "" || seen[s] {
			return
		}
		first, size := utf8.DecodeRuneInString(s)
		if isCJK(first) && size == len(s) && !oneChar {
			return // a single character: too common to mark on its own
		}
		last, _ := utf8.DecodeLastRuneInString(s)
		seen[s] = true
		needles = append(needles, hlNeedle{text: s, wholeStart: !isCJK(first), wholeEnd: !isCJK(last)})
	}
	members := synonymMembers()
	for _, t := range cut.cut(folded, nil, true) {
		w := t.canon
		if w == "" {
			w = folded[t.start:t.end]
			add(w)
		}
		for _, m := range members[w] {
			add(m)
		}
	}
	for _, part := range strings.Fields(folded) {
		if p := squeeze(part); p == part && utf8.RuneCountInString(p) <= 32 {
			add(p)
		}
	}
	if oneChar {
		add(squeezed)
	}
	return needles
}

// synonymMembers maps each canonical word to every word of its group.
var synonymMembers = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	for _, g := range synonymGroups() {
		m[g[0]] = append(m[g[0]], g...)
	}
	return m
})

// hlMatch is one occurrence of a needle in the original text.
type hlMatch struct {
	start, end int // byte offsets into the original text
	needle     int
	weight     int // the needle's length in characters
}

// findMatches returns every occurrence of the needles in text, by start.
func findMatches(text string, needles []hlNeedle) []hlMatch {
	if len(needles) == 0 {
		return nil
	}
	folded, fm := foldText(text)
	var out []hlMatch
	for ni, n := range needles {
		weight := utf8.RuneCountInString(n.text)
		for from := 0; from < len(folded); {
			i := strings.Index(folded[from:], n.text)
			if i < 0 {
				break
			}
			i += from
			end := i + len(n.text)
			from = end
			if (n.wholeStart && isWordBefore(folded, i)) || (n.wholeEnd && isWordAfter(folded, end)) {
				from = i + 1
				continue
			}
			out = append(out, hlMatch{start: fm.origStart(i), end: fm.origEnd(end), needle: ni, weight: weight})
		}
	}
	slices.SortFunc(out, func(a, b hlMatch) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	return out
}

// isWordBefore reports whether the rune before s[i] is a letter or digit
// outside the CJK scripts, so a match at i would start inside a word.
func isWordBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isCJK(r) && isWordRune(r)
}

// isWordAfter reports whether s[i] starts a letter or digit outside the CJK
// scripts.
func isWordAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isCJK(r) && isWordRune(r)
}

// byteOfRune returns the byte offset in text of the character k
// characters after byte offset from (len(text) past the end).
func byteOfRune(text string, from, k int) int {
	for i := range text[from:] {
		if k == 0 {
			return from + i
		}
		k--
	}
	return len(text)
}

// snippetAround cuts a window of at most maxRunes characters of text around
// the densest run of matches and returns it with the matches' spans in it.
func snippetAround(text string, matches []hlMatch, maxRunes int) (string, [][2]int) {
	// Each match's place in characters, counted on from the match before
	// (matches are in order of start).
	total := utf8.RuneCountInString(text)
	rs, re := make([]int, len(matches)), make([]int, len(matches))
	needles, pos, n := 0, 0, 0
	for i, m := range matches {
		n += utf8.RuneCountInString(text[pos:m.start])
		pos = m.start
		rs[i], re[i] = n, n+utf8.RuneCountInString(text[m.start:m.end])
		needles = max(needles, m.needle+1)
	}

	// The window of matches [lo, hi) that fits in maxRunes characters and
	// holds the most weight of distinct needles; the earliest wins ties.
	bestLo, bestHi, bestScore := 0, 0, 0
	count := make([]int, needles)
	score, lo := 0, 0
	for hi := range matches {
		if count[matches[hi].needle] == 0 {
			score += matches[hi].weight
		}
		count[matches[hi].needle]++
		for lo <= hi && re[hi]-rs[lo] > maxRunes {
			m := matches[lo]
			if count[m.needle]--; count[m.needle] == 0 {
				score -= m.weight
			}
			lo++
		}
		if score > bestScore {
			bestLo, bestHi, bestScore = lo, hi+1, score
		}
	}

	// The window in characters: the matches, then context, a third of it
	// before them.
	from, to := 0, min(total, maxRunes)
	if bestHi > bestLo {
		first := rs[bestLo]
		last := first
		for i := bestLo; i < bestHi; i++ {
			last = max(last, re[i])
		}
		slack := maxRunes - (last - first)
		from = max(0, first-slack/3)
		to = min(total, from+maxRunes)
		from = max(0, to-maxRunes)
	}
	start := byteOfRune(text, 0, from)
	end := byteOfRune(text, start, to-from)
	var b strings.Builder
	if start > 0 {
		b.WriteString(ellipsis)
	}
	shift := b.Len() - start
	b.WriteString(text[start:end])
	if end < len(text) {
		b.WriteString(ellipsis)
	}

	var spans [][2]int
	for _, m := range matches {
		s, e := max(m.start, start), min(m.end, end)
		if s >= e {
			continue
		}
		s, e = s+shift, e+shift
		if n := len(spans); n > 0 && s <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], e)
			continue
		}
		spans = append(spans, [2]int{s, e})
	}
	return b.String(), spans
}
