package search

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

var rankDocs = []Doc{
	{ID: "a", Title: "老旧小区加装电梯", Body: "我们小区是老旧小区，六楼老人上下楼困难，希望加装电梯。"},
	{ID: "b", Title: "电梯故障", Body: "电梯经常停运，物业不修。"},
	{ID: "c", Title: "停车难", Body: "小区车位不足，晚上车停满了路边。"},
	{ID: "d", Title: "", Body: "公园里的卫生间晚上锁门，电梯也不开。"},
	{ID: "e", Title: "垃圾分类", Body: "投放点太少。"},
}

// bm25fReference scores every doc for text the way textQuery documents it,
// from the analyzer's terms, with the average lengths read from the length
// markers as the index has them, and drops those below the coverage the
// query needs: minCoverage, or shortQueryCoverage for a short query.
func bm25fReference(t *testing.T, docs []Doc, text string) map[string]float64 {
	t.Helper()
	cut := textCutterFor(t)
	share := minCoverage
	if len(cut.queryTerms(text, true)) <= shortQueryTerms {
		share = shortQueryCoverage
	}
	return bm25fReferenceCovered(t, docs, text, share, true)
}

// bm25fReferenceCovered is bm25fReference with the share of the query's
// weight a document must hold and, with credit false, without what a
// query's place codes add (see addCredit).
func bm25fReferenceCovered(t *testing.T, docs []Doc, text string, share float64, credit bool) map[string]float64 {
	t.Helper()
	cut := textCutterFor(t)
	type field struct {
		tf     map[string]float64
		length float64
		codes  []string // the place codes the field's text names
	}
	fields := []weightedField{{FieldTitle, titleWeight}, {FieldBody, 1}}
	perDoc := make([][]field, len(docs))
	docsWith := make([]float64, len(fields))
	totalLen := make([]float64, len(fields))
	for i, d := range docs {
		for fi, f := range fields {
			src := d.Body
			if f.name == FieldTitle {
				src = d.Title
			}
			folded := Fold(src)
			fd := field{tf: map[string]float64{}}
			for _, tt := range cut.cut(folded, nil, true) {
				term := tt.canon
				if term == "" {
					term = folded[tt.start:tt.end]
				}
				// The body's opening counts twice (BodyAnalyzerName).
				n := 1.0
				if f.name == FieldBody && tt.start < leadBytes {
					n = 2
				}
				fd.tf[term] += n
				fd.length += n
			}
			if fd.length > 0 {
				fd.length++ // the length marker
				fd.codes = placeCodes(folded)
				fd.length += float64(len(placeMarkers(folded)))
				docsWith[fi]++
				marked, _ := lengthOfTerm(lengthTerm(int(fd.length)))
				totalLen[fi] += marked
			}
			perDoc[i] = append(perDoc[i], fd)
		}
	}
	n := max(docsWith[0], docsWith[1])
	scores := map[string]float64{}
	covered := map[string]float64{}
	credits := map[string]float64{} // what the place terms add, once covered (see addCredit)
	var places []string
	if credit {
		places = placeCodes(Fold(text))
	}
	var total float64
	for _, q := range cut.queryTerms(text, true) {
		var df float64
		for fi := range fields {
			var c float64
			for i := range docs {
				if perDoc[i][fi].tf[q.term] > 0 {
					c++
				}
			}
			df = max(df, c)
		}
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		total += float64(q.count) * idf
		for i, d := range docs {
			var x float64
			for fi, f := range fields {
				fd := perDoc[i][fi]
				if tf := fd.tf[q.term]; tf > 0 {
					avg := totalLen[fi] / docsWith[fi]
					x += f.weight * tf / (1 - bm25B + bm25B*fd.length/avg)
				}
			}
			place := slices.Contains(places, q.term)
			if x > 0 {
				scores[d.ID] += float64(q.count) * idf * x * (bm25K1 + 1) / (bm25K1 + x)
				covered[d.ID] += float64(q.count) * idf
				if place {
					credits[d.ID] += placeAgrees * float64(q.count) * idf
				}
				continue
			}
			// A document whose every field (of those any document has)
			// names no place is scored as if its body named the place
			// once, and gains placeAgrees; so does one whose fields name
			// only places within the city asked for, or only the city of
			// the county asked for.
			placeless, agrees := place, place
			for fi := range fields {
				if docsWith[fi] == 0 {
					continue
				}
				codes := perDoc[i][fi].codes
				placeless = placeless && len(codes) == 0 && perDoc[i][fi].length > 0
				for _, c := range codes {
					if len(q.term) == 1 {
						agrees = agrees && c[:1] == q.term
					} else {
						agrees = agrees && c == q.term[:1]
					}
				}
				agrees = agrees && perDoc[i][fi].length > 0
			}
			if fd := perDoc[i][1]; placeless {
				avg := totalLen[1] / docsWith[1]
				x := 1 / (1 - bm25B + bm25B*fd.length/avg)
				credits[d.ID] += float64(q.count) * idf * x * (bm25K1 + 1) / (bm25K1 + x)
			}
			if agrees {
				credits[d.ID] += placeAgrees * float64(q.count) * idf
			}
		}
	}
	for id, c := range covered {
		if c < share*total {
			delete(scores, id)
		} else {
			scores[id] += credits[id]
		}
	}
	return scores
}

// TestShortQueriesNeedMoreCoverage checks that a short query (what is typed
// into a search box) drops the documents holding only its lightest word,
// which a long query's coverage would keep, and scores the rest as the
// reference does.
func TestShortQueriesNeedMoreCoverage(t *testing.T) {
	// 20 documents: half name 公园 (a common word here), one 路灯 (rare),
	// the rest neither. For "公园 路灯", 公园 alone is about a fifth of
	// the query's weight: enough for a long query's coverage, not for a
	// short one's.
	var docs []Doc
	for i := range 20 {
		body := "今天天气很好，大家出门散步。"
		switch {
		case i < 10:
			body = "家门口的公园需要修整。"
		case i == 10:
			body = "路灯坏了很久。"
		}
		docs = append(docs, Doc{ID: fmt.Sprintf("d%02d", i), Body: body})
	}
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	cut, err := newTextCutter(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	const text = "公园 路灯"
	if n := len(cut.queryTerms(text, true)); n > shortQueryTerms {
		t.Fatalf("%q has %d terms: not a short query", text, n)
	}
	got := searchScores(t, idx, idx.BuildQuery(text))
	assertScores(t, text, got, bm25fReferenceCovered(t, docs, text, shortQueryCoverage, true))
	if _, ok := got["d10"]; !ok || len(got) != 1 {
		t.Errorf("%q found %v, want only d10", text, got)
	}
	if long := bm25fReferenceCovered(t, docs, text, minCoverage, true); len(long) != 11 {
		t.Errorf("with a long query's coverage %q would find %d documents, want 11 (else this test tests nothing)", text, len(long))
	}
}

// searchScores runs q and returns each hit's score.
func searchScores(t *testing.T, idx *Index, q query.Query) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	err := idx.use(func(b bleve.Index) error {
		res, err := b.Search(bleve.NewSearchRequestOptions(q, 100, 0, false))
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			got[h.ID] = h.Score
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func assertScores(t *testing.T, label string, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d hits %v, want %d %v", label, len(got), got, len(want), want)
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || math.Abs(g-w) > 1e-6*w {
			t.Errorf("%s: %s scores %.6f (found %v), want %.6f", label, id, g, ok, w)
		}
	}
}

func TestBuildQueryScoresBM25F(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	if err := idx.Index(rankDocs...); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"电梯", "老旧小区加装电梯", "小区停车难", "垃圾分类 电梯 电梯"} {
		assertScores(t, text, searchScores(t, idx, idx.BuildQuery(text)), bm25fReference(t, rankDocs, text))
	}

	// Deleted documents leave the statistics.
	if err := idx.Delete("b"); err != nil {
		t.Fatal(err)
	}
	rest := slices.DeleteFunc(slices.Clone(rankDocs), func(d Doc) bool { return d.ID == "b" })
	assertScores(t, "after delete", searchScores(t, idx, idx.BuildQuery("电梯")), bm25fReference(t, rest, "电梯"))
}

func TestBuildQueryCombines(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	docs := slices.Clone(rankDocs)
	for i := range docs {
		docs[i].Status = "published"
	}
	docs[1].Status = "pending"
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	plain := searchScores(t, idx, idx.BuildQuery("电梯"))

	// A filter selects without scoring.
	status := bleve.NewTermQuery("published")
	status.SetField(FieldStatus)
	b := bleve.NewBooleanQuery()
	b.AddMust(idx.BuildQuery("电梯"))
	b.AddFilter(status)
	filtered := searchScores(t, idx, b)
	delete(plain, "b")
	assertScores(t, "filtered", filtered, plain)

	// In a conjunction the searcher is advanced to the other side's hits.
	kind := bleve.NewTermQuery(kindIdea)
	kind.SetField(FieldKind)
	c := bleve.NewConjunctionQuery(kind, status, idx.BuildQuery("电梯"))
	got := searchScores(t, idx, c)
	if len(got) != len(plain) {
		t.Errorf("conjunction found %v, want %v", got, plain)
	}

	// Explanations name the terms.
	err := idx.use(func(bi bleve.Index) error {
		req := bleve.NewSearchRequest(idx.BuildQuery("电梯"))
		req.Explain = true
		res, err := bi.Search(req)
		if err != nil {
			return err
		}
		if len(res.Hits) == 0 || res.Hits[0].Expl == nil || len(res.Hits[0].Expl.Children) == 0 {
			t.Errorf("no explanation: %+v", res.Hits)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPhraseQuery(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	docs := []Doc{
		{ID: "whole", Title: "建议", Body: "希望推进垃圾分类工作"},
		{ID: "apart", Title: "垃圾太多", Body: "分类做得不好"},             // the pairs are split between title and body
		{ID: "scattered", Title: "环境", Body: "垃圾桶满了，分类箱坏了，圾分不清"}, // every pair, not in a row
		{ID: "title", Title: "关于垃圾分类", Body: "见标题"},
		{ID: "none", Title: "停车", Body: "车位不足"},
	}
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	got := searchScores(t, idx, PhraseQuery("垃圾分类"))
	var ids []string
	for id := range got {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// The index keeps no positions: "scattered" holds every pair and
	// matches; ContainsPhrase tells it apart on the text.
	if !slices.Equal(ids, []string{"scattered", "title", "whole"}) {
		t.Errorf("PhraseQuery(垃圾分类) found %q", ids)
	}
	if ContainsPhrase(docs[2].Body, "垃圾分类") || !ContainsPhrase(docs[0].Body, "垃圾分类") {
		t.Error("ContainsPhrase is not exact")
	}
	if !ContainsPhrase("垃圾，分类", "垃圾分类") || !ContainsPhrase("臺灣ＡＢＣ", "台湾abc") {
		t.Error("ContainsPhrase does not fold or skip punctuation")
	}
	// HoldsPhrases: each phrase whole in the title or in the body.
	for _, d := range docs {
		want := d.ID == "whole" || d.ID == "title"
		if got := HoldsPhrases(d.Title, d.Body, []string{"垃圾分类"}); got != want {
			t.Errorf("HoldsPhrases(%s, 垃圾分类) = %v", d.ID, got)
		}
	}
	if !HoldsPhrases("关于垃圾分类", "车位不足", []string{"垃圾分类", "车位"}) || HoldsPhrases("关于垃圾分类", "车位不足", []string{"垃圾分类", "停车"}) ||
		!HoldsPhrases("", "", nil) {
		t.Error("HoldsPhrases with two phrases, or none")
	}
	for _, text := range []string{"", "！！", "\xff"} {
		if got := searchScores(t, idx, PhraseQuery(text)); len(got) != 0 {
			t.Errorf("PhraseQuery(%q) matched %v", text, got)
		}
	}
	if got := searchScores(t, idx, PhraseQuery("垃圾分类回收")); len(got) != 0 {
		t.Errorf("a phrase with a pair no document holds matched %v", got)
	}
}

// textCutterFor returns the tests' textCutter.
func textCutterFor(t *testing.T) *textCutter {
	t.Helper()
	cut, err := newTextCutter(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	return cut
}

// TestPlacelessCredit checks what a query's place code adds: a document
// naming no place at all scores as if its body named it once
// (placelessMarker), and it, the document naming the place and one naming
// only places that agree with it (its city for a county, its counties for
// a city) gain placeAgrees of its weight; one naming another county or
// city gets nothing, even if only its title does. The scores match the
// reference, and the pruned top hits (SearchIDs) match the full ranking.
func TestPlacelessCredit(t *testing.T) {
	docs := []Doc{
		{ID: "a7", Title: "A7县天然气入户", Body: "A7县某小区的天然气管道一直没有接通。"},
		{ID: "k3", Title: "K3县天然气入户", Body: "K3县城南小区的天然气管道一直没有接通。"},
		{ID: "none", Title: "天然气入户难", Body: "我们小区的天然气管道一直没有接通，请尽快解决。"},
		{ID: "title-k3", Title: "K3县小区天然气", Body: "小区的天然气管道一直没有接通，请尽快解决。"},
		{ID: "city-a", Title: "天然气入户难", Body: "A市有个小区的天然气管道一直没有接通。"},
		{ID: "a3", Title: "天然气入户难", Body: "A3区有个小区的天然气管道一直没有接通。"},
		{ID: "other", Title: "路灯不亮", Body: "小区门口的路灯坏了一个月。"},
		{ID: "other2", Title: "公园卫生间", Body: "公园卫生间晚上锁门。"},
	}
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text  string
		gains []string // the documents the place code adds to
	}{
		{"A7县天然气管道没有接通", []string{"a7", "none", "city-a"}},
		{"A市天然气管道没有接通", []string{"a7", "none", "city-a", "a3"}},
	} {
		got := searchScores(t, idx, idx.BuildQuery(tc.text))
		assertScores(t, tc.text, got, bm25fReference(t, docs, tc.text))
		share := minCoverage
		if len(textCutterFor(t).queryTerms(tc.text, true)) <= shortQueryTerms {
			share = shortQueryCoverage
		}
		uncredited := bm25fReferenceCovered(t, docs, tc.text, share, false)
		for id, score := range got {
			if gain := score - uncredited[id]; (gain > 1e-6*score) != slices.Contains(tc.gains, id) {
				t.Errorf("%q: %s gains %g from the place code, want gains for %q only", tc.text, id, gain, tc.gains)
			}
		}
		for k := 1; k <= len(docs); k++ {
			ids, err := idx.SearchIDs(tc.text, k)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.SortedFunc(maps.Keys(got), func(a, b string) int { return cmp.Compare(got[b], got[a]) })
			if !slices.Equal(ids, want[:min(k, len(want))]) {
				t.Errorf("SearchIDs(%q, %d) = %q, want %q", tc.text, k, ids, want[:min(k, len(want))])
			}
		}
	}
	const text = "A7县天然气管道没有接通"
	got := searchScores(t, idx, idx.BuildQuery(text))
	if !(got["a7"] > got["none"] && got["none"] > got["k3"]) {
		t.Errorf("%q scores a7 %.3f, none %.3f, k3 %.3f: want them in that order", text, got["a7"], got["none"], got["k3"])
	}
	// Where every document names a place, none is credited, and the one
	// naming A7县 still gains.
	placed := []Doc{docs[0], docs[1], {ID: "b1", Title: "B1县路灯", Body: "B1县小区门口的天然气管道和路灯坏了。"}}
	placedIdx := openTestIndex(t, filepath.Join(t.TempDir(), "placed"))
	if err := placedIdx.Index(placed...); err != nil {
		t.Fatal(err)
	}
	assertScores(t, text+" (all placed)", searchScores(t, placedIdx, placedIdx.BuildQuery(text)), bm25fReference(t, placed, text))
}
