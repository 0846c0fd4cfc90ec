package search

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// dictFS holds cppjieba's dictionaries; see dict/README.md.
//
//go:embed dict/jieba.dict.utf8 dict/hmm_model.utf8 dict/user.dict.utf8 dict/idf.utf8 dict/stop_words.utf8
var dictFS embed.FS

// Names of the embedded dictionary files, in the order gojieba.NewJieba
// takes them.
const (
	dictFile      = "jieba.dict.utf8"
	hmmFile       = "hmm_model.utf8"
	userDictFile  = "user.dict.utf8"
	idfFile       = "idf.utf8"
	stopWordsFile = "stop_words.utf8"
)

// DictPaths are the files a jieba segmenter loads, as installed on disk.
type DictPaths struct {
	Dict      string // main dictionary
	HMM       string // HMM model for unknown words
	User      string // user dictionary
	IDF       string // IDF weights for keyword extraction
	StopWords string // stop words for keyword extraction
}

// list returns the paths in the order gojieba.NewJieba expects.
func (p DictPaths) list() []string {
	return []string{p.Dict, p.HMM, p.User, p.IDF, p.StopWords}
}

// InstallDictionaries writes the embedded jieba dictionaries into dir,
// creating it if needed, and returns their paths. A file already holding the
// same bytes (by SHA-256) is left alone, so repeated starts cost one read of
// each file; a file that differs is replaced atomically (temporary file and
// rename), so a reader never sees half a dictionary.
func InstallDictionaries(dir string) (DictPaths, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return DictPaths{}, fmt.Errorf("search: install dictionaries in %s: %w", dir, err)
	}
	p := DictPaths{
		Dict:      filepath.Join(dir, dictFile),
		HMM:       filepath.Join(dir, hmmFile),
		User:      filepath.Join(dir, userDictFile),
		IDF:       filepath.Join(dir, idfFile),
		StopWords: filepath.Join(dir, stopWordsFile),
	}
	for _, path := range p.list() {
		if err := installDictionary(path); err != nil {
			return DictPaths{}, fmt.Errorf("search: install dictionary %s: %w", path, err)
		}
	}
	return p, nil
}

// installDictionary writes the embedded file named like path's base name to
// path unless an identical file is already there.
func installDictionary(path string) error {
	want, err := dictFS.ReadFile("dict/" + filepath.Base(path))
	if err != nil {
		return err
	}
	same, err := sameContent(path, want)
	if err != nil || same {
		return err
	}
	return writeFileAtomic(path, want)
}

// sameContent reports whether the file at path has the SHA-256 of want. A
// missing file is simply not the same.
func sameContent(path string, want []byte) (bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	sum := sha256.Sum256(want)
	return bytes.Equal(h.Sum(nil), sum[:]), nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so the file at path is always either old or new, never partial.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
