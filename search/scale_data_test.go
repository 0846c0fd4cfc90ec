package search

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"jindianzi/search/latency"
)

// reindexCopies is how many times BenchmarkReindex100k takes each message:
// 34 × 2,947 is 100,198 documents.
const reindexCopies = 34

// scaleDocs returns copies versions of every message of loadMessages
// (skipping without the data): copy 0 as it is, each other copy perturbed
// deterministically (the same on every run), so that a large index does not
// hold the same document 34 times:
//
//   - another id, and other campaign, region, theme, status, kind, creation
//     time and support count;
//   - a body with about a sixth of its sentences dropped and, often, two
//     neighbouring sentences swapped;
//   - digits changed (house numbers, dates, phone numbers: new terms, as
//     real messages bring);
//   - here and there a word replaced by another of its synonym group, a
//     character by its traditional form (which folding undoes), and the
//     title reworded at its ends.
//
// Every term still comes from the messages, so term frequencies are about
// copies times what real text of that size would have: pessimistic for
// queries, and for the index size, slightly optimistic (fewer distinct
// terms).
func scaleDocs(tb testing.TB, copies int) []Doc {
	tb.Helper()
	base := loadMessages(tb)
	groups := synonymGroupsForTest(tb)
	regions := []string{"鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区", "A1区", "A3区", "A7区"}
	themes := []string{"交通", "环境", "住房", "教育", "医疗", "治安", "城建", ""}
	statuses := []string{"published", "published", "published", "published", "pending", "closed", "hidden"}
	start := time.Date(2019, 1, 1, 8, 0, 0, 0, time.UTC)
	docs := make([]Doc, 0, copies*len(base))
	for c := range copies {
		for i, d := range base {
			d.ID = fmt.Sprintf("c%02d-%s", c, d.ID)
			if c > 0 {
				rng := rand.New(rand.NewPCG(uint64(c), uint64(i)))
				d.Title = perturbTitle(rng, d.Title)
				d.Body = perturbBody(rng, d.Body, groups)
				d.Campaign = fmt.Sprintf("campaign-%02d", rng.IntN(40))
				d.Region = regions[rng.IntN(len(regions))]
				d.Theme = themes[rng.IntN(len(themes))]
				d.Status = statuses[rng.IntN(len(statuses))]
				if rng.IntN(20) == 0 {
					d.Kind = "debate_post"
				}
				d.Created = start.Add(time.Duration(rng.IntN(3*365*24*60)) * time.Minute)
				d.Supports = rng.IntN(300)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

// synonymGroupsForTest reads dict/synonyms.utf8: one group a line.
func synonymGroupsForTest(tb testing.TB) [][]string {
	tb.Helper()
	f, err := os.Open(filepath.Join("dict", "synonyms.utf8"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var groups [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if words := strings.Fields(line); len(words) > 1 {
			groups = append(groups, words)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return groups
}

// simplifiedToTraditional maps common characters of the messages to their
// traditional forms.
var simplifiedToTraditional = map[rune]rune{
	'区': '區', '车': '車', '门': '門', '们': '們', '为': '為', '问': '問', '题': '題', '关': '關',
	'长': '長', '发': '發', '处': '處', '办': '辦', '务': '務', '业': '業', '时': '時', '这': '這',
	'个': '個', '对': '對', '说': '說', '现': '現', '过': '過', '实': '實', '应': '應', '难': '難',
}

// perturbTitle sometimes rewords the ends of a title and writes a
// character in its traditional form.
func perturbTitle(rng *rand.Rand, title string) string {
	switch rng.IntN(6) {
	case 0:
		title = "关于" + title
	case 1:
		title += "的问题"
	case 2:
		title = "请求解决" + title
	}
	return swapCharacters(rng, title, 10)
}

// perturbBody drops, swaps and rewrites parts of a body (see scaleDocs).
func perturbBody(rng *rand.Rand, body string, groups [][]string) string {
	sentences := splitSentences(body)
	kept := sentences[:0:0]
	for _, s := range sentences {
		if rng.IntN(6) != 0 {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 && len(sentences) > 0 {
		kept = append(kept, sentences[rng.IntN(len(sentences))])
	}
	if len(kept) > 1 && rng.IntN(2) == 0 {
		j := rng.IntN(len(kept) - 1)
		kept[j], kept[j+1] = kept[j+1], kept[j]
	}
	body = strings.Join(kept, "")
	for _, g := range groups {
		for _, w := range g {
			if strings.Contains(body, w) && rng.IntN(3) == 0 {
				body = strings.ReplaceAll(body, w, g[rng.IntN(len(g))])
			}
		}
	}
	var b strings.Builder
	b.Grow(len(body))
	for _, r := range body {
		if r >= '0' && r <= '9' && rng.IntN(2) == 0 {
			r = '0' + rune(rng.IntN(10))
		}
		b.WriteRune(r)
	}
	return swapCharacters(rng, b.String(), 40)
}

// splitSentences cuts text after each sentence-ending mark, keeping the
// marks.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		switch r {
		case '。', '！', '？', '；', '!', '?', ';', '\n':
			end := i + len(string(r))
			out = append(out, text[start:end])
			start = end
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// swapCharacters writes about one in oneIn of the characters that have a
// traditional form (simplifiedToTraditional) in that form.
func swapCharacters(rng *rand.Rand, text string, oneIn int) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if t, ok := simplifiedToTraditional[r]; ok && rng.IntN(oneIn) == 0 {
			r = t
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestScaleDocs checks that scaleDocs is deterministic, keeps copy 0 as
// the messages are and gives the other copies their own ids and text.
func TestScaleDocs(t *testing.T) {
	a, b := scaleDocs(t, 3), scaleDocs(t, 3)
	base := loadMessages(t)
	if len(a) != 3*len(base) {
		t.Fatalf("%d documents, want %d", len(a), 3*len(base))
	}
	ids := map[string]bool{}
	changed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("document %d differs between two calls", i)
		}
		if ids[a[i].ID] {
			t.Fatalf("id %s twice", a[i].ID)
		}
		ids[a[i].ID] = true
		orig := base[i%len(base)]
		if i < len(base) && (a[i].Title != orig.Title || a[i].Body != orig.Body) {
			t.Fatalf("copy 0 of %s was changed", orig.ID)
		}
		if i >= len(base) && a[i].Body != orig.Body {
			changed++
		}
	}
	if changed < len(base) {
		t.Errorf("only %d of %d perturbed bodies differ from the message", changed, 2*len(base))
	}
}

// BenchmarkReindex100k rebuilds an index of about 100,000 ideas (scaleDocs,
// reindexCopies copies of the messages) the way the reindex command does:
// Rebuild from a source that hands out batches of 1,000, into a new
// generation that it merges into one segment and makes current. It reports
// docs/s (wall clock, merge included), the CPU time per document of the
// whole process (which a busy machine inflates less than the wall clock)
// the size of the generation's directory as Rebuild leaves it over the
// title and body text, and the process's peak resident memory (which
// includes the documents held in memory and jieba's ~130 MB).
func BenchmarkReindex100k(b *testing.B) {
	docs := scaleDocs(b, reindexCopies)
	benchmarkRebuild(b, docs)
}

// BenchmarkRebuildMessages is BenchmarkReindex100k on the 2,947 messages
// once: the same path at the size of BenchmarkIndexDocsParallel.
func BenchmarkRebuildMessages(b *testing.B) {
	benchmarkRebuild(b, loadMessages(b))
}

func benchmarkRebuild(b *testing.B, docs []Doc) {
	seg := testSegmenter(b)
	var raw int64
	for _, d := range docs {
		raw += int64(len(d.Title) + len(d.Body))
	}
	b.SetBytes(raw)
	var size int64
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		dir := filepath.Join(b.TempDir(), "index")
		before := latency.CPUTime()
		if err := Rebuild(context.Background(), dir, seg, docSource(docs), nil); err != nil {
			b.Fatal(err)
		}
		cpu += latency.CPUTime() - before
		b.StopTimer()
		x, err := OpenCurrent(dir, seg)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := x.DocCount(); err != nil || n != uint64(len(docs)) {
			b.Fatalf("rebuilt index holds %d documents (%v), want %d", n, err, len(docs))
		}
		if err := x.Close(); err != nil {
			b.Fatal(err)
		}
		if size, err = dirBytes(x.Path()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(cpu.Seconds()*1000/float64(len(docs)*b.N), "cpu-ms/doc")
	b.ReportMetric(float64(size)/float64(raw), "index/raw")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-MB")
}

// peakRSS returns the most memory the process has held, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// dirBytes returns the size of the files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
