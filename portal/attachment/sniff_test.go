package attachment

import (
	"bytes"
	"errors"
	"testing"
)

func TestSniff(t *testing.T) {
	plainJPEG := encodeJPEG(t, 64, 48)
	dirtyJPEG, _ := jpegWithMetadata(t, 64, 48)
	plainPNG := encodePNG(t, 40, 30)
	dirtyPNG, _ := pngWithMetadata(t, 40, 30)
	progressive, _ := progressiveJPEG()

	// garbledPNG has one flipped bit in its image data: the CRC no longer
	// matches.
	garbledPNG := bytes.Clone(plainPNG)
	garbledPNG[len(garbledPNG)-20] ^= 0x01
	// badLengthJPEG claims its DQT segment runs past the end of the file.
	badLengthJPEG := bytes.Clone(plainJPEG)
	badLengthJPEG[4], badLengthJPEG[5] = 0xff, 0xf0
	// lossless is a JPEG coding process browsers do not show.
	lossless := bytes.Clone(progressive)
	lossless[bytes.Index(lossless, []byte{0xff, 0xc2})+1] = 0xc3

	sof := segment(0xc0, []byte{8, 0, 1, 0, 1, 1, 1, 0x11, 0})
	sos := segment(0xda, []byte{1, 1, 0x00, 0, 63, 0})
	soi, eoi := []byte{0xff, 0xd8}, []byte{0xff, 0xd9}

	tests := []struct {
		name string
		data []byte
		want Kind
		err  error
	}{
		{"JPEG from image/jpeg", plainJPEG, KindJPEG, nil},
		{"JPEG with Exif, XMP, IPTC", dirtyJPEG, KindJPEG, nil},
		{"progressive JPEG structure", progressive, KindJPEG, nil},
		{"JPEG followed by a motion-photo video", concat(plainJPEG, []byte("\x00\x00\x00\x18ftypmp42"), app1Exif), KindJPEG, nil},
		{"PNG from image/png", plainPNG, KindPNG, nil},
		{"PNG with eXIf and text chunks", dirtyPNG, KindPNG, nil},
		{"PDF", tinyPDF(), KindPDF, nil},
		{"PDF 2.0 header only", []byte("%PDF-2.0\n"), KindPDF, nil},

		{"empty", nil, "", ErrEmpty},
		{"ELF executable named photo.jpg", elfBinary, "", ErrUnsupported},
		{"MZ executable named photo.jpg", mzBinary, "", ErrUnsupported},
		{"HTML page named doc.pdf", htmlPage, "", ErrUnsupported},
		{"HTML behind a JPEG magic number", concat([]byte{0xff, 0xd8, 0xff}, htmlPage), "", ErrUnsupported},
		{"PDF magic without version", []byte("%PDF-<html>"), "", ErrUnsupported},
		{"PDF magic not at the start", concat([]byte("\n"), tinyPDF()), "", ErrUnsupported},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "", ErrUnsupported},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "", ErrUnsupported},
		{"SOI only", []byte{0xff, 0xd8, 0xff}, "", ErrUnsupported},
		{"JPEG cut in its headers", plainJPEG[:40], "", ErrUnsupported},
		{"JPEG cut in its scan data", plainJPEG[:len(plainJPEG)/2], "", ErrUnsupported},
		{"JPEG without EOI", plainJPEG[:len(plainJPEG)-2], "", ErrUnsupported},
		{"JPEG segment longer than the file", badLengthJPEG, "", ErrUnsupported},
		{"JPEG with junk after SOI", concat(soi, []byte("junk"), plainJPEG[2:]), "", ErrUnsupported},
		{"lossless JPEG", lossless, "", ErrUnsupported},
		{"JPEG scan before frame header", concat(soi, sos, []byte{1}, sof, eoi), "", ErrUnsupported},
		{"JPEG with two frame headers", concat(soi, sof, sof, sos, []byte{1}, eoi), "", ErrUnsupported},
		{"JPEG with zero width", concat(soi, segment(0xc0, []byte{8, 0, 1, 0, 0, 1, 1, 0x11, 0}), sos, []byte{1}, eoi), "", ErrUnsupported},
		{"JPEG EOI without scan", concat(soi, sof, eoi), "", ErrUnsupported},
		{"JPEG second SOI", concat(soi, sof, soi, sos, []byte{1}, eoi), "", ErrUnsupported},
		{"PNG signature only", pngSignature, "", ErrUnsupported},
		{"PNG without IEND", plainPNG[:len(plainPNG)-12], "", ErrUnsupported},
		{"PNG cut in IDAT", plainPNG[:len(plainPNG)/2], "", ErrUnsupported},
		{"PNG with a garbled byte", garbledPNG, "", ErrUnsupported},
		{"PNG with text before IHDR", concat(pngSignature, pngTEXT, plainPNG[8:]), "", ErrUnsupported},
		{"PNG without IDAT", concat(plainPNG[:33], pngChunkBytes("IEND", nil)), "", ErrUnsupported},
		{"PNG with bad bit depth", concat(pngSignature, pngChunkBytes("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 3, 2, 0, 0, 0}), plainPNG[33:]), "", ErrUnsupported},
		{"PNG with zero height", concat(pngSignature, pngChunkBytes("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 0, 8, 2, 0, 0, 0}), plainPNG[33:]), "", ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.data)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Sniff = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestParseReasons pins why the structural checks refuse a few files, so a
// refactoring cannot make them refuse for the wrong reason.
func TestParseReasons(t *testing.T) {
	plainJPEG := encodeJPEG(t, 16, 16)
	plainPNG := encodePNG(t, 16, 16)
	garbled := bytes.Clone(plainPNG)
	garbled[len(garbled)-20] ^= 0x01
	tests := []struct {
		name  string
		parse func() error
		want  string
	}{
		{"jpeg cut in scan", func() error { _, _, err := parseJPEG(plainJPEG[:len(plainJPEG)-10]); return err }, "jpeg: truncated scan data"},
		{"jpeg without EOI", func() error { _, _, err := parseJPEG(plainJPEG[:len(plainJPEG)-2]); return err }, "jpeg: truncated scan data"},
		{"png garbled", func() error { _, _, err := parsePNG(garbled); return err }, "png: bad chunk CRC"},
		{"png without IEND", func() error { _, _, err := parsePNG(plainPNG[:len(plainPNG)-12]); return err }, "png: truncated before IEND"},
	}
	for _, tt := range tests {
		if err := tt.parse(); err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
