package attachment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"testing"
)

// FuzzClean feeds arbitrary bytes to Sniff and Clean. Run it with
//
//	go test -run='^$' -fuzz=FuzzClean -fuzztime=30s ./portal/attachment/
//
// It checks that nothing panics or hangs, that Clean refuses only with
// ErrUnsupported or ErrEmpty, and that whenever Clean accepts an image its
// output is an image of the same kind without any Exif/XMP APP1, APP13 or
// PNG metadata chunk, that cleaning again changes nothing, and that the
// output decodes to the same pixels as the input.
func FuzzClean(f *testing.F) {
	dirtyJPEG, _ := jpegWithMetadata(f, 16, 8)
	dirtyPNG, _ := pngWithMetadata(f, 8, 4)
	progressive, _ := progressiveJPEG()
	for _, seed := range [][]byte{
		dirtyJPEG, dirtyPNG, progressive, tinyPDF(), encodeJPEG(f, 9, 7), encodePNG(f, 3, 5),
		dirtyJPEG[:len(dirtyJPEG)/2], elfBinary, htmlPage, {0xff, 0xd8, 0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sniffed, sniffErr := Sniff(data)
		for _, kind := range []Kind{KindJPEG, KindPNG, KindPDF, "image/gif"} {
			out, err := Clean(kind, data)
			if err != nil {
				if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrEmpty) {
					t.Fatalf("Clean(%s) = %v", kind, err)
				}
				if sniffErr == nil && sniffed == kind {
					t.Fatalf("Sniff says %s but Clean refuses: %v", kind, err)
				}
				continue
			}
			if sniffErr != nil || sniffed != kind {
				t.Fatalf("Clean(%s) accepted what Sniff calls %q, %v", kind, sniffed, sniffErr)
			}
			if k, err := Sniff(out); err != nil || k != kind {
				t.Fatalf("cleaned %s sniffs as %q, %v", kind, k, err)
			}
			if again, err := Clean(kind, out); err != nil || !bytes.Equal(again, out) {
				t.Fatalf("Clean(%s) not idempotent: %v", kind, err)
			}
			switch kind {
			case KindJPEG:
				if m, ok := headerMarker(out, 0xe1, 0xed); ok {
					t.Fatalf("cleaned JPEG has an APP%d segment before its first scan", m-0xe0)
				}
				segs, _, err := parseJPEG(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range segs {
					if s.marker == markerAPP1 || s.marker == markerAPPD {
						t.Fatalf("cleaned JPEG has marker %#x at %d", s.marker, s.start)
					}
				}
				samePicture(t, data, out)
			case KindPNG:
				chunks, _, err := parsePNG(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range chunks {
					if isPNGMetadata(c.typ) {
						t.Fatalf("cleaned PNG has a %s chunk", c.typ)
					}
				}
				samePicture(t, data, out)
			}
		}
	})
}

// headerMarker is a deliberately naive second opinion on the JPEG header: it
// follows segment lengths from SOI to the first SOS the way most metadata
// readers do and reports whether one of the markers occurs.
func headerMarker(b []byte, markers ...byte) (byte, bool) {
	for pos := 2; pos+4 <= len(b) && b[pos] == 0xff; {
		for pos+1 < len(b) && b[pos+1] == 0xff {
			pos++
		}
		if pos+4 > len(b) {
			break
		}
		m := b[pos+1]
		if bytes.IndexByte(markers, m) >= 0 {
			return m, true
		}
		if m == markerSOS || m == markerEOI {
			break
		}
		pos += 2 + int(binary.BigEndian.Uint16(b[pos+2:]))
	}
	return 0, false
}

// samePicture checks that a cleaned image decodes to the same pixels as the
// original whenever the original decodes, for images small enough to decode
// cheaply inside the fuzzer.
func samePicture(t *testing.T, in, out []byte) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(in))
	if err != nil || cfg.Width*cfg.Height > 1<<16 {
		return
	}
	before, _, err := image.Decode(bytes.NewReader(in))
	if err != nil {
		return
	}
	after, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("original decodes but cleaned image does not: %v", err)
	}
	if !samePixels(before, after) {
		t.Fatal("cleaned image decodes to different pixels")
	}
}
