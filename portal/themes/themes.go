// Package themes runs the jobs that make sense of a campaign's ideas: it
// trains and stores each campaign's theme classifier and keeps the serving
// Suggester up to date (Train, LoadAll, RetrainIfDue), and it clusters a
// campaign's ideas into hot issues for moderators and the public pages
// (BuildClusters, RefreshDue). The functions are plain calls on the store,
// shared by the command line and the background loop of serve.
package themes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"jindianzi/portal/store"
	"jindianzi/search/classify"
)

// MinLabels is how many confirmed labels a campaign needs before a trained
// classifier replaces its keyword model. MODEL.md measured a keyword model
// seeded from good theme keywords at 0.73 accuracy; a trained model reaches
// 0.71 at 100 labels and 0.81 at 300, so the break-even lies at about
// 150–200 labels.
const MinLabels = 150

// DefaultMinNew is how many new labels make a campaign's model due for
// retraining (RetrainIfDue).
const DefaultMinNew = 50

// kindLinear is classify.Model.Kind of a trained model.
const kindLinear = "linear"

// ErrNoThemes means a campaign has no themes, so there is nothing to
// suggest and no model to train.
var ErrNoThemes = errors.New("themes: campaign has no themes")

// Metrics is the JSON stored with a model (store.ThemeModel.Metrics).
type Metrics struct {
	// Kind is "linear" for a trained model, "keywords" for a keyword model.
	Kind string `json:"kind"`
	// Labels is how many confirmed labels the campaign had; a linear model
	// was trained on them.
	Labels int `json:"labels"`
	// PerTheme counts the labels of each theme.
	PerTheme map[string]int `json:"per_theme"`
	// Classes are the model's themes.
	Classes []string `json:"classes"`
	// Features is the size of a linear model's vocabulary.
	Features int `json:"features,omitempty"`
	// CVAccuracy and CVMacroF1 come from the 3-fold cross-validation that
	// calibrates a linear model's confidences.
	CVAccuracy float64 `json:"cv_accuracy,omitempty"`
	CVMacroF1  float64 `json:"cv_macro_f1,omitempty"`
	// LabelAccuracy is a keyword model's accuracy on the labels there are
	// (absent when there are none).
	LabelAccuracy *float64 `json:"label_accuracy,omitempty"`
	// Seconds is how long training took.
	Seconds float64 `json:"seconds"`
	// Bytes is the size of the stored model.
	Bytes int `json:"bytes"`
}

// Train builds a campaign's theme model and stores it. With at least
// MinLabels confirmed labels in two or more themes it trains a classifier on
// them (title and body of each idea); otherwise it builds the keyword model
// from the themes' names and seed keywords. It returns the model, ready to
// serve, and the stored row.
func Train(ctx context.Context, st *store.Store, tok Tokenizer, campaignID int64) (*classify.Model, store.ThemeModel, error) {
	start := time.Now()
	labeled, err := st.LabeledIdeas(ctx, campaignID)
	if err != nil {
		return nil, store.ThemeModel{}, err
	}
	met := Metrics{Labels: len(labeled), PerTheme: map[string]int{}}
	examples := make([]classify.Example, 0, len(labeled))
	for _, l := range labeled {
		met.PerTheme[l.Theme]++
		examples = append(examples, classify.Example{Text: classify.Text(l.Title, l.Body), Label: l.Theme})
	}
	var m *classify.Model
	if len(labeled) >= MinLabels && len(met.PerTheme) >= 2 {
		m, err = classify.Train(examples, classify.Options{Tokenizer: tok})
		if err != nil {
			return nil, store.ThemeModel{}, fmt.Errorf("themes: train campaign %d: %w", campaignID, err)
		}
		met.Features, met.CVAccuracy, met.CVMacroF1 = m.Metrics.Features, m.Metrics.CVAccuracy, m.Metrics.CVMacroF1
	} else {
		ts, err := st.Themes(ctx, campaignID)
		if err != nil {
			return nil, store.ThemeModel{}, err
		}
		seeds := make([]classify.ThemeSeed, len(ts))
		for i := range ts {
			seeds[i] = classify.ThemeSeed{Name: ts[i].Name, Keywords: ts[i].KeywordList()}
		}
		m = classify.SeedModel(seeds)
		if len(m.Classes) == 0 {
			return nil, store.ThemeModel{}, fmt.Errorf("themes: campaign %d: %w", campaignID, ErrNoThemes)
		}
		if len(examples) > 0 {
			conf, _ := classify.Evaluate(m, examples)
			acc := math.Round(conf.Accuracy()*10000) / 10000
			met.LabelAccuracy = &acc
		}
	}
	m.SetTokenizer(tok)
	met.Kind, met.Classes = m.Kind, m.Classes
	blob, err := m.MarshalBinary()
	if err != nil {
		return nil, store.ThemeModel{}, fmt.Errorf("themes: encode model of campaign %d: %w", campaignID, err)
	}
	met.Bytes = len(blob)
	met.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	mj, err := json.Marshal(met)
	if err != nil {
		return nil, store.ThemeModel{}, err
	}
	row := store.ThemeModel{CampaignID: campaignID, Version: classify.ModelVersion, Model: blob,
		Metrics: string(mj), Labels: len(labeled), CreatedAt: time.Now().UTC()}
	if err := st.SaveThemeModel(ctx, &row); err != nil {
		return nil, store.ThemeModel{}, err
	}
	return m, row, nil
}

// Install puts a campaign's model into the Suggester. A keyword model is
// not installed: the Suggester builds its own from the campaign's current
// themes and rebuilds it when an administrator edits them, so a stored
// keyword model would only go stale.
func Install(sugg *classify.Suggester, campaignID int64, m *classify.Model) {
	if m == nil || m.Kind != kindLinear {
		sugg.Set(campaignID, nil)
		return
	}
	sugg.Set(campaignID, m)
}

// decode reads a stored model; it fails for a model this build cannot read
// (another classify.ModelVersion), which must be retrained.
func decode(row store.ThemeModel, tok Tokenizer) (*classify.Model, error) {
	var m classify.Model
	m.SetTokenizer(tok)
	if err := m.UnmarshalBinary(row.Model); err != nil {
		return nil, fmt.Errorf("themes: model %d of campaign %d: %w", row.ID, row.CampaignID, err)
	}
	return &m, nil
}

// LoadAll installs every campaign's newest stored model into sugg and
// returns how many it installed. A model this build cannot read (trained
// with another classify.ModelVersion) is skipped: its campaign keeps the
// keyword model until RetrainIfDue replaces it. Only a database failure is
// an error.
func LoadAll(ctx context.Context, st *store.Store, tok Tokenizer, sugg *classify.Suggester) (int, error) {
	rows, err := st.LatestThemeModels(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		m, err := decode(row, tok)
		if err != nil {
			continue
		}
		Install(sugg, row.CampaignID, m)
		n++
	}
	return n, nil
}

// Retrained reports one model RetrainIfDue trained.
type Retrained struct {
	CampaignID int64
	Slug       string
	Labels     int
	Kind       string
}

// RetrainIfDue retrains the models of campaigns whose confirmed labels grew
// by at least minNew (DefaultMinNew when minNew ≤ 0) since their stored
// model was trained, or whose stored model this build cannot read, and
// installs the new models into sugg. A campaign without a stored model is
// due once it has minNew labels. Failures of one campaign do not stop the
// others; they are returned joined.
func RetrainIfDue(ctx context.Context, st *store.Store, tok Tokenizer, sugg *classify.Suggester, minNew int) ([]Retrained, error) {
	if minNew <= 0 {
		minNew = DefaultMinNew
	}
	camps, err := allCampaigns(ctx, st)
	if err != nil {
		return nil, err
	}
	var done []Retrained
	var errs []error
	for _, c := range camps {
		if ctx.Err() != nil {
			break
		}
		due, err := retrainDue(ctx, st, tok, c.ID, minNew)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !due {
			continue
		}
		m, row, err := Train(ctx, st, tok, c.ID)
		if errors.Is(err, ErrNoThemes) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		Install(sugg, c.ID, m)
		done = append(done, Retrained{CampaignID: c.ID, Slug: c.Slug, Labels: row.Labels, Kind: m.Kind})
	}
	return done, errors.Join(errs...)
}

// retrainDue reports whether a campaign's model should be retrained.
func retrainDue(ctx context.Context, st *store.Store, tok Tokenizer, campaignID int64, minNew int) (bool, error) {
	labeled, err := st.LabeledIdeas(ctx, campaignID)
	if err != nil {
		return false, err
	}
	row, err := st.LatestThemeModel(ctx, campaignID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return len(labeled) >= minNew, nil
	case err != nil:
		return false, err
	}
	if row.Version != classify.ModelVersion {
		return true, nil
	}
	if _, err := decode(*row, tok); err != nil {
		return true, nil
	}
	return len(labeled)-row.Labels >= minNew, nil
}

// allCampaigns lists every campaign, drafts included.
func allCampaigns(ctx context.Context, st *store.Store) ([]store.Campaign, error) {
	var out []store.Campaign
	for page := 1; ; page++ {
		cs, total, err := st.Campaigns(ctx, false, store.Page{Number: page, PerPage: store.MaxPerPage})
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if len(cs) == 0 || int64(len(out)) >= total {
			return out, nil
		}
	}
}
