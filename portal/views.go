package portal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/store"
	"jindianzi/static"
	"jindianzi/templates"
)

// China keeps one time zone and no daylight saving, so a fixed zone is exact
// and needs no tzdata on the server.
var chinaTime = time.FixedZone("CST", 8*3600)

// assets are the embedded static files, loaded once, with their content hashes.
type assets struct {
	files map[string]asset // by path, e.g. "css/app.css"
}

type asset struct {
	body        []byte
	hash        string
	contentType string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[p] = asset{body: b, hash: hex.EncodeToString(sum[:])[:12], contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portal: load static files: %w", err)
	}
	return a, nil
}

// url is the cache-busting address of a static file: its hash is part of the
// path, so a changed file gets a new URL and old ones can be cached for ever.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("portal: no static file %q", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

// serve answers /static/:hash/*. A current hash is cached for a year; an old
// one still gets the current file, but without long caching.
func (a *assets) serve(c *fiber.Ctx) error {
	name := c.Params("*")
	f, ok := a.files[name]
	if !ok {
		return fiber.ErrNotFound
	}
	if c.Params("hash") == f.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// views holds every page template, parsed once at start.
type views struct {
	pages map[string]*template.Template
}

func parseViews(a *assets) (*views, error) {
	funcs := template.FuncMap{
		"asset": a.url,
		"date": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.In(chinaTime).Format("2006年1月2日")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.In(chinaTime).Format("2006年1月2日")
			}
			return ""
		},
		"datetime": func(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04") },
		"isodate":  func(t time.Time) string { return t.In(chinaTime).Format(time.RFC3339) },
		"roleLabel": func(r store.Role) string {
			return r.Label()
		},
		"hasPrefix": strings.HasPrefix,
		"pct":       func(f float64) float64 { return f * 100 },
		// dict builds a map from key/value pairs, for small option lists.
		"dict": func(kv ...any) (map[string]any, error) {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	// The layout and the partials (files named _*.html) are shared by every page.
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templates.FS, "layout.html", "_*.html")
	if err != nil {
		return nil, fmt.Errorf("portal: parse layout: %w", err)
	}
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return nil, err
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "layout.html" || strings.HasPrefix(n, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templates.FS, n)
		if err != nil {
			return nil, fmt.Errorf("portal: parse template %s: %w", n, err)
		}
		v.pages[strings.TrimSuffix(n, ".html")] = t
	}
	return v, nil
}

// page is what every template receives.
type page struct {
	Title     string
	User      *store.User
	CSRF      string
	RequestID string
	Path      string
	Data      any
}

// render executes a page template into the response. The page is rendered into
// a buffer first, so a template error never sends half a page.
func (h *handler) render(c *fiber.Ctx, name, title string, data any) error {
	t, ok := h.views.pages[name]
	if !ok {
		return fmt.Errorf("portal: no template %q", name)
	}
	p := page{Title: title, User: currentUser(c), Path: c.Path(), Data: data}
	p.CSRF, _ = c.Locals(csrfContextKey).(string)
	p.RequestID, _ = c.Locals("requestid").(string)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("portal: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}
