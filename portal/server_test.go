package portal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

func TestNewNeedsStore(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store: no error")
	}
}

// checkSecurityHeaders asserts the headers every response carries.
func checkSecurityHeaders(t *testing.T, res *response) {
	t.Helper()
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := res.header.Get("X-Frame-Options"); got == "" {
		t.Error("X-Frame-Options missing")
	}
	if got := res.header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("Referrer-Policy = %q, want same-origin", got)
	}
	if res.header.Get("X-Request-Id") == "" {
		t.Error("X-Request-Id missing")
	}
}

var cssLinkRE = regexp.MustCompile(`<link rel="stylesheet" href="(/static/([0-9a-f]{12})/css/app\.css)">`)

func TestHomeAndStatic(t *testing.T) {
	e := newTestApp(t, testOptions{})
	c := e.client(t)

	res := c.get("/")
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /: %s", res)
	}
	if ct := res.header.Get(fiber.HeaderContentType); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	checkSecurityHeaders(t, res)
	for _, want := range []string{`lang="zh-CN"`, "正在征集", "主题大讨论",
		// The store has no way yet to add a campaign or debate, so the home
		// page shows its empty states.
		"目前没有正在征集的活动", "目前没有进行中的大讨论",
		`href="/login"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "退出登录") {
		t.Error("a visitor sees the logout button")
	}
	// The CSP forbids inline scripts and styles: the page must not need any.
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(res.body, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("inline script %q would be blocked by the CSP", tag)
		}
	}
	if strings.Contains(res.body, "<style") || strings.Contains(res.body, ` style="`) {
		t.Error("inline style would be blocked by the CSP")
	}
	m := cssLinkRE.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no hashed app.css link in home page:\n%s", res.body)
	}
	cssURL, hash := m[1], m[2]
	if want, _ := e.h.assets.url("css/app.css"); want != cssURL {
		t.Errorf("css link %q, want %q", cssURL, want)
	}

	wrongHash := "000000000000"
	if hash == wrongHash {
		wrongHash = "111111111111"
	}
	tests := []struct {
		name, path    string
		status        int
		contentType   string // prefix
		immutable     bool
		bodyNonEmpty  bool
		checkCacheHdr bool
	}{
		{"current hash", cssURL, 200, "text/css", true, true, true},
		{"old hash still served", "/static/" + wrongHash + "/css/app.css", 200, "text/css", false, true, true},
		{"script", mustURL(t, e, "js/app.js"), 200, "", true, true, true},
		{"image", mustURL(t, e, "img/favicon.svg"), 200, "image/svg+xml", true, true, true},
		{"unknown file", "/static/" + hash + "/css/nope.css", 404, "text/html", false, true, false},
		{"no path escape", "/static/" + hash + "/../embed.go", 404, "", false, false, false},
		{"go source not served", "/static/" + hash + "/embed.go", 404, "text/html", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.get(tt.path)
			if res.status != tt.status {
				t.Fatalf("GET %s: status %d, want %d", tt.path, res.status, tt.status)
			}
			if ct := res.header.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %q…", ct, tt.contentType)
			}
			if tt.name == "script" && !strings.Contains(res.header.Get(fiber.HeaderContentType), "javascript") {
				t.Errorf("app.js Content-Type = %q", res.header.Get(fiber.HeaderContentType))
			}
			cc := res.header.Get(fiber.HeaderCacheControl)
			if got := strings.Contains(cc, "immutable"); got != tt.immutable {
				t.Errorf("Cache-Control = %q, immutable %v, want %v", cc, got, tt.immutable)
			}
			if tt.checkCacheHdr && !tt.immutable && cc != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", cc)
			}
			if tt.bodyNonEmpty && res.body == "" {
				t.Error("empty body")
			}
			if tt.status == 404 && strings.HasPrefix(tt.contentType, "text/html") && !strings.Contains(res.body, "页面不存在") {
				t.Errorf("404 page lacks 页面不存在:\n%s", res.body)
			}
			checkSecurityHeaders(t, res)
		})
	}
}

func mustURL(t *testing.T, e *testEnv, name string) string {
	t.Helper()
	u, err := e.h.assets.url(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// healthBody decodes /healthz into a map so unexpected fields are visible.
func healthBody(t *testing.T, res *response) Healthz {
	t.Helper()
	var h Healthz
	if err := json.Unmarshal([]byte(res.body), &h); err != nil {
		t.Fatalf("healthz body %q: %v", res.body, err)
	}
	return h
}

func TestHealthz(t *testing.T) {
	e := newTestApp(t, testOptions{})
	c := e.client(t)

	res := c.get("/healthz")
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /healthz: %s", res)
	}
	if ct := res.header.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.header.Get(fiber.HeaderCacheControl); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	h := healthBody(t, res)
	if h.Status != "ok" || h.Version != "test" || h.Database.Status != "ok" || h.Database.Dialect != string(store.SQLite) ||
		h.Database.SchemaVersion < 1 || h.Database.SchemaVersion != store.LatestVersion() || h.Database.Error != "" {
		t.Errorf("healthy database: %+v", h)
	}
	if h.Index.Status != "ok" || h.Index.Docs != 0 || h.Index.MappingVersion != search.MappingVersion || h.Index.NeedsRebuild {
		t.Errorf("healthy index: %+v", h.Index)
	}
	indexPath := e.index.Path()
	if strings.Contains(res.body, indexPath) || strings.Contains(res.body, "path") {
		t.Errorf("healthz reveals the index path: %s", res.body)
	}

	// A closed index is reported, without its error text or path; the
	// database still answers, so the portal is still up.
	if err := e.index.Close(); err != nil {
		t.Fatal(err)
	}
	res = c.get("/healthz")
	h = healthBody(t, res)
	if res.status != fiber.StatusOK || h.Status != "ok" || h.Index.Status != "error" {
		t.Errorf("closed index: %d %+v", res.status, h)
	}
	if strings.Contains(res.body, indexPath) || strings.Contains(res.body, "closed") {
		t.Errorf("healthz reveals the index error: %s", res.body)
	}

	// A closed database is 503, without the driver's error text.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	res = c.get("/healthz")
	if res.status != fiber.StatusServiceUnavailable {
		t.Fatalf("closed database: %s", res)
	}
	h = healthBody(t, res)
	if h.Status == "ok" || h.Database.Status == "ok" || h.Database.Error == "" {
		t.Errorf("closed database: %+v", h)
	}
	for _, leak := range []string{"sql:", "closed", "/tmp", ".db"} {
		if strings.Contains(res.body, leak) {
			t.Errorf("healthz body reveals %q: %s", leak, res.body)
		}
	}
}

func TestHealthzWithoutIndex(t *testing.T) {
	e := newTestApp(t, testOptions{NoIndex: true})
	res := e.client(t).get("/healthz")
	h := healthBody(t, res)
	if res.status != fiber.StatusOK || h.Status != "ok" || h.Index.Status != "missing" {
		t.Errorf("no index: %d %+v", res.status, h)
	}
}

// errorJSON is the only shape API errors may have.
func errorJSON(t *testing.T, res *response) (code, message string) {
	t.Helper()
	if ct := res.header.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.body), &top); err != nil {
		t.Fatalf("error body %q: %v", res.body, err)
	}
	if len(top) != 1 || top["error"] == nil {
		t.Fatalf("error body %s: want exactly {\"error\":…}", res.body)
	}
	var inner map[string]string
	if err := json.Unmarshal(top["error"], &inner); err != nil {
		t.Fatalf("error object %s: %v", top["error"], err)
	}
	if len(inner) != 2 || inner["code"] == "" || inner["message"] == "" {
		t.Fatalf("error object %s: want exactly code and message", top["error"])
	}
	return inner["code"], inner["message"]
}

// secret is internal error text that must never reach a client.
const secret = "sql: database is closed at /var/lib/jindianzi/portal.db"

func TestErrors(t *testing.T) {
	logs := &lockedWriter{}
	e := newTestApp(t, testOptions{Log: slog.New(slog.NewTextHandler(logs, nil))})
	// Routes registered after New must still be reachable (no catch-all).
	e.app.Get("/api/v1/test-panic", func(c *fiber.Ctx) error { panic(secret) })
	e.app.Get("/test-panic", func(c *fiber.Ctx) error { panic(errors.New(secret)) })
	e.app.Get("/api/v1/test-fail", func(c *fiber.Ctx) error { return fmt.Errorf("store: list: %w", errors.New(secret)) })
	e.app.Get("/test-fail", func(c *fiber.Ctx) error { return fmt.Errorf("store: list: %w", errors.New(secret)) })
	e.app.Get("/api/v1/test-gone", func(c *fiber.Ctx) error { return fmt.Errorf("store: idea 7: %w", store.ErrNotFound) })
	e.app.Get("/api/v1/test-user-error", func(c *fiber.Ctx) error {
		return &Error{Status: 422, Code: "invalid_title", Message: "标题不能为空", Err: errors.New(secret)}
	})

	tests := []struct {
		method, path string
		status       int
		api          bool
		code         string // API error code
		text         string // in the HTML page or the API message
	}{
		{"GET", "/no/such/page", 404, false, "", "页面不存在"},
		{"GET", "/api/v1/nope", 404, true, "not_found", "您访问的页面不存在或已被删除"},
		{"GET", "/api/v1/test-gone", 404, true, "not_found", "您访问的页面不存在或已被删除"},
		{"GET", "/api/v1/test-panic", 500, true, "internal", "服务器内部错误，请稍后再试"},
		{"GET", "/test-panic", 500, false, "", "服务器内部错误，请稍后再试"},
		{"GET", "/api/v1/test-fail", 500, true, "internal", "服务器内部错误，请稍后再试"},
		{"GET", "/test-fail", 500, false, "", "系统繁忙"},
		{"GET", "/api/v1/test-user-error", 422, true, "invalid_title", "标题不能为空"},
		{"POST", "/api/v1/me", 405, true, "method_not_allowed", "不支持该请求方式"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := send(t, e.app, httptest.NewRequest(tt.method, tt.path, nil))
			if res.status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.status, tt.status, res.body)
			}
			checkSecurityHeaders(t, res)
			if tt.api {
				code, msg := errorJSON(t, res)
				if code != tt.code || msg != tt.text {
					t.Errorf("error = %q %q, want %q %q", code, msg, tt.code, tt.text)
				}
			} else {
				if ct := res.header.Get(fiber.HeaderContentType); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				rid := res.header.Get("X-Request-Id")
				for _, want := range []string{tt.text, `lang="zh-CN"`, "返回首页", "<code>" + rid + "</code>"} {
					if !strings.Contains(res.body, want) {
						t.Errorf("error page lacks %q:\n%s", want, res.body)
					}
				}
			}
			for _, leak := range []string{"sql:", "/var/lib", "portal.db", "store:", "Cannot ", "goroutine", ".go:"} {
				if strings.Contains(res.body, leak) {
					t.Errorf("response reveals %q:\n%s", leak, res.body)
				}
			}
		})
	}

	// The cause of a 500 goes to the log, with the request id the page shows.
	res := send(t, e.app, httptest.NewRequest("GET", "/api/v1/test-fail", nil))
	rid := res.header.Get("X-Request-Id")
	if log := logs.String(); !strings.Contains(log, "request_id="+rid) || !strings.Contains(log, "database is closed") {
		t.Errorf("the log lacks the failure of request %s:\n%s", rid, log)
	}
}

func TestHomeListsOpenCampaigns(t *testing.T) {
	now := time.Date(2025, 5, 10, 4, 0, 0, 0, time.UTC)
	e := newTestApp(t, testOptions{Now: func() time.Time { return now }})
	ctx := context.Background()
	closes := now.Add(20 * 24 * time.Hour)
	past := now.Add(-24 * time.Hour)
	for _, c := range []*store.Campaign{
		{Slug: "wenming-2025", Title: "文明城市金点子征集", Description: "请为城市文明建设建言", Status: store.CampaignOpen, Policy: store.PolicyPre, ClosesAt: &closes},
		{Slug: "changqi", Title: "长期意见箱", Status: store.CampaignOpen, Policy: store.PolicyPost},
		{Slug: "caogao", Title: "草稿活动", Status: store.CampaignDraft, Policy: store.PolicyPre},
		{Slug: "yijieshu", Title: "已截止活动", Status: store.CampaignOpen, Policy: store.PolicyPre, ClosesAt: &past},
	} {
		if err := e.store.CreateCampaign(ctx, c, nil, store.ActorFor(nil, "")); err != nil {
			t.Fatalf("CreateCampaign %s: %v", c.Slug, err)
		}
	}
	// The store has no way to add a debate yet, so only campaigns are checked.

	res := e.client(t).get("/")
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /: %s", res)
	}
	for _, want := range []string{
		`<a href="/campaigns/wenming-2025">文明城市金点子征集</a>`, "请为城市文明建设建言", "先审后发",
		// html/template writes the "+" of the offset as &#43; in attributes.
		`<time datetime="2025-05-30T12:00:00&#43;08:00">2025年5月30日</time>`,
		`<a href="/campaigns/changqi">长期意见箱</a>`, "长期征集", "先发后审",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	for _, hidden := range []string{"草稿活动", "已截止活动", "目前没有正在征集的活动"} {
		if strings.Contains(res.body, hidden) {
			t.Errorf("home page shows %q", hidden)
		}
	}
	// Soonest closing first, open-ended last.
	if i, j := strings.Index(res.body, "文明城市金点子征集"), strings.Index(res.body, "长期意见箱"); i > j {
		t.Error("open-ended campaign listed before the one with a deadline")
	}
}

// TestRequestTooLong checks that a request line longer than the read buffer
// gets a 431 with a message in Chinese, not a dropped connection or a 500.
func TestRequestTooLong(t *testing.T) {
	env := newTestApp(t, testOptions{})
	base := listen(t, env.app)
	long := strings.Repeat("电梯", readBufferSize/9+1) // more than readBufferSize once percent-encoded
	res, err := getWhileWriting(base, "/search?q="+url.QueryEscape(long))
	if err != nil {
		t.Fatalf("GET a %d-byte URL: %v", 9*len([]rune(long)), err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != fiber.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(body), "请缩短搜索词") {
		t.Errorf("status %d, body %.200q; want 431 with a Chinese message", res.StatusCode, body)
	}
}

// getWhileWriting sends GET target to the server at base (http://host:port)
// and reads the answer while the request is still being written. The
// server answers an oversized request before it has read all of it and
// then closes the connection; net/http's client, which reads only after
// writing, then fails now and then with "connection reset by peer" on the
// write instead of returning the answer.
func getWhileWriting(base, target string) (*http.Response, error) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return nil, err
	}
	go func() {
		// A failed write is expected: the answer is what counts.
		_, _ = io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{res.Body, conn}
	return res, nil
}

// TestHealthzIndexLag checks that /healthz counts the outbox events the
// indexer has not applied yet, and none once it has caught up.
func TestHealthzIndexLag(t *testing.T) {
	f := newSearchFixture(t)
	f.h.cfg.Indexer = &search.Indexer{Index: f.index, Source: &searchdocs.Loader{Store: f.store}}
	lag := func() int64 {
		t.Helper()
		res := f.visitor.get("/healthz")
		var h Healthz
		if err := json.Unmarshal([]byte(res.body), &h); err != nil || res.status != fiber.StatusOK {
			t.Fatalf("GET /healthz: %s (%v)", res, err)
		}
		return h.Index.Lag
	}
	if n := lag(); n != 0 {
		t.Errorf("lag %d after catching up, want 0", n)
	}
	f.idea("jiedao", "城市管理", "小区门口路灯不亮", "小区门口的路灯坏了三个月，晚上很黑，建议尽快维修。")
	f.idea("jiedao", "交通出行", "新小区附近增设公交站", "新小区附近没有公交站，建议增设一个站点。")
	if n := lag(); n < 2 {
		t.Errorf("lag %d with two new ideas not indexed, want at least 2", n)
	}
	f.catchUp()
	if n := lag(); n != 0 {
		t.Errorf("lag %d after catching up again, want 0", n)
	}
}
