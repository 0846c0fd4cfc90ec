package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"jindianzi/portal/store"
	"jindianzi/portal/themes"
	"jindianzi/search"
	"jindianzi/search/classify"
)

// themesEvery is how often serve retrains due theme models and reclusters
// campaigns with new ideas.
const themesEvery = 10 * time.Minute

// campaignJob opens the store and jieba for a command that works on one
// campaign (--campaign SLUG) and returns them with the campaign.
func campaignJob(name string, args []string, stderr io.Writer) (*store.Store, *search.Segmenter, *store.Campaign, error) {
	var cfg config
	var slug string
	fs := newFlags(name, &cfg, stderr)
	fs.StringVar(&slug, "campaign", "", "campaign slug (required)")
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, err
	}
	if slug == "" {
		return nil, nil, nil, fmt.Errorf("%w: --campaign is required", errUsage)
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := openStore(cfg, log, true)
	if err != nil {
		return nil, nil, nil, err
	}
	camp, err := st.CampaignBySlug(context.Background(), slug)
	if err != nil {
		st.Close()
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, nil, fmt.Errorf("找不到征集活动 %q", slug)
		}
		return nil, nil, nil, err
	}
	seg, err := openSegmenter(context.Background(), st, cfg.Data)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, seg, camp, nil
}

// cmdThemesTrain trains a campaign's theme classifier from its confirmed
// labels (or builds its keyword model when there are too few) and stores it.
// A running server picks the model up on its next maintenance pass.
func cmdThemesTrain(args []string, stdout, stderr io.Writer) error {
	st, seg, camp, err := campaignJob("themes train", args, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	m, row, err := themes.Train(context.Background(), st, seg, camp.ID)
	if err != nil {
		if errors.Is(err, themes.ErrNoThemes) {
			return fmt.Errorf("征集活动 %s 没有主题，无法训练", camp.Slug)
		}
		return err
	}
	var met themes.Metrics
	_ = json.Unmarshal([]byte(row.Metrics), &met)
	names := make([]string, 0, len(met.PerTheme))
	for n := range met.PerTheme {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "已确认主题的建议: %d 条\n", row.Labels)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-12s %d\n", n, met.PerTheme[n])
	}
	if m.Kind == "linear" {
		fmt.Fprintf(stdout, "模型: 分类器（NBSVM），%d 个主题，%d 个特征\n", len(m.Classes), met.Features)
		fmt.Fprintf(stdout, "交叉验证: accuracy=%.4f macro_f1=%.4f\n", met.CVAccuracy, met.CVMacroF1)
	} else {
		fmt.Fprintf(stdout, "模型: 主题关键词（标签少于 %d 条时使用），%d 个主题\n", themes.MinLabels, len(m.Classes))
		if met.LabelAccuracy != nil {
			fmt.Fprintf(stdout, "在已确认的建议上: accuracy=%.4f\n", *met.LabelAccuracy)
		}
	}
	fmt.Fprintf(stdout, "用时 %.2f 秒\n", met.Seconds)
	fmt.Fprintf(stdout, "model saved: campaign=%s labels=%d bytes=%d\n", camp.Slug, row.Labels, len(row.Model))
	return nil
}

// cmdClustersBuild clusters a campaign's pending and public ideas into hot
// issues and stores them, keeping moderators' names and pinned ideas.
func cmdClustersBuild(args []string, stdout, stderr io.Writer) error {
	st, seg, camp, err := campaignJob("clusters build", args, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	start := time.Now()
	n, err := themes.BuildClusters(ctx, st, seg, camp.ID)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	top, err := st.Clusters(ctx, camp.ID, 10)
	if err != nil {
		return err
	}
	if len(top) > 0 {
		fmt.Fprintln(stdout, "热点（按热度）:")
	}
	for i, c := range top {
		var kw []string
		_ = json.Unmarshal([]byte(c.Keywords), &kw)
		span := ""
		if c.FirstAt != nil && c.LastAt != nil {
			span = c.FirstAt.In(chinaZone).Format("2006-01-02") + "…" + c.LastAt.In(chinaZone).Format("2006-01-02")
		}
		fmt.Fprintf(stdout, "%2d. #%d %s  size=%d supports=%d score=%.1f %s  keywords=%s\n",
			i+1, c.ID, c.Label, c.Size, c.Supports, c.Score, span, strings.Join(kw, " "))
	}
	fmt.Fprintf(stdout, "clusters saved: campaign=%s clusters=%d seconds=%.2f\n", camp.Slug, n, secs)
	return nil
}

// chinaZone is China Standard Time, for the dates the commands print.
var chinaZone = time.FixedZone("CST", 8*3600)

// maintainThemes keeps the theme models and clusters fresh while serve
// runs: shortly after start and then every interval it installs models
// trained elsewhere (another node, or "jindianzi themes train"), retrains
// campaigns with enough new labels and reclusters campaigns with new ideas.
// It returns when ctx ends.
func maintainThemes(ctx context.Context, st *store.Store, tok themes.Tokenizer, sugg *classify.Suggester, log *slog.Logger, every time.Duration) {
	wait := min(every, time.Minute)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = every
		themesPass(ctx, st, tok, sugg, log)
	}
}

// themesPass is one round of maintainThemes.
func themesPass(ctx context.Context, st *store.Store, tok themes.Tokenizer, sugg *classify.Suggester, log *slog.Logger) {
	failed := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			log.Error(what, "err", err)
		}
	}
	_, err := themes.LoadAll(ctx, st, tok, sugg)
	failed("themes: load models", err)
	trained, err := themes.RetrainIfDue(ctx, st, tok, sugg, themes.DefaultMinNew)
	for _, r := range trained {
		log.Info("themes: model retrained", "campaign", r.Slug, "labels", r.Labels, "kind", r.Kind)
	}
	failed("themes: retrain", err)
	rebuilt, err := themes.RefreshDue(ctx, st, tok)
	for _, r := range rebuilt {
		log.Info("themes: clusters rebuilt", "campaign", r.Slug, "clusters", r.Clusters)
	}
	failed("themes: clusters", err)
}
