package attachment

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMessages(t *testing.T) {
	// The messages are shown to residents as they are.
	for err, want := range map[error]string{
		ErrTooLarge:    "附件不能超过 5 MB",
		ErrTooMany:     "最多只能上传 3 个附件",
		ErrUnsupported: "附件只能是 JPEG、PNG 图片或 PDF 文件",
		ErrEmpty:       "附件是空文件",
	} {
		if err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	}
	if MaxSize != 5*1024*1024 || MaxFiles != 3 {
		t.Errorf("MaxSize = %d, MaxFiles = %d", MaxSize, MaxFiles)
	}
}

func TestCheck(t *testing.T) {
	jpg, _ := jpegWithMetadata(t, 32, 24)
	png := encodePNG(t, 20, 10)
	pdf := tinyPDF()
	// A PDF of exactly MaxSize bytes is accepted; one more byte is not.
	exactly := concat(pdf, bytes.Repeat([]byte{'\n'}, MaxSize-len(pdf)))
	tooLarge := concat(exactly, []byte{'\n'})
	ok := func(name string, data []byte) Upload { return Upload{Name: name, Data: data} }

	tests := []struct {
		name    string
		files   []Upload
		err     error
		message string
	}{
		{"no attachments", nil, nil, ""},
		{"three good files", []Upload{ok("a.jpg", jpg), ok("b.png", png), ok("c.pdf", pdf)}, nil, ""},
		{"exactly 5 MB", []Upload{ok("big.pdf", exactly)}, nil, ""},
		{"file names do not matter", []Upload{ok("scan.pdf", png), ok("x", jpg)}, nil, ""},
		{"four files", []Upload{ok("a.jpg", jpg), ok("b.jpg", jpg), ok("c.jpg", jpg), ok("d.jpg", jpg)},
			ErrTooMany, "最多只能上传 3 个附件"},
		{"bad third file", []Upload{ok("a.jpg", jpg), ok("b.png", png), ok("photo.jpg", elfBinary)},
			ErrUnsupported, "photo.jpg：附件只能是 JPEG、PNG 图片或 PDF 文件"},
		{"MZ executable", []Upload{ok("photo.jpg", mzBinary)},
			ErrUnsupported, "photo.jpg：附件只能是 JPEG、PNG 图片或 PDF 文件"},
		{"HTML named doc.pdf", []Upload{ok("doc.pdf", htmlPage)},
			ErrUnsupported, "doc.pdf：附件只能是 JPEG、PNG 图片或 PDF 文件"},
		{"5 MB + 1 byte", []Upload{ok("big.pdf", tooLarge)},
			ErrTooLarge, "big.pdf：附件不能超过 5 MB"},
		{"first bad file wins", []Upload{ok("a.jpg", jpg), ok("big.pdf", tooLarge), ok("photo.jpg", elfBinary)},
			ErrTooLarge, "big.pdf：附件不能超过 5 MB"},
		{"empty file", []Upload{ok("空.png", nil)},
			ErrEmpty, "空.png：附件是空文件"},
		{"truncated image", []Upload{ok("cut.jpg", jpg[:len(jpg)/2])},
			ErrUnsupported, "cut.jpg：附件只能是 JPEG、PNG 图片或 PDF 文件"},
		{"name is sanitized", []Upload{ok("C:\\Users\\me\\evil\u202egpj.exe", elfBinary)},
			ErrUnsupported, "evilgpj.exe：附件只能是 JPEG、PNG 图片或 PDF 文件"},
		{"no usable name", []Upload{ok("a.pdf", pdf), ok("../", nil)},
			ErrEmpty, "第 2 个附件：附件是空文件"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.files)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.err) || err.Error() != tt.message {
				t.Errorf("Check = %q, want %q (errors.Is %v)", err, tt.message, tt.err)
			}
		})
	}
}

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("很长的文件名", 30) // 180 runes
	tests := []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"小区门口的积水.jpg", "小区门口的积水.jpg"},
		{"C:\\Users\\张三\\Desktop\\照片.png", "照片.png"},
		{"../../etc/passwd", "passwd"},
		{"/abs/path/doc.pdf", "doc.pdf"},
		{"a\x00b\r\nc\x7f.jpg", "abc.jpg"},
		{"invoice\u202efdp.exe", "invoicefdp.exe"},
		{"line\u2028break.pdf", "linebreak.pdf"},
		{"  spaced  .pdf  ", "spaced  .pdf"},
		{"bad\xffutf8.jpg", "bad\uFFFDutf8.jpg"},
		{"..", ""},
		{".", ""},
		{"dir/", ""},
		{"\x00\x01", ""},
		{"", ""},
		{long + ".pdf", string([]rune(long)[:96]) + ".pdf"},
		{long, string([]rune(long)[:100])},
		{long + ".averyveryverylongextension", string([]rune(long + ".averyveryverylongextension")[:100])},
	}
	for _, tt := range tests {
		got := sanitizeName(tt.in)
		if got != tt.want {
			t.Errorf("sanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > maxNameRunes {
			t.Errorf("sanitizeName(%q) has %d runes", tt.in, n)
		}
	}
}
