package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

func TestParseQuery(t *testing.T) {
	long := strings.Repeat("停车难", 3334) // 10,002 characters, no spaces
	tests := []struct {
		name, text string
		want       Parsed
	}{
		{"empty", "", Parsed{}},
		{"blank", " \t　\n", Parsed{}},
		{"words", "停车难  老旧小区", Parsed{Words: "停车难 老旧小区"}},
		{"ideographic space", "停车难　老旧小区", Parsed{Words: "停车难 老旧小区"}},
		{"phrase", `"老旧小区" 电梯`, Parsed{Words: "电梯", Phrases: []string{"老旧小区"}}},
		{"phrase trimmed", `" 老旧 小区 "`, Parsed{Phrases: []string{"老旧 小区"}}},
		{"full-width quotes", "“礼让斑马线”停车", Parsed{Words: "停车", Phrases: []string{"礼让斑马线"}}},
		{"corner brackets", "「垃圾分类」 『噪音』", Parsed{Phrases: []string{"垃圾分类", "噪音"}}},
		{"phrase inside a word", `老旧"小区"电梯`, Parsed{Words: "老旧 电梯", Phrases: []string{"小区"}}},
		{"two phrases", `"公交" "地铁"`, Parsed{Phrases: []string{"公交", "地铁"}}},
		{"empty phrase", `"" 停车`, Parsed{Words: "停车"}},
		{"unbalanced quote", `停车 "老旧小区`, Parsed{Words: "停车", Phrases: []string{"老旧小区"}}},
		{"lone quote", `"`, Parsed{}},
		{"exclusion", "停车 -物业", Parsed{Words: "停车", Excluded: []string{"物业"}}},
		{"full-width minus", "停车 －物业", Parsed{Words: "停车", Excluded: []string{"物业"}}},
		{"double minus", "停车 --物业", Parsed{Words: "停车", Excluded: []string{"物业"}}},
		{"lone minus", "停车 -", Parsed{Words: "停车 -"}},
		{"only minus signs", "停车 --", Parsed{Words: "停车 --"}},
		{"minus inside a word", "covid-19", Parsed{Words: "covid-19"}},
		{"excluded phrase", `电梯 -"地铁站"`, Parsed{Words: "电梯", Excluded: []string{"地铁站"}}},
		{"excluded full-width phrase", "电梯 －“地铁站”", Parsed{Words: "电梯", Excluded: []string{"地铁站"}}},
		{"field syntax is text", "status:pending", Parsed{Words: "status:pending"}},
		{"operators are text", "+停车 AND 电梯* theme:交通", Parsed{Words: "+停车 AND 电梯* theme:交通"}},
		{"punctuation", "！？。", Parsed{Words: "！？。"}},
		{"invalid utf-8", "停车\xff\xfe难", Parsed{Words: "停车 难"}},
		{"invalid utf-8 in a phrase", "\"老旧\xff小区\"", Parsed{Phrases: []string{"老旧 小区"}}},
		{"10,000 characters clipped", long, Parsed{Words: string([]rune(long)[:2*maxQueryRunes])}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseQuery(tt.text)
			if got.Words != tt.want.Words || !slices.Equal(got.Phrases, tt.want.Phrases) || !slices.Equal(got.Excluded, tt.want.Excluded) {
				t.Errorf("ParseQuery(%.40q) = %+v, want %+v", tt.text, clipParsed(got), clipParsed(tt.want))
			}
		})
	}
}

func clipParsed(p Parsed) string {
	return fmt.Sprintf("{Words:%.40q Phrases:%q Excluded:%q}", p.Words, p.Phrases, p.Excluded)
}

func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"", "停车难", `"老旧小区" 电梯 -物业`, "“礼让斑马线”", `"unbalanced`, "-", "--", "－", `-"`, `-"物业"`,
		"status:pending", "！？。", "\xff\xfe", "a\x00b", "「『」』", strings.Repeat("长", 600), "e\u0301\u0301",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := ParseQuery(text)
		if !utf8.ValidString(p.Words) {
			t.Errorf("Words %q is not valid UTF-8", p.Words)
		}
		if n := utf8.RuneCountInString(p.Words); n > 2*maxQueryRunes {
			t.Errorf("Words has %d characters", n)
		}
		for _, part := range append(slices.Clone(p.Phrases), p.Excluded...) {
			if !utf8.ValidString(part) {
				t.Errorf("part %q is not valid UTF-8", part)
			}
			if strings.TrimSpace(part) == "" {
				t.Errorf("empty part in %+v", p)
			}
		}
		if phraseQuery(text) == nil {
			t.Error("nil phrase query")
		}
		checkWithoutQuotes(t, text)
	})
}

// checkWithoutQuotes checks WithoutQuotes(text) against ParseQuery: no
// phrase is left, the exclusions are the same, and the words are the old
// words and the phrases' words, in their order.
func checkWithoutQuotes(t *testing.T, text string) {
	t.Helper()
	p := ParseQuery(text)
	got, had := WithoutQuotes(text)
	if had != (len(p.Phrases) > 0) {
		t.Fatalf("WithoutQuotes(%.40q) says phrases %v, ParseQuery found %q", text, had, p.Phrases)
	}
	if !had {
		if got != text {
			t.Errorf("WithoutQuotes(%.40q) changed a query without phrases to %.40q", text, got)
		}
		return
	}
	if utf8.RuneCountInString(text) >= 2*maxQueryRunes-2*len(p.Excluded) {
		return // clipped: ParseQuery of the answer may clip elsewhere
	}
	var want strings.Builder
	scanQuery(text, func(part queryPart) {
		switch part.kind {
		case partWord:
			want.WriteString(part.text)
		case partPhrase:
			for _, w := range strings.FieldsFunc(part.text, func(r rune) bool {
				return unicode.IsSpace(r) || strings.ContainsRune(openQuotes+closeQuotes, r)
			}) {
				want.WriteString(strings.TrimLeftFunc(w, isMinus))
			}
		}
	})
	q := ParseQuery(got)
	if len(q.Phrases) != 0 || !slices.Equal(q.Excluded, p.Excluded) || strings.Join(strings.Fields(q.Words), "") != want.String() {
		t.Errorf("WithoutQuotes(%.40q) = %.60q, which parses to %s; want words %.40q and exclusions %q",
			text, got, clipParsed(q), want.String(), p.Excluded)
	}
}

func TestWithoutQuotes(t *testing.T) {
	tests := []struct {
		text, want string
		had        bool
	}{
		{"老旧小区 电梯", "老旧小区 电梯", false},
		{"居民“很受伤”", "居民很受伤", true},
		{`"老旧小区" 电梯 -物业`, "老旧小区 电梯 -物业", true},
		{"常凝市“砖厂”协会“垄断”是否合理", "常凝市砖厂协会垄断是否合理", true},
		{"--“物业”a", "-- 物业a", true},
		{"“物业”-a", "物业 -a", true},
		{`“大病看不出,感冒吓死人”`, "大病看不出,感冒吓死人", true},
		{`“a「b” -"物业 公司" -“-号”`, `a b -"物业 公司" -"-号"`, true},
		{`停车“ 难 ”`, "停车难", true},
		{`“-物业”`, "物业", true},
		{`"unbalanced`, "unbalanced", true},
		{`""`, `""`, false}, // an empty phrase is no phrase
	}
	for _, tt := range tests {
		got, had := WithoutQuotes(tt.text)
		if got != tt.want || had != tt.had {
			t.Errorf("WithoutQuotes(%q) = %q, %v; want %q, %v", tt.text, got, had, tt.want, tt.had)
		}
		checkWithoutQuotes(t, tt.text)
	}
}

// findDocs is a small corpus with one of each filter's values and enough
// alike documents ("garbage" ones) to page through.
func findDocs() []Doc {
	day := func(m, d int) time.Time { return time.Date(2024, time.Month(m), d, 10, 0, 0, 0, time.UTC) }
	docs := []Doc{
		{ID: "a1", Kind: "idea", Title: "老旧小区加装电梯", Body: "老旧小区没有电梯，老人上下楼很困难，建议政府补贴加装电梯。",
			Theme: "城市建设", Campaign: "c1", Region: "330000", Status: "published", Created: day(3, 1), Supports: 5},
		{ID: "a2", Kind: "idea", Title: "小区管网改造", Body: "我们小区老旧，水管经常爆裂，电梯也常坏。",
			Theme: "城市建设", Campaign: "c1", Region: "110000", Status: "published", Created: day(4, 1), Supports: 20},
		{ID: "a3", Kind: "idea", Title: "公交线路优化", Body: "建议增加夜班公交，方便加班的市民回家。",
			Theme: "交通出行", Campaign: "c2", Region: "330000", Status: "published", Created: day(5, 1), Supports: 12},
		{ID: "a4", Kind: "idea", Title: "地铁站增设电梯", Body: "地铁站出口只有楼梯，推婴儿车很不方便，建议增设电梯。",
			Theme: "交通出行", Campaign: "c2", Region: "110000", Status: "pending", Created: day(6, 1), Supports: 1},
		{ID: "post-1", Kind: "debate_post", Title: "要不要在老旧小区加装电梯", Body: "我支持加装电梯，但是低层住户的利益也要考虑。",
			Theme: "城市建设", Campaign: "debate:dianti", Status: "published", Created: day(7, 1), Supports: 8},
	}
	for i := 1; i <= 12; i++ {
		docs = append(docs, Doc{ID: fmt.Sprintf("g%02d", i), Kind: "idea", Title: "垃圾分类建议",
			Body: "垃圾分类投放点需要更多指引。", Theme: "环境保护", Campaign: "c3", Region: "440000", Status: "published",
			// Pairs share a day and a support count, so ties need the id.
			Created: day(1, 1+i/2), Supports: i / 2})
	}
	return docs
}

func openFindIndex(t *testing.T) *Index { return openFindIndexTB(t) }

// openFindIndexTB is openFindIndex for tests, benchmarks and fuzz targets.
func openFindIndexTB(t testing.TB) *Index {
	t.Helper()
	x := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	if err := x.Index(findDocs()...); err != nil {
		t.Fatal(err)
	}
	return x
}

func hitIDs(res *Result) []string {
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func find(t *testing.T, x *Index, r Request) *Result {
	t.Helper()
	res, err := x.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("Search(%+v): %v", r, err)
	}
	return res
}

func sorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func TestSearchFilters(t *testing.T) {
	x := openFindIndex(t)
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		r    Request
		want []string // sorted
	}{
		{"words", Request{Text: "电梯"}, []string{"a1", "a2", "a4", "post-1"}},
		{"campaign", Request{Text: "电梯", Campaign: "c1"}, []string{"a1", "a2"}},
		{"theme", Request{Theme: "交通出行"}, []string{"a3", "a4"}},
		{"region", Request{Region: "330000"}, []string{"a1", "a3"}},
		{"status", Request{Text: "电梯", Statuses: []string{"published"}}, []string{"a1", "a2", "post-1"}},
		{"statuses", Request{Text: "电梯", Statuses: []string{"pending", "rejected"}}, []string{"a4"}},
		{"kind idea", Request{Text: "电梯", Kind: "idea"}, []string{"a1", "a2", "a4"}},
		{"kind post", Request{Text: "电梯", Kind: "debate_post"}, []string{"post-1"}},
		{"from-to", Request{From: time.Date(2024, 4, 1, 0, 0, 0, 0, cst), To: time.Date(2024, 5, 31, 23, 59, 59, 0, cst)}, []string{"a2", "a3"}},
		{"from only", Request{From: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}, []string{"a4", "post-1"}},
		{"to only, inclusive", Request{To: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), Campaign: "c1"}, []string{"a1"}},
		{"filters combine", Request{Text: "电梯", Theme: "城市建设", Region: "110000", Statuses: []string{"published"}}, []string{"a2"}},
		{"unknown campaign", Request{Campaign: "nope"}, nil},
		// Field syntax is text: it does not select by status.
		{"field syntax", Request{Text: "status:pending"}, nil},
		{"punctuation only", Request{Text: "！？。"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.PerPage = 100
			res := find(t, x, tt.r)
			if got := sorted(hitIDs(res)); !slices.Equal(got, tt.want) {
				t.Errorf("hits %q, want %q", got, tt.want)
			}
			if res.Total != uint64(len(tt.want)) {
				t.Errorf("Total = %d, want %d", res.Total, len(tt.want))
			}
		})
	}
}

func TestSearchPhrasesAndExclusions(t *testing.T) {
	x := openFindIndex(t)
	tests := []struct {
		name, text string
		want       []string // sorted
	}{
		// a2 has 小区老旧 and 小区…老旧: the words match it, the phrase does not.
		{"words", "老旧小区", []string{"a1", "a2", "post-1"}},
		{"phrase", `"老旧小区"`, []string{"a1", "post-1"}},
		{"full-width phrase", "“老旧小区”", []string{"a1", "post-1"}},
		{"phrase and words", `"加装电梯" 老人`, []string{"a1"}},
		{"unbalanced phrase", `"老旧小区`, []string{"a1", "post-1"}},
		{"phrase across words", `"增设电梯"`, []string{"a4"}},
		{"missing phrase", `"电梯老旧"`, nil},
		{"exclusion", "电梯 -地铁", []string{"a1", "a2", "post-1"}},
		{"two exclusions", "电梯 -地铁 -住户", []string{"a1", "a2"}},
		{"excluded phrase", `电梯 -"地铁站"`, []string{"a1", "a2", "post-1"}},
		{"exclusion only", "-垃圾", []string{"a1", "a2", "a3", "a4", "post-1"}},
		{"exclusion matching nothing", "电梯 -火箭", []string{"a1", "a2", "a4", "post-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := find(t, x, Request{Text: tt.text, PerPage: 100})
			if got := sorted(hitIDs(res)); !slices.Equal(got, tt.want) {
				t.Errorf("%s: hits %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestSearchFacets(t *testing.T) {
	x := openFindIndex(t)
	counts := func(res *Result, facet string) map[string]int {
		m := map[string]int{}
		for _, c := range res.Facets[facet] {
			m[c.Term] = c.Count
		}
		return m
	}
	// Facets count every match, not just the page.
	res := find(t, x, Request{Facets: true, PerPage: 2})
	if len(res.Hits) != 2 || res.Total != 17 {
		t.Fatalf("hits %d, total %d; want 2 of 17", len(res.Hits), res.Total)
	}
	want := map[string]map[string]int{
		FieldTheme:    {"城市建设": 3, "交通出行": 2, "环境保护": 12},
		FieldCampaign: {"c1": 2, "c2": 2, "c3": 12, "debate:dianti": 1},
		FieldRegion:   {"330000": 2, "110000": 2, "440000": 12},
		FieldStatus:   {"published": 16, "pending": 1},
		FieldKind:     {"idea": 16, "debate_post": 1},
	}
	for facet, w := range want {
		if got := counts(res, facet); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("facet %s = %v, want %v", facet, got, w)
		}
	}
	// With filters, the counts are of the filtered results.
	res = find(t, x, Request{Text: "电梯", Statuses: []string{"published"}, Facets: true})
	if got, w := counts(res, FieldTheme), map[string]int{"城市建设": 3}; fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("filtered theme facet = %v, want %v", got, w)
	}
	if got, w := counts(res, FieldStatus), map[string]int{"published": 3}; fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("filtered status facet = %v, want %v", got, w)
	}
	// No matches: every facet is present and empty.
	res = find(t, x, Request{Campaign: "nope", Facets: true})
	for _, f := range []string{FieldTheme, FieldCampaign, FieldRegion, FieldStatus, FieldKind} {
		if c, ok := res.Facets[f]; !ok || len(c) != 0 {
			t.Errorf("facet %s with no results = %v (present %v), want empty", f, c, ok)
		}
	}
	// Not asked for: none.
	if res := find(t, x, Request{}); res.Facets != nil {
		t.Errorf("facets without asking: %v", res.Facets)
	}
}

func TestSearchSort(t *testing.T) {
	x := openFindIndex(t)
	tests := []struct {
		name string
		r    Request
		want []string // in order
	}{
		// No text: newest first, whatever the sort says about relevance.
		{"empty query lists newest", Request{PerPage: 5}, []string{"post-1", "a4", "a3", "a2", "a1"}},
		{"empty query, relevance", Request{Sort: SortRelevance, PerPage: 5}, []string{"post-1", "a4", "a3", "a2", "a1"}},
		{"newest", Request{Text: "电梯", Sort: SortNewest}, []string{"post-1", "a4", "a2", "a1"}},
		{"supported", Request{Text: "电梯", Sort: SortSupported}, []string{"a2", "post-1", "a1", "a4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hitIDs(find(t, x, tt.r)); !slices.Equal(got, tt.want) {
				t.Errorf("order %q, want %q", got, tt.want)
			}
		})
	}
	// Ties (g10 and g11 share a day and a support count, as do g08 and
	// g09) come in index order: any, but the same every time.
	for _, sort := range []string{SortSupported, SortNewest} {
		r := Request{Campaign: "c3", Sort: sort, PerPage: 5}
		got := hitIDs(find(t, x, r))
		if len(got) != 5 || got[0] != "g12" || !slices.Equal(sorted(got[1:3]), []string{"g10", "g11"}) ||
			!slices.Equal(sorted(got[3:5]), []string{"g08", "g09"}) {
			t.Errorf("%s with ties: order %q, want g12, then g10 and g11, then g08 and g09", sort, got)
		}
		for range 3 {
			if again := hitIDs(find(t, x, r)); !slices.Equal(again, got) {
				t.Errorf("%s with ties: order %q, then %q", sort, got, again)
			}
		}
	}

	// Relevance: the idea about exactly this ranks first; scores descend.
	res := find(t, x, Request{Text: "老旧小区加装电梯"})
	if len(res.Hits) == 0 || (res.Hits[0].ID != "a1" && res.Hits[0].ID != "post-1") {
		t.Errorf("relevance order %q: want a1 or post-1 first", hitIDs(res))
	}
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Score > res.Hits[i-1].Score {
			t.Errorf("relevance scores not descending: %v", res.Hits)
		}
	}
	if res.Hits[0].Score <= 0 {
		t.Errorf("top score %v, want > 0", res.Hits[0].Score)
	}

	for _, bad := range []string{"oldest", "-created", "_score", "supports desc", "Newest"} {
		if _, err := x.Search(context.Background(), Request{Text: "电梯", Sort: bad}); !errors.Is(err, ErrBadSort) {
			t.Errorf("sort %q: err = %v, want ErrBadSort", bad, err)
		}
	}
}

func TestSearchPaging(t *testing.T) {
	x := openFindIndex(t)
	for _, sort := range []string{SortRelevance, SortNewest, SortSupported} {
		for _, text := range []string{"垃圾分类", ""} {
			t.Run(sort+"/"+text, func(t *testing.T) {
				const n = 5
				top := find(t, x, Request{Text: text, Sort: sort, PerPage: 2 * n})
				p1 := find(t, x, Request{Text: text, Sort: sort, PerPage: n, Page: 1})
				p2 := find(t, x, Request{Text: text, Sort: sort, PerPage: n, Page: 2})
				if len(p1.Hits) != n || len(p2.Hits) != n {
					t.Fatalf("page sizes %d and %d, want %d", len(p1.Hits), len(p2.Hits), n)
				}
				for _, id := range hitIDs(p1) {
					if slices.Contains(hitIDs(p2), id) {
						t.Errorf("%s on both pages: %q and %q", id, hitIDs(p1), hitIDs(p2))
					}
				}
				if got := append(hitIDs(p1), hitIDs(p2)...); !slices.Equal(got, hitIDs(top)) {
					t.Errorf("pages 1+2 = %q, top %d = %q", got, 2*n, hitIDs(top))
				}
				if p1.Total != top.Total || p2.Total != top.Total {
					t.Errorf("totals differ between pages: %d, %d, %d", p1.Total, p2.Total, top.Total)
				}
				// Asking again gives the same page.
				if again := find(t, x, Request{Text: text, Sort: sort, PerPage: n, Page: 2}); !slices.Equal(hitIDs(again), hitIDs(p2)) {
					t.Errorf("page 2 changed: %q then %q", hitIDs(p2), hitIDs(again))
				}
			})
		}
	}

	// Out-of-range paging is clamped, past the end is empty.
	if res := find(t, x, Request{Page: -3, PerPage: 1000}); len(res.Hits) != 17 || res.Total != 17 {
		t.Errorf("page -3 of 1000: %d hits, total %d; want 17 (page 1, 20 a page)", len(res.Hits), res.Total)
	}
	if res := find(t, x, Request{Page: 99, PerPage: 10}); len(res.Hits) != 0 || res.Total != 17 {
		t.Errorf("page 99: %d hits, total %d", len(res.Hits), res.Total)
	}
}

func TestSearchHostileText(t *testing.T) {
	x := openFindIndex(t)
	long := strings.Repeat("老旧小区加装电梯，", 1112) // over 10,000 characters
	for _, text := range []string{long, "！？。", `"老旧小区`, "status:pending", "\xff\xfe电梯", `""""`, "----", "“”「」", "*?~^()"} {
		start := time.Now()
		res, err := x.Search(context.Background(), Request{Text: text, Facets: true, Sort: SortRelevance})
		if err != nil {
			t.Errorf("Search(%.30q): %v", text, err)
			continue
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Search(%.30q) took %v", text, d)
		}
		if text == long && (len(res.Hits) == 0 || res.Hits[0].ID != "a1" && res.Hits[0].ID != "post-1") {
			t.Errorf("long text: hits %q, want a1 or post-1 first", hitIDs(res))
		}
	}
}

// TestPageOnlyMatchesFullSearch checks that the pruned search of PageOnly
// (and SearchIDs, which uses it) returns the very page, ids and scores, that
// Bleve's collector returns from every match, with and without filters, on
// every page.
func TestPageOnlyMatchesFullSearch(t *testing.T) {
	x := openFindIndex(t)
	x.postings.budget, x.postings.minPostings = 1<<30, 1 // as in TestCollectMatchesBleve
	f, err := os.Open(filepath.Join("testdata", "eval.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := readEvalCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	queries := []string{"电梯", "老旧小区加装电梯", "垃圾分类 指引", "公交 地铁 电梯 小区", "A7县老旧小区加装电梯"}
	for i, body := range data.bodies {
		docs = append(docs, Doc{ID: fmt.Sprintf("e%02d", i), Body: body, Campaign: []string{"c1", "c2"}[i%2],
			Status: []string{"published", "pending", "published"}[i%3]})
	}
	for _, q := range data.queries {
		queries = append(queries, q.text)
	}
	// Twice each, so that scores tie.
	if err := x.Index(docs...); err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		docs[i].ID += "-again"
	}
	if err := x.Index(docs...); err != nil {
		t.Fatal(err)
	}
	// A document and its copy tie, and ties come in index order, which a
	// merge between two searches may change: compare them as one.
	twin := func(hits []Hit) []Hit {
		out := slices.Clone(hits)
		for i := range out {
			out[i].ID = strings.TrimSuffix(out[i].ID, "-again")
		}
		return out
	}
	pruned := 0
	for _, q := range queries {
		for _, r := range []Request{
			{Text: q, PerPage: 3},
			{Text: q, PerPage: 3, Page: 2},
			{Text: q, PerPage: 5, Campaign: "c1"},
			{Text: q, PerPage: 4, Statuses: []string{"published"}, Page: 2},
		} {
			full := find(t, x, r)
			r.PageOnly = true
			page := find(t, x, r)
			if !slices.Equal(twin(page.Hits), twin(full.Hits)) {
				t.Errorf("%+v:\n pruned %v\n full   %v", r, page.Hits, full.Hits)
			}
			if page.Total > full.Total {
				t.Errorf("%+v: pruned total %d above the full %d", r, page.Total, full.Total)
			}
			if page.Total < full.Total {
				pruned++
			}
		}
		ids, err := x.SearchIDs(q, 10)
		if err != nil {
			t.Fatal(err)
		}
		full := find(t, x, Request{Text: q, PerPage: 10})
		for i := range ids {
			ids[i] = strings.TrimSuffix(ids[i], "-again")
		}
		if want := hitIDs(&Result{Hits: twin(full.Hits)}); !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
			t.Errorf("SearchIDs(%q) = %q, Search %q", q, ids, want)
		}
	}
	if pruned == 0 {
		t.Error("PageOnly never skipped a match: the threshold is not used")
	}
	if st := x.postings.stats; st.decoded == 0 || st.hits == 0 {
		t.Errorf("decoded postings never used: %+v", st)
	}
}

// TestDraftSearch checks the similar-ideas look-up: a long draft, of which
// only the telling terms are searched, finds the idea it is like.
func TestDraftSearch(t *testing.T) {
	x := openFindIndex(t)
	draft := "我家住在老旧小区的六楼，楼里没有电梯，家里老人腿脚不好，每天上下楼都很吃力，" +
		"听说有的城市给加装电梯发补贴，希望我们这里也能出台政策，让老旧小区都装上电梯，方便大家出行。"
	r := Request{Text: draft, Kind: "idea", Statuses: []string{"published"}, PerPage: 5, PageOnly: true, Draft: true}
	res := find(t, x, r)
	if len(res.Hits) == 0 || res.Hits[0].ID != "a1" {
		t.Fatalf("draft about lifts in old estates: hits %v, want a1 first", res.Hits)
	}
	for _, h := range res.Hits {
		if h.ID == "a4" || h.ID == "post-1" {
			t.Errorf("hit %s is pending or a debate post", h.ID)
		}
	}
	if n := len(ParseQuery(draft).Words); n < 3*draftTerms {
		t.Fatalf("draft too short to test the term limit: %d bytes", n)
	}
	// A draft is prose: its quotes and minus signs are not query syntax,
	// so a quoted word does not have to be in the like ideas and a word
	// after a minus sign does not keep them out; a draft without words
	// finds nothing rather than the newest ideas.
	for _, tc := range []struct {
		draft string
		want  string // first hit; "" for none
	}{
		{"我家住在“老旧小区”的六楼，没有电梯，希望加装电梯，方便老人上下楼", "a1"},
		{"楼里没有电梯 -电梯 老人上下楼很吃力，希望老旧小区加装电梯", "a1"},
		{"“”——！-", ""},
		{"\"\"", ""},
	} {
		r.Text = tc.draft
		res := find(t, x, r)
		got := ""
		if len(res.Hits) > 0 {
			got = res.Hits[0].ID
		}
		if got != tc.want || tc.want == "" && len(res.Hits) > 0 {
			t.Errorf("draft %q: hits %v, want %q first", tc.draft, hitIDs(res), tc.want)
		}
	}
}

// TestDraftKeepsHeaviestTerms checks that a draft's search reads only its
// heaviest terms, chosen by the weights a search of every term gives them,
// over several segments and with documents deleted (which the counts must
// leave out).
func TestDraftKeepsHeaviestTerms(t *testing.T) {
	x := unmergedIndex(t)
	r := snapshotReader(t, x.index)
	text := "老旧小区没有电梯，老人上下楼很困难，建议政府补贴加装电梯，夜班公交也要增加。"
	open := func(max int) *bm25Searcher {
		t.Helper()
		q := &textQuery{text: text, fields: textFields(), boost: 1, maxTerms: max}
		s, err := q.Searcher(context.Background(), r, x.index.Mapping(), search.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.(*bm25Searcher)
	}
	// The reference: every term opened, with its weight.
	all := open(0)
	if len(all.terms) < 10 {
		t.Fatalf("no limit: %d terms searched", len(all.terms))
	}
	weight := map[string]float64{}
	for ti, qt := range all.terms {
		weight[qt.term] = all.weights[ti]
	}
	// The counts the choice is made on are the readers' counts.
	r2 := r.(*scorch.IndexSnapshot)
	for _, f := range textFields() {
		counts, err := termCounts(r2, f.name, all.terms)
		if err != nil {
			t.Fatal(err)
		}
		for ti, qt := range all.terms {
			tfr, err := r.TermFieldReader(context.Background(), []byte(qt.term), f.name, false, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if counts[ti] != tfr.Count() {
				t.Errorf("%s: %q counted in %d documents, %d by its reader", f.name, qt.term, counts[ti], tfr.Count())
			}
			tfr.Close()
		}
	}
	for _, max := range []int{1, 3, 8} {
		bm := open(max)
		if len(bm.terms) != max {
			t.Errorf("limit %d: %d terms searched", max, len(bm.terms))
			continue
		}
		kept := map[string]bool{}
		lightest := math.Inf(1)
		for ti, qt := range bm.terms {
			kept[qt.term] = true
			if bm.weights[ti] != weight[qt.term] {
				t.Errorf("limit %d: %q weighs %v, %v when every term is searched", max, qt.term, bm.weights[ti], weight[qt.term])
			}
			lightest = min(lightest, bm.weights[ti])
		}
		if lightest <= 0 {
			t.Errorf("limit %d: kept a term of no weight", max)
		}
		for _, qt := range all.terms {
			if !kept[qt.term] && weight[qt.term] > lightest {
				t.Errorf("limit %d: dropped %q (weight %v), heavier than a kept term (%v)", max, qt.term, weight[qt.term], lightest)
			}
		}
	}
}

// bleveFilters returns f's keyword filters as Bleve queries, one per
// filtered field (a term, or a disjunction of terms), as Search sent them
// to Bleve before collect checked them against the columns.
func bleveFilters(f filter) []query.Query {
	var out []query.Query
	for i, vs := range f.values {
		var any []query.Query
		for _, v := range vs {
			q := bleve.NewTermQuery(v)
			q.SetField(facetFields[i])
			any = append(any, q)
		}
		switch len(any) {
		case 0:
		case 1:
			out = append(out, any[0])
		default:
			out = append(out, bleve.NewDisjunctionQuery(any...))
		}
	}
	return out
}

// TestCollectMatchesBleve checks Search's own collection (facets from
// columns, filters, pages by relevance, time or support) against Bleve's collector and
// facets on the same query, over an index of several segments.
func TestCollectMatchesBleve(t *testing.T) {
	x := openFindIndex(t)
	// Every term's postings decoded from its second request on (see
	// postingsCache): the first pass reads zap's iterators, the second
	// mostly the decoded postings.
	x.postings.budget, x.postings.minPostings = 1<<30, 1
	more := findDocs()
	for i := range more {
		more[i].ID += "-b"
		more[i].Created = more[i].Created.Add(time.Duration(i) * time.Minute)
	}
	if err := x.Index(more...); err != nil {
		t.Fatal(err)
	}
	for _, r := range slices.Repeat([]Request{
		{Text: "电梯", Facets: true},
		{Text: "老旧小区加装电梯", Facets: true, PerPage: 3, Page: 2},
		{Text: "垃圾分类", Facets: true, Statuses: []string{"published"}},
		{Facets: true, PerPage: 7},
		{Text: "电梯", Sort: SortNewest, Facets: true, PerPage: 4},
		{Sort: SortNewest, Campaign: "c3", PerPage: 5, Page: 2},
		{Text: "电梯", Kind: "idea", Statuses: []string{"published", "pending"}, Facets: true},
		{Text: "电梯 小区", Theme: "城市建设", Region: "330000", Facets: true},
		{Campaign: "c1", Statuses: []string{"published"}, Facets: true},
		{Text: "垃圾", Campaign: "none", Facets: true},
		{Text: "电梯", Sort: SortSupported, Facets: true},
		{Sort: SortSupported, Statuses: []string{"published"}, PerPage: 6, Page: 2},
	}, 2) {
		forgetAnswers(x) // search again, not from the kept answers
		got := find(t, x, r)
		q := bleve.NewBooleanQuery()
		q.AddMust(x.toQuery(r).Query)
		if f := bleveFilters(r.filter()); len(f) > 0 {
			q.AddFilter(bleve.NewConjunctionQuery(f...))
		}
		req := bleve.NewSearchRequestOptions(q, r.PerPage, 0, false)
		if r.PerPage == 0 {
			req.Size = 20
		}
		if r.Page > 1 {
			req.From = (r.Page - 1) * req.Size
		}
		switch {
		case r.Sort == SortSupported:
			req.SortBy([]string{"-" + FieldSupports, "-_score", "-" + FieldCreated})
		case r.Sort == SortNewest || r.Text == "":
			req.SortBy([]string{"-" + FieldCreated})
		}
		for _, f := range facetFields {
			req.AddFacet(f, bleve.NewFacetRequest(f, facetTerms))
		}
		want, err := x.index.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != want.Total {
			t.Errorf("%+v: total %d, Bleve %d", r, got.Total, want.Total)
		}
		var wantIDs []string
		for _, h := range want.Hits {
			wantIDs = append(wantIDs, h.ID)
		}
		if !slices.Equal(hitIDs(got), wantIDs) {
			t.Errorf("%+v: hits %q, Bleve %q", r, hitIDs(got), wantIDs)
		}
		if !r.Facets {
			continue
		}
		for _, f := range facetFields {
			var w []FacetCount
			for _, tf := range want.Facets[f].Terms.Terms() {
				if tf.Term != "" {
					w = append(w, FacetCount{Term: tf.Term, Count: tf.Count})
				}
			}
			if !slices.Equal(got.Facets[f], w) && len(got.Facets[f])+len(w) > 0 {
				t.Errorf("%+v: facet %s %v, Bleve %v", r, f, got.Facets[f], w)
			}
		}
	}
	if st := x.postings.stats; st.decoded == 0 || st.hits == 0 {
		t.Errorf("decoded postings never used: %+v", st)
	}
}

// TestSearchDeepPage checks that a page far beyond the matches, as the API
// allows (page 100,000 of 100), answers at once with no hits and the true
// total, without allocating for the matches that are not there.
func TestSearchDeepPage(t *testing.T) {
	x := openFindIndex(t)
	for _, r := range []Request{
		{Text: "电梯", Page: 100000, PerPage: 100, Facets: true},
		{Page: 100000, PerPage: 100},
		{Text: "电梯", Page: 100000, PerPage: 100, PageOnly: true},
		{Text: "电梯", Sort: SortSupported, Page: 100000, PerPage: 100, Facets: true},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res := find(t, x, r)
		runtime.ReadMemStats(&after)
		if len(res.Hits) != 0 {
			t.Errorf("%+v: %d hits", r, len(res.Hits))
		}
		if res.Total == 0 {
			t.Errorf("%+v: total 0, want the matches counted", r)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%+v: allocated %d MB", r, grew>>20)
		}
	}
}

// FuzzSearch runs whatever a resident may type through the whole search
// (parse, cut, query, collect with facets, highlight) on a small index: it
// must answer without an error, with no more hits than the total says, and
// never show a pending item to a request for published ones.
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{
		"", "电梯", `"老旧小区" 电梯 -物业`, "status:pending 电梯", `"unbalanced`, "----", "！？。", "\xff\xfe电梯",
		"a\x00b", "「『」』", strings.Repeat("长", 600), "*?~^() AND OR NOT", "垃圾分类 g01", "臺灣 ＡＢＣ", "A7县老旧小区电梯", "a市 -电梯 k3区",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	x := openFindIndexTB(f)
	f.Fuzz(func(t *testing.T, text string, newest bool) {
		r := Request{Text: text, Statuses: []string{"published"}, Facets: true, PerPage: 5}
		if newest {
			r.Sort = SortNewest
		}
		res, err := x.Search(context.Background(), r)
		if err != nil {
			t.Fatalf("Search(%.40q): %v", text, err)
		}
		if uint64(len(res.Hits)) > res.Total {
			t.Errorf("Search(%.40q): %d hits, total %d", text, len(res.Hits), res.Total)
		}
		for _, h := range res.Hits {
			if h.ID == "a4" { // the one pending idea
				t.Errorf("Search(%.40q): pending a4 among published", text)
			}
		}
		for _, fc := range res.Facets[FieldStatus] {
			if fc.Term != "published" {
				t.Errorf("Search(%.40q): status facet %q", text, fc.Term)
			}
		}
		// The same text as a draft for the similar-ideas look-up: at most
		// five published ideas, each scored, never the newest unscored.
		res, err = x.Search(context.Background(), Request{Text: text, Statuses: []string{"published"}, PerPage: 5, PageOnly: true, Draft: true})
		if err != nil {
			t.Fatalf("draft %.40q: %v", text, err)
		}
		for _, h := range res.Hits {
			if h.ID == "a4" || h.Score <= 0 || len(res.Hits) > 5 {
				t.Errorf("draft %.40q: hits %+v", text, res.Hits)
			}
		}
		if snippet, spans := Highlight(x.seg, "老旧小区没有电梯，老人上下楼很困难。", text, 10); !utf8.ValidString(snippet) {
			t.Errorf("Highlight for %.40q: %q %v", text, snippet, spans)
		}
	})
}

func TestFilterSpan(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		from, to time.Time
		created  time.Time // zero: no time indexed
		want     bool
	}{
		{"no span, no time", time.Time{}, time.Time{}, time.Time{}, true},
		{"no span", time.Time{}, time.Time{}, day(3), true},
		{"inside", day(2), day(4), day(3), true},
		{"on the first day", day(2), day(4), day(2), true},
		{"on the last instant", day(2), day(4), day(4), true},
		{"before", day(2), day(4), day(1), false},
		{"after", day(2), day(4), day(5), false},
		{"open end", day(2), time.Time{}, day(30), true},
		{"open start", time.Time{}, day(4), day(1), true},
		{"span but no time", day(2), day(4), time.Time{}, false},
		{"from the year 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), day(4), day(3), true},
		{"to the year 3000", day(2), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), day(3), true},
		{"from the year 3000", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, day(3), false},
		{"to the year 1000", time.Time{}, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), day(3), false},
	}
	for _, tt := range tests {
		f := Request{From: tt.from, To: tt.to}.filter()
		var created int64
		if !tt.created.IsZero() {
			created = tt.created.UnixNano()
		}
		if got := f.inSpan(created); got != tt.want {
			t.Errorf("%s: inSpan = %v, want %v", tt.name, got, tt.want)
		}
		if got := f.active(); got != (!tt.from.IsZero() || !tt.to.IsZero()) {
			t.Errorf("%s: active = %v", tt.name, got)
		}
	}
}

// TestDraftWords checks what a draft is searched as: long runs of marks
// cut to two, so that words follow within the query's clip, and the same
// terms as the draft itself (the small file's bodies, and the first 200
// characters of every message when ../shared is there).
func TestDraftWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("-", 600) + "老旧小区没有电梯", "--老旧小区没有电梯"},
		{strings.Repeat("“”", 300) + "电梯", "“”电梯"},
		{"建“军大医院”　并遭业主抵制。）", "建“军大医院”　并遭业主抵制。）"},
		{"电梯！！！\n\n\n加装 -电梯 \"老旧\"", "电梯！！加装 -电梯 \"老旧\""},
		{"\xff\xfe\xfd电梯", "\uFFFD\uFFFD电梯"}, // invalid bytes: replacement characters
		{"", ""},
	} {
		if got := draftWords(tc.in); got != tc.want {
			t.Errorf("draftWords(%.20q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := draftWords(strings.Repeat("-", 600) + "老旧小区没有电梯"); !hasWordRune(clipQuery(got)) {
		t.Errorf("no word within the clip of %q", got)
	}

	data, err := readEvalFile(filepath.Join("testdata", "eval.csv"))
	if err != nil {
		t.Fatal(err)
	}
	texts := data.bodies
	if data, err := readEvalFile(messagesCSV); err == nil {
		for _, b := range data.bodies {
			texts = append(texts, string([]rune(b)[:min(200, utf8.RuneCountInString(b))]))
		}
	}
	cut, err := newTextCutter(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		if a, b := cut.queryTerms(text, true), cut.queryTerms(draftWords(text), true); !slices.Equal(a, b) {
			t.Errorf("%.30q…: terms %v, as a draft %v", text, a, b)
		}
	}
	t.Logf("%d texts cut the same as drafts", len(texts))
}

// unmergedIndex returns an index of findDocs and copies of three of them
// whose segments are never merged (the merge budget of bulkConfig, with
// writes waiting for the disk), so that each Index call stays a segment of
// its own and deletions (a copy and an original) stay in their segments.
func unmergedIndex(t *testing.T) *Index {
	t.Helper()
	seg := testSegmenter(t)
	path := filepath.Join(t.TempDir(), "index")
	idx, err := createIndex(path, nil)
	if err == nil {
		err = idx.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := bulkConfig()
	if err != nil {
		t.Fatal(err)
	}
	if idx, err = bleve.OpenUsing(path, map[string]any{"scorchMergePlanOptions": bulk["scorchMergePlanOptions"]}); err != nil {
		t.Fatal(err)
	}
	x := &Index{seg: seg, path: path, index: idx}
	t.Cleanup(func() { x.Close() })
	if err := x.Index(findDocs()...); err != nil {
		t.Fatal(err)
	}
	for _, d := range findDocs()[:3] {
		d.ID += "-copy"
		if err := x.Index(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Delete("a1-copy", "a2"); err != nil {
		t.Fatal(err)
	}
	snap := snapshotReader(t, x.index).(*scorch.IndexSnapshot)
	deletions := false
	for _, ss := range snap.Segments() {
		deletions = deletions || ss.Deleted() != nil && !ss.Deleted().IsEmpty()
	}
	if len(snap.Segments()) < 2 || !deletions {
		t.Fatalf("want several segments and deletions: %d segments, deletions %v", len(snap.Segments()), deletions)
	}
	return x
}
