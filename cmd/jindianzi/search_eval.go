package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"jindianzi/search"
)

// cmdSearchEval runs "jindianzi search eval --file F.csv": it measures how
// well search finds each message of a CSV (columns body and title) by its
// title, for our analysis and for Bleve's cjk baseline, and prints one line
// per analyzer, ours last:
//
//	analyzer=jindianzi queries=N mrr@10=0.xxxx recall@10=0.xxxx
//
// With --drafts N it measures the similar-ideas look-up instead: the first
// N characters of each row that shares its title with a row of another
// body, looked up as a draft, should find one of those rows among the
// first five (search.EvalOptions.Drafts):
//
//	analyzer=jindianzi drafts=N mrr@5=0.xxxx recall@5=0.xxxx
//
// Progress goes to stderr. The throwaway indexes live in a temporary
// directory; jieba's dictionaries are installed under --data.
func cmdSearchEval(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var file string
	var keywords, drafts int
	fs := newFlags("search eval", &cfg, stderr)
	fs.StringVar(&file, "file", "", "CSV file with a header naming the columns body and title (required)")
	fs.IntVar(&keywords, "keywords", 0, "query with each title's N most telling words instead of the whole title (0: the title)")
	fs.IntVar(&drafts, "drafts", 0, "measure the similar-ideas look-up with drafts of N characters instead of search (0: search)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("%w: --file is required", errUsage)
	}
	if keywords < 0 || drafts < 0 {
		return fmt.Errorf("%w: --keywords and --drafts must be 0 or more", errUsage)
	}
	if keywords > 0 && drafts > 0 {
		return fmt.Errorf("%w: --keywords and --drafts are two measurements; give one", errUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("无法打开文件: %w", err)
	}
	defer f.Close()
	if err := prepareDataDir(cfg.Data); err != nil {
		return err
	}
	seg, err := search.OpenSegmenter(cfg.Data)
	if err != nil {
		return fmt.Errorf("无法加载分词词典: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := search.Eval(ctx, f, stdout, search.EvalOptions{Segmenter: seg, Progress: stderr, Keywords: keywords, Drafts: drafts}); err != nil {
		return fmt.Errorf("评测失败: %w", err)
	}
	return nil
}
