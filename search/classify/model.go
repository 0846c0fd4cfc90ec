// Package classify suggests a theme for an idea: a linear text classifier
// trained on moderator-confirmed labels (Train), a keyword model for a
// campaign that has none yet (SeedModel), and Suggester, which serves either
// to the portal. MODEL.md records the measurements behind the defaults.
package classify

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ModelVersion is the version of the feature extraction and the stored form.
// A stored model with another version is refused by UnmarshalBinary: it
// must be retrained, since its features would no longer mean the same.
const ModelVersion = 1

// UnsureBelow is the confidence under which a suggestion is withheld (see
// Unsure). Measured by 5-fold cross-validation on the 2,947 labelled
// messages (MODEL.md): at 0.5, 94.5% of ideas get a suggestion and 92.1% of
// those are right (90.2% when every idea gets one); the 5.5% withheld were
// right about 60% of the time.
const UnsureBelow = 0.5

// Example is one labelled text for training.
type Example struct {
	// Text is what the model reads (see Text for titles).
	Text string
	// Label is the theme's name.
	Label string
}

// Scored is a label with the model's confidence in it, in [0, 1]; the
// confidences of one prediction sum to 1.
type Scored struct {
	// Label is a class of the model.
	Label string `json:"label"`
	// Score is the confidence in it.
	Score float64 `json:"score"`
}

// Unsure reports whether a ranked prediction is too weak to suggest: there
// is none, its top confidence is below UnsureBelow, or the top two tie.
func Unsure(ranked []Scored) bool {
	return len(ranked) == 0 || ranked[0].Score < UnsureBelow ||
		(len(ranked) > 1 && ranked[0].Score == ranked[1].Score)
}

// Text joins an idea's title and body into the text a model reads. Titles
// are short and dense, so a model trained on titled texts still works on a
// body alone (MODEL.md measures both).
func Text(title, body string) string {
	if title == "" {
		return body
	}
	return title + "\n" + body
}

// Options tunes Train. The zero value is the measured default.
type Options struct {
	// Tokenizer cuts words for Features.Words; without one the word
	// block stays empty.
	Tokenizer Tokenizer
	// Features; zero means DefaultFeatures.
	Features Features
	// Algorithm is AlgoNBSVM (default), AlgoSVM, AlgoLogReg or AlgoCNB.
	Algorithm string
	// C is the inverse regularisation strength (default 1 for the SVMs,
	// 10 for logistic regression).
	C float64
	// NBAlpha smooths AlgoNBSVM's log-count ratios (default 0.03).
	NBAlpha float64
	// Unbalanced turns off class weighting in the SVMs.
	Unbalanced bool
	// Epochs bounds the passes over the data (SVM default 200, stopping
	// earlier at tolerance; logistic regression default 15).
	Epochs int
	// CalibrationFolds is how many folds of cross-validation inside Train
	// fit the softmax temperature; 0 means 3, a negative value skips it
	// (the temperature is then DefaultTemperature).
	CalibrationFolds int
	// Seed fixes shuffling, so equal inputs give equal models.
	Seed uint64
	// Workers is how many goroutines train classes in parallel (default 2).
	Workers int

	fullPrecision bool // skip int8 quantisation (to measure its cost)
}

func (o Options) maxIter() int {
	if o.Epochs > 0 {
		return o.Epochs
	}
	return 200
}

func (o Options) tol() float64 { return 0.1 }

func (o Options) nbAlpha() float64 {
	if o.NBAlpha > 0 {
		return o.NBAlpha
	}
	return 0.03
}

// DefaultTemperature scales margins into the softmax when calibration is
// skipped; calibration finds about 4.2 for the default model on the
// labelled messages.
const DefaultTemperature = 4

// Model is a trained theme classifier, or a keyword model from SeedModel.
// It is immutable after Train or UnmarshalBinary (except SetTokenizer), so
// one Model may serve concurrent Predict calls.
type Model struct {
	// Version is ModelVersion at training time.
	Version int `json:"version"`
	// Kind is "linear" for Train's models and "keywords" for SeedModel's.
	Kind string `json:"kind"`
	// Classes are the labels, in the order of the model's weights.
	Classes []string `json:"classes"`
	// Algorithm is the algorithm the model was trained with.
	Algorithm string `json:"algorithm,omitempty"`
	// Features are what the model reads from a text.
	Features Features `json:"features"`
	// Temperature scales margins before the softmax that gives confidences.
	Temperature float64 `json:"temperature"`
	// Metrics describe the training run.
	Metrics TrainMetrics `json:"metrics"`
	// Keywords are a keyword model's keywords per class (Kind "keywords").
	Keywords [][]string `json:"keywords,omitempty"`

	vocab *vocab
	lin   *linear
	seed  *seedIndex
	tok   Tokenizer
}

// TrainMetrics describe how a model was trained and how well it did in the
// cross-validation that calibrated it.
type TrainMetrics struct {
	// Examples is how many labelled texts the model was trained on.
	Examples int `json:"examples"`
	// Features is the size of its vocabulary.
	Features int `json:"features"`
	// TrainedAt is when training ended (UTC, whole seconds).
	TrainedAt time.Time `json:"trained_at"`
	// Seconds is how long Train took, calibration included.
	Seconds float64 `json:"seconds"`
	// CVAccuracy and CVMacroF1 are measured on the calibration folds (0
	// when calibration was skipped).
	CVAccuracy float64 `json:"cv_accuracy,omitempty"`
	CVMacroF1  float64 `json:"cv_macro_f1,omitempty"`
}

// Errors from Train.
var (
	ErrTooFewExamples = errors.New("classify: need at least two labelled examples")
	ErrOneClass       = errors.New("classify: need at least two labels")
)

// Train fits a model to examples. Examples with an empty label or text are
// skipped. Equal inputs and options give equal models.
func Train(examples []Example, o Options) (*Model, error) {
	start := time.Now()
	if o.Features == (Features{}) {
		o.Features = DefaultFeatures
	}
	if o.Algorithm == "" {
		o.Algorithm = AlgoNBSVM
	}
	train, ok := trainers[o.Algorithm]
	if !ok {
		return nil, fmt.Errorf("classify: unknown algorithm %q", o.Algorithm)
	}
	classes, ys, texts := indexLabels(examples)
	if len(texts) < 2 {
		return nil, ErrTooFewExamples
	}
	if len(classes) < 2 {
		return nil, ErrOneClass
	}
	ex := extractor{f: o.Features, tok: o.Tokenizer}
	docs := extractAll(ex, texts, o.Workers)

	m := &Model{
		Version: ModelVersion, Kind: kindLinear, Classes: classes,
		Algorithm: o.Algorithm, Features: o.Features, Temperature: DefaultTemperature,
		tok: o.Tokenizer,
	}
	folds := o.CalibrationFolds
	if folds == 0 {
		folds = 3
	}
	if folds > 1 && len(texts) >= 2*folds {
		margins := make([][]float64, len(docs))
		for _, test := range StratifiedFolds(ys, folds, o.Seed) {
			fit := fitFold(docs, ys, test, len(classes), train, o)
			for _, i := range test {
				margins[i] = make([]float64, len(classes))
				fit.lin.margins(fit.vocab.transform(docs[i]), margins[i])
			}
		}
		m.Temperature = fitTemperature(margins, ys)
		conf := NewConfusion(classes)
		for i, mg := range margins {
			conf.Add(ys[i], argmax(mg))
		}
		m.Metrics.CVAccuracy = round4(conf.Accuracy())
		m.Metrics.CVMacroF1 = round4(conf.MacroF1())
	}
	m.vocab = fitVocab(docs, o.Features)
	xs := make([]vector, len(docs))
	for i, d := range docs {
		xs[i] = m.vocab.transform(d)
	}
	m.lin = train(xs, ys, m.vocab.size, len(classes), o)
	if !o.fullPrecision {
		m.lin.quantise()
	}
	m.Metrics.Examples = len(texts)
	m.Metrics.Features = m.vocab.size
	m.Metrics.TrainedAt = time.Now().UTC().Truncate(time.Second)
	m.Metrics.Seconds = math.Round(time.Since(start).Seconds()*100) / 100
	return m, nil
}

const (
	kindLinear   = "linear"
	kindKeywords = "keywords"
)

type fitted struct {
	vocab *vocab
	lin   *linear
}

// fitFold trains on every doc not in test.
func fitFold(docs [][numBlocks][]term, ys []int, test []int, k int, train trainer, o Options) fitted {
	skip := make([]bool, len(docs))
	for _, i := range test {
		skip[i] = true
	}
	var trDocs [][numBlocks][]term
	var trYs []int
	for i := range docs {
		if !skip[i] {
			trDocs = append(trDocs, docs[i])
			trYs = append(trYs, ys[i])
		}
	}
	v := fitVocab(trDocs, o.Features)
	xs := make([]vector, len(trDocs))
	for i, d := range trDocs {
		xs[i] = v.transform(d)
	}
	lin := train(xs, trYs, v.size, k, o)
	if !o.fullPrecision {
		lin.quantise()
	}
	return fitted{v, lin}
}

// indexLabels returns the sorted distinct labels, each usable example's
// class index and its text.
func indexLabels(examples []Example) (classes []string, ys []int, texts []string) {
	seen := map[string]bool{}
	for _, e := range examples {
		if e.Label != "" && e.Text != "" && !seen[e.Label] {
			seen[e.Label] = true
			classes = append(classes, e.Label)
		}
	}
	slices.Sort(classes)
	for _, e := range examples {
		if e.Label == "" || e.Text == "" {
			continue
		}
		ys = append(ys, slices.Index(classes, e.Label))
		texts = append(texts, e.Text)
	}
	return classes, ys, texts
}

// extractAll extracts features from texts on a few goroutines.
func extractAll(ex extractor, texts []string, workers int) [][numBlocks][]term {
	docs := make([][numBlocks][]term, len(texts))
	const chunk = 64
	parallel((len(texts)+chunk-1)/chunk, workers, func(c int) {
		for i := c * chunk; i < min((c+1)*chunk, len(texts)); i++ {
			docs[i] = ex.extract(texts[i])
		}
	})
	return docs
}

// fitTemperature finds the t that minimises the log loss of softmax(t·m)
// over out-of-fold margins, by golden-section search on log t.
func fitTemperature(margins [][]float64, ys []int) float64 {
	loss := func(logT float64) float64 {
		t := math.Exp(logT)
		var l float64
		p := make([]float64, 0, 16)
		for i, m := range margins {
			if m == nil {
				continue
			}
			p = append(p[:0], m...)
			softmax(p, t)
			l -= math.Log(max(p[ys[i]], 1e-12))
		}
		return l
	}
	a, b := math.Log(0.05), math.Log(200.0)
	g := (math.Sqrt(5) - 1) / 2
	c, d := b-g*(b-a), a+g*(b-a)
	fc, fd := loss(c), loss(d)
	for range 40 {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = loss(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = loss(d)
		}
	}
	return math.Round(math.Exp((a+b)/2)*1000) / 1000
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

// SetTokenizer gives a model loaded with UnmarshalBinary the tokenizer its
// word features need. Call it before the model serves Predict.
func (m *Model) SetTokenizer(tok Tokenizer) { m.tok = tok }

// Predict ranks every class for text, most likely first, with softmax
// confidences. A model without classes returns nil.
func (m *Model) Predict(text string) []Scored {
	if m == nil || len(m.Classes) == 0 {
		return nil
	}
	margins := make([]float64, len(m.Classes))
	switch m.Kind {
	case kindKeywords:
		m.keywordMargins(text, margins)
	default:
		if m.lin == nil || m.vocab == nil {
			return nil
		}
		doc := extractor{f: m.Features, tok: m.tok}.extract(text)
		m.lin.margins(m.vocab.transform(doc), margins)
	}
	softmax(margins, m.Temperature)
	out := make([]Scored, len(m.Classes))
	for i, c := range m.Classes {
		out[i] = Scored{Label: c, Score: margins[i]}
	}
	slices.SortStableFunc(out, func(a, b Scored) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out
}
