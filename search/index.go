package search

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion is the version of NewMapping and of the analysis behind it
// (analyzer, dictionaries). Raise it whenever either changes: an index built
// with another version reports NeedsRebuild and is rebuilt from the database.
const MappingVersion = 2

// Keys in the index's internal storage.
const (
	mappingVersionKey = "jindianzi.mapping_version"
)

// ideaType is the Bleve document type of an idea.
const ideaType = "idea"

// Field names of an idea document; queries and facets refer to them.
const (
	FieldTitle    = "title"
	FieldBody     = "body"
	FieldTheme    = "theme"
	FieldCampaign = "campaign"
	FieldRegion   = "region"
	FieldStatus   = "status"
	FieldCreated  = "created"
	FieldSupports = "supports"

	// The title and body again, cut into character pairs by
	// BigramAnalyzerName and into single characters by UnigramAnalyzerName;
	// BuildQuery searches them beside the word fields. Indexed only: nothing
	// is stored and no term vectors are kept.
	fieldTitleBigram = "title_bigram"
	fieldBodyBigram  = "body_bigram"
	fieldTitleChar   = "title_char"
	fieldBodyChar    = "body_char"
)

// defaultLimit is how many ids SearchIDs returns when asked for none.
const defaultLimit = 10

// ErrClosed is returned by an Index used after Close.
var ErrClosed = errors.New("search: index closed")

// NewMapping returns the index mapping for ideas: title and body analysed
// as Chinese words with the "jindianzi" analyzer (stored, with term vectors
// for highlighting), the same text as character pairs in title_bigram and
// body_bigram and as single characters in title_char and body_char (indexed
// only), the facet fields as exact keywords, the creation time and the
// support count. Documents of other types are not indexed, and nothing goes
// into Bleve's composite _all field, which no query here uses.
func NewMapping() mapping.IndexMapping {
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = AnalyzerName
	im.DefaultType = ideaType
	im.DefaultMapping = mapping.NewDocumentDisabledMapping()

	text := func() *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = AnalyzerName
		f.Store = true
		f.IncludeTermVectors = true
		f.IncludeInAll = false
		f.DocValues = false // text is never sorted or faceted on
		return f
	}
	indexOnly := func(analyzer string) *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	keywordField := func() *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Store = true
		f.IncludeInAll = false
		return f
	}
	created := mapping.NewDateTimeFieldMapping()
	created.IncludeInAll = false
	supports := mapping.NewNumericFieldMapping()
	supports.IncludeInAll = false

	idea := mapping.NewDocumentStaticMapping()
	idea.AddFieldMappingsAt(FieldTitle, text())
	idea.AddFieldMappingsAt(FieldBody, text())
	idea.AddFieldMappingsAt(fieldTitleBigram, indexOnly(BigramAnalyzerName))
	idea.AddFieldMappingsAt(fieldBodyBigram, indexOnly(BigramAnalyzerName))
	idea.AddFieldMappingsAt(fieldTitleChar, indexOnly(UnigramAnalyzerName))
	idea.AddFieldMappingsAt(fieldBodyChar, indexOnly(UnigramAnalyzerName))
	for _, name := range []string{FieldTheme, FieldCampaign, FieldRegion, FieldStatus} {
		idea.AddFieldMappingsAt(name, keywordField())
	}
	idea.AddFieldMappingsAt(FieldCreated, created)
	idea.AddFieldMappingsAt(FieldSupports, supports)
	im.AddDocumentMapping(ideaType, idea)
	return im
}

// Doc is what the index holds about one idea. ID is the idea's id in the
// database; search results return it and callers load the row from there.
type Doc struct {
	ID       string
	Title    string
	Body     string
	Theme    string
	Campaign string
	Region   string
	Status   string
	Created  time.Time
	Supports int
}

// ideaDoc is how a Doc is handed to Bleve, whose reflection reads the json
// tags as field names.
type ideaDoc struct {
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	TitleBigram string     `json:"title_bigram"`
	BodyBigram  string     `json:"body_bigram"`
	TitleChar   string     `json:"title_char"`
	BodyChar    string     `json:"body_char"`
	Theme       string     `json:"theme"`
	Campaign    string     `json:"campaign"`
	Region      string     `json:"region"`
	Status      string     `json:"status"`
	Created     *time.Time `json:"created"` // nil when unknown: Bleve cannot index year 1
	Supports    int        `json:"supports"`
}

// BleveType tells Bleve's mapping which document type this is.
func (ideaDoc) BleveType() string { return ideaType }

func toIdeaDoc(d Doc) ideaDoc {
	doc := ideaDoc{
		Title:       d.Title,
		Body:        d.Body,
		TitleBigram: d.Title,
		BodyBigram:  d.Body,
		TitleChar:   d.Title,
		BodyChar:    d.Body,
		Theme:       d.Theme,
		Campaign:    d.Campaign,
		Region:      d.Region,
		Status:      d.Status,
		Supports:    d.Supports,
	}
	if !d.Created.IsZero() {
		created := d.Created
		doc.Created = &created
	}
	return doc
}

// Index is the Bleve full-text index of ideas, stored in one directory. It is
// safe for concurrent use.
type Index struct {
	path string

	mu    sync.RWMutex // guards index against use during and after Close
	index bleve.Index  // nil once closed
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
		idx, err = createIndex(dir)
		if err != nil {
			return nil, fmt.Errorf("search: create index %s: %w", dir, err)
		}
	default:
		return nil, fmt.Errorf("search: open index %s: %w", dir, err)
	}
	return &Index{path: dir, index: idx}, nil
}

// createIndex makes a new index in dir and stamps it with MappingVersion.
func createIndex(dir string) (bleve.Index, error) {
	idx, err := bleve.NewUsing(dir, NewMapping(), scorch.Name, scorch.Name, nil)
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
func (x *Index) Path() string { return x.path }

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
		return 0, fmt.Errorf("search: count documents in %s: %w", x.path, err)
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
	st := Status{Path: x.path}
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
		for _, d := range docs {
			if d.ID == "" {
				return bleve.ErrorEmptyID
			}
			if err := b.Index(d.ID, toIdeaDoc(d)); err != nil {
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
	req := bleve.NewSearchRequestOptions(x.BuildQuery(text), limit, 0, false)

	var ids []string
	err := x.use(func(idx bleve.Index) error {
		res, err := idx.Search(req)
		if err != nil {
			return err
		}
		ids = make([]string, 0, len(res.Hits))
		for _, hit := range res.Hits {
			ids = append(ids, hit.ID)
		}
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
	if err != nil {
		return fmt.Errorf("search: close index %s: %w", x.path, err)
	}
	return nil
}
