//go:build !vectors

package zapbuild

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

	"jindianzi/search/internal/zapbuild/zaptest"
)

// testDocs maps n random documents with Bleve's default mapping: text
// with term vectors and doc values, stored, into _all; numbers; dates;
// with arrays, also fields given more than once.
func testDocs(t *testing.T, n int, seed uint64, arrays bool) []index.Document {
	t.Helper()
	m := mapping.NewIndexMapping()
	words := strings.Fields("城市 文明 斑马线 公交 电梯 小区 停车 路灯 a7 k2 2019 wifi 垃圾 分类 学区 护学岗")
	r := rand.New(rand.NewPCG(seed, 1))
	text := func(k int) string {
		var b strings.Builder
		for range 1 + r.IntN(k) {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	docs := make([]index.Document, 0, n)
	for i := range n {
		// A struct, not a map: the mapping walks it in the same order every
		// time, and _all's locations come in that order.
		data := testData{
			Title:  text(6),
			Status: []string{"published", "pending", "hidden"}[r.IntN(3)],
		}
		if r.IntN(3) > 0 { // not every document has every field
			body, supports := text(60), float64(r.IntN(500))
			created := time.Date(2026, 1, 1+r.IntN(300), 0, 0, 0, 0, time.UTC)
			data.Body, data.Supports, data.Created = &body, &supports, &created
		}
		if arrays && r.IntN(4) == 0 {
			data.Tags = []string{text(2), text(2)}
		}
		doc := document.NewDocument(fmt.Sprintf("idea-%05d", i))
		if err := m.MapDocument(doc, data); err != nil {
			t.Fatal(err)
		}
		doc.AddIDField()
		analyze(doc)
		docs = append(docs, doc)
	}
	return docs
}

// testData is a document testDocs maps.
type testData struct {
	Title    string     `json:"title"`
	Status   string     `json:"status"`
	Body     *string    `json:"body,omitempty"`
	Supports *float64   `json:"supports,omitempty"`
	Created  *time.Time `json:"created,omitempty"`
	Tags     []string   `json:"tags,omitempty"`
}

// analyze is what scorch does to a document before it builds a segment.
func analyze(d index.Document) {
	d.VisitFields(func(f index.Field) {
		if !f.Options().IsIndexed() {
			return
		}
		f.Analyze()
		if d.HasComposite() && f.Name() != "_id" {
			d.VisitComposite(func(cf index.CompositeField) {
				cf.Compose(f.Name(), f.AnalyzedLength(), f.AnalyzedTokenFrequencies())
			})
		}
	})
}

// dump is zaptest.Dump, failing t on an error.
func dump(t *testing.T, seg segment.Segment) string {
	t.Helper()
	s, err := zaptest.Dump(seg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSegmentsRead builds segments of random documents with zapx and with
// this package, and checks that zapx reads the same from both, in memory
// and written to disk: sizes across postings chunks (1,024 documents) and
// documents missing fields.
func TestSegmentsRead(t *testing.T) {
	for _, n := range []int{1, 7, 1030, 2600} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			docs := testDocs(t, n, uint64(n), false)
			if !Handles(docs) {
				t.Fatal("documents without arrays should be built here")
			}
			want, _, err := (&zap.ZapPlugin{}).New(docs)
			if err != nil {
				t.Fatal(err)
			}
			b := builders.Get().(*builder)
			b.docs = docs
			if !b.collect() {
				t.Fatal("collect gave up on documents with ids")
			}
			got, _, err := b.build(nil, nil)
			b.release()
			if err != nil {
				t.Fatal(err)
			}
			if err := zaptest.Compare(want, got); err != nil {
				t.Fatalf("zapx first, zapbuild second: %v", err)
			}
			if g := dump(t, got); !strings.Contains(g, "@title:") || !strings.Contains(g, "doc values") {
				t.Fatalf("the dump shows no locations or doc values:\n%.500s", g)
			}
			for i, opened := range zaptest.Persist(t, t.TempDir(), want, got) {
				if err := zaptest.Compare(want, opened); err != nil {
					t.Fatalf("zapx's in memory first, %s's from disk second: %v", []string{"zapx", "zapbuild"}[i], err)
				}
			}
		})
	}
}

// TestPluginReusesBuilders builds segments of different documents one
// after the other, as a pooled builder does, and with fields twice in a
// document, which go to zapx.
func TestPluginReusesBuilders(t *testing.T) {
	p := &Plugin{}
	for i, arrays := range []bool{false, true, false, true, false} {
		// zapx merges a field given twice into the first one's term
		// frequencies, so each build gets documents of its own.
		want, _, err := (&zap.ZapPlugin{}).New(testDocs(t, 300+i*50, uint64(100+i), arrays))
		if err != nil {
			t.Fatal(err)
		}
		docs := testDocs(t, 300+i*50, uint64(100+i), arrays)
		if Handles(docs) == arrays {
			t.Fatalf("segment %d (arrays %v): Handles says %v", i, arrays, !arrays)
		}
		got, _, err := p.New(docs)
		if err != nil {
			t.Fatal(err)
		}
		if err := zaptest.Compare(want, got); err != nil {
			t.Fatalf("segment %d (arrays %v), zapx first: %v", i, arrays, err)
		}
	}
}

// TestSectionTypes checks that sections lists the section types zapx
// writes for a field, read from a segment file zapx wrote.
func TestSectionTypes(t *testing.T) {
	seg, _, err := (&zap.ZapPlugin{}).New(testDocs(t, 3, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.zap")
	if err := zap.PersistSegmentBase(seg.(*zap.SegmentBase), path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The footer ends: sections index offset (8 bytes), chunk mode,
	// version and CRC (4 each).
	footer := len(data) - 4 - 4 - 4 - 8
	sectionsIndex := binary.BigEndian.Uint64(data[footer:])
	rest := data[sectionsIndex:]
	numFields, n := binary.Uvarint(rest)
	if numFields == 0 {
		t.Fatal("no fields")
	}
	first := binary.BigEndian.Uint64(rest[n:])
	field := data[first:]
	nameLen, n := binary.Uvarint(field)
	field = field[n+int(nameLen):]
	_, n = binary.Uvarint(field) // options
	field = field[n:]
	count, n := binary.Uvarint(field)
	field = field[n:]
	var types []uint16
	for range count {
		types = append(types, binary.BigEndian.Uint16(field))
		field = field[2+8:]
	}
	slices.Sort(types)
	if !slices.Equal(types, sections) {
		t.Fatalf("zapx writes sections %v for a field, this package %v", types, sections)
	}
}

// TestDeclaredFields builds one segment of documents without a body and
// one of documents with one, declaring every field (FieldsKey): both list
// the same fields with the same options, which lets zapx merge them by
// copying bytes, and the merged segment reads the same as the merge of
// the two segments zapx builds, which list different fields.
func TestDeclaredFields(t *testing.T) {
	split := func() (without, with []index.Document) { return splitByBody(testDocs(t, 400, 7, false)) }
	declared := map[string]index.FieldIndexingOptions{}
	without, with := split()
	for _, d := range append(without, with...) {
		visit := func(f index.Field) {
			if f.Name() != "_id" {
				declared[f.Name()] |= f.Options()
			}
		}
		d.VisitComposite(func(f index.CompositeField) { visit(f) })
		d.VisitFields(visit)
	}
	if len(without) == 0 || len(with) == 0 {
		t.Fatalf("%d documents without a body and %d with one: want some of each", len(without), len(with))
	}
	zapxSegs := make([]segment.Segment, 2)
	ours := make([]segment.Segment, 2)
	p := &Plugin{}
	var err error
	for i, docs := range [][]index.Document{without, with} {
		if zapxSegs[i], _, err = (&zap.ZapPlugin{}).New(docs); err != nil {
			t.Fatal(err)
		}
	}
	without, with = split()
	for i, docs := range [][]index.Document{without, with} {
		if ours[i], _, err = p.NewUsing(docs, map[string]any{FieldsKey: declared}); err != nil {
			t.Fatal(err)
		}
	}
	fields := func(s segment.Segment) []string { return s.(*zap.SegmentBase).Fields() }
	if slices.Equal(fields(zapxSegs[0]), fields(zapxSegs[1])) {
		t.Fatalf("zapx's segments list the same fields %v: the test needs them to differ", fields(zapxSegs[0]))
	}
	if !slices.Equal(fields(ours[0]), fields(ours[1])) || !slices.Contains(fields(ours[0]), "body") {
		t.Fatalf("zapbuild's segments list %v and %v, want the same, with body", fields(ours[0]), fields(ours[1]))
	}
	dict, err := ours[0].Dictionary("body")
	if err != nil {
		t.Fatal(err)
	}
	if it := dict.AutomatonIterator(nil, nil, nil); it != nil {
		if e, err := it.Next(); e != nil || err != nil {
			t.Fatalf("the declared body of documents without one has term %v (%v)", e, err)
		}
	}
	dir := t.TempDir()
	merged := map[string]segment.Segment{}
	for name, segs := range map[string][]segment.Segment{"zapx": zapxSegs, "zapbuild": ours} {
		path := filepath.Join(dir, name+".zap")
		if _, _, err := (&zap.ZapPlugin{}).Merge(segs, make([]*roaring.Bitmap, 2), path, nil, nil); err != nil {
			t.Fatal(err)
		}
		if merged[name], err = (&zap.ZapPlugin{}).Open(path); err != nil {
			t.Fatal(err)
		}
		defer merged[name].Close()
	}
	if err := zaptest.Compare(merged["zapx"], merged["zapbuild"]); err != nil {
		t.Fatalf("merged, zapx first: %v", err)
	}
}
