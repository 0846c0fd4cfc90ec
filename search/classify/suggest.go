package classify

import (
	"context"
	"strings"
	"sync"

	"jindianzi/portal/store"
)

// Suggester serves theme suggestions to the portal (it implements
// ideas.ThemeSuggester). Each campaign may have a trained Model, whose labels
// are theme names; a campaign without one gets a keyword model built from
// its themes' names and seed keywords, rebuilt whenever those change.
// Suggester is safe for concurrent use.
type Suggester struct {
	tok Tokenizer

	mu     sync.RWMutex
	models map[int64]*Model
	seeds  map[int64]seeded
}

// seeded is a cached keyword model and the themes it was built from.
type seeded struct {
	key   string
	model *Model
}

// NewSuggester returns a Suggester whose models cut words with tok.
func NewSuggester(tok Tokenizer) *Suggester {
	return &Suggester{tok: tok, models: map[int64]*Model{}, seeds: map[int64]seeded{}}
}

// Set installs the trained model of a campaign; nil removes it, so the
// campaign falls back to its keyword model. The Suggester keeps its own
// shallow copy with its tokenizer, so m itself is left as it was.
func (s *Suggester) Set(campaignID int64, m *Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == nil {
		delete(s.models, campaignID)
		return
	}
	own := *m
	own.tok = s.tok
	s.models[campaignID] = &own
}

// Model returns the trained model of a campaign (the Suggester's copy), or
// nil.
func (s *Suggester) Model(campaignID int64) *Model {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.models[campaignID]
}

// Suggest proposes one of themes for an idea. The model's labels are
// matched to themes by name; labels of themes the campaign no longer has
// are dropped and the remaining confidences renormalised. It declines (ok
// false) when the campaign has no themes, nothing matches, or the top
// confidence is below UnsureBelow.
func (s *Suggester) Suggest(_ context.Context, campaignID int64, themes []store.Theme, title, body string) (themeID int64, confidence float64, ok bool) {
	if len(themes) == 0 {
		return 0, 0, false
	}
	byName := make(map[string]int64, len(themes))
	for _, t := range themes {
		if _, dup := byName[t.Name]; !dup {
			byName[t.Name] = t.ID
		}
	}
	text := Text(title, body)
	if m := s.Model(campaignID); m != nil {
		if id, conf, ok, matched := pick(m.Predict(text), byName); matched {
			return id, conf, ok
		}
	}
	id, conf, ok, _ := pick(s.seedModel(campaignID, themes).Predict(text), byName)
	return id, conf, ok
}

// pick keeps the labels that name a theme, renormalises their confidences
// and returns the best; matched is false when no label names a theme.
func pick(ranked []Scored, byName map[string]int64) (id int64, conf float64, ok, matched bool) {
	var kept []Scored
	var sum float64
	for _, r := range ranked {
		if _, found := byName[r.Label]; found {
			kept = append(kept, r)
			sum += r.Score
		}
	}
	if len(kept) == 0 || sum <= 0 {
		return 0, 0, false, len(kept) > 0
	}
	for i := range kept {
		kept[i].Score /= sum
	}
	if Unsure(kept) {
		return 0, kept[0].Score, false, true
	}
	return byName[kept[0].Label], kept[0].Score, true, true
}

// seedModel returns the campaign's keyword model, rebuilding it when the
// themes' names or keywords changed since it was built.
func (s *Suggester) seedModel(campaignID int64, themes []store.Theme) *Model {
	seeds := make([]ThemeSeed, len(themes))
	var key strings.Builder
	for i := range themes {
		seeds[i] = ThemeSeed{Name: themes[i].Name, Keywords: themes[i].KeywordList()}
		key.WriteString(themes[i].Name)
		key.WriteByte(0)
		key.WriteString(themes[i].Keywords)
		key.WriteByte(0)
	}
	s.mu.RLock()
	c, ok := s.seeds[campaignID]
	s.mu.RUnlock()
	if ok && c.key == key.String() {
		return c.model
	}
	m := SeedModel(seeds)
	s.mu.Lock()
	s.seeds[campaignID] = seeded{key: key.String(), model: m}
	s.mu.Unlock()
	return m
}
