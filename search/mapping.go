package search

import (
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// MappingVersion is the version of NewMapping and of the analysis behind it
// (analyzer, dictionaries). Raise it whenever either changes: an index built
// with another version reports NeedsRebuild and is rebuilt from the database.
//
// 3: title and body in one field each, cut by TextAnalyzerName (words,
// pairs and uncommon characters with a length marker), nothing stored and
// no term vectors; the bigram and character fields are gone; a "kind"
// keyword.
// 4: folding composes a letter with the combining marks after it (e + ◌́
// is é), as it already did after full-width letters.
// 5: the creation time and the support count are indexed at full
// precision only (pointField); date ranges and the support order come from
// the doc values.
// 6: the body is cut by BodyAnalyzerName, which counts the terms of its
// first leadBytes twice.
// 7: a title or body that names no place code holds placelessMarker.
// 8: one whose place codes all lie in one city holds withinCityMarker and,
// if it names only the city, cityOnlyMarker (placeMarkers).
const MappingVersion = 8

// ideaType is the Bleve document type of an idea.
const ideaType = "idea"

// kindIdea is the kind indexed for a Doc without one.
const kindIdea = "idea"

// Field names of an idea document; queries and facets refer to them
// (FieldKind is declared with the search requests).
const (
	FieldTitle    = "title"
	FieldBody     = "body"
	FieldTheme    = "theme"
	FieldCampaign = "campaign"
	FieldRegion   = "region"
	FieldStatus   = "status"
	FieldCreated  = "created"
	FieldSupports = "supports"
)

// NewMapping returns the index mapping for ideas: title and body cut by the
// TextAnalyzerName and BodyAnalyzerName analyzers, indexed only (no stored
// text, no term vectors: results are loaded and highlighted from the
// database, see Highlight); the facet fields, including the kind of document, as exact
// keywords with doc values for facets, not stored; the creation time and the
// support count for sorting and ranges. Documents of other types are not
// indexed, and nothing goes into Bleve's composite _all field.
//
// ANALYSIS.md measures what each choice costs and brings.
func NewMapping() mapping.IndexMapping {
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = TextAnalyzerName
	im.DefaultType = ideaType
	im.DefaultMapping = mapping.NewDocumentDisabledMapping()

	text := func(analyzer string) *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false // text is never sorted or faceted on
		return f
	}
	keywordField := func() *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		return f
	}
	created := mapping.NewDateTimeFieldMapping()
	created.Store = false
	created.IncludeInAll = false
	supports := mapping.NewNumericFieldMapping()
	supports.Store = false
	supports.IncludeInAll = false

	idea := mapping.NewDocumentStaticMapping()
	idea.AddFieldMappingsAt(FieldTitle, text(TextAnalyzerName))
	idea.AddFieldMappingsAt(FieldBody, text(BodyAnalyzerName))
	for _, name := range []string{FieldTheme, FieldCampaign, FieldRegion, FieldStatus, FieldKind} {
		idea.AddFieldMappingsAt(name, keywordField())
	}
	idea.AddFieldMappingsAt(FieldCreated, created)
	idea.AddFieldMappingsAt(FieldSupports, supports)
	im.AddDocumentMapping(ideaType, idea)
	return im
}

// ideaDoc is how a Doc is handed to Bleve, whose reflection reads the json
// tags as field names.
type ideaDoc struct {
	Title    string     `json:"title"`
	Body     string     `json:"body"`
	Theme    string     `json:"theme"`
	Campaign string     `json:"campaign"`
	Region   string     `json:"region"`
	Status   string     `json:"status"`
	Kind     string     `json:"kind"`
	Created  *time.Time `json:"created"` // nil when unknown: Bleve cannot index year 1
	Supports int        `json:"supports"`
}

// BleveType tells Bleve's mapping which document type this is.
func (ideaDoc) BleveType() string { return ideaType }

func toIdeaDoc(d Doc) ideaDoc {
	doc := ideaDoc{
		Title:    d.Title,
		Body:     d.Body,
		Theme:    d.Theme,
		Campaign: d.Campaign,
		Region:   d.Region,
		Status:   d.Status,
		Kind:     d.Kind,
		Supports: d.Supports,
	}
	if doc.Kind == "" {
		doc.Kind = kindIdea // Doc.Kind: empty means an idea
	}
	if !d.Created.IsZero() {
		created := d.Created
		doc.Created = &created
	}
	return doc
}

// ideaDocument builds the Bleve document of d as im's MapDocument does —
// keyword, date and number fields, the _all composite — with its
// TextAnalyzerName fields as textFields, which analyse straight into term
// frequencies (see textCutter.termFrequencies): the index gets the same
// terms, frequencies, norms and doc values as from Batch.Index, for less
// work. The date and number fields become pointFields, indexed at full
// precision only. The document goes into a batch with Batch.IndexAdvanced;
// every path into the index takes it.
func ideaDocument(im mapping.IndexMapping, d Doc) (*document.Document, error) {
	if d.ID == "" {
		return nil, bleve.ErrorEmptyID
	}
	doc := document.NewDocument(d.ID)
	if err := im.MapDocument(doc, toIdeaDoc(d)); err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	for i, f := range doc.Fields {
		if tf, ok := f.(*document.TextField); ok {
			doc.Fields[i] = newTextField(tf)
		} else {
			doc.Fields[i] = newPointField(f)
		}
	}
	return doc, nil
}

// newBleveIndex creates a new, empty scorch index in dir with NewMapping
// and scorch's config (nil for its defaults). Bleve keeps that config with
// the index and uses it whenever the index is opened again.
// ideaFields lists every field a document of an idea can have, with its
// options: those of a document with every attribute set, mapped as Index
// maps one (TestIdeaFieldsCoverDocuments).
func ideaFields(im mapping.IndexMapping) (map[string]index.FieldIndexingOptions, error) {
	full := Doc{
		ID: "fields", Kind: "debate_post", Title: "标题", Body: "正文", Theme: "交通",
		Campaign: "campaign", Region: "鼓楼区", Status: "published",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Supports: 1,
	}
	doc, err := ideaDocument(im, full)
	if err != nil {
		return nil, fmt.Errorf("list the fields of an idea: %w", err)
	}
	fields := map[string]index.FieldIndexingOptions{}
	visit := func(f index.Field) {
		if f.Name() != "_id" {
			fields[f.Name()] |= f.Options()
		}
	}
	doc.VisitComposite(func(f index.CompositeField) { visit(f) })
	doc.VisitFields(visit)
	return fields, nil
}

func newBleveIndex(dir string, config map[string]any) (bleve.Index, error) {
	return bleve.NewUsing(dir, NewMapping(), scorch.Name, scorch.Name, config)
}
