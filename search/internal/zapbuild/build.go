// Package zapbuild builds Bleve's in-memory zap segments (version 17) from
// analysed documents with less work per posting than zapx's own builder,
// which a rebuild of the search index spends half its time in.
//
// zapx's builder looks every term of every document up in a map three
// times (once to count, once to fill a roaring bitmap one document at a
// time, once more to write it), and copies every term of every field into
// a per-document buffer that only fields with doc values use. This one
// looks each term up once, appending its posting to one array per field,
// orders the array by term with a counting sort (which keeps each term's
// documents in order), and builds each term's bitmap from its sorted
// documents in one call. What it writes is read by zapx exactly like
// zapx's own: the same dictionaries, postings, frequencies, norms,
// locations, doc values and stored fields (TestSegmentsRead).
//
// Plugin embeds zapx's plugin for everything else (opening, and merging
// unless asked otherwise) and hands it the documents it does not handle:
// nested documents, synonym and geo-shape fields, and a field given twice
// in one document.
//
// A rebuild ends with one merge of all its segments, which zapx does on
// one core, field after field. Given ParallelMergeKey, MergeUsing cuts
// the fields' terms into ranges that workers on every core merge while
// one writer puts their output in the file in order, writing the bytes
// zapx writes (TestMergeWritesZapxBytes); FieldsKey makes every segment
// list the same fields, which that merge needs.
//
// The format is zapx v17.2.5's. The tests build every segment both ways
// and compare what zapx reads, so upgrading zapx re-checks it; a Bleve
// whose default segment is no longer zap v17 needs this package moved to
// the new version (or Register dropped) first.
package zapbuild

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
	zap "github.com/blevesearch/zapx/v17"
	"github.com/golang/snappy"
)

// FieldsKey is the key, in the segment configuration scorch hands New
// (its config's "segmentConfig"), of a map[string]index.FieldIndexingOptions
// of fields every segment should list, with at least those options, even
// when none of its documents has the field (a batch of old ideas without
// a date, say). Segments that list the same fields with the same options
// are the ones the parallel merge (ParallelMergeKey) takes, and the ones
// zapx merges by copying bytes rather than decoding every posting.
const FieldsKey = "zapbuild.fields"

// Plugin is zapx v17's segment plugin with a faster New.
type Plugin struct {
	zap.ZapPlugin
}

// New builds an in-memory segment of results.
func (p *Plugin) New(results []index.Document) (segment.Segment, uint64, error) {
	return p.NewUsing(results, nil)
}

// NewUsing builds an in-memory segment of results with config.
func (p *Plugin) NewUsing(results []index.Document, config map[string]any) (segment.Segment, uint64, error) {
	if len(results) == 0 || !Handles(results) {
		return p.ZapPlugin.NewUsing(results, config)
	}
	stats, _ := config[segment.StatsKey].(*segment.Stats)
	b := builders.Get().(*builder)
	defer b.release()
	b.docs = results
	b.declared, _ = config[FieldsKey].(map[string]index.FieldIndexingOptions)
	if !b.collect() || b.unknownField {
		// No _id, or locations naming a field no document has (zapx
		// numbers those after the others).
		return p.ZapPlugin.NewUsing(results, config)
	}
	seg, size, err := b.build(config, stats)
	if err != nil {
		return nil, 0, fmt.Errorf("zapbuild: %w", err)
	}
	if stats != nil {
		n := uint64(len(results))
		atomic.AddUint64(&stats.TotNewRootDocsProcessed, n)
		atomic.AddUint64(&stats.TotNewDocsProcessed, n)
		atomic.AddUint64(&stats.TotNewDocsIndexed, n)
	}
	return seg, size, nil
}

// Handles reports whether New builds a segment of docs itself: no nested
// documents, no field a section other than zapx's inverted text index
// would take, and no field twice in a document. Others go to zapx.
func Handles(docs []index.Document) bool {
	ok := true
	var names []string
	check := func(f index.Field) {
		switch f.(type) {
		case index.SynonymField, index.GeoShapeField:
			ok = false
		}
		if slices.Contains(names, f.Name()) {
			ok = false
		}
		names = append(names, f.Name())
	}
	for _, d := range docs {
		names = names[:0]
		if nd, nested := d.(index.NestedDocument); nested {
			nd.VisitNestedDocuments(func(index.Document) { ok = false })
		}
		d.VisitComposite(func(f index.CompositeField) { check(f) })
		d.VisitFields(check)
		if !ok {
			return false
		}
	}
	return true
}

// sections are the section types zapx v17 (built without the vectors
// tag) lists for every field: the inverted text index, synonyms and geo
// shapes. Only the first holds anything here. TestSectionTypes compares
// them with what zapx writes.
var sections = []uint16{0, 2, 3}

// invertedSection is the inverted text index section's type.
const invertedSection = 0

// fieldNotUninverted marks a field without doc values.
const fieldNotUninverted = math.MaxUint64

// vellumOpts are zapx's options for the term dictionaries' FSTs.
var vellumOpts = &vellum.BuilderOpts{Encoder: 1, RegistryTableSize: 0, RegistryMRUSize: 1}

// dictionary builds a field's term dictionary, an FST from each term to
// its postings list (or its single hit), in a buffer.
type dictionary struct {
	*vellum.Builder
	buf bytes.Buffer
}

func newDictionary() (*dictionary, error) {
	d := &dictionary{}
	var err error
	d.Builder, err = vellum.New(&d.buf, vellumOpts)
	return d, err
}

// writeTo finishes the dictionary, writes its length and bytes to w and
// returns where they start; d is then empty, for the next field.
func (d *dictionary) writeTo(w countWriter) (uint64, error) {
	if err := d.Close(); err != nil {
		return 0, err
	}
	offset := uint64(w.Count())
	if _, err := writeUvarints(w, uint64(d.buf.Len())); err != nil {
		return 0, err
	}
	if _, err := w.Write(d.buf.Bytes()); err != nil {
		return 0, err
	}
	d.buf.Reset()
	return offset, d.Reset(&d.buf)
}

// posting is one term in one document of a field.
type posting struct {
	term, doc, freq, norm uint32
	locStart, locs        uint32 // into field.locs
}

// loc is a term's location, kept only for fields with term vectors.
type loc struct {
	field           uint16
	pos, start, end uint64
	arrayPositions  []uint64
}

// field gathers one field's postings.
type field struct {
	name      string
	id        uint16
	options   index.FieldIndexingOptions
	docValues bool
	ids       map[string]uint32
	terms     []string
	counts    []uint32
	postings  []posting
	locs      []loc
}

// builder turns documents into a segment. Builders are pooled, and keep
// their fields' maps and slices for the next segment.
type builder struct {
	docs     []index.Document
	declared map[string]index.FieldIndexingOptions // see FieldsKey
	fields   []*field                              // by field id; "_id" first, the rest by name
	byName   map[string]*field
	// unknownField is set by a location naming a field no document has,
	// which zapx numbers after the others; such documents go to zapx.
	unknownField bool
	spare        map[string]*field // every field seen, for reuse

	sorted  []posting
	starts  []uint32
	next    []uint32
	order   []termID
	docNums []uint32
	key     []byte
}

// termID is a term and its number in its field.
type termID struct {
	term string
	id   uint32
}

// builders holds builders between segments.
var builders = sync.Pool{New: func() any { return &builder{spare: map[string]*field{}} }}

// release empties b, keeping its storage, and returns it to builders.
func (b *builder) release() {
	for _, fb := range b.byName {
		fb.reset()
	}
	clear(b.order)
	b.docs = nil
	b.declared = nil
	clear(b.fields)
	b.fields = b.fields[:0]
	clear(b.byName)
	b.unknownField = false
	builders.Put(b)
}

// reset empties f for another segment, keeping its storage.
func (f *field) reset() {
	clear(f.ids)
	clear(f.terms)
	f.terms = f.terms[:0]
	f.counts = f.counts[:0]
	f.postings = f.postings[:0]
	clear(f.locs)
	f.locs = f.locs[:0]
	f.options = 0
	f.docValues = false
}

// collect gathers every field's postings, from documents Handles accepts.
// It reports false if a document has no _id.
func (b *builder) collect() bool {
	if b.byName == nil {
		b.byName = map[string]*field{}
	}
	names := []string{}
	use := func(name string, options index.FieldIndexingOptions) {
		fb := b.byName[name]
		if fb == nil {
			fb = b.spare[name]
			if fb == nil {
				fb = &field{name: name, ids: map[string]uint32{}}
				b.spare[name] = fb
			}
			b.byName[name] = fb
			if name != "_id" {
				names = append(names, name)
			}
		}
		fb.options |= options
	}
	visit := func(f index.Field) { use(f.Name(), f.Options()) }
	for _, d := range b.docs {
		d.VisitComposite(func(f index.CompositeField) { visit(f) })
		d.VisitFields(visit)
	}
	if b.byName["_id"] == nil {
		return false
	}
	for name, options := range b.declared {
		use(name, options)
	}
	// zapx gives _id these options whatever its documents say, and adds theirs.
	b.byName["_id"].options |= index.IndexField | index.StoreField
	slices.Sort(names)
	b.fields = append(b.fields, b.byName["_id"])
	for _, n := range names {
		b.fields = append(b.fields, b.byName[n])
	}
	for i, fb := range b.fields {
		fb.id = uint16(i)
	}
	for docNum, d := range b.docs {
		add := func(f index.Field) { b.add(uint32(docNum), f) }
		d.VisitComposite(func(f index.CompositeField) { add(f) })
		d.VisitFields(add)
	}
	return true
}

// add records field f of document doc.
func (b *builder) add(doc uint32, f index.Field) {
	fb := b.byName[f.Name()]
	if f.Options().IncludeDocValues() {
		fb.docValues = true
	}
	norm := uint32(f.AnalyzedLength())
	for term, tf := range f.AnalyzedTokenFrequencies() {
		id, seen := fb.ids[term]
		if !seen {
			id = uint32(len(fb.terms))
			fb.ids[term] = id
			fb.terms = append(fb.terms, term)
			fb.counts = append(fb.counts, 0)
		}
		fb.counts[id]++
		p := posting{term: id, doc: doc, freq: uint32(tf.Frequency()), norm: norm, locStart: uint32(len(fb.locs)), locs: uint32(len(tf.Locations))}
		for _, l := range tf.Locations {
			fid := fb.id
			if l.Field != "" {
				fid = b.fieldID(l.Field)
			}
			fb.locs = append(fb.locs, loc{
				field: fid, pos: uint64(l.Position), start: uint64(l.Start), end: uint64(l.End),
				arrayPositions: l.ArrayPositions,
			})
		}
		fb.postings = append(fb.postings, p)
	}
}

// fieldID is the id of the named field.
func (b *builder) fieldID(name string) uint16 {
	if fb := b.byName[name]; fb != nil {
		return fb.id
	}
	b.unknownField = true // a location naming a field no document has
	return 0
}

// build writes the segment and opens it.
func (b *builder) build(config map[string]any, stats *segment.Stats) (segment.Segment, uint64, error) {
	var buf bytes.Buffer
	w := zap.NewFileWriterEmpty(zap.NewCountHashWriter(&buf))
	storedIndexOffset, err := b.writeStored(w)
	if err != nil {
		return nil, 0, fmt.Errorf("stored fields: %w", err)
	}
	addrs, err := b.writeInverted(w)
	if err != nil {
		return nil, 0, fmt.Errorf("inverted index: %w", err)
	}
	sectionsIndexOffset, err := b.writeFieldsSection(w, addrs)
	if err != nil {
		return nil, 0, fmt.Errorf("fields: %w", err)
	}
	if stats == nil {
		stats = new(segment.Stats)
	}
	sb, err := zap.InitSegmentBase(buf.Bytes(), w.Sum32(), zap.DefaultChunkMode,
		uint64(len(b.docs)), storedIndexOffset, sectionsIndexOffset, config, stats)
	if err != nil {
		return nil, 0, err
	}
	return sb, uint64(buf.Len()), nil
}

// writeStored writes each document's stored fields (zapx's
// writeStoredFields) and returns where their index starts.
func (b *builder) writeStored(w *zap.FileWriter) (uint64, error) {
	type storedField struct {
		vals      [][]byte
		typs      []byte
		arrayposs [][]uint64
	}
	offsets := make([]uint64, len(b.docs))
	stored := make([]storedField, len(b.fields))
	var meta bytes.Buffer
	var data, compressed []byte
	var varint [binary.MaxVarintLen64]byte
	metaEncode := func(v uint64) {
		n := binary.PutUvarint(varint[:], v)
		meta.Write(varint[:n])
	}
	for docNum, d := range b.docs {
		for i := range stored {
			stored[i] = storedField{vals: stored[i].vals[:0], typs: stored[i].typs[:0], arrayposs: stored[i].arrayposs[:0]}
		}
		var validation error
		d.VisitFields(func(f index.Field) {
			if err := zap.ValidateDocFields(f); err != nil && validation == nil {
				validation = err
			}
			if !f.Options().IsStored() {
				return
			}
			id := b.fieldID(f.Name())
			s := &stored[id]
			s.vals = append(s.vals, f.Value())
			s.typs = append(s.typs, f.EncodedFieldType())
			s.arrayposs = append(s.arrayposs, f.ArrayPositions())
		})
		if validation != nil {
			return 0, validation
		}
		if len(stored[0].vals) == 0 {
			return 0, fmt.Errorf("document %d has no stored _id", docNum)
		}
		meta.Reset()
		data = data[:0]
		id := stored[0].vals[0]
		metaEncode(uint64(len(id)))
		curr := 0
		for fieldID := 1; fieldID < len(stored); fieldID++ {
			s := stored[fieldID]
			for i, v := range s.vals {
				metaEncode(uint64(fieldID))
				metaEncode(uint64(s.typs[i]))
				metaEncode(uint64(curr))
				metaEncode(uint64(len(v)))
				metaEncode(uint64(len(s.arrayposs[i])))
				for _, pos := range s.arrayposs[i] {
					metaEncode(pos)
				}
				data = append(data, v...)
				curr += len(v)
			}
		}
		compressed = snappy.Encode(compressed[:cap(compressed)], data)
		offsets[docNum] = uint64(w.Count())
		if _, err := writeUvarints(w, uint64(meta.Len()), uint64(len(id)+len(compressed))); err != nil {
			return 0, err
		}
		for _, part := range [][]byte{meta.Bytes(), id, compressed} {
			if _, err := w.Write(part); err != nil {
				return 0, err
			}
		}
	}
	indexOffset := uint64(w.Count())
	for _, o := range offsets {
		if err := binary.Write(w, binary.BigEndian, o); err != nil {
			return 0, err
		}
	}
	// The number of nested documents' edges: none.
	if _, err := writeUvarints(w, 0); err != nil {
		return 0, err
	}
	return indexOffset, nil
}

// writeInverted writes every field's dictionary, postings and doc values
// (zapx's writeDicts) and returns where each field's entry starts.
func (b *builder) writeInverted(w *zap.FileWriter) ([]uint64, error) {
	numDocs := uint64(len(b.docs))
	addrs := make([]uint64, len(b.fields))
	tfEncoder := newChunkedIntCoder(1024, numDocs-1)
	locEncoder := newChunkedIntCoder(1024, numDocs-1)
	dict, err := newDictionary()
	if err != nil {
		return nil, err
	}
	var docTerms [][]byte
	bitmap := roaring.New()
	varint := make([]byte, 3*binary.MaxVarintLen64)
	for fieldID, fb := range b.fields {
		if fb.docValues {
			if cap(docTerms) < len(b.docs) {
				docTerms = make([][]byte, len(b.docs))
			}
			docTerms = docTerms[:len(b.docs)]
			for i := range docTerms {
				docTerms[i] = docTerms[i][:0]
			}
		}
		// A counting sort by term: each term's postings stay in document order.
		starts := resize(&b.starts, len(fb.terms))
		var at uint32
		for id, n := range fb.counts {
			starts[id] = at
			at += n
		}
		sorted := resize(&b.sorted, len(fb.postings))
		next := resize(&b.next, len(starts))
		copy(next, starts)
		for _, p := range fb.postings {
			sorted[next[p.term]] = p
			next[p.term]++
		}
		order := resize(&b.order, len(fb.terms))
		for i, t := range fb.terms {
			order[i] = termID{t, uint32(i)}
		}
		slices.SortFunc(order, func(a, c termID) int { return strings.Compare(a.term, c.term) })
		for _, t := range order {
			term, id := t.term, t.id
			ps := sorted[starts[id] : starts[id]+fb.counts[id]]
			docs := b.docNums[:0]
			for _, p := range ps {
				docs = append(docs, p.doc)
			}
			b.docNums = docs
			bitmap.Clear()
			bitmap.AddMany(docs)
			chunkSize, err := getChunkSize(zap.DefaultChunkMode, uint64(len(ps)), numDocs)
			if err != nil {
				return nil, err
			}
			tfEncoder.SetChunkSize(chunkSize, numDocs-1)
			locEncoder.SetChunkSize(chunkSize, numDocs-1)
			for _, p := range ps {
				doc := uint64(p.doc)
				if p.freq > 0 {
					tfEncoder.Add(doc, encodeFreqHasLocs(uint64(p.freq), p.locs > 0), uint64(p.norm))
				} else {
					tfEncoder.Add(doc, encodeFreqHasLocs(0, p.locs > 0))
				}
				if p.locs > 0 {
					locs := fb.locs[p.locStart : p.locStart+p.locs]
					size := 0
					for _, l := range locs {
						size += uvarintLen(uint64(l.field)) + uvarintLen(l.pos) + uvarintLen(l.start) +
							uvarintLen(l.end) + uvarintLen(uint64(len(l.arrayPositions)))
						for _, a := range l.arrayPositions {
							size += uvarintLen(a)
						}
					}
					locEncoder.Add(doc, uint64(size))
					for _, l := range locs {
						locEncoder.Add(doc, uint64(l.field), l.pos, l.start, l.end, uint64(len(l.arrayPositions)))
						locEncoder.Add(doc, l.arrayPositions...)
					}
				}
				if fb.docValues {
					docTerms[p.doc] = append(append(docTerms[p.doc], term...), index.DocValueTermSeparator)
				}
			}
			tfEncoder.Close()
			locEncoder.Close()
			offset, err := writePostings(bitmap, tfEncoder, locEncoder, w, varint)
			if err != nil {
				return nil, err
			}
			if offset > 0 {
				b.key = append(b.key[:0], term...)
				if err := dict.Insert(b.key, offset); err != nil {
					return nil, err
				}
			}
			tfEncoder.Reset()
			locEncoder.Reset()
		}
		dictOffset, err := dict.writeTo(w)
		if err != nil {
			return nil, err
		}
		dvStart, dvEnd := uint64(fieldNotUninverted), uint64(fieldNotUninverted)
		if fb.docValues {
			chunkSize := uint64(zap.LegacyChunkMode)
			if fb.options.SkipDVChunking() {
				chunkSize = 1
			}
			dv := newChunkedContentCoder(chunkSize, numDocs-1, w, fb.options.SkipDVCompression())
			for docNum, t := range docTerms {
				if len(t) > 0 {
					if err := dv.Add(uint64(docNum), t); err != nil {
						return nil, err
					}
				}
			}
			if err := dv.Close(); err != nil {
				return nil, err
			}
			dvStart = uint64(w.Count())
			if _, err := dv.Write(); err != nil {
				return nil, err
			}
			dvEnd = uint64(w.Count())
		}
		addrs[fieldID] = uint64(w.Count())
		if _, err := writeUvarints(w, dvStart, dvEnd, dictOffset); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

// writeFieldsSection writes the fields section of b's fields.
func (b *builder) writeFieldsSection(w *zap.FileWriter, addrs []uint64) (uint64, error) {
	names := make([]string, len(b.fields))
	options := make([]index.FieldIndexingOptions, len(b.fields))
	for i, fb := range b.fields {
		names[i], options[i] = fb.name, fb.options
	}
	return writeFieldsSection(w, names, options, addrs)
}

// writeFieldsSection writes every field's name, options and the address
// of its inverted index (zapx's persistFieldsSection), then the index of
// where each field starts, and returns where that index starts.
func writeFieldsSection(w countWriter, names []string, options []index.FieldIndexingOptions, addrs []uint64) (uint64, error) {
	offsets := make([]uint64, len(names))
	for fieldID, name := range names {
		offsets[fieldID] = uint64(w.Count())
		if _, err := writeUvarints(w, uint64(len(name))); err != nil {
			return 0, err
		}
		if _, err := w.Write([]byte(name)); err != nil {
			return 0, err
		}
		if _, err := writeUvarints(w, uint64(options[fieldID]), uint64(len(sections))); err != nil {
			return 0, err
		}
		for _, s := range sections {
			addr := uint64(0)
			if s == invertedSection {
				addr = addrs[fieldID]
			}
			if err := binary.Write(w, binary.BigEndian, s); err != nil {
				return 0, err
			}
			if err := binary.Write(w, binary.BigEndian, addr); err != nil {
				return 0, err
			}
		}
	}
	start := uint64(w.Count())
	if _, err := writeUvarints(w, uint64(len(names))); err != nil {
		return 0, err
	}
	for _, o := range offsets {
		if err := binary.Write(w, binary.BigEndian, o); err != nil {
			return 0, err
		}
	}
	return start, nil
}

// resize sets *s to n elements, reusing its storage, and returns it.
func resize[T any](s *[]T, n int) []T {
	*s = slices.Grow((*s)[:0], n)[:n]
	return *s
}

// uvarintLen is the length of v as an unsigned varint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
