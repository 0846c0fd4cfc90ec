package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

	"jindianzi/search/internal/zapbuild"
	"jindianzi/search/internal/zapbuild/zaptest"
)

// TestIdeaDocumentMatchesMapping checks that ideaDocument gives Bleve
// exactly what Batch.Index would: the same fields with the same names,
// values and options, and for the title and body the same length and term
// frequencies as Bleve's TextField analysed with TextAnalyzerName. The
// creation time and support count carry Bleve's full-precision term alone
// (pointField). Search results depend on nothing else the documents carry.
func TestIdeaDocumentMatchesMapping(t *testing.T) {
	testSegmenter(t)
	im := NewMapping()
	docs := documentTestDocs(t)

	replaced, points := 0, 0
	for _, d := range docs {
		want := document.NewDocument(d.ID)
		if err := im.MapDocument(want, toIdeaDoc(d)); err != nil {
			t.Fatal(err)
		}
		got, err := ideaDocument(im, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Fields) != len(want.Fields) || len(got.CompositeFields) != len(want.CompositeFields) {
			t.Fatalf("doc %s: %d fields and %d composites, want %d and %d", d.ID,
				len(got.Fields), len(got.CompositeFields), len(want.Fields), len(want.CompositeFields))
		}
		for i, wf := range want.Fields {
			gf := got.Fields[i]
			if _, ok := gf.(*textField); ok {
				replaced++
			}
			if gf.Name() != wf.Name() || gf.Options() != wf.Options() || gf.EncodedFieldType() != wf.EncodedFieldType() ||
				!bytes.Equal(gf.Value(), wf.Value()) || gf.NumPlainTextBytes() != wf.NumPlainTextBytes() ||
				!reflect.DeepEqual(gf.ArrayPositions(), wf.ArrayPositions()) {
				t.Fatalf("doc %s field %d: %T %s %v, want %T %s %v", d.ID, i, gf, gf.Name(), gf.Options(), wf, wf.Name(), wf.Options())
			}
			gf.Analyze()
			wf.Analyze()
			wantLen, wantFreqs := wf.AnalyzedLength(), wf.AnalyzedTokenFrequencies()
			if _, ok := gf.(*pointField); ok {
				// A date or number: the full-precision term only.
				points++
				wantFreqs = index.TokenFrequencies{}
				for k, tf := range wf.AnalyzedTokenFrequencies() {
					if shift, err := numeric.PrefixCoded(k).Shift(); err == nil && shift == 0 {
						wantFreqs[k] = tf
					}
				}
				wantLen = len(wantFreqs)
				if wantLen != 1 {
					t.Errorf("doc %s field %s: Bleve's field has %d full-precision terms", d.ID, wf.Name(), wantLen)
				}
			}
			if gf.AnalyzedLength() != wantLen {
				t.Errorf("doc %s field %s: length %d, want %d", d.ID, wf.Name(), gf.AnalyzedLength(), wantLen)
			}
			if diff := freqDiff(gf.AnalyzedTokenFrequencies(), wantFreqs); diff != "" {
				t.Errorf("doc %s field %s: %s", d.ID, wf.Name(), diff)
			}
		}
	}
	if replaced != 2*len(docs) {
		t.Errorf("%d text fields analysed directly, want title and body of %d documents", replaced, len(docs))
	}
	if points < len(docs) {
		t.Errorf("%d date and number fields at full precision only, want at least the support count of %d documents", points, len(docs))
	}
}

// documentTestDocs returns documents with edge cases (no text, no terms,
// synonyms, traditional and full-width characters, lone characters, every
// keyword field, a date), the rows of testdata/eval.csv and, when present,
// the messages.
func documentTestDocs(t testing.TB) []Doc {
	created := time.Date(2024, 3, 5, 8, 0, 0, 0, time.UTC)
	docs := []Doc{
		{ID: "empty"},
		{ID: "punct", Title: "，。！？  ……", Body: "\x00\x01 —— ＊"},
		{ID: "mixed", Title: "ABC停车难，电动车123", Body: "电瓶车在楼道里充电；臺灣的朋友說ｅ＋́x a7 2019年", Theme: "交通",
			Campaign: "c1", Region: "鼓楼区", Status: "published", Kind: "debate_post", Created: created, Supports: 12},
		{ID: "lone", Title: "路", Body: "a 路 b 灯 c"},
		{ID: "place", Title: "Ａ7县管道天然气", Body: "西地省a市a7 县的燃气管道"}, // names places: no placelessMarker
	}
	f, err := os.Open(filepath.Join("testdata", "eval.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		docs = append(docs, Doc{ID: "eval-" + r[0], Title: r[1], Body: r[2], Status: "published"})
	}
	if _, err := os.Stat(messagesCSV); err == nil {
		docs = append(docs, loadMessages(t)...)
	}

	return docs
}

// TestIdeaDocumentIndexesAsMapping indexes the same documents with
// Batch.Index and with ideaDocument and compares what the index holds:
// every term of the text and keyword fields with its document frequency
// and, per document, frequency and norm. (Bleve numbers a segment's
// documents in the order analysis finishes, so postings are compared as
// sets.)
func TestIdeaDocumentIndexesAsMapping(t *testing.T) {
	testSegmenter(t)
	docs := documentTestDocs(t)
	if len(docs) > 600 {
		docs = docs[:600]
	}
	build := func(direct bool) map[string]string {
		idx, err := newBleveIndex(filepath.Join(t.TempDir(), "index"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer idx.Close()
		for j := 0; j < len(docs); j += 200 {
			b := idx.NewBatch()
			for _, d := range docs[j:min(j+200, len(docs))] {
				if !direct {
					err = b.Index(d.ID, toIdeaDoc(d))
				} else if doc, derr := ideaDocument(idx.Mapping(), d); derr != nil {
					err = derr
				} else {
					err = b.IndexAdvanced(doc)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := idx.Batch(b); err != nil {
				t.Fatal(err)
			}
		}
		return indexPostings(t, idx)
	}
	want, got := build(false), build(true)
	if len(got) != len(want) {
		t.Fatalf("%d terms, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: postings %s, want %s", k, got[k], w)
		}
	}
	t.Logf("%d documents, %d terms the same", len(docs), len(want))
}

// indexPostings lists, for every term of idx's text and keyword fields, its
// number of postings and the postings (document id, frequency, norm), sorted.
func indexPostings(t *testing.T, idx bleve.Index) map[string]string {
	t.Helper()
	r := snapshotReader(t, idx)
	out := map[string]string{}
	for _, field := range []string{FieldTitle, FieldBody, FieldTheme, FieldCampaign, FieldRegion, FieldStatus, FieldKind} {
		for _, term := range fieldTerms(t, r, field) {
			tfr, err := r.TermFieldReader(context.Background(), []byte(term), field, true, true, false)
			if err != nil {
				t.Fatal(err)
			}
			var postings []string
			var m index.TermFieldDoc
			for p, err := tfr.Next(&m); p != nil; p, err = tfr.Next(&m) {
				if err != nil {
					t.Fatal(err)
				}
				id, err := r.ExternalID(p.ID)
				if err != nil {
					t.Fatal(err)
				}
				postings = append(postings, fmt.Sprintf("%s:%d:%v", id, p.Freq, p.Norm))
			}
			tfr.Close()
			slices.Sort(postings)
			// The postings' count, not the dictionary's, which
			// Bleve 2.6.3 sums wrongly across segments while a merge runs.
			out[field+"/"+term] = fmt.Sprint(len(postings), postings)
		}
	}
	return out
}

// freqDiff describes the first difference between two term frequency maps,
// or returns "".
func freqDiff(got, want index.TokenFrequencies) string {
	if (got == nil) != (want == nil) || len(got) != len(want) {
		return fmt.Sprintf("%d terms, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		switch {
		case g == nil:
			return fmt.Sprintf("missing term %q", k)
		case !bytes.Equal(g.Term, w.Term) || string(g.Term) != k:
			return fmt.Sprintf("term %q has bytes %q", k, g.Term)
		case g.Frequency() != w.Frequency():
			return fmt.Sprintf("term %q: frequency %d, want %d", k, g.Frequency(), w.Frequency())
		case len(g.Locations) != len(w.Locations):
			return fmt.Sprintf("term %q: %d locations, want %d", k, len(g.Locations), len(w.Locations))
		}
	}
	return ""
}

// TestZapbuildSegments builds segments of the ideas' documents, analysed
// as scorch analyses them, with zapx and with zapbuild (which builds every
// segment of the index, see index.go), and checks that the documents take
// zapbuild's own path and that zapx reads the same from both segments.
func TestZapbuildSegments(t *testing.T) {
	testSegmenter(t)
	im := NewMapping()
	all := documentTestDocs(t)
	docs := all[:min(len(all), 1100)] // past a postings chunk of 1,024
	checkZapbuildSegment(t, im, docs)
	t.Logf("%d documents read the same", len(docs))
}

// checkZapbuildSegment builds a segment of docs with zapx and with
// zapbuild, and fails t unless zapbuild builds it itself and zapx reads
// the same from both. Each build analyses the documents afresh.
func checkZapbuildSegment(t *testing.T, im mapping.IndexMapping, docs []Doc) {
	t.Helper()
	want, _, err := (&zap.ZapPlugin{}).New(analysedDocuments(t, im, docs))
	if err != nil {
		t.Fatal(err)
	}
	analysed := analysedDocuments(t, im, docs)
	if !zapbuild.Handles(analysed) {
		t.Fatal("zapbuild hands the ideas' documents to zapx")
	}
	got, _, err := (&zapbuild.Plugin{}).New(analysed)
	if err != nil {
		t.Fatal(err)
	}
	if err := zaptest.Compare(want, got); err != nil {
		t.Fatalf("zapx first, zapbuild second: %v", err)
	}
}

// analysedDocuments maps docs as a batch does and analyses them as
// scorch does before it builds a segment.
func analysedDocuments(tb testing.TB, im mapping.IndexMapping, docs []Doc) []index.Document {
	tb.Helper()
	out := make([]index.Document, 0, len(docs))
	for _, d := range docs {
		doc, err := ideaDocument(im, d)
		if err != nil {
			tb.Fatal(err)
		}
		doc.AddIDField()
		doc.VisitFields(func(f index.Field) {
			if f.Options().IsIndexed() {
				f.Analyze()
			}
		})
		out = append(out, doc)
	}
	return out
}

// FuzzZapbuildSegments builds a segment of ideas whose title and body are
// any text, with zapx and with zapbuild, and checks that zapx reads the
// same from both.
func FuzzZapbuildSegments(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"电梯", "老旧小区加装电梯，a7 2019"}, {"\xff\xfe", "a\x00b"}, {"臺灣 ＡＢＣ", "，。！？  ……"},
		{strings.Repeat("长", 300), strings.Repeat("路灯 ", 200)},
	} {
		f.Add(seed[0], seed[1])
	}
	testSegmenter(f)
	im := NewMapping()
	f.Fuzz(func(t *testing.T, title, body string) {
		docs := []Doc{
			{ID: "f1", Title: title, Body: body, Status: "published", Theme: title},
			{ID: "f2", Title: "停车难", Body: body + "停车难", Status: "pending"},
			{ID: "f3", Title: body, Body: title, Region: "鼓楼区"},
		}
		checkZapbuildSegment(t, im, docs)
	})
}

// TestIdeaFieldsCoverDocuments checks that ideaFields lists every field of
// every test document with at least its options, so that a rebuild's
// segments all list the same fields (bulkConfig).
func TestIdeaFieldsCoverDocuments(t *testing.T) {
	testSegmenter(t)
	im := NewMapping()
	fields, err := ideaFields(im)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"title", "body", "theme", "campaign", "region", "status", "kind", "created", "supports", "_all"} {
		if _, ok := fields[want]; !ok {
			t.Errorf("ideaFields lacks %s: %v", want, fields)
		}
	}
	for _, d := range analysedDocuments(t, im, documentTestDocs(t)) {
		check := func(f index.Field) {
			if f.Name() == "_id" {
				return
			}
			if opts, ok := fields[f.Name()]; !ok || opts|f.Options() != opts {
				t.Errorf("document %s: field %s with options %b, ideaFields has %b (listed %v)", d.ID(), f.Name(), f.Options(), opts, ok)
			}
		}
		d.VisitComposite(func(f index.CompositeField) { check(f) })
		d.VisitFields(check)
	}
}

// TestBuilderSegmentsListEveryField writes a batch of ideas with only a
// title and body and one with every attribute into a new generation, and
// checks that both segments list the same fields, with the same options.
func TestBuilderSegmentsListEveryField(t *testing.T) {
	seg := testSegmenter(t)
	b, err := NewBuilder(t.TempDir(), seg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	docs := documentTestDocs(t)
	indexSegmentFiles(t, b,
		docs[4:min(40, len(docs))], // eval rows: title, body, status
		docs[:4],                   // "mixed" has every attribute
	)
	if err := b.Close(); err != nil { // writes the segments
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(b.Path(), "store", "*.zap"))
	if err != nil || len(files) != 2 {
		t.Fatalf("segment files %v (%v), want two", files, err)
	}
	var listed [][]string
	for _, f := range files {
		s, err := (&zap.ZapPlugin{}).Open(f)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, segmentFields(t, s.(*zap.Segment)))
		s.Close()
	}
	if !slices.Equal(listed[0], listed[1]) || !slices.ContainsFunc(listed[0], func(f string) bool { return strings.HasPrefix(f, "created=") }) {
		t.Fatalf("the segments list\n%v\n%v\nwant the same, with created", listed[0], listed[1])
	}
}

// segmentFields lists a segment file's fields with their options, as
// "name=options", from its fields section (zapx's persistFieldsSection).
func segmentFields(t *testing.T, s *zap.Segment) []string {
	t.Helper()
	mem := s.Data()
	pos := s.SectionsIndexOffset()
	n, k := binary.Uvarint(mem[pos:])
	pos += uint64(k)
	var out []string
	for i := range n {
		p := binary.BigEndian.Uint64(mem[pos+8*i:])
		l, k := binary.Uvarint(mem[p:])
		p += uint64(k)
		name := string(mem[p : p+l])
		opts, _ := binary.Uvarint(mem[p+l:])
		out = append(out, fmt.Sprintf("%s=%d", name, opts))
	}
	return out
}

// TestZapbuildMerge merges segment files of the ideas' documents, built
// as a rebuild builds them (every field declared), with zapx and with
// zapbuild's parallel merge, and checks that the files hold the same
// bytes (zaptest.CompareFiles).
func TestZapbuildMerge(t *testing.T) {
	testSegmenter(t)
	docs := documentTestDocs(t)
	docs = docs[:min(len(docs), 2400)]
	checkZapbuildMerge(t, NewMapping(), docs[4:len(docs)/2], docs[:4], docs[len(docs)/2:])
	t.Logf("%d documents in 3 segments merge to the same bytes", len(docs))
}

// FuzzZapbuildMerge merges segments of ideas whose title and body are any
// text with zapx and with zapbuild's parallel merge, and checks that the
// files hold the same bytes.
func FuzzZapbuildMerge(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"电梯", "老旧小区加装电梯，a7 2019"}, {"\xff\xfe", "a\x00b"}, {"臺灣 ＡＢＣ", "，。！？  ……"},
	} {
		f.Add(seed[0], seed[1])
	}
	testSegmenter(f)
	im := NewMapping()
	f.Fuzz(func(t *testing.T, title, body string) {
		checkZapbuildMerge(t, im,
			[]Doc{{ID: "f1", Title: title, Body: body, Status: "published", Theme: title}},
			[]Doc{{ID: "f2", Title: "停车难", Body: body + "停车难"}, {ID: "f3", Title: body, Body: title, Region: "鼓楼区"}})
	})
}

// checkZapbuildMerge builds a segment file of each part with zapbuild,
// every field declared as a rebuild declares them, merges the files with
// zapx and with zapbuild's parallel merge, and fails t unless zapbuild
// merged them itself and wrote the bytes zapx wrote.
func checkZapbuildMerge(t *testing.T, im mapping.IndexMapping, parts ...[]Doc) {
	t.Helper()
	dir := t.TempDir()
	segs := rebuildSegmentFiles(t, dir, im, parts...)
	drops := make([]*roaring.Bitmap, len(segs))
	want, got := filepath.Join(dir, "zapx.zap"), filepath.Join(dir, "zapbuild.zap")
	if _, _, err := (&zap.ZapPlugin{}).Merge(segs, drops, want, nil, nil); err != nil {
		t.Fatal(err)
	}
	before := zapbuild.ParallelMerges()
	if _, _, err := (&zapbuild.Plugin{}).MergeUsing(segs, drops, got, nil, nil, map[string]any{zapbuild.ParallelMergeKey: true}); err != nil {
		t.Fatal(err)
	}
	if zapbuild.ParallelMerges() != before+1 {
		t.Fatal("zapbuild handed the ideas' segments to zapx")
	}
	if err := zaptest.CompareFiles(want, got); err != nil {
		t.Fatalf("zapx first: %v", err)
	}
}

// rebuildSegmentFiles builds a segment of each part as a rebuild builds
// them (zapbuild with bulkConfig's segment configuration: every field of
// an idea declared), writes them to files in dir and opens them.
func rebuildSegmentFiles(tb testing.TB, dir string, im mapping.IndexMapping, parts ...[]Doc) []segment.Segment {
	tb.Helper()
	bulk, err := bulkConfig()
	if err != nil {
		tb.Fatal(err)
	}
	config := bulk["segmentConfig"].(map[string]any)
	segs := make([]segment.Segment, 0, len(parts))
	for _, part := range parts {
		s, _, err := (&zapbuild.Plugin{}).NewUsing(analysedDocuments(tb, im, part), config)
		if err != nil {
			tb.Fatal(err)
		}
		segs = append(segs, s)
	}
	return zaptest.Persist(tb, dir, segs...)
}

// indexSegmentFiles indexes each batch into b and waits until it is on
// disk before the next, so that each stays a segment file of its own (the
// persister would merge segments that meet in memory).
func indexSegmentFiles(t *testing.T, b *Builder, batches ...[]Doc) {
	t.Helper()
	persisted := func(idx bleve.Index) error {
		return setInternalPersisted(context.Background(), idx, []byte("test"), []byte("1"))
	}
	for _, batch := range batches {
		if err := b.Index.Index(batch...); err != nil {
			t.Fatal(err)
		}
		if err := b.use(persisted); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCommitMergesInParallel checks that Commit merges a new generation's
// segment files with zapbuild's parallel merge, and that the committed
// index holds every document. (A rebuild small enough that its batches
// meet in memory has them merged there, by zapx, before Commit.)
func TestCommitMergesInParallel(t *testing.T) {
	seg := testSegmenter(t)
	docs := documentTestDocs(t)
	dir := t.TempDir()
	b, err := NewBuilder(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	indexSegmentFiles(t, b, docs[:len(docs)/2], docs[len(docs)/2:])
	before := zapbuild.ParallelMerges()
	if err := b.Commit(0); err != nil {
		t.Fatal(err)
	}
	if zapbuild.ParallelMerges() == before {
		t.Fatal("Commit merged the segments with zapx")
	}
	x, err := OpenCurrent(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n, err := x.DocCount(); err != nil || n != uint64(len(docs)) {
		t.Fatalf("the committed index holds %d documents (%v), want %d", n, err, len(docs))
	}
}
