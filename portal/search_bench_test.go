package portal

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// benchMessages is the file BenchmarkSearchAPI imports.
var benchMessages = filepath.Join("..", "..", "shared", "data", "messages.csv")

// BenchmarkSearchAPI measures GET /api/v1/search and GET
// /api/v1/ideas/similar in process (app.Test, one request at a time): the
// search with facets, the hits' rows, snippets and the JSON. The 2,947
// messages of ../shared/data/messages.csv (skipped without it) are
// imported as published ideas and indexed; as TestServeScale asks them,
// the queries are every seventh title's two most telling words, each
// round with one "。" more so that no answer comes from the answer cache,
// and the drafts 200 characters of a body. With -benchmem it reports what
// a request allocates, which sets how often the garbage collector runs
// under load:
//
//	go test ./portal -run '^$' -bench BenchmarkSearchAPI -benchmem -benchtime 2000x
func BenchmarkSearchAPI(b *testing.B) {
	f, err := os.Open(benchMessages)
	if err != nil {
		b.Skipf("no %s: %v", benchMessages, err)
	}
	defer f.Close()
	env := newTestApp(b, testOptions{})
	ctx := context.Background()
	open, closes := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if _, err := campaign.Create(ctx, env.store, campaign.Input{Slug: "bench", Title: "压测活动", Policy: store.PolicyPost,
		OpensAt: &open, ClosesAt: &closes}, store.Actor{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	svc := &ideas.Service{Store: env.store, Moderation: moderation.PolicyOnly{}, Themes: ideas.KeywordSuggester{}}
	rep, err := svc.Import(ctx, f, ideas.ImportOptions{Campaign: "bench", Publish: true})
	if err != nil {
		b.Fatal(err)
	}
	ix := &search.Indexer{Index: env.index, Source: &searchdocs.Loader{Store: env.store}}
	if _, err := ix.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	queries, drafts := benchQueries(b, f)
	if rep.Imported < 2000 || len(queries) < 300 {
		b.Fatalf("imported %d ideas, %d queries", rep.Imported, len(queries))
	}
	get := func(b *testing.B, path string) {
		res, err := env.app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), `":[`) {
			b.Fatalf("GET %s: %d %v %.200s", path, res.StatusCode, err, body)
		}
	}
	b.Run("keywords", func(b *testing.B) {
		i := 0
		for b.Loop() {
			q := queries[i%len(queries)] + strings.Repeat("。", i/len(queries))
			i++
			get(b, "/api/v1/search?q="+url.QueryEscape(q))
		}
	})
	// The similar ideas of a draft: its first 200 characters.
	b.Run("similar", func(b *testing.B) {
		i := 0
		for b.Loop() {
			get(b, "/api/v1/ideas/similar?text="+url.QueryEscape(drafts[i%len(drafts)]))
			i++
		}
	})
}

// benchQueries returns the two most telling words of every seventh title
// of the messages CSV r, and the first 200 characters of the body three
// rows on from each, as TestServeScale makes its queries and drafts.
func benchQueries(b *testing.B, r io.Reader) (queries, drafts []string) {
	b.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	title, body := -1, -1
	for i, name := range rows[0] {
		switch name {
		case "title":
			title = i
		case "body":
			body = i
		}
	}
	if title < 0 || body < 0 {
		b.Fatalf("%s has no title or body column", benchMessages)
	}
	rows = rows[1:]
	for i := 0; i < len(rows); i += 7 {
		if q := seg.KeywordQuery(rows[i][title], 2); q != "" {
			queries = append(queries, q)
		}
		d := []rune(rows[(i+3)%len(rows)][body])
		drafts = append(drafts, string(d[:min(200, len(d))]))
	}
	return queries, drafts
}
