package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"jindianzi/search/searchtest"
)

// testTok is the process-wide jieba, opened once for the test binary:
// loading it costs ~130 MB and a second.
var testTok Tokenizer

func TestMain(m *testing.M) {
	seg, err := searchtest.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testTok = seg
	searchtest.Main(m)
}

// Real data for measurements; tests that need it skip when it is absent
// or under -short.
var (
	messagesCSV = filepath.Join("..", "..", "..", "shared", "data", "messages.csv")
	hotCSV      = filepath.Join("..", "..", "..", "shared", "data", "hot_messages_fj3.csv")
)

func loadRecords(t testing.TB, name string, idBase int64) []Record {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the real-data measurement")
	}
	f, err := os.Open(name)
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	defer f.Close()
	recs, err := ReadCSV(f, idBase)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
