package search

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

	"jindianzi/search/internal/zapbuild"
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

// segmentPlugin builds segments.
type segmentPlugin interface {
	New([]index.Document) (segment.Segment, uint64, error)
}
