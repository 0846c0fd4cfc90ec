package classify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"text/tabwriter"
)

// StratifiedFolds splits the indices of ys into k folds that keep each
// class's share: each class's indices are shuffled with seed and dealt in
// turn. The same ys, k and seed always give the same folds.
func StratifiedFolds(ys []int, k int, seed uint64) [][]int {
	if k < 2 {
		k = 2
	}
	byClass := map[int][]int{}
	var classes []int
	for i, y := range ys {
		if _, ok := byClass[y]; !ok {
			classes = append(classes, y)
		}
		byClass[y] = append(byClass[y], i)
	}
	slices.Sort(classes)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	folds := make([][]int, k)
	next := 0
	for _, c := range classes {
		idx := byClass[c]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			folds[next%k] = append(folds[next%k], i)
			next++
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

// Confusion counts predictions against true classes: Counts[true][predicted].
type Confusion struct {
	// Classes name the rows and columns.
	Classes []string
	// Counts[i][j] is how many texts of class i were predicted as j.
	Counts [][]int
}

// NewConfusion returns an empty matrix over classes.
func NewConfusion(classes []string) *Confusion {
	c := &Confusion{Classes: classes, Counts: make([][]int, len(classes))}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(classes))
	}
	return c
}

// Add counts one prediction; indices are positions in Classes.
func (c *Confusion) Add(truth, predicted int) { c.Counts[truth][predicted]++ }

// Total is the number of predictions counted.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy is the share of predictions on the diagonal.
func (c *Confusion) Accuracy() float64 {
	n, ok := c.Total(), 0
	for i := range c.Counts {
		ok += c.Counts[i][i]
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

// PRF returns the precision, recall and F1 of class i.
func (c *Confusion) PRF(i int) (p, r, f1 float64) {
	tp := c.Counts[i][i]
	var pred, truth int
	for j := range c.Counts {
		pred += c.Counts[j][i]
		truth += c.Counts[i][j]
	}
	if pred > 0 {
		p = float64(tp) / float64(pred)
	}
	if truth > 0 {
		r = float64(tp) / float64(truth)
	}
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return p, r, f1
}

// MacroF1 is the unweighted mean of the F1 of classes that occur in the
// truth or the predictions.
func (c *Confusion) MacroF1() float64 {
	var sum float64
	n := 0
	for i := range c.Classes {
		var seen int
		for j := range c.Counts {
			seen += c.Counts[i][j] + c.Counts[j][i]
		}
		if seen == 0 {
			continue
		}
		_, _, f := c.PRF(i)
		sum += f
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Write prints per-class precision, recall, F1 and support, then the matrix
// (rows are the truth, columns the prediction).
func (c *Confusion) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\tf1\tsupport\t")
	for i, name := range c.Classes {
		p, r, f := c.PRF(i)
		n := 0
		for _, v := range c.Counts[i] {
			n += v
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", name, p, r, f, n)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t")
	fmt.Fprint(tw, "truth \\ predicted\t")
	for i := range c.Classes {
		fmt.Fprintf(tw, "%d\t", i+1)
	}
	fmt.Fprintln(tw)
	for i, name := range c.Classes {
		fmt.Fprintf(tw, "%d %s\t", i+1, name)
		for _, v := range c.Counts[i] {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// Prediction is one evaluated text: its true class and the ranked output.
type Prediction struct {
	// Truth is the text's label.
	Truth string
	// Ranked is what Predict returned.
	Ranked []Scored
}

// Evaluate predicts every example with m and counts the results. Labels
// the model does not know still count, as errors.
func Evaluate(m *Model, examples []Example) (*Confusion, []Prediction) {
	classes := slices.Clone(m.Classes)
	for _, e := range examples {
		if e.Label != "" && !slices.Contains(classes, e.Label) {
			classes = append(classes, e.Label)
		}
	}
	conf := NewConfusion(classes)
	var preds []Prediction
	for _, e := range examples {
		if e.Label == "" {
			continue
		}
		r := m.Predict(e.Text)
		if len(r) == 0 {
			continue
		}
		conf.Add(slices.Index(classes, e.Label), slices.Index(classes, r[0].Label))
		preds = append(preds, Prediction{Truth: e.Label, Ranked: r})
	}
	return conf, preds
}

// CrossValidate trains on k−1 stratified folds and predicts the k-th, k
// times, and counts every out-of-fold prediction. Folds use o.Seed.
func CrossValidate(examples []Example, k int, o Options) (*Confusion, []Prediction, error) {
	classes, ys, _ := indexLabels(examples)
	var usable []Example
	for _, e := range examples {
		if e.Label != "" && e.Text != "" {
			usable = append(usable, e)
		}
	}
	conf := NewConfusion(classes)
	preds := make([]Prediction, len(usable))
	for _, test := range StratifiedFolds(ys, k, o.Seed) {
		inTest := make([]bool, len(usable))
		for _, i := range test {
			inTest[i] = true
		}
		var train []Example
		for i, e := range usable {
			if !inTest[i] {
				train = append(train, e)
			}
		}
		m, err := Train(train, o)
		if err != nil {
			return nil, nil, err
		}
		for _, i := range test {
			r := m.Predict(usable[i].Text)
			conf.Add(ys[i], slices.Index(classes, r[0].Label))
			preds[i] = Prediction{Truth: usable[i].Label, Ranked: r}
		}
	}
	return conf, preds, nil
}

// Coverage says, for a confidence threshold, what share of predictions
// reach it and how often those are right.
type Coverage struct {
	// Threshold is the least top confidence for a suggestion.
	Threshold float64
	// Coverage is the share of predictions at or above it.
	Coverage float64
	// Precision is the share of those that are right.
	Precision float64
}

// CoverageAt measures the trade-off of each threshold over predictions.
func CoverageAt(preds []Prediction, thresholds []float64) []Coverage {
	out := make([]Coverage, len(thresholds))
	for i, t := range thresholds {
		var n, ok int
		for _, p := range preds {
			if len(p.Ranked) == 0 || p.Ranked[0].Score < t {
				continue
			}
			n++
			if p.Ranked[0].Label == p.Truth {
				ok++
			}
		}
		out[i] = Coverage{Threshold: t}
		if len(preds) > 0 {
			out[i].Coverage = float64(n) / float64(len(preds))
		}
		if n > 0 {
			out[i].Precision = float64(ok) / float64(n)
		}
	}
	return out
}

// Row is one record of an evaluation CSV.
type Row struct {
	// Title, Body and Label are the columns of those names ("" when the
	// file has no such column).
	Title, Body, Label string
}

// ReadCSV reads an evaluation file: a header row naming a "body" column
// and, optionally, "title" and "label" columns (others are ignored).
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("classify: read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	body, ok := col["body"]
	if !ok {
		return nil, errors.New(`classify: CSV has no "body" column`)
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("classify: read CSV: %w", err)
		}
		if body >= len(rec) {
			continue
		}
		rows = append(rows, Row{Title: get(rec, "title"), Body: get(rec, "body"), Label: get(rec, "label")})
	}
	return rows, nil
}
