package zaptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"
)

// footerSize is the size of zapx's footer without a file-writer id.
const footerSize = 4 + 8 + 8 + 8 + 4 + 4 + 4

// CompareFiles checks that the segment file at got holds the bytes of
// the one zapx wrote at want, but for the fields section, where zapx
// lists each field's sections in the order of a map, and so for the
// checksum; and that zapx reads the same from both (Compare).
func CompareFiles(want, got string) error {
	w, err := os.ReadFile(want)
	if err != nil {
		return err
	}
	g, err := os.ReadFile(got)
	if err != nil {
		return err
	}
	wf, err := fieldsSectionStart(w)
	if err != nil {
		return fmt.Errorf("%s: %w", want, err)
	}
	gf, err := fieldsSectionStart(g)
	if err != nil {
		return fmt.Errorf("%s: %w", got, err)
	}
	if wf != gf {
		return fmt.Errorf("the fields section starts at %d in %s, at %d in %s", wf, want, gf, got)
	}
	for i := range wf {
		if w[i] != g[i] {
			return fmt.Errorf("the files differ at byte %d of the %d before the fields section", i, wf)
		}
	}
	if string(w[len(w)-footerSize:len(w)-4]) != string(g[len(g)-footerSize:len(g)-4]) {
		return fmt.Errorf("footers differ:\n%x\n%x", w[len(w)-footerSize:], g[len(g)-footerSize:])
	}
	var segs [2]segment.Segment
	for i, path := range []string{want, got} {
		if segs[i], err = (&zap.ZapPlugin{}).Open(path); err != nil {
			return err
		}
		defer segs[i].Close()
	}
	return Compare(segs[0], segs[1])
}

// fieldsSectionStart returns where the first field's entry starts in a
// segment file.
func fieldsSectionStart(file []byte) (int, error) {
	if len(file) < footerSize {
		return 0, fmt.Errorf("%d bytes, shorter than a footer", len(file))
	}
	sections := binary.BigEndian.Uint64(file[len(file)-footerSize+20:])
	if sections >= uint64(len(file)) {
		return 0, fmt.Errorf("fields index at %d, past the end", sections)
	}
	n, k := binary.Uvarint(file[sections:])
	if n == 0 || k <= 0 || sections+uint64(k)+8*n > uint64(len(file)) {
		return 0, fmt.Errorf("no fields at %d", sections)
	}
	first := uint64(len(file))
	for i := range n {
		first = min(first, binary.BigEndian.Uint64(file[sections+uint64(k)+8*i:]))
	}
	return int(first), nil
}

// Persist writes each of segs, segments in memory as zapx's New or
// zapbuild's build them, to a file in dir and returns them opened from
// there; tb closes them when it ends.
func Persist(tb testing.TB, dir string, segs ...segment.Segment) []segment.Segment {
	tb.Helper()
	opened := make([]segment.Segment, 0, len(segs))
	for _, s := range segs {
		sb, ok := s.(*zap.SegmentBase)
		if !ok {
			tb.Fatalf("segment %T is not in memory", s)
		}
		var path string
		for n := 0; ; n++ { // a name no earlier call took
			path = filepath.Join(dir, fmt.Sprintf("%d.zap", n))
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				break
			}
		}
		if err := zap.PersistSegmentBase(sb, path); err != nil {
			tb.Fatal(err)
		}
		f, err := (&zap.ZapPlugin{}).Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		opened = append(opened, f)
	}
	return opened
}
