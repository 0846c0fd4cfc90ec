package cluster

import (
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func testItems(t testing.TB) []Record {
	t.Helper()
	f, err := os.Open("testdata/ideas.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadCSV(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func items(recs []Record) []Item {
	out := make([]Item, len(recs))
	for i, r := range recs {
		out[i] = r.Item
	}
	return out
}

// clusterOf maps each item ID to the ID of its cluster.
func clusterOf(cs []Cluster) map[int64]int64 {
	m := map[int64]int64{}
	for _, c := range cs {
		for _, id := range c.Members {
			m[id] = c.ID
		}
	}
	return m
}

func TestBuildGroupsMatters(t *testing.T) {
	recs := testItems(t)
	cs := Build(items(recs), Options{Tokenizer: testTok})
	for _, c := range cs {
		t.Logf("%d: size %d score %.2f %v rep %d %v", c.ID, c.Size, c.Score, c.Members, c.Representative, c.Keywords)
	}
	where := clusterOf(cs)
	// Ideas about one matter share a cluster; different matters do not.
	for _, group := range [][]int64{{1, 2, 3, 4}, {5, 6, 7}, {8, 9, 10}, {14, 15}, {16, 17}} {
		for _, id := range group[1:] {
			if where[id] != where[group[0]] {
				t.Errorf("ideas %d and %d are in different clusters", group[0], id)
			}
		}
	}
	if where[1] == where[5] || where[5] == where[8] || where[1] == where[8] {
		t.Error("different matters share a cluster")
	}
	for _, id := range []int64{11, 12, 13} {
		for other, c := range where {
			if other != id && c == where[id] {
				t.Errorf("unrelated idea %d clustered with %d", id, other)
			}
		}
	}
	// The hottest is the biggest recent matter with supports.
	top := cs[0]
	if top.ID != 1 || top.Size != 4 || top.Supports != 9 {
		t.Errorf("top cluster = %+v, want the parking matter (1–4, 9 supports)", top)
	}
	if !top.First.Equal(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)) || !top.Last.Equal(time.Date(2024, 3, 9, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("date span %v – %v", top.First, top.Last)
	}
	if !slices.Contains(top.Members, top.Representative) {
		t.Errorf("representative %d is not a member", top.Representative)
	}
	if !slices.Contains(top.Keywords, "停车位") && !slices.Contains(top.Keywords, "阳光") {
		t.Errorf("keywords %v do not name the matter", top.Keywords)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Score > cs[i-1].Score {
			t.Errorf("clusters not ranked by score at %d", i)
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	in := items(testItems(t))
	want := Build(in, Options{Tokenizer: testTok})
	for seed := range uint64(5) {
		shuffled := slices.Clone(in)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Build(shuffled, Options{Tokenizer: testTok, Workers: 1 + int(seed%3)}); !reflect.DeepEqual(got, want) {
			t.Fatalf("order %d gave different clusters:\n%+v\nwant\n%+v", seed, got, want)
		}
	}
}

func TestDuplicatesAlwaysTogether(t *testing.T) {
	// At a threshold no pair of different texts reaches, only duplicates
	// (equal after dropping punctuation and case) join, even with no terms.
	in := []Item{
		{ID: 1, Text: "菜市场周边占道经营严重"},
		{ID: 2, Text: "菜市场周边，占道经营严重！"},
		{ID: 3, Text: "菜市场周边占道经营很严重"},
		{ID: 4, Text: "？？"},
		{ID: 5, Text: "？？"},
		{ID: 6, Text: "ABC"},
		{ID: 7, Text: "abc"},
	}
	where := clusterOf(Build(in, Options{Tokenizer: testTok, Threshold: 1.01}))
	if where[1] != where[2] || where[4] != where[5] || where[6] != where[7] {
		t.Errorf("duplicates split: %v", where)
	}
	if where[1] == where[3] {
		t.Errorf("a near-duplicate joined above any possible threshold: %v", where)
	}
}

func TestLabelsKeepApart(t *testing.T) {
	in := []Item{
		{ID: 1, Text: "阳光小区停车难，车位太少", Label: "交通"},
		{ID: 2, Text: "阳光小区停车难，车位太少", Label: "环境"},
		{ID: 3, Text: "阳光小区停车难，车位严重不足", Label: "交通"},
	}
	where := clusterOf(Build(in, Options{Tokenizer: testTok}))
	if where[1] == where[2] {
		t.Error("items with different labels share a cluster")
	}
	if where[1] != where[3] {
		t.Error("items of one label and one matter are apart")
	}
}

func TestAssign(t *testing.T) {
	recs := testItems(t)
	var build, later []Item
	for _, r := range recs {
		if r.ID == 4 || r.ID == 15 {
			later = append(later, r.Item)
		} else {
			build = append(build, r.Item)
		}
	}
	c := New(build, Options{Tokenizer: testTok})
	before := len(c.Clusters())
	// A fourth letter about the parking joins the parking cluster.
	got, created := c.Assign(later[0])
	if created || got.ID != 1 || got.Size != 4 || !slices.Contains(got.Members, 4) {
		t.Errorf("Assign(parking) = %+v, new %v", got, created)
	}
	// A duplicate joins its twin.
	got, created = c.Assign(later[1])
	if created || !slices.Equal(got.Members, []int64{14, 15}) {
		t.Errorf("Assign(duplicate) = %+v, new %v", got, created)
	}
	// Something new starts its own cluster.
	got, created = c.Assign(Item{ID: 100, Text: "希望增加夜间地铁班次，末班车太早", Created: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)})
	if !created || got.Size != 1 || got.ID != 100 {
		t.Errorf("Assign(new matter) = %+v, new %v", got, created)
	}
	if n := len(c.Clusters()); n != before+1 {
		t.Errorf("%d clusters after assigning, want %d", n, before+1)
	}
	// Assign agrees with building everything at once.
	all := Build(items(recs), Options{Tokenizer: testTok})
	inc := clusterOf(c.Clusters())
	for id, cl := range clusterOf(all) {
		for id2, cl2 := range clusterOf(all) {
			if (cl == cl2) != (inc[id] == inc[id2]) {
				t.Errorf("ideas %d and %d: together %v in Build, %v after Assign", id, id2, cl == cl2, inc[id] == inc[id2])
			}
		}
	}
}

func TestHotScore(t *testing.T) {
	const day = 24 * time.Hour
	hl := 30 * day
	for _, tc := range []struct {
		size, supports int
		age            time.Duration
		want           float64
	}{
		{1, 0, 0, 1},
		{10, 0, 0, 10},
		{1, 1, 0, 1 + math.Ln2},
		{4, 0, hl, 2},
		{4, 0, 2 * hl, 1},
		{4, 0, -day, 4}, // from the future: not boosted
		{2, -5, 0, 2},   // negative supports count as none
	} {
		if got := HotScore(tc.size, tc.supports, tc.age, hl); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("HotScore(%d, %d, %v) = %v, want %v", tc.size, tc.supports, tc.age, got, tc.want)
		}
	}
	if HotScore(20, 0, 0, hl) <= HotScore(1, 2000, 0, hl) {
		t.Error("one viral idea outranks twenty letters")
	}
}

func TestNoDates(t *testing.T) {
	cs := Build([]Item{{ID: 1, Text: "解放路路面破损"}, {ID: 2, Text: "解放路路面破损严重"}}, Options{Tokenizer: testTok})
	if len(cs) != 1 || !cs[0].First.IsZero() || cs[0].Score != 2 {
		t.Errorf("undated ideas: %+v", cs)
	}
	if cs := Build(nil, Options{Tokenizer: testTok}); len(cs) != 0 {
		t.Errorf("Build(nil) = %v", cs)
	}
}

func TestReadCSV(t *testing.T) {
	recs, err := ReadCSV(strings.NewReader("body,likes,time\n第一条,3,2024-01-02 03:04:05\n第二条,,\n"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != 101 || recs[1].ID != 102 || recs[0].Supports != 3 ||
		recs[0].Created.Year() != 2024 || recs[0].Text != "第一条" {
		t.Errorf("records = %+v", recs)
	}
	if _, err := ReadCSV(strings.NewReader("title\nx\n"), 0); err == nil {
		t.Error("a file without a body column was accepted")
	}
}

func TestPurityAndDupRecall(t *testing.T) {
	cs := []Cluster{
		{ID: 1, Size: 3, Members: []int64{1, 2, 3}},
		{ID: 4, Size: 2, Members: []int64{4, 5}},
		{ID: 6, Size: 1, Members: []int64{6}},
	}
	refs := map[int64]string{1: "a", 2: "a", 3: "b", 4: "a", 5: "b"}
	if p, ok := Purity(cs, refs, 3); !ok || math.Abs(p-2.0/3) > 1e-9 {
		t.Errorf("purity %v %v", p, ok)
	}
	if _, ok := Purity(cs, nil, 3); ok {
		t.Error("purity without labels")
	}
	recs := []Record{{Item: Item{ID: 1}, Body: "x"}, {Item: Item{ID: 2}, Body: "x"}, {Item: Item{ID: 6}, Body: "x"}, {Item: Item{ID: 4}, Body: "y"}}
	if r, pairs, ok := DupPairRecall(cs, recs); !ok || pairs != 3 || math.Abs(r-1.0/3) > 1e-9 {
		t.Errorf("dup recall %v of %d", r, pairs)
	}
}

// TestRealMessages guards the measured quality on the labelled messages:
// purity of clusters of 3 or more against the labels, and duplicates kept
// together.
func TestRealMessages(t *testing.T) {
	recs := loadRecords(t, messagesCSV, 0)
	refs := map[int64]string{}
	for _, r := range recs {
		refs[r.ID] = r.Ref
	}
	cs := Build(items(recs), Options{Tokenizer: testTok})
	p, _ := Purity(cs, refs, 3)
	r, pairs, _ := DupPairRecall(cs, recs)
	t.Logf("purity %.3f, %d duplicate pairs, recall %.3f", p, pairs, r)
	if p < 0.85 || r < 0.95 {
		t.Errorf("purity %.3f dup_pair_recall %.3f, want ≥ 0.85 and ≥ 0.95", p, r)
	}
}

// BenchmarkBuild10k clusters 10,000 real messages: both files, then the
// labelled ones again with their sentences in reverse order (new texts,
// same words), the way the eval's 10k input is made.
func BenchmarkBuild10k(b *testing.B) {
	msgs := loadRecords(b, messagesCSV, 0)
	hot := loadRecords(b, hotCSV, int64(len(msgs)))
	var in []Item
	for _, r := range append(msgs, hot...) {
		in = append(in, r.Item)
	}
	for i := 0; len(in) < 10000; i++ {
		it := msgs[i%len(msgs)].Item
		parts := strings.Split(it.Text, "。")
		slices.Reverse(parts)
		it.Text = strings.Join(parts, "。")
		it.ID = int64(len(in) + 1)
		in = append(in, it)
	}
	for i := range in {
		in[i].ID = int64(i + 1)
	}
	b.ResetTimer()
	for b.Loop() {
		cs := Build(in, Options{Tokenizer: testTok})
		b.ReportMetric(float64(len(cs)), "clusters")
	}
}

func TestNoTokenizer(t *testing.T) {
	cs := Build([]Item{{ID: 1, Text: "pothole on Main Street"}, {ID: 2, Text: "Main Street pothole!"}, {ID: 3, Text: "library hours"}}, Options{})
	if where := clusterOf(cs); where[1] != where[2] || where[1] == where[3] {
		t.Errorf("without a tokenizer: %v", where)
	}
}
