package ideas

import (
	"context"
	"strings"

	"jindianzi/portal/store"
)

// KeywordSuggester suggests the theme whose seed keywords occur most often in
// the text (title counts double). It is the fallback before a campaign has a
// trained classifier.
type KeywordSuggester struct{}

// Suggest implements ThemeSuggester.
func (KeywordSuggester) Suggest(_ context.Context, _ int64, themes []store.Theme, title, body string) (int64, float64, bool) {
	var best int64
	bestScore, total := 0, 0
	for _, t := range themes {
		score := 0
		for _, k := range append(t.KeywordList(), t.Name) {
			if k == "" {
				continue
			}
			score += 2*strings.Count(title, k) + strings.Count(body, k)
		}
		total += score
		if score > bestScore {
			best, bestScore = t.ID, score
		}
	}
	if bestScore == 0 {
		return 0, 0, false
	}
	return best, float64(bestScore) / float64(total), true
}
