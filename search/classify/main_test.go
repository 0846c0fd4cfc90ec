package classify

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

// messagesCSV is the real data beside the repository (../shared).
var messagesCSV = filepath.Join("..", "..", "..", "shared", "data", "messages.csv")
