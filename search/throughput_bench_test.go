package search

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"jindianzi/search/latency"
)

// BenchmarkIndexDocsParallel indexes the messages with Index in batches of
// 1,000 from two goroutines, so one batch is analysed while Bleve builds
// the other's segment (Index may be called concurrently), with the garbage
// collector at GOGC=400, into an index with scorch's default configuration,
// leaving the segments as built. Compare BenchmarkIndexDocs (one goroutine,
// batches of 500, GOGC=100) and BenchmarkRebuildMessages (Rebuild: the
// bulk configuration, one merged segment at the end). Besides docs/s it
// reports the CPU time of the whole process per document, which a busy
// machine inflates less than the wall clock.
func BenchmarkIndexDocsParallel(b *testing.B) {
	docs := loadMessages(b)
	seg := testSegmenter(b)
	var raw int64
	for _, d := range docs {
		raw += int64(len(d.Title) + len(d.Body))
	}
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	const batch, workers = 1000, 2
	b.SetBytes(raw)
	b.ResetTimer()
	var size int64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		idx, err := OpenIndex(filepath.Join(b.TempDir(), "index"), seg)
		if err != nil {
			b.Fatal(err)
		}
		parts := make(chan []Doc)
		var wg sync.WaitGroup
		before := latency.CPUTime()
		b.StartTimer()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for part := range parts {
					if err := idx.Index(part...); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for j := 0; j < len(docs); j += batch {
			parts <- docs[j:min(j+batch, len(docs))]
		}
		close(parts)
		wg.Wait()
		b.StopTimer()
		cpu += latency.CPUTime() - before
		size = settledDiskBytes(context.Background(), idx.index)
		if err := idx.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(cpu.Seconds()*1000/float64(len(docs)*b.N), "cpu-ms/doc")
	b.ReportMetric(float64(size)/float64(raw), "index/raw")
}

// BenchmarkSearchIDs runs the messages' titles as queries against their
// index (titles and bodies), top 10.
func BenchmarkSearchIDs(b *testing.B) {
	docs := loadMessages(b)
	idx, err := OpenIndex(filepath.Join(b.TempDir(), "index"), testSegmenter(b))
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	for j := 0; j < len(docs); j += 1000 {
		if err := idx.Index(docs[j:min(j+1000, len(docs))]...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := idx.SearchIDs(docs[i%len(docs)].Title, 10); err != nil {
			b.Fatal(err)
		}
	}
}
