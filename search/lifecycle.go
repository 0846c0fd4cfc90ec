package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"jindianzi/search/internal/zapbuild"
)

// An index directory holds generations of the index — gen-000001,
// gen-000002… — and a file CURRENT naming the one in use. A rebuild fills a
// new generation while searches keep using the current one, then points
// CURRENT at it; every process serving the directory notices and swaps.

const currentFile = "CURRENT"

// cursorKey is where an index remembers the last outbox event it applied.
const cursorKey = "_jdz_outbox_cursor"

func genName(n int) string { return fmt.Sprintf("gen-%06d", n) }

// generations lists the generation numbers present in dir, ascending.
func generations(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		if n, ok := strings.CutPrefix(e.Name(), "gen-"); ok && e.IsDir() {
			if v, err := strconv.Atoi(n); err == nil {
				out = append(out, v)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// current reads which generation dir uses; "" when none is set yet.
func current(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// setCurrent points dir at generation name, atomically.
func setCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, currentFile))
}

// OpenCurrent opens the generation dir's CURRENT names, creating the first
// generation when there is none. Stale generations (left by an interrupted
// rebuild or a swap) are removed.
func OpenCurrent(dir string, seg *Segmenter) (*Index, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("search: index directory %s: %w", dir, err)
	}
	name, err := current(dir)
	if err != nil {
		return nil, fmt.Errorf("search: read %s: %w", filepath.Join(dir, currentFile), err)
	}
	if name == "" {
		name = genName(1)
		if err := setCurrent(dir, name); err != nil {
			return nil, fmt.Errorf("search: start index in %s: %w", dir, err)
		}
	}
	x, err := OpenIndex(filepath.Join(dir, name), seg)
	if err != nil {
		return nil, err
	}
	x.root, x.gen = dir, name
	removeGenerations(dir, name, false)
	return x, nil
}

// removeGenerations deletes the generations in dir other than keep (at
// start, what an interrupted rebuild or swap left); with
// olderOnly, only those numbered below it, so that a rebuild filling a
// newer one (another process's `jindianzi reindex`, say) keeps its work.
func removeGenerations(dir, keep string, olderOnly bool) {
	gens, _ := generations(dir)
	for _, g := range gens {
		if genName(g) == keep || olderOnly && genName(g) > keep {
			continue
		}
		_ = os.RemoveAll(filepath.Join(dir, genName(g)))
	}
}

// Builder fills a new generation of an index directory. Commit makes it
// the current one; Abort throws it away.
//
// The generation is built for throughput (see bulkConfig): writes return
// before they reach the disk and segments are not merged while it fills;
// Commit persists everything, merges it into one segment and only then
// switches.
type Builder struct {
	*Index
	root, name string
}

// NewBuilder starts a new, empty generation in dir.
func NewBuilder(dir string, seg *Segmenter) (*Builder, error) {
	if seg == nil || seg != currentSegmenter() {
		return nil, fmt.Errorf("search: new index generation in %s: %w", dir, errNoSegmenter)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("search: index directory %s: %w", dir, err)
	}
	gens, err := generations(dir)
	if err != nil {
		return nil, fmt.Errorf("search: list generations in %s: %w", dir, err)
	}
	next := 1
	if len(gens) > 0 {
		next = gens[len(gens)-1] + 1
	}
	name := genName(next)
	path := filepath.Join(dir, name)
	// Bleve keeps the config an index is created with (index_meta.json) and
	// uses it on every later open, and the served generation must not have
	// bulkConfig: create it plain, then open it with bulkConfig for now.
	idx, err := createIndex(path, nil)
	if err == nil {
		err = idx.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", path, err)
	}
	config, err := bulkConfig()
	if err != nil {
		return nil, fmt.Errorf("search: open index %s for building: %w", path, err)
	}
	idx, err = bleve.OpenUsing(path, config)
	if err != nil {
		return nil, fmt.Errorf("search: open index %s for building: %w", path, err)
	}
	return &Builder{Index: &Index{seg: seg, path: path, index: idx}, root: dir, name: name}, nil
}

// bulkConfig is the scorch configuration of a generation a Builder fills.
// Nobody searches it and an unfinished one is thrown away, so:
//
//   - a batch returns once its segment is in the index, without waiting
//     for the segment to be written and synced (unsafe_batch); the
//     persister meanwhile merges the segments that piled up in memory and
//     writes them as one. Commit waits for the disk once.
//
//   - the merger leaves the segments on disk alone: no number of segments
//     exceeds this merge budget (every segment counts as at least the
//     smallest, and a tier holds up to MaxInt32). Commit merges them all
//     into one, so each document is merged once instead of once per tier.
//
//   - every segment lists every field an idea can have (zapbuild's
//     FieldsKey), even when a batch lacks one (old ideas without a theme,
//     say), so that Commit's merge can copy bytes: zapbuild merges such
//     segments on every core (ParallelMergeKey), where zapx would take
//     one.
//
// NewBuilder opens the generation with it; opened again (Follow,
// OpenCurrent), the generation has scorch's defaults.
func bulkConfig() (map[string]any, error) {
	fields, err := ideaFields(NewMapping())
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"unsafe_batch": true,
		"scorchMergePlanOptions": map[string]any{
			"MaxSegmentsPerTier": math.MaxInt32,
			"FloorSegmentSize":   1,
		},
		"segmentConfig": map[string]any{
			zapbuild.FieldsKey:        fields,
			zapbuild.ParallelMergeKey: true,
		},
	}, nil
}

// Commit records the outbox cursor the rebuild started from, merges the
// new generation into one segment, closes it and makes it current.
func (b *Builder) Commit(cursor int64) error {
	return b.commit(context.Background(), cursor)
}

// commit is Commit, giving up when ctx ends.
func (b *Builder) commit(ctx context.Context, cursor int64) error {
	err := b.use(func(idx bleve.Index) error {
		val := []byte(strconv.FormatInt(cursor, 10))
		// Scorch merges only segments on disk.
		if err := setInternalPersisted(ctx, idx, []byte(cursorKey), val); err != nil {
			return fmt.Errorf("write the last segments: %w", err)
		}
		// The batches' garbage goes back to the system before the merge
		// allocates its own: else the two add up at the rebuild's peak.
		debug.FreeOSMemory()
		if err := mergeAll(ctx, idx); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		// The merged segment is on disk; the snapshot that uses it must be
		// too before Close, or the index reopens unmerged.
		if err := setInternalPersisted(ctx, idx, []byte(cursorKey), val); err != nil {
			return fmt.Errorf("record the merged segment: %w", err)
		}
		return awaitObsoleteFilesRemoved(ctx, idx, []byte(cursorKey), val)
	})
	if err != nil {
		return fmt.Errorf("search: commit %s: %w", b.Path(), err)
	}
	if err := b.Close(); err != nil {
		return err
	}
	if err := setCurrent(b.root, b.name); err != nil {
		return fmt.Errorf("search: make %s current: %w", b.name, err)
	}
	return nil
}

// setInternalPersisted sets key to val in idx's internal storage and waits
// until the snapshot holding it, and with it every earlier batch, is on
// disk.
func setInternalPersisted(ctx context.Context, idx bleve.Index, key, val []byte) error {
	persisted := make(chan error, 1)
	batch := idx.NewBatch()
	batch.SetInternal(key, val)
	batch.SetPersistedCallback(func(err error) {
		select {
		case persisted <- err:
		default: // a retry after a failed attempt: the first report stands
		}
	})
	if err := idx.Batch(batch); err != nil {
		return err
	}
	select {
	case err := <-persisted:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// awaitObsoleteFilesRemoved waits, for up to about two seconds, until the
// files of the snapshots before the last one (the segments a merge
// replaced) are deleted. Scorch's persister deletes them when it runs out
// of work, which Close may interrupt; a generation closed before that
// keeps them until it is next opened, and a rebuild should leave a tidy
// directory. Every 200 ms it writes key and val again (a value the index
// already has) to wake the persister. It gives up without an error: the
// files go the next time the index is opened.
func awaitObsoleteFilesRemoved(ctx context.Context, idx bleve.Index, key, val []byte) error {
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	tidy := func() bool {
		m := sc.StatsMap()
		files, _ := m["num_files_on_disk"].(uint64)
		segments, _ := m["num_root_filesegments"].(uint64)
		return files <= segments+1 // the segments and root.bolt
	}
	for i := 1; i <= 100 && !tidy(); i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if i%10 == 0 {
			if err := setInternalPersisted(ctx, idx, key, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// scorchMergeDoneKey is the context key under which scorch's merger looks
// for a chan error to report a forced merge's outcome to (mergeDoneKey in
// bleve's index/scorch/merge.go). Without it a failing merge is retried
// forever and ForceMerge never returns.
const scorchMergeDoneKey = "mergeDone"

// mergeAll merges every segment idx has on disk into one. (Scorch's
// ForceMerge with its own single-segment options merges at most ten
// segments per task, leaving one segment per ten.)
func mergeAll(ctx context.Context, idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("index is %T, not scorch", adv)
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	opts.SegmentsPerMergeTask = math.MaxInt32
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.WithValue(ctx, scorchMergeDoneKey, done))
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- sc.ForceMerge(ctx, &opts) }()
	select {
	case err = <-done:
		if err == nil {
			err = <-returned
		}
		// On an error scorch does not retry, and ForceMerge waits for the
		// index to close, which Abort does.
	case err = <-returned:
		if err == nil {
			select {
			case err = <-done:
			default:
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err() // scorch reports a cancelled merge as a closed segment, or not at all
	}
	return err
}

// Abort closes and deletes the unfinished generation.
func (b *Builder) Abort() {
	_ = b.Close()
	_ = os.RemoveAll(filepath.Join(b.root, b.name))
}

// Cursor returns the outbox cursor stored in the index: every event up to
// it has been applied, or was an id gap the Indexer gave up waiting for.
// Events after it may have been applied too (see Indexer).
func (x *Index) Cursor() (int64, error) {
	_, c, err := x.position()
	return c, err
}

// position returns the Bleve index in use, which a swap replaces, and the
// cursor stored in it, read together.
func (x *Index) position() (bleve.Index, int64, error) {
	var gen bleve.Index
	var c int64
	err := x.use(func(idx bleve.Index) error {
		var err error
		gen = idx
		c, err = readCursor(idx)
		return err
	})
	return gen, c, err
}

// readCursor reads the cursor stored in idx, 0 when there is none.
func readCursor(idx bleve.Index) (int64, error) {
	raw, err := idx.GetInternal([]byte(cursorKey))
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	c, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("search: outbox cursor %q: %w", raw, err)
	}
	return c, nil
}

// SetCursor records the id of the last outbox event applied.
func (x *Index) SetCursor(c int64) error {
	return x.use(func(idx bleve.Index) error {
		return idx.SetInternal([]byte(cursorKey), []byte(strconv.FormatInt(c, 10)))
	})
}

// Apply indexes docs, deletes ids and moves the cursor in one batch, so a
// crash never leaves the cursor ahead of what was written.
func (x *Index) Apply(docs []Doc, deletes []string, cursor int64) error {
	return x.use(func(idx bleve.Index) error { return apply(idx, docs, deletes, cursor) })
}

// errCursorMoved is returned by applyAt when the index no longer stands
// where the batch was read from.
var errCursorMoved = errors.New("search: index cursor moved")

// applyAt is Apply for a batch read when the index in use was gen and its
// cursor from. If either changed — Follow swapped in a rebuilt generation,
// which starts from its own cursor and holds none of the events the Indexer
// applied past it — it writes nothing and returns errCursorMoved: giving the
// new generation this batch's cursor could skip the events in between.
func (x *Index) applyAt(gen bleve.Index, from int64, docs []Doc, deletes []string, cursor int64) error {
	return x.use(func(idx bleve.Index) error {
		if idx != gen {
			return errCursorMoved
		}
		at, err := readCursor(idx)
		if err != nil {
			return err
		}
		if at != from {
			return errCursorMoved
		}
		return apply(idx, docs, deletes, cursor)
	})
}

// apply writes docs, deletes and the cursor to idx in one batch.
func apply(idx bleve.Index, docs []Doc, deletes []string, cursor int64) error {
	b := idx.NewBatch()
	im := idx.Mapping()
	for _, d := range docs {
		doc, err := ideaDocument(im, d)
		if err != nil {
			return err
		}
		if err := b.IndexAdvanced(doc); err != nil {
			return err
		}
	}
	for _, id := range deletes {
		b.Delete(id)
	}
	b.SetInternal([]byte(cursorKey), []byte(strconv.FormatInt(cursor, 10)))
	return idx.Batch(b)
}

// Follow watches the directory's CURRENT file and, when a rebuild points it
// at a new generation, swaps that in: searches running at that moment finish
// on the old one, which is then closed and deleted with any older ones; a
// newer generation, which a rebuild may still be filling, is left alone.
// It returns when ctx ends.
func (x *Index) Follow(ctx context.Context, every time.Duration, log *slog.Logger) {
	if x.root == "" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		name, err := current(x.root)
		if err != nil || name == "" || name == x.generation() {
			continue
		}
		next, err := OpenIndex(filepath.Join(x.root, name), x.seg)
		if err != nil {
			log.Warn("search: open new index generation", "generation", name, "err", err)
			continue
		}
		old := x.swap(next, name)
		log.Info("search: switched to rebuilt index", "generation", name)
		if old != nil {
			_ = old.Close()
		}
		removeGenerations(x.root, name, true)
	}
}

// Segmenter returns the process's segmenter the index analyses text with.
func (x *Index) Segmenter() *Segmenter { return x.seg }

// OpenCurrentReadOnly opens the current generation for reading only, as the
// command line does beside a running server. It gives up after two seconds
// if a writer holds the index.
func OpenCurrentReadOnly(dir string, seg *Segmenter) (*Index, error) {
	if seg == nil || seg != currentSegmenter() {
		return nil, fmt.Errorf("search: open index %s: %w", dir, errNoSegmenter)
	}
	name, err := current(dir)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("search: no index in %s yet (run jindianzi reindex)", dir)
	}
	path := filepath.Join(dir, name)
	idx, err := bleve.OpenUsing(path, map[string]interface{}{"read_only": true, "bolt_timeout": "2s"})
	if err != nil {
		return nil, fmt.Errorf("search: open index %s: %w", path, err)
	}
	return &Index{seg: seg, path: path, index: idx, root: dir, gen: name}, nil
}
