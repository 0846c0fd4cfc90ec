// Package portal is the Fiber web application: routes, handlers for HTML pages
// and the /api/v1 JSON API, sessions, roles, CSRF and rate limits. Handlers
// parse the request, call the store, search or moderation, and render; the
// domain logic lives in those packages.
package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/auth"
	"jindianzi/portal/debate"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/wordlist"
	"jindianzi/search"
)

// Config is what the portal needs to serve.
type Config struct {
	Store *store.Store
	Index *search.Index
	// Indexer feeds the index from the outbox; /healthz reports its lag.
	Indexer *search.Indexer
	Log     *slog.Logger
	// Version is shown by /healthz.
	Version string
	// CookieSecure marks cookies Secure; set it when the site is served over HTTPS.
	CookieSecure bool
	// ProxyHeader names the header holding the client's address (e.g.
	// X-Forwarded-For) when the portal runs behind a reverse proxy; it is only
	// trusted from TrustedProxies.
	ProxyHeader    string
	TrustedProxies []string
	// LoginLimit is how many sign-in attempts one address may make per
	// LoginWindow (defaults: 20 per 5 minutes).
	LoginLimit  int
	LoginWindow time.Duration
	// SubmitLimit is how many ideas or comments one address may post per
	// minute (default 20); TrackLimit how many tracking-code lookups (default 30).
	SubmitLimit int
	TrackLimit  int
	// Moderation judges submissions (default: the campaign policy alone).
	Moderation moderation.Checker
	// Themes suggests a theme for ideas submitted without one (default: seed keywords).
	Themes ideas.ThemeSuggester
	// Words is the editable moderation word list behind the pipeline's
	// matcher; nil hides the word-list admin page.
	Words *wordlist.List
	// Reindexer rebuilds the search index in the background after admins
	// add words to the search dictionary (/admin/dictionary); nil means the
	// ideas indexed before keep their old segmentation until the next
	// `jindianzi reindex`.
	Reindexer Reindexer
	// Attachments stores files residents attach (required to accept files).
	Attachments attachment.Storage
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// handler holds the dependencies every route shares.
type handler struct {
	cfg     Config
	store   *store.Store
	index   *search.Index
	log     *slog.Logger
	views   *views
	assets  *assets
	auth    *auth.Authenticator
	ideas   *ideas.Service
	debates *debate.Service
	now     func() time.Time
	members *clusterIndex // which ideas belong to which hot-issue cluster
}

const (
	sessionCookie  = "jdz_session"
	csrfCookie     = "jdz_csrf"
	csrfContextKey = "csrf"
	sessionTTL     = 7 * 24 * time.Hour
)

// New builds the Fiber app with every route and middleware.
func New(cfg Config) (*fiber.App, error) {
	app, _, err := newApp(cfg)
	return app, err
}

// newApp is New that also returns the handler, so tests in this package can
// mount extra routes (behind requireRole, say) on the full middleware stack.
func newApp(cfg Config) (*fiber.App, *handler, error) {
	if cfg.Store == nil {
		return nil, nil, errors.New("portal: no store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LoginLimit == 0 {
		cfg.LoginLimit = 20
	}
	if cfg.LoginWindow == 0 {
		cfg.LoginWindow = 5 * time.Minute
	}
	if cfg.SubmitLimit == 0 {
		cfg.SubmitLimit = 20
	}
	if cfg.TrackLimit == 0 {
		cfg.TrackLimit = 30
	}
	if cfg.Moderation == nil {
		cfg.Moderation = moderation.PolicyOnly{}
	}
	if cfg.Themes == nil {
		cfg.Themes = ideas.KeywordSuggester{}
	}
	if cfg.Attachments == nil {
		return nil, nil, errors.New("portal: no attachment storage")
	}
	a, err := loadAssets()
	if err != nil {
		return nil, nil, err
	}
	v, err := parseViews(a)
	if err != nil {
		return nil, nil, err
	}
	h := &handler{
		cfg: cfg, store: cfg.Store, index: cfg.Index, log: cfg.Log, views: v, assets: a,
		auth: &auth.Authenticator{Store: cfg.Store, Now: cfg.Now},
		now:  func() time.Time { return cfg.Now().UTC() },
	}
	h.ideas = &ideas.Service{Store: cfg.Store, Moderation: cfg.Moderation, Themes: cfg.Themes,
		Attachments: cfg.Attachments, Now: h.now}
	h.debates = &debate.Service{Store: cfg.Store, Moderation: cfg.Moderation, Now: h.now}
	h.members = newClusterIndex()
	app := fiber.New(fiber.Config{
		// Fiber hands out strings that alias its reusable buffers; Immutable
		// copies them, so values kept after a handler returns stay correct.
		Immutable:               true,
		AppName:                 "jindianzi",
		ErrorHandler:            h.errorHandler,
		BodyLimit:               20 << 20, // three 5 MB attachments plus the form
		ReadBufferSize:          readBufferSize,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		ProxyHeader:             cfg.ProxyHeader,
		EnableTrustedProxyCheck: cfg.ProxyHeader != "",
		TrustedProxies:          cfg.TrustedProxies,
	})

	// Order matters: the request id comes first so every later line can carry
	// it; the access log wraps recover so a panic is logged as a 500.
	app.Use(requestid.New(requestid.Config{ContextKey: "requestid"}))
	app.Use(h.accessLog)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: h.logPanic}))
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
			"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		ReferrerPolicy:            "same-origin",
		PermissionPolicy:          "geolocation=(), camera=(), microphone=()",
		CrossOriginEmbedderPolicy: "unsafe-none",
	}))
	app.Use(compress.New())

	app.Get("/healthz", h.health)
	app.Get("/static/:hash/*", a.serve)

	app.Use(h.loadUser)
	app.Use(csrf.New(csrf.Config{
		Next:           h.skipCSRF,
		CookieName:     csrfCookie,
		CookieSameSite: "Lax",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.CookieSecure,
		Expiration:     12 * time.Hour,
		Storage:        cfg.Store.KV("csrf:"),
		ContextKey:     csrfContextKey,
		KeyLookup:      "form:_csrf",
		Extractor:      csrfFromFormOrHeader,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return userError(fiber.StatusForbidden, "csrf_failed", "页面已过期或来源无法验证，请刷新页面后重新提交")
		},
	}))

	app.Get("/", h.home)
	app.Get("/login", h.loginForm)
	app.Post("/login", limiter.New(limiter.Config{
		Max:          cfg.LoginLimit,
		Expiration:   cfg.LoginWindow,
		Storage:      cfg.Store.KV("rl:login:"),
		KeyGenerator: func(c *fiber.Ctx) string { return c.IP() },
		LimitReached: func(c *fiber.Ctx) error {
			return userError(fiber.StatusTooManyRequests, "rate_limited", "登录尝试过于频繁，请 5 分钟后再试")
		},
	}), h.login)
	app.Post("/logout", h.logout)

	h.routes(app)

	// No catch-all route: a request nothing matches falls off the end of the
	// middleware chain as Fiber's own 404 (or 405), which errorHandler turns
	// into the Chinese page or the JSON error like any other. A catch-all
	// here would also shadow every route registered after New.
	return app, h, nil
}

// accessLog writes one structured line per request. It runs the error handler
// itself so the logged status is the one the client got.
func (h *handler) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	rid, _ := c.Locals("requestid").(string)
	h.log.Info("http",
		"method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(),
		"ms", float64(time.Since(start).Microseconds())/1000, "bytes", len(c.Response().Body()),
		"ip", c.IP(), "request_id", rid)
	return nil
}

func (h *handler) logPanic(c *fiber.Ctx, e any) {
	rid, _ := c.Locals("requestid").(string)
	h.log.Error("panic", "request_id", rid, "path", c.Path(), "panic", fmt.Sprint(e))
}

// skipCSRF exempts requests that carry no ambient credentials: bearer-token
// API calls, and API calls without a session cookie. HTML forms are always
// checked.
func (h *handler) skipCSRF(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ") {
		return true
	}
	return isAPI(c) && c.Cookies(sessionCookie) == ""
}

func csrfFromFormOrHeader(c *fiber.Ctx) (string, error) {
	if v := c.FormValue("_csrf"); v != "" {
		return v, nil
	}
	if v := c.Get(csrf.HeaderName); v != "" {
		return v, nil
	}
	return "", errors.New("missing csrf token")
}

// Healthz is the body of GET /healthz.
type Healthz struct {
	Status   string         `json:"status"`
	Version  string         `json:"version"`
	Database DatabaseHealth `json:"database"`
	Index    IndexHealth    `json:"index"`
}

// IndexHealth reports on the search index (without its filesystem path).
type IndexHealth struct {
	Status         string `json:"status"`
	Docs           uint64 `json:"docs"`
	Lag            int64  `json:"lag"` // outbox events not yet indexed
	MappingVersion int    `json:"mapping_version"`
	NeedsRebuild   bool   `json:"needs_rebuild"`
}

// DatabaseHealth reports whether the database answers.
type DatabaseHealth struct {
	Status        string `json:"status"`
	Dialect       string `json:"dialect"`
	SchemaVersion int    `json:"schema_version"`
	Error         string `json:"error,omitempty"`
}

// health answers 200 when the database answers and 503 when it does not.
func (h *handler) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	out := Healthz{Status: "ok", Version: h.cfg.Version,
		Database: DatabaseHealth{Status: "ok", Dialect: string(h.store.Dialect())}}
	if err := h.store.Ping(ctx); err != nil {
		out.Status, out.Database.Status, out.Database.Error = "unavailable", "down", "database unreachable"
		h.log.Warn("health: database down", "err", err)
	} else if v, err := h.store.SchemaVersion(ctx); err != nil {
		out.Status, out.Database.Status, out.Database.Error = "unavailable", "down", "schema unreadable"
	} else {
		out.Database.SchemaVersion = v
	}
	out.Index = IndexHealth{Status: "missing"}
	if h.index != nil {
		st := h.index.Status()
		out.Index = IndexHealth{Status: "ok", Docs: st.Docs, MappingVersion: st.MappingVersion, NeedsRebuild: st.NeedsRebuild}
		if st.Err != "" {
			out.Index.Status = "error"
			h.log.Warn("health: index", "err", st.Err)
		}
		if h.cfg.Indexer != nil && out.Database.Status == "ok" {
			if lag, err := h.cfg.Indexer.Lag(ctx); err == nil {
				out.Index.Lag = lag
			}
		}
	}
	if out.Status != "ok" {
		c.Status(fiber.StatusServiceUnavailable)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// readBufferSize is each connection's buffer for reading a request, which
// bounds the request line and headers (Fiber's default is 4 KB): a search
// or similar-ideas URL with a query of 10,000 Chinese characters is about
// 90 KB once percent-encoded. Longer requests get a 431 with a Chinese
// message.
const readBufferSize = 128 << 10
