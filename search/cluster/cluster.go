// Package cluster groups ideas about the same concrete matter (one
// compound's parking, one road's repairs) and ranks the groups as hot issues.
//
// Ideas are tf-idf vectors of their jieba words; Build joins them by average
// linkage (UPGMA) over the graph of cosine similarities until no two groups
// are, on average, at least Options.Threshold alike, then joins groups whose
// centroids are very alike (one matter in two wordings). Exact duplicates
// are joined before anything else, so they always share a cluster. Assign
// places a later idea by the average-linkage rule without rebuilding.
// MEASUREMENTS.md records the choices and the numbers behind them.
package cluster

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Item is one idea to cluster. Items with different Labels (campaign or
// theme) never share a cluster.
type Item struct {
	// ID identifies the idea.
	ID int64
	// Text is what is compared: the idea's title and body.
	Text string
	// Supports are residents' co-signatures (附议).
	Supports int
	// Created is when the idea was submitted; zero if unknown.
	Created time.Time
	// Label partitions the items (campaign or theme); "" is a label too.
	Label string
}

// Cluster is a group of ideas about one matter.
type Cluster struct {
	// ID is the smallest member ID: stable while that idea stays in it.
	ID int64
	// Label is the members' Label (their campaign or theme), not a name
	// for the cluster: Keywords and Representative say what it is about.
	Label string
	// Keywords are the heaviest terms of the cluster's centroid that at
	// least two members share (for a single idea, its heaviest terms).
	Keywords []string
	// Members are the member IDs, ascending.
	Members []int64
	// Size is len(Members).
	Size int
	// Supports is the sum of the members' supports.
	Supports int
	// First and Last are the earliest and latest known Created (zero
	// when no member has a date).
	First, Last time.Time
	// Representative is the member closest to the centroid.
	Representative int64
	// Score is the hot-issue score (see HotScore).
	Score float64
}

// Options tune Build. The zero value is the measured default.
type Options struct {
	// Tokenizer cuts words (the process's jieba). Without one, terms are
	// runs of letters and digits, which serves only unsegmented languages.
	Tokenizer Tokenizer
	// Threshold is the least average cosine similarity between the members
	// of two groups for them to merge (default DefaultThreshold).
	Threshold float64
	// Now is when recency is measured (default: the latest Created).
	Now time.Time
	// HalfLife is how long it takes a cluster's recency to halve
	// (default DefaultHalfLife).
	HalfLife time.Duration
	// Keywords is how many keywords label a cluster (default 5).
	Keywords int
	// Workers is how many goroutines cut and compare texts (default 2).
	Workers int

	averageOnly bool // skip the centroid pass (to measure it)
}

// Defaults of Options, measured in MEASUREMENTS.md.
const (
	DefaultThreshold = 0.25
	DefaultHalfLife  = 90 * 24 * time.Hour
)

const (
	// maxDF drops terms found in more than this share of the texts: they
	// say what kind of letter it is, not which matter.
	maxDF = 0.1
	// maxTerms keeps the heaviest terms of each text.
	maxTerms = 40
	// centroidThreshold: after average linkage, groups of two or more whose
	// centroids have at least this cosine merge. It joins one matter
	// written two ways ("搅拌站" and "搅拌厂" near 丽发新城: 29 + 15
	// letters), whose average pairwise similarity stays under Threshold.
	centroidThreshold = 0.5
	// centroidTerms keeps the heaviest terms of each centroid.
	centroidTerms = 60
	// edgeFloor: similarities below it (or below the threshold, if that
	// is lower) count as 0 in the averages. It keeps the graph sparse;
	// such pairs could never merge on their own, and in a group they would
	// only lower its average.
	edgeFloor = 0.08
)

func (o Options) threshold() float64 {
	if o.Threshold > 0 {
		return o.Threshold
	}
	return DefaultThreshold
}

func (o Options) halfLife() time.Duration {
	if o.HalfLife > 0 {
		return o.HalfLife
	}
	return DefaultHalfLife
}

func (o Options) keywords() int {
	if o.Keywords > 0 {
		return o.Keywords
	}
	return 5
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return 2
}

// HotScore ranks clusters as hot issues:
//
//	score = size × (1 + ln(1 + supports)) × 2^(−age / half-life)
//
// where size is the number of ideas, supports their total supports and age
// the time from the cluster's latest idea to now. Size counts fully: many
// residents writing is the signal. Supports count logarithmically, so one
// idea that went viral does not outrank a matter dozens wrote about, yet a
// cluster with thousands of supports still rises (×8.6 at 2,000). Recency
// halves the score every half-life without a new idea.
func HotScore(size, supports int, age, halfLife time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	rec := math.Exp2(-float64(age) / float64(halfLife))
	return float64(size) * (1 + math.Log1p(float64(max(supports, 0)))) * rec
}

// Build clusters items and returns the clusters, hottest first. The same
// items and options always give the same clusters.
func Build(items []Item, o Options) []Cluster {
	return New(items, o).Clusters()
}

// Clustering is the result of clustering a set of items, kept so later
// items can be placed with Assign. It is not safe for concurrent use.
type Clustering struct {
	o     Options
	voc   *vocabulary
	items []Item
	vecs  []vector
	// postings[t] lists the items that have term t, ascending, with the
	// term's weight in each.
	postings [][]posting
	group    []int   // item → group
	groups   [][]int // group → items, ascending; nil once merged away
	// byHash finds the first item with a given label and normalised text.
	byHash map[dupKey]int
	now    time.Time
}

type posting struct {
	item int32
	w    float32
}

type dupKey struct {
	label string
	hash  uint64
}

// New clusters items; see Build.
func New(items []Item, o Options) *Clustering {
	if o.Tokenizer == nil {
		o.Tokenizer = runsTok{}
	}
	c := &Clustering{o: o, voc: &vocabulary{ids: map[string]int32{}}, byHash: map[dupKey]int{}}
	c.items = slices.Clone(items)
	slices.SortStableFunc(c.items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Text, b.Text))
	})
	n := len(c.items)

	// Cutting is most of the time: do it in parallel, then count in order
	// so term ids do not depend on scheduling.
	words := make([][]string, n)
	parallel(n, o.workers(), func(i int) { words[i] = o.Tokenizer.Cut(c.items[i].Text) })
	docs := make([]counted, n)
	for i := range c.items {
		docs[i] = c.voc.count(sliceTok(words[i]), c.items[i].Text, true)
		words[i] = nil
	}
	c.voc.fit(docs)
	c.vecs = make([]vector, n)
	for i, d := range docs {
		c.vecs[i] = c.voc.vectorise(d, maxDF, maxTerms)
	}
	c.postings = make([][]posting, len(c.voc.terms))
	for i, v := range c.vecs {
		for k, t := range v.idx {
			c.postings[t] = append(c.postings[t], posting{int32(i), v.val[k]})
		}
	}

	// Exact duplicates (same label, same normalised text) start as one group.
	c.group = make([]int, n)
	for i, it := range c.items {
		k := dupKey{it.Label, textHash(it.Text)}
		g := len(c.groups)
		if first, ok := c.byHash[k]; ok {
			g = c.group[first]
		} else {
			c.byHash[k] = i
			c.groups = append(c.groups, nil)
		}
		c.group[i] = g
		c.groups[g] = append(c.groups[g], i)
	}
	c.agglomerate(c.similarities())
	if !o.averageOnly {
		c.mergeCentroids()
	}
	for _, it := range c.items {
		if it.Created.After(c.now) {
			c.now = it.Created
		}
	}
	if !o.Now.IsZero() {
		c.now = o.Now
	}
	return c
}

// runsTok cuts text into runs of letters and digits.
type runsTok struct{}

func (runsTok) Cut(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return fold(r) < 0 })
}

// sliceTok replays words already cut, so counting can run apart from cutting.
type sliceTok []string

func (s sliceTok) Cut(string) []string { return s }

// edge is a similarity between two items, i < j.
type edge struct {
	i, j int32
	sim  float32
}

// similarities returns, for every pair of items with the same label that
// are at least edgeFloor alike, their cosine similarity. Rows are computed
// in parallel through the postings; each row only looks at earlier items.
func (c *Clustering) similarities() []edge {
	n := len(c.items)
	floor := min(edgeFloor, c.threshold())
	rows := make([][]edge, n)
	const chunk = 64
	var pool sync.Pool
	parallel((n+chunk-1)/chunk, c.o.workers(), func(ch int) {
		acc, _ := pool.Get().([]float64)
		if acc == nil {
			acc = make([]float64, n)
		}
		var touched []int32
		for i := ch * chunk; i < min((ch+1)*chunk, n); i++ {
			v := c.vecs[i]
			touched = touched[:0]
			for k, t := range v.idx {
				w := float64(v.val[k])
				for _, p := range c.postings[t] {
					j := p.item
					if int(j) >= i {
						break
					}
					if acc[j] == 0 {
						touched = append(touched, j)
					}
					acc[j] += w * float64(p.w)
				}
			}
			slices.Sort(touched)
			for _, j := range touched {
				s := acc[j]
				acc[j] = 0
				if s >= floor && c.items[j].Label == c.items[i].Label {
					rows[i] = append(rows[i], edge{j, int32(i), float32(s)})
				}
			}
		}
		pool.Put(acc)
	})
	var all []edge
	for _, r := range rows {
		all = append(all, r...)
	}
	return all
}

// agglomerate merges groups by average linkage: repeatedly the two groups
// whose members are most alike on average, while that average is at least
// the threshold. Pairs without an edge count as 0.
func (c *Clustering) agglomerate(edges []edge) {
	ng := len(c.groups)
	adj := make([]map[int]float64, ng) // group → neighbour → Σ similarities
	add := func(a, b int, s float64) {
		if adj[a] == nil {
			adj[a] = map[int]float64{}
		}
		adj[a][b] += s
	}
	for _, e := range edges {
		a, b := c.group[e.i], c.group[e.j]
		if a == b {
			continue
		}
		add(a, b, float64(e.sim))
		add(b, a, float64(e.sim))
	}
	size := func(g int) float64 { return float64(len(c.groups[g])) }
	version := make([]int, ng)
	th := c.threshold()
	h := &pairHeap{}
	push := func(a, b int) {
		avg := adj[a][b] / (size(a) * size(b))
		if avg < th {
			return
		}
		lo, hi := min(a, b), max(a, b)
		heap.Push(h, pair{avg: avg, a: lo, b: hi, va: version[lo], vb: version[hi]})
	}
	for a := range adj {
		for b := range adj[a] {
			if a < b {
				push(a, b)
			}
		}
	}
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		if p.va != version[p.a] || p.vb != version[p.b] || c.groups[p.a] == nil || c.groups[p.b] == nil {
			continue
		}
		// Merge b into a (a keeps the smaller index, so results do not
		// depend on which side is larger).
		a, b := p.a, p.b
		for _, i := range c.groups[b] {
			c.group[i] = a
		}
		c.groups[a] = mergeSorted(c.groups[a], c.groups[b])
		c.groups[b] = nil
		version[a]++
		version[b]++
		delete(adj[a], b)
		for x, s := range adj[b] {
			if x == a {
				continue
			}
			add(a, x, s)
			adj[x][a] += s
			delete(adj[x], b)
		}
		adj[b] = nil
		// Re-queue a's pairs in a fixed order (map order is random).
		nb := make([]int, 0, len(adj[a]))
		for x := range adj[a] {
			nb = append(nb, x)
		}
		slices.Sort(nb)
		for _, x := range nb {
			push(a, x)
		}
	}
}

func (c *Clustering) threshold() float64 { return c.o.threshold() }

// mergeCentroids joins groups of two or more, of the same label, whose
// centroids (sum of member vectors, heaviest centroidTerms terms,
// l2-normalised) have a cosine of at least centroidThreshold: greedily,
// most alike first, centroids not recomputed, so the pass cannot drift.
func (c *Clustering) mergeCentroids() {
	var gs []int
	var cents []vector
	for g, members := range c.groups {
		if len(members) < 2 {
			continue
		}
		sum := map[int32]float64{}
		for _, i := range members {
			for k, t := range c.vecs[i].idx {
				sum[t] += float64(c.vecs[i].val[k])
			}
		}
		ids := make([]int32, 0, len(sum))
		for t := range sum {
			ids = append(ids, t)
		}
		slices.SortFunc(ids, func(a, b int32) int { return cmp.Or(-cmp.Compare(sum[a], sum[b]), cmp.Compare(a, b)) })
		ids = ids[:min(len(ids), centroidTerms)]
		slices.Sort(ids)
		v := vector{idx: ids, val: make([]float32, len(ids))}
		var sq float64
		for _, t := range ids {
			sq += sum[t] * sum[t]
		}
		for k, t := range ids {
			v.val[k] = float32(sum[t] / math.Sqrt(sq))
		}
		gs = append(gs, g)
		cents = append(cents, v)
	}
	post := map[int32][]posting{}
	for k, v := range cents {
		for j, t := range v.idx {
			post[t] = append(post[t], posting{int32(k), v.val[j]})
		}
	}
	type cand struct {
		a, b int // indices into gs, a < b
		sim  float64
	}
	var cands []cand
	acc := make([]float64, len(cents))
	var touched []int32
	for b, v := range cents {
		touched = touched[:0]
		for j, t := range v.idx {
			for _, p := range post[t] {
				if int(p.item) >= b {
					break
				}
				if acc[p.item] == 0 {
					touched = append(touched, p.item)
				}
				acc[p.item] += float64(v.val[j]) * float64(p.w)
			}
		}
		for _, a := range touched {
			s := acc[a]
			acc[a] = 0
			if s >= centroidThreshold && c.items[c.groups[gs[a]][0]].Label == c.items[c.groups[gs[b]][0]].Label {
				cands = append(cands, cand{int(a), b, s})
			}
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		return cmp.Or(-cmp.Compare(x.sim, y.sim), cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	root := make([]int, len(gs))
	for i := range root {
		root[i] = i
	}
	find := func(i int) int {
		for root[i] != i {
			i = root[i]
		}
		return i
	}
	for _, x := range cands {
		a, b := find(x.a), find(x.b)
		if a == b {
			continue
		}
		a, b = min(a, b), max(a, b)
		root[b] = a
		ga, gb := gs[a], gs[b]
		for _, i := range c.groups[gb] {
			c.group[i] = ga
		}
		c.groups[ga] = mergeSorted(c.groups[ga], c.groups[gb])
		c.groups[gb] = nil
	}
}

func mergeSorted(a, b []int) []int {
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// pair is a candidate merge; va and vb are the groups' versions when it
// was queued, so entries made stale by a merge are skipped.
type pair struct {
	avg    float64
	a, b   int
	va, vb int
}

type pairHeap []pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].avg != h[j].avg {
		return h[i].avg > h[j].avg
	}
	if h[i].a != h[j].a {
		return h[i].a < h[j].a
	}
	return h[i].b < h[j].b
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Assign places a new item: into the cluster of an exact duplicate if there
// is one, else into the cluster of the same label whose members it is most
// alike on average, if that average reaches the threshold (the rule Build
// merges by), else into a new cluster of its own. Terms Build never saw are
// ignored. It returns the item's cluster and whether that cluster is new.
func (c *Clustering) Assign(it Item) (Cluster, bool) {
	d := c.voc.count(c.o.Tokenizer, it.Text, false)
	v := c.voc.vectorise(d, maxDF, maxTerms)
	i := len(c.items)
	c.items = append(c.items, it)
	c.vecs = append(c.vecs, v)
	if it.Created.After(c.now) && c.o.Now.IsZero() {
		c.now = it.Created
	}

	best, created := -1, false
	k := dupKey{it.Label, textHash(it.Text)}
	if first, ok := c.byHash[k]; ok {
		best = c.group[first]
	}
	if best < 0 {
		sums := map[int]float64{}
		for kk, t := range v.idx {
			w := float64(v.val[kk])
			for _, p := range c.postings[t] {
				if c.items[p.item].Label == it.Label {
					sums[c.group[p.item]] += w * float64(p.w)
				}
			}
		}
		bestAvg := c.threshold()
		for g, s := range sums {
			avg := s / float64(len(c.groups[g]))
			if avg > bestAvg || (avg == bestAvg && (best < 0 || g < best)) {
				best, bestAvg = g, avg
			}
		}
	}
	if best < 0 {
		best, created = len(c.groups), true
		c.groups = append(c.groups, nil)
	}
	c.group = append(c.group, best)
	c.groups[best] = append(c.groups[best], i)
	if _, ok := c.byHash[k]; !ok {
		c.byHash[k] = i
	}
	for kk, t := range v.idx {
		c.postings[t] = append(c.postings[t], posting{int32(i), v.val[kk]})
	}
	return c.describe(best), created
}

// Clusters describes every cluster, hottest first (ties: larger, then
// smaller ID first).
func (c *Clustering) Clusters() []Cluster {
	var out []Cluster
	for g, members := range c.groups {
		if members != nil {
			out = append(out, c.describe(g))
		}
	}
	slices.SortFunc(out, func(a, b Cluster) int {
		return cmp.Or(-cmp.Compare(a.Score, b.Score), -cmp.Compare(a.Size, b.Size), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// describe computes a group's statistics, keywords and representative.
func (c *Clustering) describe(g int) Cluster {
	members := c.groups[g]
	cl := Cluster{Size: len(members), ID: math.MaxInt64}
	centroid := map[int32]float64{}
	shared := map[int32]int{}
	for _, i := range members {
		it := c.items[i]
		cl.Label = it.Label
		cl.Members = append(cl.Members, it.ID)
		cl.ID = min(cl.ID, it.ID)
		cl.Supports += it.Supports
		if !it.Created.IsZero() && (cl.First.IsZero() || it.Created.Before(cl.First)) {
			cl.First = it.Created
		}
		if it.Created.After(cl.Last) {
			cl.Last = it.Created
		}
		for k, t := range c.vecs[i].idx {
			centroid[t] += float64(c.vecs[i].val[k])
			shared[t]++
		}
	}
	slices.Sort(cl.Members)
	bestSim := -1.0
	for _, i := range members {
		var s float64
		for k, t := range c.vecs[i].idx {
			s += float64(c.vecs[i].val[k]) * centroid[t]
		}
		if s > bestSim || (s == bestSim && c.items[i].ID < cl.Representative) {
			bestSim, cl.Representative = s, c.items[i].ID
		}
	}
	type tw struct {
		t int32
		w float64
	}
	var terms []tw
	for t, w := range centroid {
		if len(members) > 1 && shared[t] < 2 {
			continue
		}
		terms = append(terms, tw{t, w})
	}
	slices.SortFunc(terms, func(a, b tw) int {
		return cmp.Or(-cmp.Compare(a.w, b.w), cmp.Compare(a.t, b.t))
	})
	for _, x := range terms[:min(len(terms), c.o.keywords())] {
		cl.Keywords = append(cl.Keywords, c.voc.terms[x.t])
	}
	var age time.Duration // unknown dates do not age a cluster
	if !cl.Last.IsZero() && !c.now.IsZero() {
		age = c.now.Sub(cl.Last)
	}
	cl.Score = HotScore(cl.Size, cl.Supports, age, c.o.halfLife())
	return cl
}

// parallel runs f(0)…f(n-1) on up to workers goroutines.
func parallel(n, workers int, f func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
