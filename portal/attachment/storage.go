package attachment

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Saved describes a stored attachment; it is what the database records.
type Saved struct {
	// StoredName is the name the file is kept under and the only thing
	// Open and Remove accept, e.g. "3f/3fa4…e1.jpg": a two-character
	// fan-out directory, 32 random hex digits and an extension by kind.
	StoredName string
	// ContentType is the Kind judged from the content, e.g. "image/png";
	// serve the file with it.
	ContentType string
	// SHA256 is the hex digest of the stored (cleaned) bytes.
	SHA256 string
	// Size is the number of stored (cleaned) bytes.
	Size int64
	// OriginalName is the resident's file name, sanitized for display:
	// base name only, no control characters, at most 100 runes.
	OriginalName string
}

// Storage keeps attachment files. Dir keeps them on the local disk; an
// S3-compatible store can take its place behind the same interface.
type Storage interface {
	// Save validates data as Check does, removes its metadata with Clean
	// and stores it under a new random name.
	Save(ctx context.Context, originalName string, data []byte) (Saved, error)
	// Open returns the stored file; an unknown or malformed name is
	// ErrNotFound.
	Open(ctx context.Context, storedName string) (io.ReadCloser, error)
	// Remove deletes the stored file; removing a file that is already gone
	// is not an error, a malformed name is.
	Remove(ctx context.Context, storedName string) error
}

var _ Storage = (*Dir)(nil)

// Dir is a Storage in a local directory, normally attachments/ under the data
// directory. Files are spread over up to 256 subdirectories named after the
// first two hex digits of their random names. It is safe for concurrent use.
type Dir struct {
	root string
}

// NewDir returns a Dir storing files under path, creating the directory
// (mode 0o750) if needed.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("attachment: create directory: %w", err)
	}
	return &Dir{root: path}, nil
}

// Save implements Storage. The file is written to a temporary file in its
// fan-out directory and renamed into place, so a reader never sees half a
// file; it gets mode 0o640 regardless of the umask.
func (d *Dir) Save(ctx context.Context, originalName string, data []byte) (Saved, error) {
	if err := ctx.Err(); err != nil {
		return Saved{}, err
	}
	original := sanitizeName(originalName)
	display := original
	if display == "" {
		display = "附件"
	}
	kind, err := checkFile(display, data)
	if err != nil {
		return Saved{}, err
	}
	clean, err := Clean(kind, data)
	if err != nil {
		return Saved{}, fmt.Errorf("%s：%w", display, err)
	}
	if original == "" {
		original = "附件" + kind.ext()
	}

	var random [16]byte
	rand.Read(random[:]) // never fails since Go 1.24
	id := hex.EncodeToString(random[:])
	stored := id[:2] + "/" + id + kind.ext()

	sub := filepath.Join(d.root, id[:2])
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return Saved{}, fmt.Errorf("attachment: save %s: %w", stored, err)
	}
	if err := writeFileAtomic(filepath.Join(d.root, filepath.FromSlash(stored)), clean); err != nil {
		return Saved{}, fmt.Errorf("attachment: save %s: %w", stored, err)
	}
	sum := sha256.Sum256(clean)
	return Saved{
		StoredName:   stored,
		ContentType:  string(kind),
		SHA256:       hex.EncodeToString(sum[:]),
		Size:         int64(len(clean)),
		OriginalName: original,
	}, nil
}

// writeFileAtomic writes data to a temporary file next to name, syncs it and
// renames it to name.
func writeFileAtomic(name string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), ".upload-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o640); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// Open implements Storage.
func (d *Dir) Open(ctx context.Context, storedName string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validStoredName(storedName) {
		return nil, fmt.Errorf("attachment: open %q: malformed name: %w", storedName, ErrNotFound)
	}
	f, err := os.Open(filepath.Join(d.root, filepath.FromSlash(storedName)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("attachment: open %s: %w: %w", storedName, ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment: open %s: %w", storedName, err)
	}
	return f, nil
}

// Remove implements Storage. The fan-out directory is left in place.
func (d *Dir) Remove(ctx context.Context, storedName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validStoredName(storedName) {
		return fmt.Errorf("attachment: remove %q: malformed name: %w", storedName, ErrNotFound)
	}
	err := os.Remove(filepath.Join(d.root, filepath.FromSlash(storedName)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("attachment: remove %s: %w", storedName, err)
	}
	return nil
}

// validStoredName reports whether name has exactly the form Save produces:
// "ab/ab" followed by 30 more lowercase hex digits and ".jpg", ".png" or
// ".pdf". Nothing else can reach the file system, so no name can climb out
// of the directory or point at a temporary file.
func validStoredName(name string) bool {
	const idLen = 32
	if len(name) != 3+idLen+4 || name[2] != '/' || name[:2] != name[3:5] {
		return false
	}
	for _, c := range []byte(name[3 : 3+idLen]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	switch name[3+idLen:] {
	case KindJPEG.ext(), KindPNG.ext(), KindPDF.ext():
		return true
	}
	return false
}
