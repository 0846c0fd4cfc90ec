// Package searchtest gives tests the process's one jieba (search.OpenSegmenter
// keeps the first instance for the whole process, ~130 MB) without every
// package repeating the set-up.
package searchtest

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"jindianzi/search"
)

var (
	once sync.Once
	dir  string
	seg  *search.Segmenter
	err  error
)

// Open returns the shared segmenter, installing the embedded dictionaries
// in a temporary directory on first use (for TestMain, which has no TB).
func Open() (*search.Segmenter, error) {
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "jindianzi-test-dict-"); err == nil {
			seg, err = search.OpenSegmenter(dir)
		}
	})
	return seg, err
}

// Segmenter is Open for a test: a failure fails the test.
func Segmenter(tb testing.TB) *search.Segmenter {
	tb.Helper()
	s, err := Open()
	if err != nil {
		tb.Fatalf("searchtest: open segmenter: %v", err)
	}
	return s
}

// Main runs the tests and removes the dictionaries afterwards; call it from
// a package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// wordSeq keeps MadeUpWord's words unique in the process, whose one
// segmenter keeps every word added to it.
var wordSeq atomic.Int64

// MadeUpWord returns base followed by a suffix of Chinese numerals no other
// call in this process gets, so that it is new to the segmenter (for tests
// that add words to the dictionary).
func MadeUpWord(base string) string {
	digits := []rune("零一二三四五六七八九")
	var b strings.Builder
	b.WriteString(base)
	for _, d := range strconv.FormatInt(wordSeq.Add(1), 10) {
		b.WriteRune(digits[d-'0'])
	}
	return b.String()
}
