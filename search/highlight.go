package search

import (
	"sort"
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
func Highlight(seg *Segmenter, text, query string, maxRunes int) (snippet string, spans [][2]int) {
	if maxRunes <= 0 {
		maxRunes = defaultSnippetRunes
	}
	var matches []hlMatch
	if cut, err := newTextCutter(seg); err == nil && text != "" {
		matches = findMatches(text, highlightNeedles(cut, query))
	}
	return snippetAround(text, matches, maxRunes)
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
	sort.Slice(out, func(a, b int) bool {
		if out[a].start != out[b].start {
			return out[a].start < out[b].start
		}
		return out[a].end > out[b].end
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

// snippetAround cuts a window of at most maxRunes characters of text around
// the densest run of matches and returns it with the matches' spans in it.
func snippetAround(text string, matches []hlMatch, maxRunes int) (string, [][2]int) {
	// runeAt[k] is the byte offset of the k-th character; one more entry
	// holds len(text).
	runeAt := make([]int, 0, len(text)/2+1)
	for i := range text {
		runeAt = append(runeAt, i)
	}
	runeAt = append(runeAt, len(text))
	total := len(runeAt) - 1
	runeOf := func(b int) int { return sort.SearchInts(runeAt, b) } // first character at or after b

	// The window of matches [lo, hi) that fits in maxRunes characters and
	// holds the most weight of distinct needles; the earliest wins ties.
	bestLo, bestHi, bestScore := 0, 0, 0
	count := map[int]int{}
	score, lo := 0, 0
	for hi := range matches {
		if count[matches[hi].needle] == 0 {
			score += matches[hi].weight
		}
		count[matches[hi].needle]++
		for runeOf(matches[hi].end)-runeOf(matches[lo].start) > maxRunes {
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
		first := runeOf(matches[bestLo].start)
		last := first
		for _, m := range matches[bestLo:bestHi] {
			last = max(last, runeOf(m.end))
		}
		slack := maxRunes - (last - first)
		from = max(0, first-slack/3)
		to = min(total, from+maxRunes)
		from = max(0, to-maxRunes)
	}
	start, end := runeAt[from], runeAt[to]
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
