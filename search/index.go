package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"

	"jindianzi/search/internal/zapbuild"
)

// New segments are built by zapbuild, which writes what zapx would with
// less work per posting (ANALYSIS.md, "Building segments").
func init() { zapbuild.Register() }

// Keys in the index's internal storage.
const (
	mappingVersionKey = "jindianzi.mapping_version"
)

// defaultLimit is how many ids SearchIDs returns when asked for none.
const defaultLimit = 10

// ErrClosed is returned by an Index used after Close.
var ErrClosed = errors.New("search: index closed")

// Doc is what the index holds about one idea. ID is the idea's id in the
// database; search results return it and callers load the row from there.
type Doc struct {
	ID string
	// Kind is "idea" or "debate_post"; empty means "idea".
	Kind     string
	Title    string
	Body     string
	Theme    string
	Campaign string
	Region   string
	Status   string
	Created  time.Time
	Supports int
}

// Index is the Bleve full-text index of ideas, stored in one directory. It is
// safe for concurrent use.
type Index struct {
	seg *Segmenter

	mu    sync.RWMutex // guards index, path and gen against use during a swap and after Close
	path  string
	index bleve.Index // nil once closed

	// root and gen are set for an index opened by OpenCurrent: the
	// directory of generations and the one in use.
	root, gen string

	// answers caches whole answers per snapshot (see answerCache).
	answers answerCache
	// postings keeps the common terms' postings decoded (see
	// postingsCache).
	postings postingsCache
}

// generation returns the name of the generation in use.
func (x *Index) generation() string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.gen
}

// swap puts the Bleve index of next in place of the current one and returns
// the old one for the caller to close. next must not be used afterwards.
func (x *Index) swap(next *Index, gen string) bleve.Index {
	next.mu.Lock()
	idx, path := next.index, next.path
	next.index = nil
	next.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.index
	x.index, x.path, x.gen = idx, path, gen
	return old
}

// OpenIndex opens the scorch index in dir, creating it with NewMapping (and
// recording MappingVersion) when dir does not exist or is empty. seg must be
// the Segmenter from OpenSegmenter: the analyzer cuts text with it.
func OpenIndex(dir string, seg *Segmenter) (*Index, error) {
	if seg == nil || seg != currentSegmenter() {
		return nil, fmt.Errorf("search: open index %s: %w", dir, errNoSegmenter)
	}
	idx, err := bleve.Open(dir)
	switch {
	case err == nil:
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist),
		errors.Is(err, bleve.ErrorIndexMetaMissing) && isEmptyDir(dir):
		idx, err = createIndex(dir, nil)
		if err != nil {
			return nil, fmt.Errorf("search: create index %s: %w", dir, err)
		}
	default:
		return nil, fmt.Errorf("search: open index %s: %w", dir, err)
	}
	return &Index{seg: seg, path: dir, index: idx}, nil
}

// createIndex makes a new index in dir with scorch's config (see
// newBleveIndex) and stamps it with MappingVersion.
func createIndex(dir string, config map[string]any) (bleve.Index, error) {
	idx, err := newBleveIndex(dir, config)
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal([]byte(mappingVersionKey), []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// isEmptyDir reports whether dir is a directory with nothing in it, such as
// one made ahead of time for the index.
func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// Path returns the index's directory.
func (x *Index) Path() string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.path
}

// use runs f with the open Bleve index, or returns ErrClosed.
func (x *Index) use(f func(bleve.Index) error) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.index == nil {
		return ErrClosed
	}
	return f(x.index)
}

// storedMappingVersion returns the mapping version recorded in the index, or
// 0 when none was recorded (or it cannot be read as a number).
func (x *Index) storedMappingVersion() (int, error) {
	var v int
	err := x.use(func(idx bleve.Index) error {
		raw, err := idx.GetInternal([]byte(mappingVersionKey))
		if err != nil {
			return err
		}
		v, _ = strconv.Atoi(string(raw))
		return nil
	})
	return v, err
}

// NeedsRebuild reports whether the index was built with a mapping other than
// MappingVersion (or its version cannot be read), so its contents must be
// rebuilt from the database.
func (x *Index) NeedsRebuild() bool {
	v, err := x.storedMappingVersion()
	return err != nil || v != MappingVersion
}

// DocCount returns the number of documents in the index.
func (x *Index) DocCount() (uint64, error) {
	var n uint64
	err := x.use(func(idx bleve.Index) error {
		var err error
		n, err = idx.DocCount()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("search: count documents in %s: %w", x.Path(), err)
	}
	return n, nil
}

// Status is a health report on the index, shaped for a JSON health check.
type Status struct {
	Path           string `json:"path"`
	Docs           uint64 `json:"docs"`
	MappingVersion int    `json:"mapping_version"` // as stored in the index
	NeedsRebuild   bool   `json:"needs_rebuild"`
	Err            string `json:"error,omitempty"`
}

// Status reports on the index. It never fails: a problem is described in
// Status.Err.
func (x *Index) Status() Status {
	st := Status{Path: x.Path()}
	v, err := x.storedMappingVersion()
	if err != nil {
		st.NeedsRebuild = true
		st.Err = err.Error()
		return st
	}
	st.MappingVersion = v
	st.NeedsRebuild = v != MappingVersion
	if st.Docs, err = x.DocCount(); err != nil {
		st.Err = err.Error()
	}
	return st
}

// Index adds or replaces docs in one batch.
func (x *Index) Index(docs ...Doc) error {
	if len(docs) == 0 {
		return nil
	}
	err := x.use(func(idx bleve.Index) error {
		b := idx.NewBatch()
		im := idx.Mapping()
		for _, d := range docs {
			doc, err := ideaDocument(im, d)
			if err != nil {
				return err
			}
			if err := b.IndexAdvanced(doc); err != nil {
				return fmt.Errorf("document %s: %w", d.ID, err)
			}
		}
		return idx.Batch(b)
	})
	if err != nil {
		return fmt.Errorf("search: index %d documents: %w", len(docs), err)
	}
	return nil
}

// Delete removes the documents with the given ids in one batch; ids not in
// the index are ignored.
func (x *Index) Delete(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	err := x.use(func(idx bleve.Index) error {
		b := idx.NewBatch()
		for _, id := range ids {
			b.Delete(id)
		}
		return idx.Batch(b)
	})
	if err != nil {
		return fmt.Errorf("search: delete %d documents: %w", len(ids), err)
	}
	return nil
}

// SearchIDs returns the ids of up to limit ideas whose title or body matches
// text (see BuildQuery), best first. A limit of zero or less means 10.
func (x *Index) SearchIDs(text string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	tq, ok := x.BuildQuery(text).(*textQuery)
	if !ok {
		return []string{}, nil // no word to search for
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(tq)
	var ids []string
	err := x.use(func(idx bleve.Index) error {
		res, err := collect(context.Background(), idx, builtQuery{Query: b, text: tq, onlyText: true}, collection{prune: true, size: limit})
		if err != nil {
			return err
		}
		ids = res.ids()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: search %q: %w", clipRunes(text, 40), err)
	}
	return ids, nil
}

// Close closes the index. Closing an already closed Index does nothing.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.index == nil {
		return nil
	}
	err := x.index.Close()
	x.index = nil
	x.postings.clear()
	if err != nil {
		return fmt.Errorf("search: close index %s: %w", x.path, err)
	}
	return nil
}
