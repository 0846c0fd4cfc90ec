package portal

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// openAPIParam is a parameter of an operation in openapi.json.
type openAPIParam struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

// openAPIOperation is the part of an operation the test checks.
type openAPIOperation struct {
	Summary    string                     `json:"summary"`
	Parameters []openAPIParam             `json:"parameters"`
	Responses  map[string]json.RawMessage `json:"responses"`
}

var openAPIMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "options": true, "head": true, "trace": true}

// TestOpenAPIMatchesRoutes keeps openapi.json and the router in step: every
// documented operation exists, and every /api/v1 route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newTestApp(t, testOptions{NoIndex: true})
	res := e.client(t).get("/api/v1/openapi.json")
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %s", res)
	}
	if ct := res.header.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !regexp.MustCompile(`^3\.\d+\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf(`"openapi" = %q, want 3.x.y`, doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info: %+v", doc.Info)
	}

	registered := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if r.Method == http.MethodHead || (r.Path != "/api/v1" && !strings.HasPrefix(r.Path, "/api/v1/")) {
			continue
		}
		registered[r.Method+" "+r.Path] = true
	}
	if len(registered) == 0 {
		t.Fatal("no /api/v1 routes registered")
	}

	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Errorf("documented path %q is outside /api/v1", path)
		}
		route := pathParam.ReplaceAllString(path, ":$1")
		for method, raw := range item {
			if !openAPIMethods[method] {
				continue // path-level keys such as parameters
			}
			key := strings.ToUpper(method) + " " + route
			documented[key] = true
			if !registered[key] {
				t.Errorf("openapi.json documents %s %s, which the app does not serve", strings.ToUpper(method), path)
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no summary or no responses", method, path)
			}
			// Each {param} of the path is declared as a required path parameter.
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.Name == m[1] && p.In == "path" && p.Required)
				}
				if !found {
					t.Errorf("%s %s does not declare the path parameter %q", method, path, m[1])
				}
			}
		}
	}
	var missing []string
	for key := range registered {
		if !documented[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("route %s is not documented in openapi.json", key)
	}

	// Every $ref points at a schema the document defines.
	for _, m := range regexp.MustCompile(`"\$ref":\s*"([^"]*)"`).FindAllStringSubmatch(res.body, -1) {
		name, ok := strings.CutPrefix(m[1], "#/components/schemas/")
		if _, defined := doc.Components.Schemas[name]; !ok || !defined {
			t.Errorf("$ref %q does not resolve", m[1])
		}
	}
}
