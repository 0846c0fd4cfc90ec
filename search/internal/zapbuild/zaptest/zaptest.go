// Package zaptest writes out what a segment holds, for tests that check
// that two ways of building a segment give the same one.
package zaptest

import (
	"fmt"
	"strings"

	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Dump lists everything a reader of seg can see: its documents' ids and
// stored fields, every field's terms with their postings (document,
// frequency, norm and locations) and every document's doc values.
func Dump(seg segment.Segment) (string, error) {
	var out strings.Builder
	fields := seg.Fields()
	fmt.Fprintf(&out, "documents %d, fields %q\n", seg.Count(), fields)
	for doc := range seg.Count() {
		id, err := seg.DocID(doc)
		if err != nil {
			return "", fmt.Errorf("document %d id: %w", doc, err)
		}
		fmt.Fprintf(&out, "doc %d id %q stored:", doc, id)
		err = seg.VisitStoredFields(doc, func(field string, typ byte, value []byte, pos []uint64) bool {
			fmt.Fprintf(&out, " %s/%c/%q/%v", field, typ, value, pos)
			return true
		})
		if err != nil {
			return "", fmt.Errorf("document %d stored fields: %w", doc, err)
		}
		out.WriteByte('\n')
	}
	for _, field := range fields {
		if err := dumpField(&out, seg, field); err != nil {
			return "", fmt.Errorf("field %s: %w", field, err)
		}
	}
	dv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return out.String(), nil
	}
	dvFields, err := dv.VisitableDocValueFields()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&out, "doc values %q\n", dvFields)
	var state segment.DocVisitState
	for doc := range seg.Count() {
		fmt.Fprintf(&out, "doc %d values:", doc)
		state, err = dv.VisitDocValues(doc, dvFields, func(field string, term []byte) {
			fmt.Fprintf(&out, " %s=%q", field, term)
		}, state)
		if err != nil {
			return "", fmt.Errorf("document %d doc values: %w", doc, err)
		}
		out.WriteByte('\n')
	}
	return out.String(), nil
}

// dumpField writes field's terms and their postings.
func dumpField(out *strings.Builder, seg segment.Segment, field string) error {
	dict, err := seg.Dictionary(field)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "field %s: %d terms\n", field, dict.Cardinality())
	it := dict.AutomatonIterator(nil, nil, nil)
	for {
		entry, err := it.Next()
		if err != nil {
			return err
		}
		if entry == nil {
			return nil
		}
		pl, err := dict.PostingsList([]byte(entry.Term), nil, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %q count %d/%d:", entry.Term, entry.Count, pl.Count())
		pi := pl.Iterator(true, true, true, nil)
		for {
			p, err := pi.Next()
			if err != nil {
				return err
			}
			if p == nil {
				break
			}
			fmt.Fprintf(out, " %d×%d n%v", p.Number(), p.Frequency(), p.Norm())
			for _, l := range p.Locations() {
				fmt.Fprintf(out, " @%s:%d:%d-%d%v", l.Field(), l.Pos(), l.Start(), l.End(), l.ArrayPositions())
			}
		}
		out.WriteByte('\n')
	}
}

// Compare reports, as an error, the first difference between what a reader
// sees in want and in got (their Dumps); nil if there is none.
func Compare(want, got segment.Segment) error {
	w, err := Dump(want)
	if err != nil {
		return fmt.Errorf("first segment: %w", err)
	}
	g, err := Dump(got)
	if err != nil {
		return fmt.Errorf("second segment: %w", err)
	}
	if w != g {
		return fmt.Errorf("the segments read differently: %s", firstDifference(w, g))
	}
	return nil
}

// firstDifference describes the first line where dumps a and b differ.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			at := 0
			for at < min(len(al[i]), len(bl[i])) && al[i][at] == bl[i][at] {
				at++
			}
			from := max(0, at-150)
			return fmt.Sprintf("line %d, from byte %d:\n  first:  %.300s\n  second: %.300s", i, from, al[i][from:], bl[i][from:])
		}
	}
	return fmt.Sprintf("the first has %d lines, the second %d", len(al), len(bl))
}
