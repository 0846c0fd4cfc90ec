package search

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuilderCommitMerges writes a generation in several batches (several
// segments) and checks that Commit leaves it as one segment file, with
// every document and the cursor, and that it reopens with them and without
// the Builder's configuration (a write after reopening survives Close).
func TestBuilderCommitMerges(t *testing.T) {
	seg := testSegmenter(t)
	docs := documentTestDocs(t)
	if len(docs) > 200 {
		docs = docs[:200]
	}
	dir := t.TempDir()
	b, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(docs); i += 7 {
		if err := b.Index.Index(docs[i:min(i+7, len(docs))]...); err != nil {
			b.Abort()
			t.Fatal(err)
		}
	}
	if err := b.Commit(42); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	store := filepath.Join(dir, genName(1), "store") // scorch's files
	entries, err := os.ReadDir(store)
	if err != nil {
		t.Fatal(err)
	}
	var zap []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".zap") {
			zap = append(zap, e.Name())
		}
	}
	if len(zap) != 1 {
		t.Errorf("committed generation has segment files %q, want one", zap)
	}

	x, err := OpenCurrent(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n, err := x.DocCount(); err != nil || n != uint64(len(docs)) {
		t.Errorf("DocCount = %d, %v; want %d", n, err, len(docs))
	}
	if c, err := x.Cursor(); err != nil || c != 42 {
		t.Errorf("Cursor = %d, %v; want 42", c, err)
	}
	ids, err := x.SearchIDs("电动车在楼道充电", 3)
	if err != nil || len(ids) == 0 {
		t.Errorf("SearchIDs after Commit = %q, %v", ids, err)
	}
	if err := x.Apply([]Doc{{ID: "after", Title: "路灯不亮"}}, nil, 43); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := OpenCurrent(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if c, err := y.Cursor(); err != nil || c != 43 {
		t.Errorf("Cursor after a write and a reopen = %d, %v; want 43", c, err)
	}
}
