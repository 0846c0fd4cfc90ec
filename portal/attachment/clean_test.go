package attachment

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg" // register the decoders for image.Decode
	_ "image/png"
	"testing"
)

func TestCleanImages(t *testing.T) {
	dirtyJPEG, cleanJPEG := jpegWithMetadata(t, 64, 48)
	dirtyPNG, cleanPNG := pngWithMetadata(t, 40, 30)
	plainJPEG := encodeJPEG(t, 64, 48)
	// A phone's second picture (MPF depth map, motion photo) after EOI,
	// with its own Exif and GPS.
	appended := concat(dirtyJPEG, []byte{0xff, 0xd8}, app1Exif, plainJPEG[2:])
	// Exif hidden between the last scan and EOI.
	lateExif := concat(plainJPEG[:len(plainJPEG)-2], app1Exif, []byte{0xff, 0xd9})
	// Bytes after IEND.
	trailingPNG := concat(dirtyPNG, pngEXIF)

	tests := []struct {
		name         string
		kind         Kind
		in, want     []byte
		wantW, wantH int
	}{
		{"JPEG with Exif, XMP, IPTC", KindJPEG, dirtyJPEG, cleanJPEG, 64, 48},
		{"JPEG without metadata", KindJPEG, plainJPEG, plainJPEG, 64, 48},
		{"JPEG with a second image after EOI", KindJPEG, appended, cleanJPEG, 64, 48},
		{"JPEG with Exif after the scan", KindJPEG, lateExif, plainJPEG, 64, 48},
		{"PNG with eXIf and text chunks", KindPNG, dirtyPNG, cleanPNG, 40, 30},
		{"PNG with data after IEND", KindPNG, trailingPNG, cleanPNG, 40, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Clone(tt.in)
			got, err := Clean(tt.kind, in)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			if !bytes.Equal(in, tt.in) {
				t.Error("Clean modified its input")
			}
			// Everything kept is byte-identical, in order: APP0, APP2,
			// COM, tables, scan data; gAMA, pHYs, tIME, IDAT with their CRCs.
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Clean = %d bytes, want %d bytes", len(got), len(tt.want))
			}
			for _, gone := range [][]byte{exifMarker, gpsInfoEntry, gpsLatitude, gpsLongitude,
				[]byte("GPSLatitude"), []byte("8BIM"), []byte("eXIf"), []byte("tEXt"), []byte("iTXt"), []byte("zTXt"), []byte("116.3914E")} {
				if bytes.Contains(got, gone) {
					t.Errorf("cleaned file still contains %q", gone)
				}
			}
			if again, err := Clean(tt.kind, got); err != nil || !bytes.Equal(again, got) {
				t.Errorf("Clean is not idempotent: %v", err)
			}

			before, format, err := image.Decode(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("decode original: %v", err)
			}
			after, format2, err := image.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("decode cleaned: %v", err)
			}
			if b := after.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH || format2 != format {
				t.Errorf("cleaned image is %s %dx%d, want %s %dx%d", format2, b.Dx(), b.Dy(), format, tt.wantW, tt.wantH)
			}
			if !samePixels(before, after) {
				t.Error("cleaned image decodes to different pixels")
			}
		})
	}
}

func TestCleanKeepsSegments(t *testing.T) {
	dirty, clean := progressiveJPEG()
	got, err := Clean(KindJPEG, dirty)
	if err != nil || !bytes.Equal(got, clean) {
		t.Errorf("progressive structure: Clean = %x, %v; want %x", got, err, clean)
	}
	// The kept segments appear verbatim in the cleaned JPEG.
	dirtyJPEG, _ := jpegWithMetadata(t, 32, 32)
	got, err = Clean(KindJPEG, dirtyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	for name, seg := range map[string][]byte{"APP0 JFIF": app0JFIF, "APP2 ICC": app2ICC, "COM": comment} {
		if !bytes.Contains(got, seg) {
			t.Errorf("%s segment lost or altered", name)
		}
	}
	for name, seg := range map[string][]byte{"APP1 Exif": app1Exif, "APP1 XMP": app1XMP, "APP13 IPTC": app13IPTC} {
		if bytes.Contains(got, seg) {
			t.Errorf("%s segment kept", name)
		}
	}
}

func TestCleanPDFAndErrors(t *testing.T) {
	pdf := tinyPDF()
	if got, err := Clean(KindPDF, pdf); err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("Clean(PDF) = %v; want the PDF unchanged", err)
	}
	jpg := encodeJPEG(t, 8, 8)
	png := encodePNG(t, 8, 8)
	tests := []struct {
		name string
		kind Kind
		data []byte
		err  error
	}{
		{"empty", KindJPEG, nil, ErrEmpty},
		{"PNG as JPEG", KindJPEG, png, ErrUnsupported},
		{"JPEG as PNG", KindPNG, jpg, ErrUnsupported},
		{"JPEG as PDF", KindPDF, jpg, ErrUnsupported},
		{"HTML as PDF", KindPDF, htmlPage, ErrUnsupported},
		{"unknown kind", "image/gif", jpg, ErrUnsupported},
		{"truncated JPEG", KindJPEG, jpg[:len(jpg)-5], ErrUnsupported},
		{"truncated PNG", KindPNG, png[:len(png)-5], ErrUnsupported},
	}
	for _, tt := range tests {
		if got, err := Clean(tt.kind, tt.data); !errors.Is(err, tt.err) || got != nil {
			t.Errorf("%s: Clean = %d bytes, %v; want %v", tt.name, len(got), err, tt.err)
		}
	}
}

// samePixels compares two decoded images pixel by pixel.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}
