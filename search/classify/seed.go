package classify

import (
	"math"
	"strings"
)

// ThemeSeed is a theme of a campaign that has no labelled ideas yet: its
// name and the seed keywords an administrator gave it.
type ThemeSeed struct {
	// Name is the theme's name and the label the model predicts.
	Name string
	// Keywords are words or phrases that suggest the theme.
	Keywords []string
}

// Tuning of the keyword model, measured in MODEL.md on the labelled
// messages with the category tree's names as keywords.
const (
	// SeedTemperature scales a keyword model's margins into the softmax;
	// it is the temperature that minimises log loss there.
	SeedTemperature = 1.6
	// seedBigramWeight is how much a keyword's character bigrams count
	// against the keyword itself. Keywords are often phrases
	// ("园林绿化环卫") that texts rarely repeat verbatim; their bigrams
	// ("绿化", "环卫") match. With them, accuracy went from 0.39 to 0.73.
	seedBigramWeight = 0.3
)

// SeedModel builds a keyword model for a new campaign. A theme scores
// for each of its keywords (its name is one) found in a text, and more
// weakly for each of the keywords' character bigrams found; repetitions count
// sublinearly and a keyword or bigram shared by several themes is divided
// among them. Themes without a name are left out; a theme without keywords
// still competes on its name. A text that matches nothing gets equal
// confidences, which Unsure rejects. It never fails: with no usable theme
// the model has no classes and Predict returns nil.
func SeedModel(themes []ThemeSeed) *Model {
	m := &Model{Version: ModelVersion, Kind: kindKeywords, Temperature: SeedTemperature}
	for _, t := range themes {
		name := strings.TrimSpace(t.Name)
		if name == "" {
			continue
		}
		var kws []string
		seen := map[string]bool{}
		for _, k := range append([]string{name}, t.Keywords...) {
			k = normaliseString(k)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			kws = append(kws, k)
		}
		m.Classes = append(m.Classes, name)
		m.Keywords = append(m.Keywords, kws)
	}
	m.prepareKeywords()
	return m
}

func normaliseString(s string) string {
	return string(normalise(s, nil))
}

// seedIndex is a keyword model's keywords and bigrams with their weights
// per class, derived from Model.Keywords.
type seedIndex struct {
	patterns []string
	weights  [][]classWeight // per pattern
}

type classWeight struct {
	class  int
	weight float64
}

// prepareKeywords derives the seed index from m.Keywords.
func (m *Model) prepareKeywords() {
	type key struct {
		p      string
		bigram bool
	}
	classes := map[key][]int{}
	var order []key
	add := func(k key, c int) {
		cs := classes[k]
		if len(cs) > 0 && cs[len(cs)-1] == c {
			return
		}
		if cs == nil {
			order = append(order, k)
		}
		classes[k] = append(cs, c)
	}
	for c, kws := range m.Keywords {
		for _, k := range kws {
			add(key{k, false}, c)
		}
		seen := map[string]bool{}
		for _, k := range kws {
			rs := []rune(k)
			for i := 0; i+2 <= len(rs); i++ {
				g := string(rs[i : i+2])
				if rs[i] == ' ' || rs[i+1] == ' ' || seen[g] {
					continue
				}
				seen[g] = true
				add(key{g, true}, c)
			}
		}
	}
	idx := &seedIndex{}
	for _, k := range order {
		cs := classes[k]
		w := 1 / float64(len(cs))
		if k.bigram {
			w *= seedBigramWeight
		}
		cw := make([]classWeight, len(cs))
		for i, c := range cs {
			cw[i] = classWeight{c, w}
		}
		idx.patterns = append(idx.patterns, k.p)
		idx.weights = append(idx.weights, cw)
	}
	m.seed = idx
}

// keywordMargins scores each class of a keyword model: Σ over its patterns
// found in text of weight × (1 + ln count).
func (m *Model) keywordMargins(text string, out []float64) {
	for c := range out {
		out[c] = 0
	}
	if m.seed == nil {
		return
	}
	norm := normaliseString(text)
	for i, p := range m.seed.patterns {
		n := strings.Count(norm, p)
		if n == 0 {
			continue
		}
		tf := 1 + math.Log(float64(n))
		for _, cw := range m.seed.weights[i] {
			if cw.class < len(out) {
				out[cw.class] += cw.weight * tf
			}
		}
	}
}
