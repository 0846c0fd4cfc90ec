package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"jindianzi/moderation"
	"jindianzi/search"
)

// cmdModerationEval runs "jindianzi moderation eval": the moderation
// pipeline's evaluation (duplicate precision and recall, false holds of real
// messages, checks per second) on a CSV with a body column. It needs no
// database; jieba's dictionaries are installed under --data.
func cmdModerationEval(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var file, words string
	var seed uint64
	var maxDist, workers int
	var dur time.Duration
	var verbose bool
	fs := newFlags("moderation eval", &cfg, stderr)
	fs.StringVar(&file, "file", "", "CSV file with a body column (title optional) (required)")
	fs.StringVar(&words, "words", "", "word list to evaluate, TSV word<TAB>category<TAB>action (default: the starter list)")
	fs.Uint64Var(&seed, "seed", 1, "seed of the perturbations that make near-duplicates")
	fs.IntVar(&maxDist, "max-distance", moderation.DefaultDupDistance, "largest simhash Hamming distance reported as a duplicate")
	fs.IntVar(&workers, "workers", 0, "goroutines of the speed pass (default: GOMAXPROCS)")
	fs.DurationVar(&dur, "duration", 3*time.Second, "minimum length of the speed pass")
	fs.BoolVar(&verbose, "verbose", false, "print held messages and wrong duplicate pairs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("%w: --file is required", errUsage)
	}
	opts := moderation.EvalOptions{Seed: seed, MaxDistance: maxDist, Workers: workers, MinDuration: dur, Verbose: verbose}
	if words != "" {
		wf, err := os.Open(words)
		if err != nil {
			return fmt.Errorf("无法打开词表: %w", err)
		}
		list, err := moderation.ParseWordList(wf)
		wf.Close()
		if err != nil {
			return err
		}
		if opts.Words, err = moderation.NewRegistry(list); err != nil {
			return err
		}
	}
	if err := prepareDataDir(cfg.Data); err != nil {
		return err
	}
	seg, err := search.OpenSegmenter(cfg.Data)
	if err != nil {
		return fmt.Errorf("无法加载分词词典: %w", err)
	}
	opts.Tokenizer = seg
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("无法打开文件: %w", err)
	}
	defer f.Close()
	_, err = moderation.Eval(f, stdout, opts)
	return err
}
