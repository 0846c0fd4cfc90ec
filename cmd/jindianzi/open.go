package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"jindianzi/portal/store"
	"jindianzi/search"
)

// openLogged makes the command's logger and opens (and, with migrate,
// migrates) its database: the first steps every database command takes.
func openLogged(cfg config, stderr io.Writer, migrate bool) (*slog.Logger, *store.Store, error) {
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(cfg, log, migrate)
	if err != nil {
		return nil, nil, err
	}
	return log, st, nil
}

// openSegmenter loads the process's jieba with the words admins added to
// the search dictionary (/admin/dictionary), so that every command cuts
// text the way the served index does. Commands call it before they open an
// index: a document or query analysed without the words is cut differently.
func openSegmenter(ctx context.Context, st *store.Store, dataDir string) (*search.Segmenter, error) {
	seg, err := search.OpenSegmenter(dataDir)
	if err != nil {
		return nil, fmt.Errorf("无法加载分词词典: %w", err)
	}
	if _, err := loadDictionary(ctx, st, seg); err != nil {
		return nil, fmt.Errorf("无法加载管理员添加的分词词语: %w", err)
	}
	return seg, nil
}

// loadDictionary adds the stored dictionary words to seg and returns how
// many it did not hold yet: all of them at start, then those added on other
// nodes.
func loadDictionary(ctx context.Context, st *store.Store, seg *search.Segmenter) (int, error) {
	terms, err := st.DictionaryTerms(ctx)
	if err != nil {
		return 0, err
	}
	words := make([]string, 0, len(terms))
	for _, t := range terms {
		words = append(words, t.Term)
	}
	return seg.AddWords(words), nil
}
