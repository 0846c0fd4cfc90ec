package cluster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Record is one row of an evaluation CSV: an item, the body it was made
// from and, when the file has one, its reference label (never clustered
// on; Purity compares with it).
type Record struct {
	Item
	// Body is the body column alone (duplicates are judged on it).
	Body string
	// Ref is the label column, "" when the file has none.
	Ref string
}

// ReadCSV reads an evaluation file with a header row. It needs a "body"
// column; "id", "title", "time" (YYYY-MM-DD HH:MM:SS), "likes" (supports)
// and "label" are used when present. Item.Text is the title and body;
// Item.Label stays empty so labels cannot steer the clustering. Rows
// without an id are numbered from idBase+1 in file order.
func ReadCSV(r io.Reader, idBase int64) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cluster: read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["body"]; !ok {
		return nil, errors.New(`cluster: CSV has no "body" column`)
	}
	var out []Record
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: read CSV: %w", err)
		}
		line++
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		r := Record{Body: get("body"), Ref: get("label")}
		r.ID = idBase + int64(len(out)) + 1
		if s := get("id"); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("cluster: line %d: bad id %q", line, s)
			}
			r.ID = id
		}
		title := get("title")
		r.Text = r.Body
		if title != "" {
			r.Text = title + "\n" + r.Body
		}
		if s := get("time"); s != "" {
			if t, err := time.Parse(time.DateTime, s); err == nil {
				r.Created = t
			}
		}
		if s := get("likes"); s != "" {
			r.Supports, _ = strconv.Atoi(s)
		}
		out = append(out, r)
	}
	return out, nil
}

// Purity is, over clusters of at least minSize members, the share of
// members that carry their cluster's most common reference label. refs
// maps item IDs to labels; members without one are not counted. ok is false
// when no cluster qualifies.
func Purity(clusters []Cluster, refs map[int64]string, minSize int) (purity float64, ok bool) {
	var total, pure int
	for _, c := range clusters {
		if c.Size < minSize {
			continue
		}
		counts := map[string]int{}
		n, best := 0, 0
		for _, id := range c.Members {
			l, found := refs[id]
			if !found || l == "" {
				continue
			}
			counts[l]++
			n++
			best = max(best, counts[l])
		}
		total += n
		pure += best
	}
	if total == 0 {
		return 0, false
	}
	return float64(pure) / float64(total), true
}

// DupPairRecall is the share of pairs of records with the same body that
// share a cluster; ok is false when there are no such pairs.
func DupPairRecall(clusters []Cluster, records []Record) (recall float64, pairs int, ok bool) {
	where := map[int64]int{}
	for ci, c := range clusters {
		for _, id := range c.Members {
			where[id] = ci
		}
	}
	byBody := map[string][]int64{}
	for _, r := range records {
		if r.Body != "" {
			byBody[r.Body] = append(byBody[r.Body], r.ID)
		}
	}
	together := 0
	for _, ids := range byBody {
		for a := range ids {
			for b := a + 1; b < len(ids); b++ {
				pairs++
				if where[ids[a]] == where[ids[b]] {
					together++
				}
			}
		}
	}
	if pairs == 0 {
		return 0, 0, false
	}
	return float64(together) / float64(pairs), pairs, true
}
