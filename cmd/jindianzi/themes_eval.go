package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"jindianzi/search"
	"jindianzi/search/classify"
)

// cmdThemesEval measures the theme classifier on labelled CSV files
// (columns body and label, title optional): trained on one file and tested
// on another, or by stratified k-fold cross-validation on one. It prints
// per-class F1, the confusion matrix and the precision a suggestion has at
// each confidence threshold, and ends with one summary line.
func cmdThemesEval(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var train, test, file, algo, save string
	var folds int
	var seed uint64
	var bodyOnly bool
	fs := newFlags("themes eval", &cfg, stderr)
	fs.StringVar(&train, "train", "", "CSV to train on (columns body, label, optional title)")
	fs.StringVar(&test, "test", "", "CSV to test on (with --train)")
	fs.StringVar(&file, "file", "", "CSV to cross-validate on (instead of --train/--test)")
	fs.IntVar(&folds, "folds", 5, "folds for --file")
	fs.StringVar(&algo, "algo", classify.AlgoNBSVM, "algorithm: nbsvm, svm, logreg or cnb")
	fs.Uint64Var(&seed, "seed", 0, "seed for folds and training order")
	fs.BoolVar(&bodyOnly, "body-only", false, "ignore titles (the model reads bodies alone)")
	fs.StringVar(&save, "save", "", "write the model trained with --train to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (file == "") == (train == "" || test == "") {
		return fmt.Errorf("%w: give --train and --test, or --file", errUsage)
	}
	read := func(name string) ([]classify.Example, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("无法打开文件: %w", err)
		}
		defer f.Close()
		rows, err := classify.ReadCSV(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ex := make([]classify.Example, len(rows))
		for i, r := range rows {
			title := r.Title
			if bodyOnly {
				title = ""
			}
			ex[i] = classify.Example{Text: classify.Text(title, r.Body), Label: r.Label}
		}
		return ex, nil
	}
	dataDir := cfg.Data
	if _, err := os.Stat(dataDir); err != nil {
		tmp, err := os.MkdirTemp("", "jindianzi-themes-eval-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	seg, err := search.OpenSegmenter(dataDir)
	if err != nil {
		return err
	}
	opts := classify.Options{Tokenizer: seg, Algorithm: algo, Seed: seed}

	var conf *classify.Confusion
	var preds []classify.Prediction
	var trainSecs float64
	if file != "" {
		ex, err := read(file)
		if err != nil {
			return err
		}
		start := time.Now()
		conf, preds, err = classify.CrossValidate(ex, folds, opts)
		if err != nil {
			return err
		}
		trainSecs = time.Since(start).Seconds()
		fmt.Fprintf(stdout, "%d-fold cross-validation on %d texts (%s), %.1f s for all folds\n\n", folds, len(preds), file, trainSecs)
	} else {
		trEx, err := read(train)
		if err != nil {
			return err
		}
		teEx, err := read(test)
		if err != nil {
			return err
		}
		start := time.Now()
		m, err := classify.Train(trEx, opts)
		if err != nil {
			return err
		}
		trainSecs = time.Since(start).Seconds()
		blob, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "trained on %d texts in %.1f s: %d features, model %d bytes, temperature %.3g\n",
			m.Metrics.Examples, trainSecs, m.Metrics.Features, len(blob), m.Temperature)
		if save != "" {
			if err := os.WriteFile(save, blob, 0o644); err != nil {
				return err
			}
		}
		start = time.Now()
		conf, preds = classify.Evaluate(m, teEx)
		if len(preds) == 0 {
			return fmt.Errorf("%s has no labelled rows to test on", test)
		}
		fmt.Fprintf(stdout, "tested on %d texts (%s), %.3f ms per text\n\n", len(preds), test,
			float64(time.Since(start).Microseconds())/1000/float64(len(preds)))
	}
	if err := conf.Write(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nsuggest only when confident (Unsure below %.2f):\n", classify.UnsureBelow)
	for _, c := range classify.CoverageAt(preds, []float64{0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}) {
		fmt.Fprintf(stdout, "  threshold %.2f: coverage %.4f precision %.4f\n", c.Threshold, c.Coverage, c.Precision)
	}
	fmt.Fprintf(stdout, "accuracy=%.4f macro_f1=%.4f train_s=%d\n", conf.Accuracy(), conf.MacroF1(), int(math.Round(trainSecs)))
	return nil
}
