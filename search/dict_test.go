package search

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallDictionaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dict")
	paths, err := InstallDictionaries(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths.list() {
		if filepath.Dir(p) != dir {
			t.Errorf("%s is not in %s", p, dir)
		}
		assertEmbedded(t, p)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", p, fi.Mode().Perm())
		}
	}

	// Tamper with one file; the next install must restore it and leave the
	// intact ones alone (same inode: not rewritten).
	if err := os.WriteFile(paths.User, []byte("篡改 1 n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(paths.Dict)
	if err != nil {
		t.Fatal(err)
	}
	again, err := InstallDictionaries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again != paths {
		t.Errorf("second install returned %+v, want %+v", again, paths)
	}
	assertEmbedded(t, paths.User)
	after, err := os.Stat(paths.Dict)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("%s was rewritten although it was intact", paths.Dict)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dict dir holds %v, want exactly the five dictionaries", names)
	}
}

func TestInstallDictionariesError(t *testing.T) {
	// A regular file where the directory should be.
	file := filepath.Join(t.TempDir(), "dict")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallDictionaries(file); err == nil {
		t.Fatal("InstallDictionaries into a file succeeded")
	}
}

func assertEmbedded(t *testing.T, path string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := dictFS.ReadFile("dict/" + filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatalf("embedded %s is empty", filepath.Base(path))
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the embedded dictionary", path)
	}
}
