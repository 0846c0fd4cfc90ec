package search

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
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

// snapshotReader returns a reader of idx's current snapshot, closed when
// the test ends.
func snapshotReader(t testing.TB, idx bleve.Index) index.IndexReader {
	t.Helper()
	adv, err := idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// fieldTerms lists every term of field in r's dictionary, in its order.
func fieldTerms(t testing.TB, r index.IndexReader, field string) []string {
	t.Helper()
	dict, err := r.FieldDict(field)
	if err != nil {
		t.Fatal(err)
	}
	defer dict.Close()
	var terms []string
	for {
		e, err := dict.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			return terms
		}
		terms = append(terms, e.Term)
	}
}
