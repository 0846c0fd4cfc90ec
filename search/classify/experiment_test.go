package classify

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExperiment prints the measurements behind MODEL.md. It takes minutes:
// JDZ_EXPERIMENT=1 go test -run Experiment -v (JDZ_ONLY=prefix narrows it).
func TestExperiment(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the model comparison")
	}
	rows := loadMessages(t)
	type cfg struct {
		name string
		o    Options
		// title: train with titles; testTitle: predict with titles.
		title, testTitle bool
	}
	var cfgs []cfg
	feats := []struct {
		name string
		f    Features
	}{
		{"words", Features{Words: true, MinDF: 2}},
		{"char1-3", Features{CharMin: 1, CharMax: 3, MinDF: 2}},
		{"words+char1-3", DefaultFeatures},
	}
	for _, a := range []string{AlgoNBSVM, AlgoSVM, AlgoLogReg, AlgoCNB} {
		for _, f := range feats {
			cfgs = append(cfgs, cfg{a + " " + f.name, Options{Algorithm: a, Features: f.f, CalibrationFolds: -1}, true, true})
		}
	}
	cfgs = append(cfgs,
		cfg{"logreg C=100 30 epochs words+char1-3", Options{Algorithm: AlgoLogReg, C: 100, Epochs: 30, CalibrationFolds: -1}, true, true},
		cfg{"logreg C=1000 30 epochs words+char1-3", Options{Algorithm: AlgoLogReg, C: 1000, Epochs: 30, CalibrationFolds: -1}, true, true},
	)
	full := Options{CalibrationFolds: -1}
	full.fullPrecision = true
	cfgs = append(cfgs,
		cfg{"size nbsvm float32 weights", full, true, true},
		cfg{"size nbsvm int8 weights min_df=2", Options{CalibrationFolds: -1}, true, true},
		cfg{"size nbsvm int8 weights min_df=3", Options{CalibrationFolds: -1, Features: Features{Words: true, CharMin: 1, CharMax: 3, MinDF: 3}}, true, true},
		cfg{"size nbsvm int8 weights min_df=5", Options{CalibrationFolds: -1, Features: Features{Words: true, CharMin: 1, CharMax: 3, MinDF: 5}}, true, true},
	)
	cfgs = append(cfgs,
		cfg{"svm unbalanced words+char1-3", Options{Algorithm: AlgoSVM, Unbalanced: true, CalibrationFolds: -1}, true, true},
		cfg{"nbsvm unbalanced words+char1-3", Options{Unbalanced: true, CalibrationFolds: -1}, true, true},
		cfg{"nbsvm body-only train+test", Options{CalibrationFolds: -1}, false, false},
		cfg{"nbsvm title train, body test", Options{CalibrationFolds: -1}, true, false},
	)
	for _, c := range cfgs {
		if p := os.Getenv("JDZ_ONLY"); p != "" && !strings.HasPrefix(c.name, p) {
			continue
		}
		var accs, f1s, secs float64
		const seeds = 3
		for seed := range seeds {
			o := c.o
			o.Seed = uint64(seed)
			o.Tokenizer = testTok
			var train, test []Example
			for _, r := range rows {
				title := r.Title
				if !c.title {
					title = ""
				}
				train = append(train, Example{Text: Text(title, r.Body), Label: r.Label})
				if !c.testTitle {
					title = ""
				}
				test = append(test, Example{Text: Text(title, r.Body), Label: r.Label})
			}
			start := time.Now()
			conf := crossValidateOn(t, train, test, 5, o)
			secs += time.Since(start).Seconds()
			accs += conf.Accuracy()
			f1s += conf.MacroF1()
		}
		fmt.Printf("| %-32s | %.4f | %.4f | %.1f |\n", c.name, accs/seeds, f1s/seeds, secs/seeds)
	}
}

// crossValidateOn is CrossValidate with different texts to predict than to
// train on (test[i] is train[i] seen differently, e.g. without its title).
func crossValidateOn(t testing.TB, train, test []Example, k int, o Options) *Confusion {
	classes, ys, _ := indexLabels(train)
	conf := NewConfusion(classes)
	for _, fold := range StratifiedFolds(ys, k, o.Seed) {
		in := map[int]bool{}
		for _, i := range fold {
			in[i] = true
		}
		var tr []Example
		for i, e := range train {
			if !in[i] {
				tr = append(tr, e)
			}
		}
		m, err := Train(tr, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range fold {
			r := m.Predict(test[i].Text)
			conf.Add(ys[i], indexOf(classes, r[0].Label))
		}
	}
	return conf
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// TestExperimentSeed measures SeedModel on the labelled messages with the
// category tree's second- and third-level names as the themes' keywords.
func TestExperimentSeed(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the model comparison")
	}
	rows := loadMessages(t)
	f, err := os.Open(filepath.Join(filepath.Dir(messagesCSV), "categories_fj1.csv"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var seeds []ThemeSeed
	idx := map[string]int{}
	labels := map[string]bool{}
	for _, r := range rows {
		labels[r.Label] = true
	}
	for _, r := range recs[1:] {
		if !labels[r[0]] {
			continue // themes of the campaign only
		}
		i, ok := idx[r[0]]
		if !ok {
			i = len(seeds)
			idx[r[0]] = i
			seeds = append(seeds, ThemeSeed{Name: r[0]})
		}
		for _, k := range r[1:] {
			if k != "其他" && k != "" {
				seeds[i].Keywords = append(seeds[i].Keywords, k)
			}
		}
	}
	m := SeedModel(seeds)
	if v := os.Getenv("JDZ_ST"); v != "" {
		m.Temperature, _ = strconv.ParseFloat(v, 64)
	}
	var ex []Example
	for _, r := range rows {
		ex = append(ex, Example{Text: Text(r.Title, r.Body), Label: r.Label})
	}
	conf, preds := Evaluate(m, ex)
	fmt.Printf("seed model: accuracy=%.4f macro_f1=%.4f (temperature %g)\n", conf.Accuracy(), conf.MacroF1(), m.Temperature)
	for _, c := range CoverageAt(preds, []float64{0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}) {
		fmt.Printf("  threshold %.2f: coverage %.4f precision %.4f\n", c.Threshold, c.Coverage, c.Precision)
	}
	// Temperature that minimises log loss, for SeedTemperature.
	var margins [][]float64
	var ys []int
	for _, e := range ex {
		mg := make([]float64, len(m.Classes))
		m.keywordMargins(e.Text, mg)
		margins = append(margins, mg)
		ys = append(ys, indexOf(m.Classes, e.Label))
	}
	fmt.Printf("  best temperature %.3f\n", fitTemperature(margins, ys))
}

// TestExperimentLearningCurve trains on small stratified samples of the
// messages (as a young campaign would have) and tests on the rest.
func TestExperimentLearningCurve(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the model comparison")
	}
	rows := loadMessages(t)
	var ex []Example
	for _, r := range rows {
		ex = append(ex, Example{Text: Text(r.Title, r.Body), Label: r.Label})
	}
	_, ys, _ := indexLabels(ex)
	for _, n := range []int{50, 100, 300, 1000} {
		for _, minDF := range []int{1, 2} {
			var acc, f1 float64
			const seeds = 3
			for seed := range seeds {
				// A fold of a k-fold split is a stratified sample of ~n.
				folds := StratifiedFolds(ys, len(ex)/n, uint64(seed))
				in := map[int]bool{}
				var train, test []Example
				for _, i := range folds[0] {
					in[i] = true
					train = append(train, ex[i])
				}
				for i, e := range ex {
					if !in[i] {
						test = append(test, e)
					}
				}
				f := DefaultFeatures
				f.MinDF = minDF
				m, err := Train(train, Options{Tokenizer: testTok, Features: f, CalibrationFolds: -1, Seed: uint64(seed)})
				if err != nil {
					t.Fatal(err)
				}
				conf, _ := Evaluate(m, test)
				acc += conf.Accuracy()
				f1 += conf.MacroF1()
			}
			fmt.Printf("| %d | %d | %.4f | %.4f |\n", n, minDF, acc/seeds, f1/seeds)
		}
	}
}

// TestExperimentCalibration checks that confidences mean what they say:
// out-of-fold predictions of calibrated models, binned by confidence.
func TestExperimentCalibration(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the model comparison")
	}
	rows := loadMessages(t)
	var ex []Example
	for _, r := range rows {
		ex = append(ex, Example{Text: Text(r.Title, r.Body), Label: r.Label})
	}
	_, preds, err := CrossValidate(ex, 5, Options{Tokenizer: testTok})
	if err != nil {
		t.Fatal(err)
	}
	edges := []float64{0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01}
	var ece float64
	for b := 0; b+1 < len(edges); b++ {
		var n, ok int
		var conf float64
		for _, p := range preds {
			s := p.Ranked[0].Score
			if s < edges[b] || s >= edges[b+1] {
				continue
			}
			n++
			conf += s
			if p.Ranked[0].Label == p.Truth {
				ok++
			}
		}
		if n == 0 {
			continue
		}
		acc, mean := float64(ok)/float64(n), conf/float64(n)
		ece += float64(n) / float64(len(preds)) * math.Abs(acc-mean)
		fmt.Printf("| %.1f–%.1f | %d | %.3f | %.3f |\n", edges[b], min(edges[b+1], 1), n, mean, acc)
	}
	fmt.Printf("expected calibration error %.4f\n", ece)
}

// TestExperimentMemory measures the heap a model trained on all messages
// holds once loaded from its stored form.
func TestExperimentMemory(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the model comparison")
	}
	rows := loadMessages(t)
	var ex []Example
	for _, r := range rows {
		ex = append(ex, Example{Text: Text(r.Title, r.Body), Label: r.Label})
	}
	start := time.Now()
	m, err := Train(ex, Options{Tokenizer: testTok})
	if err != nil {
		t.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	blob, _ := m.MarshalBinary()
	m = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var back Model
	if err := back.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("trained in %.1f s; %d features; stored %d bytes; %.1f MB in memory\n",
		secs, back.Metrics.Features, len(blob), float64(after.HeapAlloc-before.HeapAlloc)/1e6)
	runtime.KeepAlive(&back)
}
