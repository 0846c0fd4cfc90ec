package main

import (
	"context"
	"fmt"
	"path/filepath"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/themes"
	"jindianzi/portal/wordlist"
	"jindianzi/search"
	"jindianzi/search/classify"
)

// parts are the long-lived pieces every content command shares.
type parts struct {
	seg      *search.Segmenter
	pipeline *moderation.Pipeline
	words    *wordlist.List
	files    *attachment.Dir
	ideas    *ideas.Service
	// suggester serves theme suggestions from the campaigns' stored models.
	suggester *classify.Suggester
}

// wire loads jieba (the one instance, with the words admins added to the
// search dictionary), the moderation pipeline with the stored word list and
// campaigns' duplicate fingerprints, the theme suggester with every
// campaign's stored model, and the idea service.
func wire(ctx context.Context, st *store.Store, dataDir string) (*parts, error) {
	seg, err := openSegmenter(ctx, st, dataDir)
	if err != nil {
		return nil, err
	}
	reg, err := moderation.NewRegistry(nil)
	if err != nil {
		return nil, err
	}
	words := &wordlist.List{Store: st, Registry: reg}
	if err := words.Sync(ctx); err != nil {
		return nil, fmt.Errorf("无法加载敏感词表: %w", err)
	}
	dups := moderation.NewDupIndexes(moderation.DefaultDupDistance, func(ctx context.Context, campaignID int64) ([]moderation.DupRow, error) {
		fps, err := st.Fingerprints(ctx, campaignID)
		if err != nil {
			return nil, err
		}
		rows := make([]moderation.DupRow, len(fps))
		for i, f := range fps {
			rows[i] = moderation.DupRow{IdeaID: f.IdeaID, ContentHash: f.ContentHash, Simhash: uint64(f.Simhash)}
		}
		return rows, nil
	})
	pipe, err := moderation.NewPipeline(moderation.Config{Words: reg, Tokenizer: seg, Dups: dups})
	if err != nil {
		return nil, err
	}
	files, err := attachment.NewDir(filepath.Join(dataDir, "attachments"))
	if err != nil {
		return nil, fmt.Errorf("无法创建附件目录: %w", err)
	}
	sugg := classify.NewSuggester(seg)
	if _, err := themes.LoadAll(ctx, st, seg, sugg); err != nil {
		return nil, fmt.Errorf("无法加载主题模型: %w", err)
	}
	return &parts{seg: seg, pipeline: pipe, words: words, files: files, suggester: sugg,
		ideas: &ideas.Service{Store: st, Moderation: pipe, Themes: sugg, Attachments: files}}, nil
}
