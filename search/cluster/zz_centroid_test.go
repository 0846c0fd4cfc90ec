package cluster

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// centroidMerge joins groups of ≥ 2 whose centroids' cosine is ≥ t2
// (greedy, highest first, centroids not updated).
func (c *Clustering) centroidMerge(t2 float64) {
	type cen struct {
		g    int
		m    map[int32]float64
		norm float64
	}
	var cs []cen
	for g, mem := range c.groups {
		if len(mem) < 2 {
			continue
		}
		m := map[int32]float64{}
		for _, i := range mem {
			for k, t := range c.vecs[i].idx {
				m[t] += float64(c.vecs[i].val[k])
			}
		}
		var n float64
		for _, v := range m {
			n += v * v
		}
		cs = append(cs, cen{g, m, math.Sqrt(n)})
	}
	type pr struct {
		a, b int
		s    float64
	}
	var prs []pr
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			var d float64
			for t, v := range cs[i].m {
				d += v * cs[j].m[t]
			}
			s := d / (cs[i].norm * cs[j].norm)
			if s >= t2 {
				prs = append(prs, pr{cs[i].g, cs[j].g, s})
			}
		}
	}
	slices.SortFunc(prs, func(x, y pr) int {
		if x.s > y.s {
			return -1
		}
		if x.s < y.s {
			return 1
		}
		return 0
	})
	parent := map[int]int{}
	find := func(g int) int {
		for {
			p, ok := parent[g]
			if !ok {
				return g
			}
			g = p
		}
	}
	for _, p := range prs {
		a, b := find(p.a), find(p.b)
		if a == b {
			continue
		}
		a, b = min(a, b), max(a, b)
		if os.Getenv("JDZ_PAIRS") != "" && len(c.groups[a]) > 0 {
			fmt.Printf("merge %.2f %d+%d %s | %s\n", p.s, len(c.groups[a]), len(c.groups[b]), c.describe(a).Keywords, c.describe(b).Keywords)
		}
		parent[b] = a
		for _, i := range c.groups[b] {
			c.group[i] = a
		}
		c.groups[a] = mergeSorted(c.groups[a], c.groups[b])
		c.groups[b] = nil
	}
}

func TestCentroidMerge(t *testing.T) {
	if os.Getenv("JDZ_EXPERIMENT") == "" {
		t.Skip()
	}
	hot := loadRecords(t, hotCSV, 0)
	msgs := loadRecords(t, messagesCSV, 0)
	t2, _ := strconv.ParseFloat(os.Getenv("JDZ_T2"), 64)
	for _, recs := range [][]Record{msgs, hot} {
		in := make([]Item, len(recs))
		refs := map[int64]string{}
		byID := map[int64]Record{}
		for i, r := range recs {
			in[i] = r.Item
			refs[r.ID] = r.Ref
			byID[r.ID] = r
		}
		c := New(in, Options{Tokenizer: testTok, HalfLife: 1 << 62})
		c.centroidMerge(t2)
		cs := c.Clusters()
		p, _ := Purity(cs, refs, 3)
		multi := 0
		for _, x := range cs {
			if x.Size >= 2 {
				multi++
			}
		}
		fmt.Printf("t2=%.2f clusters=%d purity=%.3f\n", t2, multi, p)
		if len(recs) == len(hot) {
			for n, x := range cs[:30] {
				var titles []string
				for _, id := range x.Members[:min(4, len(x.Members))] {
					ti, _, _ := strings.Cut(byID[id].Text, "\n")
					titles = append(titles, []string{string([]rune(ti)[:min(14, len([]rune(ti)))])}...)
				}
				fmt.Printf("#%d size=%d %v %v\n", n+1, x.Size, x.Keywords, titles)
			}
		}
	}
}
