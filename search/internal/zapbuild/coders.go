// This file is adapted from github.com/blevesearch/zapx/v17 v17.2.5
// (intcoder.go, contentcoder.go, chunk.go, merge.go, write.go), which is
//
//	Copyright (c) 2017 Couchbase, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//	http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
//
// Changes: only what building a new in-memory segment uses is kept; the
// writer is always a zap.FileWriter without a callback (what zapx's New
// uses), so the callback steps are gone.

package zapbuild

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/golang/snappy"
)

// termNotEncoded is the offset of an absent frequency or location section.
const termNotEncoded = 0

// chunkedIntCoder packs unsigned varints into chunks of documents.
type chunkedIntCoder struct {
	final     []byte
	chunkSize uint64
	chunkBuf  bytes.Buffer
	chunkLens []uint64
	currChunk uint64
	buf       []byte
}

func newChunkedIntCoder(chunkSize, maxDocNum uint64) *chunkedIntCoder {
	return &chunkedIntCoder{
		chunkSize: chunkSize,
		chunkLens: make([]uint64, maxDocNum/chunkSize+1),
		final:     make([]byte, 0, 64),
		buf:       make([]byte, binary.MaxVarintLen64),
	}
}

// Reset empties the coder for the next postings list.
func (c *chunkedIntCoder) Reset() {
	c.final = c.final[:0]
	c.chunkBuf.Reset()
	c.currChunk = 0
	clear(c.chunkLens)
}

// SetChunkSize changes the chunk size; only right after Reset.
func (c *chunkedIntCoder) SetChunkSize(chunkSize, maxDocNum uint64) {
	total := int(maxDocNum/chunkSize + 1)
	c.chunkSize = chunkSize
	if cap(c.chunkLens) < total {
		c.chunkLens = make([]uint64, total)
	} else {
		c.chunkLens = c.chunkLens[:total]
	}
}

// Add encodes vals in the chunk of docNum; docNums must not decrease.
func (c *chunkedIntCoder) Add(docNum uint64, vals ...uint64) {
	chunk := docNum / c.chunkSize
	if chunk != c.currChunk {
		c.Close()
		c.chunkBuf.Reset()
		c.currChunk = chunk
	}
	for _, val := range vals {
		n := binary.PutUvarint(c.buf, val)
		c.chunkBuf.Write(c.buf[:n])
	}
}

// AddBytes appends already encoded values in the chunk of docNum;
// docNums must not decrease.
func (c *chunkedIntCoder) AddBytes(docNum uint64, buf []byte) {
	chunk := docNum / c.chunkSize
	if chunk != c.currChunk {
		c.Close()
		c.chunkBuf.Reset()
		c.currChunk = chunk
	}
	c.chunkBuf.Write(buf)
}

// Close ends the current chunk.
func (c *chunkedIntCoder) Close() {
	encoded := c.chunkBuf.Bytes()
	c.chunkLens[c.currChunk] = uint64(len(encoded))
	c.final = append(c.final, encoded...)
	c.currChunk = uint64(cap(c.chunkLens)) // sentinel to detect double close
}

// write writes the chunk offsets and the data.
func (c *chunkedIntCoder) write(w io.Writer) (int, error) {
	if need := binary.MaxVarintLen64 * (1 + len(c.chunkLens)); len(c.buf) < need {
		c.buf = make([]byte, need)
	}
	offsets := lengthsToEndOffsets(c.chunkLens)
	n := binary.PutUvarint(c.buf, uint64(len(offsets)))
	for _, o := range offsets {
		n += binary.PutUvarint(c.buf[n:], o)
	}
	tw, err := w.Write(c.buf[:n])
	if err != nil {
		return tw, err
	}
	nw, err := w.Write(c.final)
	return tw + nw, err
}

// writeAt writes the coder at w's offset, which it returns; termNotEncoded
// if the coder holds nothing.
func (c *chunkedIntCoder) writeAt(w countWriter) (uint64, error) {
	if len(c.final) == 0 {
		return termNotEncoded, nil
	}
	start := uint64(w.Count())
	_, err := c.write(w)
	return start, err
}

// lengthsToEndOffsets turns chunk lengths into chunk end offsets, in place.
func lengthsToEndOffsets(lengths []uint64) []uint64 {
	var running uint64
	for i, l := range lengths {
		running += l
		lengths[i] = running
	}
	return lengths
}

// chunkedContentCoder packs doc values into snappy-compressed chunks.
type chunkedContentCoder struct {
	final           []byte
	chunkSize       uint64
	currChunk       uint64
	chunkLens       []uint64
	compressed      []byte
	w               io.Writer
	skipCompression bool
	chunkMeta       []metaData
	chunkMetaBuf    bytes.Buffer
	chunkBuf        bytes.Buffer
}

// metaData locates one document's values in a chunk.
type metaData struct {
	DocNum      uint64
	DocDvOffset uint64
}

func newChunkedContentCoder(chunkSize, maxDocNum uint64, w io.Writer, skipCompression bool) *chunkedContentCoder {
	total := maxDocNum/chunkSize + 1
	return &chunkedContentCoder{
		chunkSize:       chunkSize,
		chunkLens:       make([]uint64, total),
		chunkMeta:       make([]metaData, 0, total),
		w:               w,
		skipCompression: skipCompression,
	}
}

// Close ends the last chunk.
func (c *chunkedContentCoder) Close() error { return c.flushContents() }

func (c *chunkedContentCoder) writeChunkMeta() ([]byte, error) {
	buf := make([]byte, binary.MaxVarintLen64)
	n := binary.PutUvarint(buf, uint64(len(c.chunkMeta)))
	c.chunkMetaBuf.Write(buf[:n])
	for _, m := range c.chunkMeta {
		if _, err := writeUvarints(&c.chunkMetaBuf, m.DocNum, m.DocDvOffset); err != nil {
			return nil, err
		}
	}
	meta := c.chunkMetaBuf.Bytes()
	c.final = append(c.final, meta...)
	return meta, nil
}

func (c *chunkedContentCoder) flushContents() error {
	var meta []byte
	if c.chunkSize != 1 {
		var err error
		if meta, err = c.writeChunkMeta(); err != nil {
			return err
		}
	}
	if c.skipCompression {
		c.compressed = c.chunkBuf.Bytes()
	} else {
		c.compressed = snappy.Encode(c.compressed[:cap(c.compressed)], c.chunkBuf.Bytes())
	}
	c.final = append(c.final, c.compressed...)
	c.chunkLens[c.currChunk] = uint64(len(c.compressed) + len(meta))
	return nil
}

// Add appends a document's values; docNums must increase.
func (c *chunkedContentCoder) Add(docNum uint64, vals []byte) error {
	if chunk := docNum / c.chunkSize; chunk != c.currChunk {
		if err := c.flushContents(); err != nil {
			return err
		}
		c.chunkBuf.Reset()
		c.chunkMetaBuf.Reset()
		c.chunkMeta = c.chunkMeta[:0]
		c.currChunk = chunk
	}
	offset := c.chunkBuf.Len()
	size, _ := c.chunkBuf.Write(vals)
	c.chunkMeta = append(c.chunkMeta, metaData{DocNum: docNum, DocDvOffset: uint64(offset + size)})
	return nil
}

// Write writes the data, the chunk offsets, their length and their number.
func (c *chunkedContentCoder) Write() (int, error) {
	var tw int
	if c.final != nil {
		nw, err := c.w.Write(c.final)
		tw += nw
		if err != nil {
			return tw, err
		}
	}
	start := uint64(tw)
	buf := make([]byte, binary.MaxVarintLen64)
	for _, o := range lengthsToEndOffsets(c.chunkLens) {
		n := binary.PutUvarint(buf, o)
		nw, err := c.w.Write(buf[:n])
		tw += nw
		if err != nil {
			return tw, err
		}
	}
	offsetsLen := uint64(tw) - start
	binary.BigEndian.PutUint64(buf[:8], offsetsLen)
	nw, err := c.w.Write(buf[:8])
	tw += nw
	if err != nil {
		return tw, err
	}
	binary.BigEndian.PutUint64(buf[:8], uint64(len(c.chunkLens)))
	nw, err = c.w.Write(buf[:8])
	return tw + nw, err
}

// errChunkSizeZero is getChunkSize's error for an impossible size.
var errChunkSizeZero = errors.New("chunk size is zero")

// getChunkSize is the number of documents per chunk of a postings list
// with cardinality entries in a segment of maxDocs documents.
func getChunkSize(chunkMode uint32, cardinality, maxDocs uint64) (uint64, error) {
	switch {
	case chunkMode == 0:
		return 0, errChunkSizeZero
	case chunkMode <= 1024:
		return uint64(chunkMode), nil
	case chunkMode == 1025:
		if cardinality <= 1024 {
			if maxDocs == 0 {
				return 0, errChunkSizeZero
			}
			return maxDocs, nil
		}
		return 1024, nil
	case chunkMode == 1026:
		chunkSize := maxDocs / (cardinality/1024 + 1)
		if chunkSize == 0 {
			return 0, errChunkSizeZero
		}
		return chunkSize, nil
	}
	return 0, fmt.Errorf("unknown chunk mode %d", chunkMode)
}

// countWriter is a writer that knows how much it has written.
type countWriter interface {
	io.Writer
	Count() int
}

// writePostings writes a postings list (its frequencies and norms, its
// locations and its bitmap) and returns where it starts, 0 if empty. buf
// is scratch space, at least 3 × binary.MaxVarintLen64 bytes.
func writePostings(postings *roaring.Bitmap, tfEncoder, locEncoder *chunkedIntCoder, w countWriter, buf []byte) (uint64, error) {
	if postings == nil || postings.IsEmpty() {
		return 0, nil
	}
	tfOffset, err := tfEncoder.writeAt(w)
	if err != nil {
		return 0, err
	}
	locOffset, err := locEncoder.writeAt(w)
	if err != nil {
		return 0, err
	}
	offset := uint64(w.Count())
	// The two offsets and the bitmap's length in one write, then the bitmap.
	buf = binary.AppendUvarint(buf[:0], tfOffset)
	buf = binary.AppendUvarint(buf, locOffset)
	buf = binary.AppendUvarint(buf, postings.GetSerializedSizeInBytes())
	if _, err := w.Write(buf); err != nil {
		return 0, err
	}
	if _, err := postings.WriteTo(w); err != nil {
		return 0, err
	}
	return offset, nil
}

// writeUvarints writes vals as unsigned varints.
func writeUvarints(w io.Writer, vals ...uint64) (int, error) {
	var buf [binary.MaxVarintLen64]byte
	tw := 0
	for _, v := range vals {
		n := binary.PutUvarint(buf[:], v)
		nw, err := w.Write(buf[:n])
		tw += nw
		if err != nil {
			return tw, err
		}
	}
	return tw, nil
}

// encodeFreqHasLocs packs a frequency and whether locations follow.
func encodeFreqHasLocs(freq uint64, hasLocs bool) uint64 {
	rv := freq << 1
	if hasLocs {
		rv |= 1
	}
	return rv
}
