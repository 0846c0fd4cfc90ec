package attachment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var storedNamePattern = regexp.MustCompile(`^([0-9a-f]{2})/([0-9a-f]{32})\.(jpg|png|pdf)$`)

func newTestDir(t *testing.T) (*Dir, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "data", "attachments")
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

func TestNewDir(t *testing.T) {
	_, root := newTestDir(t)
	fi, err := os.Stat(root)
	if err != nil || !fi.IsDir() {
		t.Fatalf("attachments directory not created: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&^0o750 != 0 {
		t.Errorf("directory mode %v, want at most 0750", perm)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDir(file); err == nil {
		t.Error("NewDir on a regular file succeeded")
	}
}

func TestSaveOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, root := newTestDir(t)
	dirtyJPEG, cleanJPEG := jpegWithMetadata(t, 64, 48)
	dirtyPNG, cleanPNG := pngWithMetadata(t, 40, 30)
	pdf := tinyPDF()

	tests := []struct {
		name, original string
		data, stored   []byte
		kind           Kind
		ext, wantName  string
	}{
		{"JPEG", "IMG_20250501.jpg", dirtyJPEG, cleanJPEG, KindJPEG, "jpg", "IMG_20250501.jpg"},
		{"PNG named .jpg", "截图.jpg", dirtyPNG, cleanPNG, KindPNG, "png", "截图.jpg"},
		{"PDF with a path", "C:\\fakepath\\建议书.pdf", pdf, pdf, KindPDF, "pdf", "建议书.pdf"},
		{"no name", "", pdf, pdf, KindPDF, "pdf", "附件.pdf"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := d.Save(ctx, tt.original, tt.data)
			if err != nil {
				t.Fatalf("Save: %v", err)
			}
			m := storedNamePattern.FindStringSubmatch(s.StoredName)
			if m == nil || !strings.HasPrefix(m[2], m[1]) || m[3] != tt.ext {
				t.Fatalf("StoredName %q is not ab/ab….%s", s.StoredName, tt.ext)
			}
			if seen[s.StoredName] {
				t.Errorf("StoredName %q reused", s.StoredName)
			}
			seen[s.StoredName] = true
			sum := sha256.Sum256(tt.stored)
			want := Saved{
				StoredName:   s.StoredName,
				ContentType:  string(tt.kind),
				SHA256:       hex.EncodeToString(sum[:]),
				Size:         int64(len(tt.stored)),
				OriginalName: tt.wantName,
			}
			if s != want {
				t.Errorf("Save = %+v, want %+v", s, want)
			}

			path := filepath.Join(root, filepath.FromSlash(s.StoredName))
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("stored file: %v", err)
			}
			if perm := fi.Mode().Perm(); perm != 0o640 {
				t.Errorf("file mode %v, want 0640", perm)
			}
			if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm()&^0o750 != 0 {
				t.Errorf("fan-out directory: %v %v", fi.Mode(), err)
			}

			rc, err := d.Open(ctx, s.StoredName)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, tt.stored) {
				t.Errorf("Open read %d bytes (%v), want the %d cleaned bytes", len(got), err, len(tt.stored))
			}
		})
	}

	// Saving the same bytes twice gives two random names.
	a, errA := d.Save(ctx, "x.pdf", pdf)
	b, errB := d.Save(ctx, "x.pdf", pdf)
	if errA != nil || errB != nil || a.StoredName == b.StoredName || a.SHA256 != b.SHA256 {
		t.Errorf("two saves: %q %q (%v, %v)", a.StoredName, b.StoredName, errA, errB)
	}

	// Only finished files are left: no temporary files.
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !e.IsDir() && !storedNamePattern.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("unexpected file %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSaveRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	d, root := newTestDir(t)
	jpg := encodeJPEG(t, 16, 16)
	tests := []struct {
		name, original string
		data           []byte
		err            error
	}{
		{"ELF named photo.jpg", "photo.jpg", elfBinary, ErrUnsupported},
		{"HTML named doc.pdf", "doc.pdf", htmlPage, ErrUnsupported},
		{"truncated JPEG", "cut.jpg", jpg[:len(jpg)-3], ErrUnsupported},
		{"empty", "empty.png", nil, ErrEmpty},
		{"too large", "big.pdf", concat(tinyPDF(), make([]byte, MaxSize)), ErrTooLarge},
	}
	for _, tt := range tests {
		s, err := d.Save(ctx, tt.original, tt.data)
		if !errors.Is(err, tt.err) || s != (Saved{}) || !strings.HasPrefix(err.Error(), tt.original+"：") {
			t.Errorf("%s: Save = %+v, %v; want %v", tt.name, s, err, tt.err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Save(cancelled, "a.jpg", jpg); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 0 {
		t.Errorf("refused files left %d entries (%v)", len(entries), err)
	}
}

func TestOpenRejectsForeignNames(t *testing.T) {
	ctx := context.Background()
	d, root := newTestDir(t)
	s, err := d.Save(ctx, "a.pdf", tinyPDF())
	if err != nil {
		t.Fatal(err)
	}
	// A file in the root that only a traversal or a loose check could reach.
	if err := os.WriteFile(filepath.Join(root, "secret.pdf"), []byte("%PDF-1.4 secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := s.StoredName[3:35]
	names := []string{
		"",
		"../secret.pdf",
		"secret.pdf",
		"../../../../etc/passwd",
		"/etc/passwd",
		root + "/secret.pdf",
		id[:2] + "/../secret.pdf",
		id[:2] + "/" + id + ".jpg/../../secret.pdf",
		id[:2] + "/" + id,                           // no extension
		id[:2] + "/" + id + ".exe",                  // foreign extension
		id[:2] + "/" + id + ".PDF",                  // case matters
		id[:2] + "/" + strings.ToUpper(id) + ".pdf", // uppercase hex
		id[:2] + "\\" + id + ".pdf",                 // backslash
		otherFanout(id) + "/" + id + ".pdf",         // wrong fan-out directory
		id + ".pdf",                                 // no fan-out directory
		id[:2] + "/" + id[:31] + "g.pdf",            // not hex
		id[:2] + "/" + id + ".pdf\x00",              // NUL
		id[:2] + "/" + id + "0.pdf",                 // too long
		"./" + s.StoredName,
		s.StoredName + "/",
		id[:2] + "/.upload-123",
	}
	for _, name := range names {
		if rc, err := d.Open(ctx, name); !errors.Is(err, ErrNotFound) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrNotFound", name, err)
		}
		if err := d.Remove(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "secret.pdf")); err != nil {
		t.Errorf("a rejected Remove deleted a file: %v", err)
	}
	// The real name still works.
	rc, err := d.Open(ctx, s.StoredName)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	d, _ := newTestDir(t)
	s, err := d.Save(ctx, "a.png", encodePNG(t, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, s.StoredName); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := d.Open(ctx, s.StoredName); !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Remove = %v, want ErrNotFound and fs.ErrNotExist", err)
	}
	if err := d.Remove(ctx, s.StoredName); err != nil {
		t.Errorf("second Remove = %v, want nil", err)
	}
}

// otherFanout is a fan-out directory that is not id's own.
func otherFanout(id string) string {
	if id[:2] == "00" {
		return "01"
	}
	return "00"
}
