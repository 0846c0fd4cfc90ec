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

// Segmenter returns the shared segmenter, installing the embedded
// dictionaries in a temporary directory on first use.
func Segmenter(tb testing.TB) *search.Segmenter {
	tb.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "jindianzi-test-dict-"); err == nil {
			seg, err = search.OpenSegmenter(dir)
		}
	})
	if err != nil {
		tb.Fatalf("searchtest: open segmenter: %v", err)
	}
	return seg
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
