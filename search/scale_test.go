package search

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// scaleCopies is how many times TestScale indexes each message: 34 × 2,947
// is about 100,000 documents.
const scaleCopies = 34

// TestScale measures indexing and query latency at about 100,000 documents:
// the messages (titles and bodies) indexed scaleCopies times under other
// ids, which makes every term 34 times as frequent as in real text of that
// size, a pessimistic stand-in. JDZ_SCALE=dir keeps the index in dir
// between runs (delete dir/index100k to measure indexing again); it takes a
// minute to build.
func TestScale(t *testing.T) {
	dir := os.Getenv("JDZ_SCALE")
	if dir == "" {
		t.Skip("set JDZ_SCALE to a directory for a 100,000-document index")
	}
	docs := loadMessages(t)
	seg := testSegmenter(t)
	path := filepath.Join(dir, "index100k")
	_, statErr := os.Stat(path)
	idx, err := OpenIndex(path, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { idx.Close() }()
	if statErr != nil {
		// As a rebuild should: two goroutines, batches of 1,000, a lazier
		// garbage collector.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		start := time.Now()
		parts := make(chan []Doc)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range parts {
					if err := idx.Index(p...); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		var batch []Doc
		for c := range scaleCopies {
			for _, d := range docs {
				d.ID = strconv.Itoa(c) + "-" + d.ID
				batch = append(batch, d)
				if len(batch) == 1000 {
					parts <- batch
					batch = nil
				}
			}
		}
		parts <- batch
		close(parts)
		wg.Wait()
		took := time.Since(start)
		t.Logf("indexed %d documents in %v: %.0f docs/s", scaleCopies*len(docs), took.Round(time.Millisecond),
			float64(scaleCopies*len(docs))/took.Seconds())
	}
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents", n)

	measure := func(name string, run func(text string) error) {
		var lat []time.Duration
		for i := range 300 {
			start := time.Now()
			if err := run(docs[(i*7)%len(docs)].Title); err != nil {
				t.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		t.Logf("%s: p50 %v p95 %v max %v", name, lat[len(lat)/2].Round(10*time.Microsecond),
			lat[len(lat)*95/100].Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	}
	measure("SearchIDs top 10", func(text string) error {
		_, err := idx.SearchIDs(text, 10)
		return err
	})
	measure("Search with a status filter and facets", func(text string) error {
		_, err := idx.Search(t.Context(), Request{Text: text, Statuses: []string{"published"}, Facets: true})
		return err
	})
	measure("Highlight of 10 bodies", func(text string) error {
		for i := range 10 {
			Highlight(seg, docs[i].Body, text, 120)
		}
		return nil
	})
}
