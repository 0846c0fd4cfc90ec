package search

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/query"
)

// evalVariant is one alternative analysis and query measured by
// TestEvalVariants for search/ANALYSIS.md.
type evalVariant struct {
	name       string
	indexMode  string  // jieba mode of the word field at index time
	queryMode  string  // … and at query time
	noFold     bool    // naive: no folding, lowercase filter only
	synonyms   bool    // synonym filter on the word field
	indexStop  string  // "", "jieba" or "search": stop list at index time
	queryStop  string  // … at query time
	bigram     float64 // boost of the bigram field clause; 0 = no bigram field
	unigram    float64 // boost of the single-character field clause; 0 = none
	cjkUni     float64 // boost of one field with pairs and single characters; 0 = none
	allChars   bool    // single-character field keeps the common characters too
	word       float64 // boost of the word field clause; 0 = no word clause
	bm25       bool    // BM25 instead of Bleve's TF-IDF
	phrase     float64 // boost of a phrase clause on the bigram field; 0 = none
	wordPhrase float64 // boost of a match_phrase clause on the word field; 0 = none
}

func (v evalVariant) system() evalSystem {
	return evalSystem{name: v.name, open: func(dir string) (evalIndex, error) {
		im := mapping.NewIndexMapping()
		im.DefaultMapping = mapping.NewDocumentStaticMapping()
		if v.bm25 {
			im.ScoringModel = "bm25"
		}
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		defined := map[string]bool{}
		stopMap := func(name string) string {
			if name == "" {
				return ""
			}
			if defined[name] {
				return "v_stopf_" + name
			}
			defined[name] = true
			var words []any
			switch name {
			case "jieba":
				data, err := dictFS.ReadFile("dict/" + stopWordsFile)
				must(err)
				for _, w := range strings.Fields(string(data)) {
					words = append(words, Fold(w))
				}
			case "search":
				for w := range searchStopWords() {
					words = append(words, w)
				}
			}
			must(im.AddCustomTokenMap("v_stop_"+name, map[string]any{"type": tokenmap.Name, "tokens": words}))
			must(im.AddCustomTokenFilter("v_stopf_"+name, map[string]any{"type": stop.Name, "stop_token_map": "v_stop_" + name}))
			return "v_stopf_" + name
		}
		analyzer := func(name, mode, stopName string) {
			tok := "v_tok_" + mode
			if !defined[tok] {
				defined[tok] = true
				must(im.AddCustomTokenizer(tok, map[string]any{"type": TokenizerName, "mode": mode}))
			}
			var filters []string
			if v.noFold {
				tok = "v_tok_nofold_" + mode
				if !defined[tok] {
					defined[tok] = true
					must(im.AddCustomTokenizer(tok, map[string]any{"type": "v_nofold", "mode": mode}))
				}
				filters = append(filters, lowercase.Name)
			}
			if v.synonyms {
				filters = append(filters, SynonymFilterName)
			}
			if f := stopMap(stopName); f != "" {
				filters = append(filters, f)
			}
			must(im.AddCustomAnalyzer(name, map[string]any{"type": custom.Name, "tokenizer": tok, "token_filters": filters}))
		}
		analyzer("v_index", v.indexMode, v.indexStop)
		analyzer("v_query", v.queryMode, v.queryStop)
		doc := im.DefaultMapping
		body := mapping.NewTextFieldMapping()
		body.Analyzer = "v_index"
		body.Store, body.IncludeInAll, body.DocValues = false, false, false
		body.IncludeTermVectors = v.wordPhrase > 0
		doc.AddFieldMappingsAt(FieldBody, body)
		if v.bigram > 0 || v.phrase > 0 {
			bg := mapping.NewTextFieldMapping()
			bg.Analyzer = BigramAnalyzerName
			bg.Store, bg.IncludeInAll, bg.DocValues = false, false, false
			bg.IncludeTermVectors = v.phrase > 0
			doc.AddFieldMappingsAt(variantBigramField, bg)
		}
		charAnalyzer := UnigramAnalyzerName
		if v.allChars {
			charAnalyzer = "v_allchars"
			must(im.AddCustomAnalyzer(charAnalyzer, map[string]any{"type": custom.Name, "tokenizer": FoldTokenizerName}))
		}
		if v.unigram > 0 {
			f := mapping.NewTextFieldMapping()
			f.Analyzer = charAnalyzer
			f.Store, f.IncludeInAll, f.DocValues, f.IncludeTermVectors = false, false, false, false
			doc.AddFieldMappingsAt("body_char", f)
		}
		if v.cjkUni > 0 {
			must(im.AddCustomTokenFilter("v_bigram_uni", map[string]any{"type": cjk.BigramName, "output_unigram": true}))
			must(im.AddCustomAnalyzer("v_cjkuni", map[string]any{"type": custom.Name, "tokenizer": FoldTokenizerName, "token_filters": []string{"v_bigram_uni"}}))
			f := mapping.NewTextFieldMapping()
			f.Analyzer = "v_cjkuni"
			f.Store, f.IncludeInAll, f.DocValues, f.IncludeTermVectors = false, false, false, false
			doc.AddFieldMappingsAt("body_cjkuni", f)
		}
		build := func(text string) query.Query {
			var qs []query.Query
			if v.word > 0 {
				q := bleve.NewMatchQuery(text)
				q.SetField(FieldBody)
				q.Analyzer = "v_query"
				q.SetBoost(v.word)
				qs = append(qs, q)
			}
			if v.bigram > 0 {
				q := bleve.NewMatchQuery(text)
				q.SetField(variantBigramField)
				q.Analyzer = BigramAnalyzerName
				q.SetBoost(v.bigram)
				qs = append(qs, q)
			}
			if v.unigram > 0 {
				q := bleve.NewMatchQuery(text)
				q.SetField("body_char")
				q.Analyzer = charAnalyzer
				q.SetBoost(v.unigram)
				qs = append(qs, q)
			}
			if v.cjkUni > 0 {
				q := bleve.NewMatchQuery(text)
				q.SetField("body_cjkuni")
				q.Analyzer = "v_cjkuni"
				q.SetBoost(v.cjkUni)
				qs = append(qs, q)
			}
			if v.phrase > 0 {
				q := bleve.NewMatchPhraseQuery(text)
				q.SetField(variantBigramField)
				q.Analyzer = BigramAnalyzerName
				q.SetBoost(v.phrase)
				qs = append(qs, q)
			}
			if v.wordPhrase > 0 {
				q := bleve.NewMatchPhraseQuery(text)
				q.SetField(FieldBody)
				q.Analyzer = "v_query"
				q.SetBoost(v.wordPhrase)
				qs = append(qs, q)
			}
			return bleve.NewDisjunctionQuery(qs...)
		}
		return openBleveEvalBodies(dir, im, build, v)
	}}
}

// TestEvalVariants measures the alternatives recorded in search/ANALYSIS.md.
// It is slow and needs the data: JDZ_EVAL_VARIANTS=path/to/messages.csv.
func TestEvalVariants(t *testing.T) {
	path := os.Getenv("JDZ_EVAL_VARIANTS")
	if path == "" {
		t.Skip("set JDZ_EVAL_VARIANTS to a CSV with body and title columns")
	}
	testSegmenter(t)
	data, err := readEvalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	only := os.Getenv("JDZ_EVAL_ONLY")
	for _, v := range evalVariants() {
		if only != "" && !strings.Contains(v.name, only) {
			continue
		}
		res, err := runEval(context.Background(), v.system(), data, t.TempDir(), testWriter{t})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("| %-40s | %.4f | %.4f | %.2f× |\n", v.name, res.MRR, res.Recall, float64(res.IndexBytes)/float64(res.TextBytes))
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func evalVariants() []evalVariant {
	s, e := modeSearch, modeExact
	return []evalVariant{
		{name: "1 naive: jieba search mode, no folding", indexMode: s, queryMode: s, noFold: true, word: 1},
		{name: "2 folded, search mode", indexMode: s, queryMode: s, word: 1},
		{name: "3 folded, exact mode", indexMode: e, queryMode: e, word: 1},
		{name: "4 folded, search mode index, exact query", indexMode: s, queryMode: e, word: 1},
		{name: "5 pairs only (jindianzi_bigram)", bigram: 1, indexMode: e, queryMode: e},
		{name: "6 search words + pairs", indexMode: s, queryMode: s, word: 1, bigram: 1},
		{name: "7 exact words + pairs", indexMode: e, queryMode: e, word: 1, bigram: 1},
		{name: "8 exact words + pairs + all chars", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, allChars: true},
		{name: "9 exact words + pairs + uncommon chars", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1},
		{name: "10 = 9 + synonyms", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true},
		{name: "11 = 10 + query stop words (ours)", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true, queryStop: "search"},
		{name: "12 = 10 + query stop words (jieba)", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true, queryStop: "jieba"},
		{name: "13 = 10 + stop words (jieba) both sides", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true, queryStop: "jieba", indexStop: "jieba"},
		{name: "14 = 10 with Bleve BM25", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true, bm25: true},
		{name: "15 = 10 + phrase clause on pairs", indexMode: e, queryMode: e, word: 1, bigram: 1, unigram: 1, synonyms: true, phrase: 1},
		{name: "16 = 10 with search-mode words", indexMode: s, queryMode: s, word: 1, bigram: 1, unigram: 1, synonyms: true},
		{name: "17 exact words + pairs&chars in one field", indexMode: e, queryMode: e, word: 1, cjkUni: 1, synonyms: true},
	}
}

func init() {
	err := registry.RegisterTokenizer("v_nofold", func(config map[string]any, _ *registry.Cache) (analysis.Tokenizer, error) {
		tok, err := tokenizerConstructor(config, nil)
		if err != nil {
			return nil, err
		}
		j := tok.(*jiebaTokenizer)
		j.noFold = true
		return j, nil
	})
	if err != nil {
		panic(err)
	}
}

// openBleveEvalBodies is openBleveEval with the body also in the bigram
// field when withBigram.
func openBleveEvalBodies(dir string, im mapping.IndexMapping, build func(string) query.Query, v evalVariant) (evalIndex, error) {
	idx, err := bleve.NewUsing(dir, im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, err
	}
	return variantEvalIndex{bleveEvalIndex{idx: idx, build: build}, v}, nil
}

type variantEvalIndex struct {
	bleveEvalIndex
	v evalVariant
}

func (e variantEvalIndex) index(ids, bodies []string) error {
	b := e.idx.NewBatch()
	for i := range ids {
		doc := map[string]any{FieldBody: bodies[i]}
		if e.v.bigram > 0 || e.v.phrase > 0 {
			doc[variantBigramField] = bodies[i]
		}
		if e.v.unigram > 0 {
			doc["body_char"] = bodies[i]
		}
		if e.v.cjkUni > 0 {
			doc["body_cjkuni"] = bodies[i]
		}
		if err := b.Index(ids[i], doc); err != nil {
			return err
		}
	}
	return e.idx.Batch(b)
}

// variantBigramField is the field of the character pairs in the variants
// (the index had one per text field before MappingVersion 3).
const variantBigramField = "body_bigram"
