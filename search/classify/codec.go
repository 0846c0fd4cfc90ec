package classify

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// The stored form of a Model, for a database blob:
//
//	"JDZM" | uvarint len | JSON of the exported fields |
//	DEFLATE( uvarint docs | per block: uvarint n, n uvarint key deltas,
//	         n uvarint document frequencies |
//	         K float32 biases | K float32 scales | F×K int8 weights )
//
// Features are kept as 32-bit hashes, never as strings; idf is recomputed
// from the document frequencies exactly as training computed it. Weights
// are quantised to int8 per class (weight = q·scale) when training ends, so
// a model predicts exactly the same before and after a round trip.
var magic = []byte("JDZM")

// MarshalBinary encodes the model compactly (see above).
func (m *Model) MarshalBinary() ([]byte, error) {
	var out bytes.Buffer
	out.Write(magic)
	head, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("classify: encode model header: %w", err)
	}
	var tmp [binary.MaxVarintLen64]byte
	out.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(head)))])
	out.Write(head)
	if m.Kind != kindLinear {
		return out.Bytes(), nil
	}
	if m.vocab == nil || m.lin == nil || m.lin.q == nil {
		return nil, errors.New("classify: model has no quantised weights to encode")
	}
	zw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	uv := func(x uint64) { w.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	f32 := func(x float32) {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		w.Write(b[:])
	}
	v := m.vocab
	uv(uint64(v.docs))
	for b := range numBlocks {
		uv(uint64(len(v.keys[b])))
		var prev uint32
		for _, k := range v.keys[b] {
			uv(uint64(k - prev))
			prev = k
		}
		for _, d := range v.df[b] {
			uv(uint64(d))
		}
	}
	for _, x := range m.lin.b {
		f32(x)
	}
	for _, x := range m.lin.scale {
		f32(x)
	}
	for _, q := range m.lin.q {
		w.WriteByte(byte(q))
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnmarshalBinary decodes a model written by MarshalBinary. A model from
// another ModelVersion is refused. Call SetTokenizer before Predict when
// the model uses words.
func (m *Model) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, magic) {
		return errors.New("classify: not a stored model")
	}
	r := bytes.NewReader(data[len(magic):])
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(r.Len()) {
		return errors.New("classify: stored model header is truncated")
	}
	head := make([]byte, n)
	io.ReadFull(r, head)
	var dec Model
	if err := json.Unmarshal(head, &dec); err != nil {
		return fmt.Errorf("classify: decode model header: %w", err)
	}
	if dec.Version != ModelVersion {
		return fmt.Errorf("classify: stored model has version %d, this build reads %d: retrain it", dec.Version, ModelVersion)
	}
	switch dec.Kind {
	case kindKeywords:
		if len(dec.Keywords) != len(dec.Classes) {
			return errors.New("classify: stored keyword model is inconsistent")
		}
		dec.prepareKeywords()
	case kindLinear:
		if err := dec.decodeWeights(bufio.NewReader(flate.NewReader(r))); err != nil {
			return fmt.Errorf("classify: decode model weights: %w", err)
		}
	default:
		return fmt.Errorf("classify: stored model has unknown kind %q", dec.Kind)
	}
	dec.tok = m.tok
	*m = dec
	return nil
}

// Bounds on what a stored model may claim, so a corrupt blob cannot make
// UnmarshalBinary allocate without limit.
const (
	maxStoredFeatures = 1 << 24
	maxStoredClasses  = 1 << 12
	maxStoredWeights  = 1 << 28
)

func (m *Model) decodeWeights(r *bufio.Reader) error {
	k := len(m.Classes)
	if k == 0 || k > maxStoredClasses {
		return fmt.Errorf("%d classes", k)
	}
	docs, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	v := &vocab{docs: int(docs)}
	total := 0
	for b := range numBlocks {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		if total += int(n); n > maxStoredFeatures || total > maxStoredFeatures {
			return errors.New("too many features")
		}
		v.keys[b] = make([]uint32, n)
		var prev uint32
		for i := range v.keys[b] {
			d, err := binary.ReadUvarint(r)
			if err != nil {
				return err
			}
			if d > math.MaxUint32 || (i > 0 && d == 0) {
				return errors.New("bad feature key")
			}
			prev += uint32(d)
			v.keys[b][i] = prev
		}
		v.df[b] = make([]uint32, n)
		for i := range v.df[b] {
			d, err := binary.ReadUvarint(r)
			if err != nil {
				return err
			}
			v.df[b][i] = uint32(d)
		}
	}
	v.finish(m.Features)
	if v.size*k > maxStoredWeights {
		return errors.New("too many weights")
	}
	l := &linear{k: k, b: make([]float32, k), scale: make([]float32, k), q: make([]int8, v.size*k)}
	var b4 [4]byte
	for _, dst := range [][]float32{l.b, l.scale} {
		for i := range dst {
			if _, err := io.ReadFull(r, b4[:]); err != nil {
				return err
			}
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b4[:]))
		}
	}
	q := make([]byte, len(l.q))
	if _, err := io.ReadFull(r, q); err != nil {
		return err
	}
	for i, x := range q {
		l.q[i] = int8(x)
	}
	m.vocab, m.lin = v, l
	return nil
}

// quantise rounds every weight to its class's int8 grid (127 steps up to
// the class's largest weight) and drops the float weights: a quarter of the
// memory, and the precision the stored form keeps. MODEL.md measures the
// cost: none that cross-validation can see.
func (l *linear) quantise() {
	k := l.k
	l.scale = make([]float32, k)
	for i, x := range l.w {
		l.scale[i%k] = max(l.scale[i%k], float32(math.Abs(float64(x))))
	}
	for c := range l.scale {
		l.scale[c] /= 127
	}
	l.q = make([]int8, len(l.w))
	for i, x := range l.w {
		if s := l.scale[i%k]; s != 0 {
			l.q[i] = int8(math.Round(float64(x / s)))
		}
	}
	l.w = nil
}
