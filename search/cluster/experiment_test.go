package cluster

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExperiment prints the measurements behind MEASUREMENTS.md:
// JDZ_EXPERIMENT=1 go test -run Experiment -v.
func TestExperiment(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the clustering measurements")
	}
	msgs := loadRecords(t, messagesCSV, 0)
	hot := loadRecords(t, hotCSV, 0)
	ths := []float64{0.2, 0.25, 0.3, 0.35, 0.4, 0.5}
	if s := os.Getenv("JDZ_TH"); s != "" {
		v, _ := strconv.ParseFloat(s, 64)
		ths = []float64{v}
	}
	for _, th := range ths {
		o := Options{Tokenizer: testTok, Threshold: th, HalfLife: 1 << 62}
		refs := map[int64]string{}
		items := make([]Item, len(msgs))
		for i, r := range msgs {
			items[i] = r.Item
			refs[r.ID] = r.Ref
		}
		start := time.Now()
		cs := Build(items, o)
		secs := time.Since(start).Seconds()
		p, _ := Purity(cs, refs, 3)
		dr, _, _ := DupPairRecall(cs, msgs)
		multi, inMulti := 0, 0
		for _, c := range cs {
			if c.Size >= 2 {
				multi++
				inMulti += c.Size
			}
		}
		hitems := make([]Item, len(hot))
		for i, r := range hot {
			hitems[i] = r.Item
		}
		hs := Build(hitems, o)
		hmulti, hin, big := 0, 0, 0
		for _, c := range hs {
			if c.Size >= 2 {
				hmulti++
				hin += c.Size
			}
			if c.Size >= 5 {
				big++
			}
		}
		fmt.Printf("| %.2f | %d | %d | %.3f | %.2f | %d | %d | %d | %.2f |\n", th, multi, inMulti, p, dr, hmulti, hin, big, secs)
		if os.Getenv("JDZ_SHOW") != "" {
			byID := map[int64]Record{}
			for _, r := range hot {
				byID[r.ID] = r
			}
			for n, c := range hs[:min(len(hs), 25)] {
				fmt.Printf("#%d size=%d supports=%d %v\n", n+1, c.Size, c.Supports, c.Keywords)
				for _, id := range c.Members[:min(len(c.Members), 12)] {
					title, _, _ := strings.Cut(byID[id].Text, "\n")
					fmt.Printf("     %s\n", title)
				}
			}
		}
	}
}

// TestExperimentMethods compares average linkage with two cheaper rules at
// the same thresholds: single linkage (connected components of the pairs at
// least th alike) and leader clustering (one pass in ID order, each idea
// joining the earlier group it is on average most alike, as Assign does).
func TestExperimentMethods(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip("set JDZ_EXPERIMENT=1 to run the clustering measurements")
	}
	msgs := loadRecords(t, messagesCSV, 0)
	hot := loadRecords(t, hotCSV, 0)
	for _, th := range []float64{0.2, 0.25, 0.3} {
		for _, method := range []string{"average+centroids", "average", "single", "leader"} {
			var row []string
			for _, recs := range [][]Record{msgs, hot} {
				in := make([]Item, len(recs))
				refs := map[int64]string{}
				for i, r := range recs {
					in[i] = r.Item
					refs[r.ID] = r.Ref
				}
				start := time.Now()
				var cs []Cluster
				switch method {
				case "average+centroids":
					cs = Build(in, Options{Tokenizer: testTok, Threshold: th, HalfLife: 1 << 62})
				case "average":
					cs = Build(in, Options{Tokenizer: testTok, Threshold: th, HalfLife: 1 << 62, averageOnly: true})
				default:
					c := New(in, Options{Tokenizer: testTok, Threshold: 2, HalfLife: 1 << 62, averageOnly: true})
					if method == "single" {
						c.singleLink(th)
					} else {
						c.leader(th)
					}
					cs = c.Clusters()
				}
				secs := time.Since(start).Seconds()
				p, _ := Purity(cs, refs, 3)
				multi, biggest := 0, 0
				for _, c := range cs {
					if c.Size >= 2 {
						multi++
					}
					biggest = max(biggest, c.Size)
				}
				row = append(row, fmt.Sprintf("%d | %d | %.3f | %.2f", multi, biggest, p, secs))
			}
			fmt.Printf("| %s | %.2f | %s |\n", method, th, strings.Join(row, " | "))
		}
	}
}

// regroup rebuilds groups from an item → root assignment.
func (c *Clustering) regroup(root func(i int) int) {
	n := len(c.items)
	ids := map[int]int{}
	c.groups = c.groups[:0]
	for i := range n {
		r := root(i)
		g, ok := ids[r]
		if !ok {
			g = len(c.groups)
			ids[r] = g
			c.groups = append(c.groups, nil)
		}
		c.group[i] = g
		c.groups[g] = append(c.groups[g], i)
	}
}

func (c *Clustering) singleLink(th float64) {
	parent := make([]int, len(c.items))
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
	union := func(a, b int) {
		a, b = find(a), find(b)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	for i := range c.items { // duplicates stay together
		union(i, c.groups[c.group[i]][0])
	}
	for _, e := range c.similarities() {
		if float64(e.sim) >= th {
			union(int(e.i), int(e.j))
		}
	}
	c.regroup(find)
}

func (c *Clustering) leader(th float64) {
	n := len(c.items)
	dup := slices.Clone(c.group)
	first := map[int]int{} // dup group → item's leader group
	c.groups = c.groups[:0]
	for i := range n {
		if g, ok := first[dup[i]]; ok {
			c.group[i] = g
			c.groups[g] = append(c.groups[g], i)
			continue
		}
		sums := map[int]float64{}
		v := c.vecs[i]
		for k, t := range v.idx {
			for _, p := range c.postings[t] {
				if int(p.item) >= i {
					break
				}
				sums[c.group[p.item]] += float64(v.val[k]) * float64(p.w)
			}
		}
		best, bestAvg := -1, th
		for g, s := range sums {
			avg := s / float64(len(c.groups[g]))
			if avg > bestAvg || (avg == bestAvg && g < best) {
				best, bestAvg = g, avg
			}
		}
		if best < 0 {
			best = len(c.groups)
			c.groups = append(c.groups, nil)
		}
		c.group[i] = best
		c.groups[best] = append(c.groups[best], i)
		first[dup[i]] = best
	}
}
