package portal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/input"
	"jindianzi/portal/store"
	"jindianzi/search"
	"jindianzi/static"
	"jindianzi/templates"
)

// pageData is the zero value of each page's data, by template name. Every
// page template must be listed, so a new page is rendered here too.
var pageData = map[string]any{
	"home":     homePage{},
	"login":    loginPage{},
	"error":    errorPage{},
	"campaign": campaignPageData{},
	"submit":   submitPageData{},
	"idea":     ideaPageData{},
	"track":    trackPageData{},
	"my": struct {
		Ideas []myIdea
		Pager pager
	}{},
	"privacy": nil,
	"admin_campaigns": struct {
		Campaigns []store.Campaign
		Pager     pager
		Saved     bool
	}{},
	"admin_campaign_form": campaignFormPage{},
	"moderation":          queuePage{},
	"clusters":            clustersPage{},
	"cluster":             clusterPage{Campaign: &store.Campaign{}},
	"audit":               auditPage{},
	"admin_words":         wordsPage{},
	"admin_dictionary":    dictionaryPage{Reindex: &ReindexState{}},
	"search":              searchPage{Query: url.Values{}, Answer: searchAnswer{Facets: map[string][]search.FacetCount{}}},
	"debates": struct {
		Debates []debateCard
		Pager   pager
	}{},
	"debate": debatePageData{Debate: debateView{Stances: map[string]int64{}}},
	"admin_debate_form": struct {
		Form struct {
			Slug, Title, Question, Background, Theme, Campaign, OpensAt, ClosesAt, Policy, Departments string
		}
		Errors *input.Errors
	}{},
}

func TestTemplatesRender(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseViews(a)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n == "layout.html" || strings.HasPrefix(n, "_") {
			continue
		}
		name := strings.TrimSuffix(n, ".html")
		if _, ok := v.pages[name]; !ok {
			t.Errorf("template %s was not parsed into a page", n)
		}
		if _, ok := pageData[name]; !ok {
			t.Errorf("template %s has no entry in pageData", n)
		}
	}
	if len(v.pages) != len(pageData) {
		t.Errorf("parsed %d pages, pageData lists %d", len(v.pages), len(pageData))
	}

	now := time.Now()
	resident := &store.User{Name: "zhang", DisplayName: "张三", Role: store.RoleResident}
	for name, data := range pageData {
		for _, user := range []*store.User{nil, resident} {
			t.Run(name, func(t *testing.T) {
				tmpl, ok := v.pages[name]
				if !ok {
					t.Fatalf("no page %q", name)
				}
				var buf bytes.Buffer
				p := page{Title: "标题", User: user, CSRF: "tok", Path: "/", Data: data}
				if err := tmpl.ExecuteTemplate(&buf, "layout.html", p); err != nil {
					t.Fatalf("render %s: %v", name, err)
				}
				out := buf.String()
				for _, want := range []string{`<html lang="zh-CN">`, `<meta name="csrf-token" content="tok">`, "标题 - 金点子"} {
					if !strings.Contains(out, want) {
						t.Errorf("render %s: missing %q", name, want)
					}
				}
				if user != nil && !strings.Contains(out, "张三（居民）") {
					t.Errorf("render %s: signed-in user not shown", name)
				}
			})
		}
	}

	// The home page with content exercises the date helpers and both debate states.
	closes := now.Add(48 * time.Hour)
	full := homePage{
		Campaigns: []store.Campaign{
			{Slug: "c1", Title: "城市文明金点子", Description: "说明", Policy: "pre", ClosesAt: &closes},
			{Slug: "c2", Title: "长期征集", Policy: "post"},
		},
		Debates: []debateCard{
			{Debate: store.Debate{Slug: "d1", Title: "讨论一", OpensAt: now.Add(-time.Hour), ClosesAt: closes}, State: "open"},
			{Debate: store.Debate{Slug: "d2", Title: "讨论二", OpensAt: closes, ClosesAt: closes.Add(time.Hour)}, State: "upcoming"},
		},
	}
	var buf bytes.Buffer
	if err := v.pages["home"].ExecuteTemplate(&buf, "layout.html", page{Data: full}); err != nil {
		t.Fatalf("render full home: %v", err)
	}
	for _, want := range []string{"城市文明金点子", "先审后发", "先发后审", "长期征集", "讨论中", "即将开始", `href="/campaigns/c1"`, `href="/debates/d2"`,
		closes.In(chinaTime).Format("2006年1月2日")} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("full home page: missing %q", want)
		}
	}
}

// TestAssetURLs checks that every embedded static file is addressed by the
// hash of its content.
func TestAssetURLs(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"css/app.css", "js/app.js", "img/favicon.svg"} {
		b, err := fs.ReadFile(static.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want := "/static/" + hex.EncodeToString(sum[:])[:12] + "/" + name
		got, err := a.url(name)
		if err != nil || got != want {
			t.Errorf("url(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := a.url("css/missing.css"); err == nil {
		t.Error("url of a missing file: no error")
	}
	for name := range a.files {
		if strings.HasSuffix(name, ".go") {
			t.Errorf("Go source %s is served as a static file", name)
		}
	}
}
