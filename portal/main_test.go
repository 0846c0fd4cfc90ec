package portal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/attachment"
	"jindianzi/portal/auth"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
)

// testDataDir holds the jieba dictionaries of the one Segmenter the tests
// share: loading it costs ~150 MB and a second, and OpenSegmenter keeps the
// first instance for the whole process anyway.
var testDataDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jindianzi-portal-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	segOnce sync.Once
	seg     *search.Segmenter
	segErr  error
)

// openTestIndex opens a fresh, empty search index in a temporary directory,
// closed at cleanup.
func openTestIndex(t testing.TB) *search.Index {
	t.Helper()
	segOnce.Do(func() { seg, segErr = search.OpenSegmenter(testDataDir) })
	if segErr != nil {
		t.Fatalf("OpenSegmenter: %v", segErr)
	}
	idx, err := search.OpenIndex(t.TempDir()+"/index", seg)
	if err != nil {
		t.Fatalf("OpenIndex: %v", err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

// testPassword is every test user's password. Its argon2 hash is computed
// once per test binary (each hash costs ~40 ms).
const testPassword = "correct-horse-battery"

var (
	pwOnce sync.Once
	pwHash string
	pwErr  error
)

func testPasswordHash(t testing.TB) string {
	t.Helper()
	pwOnce.Do(func() { pwHash, pwErr = auth.HashPassword(testPassword) })
	if pwErr != nil {
		t.Fatalf("HashPassword: %v", pwErr)
	}
	return pwHash
}

// testOptions tune newTestApp; the zero value is a normal portal.
type testOptions struct {
	LoginLimit int
	Now        func() time.Time
	Log        *slog.Logger
	NoIndex    bool // run without a search index
	// SubmitLimit and TrackLimit override the per-minute rate limits.
	SubmitLimit int
	TrackLimit  int
}

// testEnv is a portal over a real, migrated SQLite store and a real index.
type testEnv struct {
	app   *fiber.App
	h     *handler
	store *store.Store
	index *search.Index
}

func newTestApp(t testing.TB, opts testOptions) *testEnv {
	t.Helper()
	s := storetest.Open(t)
	var idx *search.Index
	if !opts.NoIndex {
		idx = openTestIndex(t)
	}
	log := opts.Log
	if log == nil {
		log = storetest.Logger(t)
	}
	files, err := attachment.NewDir(filepath.Join(t.TempDir(), "attachments"))
	if err != nil {
		t.Fatal(err)
	}
	app, h, err := newApp(Config{
		Store: s, Index: idx, Log: log, Version: "test",
		LoginLimit: opts.LoginLimit, Now: opts.Now, Attachments: files,
		SubmitLimit: opts.SubmitLimit, TrackLimit: opts.TrackLimit,
	})
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	return &testEnv{app: app, h: h, store: s, index: idx}
}

// createUser adds an account whose password is testPassword.
func (e *testEnv) createUser(t *testing.T, name string, role store.Role, department string) *store.User {
	t.Helper()
	u, err := e.store.CreateUser(context.Background(), store.NewUser{
		Name: name, DisplayName: name + "同志", PasswordHash: testPasswordHash(t), Role: role, Department: department,
	})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

// createToken issues an API token for u and returns its secret.
func (e *testEnv) createToken(t *testing.T, u *store.User, mutate func(*store.APIToken)) string {
	t.Helper()
	secret, hash, err := auth.NewSecret("jdz_")
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	tok := &store.APIToken{UserID: u.ID, Name: "test", TokenHash: hash, Prefix: secret[:8], CreatedAt: time.Now().UTC()}
	if mutate != nil {
		mutate(tok)
	}
	if err := e.store.CreateAPIToken(context.Background(), tok); err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return secret
}

// response is a fully read HTTP response.
type response struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

func (r *response) String() string {
	return fmt.Sprintf("%d %v\n%s", r.status, r.header, r.body)
}

// send runs req through the app (no timeout) and reads the whole response.
func send(t *testing.T, app *fiber.App, req *http.Request) *response {
	t.Helper()
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return &response{status: res.StatusCode, header: res.Header, cookies: res.Cookies(), body: string(body)}
}

// client is a browser (or API client) that keeps cookies between requests.
type client struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
	header  http.Header // sent with every request, e.g. Authorization
}

func (e *testEnv) client(t *testing.T) *client {
	return &client{t: t, app: e.app, cookies: map[string]string{}, header: http.Header{}}
}

// do sends a request; a non-nil form is sent form-encoded.
func (c *client) do(method, target string, form url.Values, header http.Header) *response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationForm)
	}
	return c.send(req, header)
}

// send sends a prepared request with the client's headers, the extra
// header and its cookies, and keeps the cookies the response sets.
func (c *client) send(req *http.Request, header http.Header) *response {
	c.t.Helper()
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	res := send(c.t, c.app, req)
	for _, ck := range res.cookies {
		if ck.Value == "" || ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return res
}

func (c *client) get(target string) *response {
	c.t.Helper()
	return c.do(http.MethodGet, target, nil, nil)
}

func (c *client) post(target string, form url.Values) *response {
	c.t.Helper()
	return c.do(http.MethodPost, target, form, nil)
}

var (
	csrfInputRE = regexp.MustCompile(`<input type="hidden" name="_csrf" value="([^"]*)">`)
	csrfMetaRE  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)
)

// csrfFrom returns the CSRF token of a rendered page, checking that the
// hidden input (if any) and the meta tag agree.
func csrfFrom(t *testing.T, page string) string {
	t.Helper()
	m := csrfMetaRE.FindStringSubmatch(page)
	if m == nil || m[1] == "" {
		t.Fatalf("no csrf-token meta tag in page:\n%s", page)
	}
	for _, in := range csrfInputRE.FindAllStringSubmatch(page, -1) {
		if in[1] != m[1] {
			t.Fatalf("hidden _csrf %q differs from meta csrf-token %q", in[1], m[1])
		}
	}
	return m[1]
}

// csrf loads page and returns its CSRF token (setting the jdz_csrf cookie).
func (c *client) csrf(page string) string {
	c.t.Helper()
	res := c.get(page)
	if res.status != fiber.StatusOK {
		c.t.Fatalf("GET %s: %s", page, res)
	}
	tok := csrfFrom(c.t, res.body)
	if c.cookies[csrfCookie] != tok {
		c.t.Fatalf("%s cookie %q does not match the page's token %q", csrfCookie, c.cookies[csrfCookie], tok)
	}
	return tok
}

// login signs in through the form, as a browser does.
func (c *client) login(name, password, next string) *response {
	c.t.Helper()
	tok := c.csrf("/login")
	form := url.Values{"_csrf": {tok}, "name": {name}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	return c.post("/login", form)
}

// mustLogin signs in and fails the test unless a session cookie was set.
func (c *client) mustLogin(name string) {
	c.t.Helper()
	res := c.login(name, testPassword, "")
	if res.status != fiber.StatusSeeOther || c.cookies[sessionCookie] == "" {
		c.t.Fatalf("login %s: %s", name, res)
	}
}

// lockedWriter is a log sink tests can read while the app writes to it.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
