// Package searchtest gives tests the process's one jieba (search.OpenSegmenter
// keeps the first instance for the whole process, ~130 MB) without every
// package repeating the set-up.
package searchtest

import (
	"os"
	"sync"
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
