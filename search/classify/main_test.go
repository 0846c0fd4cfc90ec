package classify

import (
	"fmt"
	"os"
	"testing"

	"jindianzi/search"
)

// testTok is the process-wide jieba, opened once for the test binary:
// loading it costs ~130 MB and a second.
var testTok Tokenizer

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jindianzi-classify-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seg, err := search.OpenSegmenter(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	testTok = seg
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// loadMessages reads the real labelled messages, skipping the test when
// they are absent or under -short.
func loadMessages(t testing.TB) []Row {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the real-data measurement")
	}
	f, err := os.Open(messagesCSV)
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	defer f.Close()
	rows, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

const messagesCSV = "/work/shared/data/messages.csv"
