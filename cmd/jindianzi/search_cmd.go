package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// cmdReindex rebuilds the search index from the database into a new
// generation and makes it current; a running server swaps it in within
// seconds and keeps answering from the old one until then.
func cmdReindex(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var quiet bool
	fs := newFlags("reindex", &cfg, stderr)
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(cfg, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	seg, err := openSegmenter(ctx, st, cfg.Data)
	if err != nil {
		return err
	}
	// The bar counts documents, as Rebuild reports them: ideas and posts.
	loader := &searchdocs.Loader{Store: st}
	total, err := loader.Count(ctx)
	if err != nil {
		return err
	}
	var progress func(int)
	var bar *progressbar.ProgressBar
	if !quiet {
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("重建索引"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
		progress = func(n int) { _ = bar.Set(n) }
	}
	defer bulkGC()()
	start := time.Now()
	docs := 0
	err = search.Rebuild(ctx, filepath.Join(cfg.Data, "index"), seg, loader, func(n int) {
		docs = n
		if progress != nil {
			progress(n)
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("重建索引失败: %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "索引已重建：%d 个文档，%.1f 秒（%.0f 文档/秒）；运行中的服务将在数秒内切换到新索引\n", docs, secs, float64(docs)/secs)
	return nil
}

// cmdSearch prints the top hits for a query, for operators.
func cmdSearch(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var campaign string
	var limit int
	fs := newFlags("search", &cfg, stderr)
	fs.StringVar(&campaign, "campaign", "", "only this campaign (slug)")
	fs.IntVar(&limit, "n", 10, "how many hits")
	// The query may come before or after the flags.
	var words []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		words, args = append(words, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	words = append(words, fs.Args()...)
	q := strings.Join(words, " ")
	if strings.TrimSpace(q) == "" {
		return fmt.Errorf("%w: usage: jindianzi search QUERY [--campaign SLUG]", errUsage)
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(cfg, log, false)
	if err != nil {
		return err
	}
	defer st.Close()
	seg, err := openSegmenter(context.Background(), st, cfg.Data)
	if err != nil {
		return err
	}
	idx, err := search.OpenCurrentReadOnly(filepath.Join(cfg.Data, "index"), seg)
	if err != nil {
		return fmt.Errorf("无法打开搜索索引（服务运行时索引被占用，请改用 /api/v1/search）: %w", err)
	}
	defer idx.Close()
	ctx := context.Background()
	req := search.Request{Text: q, Campaign: campaign, PerPage: limit}
	total, lines, err := searchLines(ctx, st, idx, req)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		// As the portal does: phrases that find nothing are tried as words.
		if loose, had := search.WithoutQuotes(q); had {
			req.Text = loose
			looseTotal, looseLines, err := searchLines(ctx, st, idx, req)
			if err != nil {
				return err
			}
			if len(looseLines) > 0 {
				fmt.Fprintf(stdout, "没有与引号内短语完全一致的结果，以下是不加引号搜索 %s 的结果\n", loose)
				total, lines = looseTotal, looseLines
			}
		}
	}
	fmt.Fprintf(stdout, "共 %d 条结果\n", total)
	for i, line := range lines {
		fmt.Fprintf(stdout, "%2d. %s\n", i+1, line)
	}
	return nil
}

// searchLines runs req and returns the index's total and a line for each
// hit (id, score, status, title) whose title or body holds the query's
// phrases (search.HoldsPhrases, as the portal checks them).
func searchLines(ctx context.Context, st *store.Store, idx *search.Index, req search.Request) (uint64, []string, error) {
	res, err := idx.Search(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	phrases := search.ParseQuery(req.Text).Phrases
	var lines []string
	for _, hit := range res.Hits {
		entity, id, err := searchdocs.ParseID(hit.ID)
		if err != nil {
			continue
		}
		// Phrases are checked in the texts the index holds (the masked
		// copies); operators see the titles as sent.
		title, status, indexed := "", "", search.Doc{}
		if entity == searchdocs.EntityIdea {
			if idea, err := st.IdeaByID(ctx, id); err == nil {
				title, status = idea.Title, idea.Status.Label()
				indexed = searchdocs.IdeaDoc(idea, "", "")
			}
		} else if p, err := st.DebatePostByID(ctx, id); err == nil {
			body := []rune(p.BodyMasked)
			title, status = "[讨论] "+string(body[:min(30, len(body))]), p.Status.Label()
			if d, err := st.DebateByID(ctx, p.DebateID); err == nil {
				indexed = searchdocs.PostDoc(p, d)
			}
		}
		if len(phrases) > 0 && !search.HoldsPhrases(indexed.Title, indexed.Body, phrases) {
			continue
		}
		lines = append(lines, fmt.Sprintf("%-10s %6.3f  %s  %s", hit.ID, hit.Score, status, title))
	}
	return res.Total, lines, nil
}

// bulkMemoryLimit is bulkGC's soft memory limit: 1.5 GiB.
const bulkMemoryLimit = 3 << 29

// bulkGC lets the garbage collector run less during a rebuild, which a
// command alone in its process can afford: GOGC 400 under a soft limit of
// 1.5 GiB (the collector works harder as the heap nears it), unless the
// operator set GOGC or GOMEMLIMIT. TestServeScale measures it on 100,210
// ideas from SQLite: 131 → 119–124 CPU-seconds, 1,333 → 1,385–1,430
// docs/s, peak memory 1.41 → 1.87–1.89 GB (search/ANALYSIS.md). It returns
// the function that puts the previous settings back.
func bulkGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(bulkMemoryLimit)
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	}
}
