package moderation

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"jindianzi/search"
)

var evalLastLine = regexp.MustCompile(`^dup_precision=[01]\.\d\d dup_recall=[01]\.\d\d false_hold_rate=[01]\.\d{4} checks_per_s=\d+$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestEvalSample(t *testing.T) {
	f, err := os.Open("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	res, err := Eval(f, &out, EvalOptions{MinDuration: 50 * time.Millisecond, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !evalLastLine.MatchString(lastLine(out.String())) {
		t.Errorf("last line %q", lastLine(out.String()))
	}
	if res.Messages != 5 || res.Docs < 5+4*3 {
		t.Errorf("messages %d docs %d", res.Messages, res.Docs)
	}
	// Rows 1 and 3 are equal: one family of two messages and their copies.
	if res.RecallByKind["file"] != 1 {
		t.Errorf("exact duplicates of the file not all found: %v", res.RecallByKind)
	}
	if res.DupPrecision < 0.95 || res.DupRecall < 0.9 {
		t.Errorf("precision %.3f recall %.3f", res.DupPrecision, res.DupRecall)
	}
	if res.Held != 0 || res.Checks < res.Messages || res.ChecksPerSecond <= 0 {
		t.Errorf("held %d checks %d rate %.0f", res.Held, res.Checks, res.ChecksPerSecond)
	}
}

func TestEvalErrors(t *testing.T) {
	for _, in := range []string{"", "id,title\n1,x\n", "body\n\n"} {
		if _, err := Eval(strings.NewReader(in), &bytes.Buffer{}, EvalOptions{}); err == nil {
			t.Errorf("Eval(%q) succeeded", in)
		}
	}
}

// TestEvalMessages runs the evaluation on the real messages in shared/data
// with jieba, as "jindianzi moderation eval" does, and holds the pipeline to
// its targets. Speed depends on the machine and is only logged.
func TestEvalMessages(t *testing.T) {
	const path = "../../shared/data/messages.csv"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	defer f.Close()
	if testing.Short() {
		t.Skip("the full evaluation takes about 20 s")
	}
	seg, err := search.OpenSegmenter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Eval(f, &out, EvalOptions{Tokenizer: seg, MinDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !evalLastLine.MatchString(lastLine(out.String())) {
		t.Errorf("last line %q", lastLine(out.String()))
	}
	if res.DupRecall < 0.95 || res.DupPrecision < 0.95 {
		t.Errorf("duplicates: recall %.3f precision %.3f, want both ≥ 0.95", res.DupRecall, res.DupPrecision)
	}
	if res.FalseHoldRate > 0.02 {
		t.Errorf("false hold rate %.4f, want ≤ 0.02", res.FalseHoldRate)
	}
}
