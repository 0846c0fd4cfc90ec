package moderation

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/coregx/ahocorasick"
)

// Word is one entry of the sensitive-word list: the text to find, its
// category (insult, advertising, gambling, illegal, fraud, …) and what a hit
// does: Block (reject), Hold (needs a moderator) or Flag (publish, marked).
type Word struct {
	Word     string
	Category string
	Action   Action
}

// WordList is the sensitive-word list as rows, from the starter file or the
// database table admins edit.
type WordList []Word

// Word categories of the starter list. Admins may add others; a category
// without a label here is shown as 敏感内容.
const (
	CategoryInsult      = "insult"
	CategoryAdvertising = "advertising"
	CategoryGambling    = "gambling"
	CategoryIllegal     = "illegal"
	CategoryFraud       = "fraud"
)

// categoryLabels name the categories in the messages residents see.
var categoryLabels = map[string]string{
	CategoryInsult:      "不文明用语",
	CategoryAdvertising: "广告推销或联系方式买卖",
	CategoryGambling:    "赌博信息",
	CategoryIllegal:     "违法信息",
	CategoryFraud:       "诈骗信息",
}

// CategoryLabel returns the Chinese name of a word category, safe to show
// the submitter.
func CategoryLabel(category string) string {
	if l, ok := categoryLabels[category]; ok {
		return l
	}
	return "敏感内容"
}

//go:embed words/starter.tsv
var starterTSV string

// StarterWords returns the modest word list shipped with the binary
// (moderation/words/starter.tsv), for a fresh installation before admins
// edit their own.
func StarterWords() WordList {
	l, err := ParseWordList(strings.NewReader(starterTSV))
	if err != nil {
		panic("moderation: embedded starter.tsv: " + err.Error()) // caught by the tests
	}
	return l
}

// ParseWordList reads a word list as tab-separated lines "word, category,
// action" (action block, hold or flag; reject is read as block). Blank lines
// and lines starting with # are skipped. Each word is checked as NewMatcher
// would check it.
func ParseWordList(r io.Reader) (WordList, error) {
	var l WordList
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("moderation: word list line %d: want word<TAB>category<TAB>action, got %d fields", line, len(f))
		}
		w := Word{Word: strings.TrimSpace(f[0]), Category: strings.TrimSpace(f[1]), Action: Action(strings.TrimSpace(f[2]))}
		if w.Action == Reject {
			w.Action = Block
		}
		if err := w.Validate(); err != nil {
			return nil, fmt.Errorf("moderation: word list line %d: %w", line, err)
		}
		l = append(l, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("moderation: read word list: %w", err)
	}
	return l, nil
}

// Validate reports why a word cannot be listed: an unknown action, no
// category, or fewer than two letters or digits once normalised (a single
// character would hold half of all messages).
func (w Word) Validate() error {
	switch w.Action {
	case Block, Hold, Flag:
	default:
		return fmt.Errorf("word %q: action %q is not block, hold or flag", w.Word, w.Action)
	}
	if strings.TrimSpace(w.Category) == "" {
		return fmt.Errorf("word %q: no category", w.Word)
	}
	if n := Normalize(w.Word).denseRunes(); n < 2 {
		return fmt.Errorf("word %q: needs at least two letters or digits", w.Word)
	}
	return nil
}

// severity orders word actions: a stricter action wins.
func severity(a Action) int {
	switch a {
	case Block, Reject:
		return 3
	case Hold:
		return 2
	case Flag:
		return 1
	}
	return 0
}

// Match is one hit of a listed word, for the verdict and the moderator
// queue's highlighting. Start and End are byte offsets into the original
// title or body (named by Field), on rune boundaries.
type Match struct {
	Word     string `json:"word"`
	Category string `json:"category"`
	Action   Action `json:"action"`
	Field    string `json:"field,omitempty"` // "title" or "body"
	Start    int    `json:"start"`
	End      int    `json:"end"`
}

// maxMatches bounds the hits reported for one text, so a message made of
// one listed word repeated cannot bloat the verdict.
const maxMatches = 64

// Matcher finds listed words in normalised text with one Aho-Corasick
// automaton over the words' dense forms. It is immutable once built and
// safe for concurrent use; to change the list, build a new one and swap it
// in a Registry.
type Matcher struct {
	ac    *ahocorasick.Automaton // nil when the list is empty
	words []Word                 // by pattern id
	// asciiHead/asciiTail mark patterns that begin/end with an ASCII letter
	// or digit: such a hit counts only where Text has no ASCII letter just
	// outside it, so "vx" is found in "加v x" but not in "new xbox".
	asciiHead, asciiTail []bool
}

// NewMatcher builds a Matcher. Words are normalised like the texts they are
// matched against; words that normalise alike are kept once, with the
// strictest action. An invalid word is an error.
func NewMatcher(words WordList) (*Matcher, error) {
	byDense := make(map[string]int)
	m := &Matcher{}
	var patterns []string
	for _, w := range words {
		if err := w.Validate(); err != nil {
			return nil, fmt.Errorf("moderation: %w", err)
		}
		d := Normalize(w.Word).Dense
		if i, ok := byDense[d]; ok {
			if severity(w.Action) > severity(m.words[i].Action) {
				m.words[i] = w
			}
			continue
		}
		byDense[d] = len(patterns)
		patterns = append(patterns, d)
		m.words = append(m.words, w)
		first, _ := utf8.DecodeRuneInString(d)
		last, _ := utf8.DecodeLastRuneInString(d)
		m.asciiHead = append(m.asciiHead, first < utf8.RuneSelf)
		m.asciiTail = append(m.asciiTail, last < utf8.RuneSelf)
	}
	if len(patterns) == 0 {
		return m, nil
	}
	ac, err := ahocorasick.NewBuilder().AddStrings(patterns).Build()
	if err != nil {
		return nil, fmt.Errorf("moderation: build word automaton: %w", err)
	}
	m.ac = ac
	return m, nil
}

// Len is the number of distinct words the Matcher finds.
func (m *Matcher) Len() int { return len(m.words) }

// Words returns a copy of the Matcher's list, one entry per distinct word.
func (m *Matcher) Words() WordList { return append(WordList(nil), m.words...) }

// Match normalises text and returns the hits with offsets into text.
func (m *Matcher) Match(text string) []Match {
	return m.Find(Normalize(text))
}

// Find returns the hits in n, in order of position, with offsets into
// n.Original; overlapping words are all reported (刷单 and 刷单返利), up to 64.
func (m *Matcher) Find(n *Normalized) []Match {
	if m == nil || m.ac == nil || n.Dense == "" {
		return nil
	}
	hits := m.ac.FindAllOverlapping([]byte(n.Dense))
	if len(hits) == 0 {
		return nil
	}
	out := make([]Match, 0, min(len(hits), maxMatches))
	for _, h := range hits {
		if (m.asciiHead[h.PatternID] && !n.denseBoundary(h.Start, true)) ||
			(m.asciiTail[h.PatternID] && !n.denseBoundary(h.End, false)) {
			continue
		}
		start, end := n.DenseSpan(h.Start, h.End)
		if start >= end {
			continue
		}
		w := m.words[h.PatternID]
		out = append(out, Match{Word: w.Word, Category: w.Category, Action: w.Action, Start: start, End: end})
		if len(out) == maxMatches {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End > out[j].End
	})
	return out
}

// denseBoundary reports whether the byte offset off of Dense (the start of
// a hit when head, else its end) lies at a word boundary of Text: the rune
// of Text just outside the hit is not an ASCII letter. Digits may touch a
// hit, since contact spam glues the number on ("加vx13800138000").
func (n *Normalized) denseBoundary(off int, head bool) bool {
	at := n.denseAt[:len(n.dense)]
	if head {
		k := max(sort.Search(len(at), func(i int) bool { return int(at[i]) > off })-1, 0)
		i := int(n.dense[k]) - 1
		return i < 0 || !isASCIILetter(n.runes[i].r)
	}
	k := max(sort.Search(len(at), func(i int) bool { return int(at[i]) > off-1 })-1, 0)
	i := int(n.dense[k]) + 1
	return i >= len(n.runes) || !isASCIILetter(n.runes[i].r)
}

// isASCIILetter reports a-z (Text is lower case already).
func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' }

// Registry holds the Matcher in use. Readers take the current one without
// locking; an admin's edit builds a new Matcher and swaps it in atomically,
// so checks in flight finish with the list they started with.
type Registry struct {
	cur atomic.Pointer[Matcher]
}

// NewRegistry builds a Matcher from words and holds it.
func NewRegistry(words WordList) (*Registry, error) {
	m, err := NewMatcher(words)
	if err != nil {
		return nil, err
	}
	r := &Registry{}
	r.cur.Store(m)
	return r, nil
}

// Matcher returns the Matcher in use.
func (r *Registry) Matcher() *Matcher { return r.cur.Load() }

// Replace builds a Matcher from words and swaps it in. On error the old
// Matcher stays in use.
func (r *Registry) Replace(words WordList) error {
	m, err := NewMatcher(words)
	if err != nil {
		return err
	}
	r.cur.Store(m)
	return nil
}
