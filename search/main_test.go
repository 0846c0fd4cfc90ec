package search

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// testDataDir is the data directory of the one Segmenter the tests share:
// loading jieba costs ~130 MB and a second, and OpenSegmenter keeps the first
// instance for the whole process anyway.
var testDataDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jindianzi-search-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	testSegOnce sync.Once
	testSeg     *Segmenter
	testSegErr  error
)

// testSegmenter returns the process-wide Segmenter, loading it on first use.
func testSegmenter(t testing.TB) *Segmenter {
	t.Helper()
	testSegOnce.Do(func() { testSeg, testSegErr = OpenSegmenter(testDataDir) })
	if testSegErr != nil {
		t.Fatalf("OpenSegmenter: %v", testSegErr)
	}
	return testSeg
}
