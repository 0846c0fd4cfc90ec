package attachment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Sniff judges what data is from its content alone: a JPEG image (baseline,
// extended or progressive, with a well-formed marker structure from SOI to
// EOI), a PNG image (signature, a valid IHDR chunk first, intact chunks with
// correct CRCs up to IEND) or a PDF document (starting with "%PDF-" and a
// version). Anything else, including a disguised, truncated or garbled file,
// is ErrUnsupported; no content is ErrEmpty. Sniff does not check the size.
//
// Both image checks walk the whole file rather than stopping at the first
// scan or image data chunk, because a file cut short in its pixel data would
// otherwise pass and show as half an image. Bytes after the end of the image
// (phones append motion-photo videos and depth maps there) are allowed and
// are dropped by Clean.
func Sniff(data []byte) (Kind, error) {
	switch {
	case len(data) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(data, jpegMagic):
		if _, _, err := parseJPEG(data); err != nil {
			return "", ErrUnsupported
		}
		return KindJPEG, nil
	case bytes.HasPrefix(data, pngSignature):
		if _, _, err := parsePNG(data); err != nil {
			return "", ErrUnsupported
		}
		return KindPNG, nil
	case isPDF(data):
		return KindPDF, nil
	}
	return "", ErrUnsupported
}

// isPDF reports whether data starts with a PDF header such as "%PDF-1.7".
func isPDF(data []byte) bool {
	return len(data) >= 8 && bytes.HasPrefix(data, []byte("%PDF-")) &&
		isDigit(data[5]) && data[6] == '.' && isDigit(data[7])
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// jpegMagic is SOI followed by the first byte of the next marker.
var jpegMagic = []byte{0xff, 0xd8, 0xff}

// JPEG markers the parser gives meaning to.
const (
	markerSOF0 = 0xc0 // baseline
	markerSOF1 = 0xc1 // extended sequential
	markerSOF2 = 0xc2 // progressive
	markerSOI  = 0xd8
	markerEOI  = 0xd9
	markerSOS  = 0xda
	markerAPP1 = 0xe1 // Exif, XMP
	markerAPPD = 0xed // IPTC / Photoshop image resources
)

// jpegSegment is one marker segment of a JPEG file: data[start:end] holds the
// marker (with any fill bytes before it), its length and payload and, for
// SOS, the entropy-coded data that follows up to the next marker.
type jpegSegment struct {
	start, end int
	marker     byte
}

// parseJPEG walks the marker segments of a JPEG file from SOI to EOI and
// returns the segments after SOI and the offset just past EOI. It accepts
// only what image/jpeg and browsers decode (SOF0, SOF1 or SOF2 with 1–4
// components and non-zero dimensions) and refuses anything malformed. Every
// step consumes at least two bytes, so it ends on any input.
func parseJPEG(data []byte) (segs []jpegSegment, end int, err error) {
	if !bytes.HasPrefix(data, jpegMagic) {
		return nil, 0, errors.New("jpeg: no SOI marker")
	}
	pos := 2
	sawSOF, sawSOS := false, false
	for {
		if pos+1 >= len(data) {
			return nil, 0, errors.New("jpeg: truncated before EOI")
		}
		if data[pos] != 0xff {
			return nil, 0, errors.New("jpeg: junk between segments")
		}
		start := pos
		for pos+1 < len(data) && data[pos+1] == 0xff { // fill bytes
			pos++
		}
		if pos+1 >= len(data) {
			return nil, 0, errors.New("jpeg: truncated in fill bytes")
		}
		marker := data[pos+1]
		pos += 2
		switch {
		case marker == markerEOI:
			if !sawSOS {
				return nil, 0, errors.New("jpeg: EOI before any scan")
			}
			return append(segs, jpegSegment{start, pos, marker}), pos, nil
		case marker == markerSOI, marker == 0x00, 0x02 <= marker && marker <= 0xbf:
			return nil, 0, errors.New("jpeg: unexpected marker")
		case marker == 0x01, 0xd0 <= marker && marker <= 0xd7:
			// TEM and RSTn stand alone; image/jpeg ignores a stray RSTn.
			segs = append(segs, jpegSegment{start, pos, marker})
			continue
		}
		if pos+2 > len(data) {
			return nil, 0, errors.New("jpeg: truncated segment length")
		}
		n := int(binary.BigEndian.Uint16(data[pos:]))
		if n < 2 || pos+n > len(data) {
			return nil, 0, errors.New("jpeg: bad segment length")
		}
		payload := data[pos+2 : pos+n]
		pos += n
		switch {
		case marker == markerSOF0, marker == markerSOF1, marker == markerSOF2:
			if sawSOF {
				return nil, 0, errors.New("jpeg: more than one frame")
			}
			if len(payload) < 6 {
				return nil, 0, errors.New("jpeg: short SOF")
			}
			height := binary.BigEndian.Uint16(payload[1:])
			width := binary.BigEndian.Uint16(payload[3:])
			comps := int(payload[5])
			if height == 0 || width == 0 || comps < 1 || comps > 4 || len(payload) != 6+3*comps {
				return nil, 0, errors.New("jpeg: bad SOF")
			}
			sawSOF = true
		case 0xc3 <= marker && marker <= 0xcf && marker != 0xc4 && marker != 0xcc:
			return nil, 0, errors.New("jpeg: unsupported coding process")
		case marker == markerSOS:
			if !sawSOF {
				return nil, 0, errors.New("jpeg: scan before frame header")
			}
			if len(payload) < 1 {
				return nil, 0, errors.New("jpeg: short SOS")
			}
			comps := int(payload[0])
			if comps < 1 || comps > 4 || len(payload) != 4+2*comps {
				return nil, 0, errors.New("jpeg: bad SOS")
			}
			if pos, err = skipEntropyData(data, pos); err != nil {
				return nil, 0, err
			}
			sawSOS = true
		}
		segs = append(segs, jpegSegment{start, pos, marker})
	}
}

// skipEntropyData returns the offset of the marker that ends the
// entropy-coded data starting at pos. Inside it 0xFF is followed by a
// stuffed 0x00, a restart marker or fill bytes; anything else is a marker.
func skipEntropyData(data []byte, pos int) (int, error) {
	for {
		i := bytes.IndexByte(data[pos:], 0xff)
		if i < 0 || pos+i+1 >= len(data) {
			return 0, errors.New("jpeg: truncated scan data")
		}
		pos += i
		switch next := data[pos+1]; {
		case next == 0x00, 0xd0 <= next && next <= 0xd7:
			pos += 2
		case next == 0xff:
			pos++
		default:
			return pos, nil
		}
	}
}

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngChunk is one chunk of a PNG file: data[start:end] holds its length,
// type, payload and CRC.
type pngChunk struct {
	start, end int
	typ        string
}

// parsePNG walks the chunks of a PNG file from the signature to IEND and
// returns them with the offset just past IEND. It requires a valid IHDR
// first, at least one IDAT, well-formed chunk types and correct CRCs on every
// chunk, so garbled and truncated files are refused. Every step consumes at
// least twelve bytes, so it ends on any input.
func parsePNG(data []byte) (chunks []pngChunk, end int, err error) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, 0, errors.New("png: no signature")
	}
	pos := len(pngSignature)
	sawIDAT := false
	for {
		if pos+12 > len(data) {
			return nil, 0, errors.New("png: truncated before IEND")
		}
		n := binary.BigEndian.Uint32(data[pos:])
		if n > 1<<31-1 || uint64(pos)+12+uint64(n) > uint64(len(data)) {
			return nil, 0, errors.New("png: bad chunk length")
		}
		typ := data[pos+4 : pos+8]
		for _, c := range typ {
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				return nil, 0, errors.New("png: bad chunk type")
			}
		}
		body := data[pos+8 : pos+8+int(n)]
		crcAt := pos + 8 + int(n)
		if crc32.ChecksumIEEE(data[pos+4:crcAt]) != binary.BigEndian.Uint32(data[crcAt:]) {
			return nil, 0, errors.New("png: bad chunk CRC")
		}
		c := pngChunk{start: pos, end: crcAt + 4, typ: string(typ)}
		pos = c.end
		first := len(chunks) == 0
		switch {
		case first != (c.typ == "IHDR"):
			return nil, 0, errors.New("png: IHDR is not the first chunk")
		case first:
			if !validIHDR(body) {
				return nil, 0, errors.New("png: bad IHDR")
			}
		case c.typ == "IDAT":
			sawIDAT = true
		case c.typ == "IEND":
			if !sawIDAT || n != 0 {
				return nil, 0, errors.New("png: bad IEND or no image data")
			}
			return append(chunks, c), pos, nil
		}
		chunks = append(chunks, c)
	}
}

// validIHDR checks the image header fields against the PNG specification.
func validIHDR(b []byte) bool {
	if len(b) != 13 {
		return false
	}
	w, h := binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return false
	}
	depth, color := b[8], b[9]
	var depths []byte
	switch color {
	case 0: // greyscale
		depths = []byte{1, 2, 4, 8, 16}
	case 3: // palette
		depths = []byte{1, 2, 4, 8}
	case 2, 4, 6: // RGB, grey + alpha, RGBA
		depths = []byte{8, 16}
	default:
		return false
	}
	return bytes.IndexByte(depths, depth) >= 0 && b[10] == 0 && b[11] == 0 && b[12] <= 1
}
