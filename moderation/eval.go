package moderation

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// EvalOptions configure Eval. Zero values have working defaults.
type EvalOptions struct {
	// Tokenizer for the fingerprints: the process's jieba in production
	// (*search.Segmenter); nil means Bigrams.
	Tokenizer Tokenizer
	// Words is the list under test; nil means the starter list.
	Words *Registry
	// MaxDistance is the duplicate index's Hamming threshold; 0 means
	// DefaultDupDistance.
	MaxDistance int
	// Seed makes the perturbations repeatable; 0 means 1.
	Seed uint64
	// Workers run the throughput pass in parallel; 0 means GOMAXPROCS.
	Workers int
	// MinDuration is how long the throughput pass runs at least (whole
	// passes over the messages); 0 means 2 s.
	MinDuration time.Duration
	// Verbose prints every held message's reasons and the missed and
	// wrong duplicate pairs.
	Verbose bool
}

// EvalResult is what Eval measured.
type EvalResult struct {
	Messages int // rows with a body
	Docs     int // messages plus their perturbed copies

	TruePairs, FoundPairs, CorrectPairs int
	DupPrecision, DupRecall             float64
	// RecallByKind is the recall of the pairs between a message and its
	// copy of each kind ("file" for pairs of the file's own messages).
	RecallByKind map[string]float64

	Held, HeldByWords, Rejected int
	Flagged                     int // published with a flag-word mark
	FalseHoldRate               float64

	Checks          int
	ChecksPerSecond float64
}

// The perturbations that make near-duplicates, one copy of each per message.
const (
	pertPunct       = "punctuation"
	pertSpaces      = "spaces"
	pertDropSent    = "drop_sentence"
	pertTraditional = "traditional"
)

var perturbations = []string{pertPunct, pertSpaces, pertDropSent, pertTraditional}

// Eval measures the pipeline on a CSV of real messages (a header row with a
// body column; title is used when present) and writes a report to out
// ending in the line
//
//	dup_precision=0.xx dup_recall=0.xx false_hold_rate=0.xxxx checks_per_s=N
//
// Duplicates. Every message gets four perturbed copies: punctuation changed
// (marks swapped between full and half width, some replaced or dropped),
// spaces inserted between characters, one sentence dropped, and the text
// converted to traditional characters (ToTraditional). A sentence is only
// dropped when what remains keeps at least 80% of the characters — a
// resubmission that loses a fifth or more of its text is a different
// message, not a near-duplicate — so short messages of one or two
// sentences get no such copy. A family is a set of bodies that are equal in
// the file (its exact duplicates) together with all their copies; the true
// pairs are all unordered pairs of documents within a family. The documents
// (messages and copies, in a seeded random order) are fingerprinted from
// the body alone by the pipeline's code and put one by one into a DupIndex;
// before each is added, the index is searched with no limit, and every
// (document, candidate) pair returned is a found pair. Precision is the
// share of found pairs that are true, recall the share of true pairs found.
// Messages that happen to be alike without being equal count against
// precision.
//
// False holds. Every message, title and body, is checked once by the full
// pipeline under the post policy, each with its own submitter key, in a
// campaign whose duplicate index holds the messages already checked. These
// are real residents' messages, so every hold or rejection is a false one:
// false_hold_rate is their share.
//
// Speed. The same checks are then run again by Workers goroutines for at
// least MinDuration (no database involved); checks_per_s is checks over
// wall time.
func Eval(r io.Reader, out io.Writer, opts EvalOptions) (EvalResult, error) {
	msgs, err := readEvalCSV(r)
	if err != nil {
		return EvalResult{}, err
	}
	if len(msgs) == 0 {
		return EvalResult{}, errors.New("moderation: eval: no messages with a body")
	}
	if opts.Tokenizer == nil {
		opts.Tokenizer = Bigrams{}
	}
	if opts.MaxDistance <= 0 {
		opts.MaxDistance = DefaultDupDistance
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MinDuration <= 0 {
		opts.MinDuration = 2 * time.Second
	}
	res := EvalResult{Messages: len(msgs), RecallByKind: map[string]float64{}}

	if err := evalDuplicates(msgs, out, opts, &res); err != nil {
		return res, err
	}
	if err := evalHolds(msgs, out, opts, &res); err != nil {
		return res, err
	}
	if err := evalSpeed(msgs, out, opts, &res); err != nil {
		return res, err
	}
	fmt.Fprintf(out, "dup_precision=%.2f dup_recall=%.2f false_hold_rate=%.4f checks_per_s=%d\n",
		floor2(res.DupPrecision), floor2(res.DupRecall), res.FalseHoldRate, int(res.ChecksPerSecond))
	return res, nil
}

// floor2 rounds down to two decimals, so 0.949 is not reported as 0.95.
func floor2(x float64) float64 { return float64(int(x*100+1e-9)) / 100 }

type evalMsg struct{ title, body string }

func readEvalCSV(r io.Reader) ([]evalMsg, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("moderation: eval: read header: %w", err)
	}
	bodyCol, titleCol := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "body":
			bodyCol = i
		case "title":
			titleCol = i
		}
	}
	if bodyCol < 0 {
		return nil, errors.New("moderation: eval: the CSV has no body column")
	}
	var msgs []evalMsg
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("moderation: eval: read row %d: %w", line, err)
		}
		if bodyCol >= len(rec) || strings.TrimSpace(rec[bodyCol]) == "" {
			continue
		}
		m := evalMsg{body: rec[bodyCol]}
		if titleCol >= 0 && titleCol < len(rec) {
			m.title = rec[titleCol]
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

type evalDoc struct {
	family int
	kind   string // "" for a message of the file, else its perturbation
	source int    // index of the message it came from
	body   string
}

func evalDuplicates(msgs []evalMsg, out io.Writer, opts EvalOptions, res *EvalResult) error {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6a696e6469616e7a))
	fam := nearDupFamilies(msgs)
	families := map[int]bool{}
	var docs []evalDoc
	for i, m := range msgs {
		f := fam[i]
		families[f] = true
		docs = append(docs, evalDoc{family: f, source: i, body: m.body})
		for _, kind := range perturbations {
			body, ok, err := perturb(m.body, kind, rng)
			if err != nil {
				return err
			}
			if ok {
				docs = append(docs, evalDoc{family: f, kind: kind, source: i, body: body})
			}
		}
	}
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	res.Docs = len(docs)

	// True pairs per family, and per kind: the pairs joining a copy of a
	// kind to a message of the file of its family ("file": two messages of
	// the file, equal or near-duplicates).
	size := map[int]int{}
	msgsIn := map[int]int{}
	for _, d := range docs {
		size[d.family]++
		if d.kind == "" {
			msgsIn[d.family]++
		}
	}
	for _, n := range size {
		res.TruePairs += n * (n - 1) / 2
	}
	trueByKind := map[string]int{}
	for _, d := range docs {
		if d.kind != "" {
			trueByKind[d.kind] += msgsIn[d.family]
		}
	}
	for _, n := range msgsIn {
		trueByKind["file"] += n * (n - 1) / 2
	}

	p, err := NewPipeline(Config{Tokenizer: opts.Tokenizer, Words: opts.Words})
	if err != nil {
		return err
	}
	fps := make([]Analysis, len(docs))
	parallel(len(docs), opts.Workers, func(i int) {
		a := p.Analyze(Input{Body: docs[i].body})
		fps[i] = Analysis{ContentHash: a.ContentHash, Simhash: a.Simhash}
	})
	idx := NewDupIndex(opts.MaxDistance)
	foundByKind := map[string]int{}
	for i, d := range docs {
		for _, c := range idx.Search(fps[i].ContentHash, fps[i].Simhash, 0) {
			res.FoundPairs++
			o := docs[c.IdeaID-1]
			if o.family != d.family {
				if opts.Verbose {
					fmt.Fprintf(out, "wrong pair (similarity %.2f): %.40q | %.40q\n", c.Similarity, d.body, o.body)
				}
				continue
			}
			res.CorrectPairs++
			switch {
			case d.kind == "" && o.kind == "":
				foundByKind["file"]++
			case d.kind == "":
				foundByKind[o.kind]++
			case o.kind == "":
				foundByKind[d.kind]++
			}
		}
		idx.Add(DupRow{IdeaID: int64(i + 1), ContentHash: fps[i].ContentHash, Simhash: fps[i].Simhash})
	}
	if res.FoundPairs > 0 {
		res.DupPrecision = float64(res.CorrectPairs) / float64(res.FoundPairs)
	}
	if res.TruePairs > 0 {
		res.DupRecall = float64(res.CorrectPairs) / float64(res.TruePairs)
	}
	kinds := make([]string, 0, len(trueByKind))
	for k := range trueByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		if trueByKind[k] > 0 {
			res.RecallByKind[k] = float64(foundByKind[k]) / float64(trueByKind[k])
			parts = append(parts, fmt.Sprintf("%s=%.3f(%d)", k, res.RecallByKind[k], trueByKind[k]))
		}
	}
	fmt.Fprintf(out, "messages=%d docs=%d families=%d max_distance=%d\n", res.Messages, res.Docs, len(families), opts.MaxDistance)
	fmt.Fprintf(out, "dup pairs: true=%d found=%d correct=%d\n", res.TruePairs, res.FoundPairs, res.CorrectPairs)
	fmt.Fprintf(out, "dup recall of message-copy pairs by kind: %s\n", strings.Join(parts, " "))
	return nil
}

// nearDupJaccard is the shingle overlap from which two messages of the
// file are near-duplicates of each other for the evaluation's ground truth.
// It matches the sentence-drop copies, which keep at least 80% of a text.
const nearDupJaccard = 0.8

// nearDupFamilies groups the messages into families: equal bodies, and
// bodies whose sets of 4-character shingles (of the dense normalised text)
// have a Jaccard similarity of at least nearDupJaccard, joined
// transitively. This is the evaluation's ground truth, measured exactly and
// independently of the fingerprints under test. It returns the family of
// each message.
func nearDupFamilies(msgs []evalMsg) []int {
	parent := make([]int, len(msgs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) { parent[find(a)] = find(b) }

	sets := make([][]uint64, len(msgs))
	byBody := map[string]int{}
	for i, m := range msgs {
		if j, ok := byBody[m.body]; ok {
			union(i, j)
		}
		byBody[m.body] = i
		sets[i] = shingles(Normalize(m.body).Dense, 4)
	}
	// Candidates share shingles that few messages have; the exact Jaccard
	// then decides. A shingle in more than 200 messages is boilerplate.
	postings := map[uint64][]int32{}
	for i, set := range sets {
		for _, h := range set {
			postings[h] = append(postings[h], int32(i))
		}
	}
	for i, set := range sets {
		shared := map[int32]int{}
		for _, h := range set {
			if p := postings[h]; len(p) <= 200 {
				for _, j := range p {
					if int(j) < i {
						shared[j]++
					}
				}
			}
		}
		for j, n := range shared {
			if n >= 3 && jaccard(set, sets[j]) >= nearDupJaccard {
				union(i, int(j))
			}
		}
	}
	out := make([]int, len(msgs))
	for i := range out {
		out[i] = find(i)
	}
	return out
}

// shingles returns the sorted distinct hashes of the n-rune windows of s
// (s itself when shorter).
func shingles(s string, n int) []uint64 {
	rs := []rune(s)
	if len(rs) < n {
		return []uint64{tokenHash(s)}
	}
	out := make([]uint64, 0, len(rs)-n+1)
	for i := 0; i+n <= len(rs); i++ {
		out = append(out, tokenHash(string(rs[i:i+n])))
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	k := 0
	for i, h := range out {
		if i == 0 || h != out[k-1] {
			out[k] = h
			k++
		}
	}
	return out[:k]
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets.
func jaccard(a, b []uint64) float64 {
	i, j, both := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			both++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - both
	if union == 0 {
		return 1
	}
	return float64(both) / float64(union)
}

// perturb makes a near-duplicate of body; ok is false when the kind does not
// apply (no sentence can be dropped).
func perturb(body, kind string, rng *rand.Rand) (string, bool, error) {
	switch kind {
	case pertPunct:
		var b strings.Builder
		for _, r := range body {
			if !unicode.IsPunct(r) {
				b.WriteRune(r)
				continue
			}
			switch x := rng.IntN(4); {
			case x == 0: // dropped
			case x == 1 && r > 0xFF00 && r < 0xFF5F:
				b.WriteRune(r - 0xFEE0) // full width → ASCII
			case x == 1 && r > 0x20 && r < 0x7F:
				b.WriteRune(r + 0xFEE0) // ASCII → full width
			case x == 2:
				b.WriteRune([]rune("，。！？、；…")[rng.IntN(7)])
			default:
				b.WriteRune(r)
			}
		}
		return b.String(), true, nil
	case pertSpaces:
		var b strings.Builder
		for i, r := range body {
			if i > 0 && rng.IntN(8) == 0 {
				b.WriteString([]string{" ", "  ", "\u3000", "\t"}[rng.IntN(4)])
			}
			b.WriteRune(r)
		}
		return b.String(), true, nil
	case pertDropSent:
		sents := splitSentences(body)
		total := utf8.RuneCountInString(body)
		var candidates []int
		for i, s := range sents {
			if float64(total-utf8.RuneCountInString(s)) >= 0.8*float64(total) && len(sents) > 1 {
				candidates = append(candidates, i)
			}
		}
		if len(candidates) == 0 {
			return "", false, nil
		}
		drop := candidates[rng.IntN(len(candidates))]
		return strings.Join(append(append([]string(nil), sents[:drop]...), sents[drop+1:]...), ""), true, nil
	case pertTraditional:
		t, err := ToTraditional(body)
		return t, err == nil, err
	}
	return "", false, fmt.Errorf("moderation: eval: unknown perturbation %q", kind)
}

// splitSentences cuts text after 。！？!? and line breaks, keeping the
// marks with their sentence.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if strings.ContainsRune("。！？!?\n", r) {
			end := i + utf8.RuneLen(r)
			if strings.TrimSpace(text[start:end]) != "" {
				out = append(out, text[start:end])
			}
			start = end
		}
	}
	if strings.TrimSpace(text[start:]) != "" {
		out = append(out, text[start:])
	}
	return out
}

func evalHolds(msgs []evalMsg, out io.Writer, opts EvalOptions, res *EvalResult) error {
	p, err := NewPipeline(Config{Tokenizer: opts.Tokenizer, Words: opts.Words,
		Dups: NewDupIndexes(opts.MaxDistance, nil)})
	if err != nil {
		return err
	}
	ctx := context.Background()
	for i, m := range msgs {
		v, err := p.Check(ctx, evalInput(m, i, 0))
		if err != nil {
			return err
		}
		if v.Action != Publish {
			res.Held++
			if v.Action == Reject {
				res.Rejected++
			}
			if len(v.Reasons) > 0 && (v.Reasons[0].Code == CodeWordHeld || v.Reasons[0].Code == CodeWordBlocked) {
				res.HeldByWords++
			}
			if opts.Verbose {
				fmt.Fprintf(out, "held message %d: %+v %.60q\n", i+1, v.Reasons, m.body)
			}
		}
		for _, r := range v.Reasons {
			if r.Code == CodeWordFlagged && v.Action == Publish {
				res.Flagged++
				break
			}
		}
		if v.Action != Reject {
			p.Dups().Add(1, DupRow{IdeaID: int64(i + 1), ContentHash: v.ContentHash, Simhash: v.Simhash})
		}
	}
	res.FalseHoldRate = float64(res.Held) / float64(len(msgs))
	fmt.Fprintf(out, "holds of real messages (post policy): held_or_rejected=%d by_words=%d rejected=%d of %d; published with a flag: %d\n",
		res.Held, res.HeldByWords, res.Rejected, len(msgs), res.Flagged)
	return nil
}

func evalInput(m evalMsg, i, pass int) Input {
	return Input{Kind: "idea", CampaignID: 1, Policy: PolicyPost, Title: m.title, Body: m.body,
		SubmitterKey: "eval:" + strconv.Itoa(pass) + ":" + strconv.Itoa(i)}
}

func evalSpeed(msgs []evalMsg, out io.Writer, opts EvalOptions, res *EvalResult) error {
	dups := NewDupIndexes(opts.MaxDistance, nil)
	p, err := NewPipeline(Config{Tokenizer: opts.Tokenizer, Words: opts.Words, Dups: dups})
	if err != nil {
		return err
	}
	ctx := context.Background()
	// The campaign already holds every message, as a large campaign would.
	idx, _ := dups.Index(ctx, 1)
	for i, m := range msgs {
		a := p.Analyze(Input{Title: m.title, Body: m.body})
		idx.Add(DupRow{IdeaID: int64(i + 1), ContentHash: a.ContentHash, Simhash: a.Simhash})
	}
	all := make([]int, len(msgs))
	for i := range all {
		all[i] = i
	}
	wall, cpu, checks, err := speedPass(ctx, p, msgs, all, opts.Workers, opts.MinDuration)
	if err != nil {
		return err
	}
	res.Checks = checks
	res.ChecksPerSecond = float64(checks) / wall.Seconds()

	// Median-size messages: bodies between the 40th and 60th percentile
	// of length.
	bySize := append([]int(nil), all...)
	sort.Slice(bySize, func(a, b int) bool { return len(msgs[bySize[a]].body) < len(msgs[bySize[b]].body) })
	mid := bySize[len(bySize)*2/5 : max(len(bySize)*3/5, len(bySize)*2/5+1)]
	mwall, _, mchecks, err := speedPass(ctx, p, msgs, mid, opts.Workers, opts.MinDuration/2)
	if err != nil {
		return err
	}
	lo, hi := utf8.RuneCountInString(msgs[mid[0]].body), utf8.RuneCountInString(msgs[mid[len(mid)-1]].body)
	perCPU := "n/a"
	if cpu > 0 {
		perCPU = strconv.Itoa(int(float64(checks) / cpu.Seconds()))
	}
	fmt.Fprintf(out, "speed (%d workers, GOMAXPROCS %d): all messages %d checks in %.1fs = %d/s, %s per CPU-second; median-size bodies (%d–%d characters) %d/s\n",
		opts.Workers, runtime.GOMAXPROCS(0), checks, wall.Seconds(), int(res.ChecksPerSecond), perCPU, lo, hi,
		int(float64(mchecks)/mwall.Seconds()))
	return nil
}

// speedPass checks the messages at idx, in parallel, in whole passes until
// minDur has passed, and returns the wall and CPU time taken and the checks
// made. Each pass uses fresh submitter keys, so no rate rule fires.
func speedPass(ctx context.Context, p *Pipeline, msgs []evalMsg, idx []int, workers int, minDur time.Duration) (wall, cpu time.Duration, checks int, err error) {
	var failed atomic.Value
	cpu0, cpuOK := processCPU()
	start := time.Now()
	for pass := 1; pass == 1 || time.Since(start) < minDur; pass++ {
		parallel(len(idx), workers, func(k int) {
			i := idx[k]
			if _, err := p.Check(ctx, evalInput(msgs[i], i, pass)); err != nil {
				failed.Store(err)
			}
		})
		checks += len(idx)
	}
	wall = time.Since(start)
	if cpu1, ok := processCPU(); ok && cpuOK {
		cpu = cpu1 - cpu0
	}
	if e, ok := failed.Load().(error); ok {
		return 0, 0, 0, e
	}
	return wall, cpu, checks, nil
}

// parallel calls f(0..n-1) from workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
