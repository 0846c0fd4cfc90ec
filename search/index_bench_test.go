package search

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

	"jindianzi/search/internal/zapbuild"
	"jindianzi/search/latency"
)

// messagesCSV is the real data the benchmarks and TestEvalMessages read when
// the shared data directory is beside the repository.
var messagesCSV = filepath.Join("..", "..", "shared", "data", "messages.csv")

// loadMessages reads the title and body of every row of messagesCSV as Docs,
// skipping the benchmark or test when the file is absent.
func loadMessages(b testing.TB) []Doc {
	b.Helper()
	f, err := os.Open(messagesCSV)
	if err != nil {
		b.Skipf("no %s: %v", messagesCSV, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	docs := make([]Doc, 0, len(rows)-1)
	for i, r := range rows[1:] {
		docs = append(docs, Doc{ID: strconv.Itoa(i), Title: r[col["title"]], Body: r[col["body"]], Status: "published"})
	}
	return docs
}

// BenchmarkIndexDocs indexes the 2,947 messages (title and body) into a new
// index in batches of 500, the base line for the later 100k benchmark.
func BenchmarkIndexDocs(b *testing.B) {
	docs := loadMessages(b)
	seg := testSegmenter(b)
	var raw int64
	for _, d := range docs {
		raw += int64(len(d.Title) + len(d.Body))
	}
	b.SetBytes(raw)
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "index")
		idx, err := OpenIndex(dir, seg)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for j := 0; j < len(docs); j += 500 {
			if err := idx.Index(docs[j:min(j+500, len(docs))]...); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		size = settledDiskBytes(context.Background(), idx.index)
		if err := idx.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(size)/float64(raw), "index/raw")
}

// BenchmarkSegmentBuild builds the segment of one rebuild batch
// (rebuildBatch analysed messages) with zapx's builder and with zapbuild,
// which builds the index's segments (ANALYSIS.md, "Building segments").
func BenchmarkSegmentBuild(b *testing.B) {
	testSegmenter(b)
	msgs := loadMessages(b)
	docs := analysedDocuments(b, NewMapping(), msgs[:min(len(msgs), rebuildBatch)])
	for _, p := range []struct {
		name   string
		plugin segmentPlugin
	}{{"zapx", &zap.ZapPlugin{}}, {"zapbuild", &zapbuild.Plugin{}}} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				seg, _, err := p.plugin.New(docs)
				if err != nil {
					b.Fatal(err)
				}
				_ = seg.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(docs)), "µs/doc")
		})
	}
}

// BenchmarkSegmentMerge merges the segment files of a rebuild of about
// 30,000 ideas (the messages ten times, perturbed, in batches of
// rebuildBatch, every field declared as bulkConfig does) into one, as a
// rebuild's Commit does: with zapx's merge, on one core, and with
// zapbuild's parallel merge (ANALYSIS.md, "Merging in parallel").
func BenchmarkSegmentMerge(b *testing.B) {
	testSegmenter(b)
	docs := scaleDocs(b, 10)
	var batches [][]Doc
	for i := 0; i < len(docs); i += rebuildBatch {
		batches = append(batches, docs[i:min(i+rebuildBatch, len(docs))])
	}
	dir := b.TempDir()
	segs := rebuildSegmentFiles(b, dir, NewMapping(), batches...)
	drops := make([]*roaring.Bitmap, len(segs))
	for _, p := range []struct {
		name   string
		config map[string]any
	}{{"zapx", nil}, {"zapbuild", map[string]any{zapbuild.ParallelMergeKey: true}}} {
		b.Run(p.name, func(b *testing.B) {
			path := filepath.Join(dir, p.name+".zap")
			var cpu time.Duration
			for b.Loop() {
				before := latency.CPUTime()
				if _, _, err := (&zapbuild.Plugin{}).MergeUsing(segs, drops, path, nil, nil, p.config); err != nil {
					b.Fatal(err)
				}
				cpu += latency.CPUTime() - before
				if err := os.Remove(path); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(docs)), "docs")
		})
	}
}

// segmentPlugin builds segments.
type segmentPlugin interface {
	New([]index.Document) (segment.Segment, uint64, error)
}
