package search

import (
	"bufio"
	"bytes"
	"embed"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// analysisFS holds the project's own analysis data, read straight from the
// binary (jieba only needs its own dictionaries on disk); see dict/README.md.
//
//go:embed dict/civic.dict.utf8 dict/synonyms.utf8 dict/search_stop.utf8 dict/t2s.utf8 dict/common_chars.utf8
var analysisFS embed.FS

// Names of the embedded analysis files.
const (
	civicDictFile  = "civic.dict.utf8"
	synonymsFile   = "synonyms.utf8"
	searchStopFile = "search_stop.utf8"
	t2sFile        = "t2s.utf8"
	commonCharFile = "common_chars.utf8"
)

// Defaults for a word added without a frequency or tag (AddWords, synonym
// words missing from the civic dictionary). A frequency of 300 in jieba's
// terms (its dictionary sums to about 6×10⁷) makes a compound win over
// cutting it into common words, yet stays far below everyday words, so it
// does not swallow their neighbours.
const (
	defaultWordFreq = 300
	defaultWordTag  = "n"
)

// mustReadAnalysisFile returns an embedded analysis file; they are compiled
// in, so a missing one is a build mistake.
func mustReadAnalysisFile(name string) []byte {
	data, err := analysisFS.ReadFile("dict/" + name)
	if err != nil {
		panic("search: embedded dict/" + name + " missing: " + err.Error())
	}
	return data
}

// lines calls f with each non-empty line of an embedded file that is not a
// "#" comment, trimmed.
func lines(name string, f func(line string)) {
	sc := bufio.NewScanner(bytes.NewReader(mustReadAnalysisFile(name)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f(line)
	}
}

// dictEntry is one line of a jieba user dictionary: "word [freq] [tag]".
type dictEntry struct {
	word string
	freq int
	tag  string
}

// parseDictLine reads a jieba user-dictionary line. A missing or bad
// frequency becomes defaultWordFreq, a missing tag defaultWordTag.
func parseDictLine(line string) dictEntry {
	e := dictEntry{freq: defaultWordFreq, tag: defaultWordTag}
	fields := strings.Fields(line)
	switch len(fields) {
	case 0:
		return e
	case 1:
	case 2:
		if n, err := strconv.Atoi(fields[1]); err == nil {
			e.freq = n
		} else {
			e.tag = fields[1]
		}
	default:
		if n, err := strconv.Atoi(fields[1]); err == nil && n > 0 {
			e.freq = n
		}
		e.tag = fields[2]
	}
	e.word = fields[0]
	if e.freq <= 0 {
		e.freq = defaultWordFreq
	}
	return e
}

// civicEntries returns what OpenSegmenter adds to jieba: the civic
// dictionary, then every synonym word it does not already hold.
func civicEntries() []dictEntry {
	var entries []dictEntry
	seen := map[string]bool{}
	lines(civicDictFile, func(line string) {
		e := parseDictLine(line)
		seen[e.word] = true
		entries = append(entries, e)
	})
	for _, group := range synonymGroups() {
		for _, w := range group {
			if !seen[w] {
				seen[w] = true
				entries = append(entries, dictEntry{word: w, freq: defaultWordFreq, tag: defaultWordTag})
			}
		}
	}
	return entries
}

// synonymGroups returns the groups of dict/synonyms.utf8, folded, each with
// its canonical word first.
var synonymGroups = sync.OnceValue(func() [][]string {
	var groups [][]string
	lines(synonymsFile, func(line string) {
		var g []string
		for _, w := range strings.Fields(line) {
			g = append(g, Fold(w))
		}
		if len(g) > 1 {
			groups = append(groups, g)
		}
	})
	return groups
})

// synonymCanon maps every synonym word but a canonical one to its group's
// canonical word. A word listed in two groups keeps the first.
var synonymCanon = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, g := range synonymGroups() {
		for _, w := range g[1:] {
			if _, ok := m[w]; !ok && w != g[0] {
				m[w] = g[0]
			}
		}
	}
	return m
})

// searchStopWords is the set of words the query drops (see
// dict/search_stop.utf8), folded.
var searchStopWords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	lines(searchStopFile, func(line string) {
		for _, w := range strings.Fields(line) {
			m[Fold(w)] = true
		}
	})
	return m
})

// commonChars is the set of characters the single-character fields leave
// out (see dict/common_chars.utf8).
var commonChars = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	lines(commonCharFile, func(line string) {
		for _, r := range line {
			if !unicode.IsSpace(r) {
				m[string(r)] = true
			}
		}
	})
	return m
})

// isSpace reports whether r separates words in a dictionary line.
func isSpace(r rune) bool { return unicode.IsSpace(r) }
