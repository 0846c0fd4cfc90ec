package attachment

// Clean returns the content of a file of the given kind with location and
// other personal metadata removed, leaving everything needed to show the
// image byte-identical:
//
//   - JPEG: APP1 segments (Exif with its GPS IFD, XMP) and APP13 segments
//     (IPTC, Photoshop resources) are dropped wherever they occur; APP0
//     JFIF, APP2 ICC profiles, APP14 Adobe, comments, tables and scan data
//     are kept as they are.
//   - PNG: eXIf, tEXt, zTXt and iTXt chunks are dropped; the other chunks
//     are kept with their CRCs untouched.
//   - PDF: returned unchanged (the same slice).
//
// For both image kinds, bytes after the end of the image (EOI or IEND) are
// dropped too: phones append motion-photo videos and secondary images there,
// which carry their own Exif and GPS data.
//
// Dropping Exif also drops its Orientation tag, so a phone photo taken in
// portrait may show rotated; that is the price of not keeping any Exif.
//
// Clean never modifies data and never panics; content that is not a
// well-formed file of that kind is ErrUnsupported, no content ErrEmpty.
func Clean(kind Kind, data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	switch kind {
	case KindJPEG:
		segs, end, err := parseJPEG(data)
		if err != nil {
			return nil, ErrUnsupported
		}
		out := make([]byte, 0, end)
		out = append(out, data[:2]...) // SOI
		for _, s := range segs {
			if s.marker != markerAPP1 && s.marker != markerAPPD {
				out = append(out, data[s.start:s.end]...)
			}
		}
		return out, nil
	case KindPNG:
		chunks, end, err := parsePNG(data)
		if err != nil {
			return nil, ErrUnsupported
		}
		out := make([]byte, 0, end)
		out = append(out, pngSignature...)
		for _, c := range chunks {
			if !isPNGMetadata(c.typ) {
				out = append(out, data[c.start:c.end]...)
			}
		}
		return out, nil
	case KindPDF:
		if !isPDF(data) {
			return nil, ErrUnsupported
		}
		return data, nil
	}
	return nil, ErrUnsupported
}

// isPNGMetadata reports the PNG chunks Clean drops: Exif data and the three
// kinds of text chunk, which cameras and editors fill with author, software,
// dates and sometimes coordinates.
func isPNGMetadata(typ string) bool {
	switch typ {
	case "eXIf", "tEXt", "zTXt", "iTXt":
		return true
	}
	return false
}
