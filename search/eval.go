package search

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Names of the analyzers Eval compares.
const (
	// EvalOurs is the name Eval prints for this package's analysis, index
	// mapping and query (NewMapping, BuildQuery).
	EvalOurs = AnalyzerName
	// EvalCJK is the name Eval prints for the baseline: Bleve's built-in
	// "cjk" bigram analyzer on the body, queried with a match query.
	EvalCJK = cjk.AnalyzerName
)

// evalK is the rank cut-off of Eval's measures.
const evalK = 10

// evalBatch is how many documents Eval indexes per batch: as many as
// Rebuild puts in one.
const evalBatch = 1000

// EvalOptions tune Eval.
type EvalOptions struct {
	// Segmenter is the process-wide Segmenter (from OpenSegmenter); nil
	// means the one already open, and Eval fails if there is none.
	Segmenter *Segmenter
	// Progress, if not nil, receives a line per stage (reading, indexing,
	// querying) with timings and index sizes.
	Progress io.Writer
	// TempDir is where the throwaway indexes are built (removed before
	// Eval returns); empty means os.TempDir.
	TempDir string
	// Keywords, when above zero, makes each query the title's Keywords
	// most telling words (Segmenter.Extract), as a resident would type them
	// into the search box, instead of the whole title.
	Keywords int
	// Drafts, when above zero, measures the similar-ideas look-up instead
	// of search: see evalDrafts.
	Drafts int
}

// evalDraftK is the rank cut-off of the drafts measurement: the similar
// ideas the submission form shows.
const evalDraftK = 5

// EvalResult is one analyzer's score on an Eval run.
type EvalResult struct {
	Analyzer string  // EvalOurs or EvalCJK
	Drafts   bool    // the queries were drafts (EvalOptions.Drafts)
	Queries  int     // titles that occur exactly once, or drafts
	K        int     // the rank cut-off: 10, or evalDraftK for drafts
	MRR      float64 // mean reciprocal rank of the first row sought, 0 below rank K
	Recall   float64 // share of queries with a row sought in the top K
	Docs     int     // rows indexed

	IndexBytes  int64         // size of the index's segments as built (ours: as Rebuild leaves it, merged)
	MergedBytes int64         // … once merged into one segment, as a large index converges to
	TextBytes   int64         // bytes of body text indexed
	IndexTime   time.Duration // time to index all rows
	QueryTime   time.Duration // time to run all queries
}

// String formats r as Eval prints it.
func (r EvalResult) String() string {
	what := "queries"
	if r.Drafts {
		what = "drafts"
	}
	return fmt.Sprintf("analyzer=%s %s=%d mrr@%d=%.4f recall@%d=%.4f", r.Analyzer, what, r.Queries, r.K, r.MRR, r.K, r.Recall)
}

// Eval measures how well each analyzer finds a message by its title. It
// reads a CSV with a header naming (at least) the columns body and title,
// indexes every row's body into a throwaway index per analyzer, queries with
// every title that occurs exactly once (rows without a title are indexed but
// not queried) and scores where the title's own row ranks: MRR@10 and
// recall@10. It prints one line per analyzer to out, the baseline (EvalCJK)
// first and ours (EvalOurs) last, in the form
//
//	analyzer=jindianzi queries=N mrr@10=0.xxxx recall@10=0.xxxx
//
// and returns the same numbers in that order. With opts.Drafts it measures
// the similar-ideas look-up instead (see evalDrafts) and prints
//
//	analyzer=jindianzi drafts=N mrr@5=0.xxxx recall@5=0.xxxx
func Eval(ctx context.Context, r io.Reader, out io.Writer, opts EvalOptions) ([]EvalResult, error) {
	if opts.Drafts > 0 && opts.Keywords > 0 {
		return nil, errors.New("search: eval: drafts and keywords are two measurements; choose one")
	}
	seg := opts.Segmenter
	if seg == nil {
		seg = currentSegmenter()
	}
	if seg == nil || seg != currentSegmenter() {
		return nil, fmt.Errorf("search: eval: %w", errNoSegmenter)
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	data, err := readEvalCSV(r)
	if err != nil {
		return nil, err
	}
	if opts.Drafts > 0 {
		data.evalDrafts(opts.Drafts)
	}
	if opts.Keywords > 0 {
		kept := data.queries[:0]
		for _, q := range data.queries {
			if q.text = seg.KeywordQuery(q.text, opts.Keywords); q.text != "" {
				kept = append(kept, q)
			}
		}
		data.queries = kept
	}
	what := "titles that occur once"
	if data.drafts {
		what = fmt.Sprintf("drafts: the first %d characters of rows sharing their title with a row of another body", opts.Drafts)
	}
	fmt.Fprintf(progress, "eval: %d rows, %d queries (%s), %.1f MB of body text, read in %v\n",
		len(data.bodies), len(data.queries), what, float64(data.textBytes)/1e6, time.Since(start).Round(time.Millisecond))
	if len(data.queries) == 0 {
		if data.drafts {
			return nil, errors.New("search: eval: no two rows share a title with different bodies")
		}
		return nil, errors.New("search: eval: no row has a title that occurs exactly once")
	}
	systems := []evalSystem{cjkEvalSystem(), oursEvalSystem(seg)}
	results := make([]EvalResult, 0, len(systems))
	for _, sys := range systems {
		res, err := runEval(ctx, sys, data, opts.TempDir, progress)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	for _, res := range results {
		if _, err := fmt.Fprintln(out, res); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// evalData is an Eval CSV in memory: row i is document strconv.Itoa(i).
type evalData struct {
	bodies    []string
	titles    []string
	queries   []evalQuery
	textBytes int64
	drafts    bool // the queries are drafts (evalDrafts)
}

// evalQuery is a query and the rows it should find.
type evalQuery struct {
	text string
	docs []string // the rows sought: the first found scores
	self string   // a row left out of the results ("" for none)
}

// evalDrafts replaces the title queries with drafts, to measure the
// similar-ideas look-up on the same file: a resident sending again what
// someone (or they) sent before should see the earlier message among the
// evalDraftK similar ideas. The file's rows that share a title are taken
// as such repeats. Each such row with a body of its own becomes a draft,
// its body's first n characters, searched for as a draft (Request.Draft)
// in the index of all bodies with its own row left out of the results;
// the other rows of its title are sought. A repeat with the same body is
// found by any method and is not counted.
func (d *evalData) evalDrafts(n int) {
	rows := map[string][]int{}
	for i, t := range d.titles {
		if t != "" {
			rows[t] = append(rows[t], i)
		}
	}
	d.queries, d.drafts = nil, true
	for i, t := range d.titles {
		if len(rows[t]) < 2 {
			continue
		}
		q := evalQuery{text: string([]rune(d.bodies[i])[:min(n, utf8.RuneCountInString(d.bodies[i]))]), self: strconv.Itoa(i)}
		copied := false
		for _, j := range rows[t] {
			if j != i {
				q.docs = append(q.docs, strconv.Itoa(j))
				copied = copied || d.bodies[j] == d.bodies[i]
			}
		}
		if !copied && strings.TrimSpace(q.text) != "" {
			d.queries = append(d.queries, q)
		}
	}
}

// readEvalCSV reads the body and title columns of an Eval CSV.
func readEvalCSV(r io.Reader) (*evalData, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("search: eval: read CSV header: %w", err)
	}
	bodyCol, titleCol := -1, -1
	for i, name := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))) {
		case "body":
			bodyCol = i
		case "title":
			titleCol = i
		}
	}
	if bodyCol < 0 || titleCol < 0 {
		return nil, fmt.Errorf("search: eval: CSV header %q needs columns body and title", header)
	}
	data := &evalData{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("search: eval: read CSV: %w", err)
		}
		field := func(i int) string {
			if i < len(rec) {
				return rec[i]
			}
			return ""
		}
		body := field(bodyCol)
		data.bodies = append(data.bodies, body)
		data.textBytes += int64(len(body))
		data.titles = append(data.titles, strings.TrimSpace(field(titleCol)))
	}
	count := map[string]int{}
	for _, t := range data.titles {
		count[t]++
	}
	for i, t := range data.titles {
		if t != "" && count[t] == 1 {
			data.queries = append(data.queries, evalQuery{text: t, docs: []string{strconv.Itoa(i)}})
		}
	}
	return data, nil
}

// evalSystem is one way of indexing and querying that Eval scores.
type evalSystem struct {
	name string
	// open creates an empty index in dir, which Eval fills in batches of
	// evalBatch.
	open func(dir string) (evalIndex, error)
	// build, if set, is used instead of open: it indexes every document
	// (ids[i] with bodies[i]) in dir at once, as Rebuild does.
	build func(ctx context.Context, dir string, ids, bodies []string) (evalIndex, error)
}

// evalIndex is the little Eval needs of an index.
type evalIndex interface {
	index(ids, bodies []string) error
	search(text string, k int) ([]string, error)
	// draft looks up the ideas like a draft, as the submission form does.
	draft(text string, k int) ([]string, error)
	bleve() bleve.Index
	close() error
}

// runEval indexes data with sys in a fresh temporary directory, runs the
// queries and scores them.
func runEval(ctx context.Context, sys evalSystem, data *evalData, tempDir string, progress io.Writer) (EvalResult, error) {
	res := EvalResult{Analyzer: sys.name, Docs: len(data.bodies), TextBytes: data.textBytes, K: evalK, Drafts: data.drafts}
	if data.drafts {
		res.K = evalDraftK
	}
	dir, err := os.MkdirTemp(tempDir, "jindianzi-eval-")
	if err != nil {
		return res, fmt.Errorf("search: eval %s: %w", sys.name, err)
	}
	defer os.RemoveAll(dir)
	ids := make([]string, len(data.bodies))
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	start := time.Now()
	idx, err := buildEval(ctx, sys, filepath.Join(dir, "index"), ids, data.bodies)
	if err != nil {
		return res, fmt.Errorf("search: eval %s: %w", sys.name, err)
	}
	defer idx.close()
	res.IndexTime = time.Since(start)
	res.IndexBytes = settledDiskBytes(ctx, idx.bleve())
	text := float64(max(data.textBytes, 1))
	how := fmt.Sprintf("in batches of %d", evalBatch)
	if sys.build != nil {
		how = "by Rebuild, merged"
	}
	fmt.Fprintf(progress, "eval: %s: indexed %d rows %s in %v (%.0f docs/s); index_bytes=%d ratio=%.2f (index over the %.1f MB of body text)\n",
		sys.name, len(data.bodies), how, res.IndexTime.Round(time.Millisecond),
		float64(len(data.bodies))/res.IndexTime.Seconds(), res.IndexBytes,
		float64(res.IndexBytes)/text, float64(data.textBytes)/1e6)
	if n, err := mergedDiskBytes(ctx, idx.bleve()); err == nil {
		res.MergedBytes = n
		fmt.Fprintf(progress, "eval: %s: merged into one segment: merged_bytes=%d merged_ratio=%.2f\n",
			sys.name, n, float64(n)/text)
	}

	start = time.Now()
	var rrSum float64
	found := 0
	for n, q := range data.queries {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		var ids []string
		if data.drafts {
			ids, err = idx.draft(q.text, res.K+1)
		} else {
			ids, err = idx.search(q.text, res.K)
		}
		if err != nil {
			return res, fmt.Errorf("search: eval %s: query %q: %w", sys.name, clipRunes(q.text, 40), err)
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == q.self })
		for rank, id := range ids[:min(len(ids), res.K)] {
			if slices.Contains(q.docs, id) {
				rrSum += 1 / float64(rank+1)
				found++
				break
			}
		}
	}
	res.QueryTime = time.Since(start)
	res.Queries = len(data.queries)
	res.MRR = rrSum / float64(res.Queries)
	res.Recall = float64(found) / float64(res.Queries)
	fmt.Fprintf(progress, "eval: %s: %d queries in %v (%.2f ms each)\n", sys.name, res.Queries,
		res.QueryTime.Round(time.Millisecond), res.QueryTime.Seconds()*1000/float64(res.Queries))
	return res, nil
}

// buildEval makes sys's index of ids and bodies in dir.
func buildEval(ctx context.Context, sys evalSystem, dir string, ids, bodies []string) (evalIndex, error) {
	if sys.build != nil {
		return sys.build(ctx, dir, ids, bodies)
	}
	idx, err := sys.open(dir)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	for i := 0; i < len(bodies); i += evalBatch {
		if err := ctx.Err(); err != nil {
			idx.close()
			return nil, err
		}
		end := min(i+evalBatch, len(bodies))
		if err := idx.index(ids[i:end], bodies[i:end]); err != nil {
			idx.close()
			return nil, err
		}
	}
	return idx, nil
}

// oursEvalSystem scores the real thing: documents with only a body, indexed
// by Rebuild into a directory of generations (so the index is as a reindex
// leaves it: merged into one segment), opened with OpenCurrent, and
// SearchIDs (BuildQuery).
func oursEvalSystem(seg *Segmenter) evalSystem {
	return evalSystem{name: EvalOurs, build: func(ctx context.Context, dir string, ids, bodies []string) (evalIndex, error) {
		docs := make(docSource, len(ids))
		for i := range ids {
			docs[i] = Doc{ID: ids[i], Body: bodies[i]}
		}
		if err := Rebuild(ctx, dir, seg, docs, nil); err != nil {
			return nil, err
		}
		idx, err := OpenCurrent(dir, seg)
		if err != nil {
			return nil, err
		}
		return ourEvalIndex{idx}, nil
	}}
}

type ourEvalIndex struct{ x *Index }

func (e ourEvalIndex) index(ids, bodies []string) error {
	docs := make([]Doc, len(ids))
	for i := range ids {
		docs[i] = Doc{ID: ids[i], Body: bodies[i]}
	}
	return e.x.Index(docs...)
}

func (e ourEvalIndex) search(text string, k int) ([]string, error) { return e.x.SearchIDs(text, k) }

func (e ourEvalIndex) draft(text string, k int) ([]string, error) {
	res, err := e.x.Search(context.Background(), Request{Text: text, PerPage: k, PageOnly: true, Draft: true})
	if err != nil {
		return nil, err
	}
	return res.ids(), nil
}
func (e ourEvalIndex) close() error       { return e.x.Close() }
func (e ourEvalIndex) bleve() bleve.Index { return e.x.index }

// cjkEvalSystem is the baseline: one body field analysed with Bleve's "cjk"
// analyzer (stored, with term vectors, as a naive mapping has it), queried
// with a match query, default scoring.
func cjkEvalSystem() evalSystem {
	return evalSystem{name: EvalCJK, open: func(dir string) (evalIndex, error) {
		im := mapping.NewIndexMapping()
		im.DefaultAnalyzer = cjk.AnalyzerName
		doc := mapping.NewDocumentStaticMapping()
		body := mapping.NewTextFieldMapping()
		body.Analyzer = cjk.AnalyzerName
		doc.AddFieldMappingsAt(FieldBody, body)
		im.DefaultMapping = doc
		return openBleveEval(dir, im, func(text string) query.Query {
			q := bleve.NewMatchQuery(text)
			q.SetField(FieldBody)
			return q
		})
	}}
}

// bleveEvalIndex is an evalIndex over any mapping whose documents hold the
// body under FieldBody, queried with a query built by build.
type bleveEvalIndex struct {
	idx   bleve.Index
	build func(text string) query.Query
}

func openBleveEval(dir string, im mapping.IndexMapping, build func(string) query.Query) (evalIndex, error) {
	idx, err := bleve.NewUsing(dir, im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, err
	}
	return bleveEvalIndex{idx: idx, build: build}, nil
}

func (e bleveEvalIndex) index(ids, bodies []string) error {
	b := e.idx.NewBatch()
	for i := range ids {
		if err := b.Index(ids[i], map[string]any{FieldBody: bodies[i]}); err != nil {
			return err
		}
	}
	return e.idx.Batch(b)
}

func (e bleveEvalIndex) search(text string, k int) ([]string, error) {
	res, err := e.idx.Search(bleve.NewSearchRequestOptions(e.build(text), k, 0, false))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// draft is search: the baseline has no look-up of its own.
func (e bleveEvalIndex) draft(text string, k int) ([]string, error) { return e.search(text, k) }

func (e bleveEvalIndex) close() error       { return e.idx.Close() }
func (e bleveEvalIndex) bleve() bleve.Index { return e.idx }

// mergedDiskBytes merges idx's segments into one, as the merge policy
// eventually does with the bulk of a large index, and returns
// settledDiskBytes. Merging leaves every score as it was.
func mergedDiskBytes(ctx context.Context, idx bleve.Index) (int64, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return 0, err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return 0, errors.New("search: not a scorch index")
	}
	if err := sc.ForceMerge(ctx, nil); err != nil {
		return 0, err
	}
	return settledDiskBytes(ctx, idx), nil
}

// settledDiskBytes waits (up to a minute) until idx has persisted every
// in-memory segment and then returns the bytes of the segment files its
// current root uses, leaving out files that older snapshots still hold and
// scorch has yet to remove.
func settledDiskBytes(ctx context.Context, idx bleve.Index) int64 {
	stat := func(name string) (uint64, bool) {
		m, _ := idx.StatsMap()["index"].(map[string]any)
		v, ok := m[name].(uint64)
		return v, ok
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n, ok := stat("num_root_memorysegments"); !ok || n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	n, _ := stat("num_bytes_used_disk_by_root")
	return int64(n)
}
