package search

import (
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion is the version of NewMapping and of the analysis behind it
// (analyzer, dictionaries). Raise it whenever either changes: an index built
// with another version reports NeedsRebuild and is rebuilt from the database.
const MappingVersion = 2

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

// newBleveIndex creates a new, empty scorch index in dir with NewMapping.
func newBleveIndex(dir string) (bleve.Index, error) {
	return bleve.NewUsing(dir, NewMapping(), scorch.Name, scorch.Name, nil)
}
