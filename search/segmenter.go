package search

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/yanyiwu/gojieba"
)

// Segmenter cuts Chinese text into words with jieba. It is safe for
// concurrent use: cutting only reads the loaded dictionaries, and AddWords,
// the one method that changes them, waits until no cut is running (cppjieba's
// trie is not safe to read while a word is inserted).
type Segmenter struct {
	mu    sync.RWMutex // write-locked while words are added to jieba
	jieba *gojieba.Jieba
	paths DictPaths
	added map[string]bool // words added since loading (civic and admin), folded
}

// Token is one word cut from a text. Start and End are byte offsets into that
// text, so text[Start:End] == Text.
type Token struct {
	Text       string
	Start, End int
}

// The process-wide segmenter. Each gojieba.NewJieba loads the dictionaries
// into about 130 MB of C++ memory and takes around a second, so the process
// keeps exactly one, created on first use and never freed; the index
// analyzer (which Bleve builds by name, without a way to pass it in) finds
// it here too.
var (
	segMu  sync.Mutex
	segOne *Segmenter
)

// OpenSegmenter returns the process-wide Segmenter. The first call installs
// the embedded dictionaries under filepath.Join(dataDir, "dict"), loads them
// and adds the civic dictionary and the synonym words (see CivicWords); later
// calls, whatever their dataDir, return the same Segmenter. A failed first
// call leaves nothing behind, so it may be retried.
func OpenSegmenter(dataDir string) (*Segmenter, error) {
	segMu.Lock()
	defer segMu.Unlock()
	if segOne != nil {
		return segOne, nil
	}
	paths, err := InstallDictionaries(filepath.Join(dataDir, "dict"))
	if err != nil {
		return nil, err
	}
	j, err := newJieba(paths)
	if err != nil {
		return nil, err
	}
	seg := &Segmenter{jieba: j, paths: paths, added: map[string]bool{}}
	for _, e := range civicEntries() {
		seg.addWord(e)
	}
	segOne = seg
	return segOne, nil
}

// currentSegmenter returns the process-wide Segmenter, or nil if
// OpenSegmenter has not succeeded yet.
func currentSegmenter() *Segmenter {
	segMu.Lock()
	defer segMu.Unlock()
	return segOne
}

// newJieba loads jieba from explicit paths, so gojieba never falls back to
// the dictionaries in the module cache. gojieba panics on a missing file;
// that becomes an error here.
func newJieba(p DictPaths) (j *gojieba.Jieba, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("search: load jieba from %s: %v", filepath.Dir(p.Dict), r)
		}
	}()
	return gojieba.NewJieba(p.list()...), nil
}

// Dictionaries returns the paths of the dictionaries the Segmenter loaded.
func (s *Segmenter) Dictionaries() DictPaths {
	return s.paths
}

// AddWords adds words to jieba's dictionary at run time, so that they are
// cut whole from now on: the terms an administrator maintains (place names,
// campaign names, local jargon). Each word is folded like the text it will
// be found in (see Fold) and trimmed; empty words, words with spaces and
// words already added are skipped. It returns how many words were new.
//
// The words only live in memory: the caller stores them and adds them again
// after each start. Documents indexed before a word was added keep their
// old tokens until they are indexed again, though search mode and the
// bigram field still find them by the word's parts.
func (s *Segmenter) AddWords(words []string) int {
	n := 0
	for _, w := range words {
		if s.addWord(dictEntry{word: w, freq: defaultWordFreq, tag: defaultWordTag}) {
			n++
		}
	}
	return n
}

// addWord inserts one entry into jieba unless it is empty, holds a space or
// was added before, and reports whether it did.
func (s *Segmenter) addWord(e dictEntry) bool {
	w := strings.TrimSpace(Fold(e.word))
	if w == "" || strings.ContainsFunc(w, isSpace) || !utf8.ValidString(w) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.added[w] {
		return false
	}
	s.added[w] = true
	s.jieba.AddWordEx(w, e.freq, e.tag)
	return true
}

// wordCount returns how many words were added to the dictionary (civic,
// synonyms and AddWords): it grows whenever the way text is cut may have
// changed.
func (s *Segmenter) wordCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.added)
}

// HasWord reports whether word (folded) was added to the dictionary by the
// civic dictionary, the synonyms or AddWords.
func (s *Segmenter) HasWord(word string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.added[strings.TrimSpace(Fold(word))]
}

// Cut splits text into words (jieba's exact mode, HMM on for unknown words).
// Punctuation and whitespace come back as words of their own.
func (s *Segmenter) Cut(text string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.jieba.Cut(cString(text), true)
}

// CutForSearch splits text like Cut and also returns the shorter dictionary
// words inside long ones (中华人民共和国 also yields 中华, 人民, 共和国…),
// which is what an index wants.
func (s *Segmenter) CutForSearch(text string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.jieba.CutForSearch(cString(text), true)
}

// Tokenize cuts text into words with their byte offsets; searchMode selects
// CutForSearch's segmentation instead of Cut's. Punctuation and whitespace
// are returned too.
func (s *Segmenter) Tokenize(text string, searchMode bool) []Token {
	mode := gojieba.DefaultMode
	if searchMode {
		mode = gojieba.SearchMode
	}
	// gojieba v1.4.6 reports cppjieba's byte offsets (Word.offset, not
	// unicode_offset), and cString keeps every byte where it was, so the
	// offsets are valid for text itself.
	s.mu.RLock()
	words := s.jieba.Tokenize(cString(text), mode, true)
	s.mu.RUnlock()
	tokens := make([]Token, 0, len(words))
	for _, w := range words {
		if w.Start < 0 || w.End > len(text) || w.Start >= w.End {
			continue // cannot happen with byte offsets; never slice out of range
		}
		tokens = append(tokens, Token{Text: text[w.Start:w.End], Start: w.Start, End: w.End})
	}
	return tokens
}

// Extract returns up to k keywords of text, most significant first (TF-IDF
// with jieba's IDF table and stop words).
func (s *Segmenter) Extract(text string, k int) []string {
	if k <= 0 {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.jieba.Extract(cString(text), k)
}

// KeywordQuery returns text's k most telling words (Extract) as a query,
// joined by spaces: what a resident would type into the search box to find
// it. Empty when text has none.
func (s *Segmenter) KeywordQuery(text string, k int) string {
	return strings.Join(s.Extract(text, k), " ")
}

// cString makes text safe to hand to jieba without moving any byte: a NUL
// would end the C string early and invalid UTF-8 makes cppjieba drop the whole
// sentence, so each such byte becomes a space. Offsets into the result are
// therefore offsets into text.
func cString(text string) string {
	clean := true
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return text
	}
	b := []byte(text)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b[i] = ' '
		}
		i += size
	}
	return string(b)
}
