package search

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
)

var testDocs = []Doc{
	{
		ID: "1", Title: "关于垃圾分类的建议", Body: "小区的垃圾分类投放点太少，希望多设几个，并安排志愿者指导。",
		Theme: "环境", Campaign: "2024-城市管理", Region: "西湖区", Status: "published",
		Created: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Supports: 12,
	},
	{
		ID: "2", Title: "老旧小区停车难", Body: "晚上电动车没有地方充电，汽车也只能停在消防通道上。",
		Theme: "交通", Campaign: "2024-城市管理", Region: "上城区", Status: "published",
		Created: time.Date(2024, 5, 2, 18, 0, 0, 0, time.UTC), Supports: 30,
	},
	{
		ID: "3", Title: "滨江公园增加健身器材", Body: "希望在公园里增加一些健身器材和座椅，方便老人锻炼。",
		Theme: "公共设施", Campaign: "2024-民生实事", Region: "滨江区", Status: "pending",
		Supports: 0, // no Created: must still index
	},
}

func openTestIndex(t testing.TB, dir string) *Index {
	t.Helper()
	idx, err := OpenIndex(dir, testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func assertIDs(t *testing.T, idx *Index, query string, want ...string) {
	t.Helper()
	got, err := idx.SearchIDs(query, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("SearchIDs(%q) = %q, want %q", query, got, want)
	}
}

func assertCount(t *testing.T, idx *Index, want uint64) {
	t.Helper()
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("DocCount = %d, want %d", n, want)
	}
}

func TestIndexRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	idx := openTestIndex(t, dir)
	if idx.NeedsRebuild() {
		t.Error("a new index needs a rebuild")
	}
	if err := idx.Index(testDocs...); err != nil {
		t.Fatal(err)
	}
	assertCount(t, idx, 3)
	assertIDs(t, idx, "垃圾分类", "1")
	assertIDs(t, idx, "电动车充电", "2")
	assertIDs(t, idx, "健身", "3")
	assertIDs(t, idx, "地铁站")

	st := idx.Status()
	want := Status{Path: dir, Docs: 3, MappingVersion: MappingVersion}
	if st != want {
		t.Errorf("Status = %+v, want %+v", st, want)
	}

	if err := idx.Delete("1", "no-such-id"); err != nil {
		t.Fatal(err)
	}
	assertIDs(t, idx, "垃圾分类")
	assertCount(t, idx, 2)

	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := idx.DocCount(); !errors.Is(err, ErrClosed) {
		t.Errorf("DocCount after Close: %v, want ErrClosed", err)
	}
	if err := idx.Index(testDocs[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Index after Close: %v, want ErrClosed", err)
	}
	if st := idx.Status(); st.Err == "" || !st.NeedsRebuild {
		t.Errorf("Status after Close = %+v, want an error", st)
	}

	reopened := openTestIndex(t, dir)
	assertCount(t, reopened, 2)
	assertIDs(t, reopened, "停车", "2")
	if reopened.NeedsRebuild() {
		t.Error("reopened index needs a rebuild")
	}
}

func TestIndexNeedsRebuild(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	raw := func(f func(bleve.Index) error) {
		t.Helper()
		if err := idx.use(f); err != nil {
			t.Fatal(err)
		}
	}

	raw(func(b bleve.Index) error { return b.SetInternal([]byte(mappingVersionKey), []byte("0")) })
	if !idx.NeedsRebuild() {
		t.Error("stored mapping version 0: NeedsRebuild = false")
	}
	if st := idx.Status(); !st.NeedsRebuild || st.MappingVersion != 0 || st.Err != "" {
		t.Errorf("Status = %+v, want version 0 needing a rebuild", st)
	}

	raw(func(b bleve.Index) error { return b.DeleteInternal([]byte(mappingVersionKey)) })
	if !idx.NeedsRebuild() {
		t.Error("no stored mapping version: NeedsRebuild = false")
	}
}

func TestOpenIndexInEmptyDir(t *testing.T) {
	dir := t.TempDir() // exists, empty
	idx := openTestIndex(t, dir)
	if err := idx.Index(testDocs[1]); err != nil {
		t.Fatal(err)
	}
	assertIDs(t, idx, "停车难", "2")
}

func TestOpenIndexRefusesOtherDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("不是索引"), 0o644); err != nil {
		t.Fatal(err)
	}
	if idx, err := OpenIndex(dir, testSegmenter(t)); err == nil {
		idx.Close()
		t.Fatal("OpenIndex made an index in a directory holding other files")
	}
}

func TestOpenIndexNeedsSegmenter(t *testing.T) {
	if _, err := OpenIndex(filepath.Join(t.TempDir(), "index"), nil); !errors.Is(err, errNoSegmenter) {
		t.Fatalf("OpenIndex without Segmenter: %v, want errNoSegmenter", err)
	}
}

func TestIndexRejectsEmptyID(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	if err := idx.Index(Doc{Title: "没有编号"}); err == nil {
		t.Fatal("Index accepted a document without ID")
	}
}
