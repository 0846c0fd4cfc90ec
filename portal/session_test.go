package portal

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/auth"
	"jindianzi/portal/store"
)

// me is the body of GET /api/v1/me.
type me struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Department  string `json:"department"`
}

func decodeMe(t *testing.T, res *response) me {
	t.Helper()
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /api/v1/me: %s", res)
	}
	var m me
	if err := json.Unmarshal([]byte(res.body), &m); err != nil {
		t.Fatalf("me body %q: %v", res.body, err)
	}
	return m
}

// inputValue returns the (unescaped) value of the form input with that name.
func inputValue(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input[^>]* name="` + regexp.QuoteMeta(name) + `"[^>]* value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no input %q with a value in page:\n%s", name, page)
	}
	return html.UnescapeString(m[1])
}

func TestLoginAndLogout(t *testing.T) {
	e := newTestApp(t, testOptions{})
	u := e.createUser(t, "zhangsan", store.RoleResident, "城建局")
	c := e.client(t)

	// A visitor sees the sign-in link and gets 401 from the API.
	code, _ := errorJSON(t, c.get("/api/v1/me"))
	if code != "unauthorized" {
		t.Errorf("visitor /api/v1/me code %q", code)
	}

	res := c.login("zhangsan", testPassword, "")
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/" {
		t.Fatalf("login: %s", res)
	}
	var sess *http.Cookie
	for _, ck := range res.cookies {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || sess.Value == "" {
		t.Fatalf("login set no %s cookie: %v", sessionCookie, res.cookies)
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Errorf("session cookie attributes: %+v", sess)
	}
	if d := time.Until(sess.Expires); d < sessionTTL-time.Minute || d > sessionTTL+time.Minute {
		t.Errorf("session cookie expires in %v, want %v", d, sessionTTL)
	}
	// The database keeps the secret's hash, never the secret.
	if _, su, err := e.store.SessionUser(context.Background(), auth.HashSecret(sess.Value), time.Now().UTC()); err != nil || su.ID != u.ID {
		t.Errorf("session row for the cookie: %v %v", su, err)
	}
	if _, _, err := e.store.SessionUser(context.Background(), sess.Value, time.Now().UTC()); err == nil {
		t.Error("the session is stored under its raw secret")
	}

	m := decodeMe(t, c.get("/api/v1/me"))
	if m.ID != u.ID || m.Name != "zhangsan" || m.DisplayName != "zhangsan同志" || m.Role != "resident" || m.Department != "城建局" {
		t.Errorf("me = %+v", m)
	}
	home := c.get("/")
	for _, want := range []string{"zhangsan同志（居民）", "退出登录", `action="/logout"`} {
		if !strings.Contains(home.body, want) {
			t.Errorf("signed-in home page lacks %q", want)
		}
	}
	if strings.Contains(home.body, `href="/login"`) {
		t.Error("signed-in home page still offers to sign in")
	}
	// Signed in, the login page sends you on.
	if res := c.get("/login?next=/campaigns"); res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/campaigns" {
		t.Errorf("GET /login when signed in: %d %q", res.status, res.header.Get(fiber.HeaderLocation))
	}
	if u, _ := e.store.UserByID(context.Background(), u.ID); u.LastLoginAt == nil {
		t.Error("last login time not recorded")
	}

	// Logout needs the CSRF token like any form.
	oldSession := c.cookies[sessionCookie]
	if res := c.post("/logout", url.Values{}); res.status != fiber.StatusForbidden {
		t.Fatalf("logout without csrf: %s", res)
	}
	if c.cookies[sessionCookie] != oldSession {
		t.Fatal("refused logout dropped the session cookie")
	}
	tok := csrfFrom(t, home.body)
	res = c.post("/logout", url.Values{"_csrf": {tok}})
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/" {
		t.Fatalf("logout: %s", res)
	}
	if _, ok := c.cookies[sessionCookie]; ok {
		t.Error("logout did not clear the session cookie")
	}
	if _, _, err := e.store.SessionUser(context.Background(), auth.HashSecret(oldSession), time.Now().UTC()); err == nil {
		t.Error("logout left the session in the database")
	}
	// The old cookie, replayed, no longer authenticates.
	c.cookies[sessionCookie] = oldSession
	if code, _ := errorJSON(t, c.get("/api/v1/me")); code != "unauthorized" {
		t.Errorf("replayed cookie: code %q", code)
	}
	if res := c.get("/"); strings.Contains(res.body, "退出登录") {
		t.Error("replayed cookie still signs in the home page")
	}
}

func TestLoginFailures(t *testing.T) {
	e := newTestApp(t, testOptions{})
	e.createUser(t, "lisi", store.RoleResident, "")
	c := e.client(t)

	tests := []struct {
		name, user, password string
		status               int
		message, keptName    string
	}{
		{"wrong password", "lisi", "not-the-password", 401, "用户名或密码不正确", "lisi"},
		{"unknown user, name escaped", ` 王<b>"五 `, "whatever-password", 401, "用户名或密码不正确", `王<b>"五`},
		{"empty password", "lisi", "", 422, "请输入用户名和密码", "lisi"},
		{"blank name", "   ", testPassword, 422, "请输入用户名和密码", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.login(tt.user, tt.password, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.status, tt.status, res.body)
			}
			if !strings.Contains(res.body, tt.message) {
				t.Errorf("page lacks %q", tt.message)
			}
			if got := inputValue(t, res.body, "name"); got != tt.keptName {
				t.Errorf("name input keeps %q, want %q", got, tt.keptName)
			}
			if strings.Contains(res.body, "<b>") {
				t.Error("the typed name is not escaped")
			}
			if strings.Contains(res.body, tt.password) && tt.password != "" {
				t.Error("the page echoes the password")
			}
			if _, ok := c.cookies[sessionCookie]; ok {
				t.Error("a failed login set a session cookie")
			}
			// The re-rendered form can be submitted again.
			csrfFrom(t, res.body)
		})
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newTestApp(t, testOptions{})
	e.createUser(t, "wangwu", store.RoleResident, "")

	form := func(tok string) url.Values {
		return url.Values{"_csrf": {tok}, "name": {"wangwu"}, "password": {testPassword}}
	}
	tests := []struct {
		name  string
		setup func(c *client) url.Values
	}{
		{"no token, no cookie", func(c *client) url.Values { return form("") }},
		{"cookie but no token", func(c *client) url.Values { c.csrf("/login"); return form("") }},
		{"token but no cookie", func(c *client) url.Values {
			tok := c.csrf("/login")
			delete(c.cookies, csrfCookie)
			return form(tok)
		}},
		{"token from another browser", func(c *client) url.Values {
			other := e.client(t)
			tok := other.csrf("/login")
			c.csrf("/login")
			return form(tok)
		}},
		{"forged matching pair", func(c *client) url.Values {
			c.cookies[csrfCookie] = "forged-token"
			return form("forged-token")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(t)
			res := c.post("/login", tt.setup(c))
			if res.status != fiber.StatusForbidden {
				t.Fatalf("status %d, want 403:\n%s", res.status, res.body)
			}
			if !strings.Contains(res.body, "页面已过期或来源无法验证") {
				t.Errorf("403 page lacks the CSRF message:\n%s", res.body)
			}
			if _, ok := c.cookies[sessionCookie]; ok {
				t.Error("a refused login set a session cookie")
			}
		})
	}

	// The same refusal in the API carries the code csrf_failed: a session
	// cookie is ambient credentials, so an API POST needs the token too.
	e.app.Post("/api/v1/test-echo", e.h.requireUser, func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	c := e.client(t)
	c.mustLogin("wangwu")
	res := c.post("/api/v1/test-echo", url.Values{})
	if res.status != fiber.StatusForbidden {
		t.Fatalf("API POST with a cookie and no token: %s", res)
	}
	if code, _ := errorJSON(t, res); code != "csrf_failed" {
		t.Errorf("code %q, want csrf_failed", code)
	}
	tok := c.csrf("/")
	res = c.do(http.MethodPost, "/api/v1/test-echo", url.Values{}, http.Header{"X-Csrf-Token": {tok}})
	if res.status != fiber.StatusOK {
		t.Errorf("API POST with the token in X-Csrf-Token: %s", res)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newTestApp(t, testOptions{LoginLimit: 1000})
	e.createUser(t, "zhaoliu", store.RoleResident, "")
	c := e.client(t)

	for i := 1; i <= auth.MaxFailures; i++ {
		res := c.login("zhaoliu", "wrong-password", "")
		if res.status != fiber.StatusUnauthorized {
			t.Fatalf("attempt %d: %s", i, res)
		}
		locked := strings.Contains(res.body, "账号已锁定")
		if locked != (i == auth.MaxFailures) {
			t.Fatalf("attempt %d: lock message shown = %v", i, locked)
		}
		if !locked && !strings.Contains(res.body, "用户名或密码不正确") {
			t.Fatalf("attempt %d: no bad-credentials message", i)
		}
	}
	// Even the right password is refused while locked.
	res := c.login("zhaoliu", testPassword, "")
	if res.status != fiber.StatusUnauthorized || !strings.Contains(res.body, "账号已锁定") {
		t.Fatalf("right password on a locked account: %s", res)
	}
	if _, ok := c.cookies[sessionCookie]; ok {
		t.Error("a locked account got a session")
	}
	u, err := e.store.UserByName(context.Background(), "zhaoliu")
	if err != nil || u.LockedUntil == nil || time.Until(*u.LockedUntil) < auth.LockFor-time.Minute {
		t.Errorf("user after lockout: %+v %v", u, err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	const limit = 3
	e := newTestApp(t, testOptions{LoginLimit: limit})
	c := e.client(t)
	tok := c.csrf("/login")
	// Attempts without a password cost no hashing but still count.
	attempt := func() *response {
		return c.post("/login", url.Values{"_csrf": {tok}, "name": {"someone"}})
	}
	for i := 1; i <= limit; i++ {
		if res := attempt(); res.status != fiber.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %s", i, res)
		}
	}
	res := attempt()
	if res.status != fiber.StatusTooManyRequests {
		t.Fatalf("attempt %d: status %d, want 429", limit+1, res.status)
	}
	if !strings.Contains(res.body, "登录尝试过于频繁") {
		t.Errorf("429 page lacks the rate-limit message:\n%s", res.body)
	}
	// Only sign-in is limited.
	if res := c.get("/"); res.status != fiber.StatusOK {
		t.Errorf("GET / after the login limit: %d", res.status)
	}
}

func TestLoginNext(t *testing.T) {
	e := newTestApp(t, testOptions{})
	e.createUser(t, "sunqi", store.RoleResident, "")

	tests := []struct{ next, want string }{
		{"", "/"},
		{"/ideas?page=2", "/ideas?page=2"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			// The form carries a safe next, whatever the query said.
			c := e.client(t)
			page := c.get("/login?next=" + url.QueryEscape(tt.next))
			if got := inputValue(t, page.body, "next"); got != tt.want {
				t.Errorf("login form next for %q = %q, want %q", tt.next, got, tt.want)
			}
			// And a forged next posted directly is cleaned as well.
			res := c.login("sunqi", testPassword, tt.next)
			if res.status != fiber.StatusSeeOther {
				t.Fatalf("login: %s", res)
			}
			if got := res.header.Get(fiber.HeaderLocation); got != tt.want {
				t.Errorf("next %q redirected to %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	e := newTestApp(t, testOptions{Now: func() time.Time { return now }})
	u := e.createUser(t, "zhouba", store.RoleResident, "")
	ctx := context.Background()

	newSession := func(lastSeen, expires time.Time) (secret, id string) {
		secret, id, err := auth.NewSecret("")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateSession(ctx, &store.Session{ID: id, UserID: u.ID, CreatedAt: lastSeen, LastSeenAt: lastSeen, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		return secret, id
	}

	// An expired session is ignored and its cookie cleared.
	expired, _ := newSession(now.Add(-8*24*time.Hour), now.Add(-time.Minute))
	c := e.client(t)
	c.cookies[sessionCookie] = expired
	if code, _ := errorJSON(t, c.get("/api/v1/me")); code != "unauthorized" {
		t.Errorf("expired session: code %q", code)
	}
	if _, ok := c.cookies[sessionCookie]; ok {
		t.Error("expired session cookie not cleared")
	}

	// A live session seen two hours ago slides forward to now+TTL.
	live, id := newSession(now.Add(-2*time.Hour), now.Add(time.Hour))
	c = e.client(t)
	c.cookies[sessionCookie] = live
	if m := decodeMe(t, c.get("/api/v1/me")); m.ID != u.ID {
		t.Errorf("live session: me = %+v", m)
	}
	sess, _, err := e.store.SessionUser(ctx, id, now)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.ExpiresAt.Equal(now.Add(sessionTTL)) || !sess.LastSeenAt.Equal(now) {
		t.Errorf("session not slid forward: last seen %v, expires %v", sess.LastSeenAt, sess.ExpiresAt)
	}

	// A garbage cookie is just ignored: the visitor still sees the site.
	c = e.client(t)
	c.cookies[sessionCookie] = "garbage"
	if res := c.get("/"); res.status != fiber.StatusOK || strings.Contains(res.body, "退出登录") {
		t.Errorf("garbage cookie: %d", res.status)
	}
}

func TestAPITokens(t *testing.T) {
	now := time.Now().UTC()
	e := newTestApp(t, testOptions{})
	official := e.createUser(t, "official1", store.RoleOfficial, "交通局")
	good := e.createToken(t, official, nil)
	past := now.Add(-time.Hour)
	revoked := e.createToken(t, official, func(tok *store.APIToken) { tok.RevokedAt = &past })
	expired := e.createToken(t, official, func(tok *store.APIToken) { tok.ExpiresAt = &past })
	if !strings.HasPrefix(good, "jdz_") {
		t.Fatalf("token %q lacks its prefix", good)
	}

	tests := []struct {
		name, authz string
		status      int
		code        string
	}{
		{"valid", "Bearer " + good, 200, ""},
		{"wrong", "Bearer jdz_not-a-real-token", 401, "invalid_token"},
		{"revoked", "Bearer " + revoked, 401, "invalid_token"},
		{"expired", "Bearer " + expired, 401, "invalid_token"},
		{"empty bearer", "Bearer ", 401, "invalid_token"},
		{"other scheme", "Basic " + good, 401, "invalid_token"},
		{"none", "", 401, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(t)
			if tt.authz != "" {
				c.header.Set(fiber.HeaderAuthorization, tt.authz)
			}
			res := c.get("/api/v1/me")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 200 {
				m := decodeMe(t, res)
				if m.ID != official.ID || m.Name != "official1" || m.Role != "official" || m.Department != "交通局" {
					t.Errorf("me = %+v", m)
				}
				return
			}
			if code, _ := errorJSON(t, res); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
		})
	}

	// Use is recorded.
	tok, _, err := e.store.TokenUser(context.Background(), auth.HashSecret(good), now)
	if err != nil || tok.LastUsedAt == nil {
		t.Errorf("token after use: %+v %v", tok, err)
	}

	// Bearer requests carry no ambient credentials, so they skip CSRF.
	e.app.Post("/api/v1/test-echo", e.h.requireUser, func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"user": currentUser(c).Name})
	})
	c := e.client(t)
	c.header.Set(fiber.HeaderAuthorization, "Bearer "+good)
	res := c.post("/api/v1/test-echo", url.Values{"x": {"1"}})
	if res.status != fiber.StatusOK || !strings.Contains(res.body, `"user":"official1"`) {
		t.Errorf("bearer POST without csrf: %s", res)
	}
	// A bad token is refused before CSRF or the handler can be reached.
	c.header.Set(fiber.HeaderAuthorization, "Bearer nope")
	if res := c.post("/api/v1/test-echo", url.Values{}); res.status != fiber.StatusUnauthorized {
		t.Errorf("bad bearer POST: %s", res)
	}
}

func TestRequireRole(t *testing.T) {
	e := newTestApp(t, testOptions{})
	e.app.Get("/api/v1/test-admin", e.h.requireRole(store.RoleAdmin), func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"admin": currentUser(c).Name})
	})
	e.app.Get("/test-review", e.h.requireRole(store.RoleModerator, store.RoleAdmin), func(c *fiber.Ctx) error {
		return c.SendString("review queue")
	})
	e.app.Get("/test-private", e.h.requireUser, func(c *fiber.Ctx) error { return c.SendString("private") })

	tokens := map[store.Role]string{}
	for _, r := range store.Roles {
		tokens[r] = e.createToken(t, e.createUser(t, "user-"+string(r), r, ""), nil)
	}

	tests := []struct {
		role   store.Role // "" is a visitor
		path   string
		status int
		code   string
	}{
		{"", "/api/v1/test-admin", 401, "unauthorized"},
		{store.RoleResident, "/api/v1/test-admin", 403, "forbidden"},
		{store.RoleOfficial, "/api/v1/test-admin", 403, "forbidden"},
		{store.RoleModerator, "/api/v1/test-admin", 403, "forbidden"},
		{store.RoleAdmin, "/api/v1/test-admin", 200, ""},
		{"", "/test-review", 303, ""},
		{store.RoleResident, "/test-review", 403, ""},
		{store.RoleModerator, "/test-review", 200, ""},
		{store.RoleAdmin, "/test-review", 200, ""},
		{"", "/test-private?x=1", 303, ""},
		{store.RoleResident, "/test-private", 200, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+tt.path, func(t *testing.T) {
			c := e.client(t)
			if tt.role != "" {
				c.header.Set(fiber.HeaderAuthorization, "Bearer "+tokens[tt.role])
			}
			res := c.get(tt.path)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			switch {
			case tt.code != "":
				if code, _ := errorJSON(t, res); code != tt.code {
					t.Errorf("code %q, want %q", code, tt.code)
				}
			case tt.status == 303:
				want := "/login?next=" + url.QueryEscape(tt.path)
				if got := res.header.Get(fiber.HeaderLocation); got != want {
					t.Errorf("redirect to %q, want %q", got, want)
				}
			case tt.status == 403:
				if !strings.Contains(res.body, "您没有权限进行此操作") || !strings.Contains(res.body, "无法访问") {
					t.Errorf("403 page:\n%s", res.body)
				}
			case tt.path == "/api/v1/test-admin":
				if !strings.Contains(res.body, `"admin":"user-admin"`) {
					t.Errorf("admin body %s", res.body)
				}
			}
		})
	}

	// A browser session works the same as a token.
	c := e.client(t)
	c.mustLogin("user-admin")
	if res := c.get("/api/v1/test-admin"); res.status != fiber.StatusOK {
		t.Errorf("admin by session: %s", res)
	}
}
