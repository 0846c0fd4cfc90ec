package zapbuild

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
	zap "github.com/blevesearch/zapx/v17"
)

// ParallelMergeKey is the key, in the segment configuration scorch hands
// MergeUsing (its config's "segmentConfig"), that turns on this package's
// merge (true). zapx merges a segment's fields one after the other on
// one core; this merge splits every field's terms into ranges that
// GOMAXPROCS workers merge at once, while one writer puts their output
// in the file in order. It writes what zapx writes, byte for byte
// (TestMergeWritesZapxBytes), for the segments zapx merges by copying
// bytes: segment files of zap v17 that list the same fields with the same
// options, with nothing deleted, no nested documents, no synonym,
// geo-shape or vector sections, and no file callbacks. Other merges go to
// zapx.
const ParallelMergeKey = "zapbuild.parallel_merge"

// Merge merges segments into a new segment file at path (zapx's Merge:
// without a configuration, this package's merge is off).
func (p *Plugin) Merge(segments []segment.Segment, drops []*roaring.Bitmap, path string,
	closeCh chan struct{}, s segment.StatsReporter) ([][]uint64, uint64, error) {
	return p.MergeUsing(segments, drops, path, closeCh, s, nil)
}

// MergeUsing merges segments into a new segment file at path, in
// parallel if config asks for it (ParallelMergeKey) and the segments
// allow it, else with zapx. It returns each segment's documents' new
// numbers and the file's size.
func (p *Plugin) MergeUsing(segments []segment.Segment, drops []*roaring.Bitmap, path string,
	closeCh chan struct{}, s segment.StatsReporter, config map[string]any) ([][]uint64, uint64, error) {
	if on, _ := config[ParallelMergeKey].(bool); on {
		if m := newMerger(segments, drops); m != nil {
			stats, _ := config[segment.StatsKey].(*segment.Stats)
			return m.mergeTo(path, closeCh, s, stats)
		}
	}
	return p.ZapPlugin.MergeUsing(segments, drops, path, closeCh, s, config)
}

// parallelMerges counts the merges MergeUsing did itself.
var parallelMerges atomic.Uint64

// ParallelMerges returns how many merges this process did in parallel
// (ParallelMergeKey) rather than with zapx.
func ParallelMerges() uint64 { return parallelMerges.Load() }

// mergeUnits is about how many pieces a merge's terms are cut into: enough
// that workers finish close together, few enough that each piece's
// iterators over every segment cost little.
const mergeUnits = 48

// maxAhead is how many pieces workers may finish before the writer has
// written them.
const maxAhead = 8

// merger merges segment files that zapx would merge by copying bytes.
type merger struct {
	srcs    []*source
	names   []string // fields, "_id" first, the rest by name
	options []index.FieldIndexingOptions
	numDocs uint64
	units   []*unit
	ahead   chan struct{} // a token for every unit handed out and not yet written
}

// source is one segment file being merged.
type source struct {
	mem         []byte
	seg         *zap.Segment
	numDocs     uint64
	base        uint64 // the merged number of its first document
	chunkMode   uint32
	storedIndex uint64
	fsts        []*vellum.FST // by field; nil where a field has no terms
	docValues   []bool        // by field
}

// unit is a piece of the merge's inverted index: a range of one field's
// terms, or the field's doc values. Workers fill units; the writer writes
// them in order.
type unit struct {
	field  int
	values bool   // doc values, not terms
	lo, hi []byte // the terms' range, [lo, hi); nil is open
	done   chan struct{}
	err    error

	*output // from outputs, while a worker fills it and the writer writes it
}

// output is what a worker makes of a unit.
type output struct {
	terms []byte    // the terms, one after the other
	outs  []termOut // per term
	data  bytes.Buffer
}

// outputs keeps outputs the writer has written, for the next units.
var outputs = sync.Pool{New: func() any { return new(output) }}

// termOut is one merged term: where it ends in unit.terms, and either its
// dictionary value (a single hit kept in the dictionary) or the lengths of
// its frequencies, locations and bitmap in unit.data.
type termOut struct {
	termEnd              int
	hit                  uint64
	tfLen, locLen, bmLen int
}

// newMerger returns a merger of segments, or nil if they need zapx.
func newMerger(segments []segment.Segment, drops []*roaring.Bitmap) *merger {
	if len(segments) == 0 || index.WriterHook != nil || index.ReaderHook != nil {
		return nil
	}
	for _, d := range drops {
		if d != nil && !d.IsEmpty() {
			return nil
		}
	}
	m := &merger{}
	for i, s := range segments {
		src, names, options := openSource(s)
		if src == nil {
			return nil
		}
		if i == 0 {
			m.names, m.options = names, options
		} else if !slices.Equal(m.names, names) || !slices.Equal(m.options, options) {
			return nil
		}
		src.base = m.numDocs
		m.numDocs += src.numDocs
		m.srcs = append(m.srcs, src)
	}
	if m.numDocs == 0 || m.numDocs > math.MaxUint32 || len(m.names) == 0 || m.names[0] != "_id" {
		return nil
	}
	for _, o := range m.options {
		if o.SkipFreqNorm() {
			return nil
		}
	}
	return m
}

// mask31 is the largest document number a dictionary value can hold.
const mask31 = 0x7fffffff

// openSource reads what merging s needs from its file: its fields with
// their options and dictionaries, which fields have doc values, and where
// its stored documents are. It returns nil if s is not a zap v17 file
// this merge can copy.
func openSource(s segment.Segment) (*source, []string, []index.FieldIndexingOptions) {
	seg, ok := s.(*zap.Segment)
	if !ok || seg.Version() != zap.Version || len(seg.GetUpdatedFields()) > 0 {
		return nil, nil, nil // not a file, or fields taken out of the mapping
	}
	src := &source{
		mem: seg.Data(), seg: seg, numDocs: seg.NumDocs(),
		chunkMode: seg.ChunkMode(), storedIndex: seg.StoredIndexOffset(),
	}
	// No nested documents: the edge list after the stored index is empty.
	edges := reader{mem: src.mem, pos: src.storedIndex + 8*src.numDocs}
	if n := edges.uvarint(); edges.err || n != 0 {
		return nil, nil, nil
	}
	r := reader{mem: src.mem, pos: seg.SectionsIndexOffset()}
	n := r.uvarint()
	if r.err || n == 0 || n > uint64(len(src.mem))/8 {
		return nil, nil, nil
	}
	offsets := make([]uint64, n)
	for i := range offsets {
		offsets[i] = r.u64()
	}
	names := make([]string, n)
	options := make([]index.FieldIndexingOptions, n)
	src.fsts = make([]*vellum.FST, n)
	for i, off := range offsets {
		fr := reader{mem: src.mem, pos: off}
		names[i] = string(fr.bytes(fr.uvarint()))
		options[i] = index.FieldIndexingOptions(fr.uvarint())
		if fr.uvarint() != uint64(len(sections)) {
			return nil, nil, nil
		}
		var addr uint64
		for _, want := range sections {
			typ, a := fr.u16(), fr.u64()
			switch {
			case typ != want:
				return nil, nil, nil
			case typ == invertedSection:
				addr = a
			case a != 0: // a synonym or geo-shape index
				return nil, nil, nil
			}
		}
		if fr.err {
			return nil, nil, nil
		}
		if addr == 0 || !options[i].IsIndexed() {
			continue
		}
		hr := reader{mem: src.mem, pos: addr}
		hr.uvarint() // doc values' start
		hr.uvarint() // and end
		dr := reader{mem: src.mem, pos: hr.uvarint()}
		dict := dr.bytes(dr.uvarint())
		if hr.err || dr.err {
			return nil, nil, nil
		}
		fst, err := vellum.Load(dict)
		if err != nil {
			return nil, nil, nil
		}
		if fst.Len() > 0 {
			src.fsts[i] = fst
		}
	}
	dvNames, err := seg.VisitableDocValueFields()
	if err != nil {
		return nil, nil, nil
	}
	src.docValues = make([]bool, n)
	for i, name := range names {
		for _, dv := range dvNames {
			src.docValues[i] = src.docValues[i] || dv == name
		}
	}
	return src, names, options
}

// reader reads a segment's bytes; past the end it returns zeros and sets
// err.
type reader struct {
	mem []byte
	pos uint64
	err bool
}

func (r *reader) uvarint() uint64 {
	if r.pos >= uint64(len(r.mem)) {
		r.err = true
		return 0
	}
	v, n := binary.Uvarint(r.mem[r.pos:])
	if n <= 0 {
		r.err = true
		return 0
	}
	r.pos += uint64(n)
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.pos > uint64(len(r.mem)) || n > uint64(len(r.mem))-r.pos {
		r.err = true
		return nil
	}
	b := r.mem[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

// plan cuts every field's terms into ranges, in proportion to how many
// terms the segments hold for it, and adds a unit for its doc values.
func (m *merger) plan() error {
	pairs := make([]int, len(m.names))
	total := 0
	for _, src := range m.srcs {
		for f, fst := range src.fsts {
			if fst != nil {
				pairs[f] += fst.Len()
				total += fst.Len()
			}
		}
	}
	for f := range m.names {
		var bounds [][]byte
		if parts := pairs[f] * mergeUnits / max(total, 1); parts > 1 {
			var err error
			if bounds, err = m.bounds(f, parts); err != nil {
				return err
			}
		}
		var lo []byte
		for _, hi := range append(bounds, nil) {
			m.units = append(m.units, &unit{field: f, lo: lo, hi: hi, done: make(chan struct{})})
			lo = hi
		}
		m.units = append(m.units, &unit{field: f, values: true, done: make(chan struct{})})
	}
	return nil
}

// bounds returns parts-1 terms of field f that cut the terms of the
// segment with the most of them into parts equal ranges.
func (m *merger) bounds(f, parts int) ([][]byte, error) {
	var fst *vellum.FST
	for _, src := range m.srcs {
		if s := src.fsts[f]; s != nil && (fst == nil || s.Len() > fst.Len()) {
			fst = s
		}
	}
	if fst == nil || fst.Len() < 2*parts {
		return nil, nil
	}
	step := fst.Len() / parts
	var bounds [][]byte
	it, err := fst.Iterator(nil, nil)
	for i := 0; err == nil; i++ {
		if i > 0 && i%step == 0 && len(bounds) < parts-1 {
			key, _ := it.Current()
			bounds = append(bounds, bytes.Clone(key))
		}
		err = it.Next()
	}
	if !errors.Is(err, vellum.ErrIteratorDone) {
		return nil, err
	}
	return bounds, nil
}

// mergeTo writes the merged segment to a new file at path.
func (m *merger) mergeTo(path string, closeCh chan struct{}, s segment.StatsReporter, stats *segment.Stats) (newDocNums [][]uint64, size uint64, err error) {
	if stats == nil {
		stats = new(segment.Stats)
	}
	atomic.AddUint64(&stats.TotMergesBeg, 1)
	atomic.AddUint64(&stats.TotMergeInputSegments, uint64(len(m.srcs)))
	defer func() {
		if err == nil {
			parallelMerges.Add(1)
			atomic.AddUint64(&stats.TotMergeOutputDocs, m.numDocs)
		} else {
			atomic.AddUint64(&stats.TotMergesErrors, 1)
		}
		atomic.AddUint64(&stats.TotMergesEnd, 1)
	}()
	if err := m.plan(); err != nil {
		return nil, 0, fmt.Errorf("zapbuild: merge: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, err
	}
	size, err = m.write(f, closeCh, s)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, 0, err
	}
	newDocNums = make([][]uint64, len(m.srcs))
	for i, src := range m.srcs {
		nums := make([]uint64, src.numDocs)
		for d := range nums {
			nums[d] = src.base + uint64(d)
		}
		newDocNums[i] = nums
	}
	return newDocNums, size, nil
}

// write writes the merged segment to f: the stored documents, then the
// units' output as workers finish them, the fields section and the
// footer. It returns the number of bytes written.
func (m *merger) write(f *os.File, closeCh chan struct{}, s segment.StatsReporter) (uint64, error) {
	stop := make(chan struct{})
	var workers sync.WaitGroup
	defer func() {
		close(stop)
		workers.Wait()
	}()
	m.startWorkers(&workers, stop, closeCh)

	br := bufio.NewWriterSize(f, zap.DefaultFileMergerBufferSize)
	w := zap.NewCountHashWriterWithStatsReporter(br, s)
	storedIndex, err := m.writeStored(w)
	if err != nil {
		return 0, fmt.Errorf("zapbuild: merge stored fields: %w", err)
	}
	addrs := make([]uint64, len(m.names))
	dict, err := newDictionary()
	if err != nil {
		return 0, err
	}
	varint := make([]byte, 3*binary.MaxVarintLen64)
	for i, u := range m.units {
		select {
		case <-u.done:
		case <-closeCh:
			return 0, segment.ErrClosed
		}
		if u.err != nil {
			return 0, fmt.Errorf("zapbuild: merge field %s: %w", m.names[u.field], u.err)
		}
		if !u.values {
			if err := writeTerms(w, dict, u, varint); err != nil {
				return 0, err
			}
		} else {
			// The field's dictionary, doc values and their addresses.
			dictOffset, err := dict.writeTo(w)
			if err != nil {
				return 0, err
			}
			dvStart, dvEnd := uint64(fieldNotUninverted), uint64(fieldNotUninverted)
			if u.data.Len() > 0 {
				dvStart = uint64(w.Count())
				if _, err := w.Write(u.data.Bytes()); err != nil {
					return 0, err
				}
				dvEnd = uint64(w.Count())
			}
			addrs[u.field] = uint64(w.Count())
			if _, err := writeUvarints(w, dvStart, dvEnd, dictOffset); err != nil {
				return 0, err
			}
		}
		o := u.output
		o.terms, o.outs = o.terms[:0], o.outs[:0]
		o.data.Reset()
		outputs.Put(o)
		m.units[i] = nil
		<-m.ahead
	}
	sectionsIndex, err := writeFieldsSection(w, m.names, m.options, addrs)
	if err != nil {
		return 0, err
	}
	// The footer (zapx's persistFooter): no file-writer id, then the
	// segment's figures, then the checksum of everything before it.
	var footer [4 + 8 + 8 + 8 + 4 + 4]byte
	binary.BigEndian.PutUint32(footer[0:], 0)
	binary.BigEndian.PutUint64(footer[4:], m.numDocs)
	binary.BigEndian.PutUint64(footer[12:], storedIndex)
	binary.BigEndian.PutUint64(footer[20:], sectionsIndex)
	binary.BigEndian.PutUint32(footer[28:], zap.DefaultChunkMode)
	binary.BigEndian.PutUint32(footer[32:], zap.Version)
	if _, err := w.Write(footer[:]); err != nil {
		return 0, err
	}
	if err := binary.Write(w, binary.BigEndian, w.Sum32()); err != nil {
		return 0, err
	}
	if err := br.Flush(); err != nil {
		return 0, err
	}
	return uint64(w.Count()), nil
}

// writeStored copies every source's stored documents, writes the index
// of where each starts and an empty list of nested documents, and returns
// where the index starts.
func (m *merger) writeStored(w *zap.CountHashWriter) (uint64, error) {
	offsets := make([]uint64, 0, m.numDocs)
	for _, src := range m.srcs {
		if src.numDocs == 0 {
			continue
		}
		ix := reader{mem: src.mem, pos: src.storedIndex}
		first := ix.u64()
		ix.pos = src.storedIndex + 8*(src.numDocs-1)
		last := reader{mem: src.mem, pos: ix.u64()}
		metaLen, dataLen := last.uvarint(), last.uvarint()
		end := last.pos + metaLen + dataLen
		if ix.err || last.err || first > end || end > uint64(len(src.mem)) {
			return 0, fmt.Errorf("stored documents of a segment end past its data")
		}
		start := uint64(w.Count())
		if _, err := w.Write(src.mem[first:end]); err != nil {
			return 0, err
		}
		ix.pos = src.storedIndex
		for range src.numDocs {
			offsets = append(offsets, ix.u64()-first+start)
		}
	}
	storedIndex := uint64(w.Count())
	buf := make([]byte, 8*len(offsets)+1) // the offsets, and 0 nested documents
	for i, o := range offsets {
		binary.BigEndian.PutUint64(buf[8*i:], o)
	}
	if _, err := w.Write(buf); err != nil {
		return 0, err
	}
	return storedIndex, nil
}

// writeTerms writes a unit's postings lists (zapx's writePostings) and
// adds its terms to the field's dictionary.
func writeTerms(w *zap.CountHashWriter, dict *dictionary, u *unit, varint []byte) error {
	data := u.data.Bytes()
	start := 0
	for _, o := range u.outs {
		term := u.terms[start:o.termEnd]
		start = o.termEnd
		if o.hit != 0 {
			if err := dict.Insert(term, o.hit); err != nil {
				return err
			}
			continue
		}
		tfOffset, locOffset := uint64(termNotEncoded), uint64(termNotEncoded)
		if o.tfLen > 0 {
			tfOffset = uint64(w.Count())
			if _, err := w.Write(data[:o.tfLen]); err != nil {
				return err
			}
			data = data[o.tfLen:]
		}
		if o.locLen > 0 {
			locOffset = uint64(w.Count())
			if _, err := w.Write(data[:o.locLen]); err != nil {
				return err
			}
			data = data[o.locLen:]
		}
		offset := uint64(w.Count())
		varint = binary.AppendUvarint(varint[:0], tfOffset)
		varint = binary.AppendUvarint(varint, locOffset)
		varint = binary.AppendUvarint(varint, uint64(o.bmLen))
		if _, err := w.Write(varint); err != nil {
			return err
		}
		if _, err := w.Write(data[:o.bmLen]); err != nil {
			return err
		}
		data = data[o.bmLen:]
		if err := dict.Insert(term, offset); err != nil {
			return err
		}
	}
	return nil
}

// startWorkers starts GOMAXPROCS workers filling m's units, in order,
// at most maxAhead ahead of the writer, until they are all done or stop
// closes.
func (m *merger) startWorkers(workers *sync.WaitGroup, stop, closeCh chan struct{}) {
	m.ahead = make(chan struct{}, maxAhead)
	work := make(chan *unit)
	workers.Go(func() {
		defer close(work)
		for _, u := range m.units {
			select {
			case m.ahead <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case work <- u:
			case <-stop:
				return
			}
		}
	})
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			w := newWorker(m)
			for u := range work {
				select {
				case <-stop:
					u.err = segment.ErrClosed
				case <-closeCh:
					u.err = segment.ErrClosed
				default:
					u.output = outputs.Get().(*output)
					if u.values {
						u.err = w.mergeValues(u)
					} else {
						u.err = w.mergeTerms(u)
					}
				}
				close(u.done)
			}
		})
	}
}

// worker merges units, keeping its buffers from one to the next.
type worker struct {
	m       *merger
	tf, loc *chunkedIntCoder
	heap    cursors
	entries []entry
	bms     []*roaring.Bitmap // the general postings lists of entries, by index
	bm      *roaring.Bitmap
	docs    []uint32
	many    []uint32
	tfEnds  []uint64
	locEnds []uint64
	hit     []byte
	raw     []byte
	// The last document copied, with its frequency and norm.
	lastDoc, lastFreq, lastNorm uint64
}

// cursor walks one segment's terms of a unit's range.
type cursor struct {
	it  *vellum.FSTIterator
	key []byte
	val uint64
	src int
}

// entry is a term's dictionary value in one segment.
type entry struct {
	src int
	val uint64
}

func newWorker(m *merger) *worker {
	return &worker{
		m:    m,
		tf:   newChunkedIntCoder(1024, m.numDocs-1),
		loc:  newChunkedIntCoder(1024, m.numDocs-1),
		bm:   roaring.New(),
		many: make([]uint32, 256),
	}
}

// mergeTerms merges the postings of the terms in u's range, segment by
// segment in order, as zapx's merge does (mergeTermFreqNormLocsByCopying).
func (w *worker) mergeTerms(u *unit) error {
	h := w.heap[:0]
	defer func() { w.heap = h[:0] }()
	for i, src := range w.m.srcs {
		fst := src.fsts[u.field]
		if fst == nil {
			continue
		}
		it, err := fst.Iterator(u.lo, u.hi)
		if errors.Is(err, vellum.ErrIteratorDone) {
			continue
		}
		if err != nil {
			return err
		}
		c := &cursor{it: it, src: i}
		c.key, c.val = it.Current()
		h = append(h, c)
	}
	heap.Init(&h)
	for len(h) > 0 {
		start := len(u.terms)
		u.terms = append(u.terms, h[0].key...)
		term := u.terms[start:]
		w.entries = w.entries[:0]
		for len(h) > 0 && bytes.Equal(h[0].key, term) {
			c := h[0]
			w.entries = append(w.entries, entry{c.src, c.val})
			if err := c.it.Next(); err == nil {
				c.key, c.val = c.it.Current()
				heap.Fix(&h, 0)
			} else if errors.Is(err, vellum.ErrIteratorDone) {
				heap.Pop(&h)
			} else {
				return err
			}
		}
		if err := w.mergeTerm(u); err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
	}
	return nil
}

// cursors is a heap of cursors by term, then by segment: a term's
// segments come off it in order.
type cursors []*cursor

func (h cursors) Len() int { return len(h) }

func (h cursors) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].src < h[j].src
}

func (h cursors) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *cursors) Push(x any) { *h = append(*h, x.(*cursor)) }

func (h *cursors) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// freqHasLocs1Hit is a single hit's frequency (1) without locations,
// as zapx's postings iterator gives it.
const freqHasLocs1Hit = 1 << 1

// mergeTerm merges the postings lists of w.entries, the term just added
// to u.terms, and records the result in u.
func (w *worker) mergeTerm(u *unit) error {
	m := w.m
	card, err := w.count()
	if err != nil {
		return err
	}
	chunkSize, err := getChunkSize(zap.DefaultChunkMode, card, m.numDocs)
	if err != nil {
		return err
	}
	w.tf.SetChunkSize(chunkSize, m.numDocs-1)
	w.loc.SetChunkSize(chunkSize, m.numDocs-1)
	w.docs = w.docs[:0]
	for k, e := range w.entries {
		src := m.srcs[e.src]
		if e.val&zap.FSTValEncodingMask != zap.FSTValEncoding1Hit {
			if err := w.copyList(src, e.val, w.bms[k]); err != nil {
				return err
			}
			continue
		}
		docNum, norm := zap.FSTValDecode1Hit(e.val)
		if norm == 0 {
			return errCorrupt // zapx would read a general postings list there
		}
		doc := src.base + docNum
		w.hit = binary.AppendUvarint(w.hit[:0], freqHasLocs1Hit)
		w.hit = binary.AppendUvarint(w.hit, norm)
		w.tf.AddBytes(doc, w.hit)
		w.docs = append(w.docs, uint32(doc))
		w.lastDoc, w.lastFreq, w.lastNorm = doc, 1, norm
	}
	w.tf.Close()
	w.loc.Close()
	err = w.finish(u, card)
	w.tf.Reset()
	w.loc.Reset()
	return err
}

// count reads the postings lists of w.entries (into w.bms, by entry) and
// returns how many documents they hold together.
func (w *worker) count() (uint64, error) {
	var card uint64
	for k, e := range w.entries {
		if e.val&zap.FSTValEncodingMask == zap.FSTValEncoding1Hit {
			card++
			continue
		}
		r := reader{mem: w.m.srcs[e.src].mem, pos: e.val}
		r.uvarint() // frequencies' offset
		r.uvarint() // locations' offset
		b := r.bytes(r.uvarint())
		if r.err {
			return 0, errCorrupt
		}
		for len(w.bms) <= k {
			w.bms = append(w.bms, roaring.New())
		}
		if _, err := w.bms[k].FromBuffer(b); err != nil {
			return 0, err
		}
		card += w.bms[k].GetCardinality()
	}
	return card, nil
}

// copyList copies the postings list at val in src, whose documents are
// bm, to w.tf, w.loc and w.docs: each document's frequency and norm bytes
// and its locations' bytes as they are, in new chunks.
func (w *worker) copyList(src *source, val uint64, bm *roaring.Bitmap) error {
	r := reader{mem: src.mem, pos: val}
	tfOffset, locOffset := r.uvarint(), r.uvarint()
	srcChunk, err := getChunkSize(src.chunkMode, bm.GetCardinality(), src.numDocs)
	if err != nil {
		return err
	}
	tfData, tfEnds, err := chunked(src.mem, tfOffset, &w.tfEnds)
	if err != nil {
		return err
	}
	locData, locEnds, err := chunked(src.mem, locOffset, &w.locEnds)
	if err != nil {
		return err
	}
	current := uint64(math.MaxUint64)
	var tfChunk, locChunk []byte
	var tp, lp int
	it := bm.ManyIterator()
	for n := it.NextMany(w.many); n > 0; n = it.NextMany(w.many) {
		for _, d := range w.many[:n] {
			if c := uint64(d) / srcChunk; c != current {
				if tfChunk, err = chunk(tfData, tfEnds, c); err != nil {
					return err
				}
				if locData != nil {
					if locChunk, err = chunk(locData, locEnds, c); err != nil {
						return err
					}
				}
				tp, lp, current = 0, 0, c
			}
			start := tp
			freqHasLocs, k := binary.Uvarint(tfChunk[tp:])
			if k <= 0 {
				return errCorrupt
			}
			tp += k
			freq, norm := freqHasLocs>>1, uint64(0)
			if freq != 0 {
				if norm, k = binary.Uvarint(tfChunk[tp:]); k <= 0 {
					return errCorrupt
				}
				tp += k
			}
			doc := src.base + uint64(d)
			w.tf.AddBytes(doc, tfChunk[start:tp])
			if freqHasLocs&1 != 0 {
				start := lp
				size, k := binary.Uvarint(locChunk[lp:])
				if k <= 0 || size > uint64(len(locChunk)-lp-k) {
					return errCorrupt
				}
				lp += k + int(size)
				w.loc.AddBytes(doc, locChunk[start:lp])
			}
			w.docs = append(w.docs, uint32(doc))
			w.lastDoc, w.lastFreq, w.lastNorm = doc, freq, norm
		}
	}
	return nil
}

// finish records the merged term in u: in the dictionary alone if it is
// in one document, once, without locations (zapx's 1-hit encoding), else
// its frequencies, locations and bitmap.
func (w *worker) finish(u *unit, card uint64) error {
	out := termOut{}
	if card == 1 && len(w.loc.final) == 0 && w.lastDoc <= mask31 && w.lastFreq == 1 {
		out.hit = zap.FSTValEncode1Hit(w.lastDoc, w.lastNorm)
	} else {
		n := u.data.Len()
		if len(w.tf.final) > 0 {
			if _, err := w.tf.write(&u.data); err != nil {
				return err
			}
		}
		out.tfLen = u.data.Len() - n
		n = u.data.Len()
		if len(w.loc.final) > 0 {
			if _, err := w.loc.write(&u.data); err != nil {
				return err
			}
		}
		out.locLen = u.data.Len() - n
		n = u.data.Len()
		w.bm.Clear()
		w.bm.AddMany(w.docs)
		if _, err := w.bm.WriteTo(&u.data); err != nil {
			return err
		}
		out.bmLen = u.data.Len() - n
	}
	out.termEnd = len(u.terms)
	u.outs = append(u.outs, out)
	return nil
}

// errCorrupt reports a postings list that does not read as zapx writes
// them.
var errCorrupt = errors.New("postings list past the end of its segment or malformed")

// chunked reads the header of a chunkedIntCoder's output at off (none at
// termNotEncoded): the chunks' end offsets, into ends, and the data.
func chunked(mem []byte, off uint64, ends *[]uint64) ([]byte, []uint64, error) {
	if off == termNotEncoded {
		return nil, nil, nil
	}
	r := reader{mem: mem, pos: off}
	n := r.uvarint()
	if n > uint64(len(mem)) {
		return nil, nil, errCorrupt
	}
	e := (*ends)[:0]
	for range n {
		e = append(e, r.uvarint())
	}
	*ends = e
	if r.err {
		return nil, nil, errCorrupt
	}
	return mem[r.pos:], e, nil
}

// chunk returns chunk c of chunked data.
func chunk(data []byte, ends []uint64, c uint64) ([]byte, error) {
	if c >= uint64(len(ends)) {
		return nil, errCorrupt
	}
	var start uint64
	if c > 0 {
		start = ends[c-1]
	}
	if start > ends[c] || ends[c] > uint64(len(data)) {
		return nil, errCorrupt
	}
	return data[start:ends[c]], nil
}

// mergeValues merges the doc values of u's field, from the segments
// holding terms of it (zapx's merge reads no others).
func (w *worker) mergeValues(u *unit) error {
	m := w.m
	f := u.field
	chunkSize := uint64(zap.LegacyChunkMode)
	if m.options[f].SkipDVChunking() {
		chunkSize = 1
	}
	dv := newChunkedContentCoder(chunkSize, m.numDocs-1, &u.data, m.options[f].SkipDVCompression())
	fields := []string{m.names[f]}
	visit := func(_ string, term []byte) {
		w.raw = append(append(w.raw, term...), index.DocValueTermSeparator)
	}
	found := false
	for _, src := range m.srcs {
		if src.fsts[f] == nil || !src.docValues[f] {
			continue
		}
		found = true
		var dvs segment.DocVisitState
		for d := range src.numDocs {
			w.raw = w.raw[:0]
			var err error
			if dvs, err = src.seg.VisitDocValues(d, fields, visit, dvs); err != nil {
				return err
			}
			if len(w.raw) > 0 {
				if err := dv.Add(src.base+d, w.raw); err != nil {
					return err
				}
			}
		}
	}
	if !found {
		return nil
	}
	if err := dv.Close(); err != nil {
		return err
	}
	_, err := dv.Write()
	return err
}
