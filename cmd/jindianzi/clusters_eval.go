package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"jindianzi/search"
	"jindianzi/search/cluster"
)

// cmdClustersEval clusters the ideas of one or more CSV files (column body;
// id, title, time, likes and label used when present), prints the hottest
// clusters and ends with one summary line: the number of clusters of two or
// more ideas, the label purity of clusters of three or more (NA without
// labels), the share of exact-duplicate body pairs put together, and the
// seconds clustering took. Rows are numbered in file order, since ids repeat
// across files.
func cmdClustersEval(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var files []string
	var threshold float64
	var halfLife time.Duration
	var top int
	fs := newFlags("clusters eval", &cfg, stderr)
	fs.Func("file", "CSV of ideas (repeat to concatenate files)", func(s string) error {
		files = append(files, s)
		return nil
	})
	fs.Float64Var(&threshold, "threshold", cluster.DefaultThreshold, "least average cosine similarity to merge")
	fs.DurationVar(&halfLife, "half-life", cluster.DefaultHalfLife, "recency half-life of the hot-issue score")
	fs.IntVar(&top, "top", 10, "clusters to print")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: --file is required", errUsage)
	}
	var records []cluster.Record
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("无法打开文件: %w", err)
		}
		recs, err := cluster.ReadCSV(f, int64(len(records)))
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i := range recs {
			recs[i].ID = int64(len(records) + i + 1)
		}
		records = append(records, recs...)
	}
	dataDir := cfg.Data
	if _, err := os.Stat(dataDir); err != nil {
		tmp, err := os.MkdirTemp("", "jindianzi-clusters-eval-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	seg, err := search.OpenSegmenter(dataDir)
	if err != nil {
		return err
	}
	items := make([]cluster.Item, len(records))
	refs := map[int64]string{}
	byID := map[int64]cluster.Record{}
	for i, r := range records {
		items[i] = r.Item
		byID[r.ID] = r
		if r.Ref != "" {
			refs[r.ID] = r.Ref
		}
	}
	start := time.Now()
	clusters := cluster.Build(items, cluster.Options{Tokenizer: seg, Threshold: threshold, HalfLife: halfLife})
	secs := time.Since(start).Seconds()

	multi, singles := 0, 0
	for _, c := range clusters {
		if c.Size >= 2 {
			multi++
		} else {
			singles++
		}
	}
	shown := 0
	for _, c := range clusters {
		if c.Size < 2 || shown == top {
			continue
		}
		shown++
		rep := byID[c.Representative]
		title, _, _ := strings.Cut(rep.Text, "\n")
		span := "undated"
		if !c.First.IsZero() {
			span = c.First.Format(time.DateOnly) + "…" + c.Last.Format(time.DateOnly)
		}
		fmt.Fprintf(stdout, "%2d. score=%.1f size=%d supports=%d %s  %s\n", shown, c.Score, c.Size, c.Supports,
			span, strings.Join(c.Keywords, " "))
		fmt.Fprintf(stdout, "    %s\n", shorten(title, 60))
	}
	fmt.Fprintf(stdout, "\n%d ideas: %d clusters of 2 or more, %d single ideas; clustered in %.2f s\n", len(items), multi, singles, secs)
	purity := "NA"
	if p, ok := cluster.Purity(clusters, refs, 3); ok {
		purity = fmt.Sprintf("%.2f", p)
	}
	recall := "NA"
	if r, pairs, ok := cluster.DupPairRecall(clusters, records); ok {
		recall = fmt.Sprintf("%.2f", r)
		fmt.Fprintf(stdout, "%d exact-duplicate body pairs, %.4f of them in one cluster\n", pairs, r)
	}
	fmt.Fprintf(stdout, "clusters=%d purity=%s dup_pair_recall=%s seconds=%d\n", multi, purity, recall, int(math.Ceil(secs)))
	return nil
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
