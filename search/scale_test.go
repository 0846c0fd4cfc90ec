package search

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"jindianzi/search/latency"
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

	// The queries: every seventh title (long queries, about 40 distinct
	// terms each), and the same titles' two top keywords (what a resident
	// types into a search box).
	var titles, keywords []string
	for i := 0; i < len(docs); i += 7 {
		titles = append(titles, docs[i].Title)
		keywords = append(keywords, strings.Join(seg.Extract(docs[i].Title, 2), " "))
	}
	bodies := map[string]string{}
	for _, d := range docs {
		bodies[d.ID] = d.Body
	}
	// measure runs the queries from clients goroutines at once and logs
	// the latency percentiles.
	measure := func(name string, clients int, queries []string, run func(text string) error) {
		r := latency.Run(clients, queries, run)
		for _, err := range r.Errs {
			t.Error(err)
		}
		t.Logf("%s, %v", name, r)
	}
	// page is what the search page does: one page of 20 with a status
	// filter and facets, and a highlighted snippet of each hit's body.
	page := func(text string) error {
		res, err := idx.Search(t.Context(), Request{Text: text, Statuses: []string{"published"}, Facets: true})
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			_, id, _ := strings.Cut(h.ID, "-")
			Highlight(seg, bodies[id], text, 120)
		}
		return nil
	}
	// similar is the submission form's look-up: a draft (the first 200
	// characters of a body) against published ideas, five hits, no total.
	var drafts []string
	for i := 3; i < len(docs); i += 7 {
		drafts = append(drafts, string([]rune(docs[i].Body)[:min(200, utf8.RuneCountInString(docs[i].Body))]))
	}
	similar := func(text string) error {
		_, err := idx.Search(t.Context(), Request{Text: text, Kind: kindIdea, Statuses: []string{"published"}, PerPage: 5, PageOnly: true, Draft: true})
		return err
	}
	for _, clients := range []int{1, 8} {
		measure("similar ideas (200-character drafts)", clients, drafts, similar)
		measure("SearchIDs top 10, titles", clients, titles, func(text string) error {
			_, err := idx.SearchIDs(text, 10)
			return err
		})
		measure("search page (filter, facets, highlights), titles", clients, titles, page)
		measure("search page (filter, facets, highlights), keywords", clients, keywords, page)
	}
	// The process's resident memory now: jieba, the open index and what
	// the searches left on the heap; serve adds Fiber and the database.
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Log(strings.Join(strings.Fields(line), " "))
			}
		}
	}
}
