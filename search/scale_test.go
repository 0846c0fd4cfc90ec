package search

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"jindianzi/search/latency"
)

// forgetAnswers empties x's answer cache.
func forgetAnswers(x *Index) {
	x.answers.mu.Lock()
	defer x.answers.mu.Unlock()
	x.answers.entries = nil
}

// scalePasses is how many times TestScale runs each load.
const scalePasses = 3

// TestScale measures query latency at about 100,000 documents: scaleDocs
// (the messages reindexCopies times, perturbed), indexed by Rebuild as
// `jindianzi reindex` does, so in one merged segment. JDZ_SCALE=dir keeps
// the index in dir between runs (delete dir/index100k to build it again);
// it takes a minute or two to build.
func TestScale(t *testing.T) {
	dir := os.Getenv("JDZ_SCALE")
	if dir == "" {
		t.Skip("set JDZ_SCALE to a directory for a 100,000-document index")
	}
	docs := loadMessages(t)
	all := scaleDocs(t, reindexCopies)
	seg := testSegmenter(t)
	path := filepath.Join(dir, "index100k")
	_, statErr := os.Stat(path)
	if statErr != nil {
		start := time.Now()
		if err := Rebuild(t.Context(), path, seg, docSource(all), nil); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("rebuilt %d documents in %v: %.0f docs/s", len(all), took.Round(time.Millisecond),
			float64(len(all))/took.Seconds())
	}
	idx, err := OpenCurrent(path, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { idx.Close() }()
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents", n)

	// The queries: every seventh title (long queries, about 40 distinct
	// terms each), and the same titles' two top keywords (what a resident
	// types into a search box).
	var titles []string
	for i := 0; i < len(docs); i += 7 {
		titles = append(titles, docs[i].Title)
	}
	keywords := keywordQueries(seg, docs)
	bodies := map[string]string{}
	for _, d := range all {
		bodies[d.ID] = d.Body
	}
	// measure runs the queries from clients goroutines at once, in
	// scalePasses passes, and logs the latency percentiles of all the
	// calls and the p95 of each pass: one pass's p95 (the 21st-slowest of
	// 421 calls) moved by half from one run to the next on this machine.
	// Each pass starts without kept answers (see answerCache), so that it
	// measures searching.
	measure := func(name string, clients int, queries []string, run func(text string) error) {
		var passes []latency.Report
		var p95s []string
		for range scalePasses {
			forgetAnswers(idx)
			r := latency.Run(clients, queries, run)
			passes = append(passes, r)
			p95s = append(p95s, r.Percentile(95).Round(10*time.Microsecond).String())
		}
		r := latency.Merge(passes...)
		for _, err := range r.Errs {
			t.Error(err)
		}
		t.Logf("%s, %v; p95 of each pass %s", name, r, strings.Join(p95s, " / "))
	}
	// page is what the search page does: one page of 20 with a status
	// filter and facets, and a highlighted snippet of each hit's body.
	pageN := func(text string, n int) error {
		res, err := idx.Search(t.Context(), scalePage(text, n))
		if err != nil {
			return err
		}
		// As the portal does: the query cut once for the page's snippets.
		hl := NewHighlighter(seg, text)
		for _, h := range res.Hits {
			hl.Snippet(bodies[h.ID], 120)
		}
		return nil
	}
	page := func(text string) error { return pageN(text, 1) }
	// similar is the submission form's look-up: a draft (the first 200
	// characters of a body) against published ideas, five hits, no total.
	drafts := scaleDrafts(docs)
	similar := func(text string) error {
		_, err := idx.Search(t.Context(), similarRequest(text))
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
	// Paging: pages 1 to 5 of each keyword query, one after another,
	// from 8 clients; pages 2 to 5 come from the answer kept for page 1
	// (or wait for it).
	type pageOf struct {
		text string
		n    int
	}
	var pages []pageOf
	for _, k := range keywords {
		for n := 1; n <= 5; n++ {
			pages = append(pages, pageOf{k, n})
		}
	}
	forgetAnswers(idx)
	r := latency.Run(8, pages, func(p pageOf) error { return pageN(p.text, p.n) })
	t.Logf("search pages 1-5 of each keyword query (answers kept), %v", r)
	// Popular queries: a set that fits the cache, searched twice over.
	popular := keywords[:min(len(keywords), answerCacheSize/2)]
	forgetAnswers(idx)
	r = latency.Run(8, popular, page)
	t.Logf("search page, %d keyword queries, %v", len(popular), r)
	r = latency.Run(8, popular, page)
	t.Logf("search page, the same %d keyword queries again (answers kept), %v", len(popular), r)
	// The process's resident memory now: jieba, the open index and what
	// the searches left on the heap (TestServeScale measures serve's); a
	// rebuild in this run left its own mark.
	if statErr != nil {
		t.Log("memory after a rebuild in this run (run again to measure the searches alone):")
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Log(strings.Join(strings.Fields(line), " "))
			}
		}
	}
}

// BenchmarkScaleKeywordPage searches the index TestScale built in
// JDZ_SCALE (skipped without it) with every seventh title's two top
// keywords, one after another: a search page with a status filter and
// facets, without highlighting or the answer cache. An op is one query.
func BenchmarkScaleKeywordPage(b *testing.B) {
	idx, keywords := openScaleIndex(b)
	benchmarkScalePages(b, idx, keywords)
}

// benchmarkScalePages searches idx with queries in turn, one after
// another: a search page with a status filter and facets, without
// highlighting or the answer cache.
func benchmarkScalePages(b *testing.B, idx *Index, queries []string) {
	b.ResetTimer()
	i := 0
	for b.Loop() {
		forgetAnswers(idx)
		if _, err := idx.Search(b.Context(), scalePage(queries[i%len(queries)], 1)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportDecoded(b, idx)
}

// scalePage is page n of the search page the scale tests ask for:
// published ideas, with facets.
func scalePage(text string, n int) Request {
	return Request{Text: text, Statuses: []string{"published"}, Facets: true, Page: n}
}

// reportDecoded reports how much of idx's postings cache the benchmark
// filled and how many of the postings lists it asked for came from it.
func reportDecoded(b *testing.B, idx *Index) {
	c := &idx.postings
	c.mu.Lock()
	defer c.mu.Unlock()
	b.ReportMetric(float64(c.used)/1e6, "decoded-MB")
	if asked := c.stats.hits + c.stats.misses; asked > 0 {
		b.ReportMetric(100*float64(c.stats.hits)/float64(asked), "decoded-hit-%")
	}
}

// BenchmarkScaleMixed is what serve sees, on one index: in turn a keyword
// page (BenchmarkScaleKeywordPage), a four-character page
// (BenchmarkScaleShortPage) and a similar-ideas look-up
// (BenchmarkScaleSimilar), each kind going through its queries. The
// three share the index's postings cache (see postingsCache), as they do
// in serve; the sub-benchmarks give it no room, half the shipped budget,
// the shipped budget (decodedBudget) and twice as much. An op is one
// search.
func BenchmarkScaleMixed(b *testing.B) {
	for _, budget := range []int{-1, decodedBudget / 2, decodedBudget, 2 * decodedBudget} {
		name := "cache=off"
		if budget > 0 {
			name = fmt.Sprintf("cache=%dMiB", budget>>20)
		}
		b.Run(name, func(b *testing.B) { benchmarkScaleMixed(b, budget) })
	}
}

func benchmarkScaleMixed(b *testing.B, budget int) {
	idx, keywords := openScaleIndex(b)
	idx.postings.budget = budget
	docs := loadMessages(b)
	short := shortQueries(docs)
	drafts := scaleDrafts(docs)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		forgetAnswers(idx)
		var r Request
		switch n := i / 3; i % 3 {
		case 0:
			r = scalePage(keywords[n%len(keywords)], 1)
		case 1:
			r = scalePage(short[n%len(short)], 1)
		default:
			r = similarRequest(drafts[n%len(drafts)])
		}
		if _, err := idx.Search(b.Context(), r); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportDecoded(b, idx)
}

// BenchmarkScaleShortPage is BenchmarkScaleKeywordPage with what a
// resident types into the search box in TestServeScale: the first four
// characters of every seventh title ("关于A市", "A市B区"). Such queries
// match many ideas, and totals and facets count every match. An op is one
// query.
func BenchmarkScaleShortPage(b *testing.B) {
	idx, _ := openScaleIndex(b)
	benchmarkScalePages(b, idx, shortQueries(loadMessages(b)))
}

// shortQueries returns the first four characters of every seventh title.
func shortQueries(docs []Doc) []string {
	var short []string
	for i := 0; i < len(docs); i += 7 {
		t := docs[i].Title
		short = append(short, string([]rune(t)[:min(4, utf8.RuneCountInString(t))]))
	}
	return short
}

// scaleDrafts returns the drafts the scale tests give the similar-ideas
// look-up: the first 200 characters of every seventh body, from the fourth.
func scaleDrafts(docs []Doc) []string {
	var drafts []string
	for i := 3; i < len(docs); i += 7 {
		drafts = append(drafts, string([]rune(docs[i].Body)[:min(200, utf8.RuneCountInString(docs[i].Body))]))
	}
	return drafts
}

// similarRequest is the submission form's look-up of a draft: published
// ideas, five hits, no total.
func similarRequest(draft string) Request {
	return Request{Text: draft, Kind: kindIdea, Statuses: []string{"published"}, PerPage: 5, PageOnly: true, Draft: true}
}

// BenchmarkScaleSimilar looks up the drafts of scaleDrafts, one after
// another, in the index TestScale built in JDZ_SCALE (skipped without
// it), as the submission form does. An op is one draft.
func BenchmarkScaleSimilar(b *testing.B) {
	idx, _ := openScaleIndex(b)
	drafts := scaleDrafts(loadMessages(b))
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := idx.Search(b.Context(), similarRequest(drafts[i%len(drafts)])); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportDecoded(b, idx)
}

// TestScaleSlowestKeywords searches the index TestScale built in JDZ_SCALE
// (skipped without it) with every seventh title's two top keywords, one at a
// time, each three times, and logs the sum of the best times and the
// slowest queries with their totals: where a keyword search's time goes.
func TestScaleSlowestKeywords(t *testing.T) {
	idx, keywords := openScaleIndex(t)
	type timed struct {
		query string
		took  time.Duration
		total uint64
	}
	var all []timed
	var sum time.Duration
	for _, q := range keywords {
		best := timed{query: q, took: time.Hour}
		for range 3 {
			forgetAnswers(idx)
			start := time.Now()
			res, err := idx.Search(t.Context(), scalePage(q, 1))
			if err != nil {
				t.Fatal(err)
			}
			best.took, best.total = min(best.took, time.Since(start)), res.Total
		}
		sum += best.took
		all = append(all, best)
	}
	slices.SortFunc(all, func(a, b timed) int { return cmp.Compare(b.took, a.took) })
	t.Logf("%d keyword pages one at a time: %v", len(all), sum.Round(time.Millisecond))
	var so time.Duration
	for i, q := range all {
		so += q.took
		if i < 10 || i == len(all)/10 {
			t.Logf("%3d. %8v (%4.1f%% of the time so far) total %6d %q", i+1, q.took.Round(10*time.Microsecond),
				100*float64(so)/float64(sum), q.total, q.query)
		}
	}
}

// keywordQueries is every seventh title's two most telling words: what a
// resident types into the search box, as the scale tests search.
func keywordQueries(seg *Segmenter, docs []Doc) []string {
	var out []string
	for i := 0; i < len(docs); i += 7 {
		out = append(out, seg.KeywordQuery(docs[i].Title, 2))
	}
	return out
}

// openScaleIndex opens the index TestScale built in JDZ_SCALE (skipping
// without it), closed when tb ends, and returns it with keywordQueries.
func openScaleIndex(tb testing.TB) (*Index, []string) {
	tb.Helper()
	dir := os.Getenv("JDZ_SCALE")
	if dir == "" {
		tb.Skip("set JDZ_SCALE to the directory TestScale built its index in")
	}
	docs := loadMessages(tb)
	seg := testSegmenter(tb)
	idx, err := OpenCurrent(filepath.Join(dir, "index100k"), seg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { idx.Close() })
	return idx, keywordQueries(seg, docs)
}

// TestScaleTerms logs how many distinct terms each field of the index
// TestScale built in JDZ_SCALE holds (skipped without it): building and
// merging a segment costs per distinct term (ANALYSIS.md, "Dates and
// numbers at full precision").
func TestScaleTerms(t *testing.T) {
	idx, _ := openScaleIndex(t)
	r := snapshotReader(t, idx.index)
	for _, field := range []string{FieldTitle, FieldBody, FieldCreated, FieldSupports, FieldTheme, FieldCampaign,
		FieldRegion, FieldStatus, FieldKind, "_id"} {
		n := len(fieldTerms(t, r, field))
		t.Logf("%-9s %9d distinct terms", field, n)
	}
}
