// Package attachment accepts the files residents attach to ideas: at most
// MaxFiles files per idea, each a JPEG or PNG image or a PDF document of at
// most MaxSize bytes. The type is judged by the content (Sniff), never by the
// file name or the browser's Content-Type, and images are stripped of Exif,
// GPS, XMP, IPTC and text metadata (Clean) before they are stored, so that a
// photo taken at home does not publish where the resident lives.
//
// A submission handler is expected to
//
//  1. call Check on the whole batch and show its error to the resident as is
//     (the messages are short Chinese sentences, prefixed with the file name
//     where one file is at fault), so that a bad third file stores nothing;
//  2. call Storage.Save for each file and record the returned Saved in the
//     database; if a later Save fails, Remove the ones already saved;
//  3. serve a file through Storage.Open with the recorded ContentType, the
//     header "X-Content-Type-Options: nosniff" and, for PDF files, a
//     Content-Disposition of attachment, never with a type guessed anew.
//
// Dir is the only Storage today; it keeps the files in a directory under the
// data directory. The interface exists so that an S3-compatible store can
// take its place when several web nodes share the attachments.
package attachment

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
)

// MaxFiles is the number of files a resident may attach to one idea.
const MaxFiles = 3

// MaxSize is the largest accepted attachment in bytes (5 MiB), checked
// against the uploaded bytes before metadata is removed.
const MaxSize = 5 << 20

// Sentinel errors for attachments that are refused. Their messages are short
// Chinese sentences meant to be shown to residents as they are; Check wraps
// them with the file name. Test for them with errors.Is.
var (
	// ErrTooLarge means a file is larger than MaxSize.
	ErrTooLarge = errors.New("附件不能超过 5 MB")
	// ErrTooMany means more than MaxFiles files were attached.
	ErrTooMany = errors.New("最多只能上传 3 个附件")
	// ErrUnsupported means the content is not a well-formed JPEG, PNG or
	// PDF file, whatever its name says: an executable named photo.jpg, an
	// HTML page named doc.pdf, a truncated or garbled image.
	ErrUnsupported = errors.New("附件只能是 JPEG、PNG 图片或 PDF 文件")
	// ErrEmpty means a file has no content at all.
	ErrEmpty = errors.New("附件是空文件")
	// ErrNotFound means a stored attachment does not exist, or the name
	// asked for is not one Save could have produced.
	ErrNotFound = errors.New("附件不存在或已被删除")
)

// Kind is the media type of an accepted attachment, as judged by Sniff. It is
// also the Content-Type the file is served with.
type Kind string

// The accepted kinds.
const (
	KindJPEG Kind = "image/jpeg"
	KindPNG  Kind = "image/png"
	KindPDF  Kind = "application/pdf"
)

// ext is the file name extension stored files of kind k get.
func (k Kind) ext() string {
	switch k {
	case KindJPEG:
		return ".jpg"
	case KindPNG:
		return ".png"
	case KindPDF:
		return ".pdf"
	}
	return ""
}

// Upload is one file of a submission as the browser sent it.
type Upload struct {
	// Name is the file name the browser gave; it is only shown back to
	// residents and never used to decide anything.
	Name string
	// Data is the whole content of the file.
	Data []byte
}

// Check validates a whole batch of uploads before anything is stored, so that
// a submission with one bad file stores none of them. It returns ErrTooMany
// for more than MaxFiles files, otherwise the first bad file's ErrEmpty,
// ErrTooLarge or ErrUnsupported wrapped as "文件名：message" with the file's
// sanitized name (still errors.Is-able), or nil. An empty batch is valid.
func Check(files []Upload) error {
	if len(files) > MaxFiles {
		return ErrTooMany
	}
	for i, f := range files {
		name := sanitizeName(f.Name)
		if name == "" {
			name = fmt.Sprintf("第 %d 个附件", i+1)
		}
		if _, err := checkFile(name, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// checkFile applies the per-file rules in the order a resident would want to
// hear about them and wraps the refusal with name.
func checkFile(name string, data []byte) (Kind, error) {
	var err error
	switch {
	case len(data) == 0:
		err = ErrEmpty
	case len(data) > MaxSize:
		err = ErrTooLarge
	default:
		var k Kind
		if k, err = Sniff(data); err == nil {
			return k, nil
		}
	}
	return "", fmt.Errorf("%s：%w", name, err)
}

// maxNameRunes bounds the original file name kept for display.
const maxNameRunes = 100

// sanitizeName turns the name a browser sent into something safe to display
// and to put in a Content-Disposition header: the base name only (old
// browsers send C:\Users\…\photo.jpg), without control, line-separator or
// bidirectional-override characters (U+202E can make "gpj.exe" read as
// "exe.jpg"), trimmed, at most maxNameRunes runes with the extension kept
// when the name is cut. It returns "" when nothing usable is left.
func sanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isInvisibleControl(r) {
			return -1
		}
		return r
	}, name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	runes := []rune(name)
	if len(runes) <= maxNameRunes {
		return name
	}
	ext := []rune(path.Ext(name))
	if len(ext) > 10 || len(ext) == len(runes) {
		ext = nil
	}
	stem := strings.TrimSpace(string(runes[:maxNameRunes-len(ext)]))
	return stem + string(ext)
}

// isInvisibleControl reports line and paragraph separators and the
// bidirectional formatting characters.
func isInvisibleControl(r rune) bool {
	switch {
	case r == '\u2028', r == '\u2029', // line and paragraph separators
		r == '\u061c', r == '\u200e', r == '\u200f', // ALM, LRM, RLM
		r >= '\u202a' && r <= '\u202e', // LRE … RLO
		r >= '\u2066' && r <= '\u2069': // LRI … PDI
		return true
	}
	return false
}
