package portal

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/auth"
	"jindianzi/portal/store"
)

const userKey = "user"

// currentUser is the signed-in user, or nil for a visitor.
func currentUser(c *fiber.Ctx) *store.User {
	u, _ := c.Locals(userKey).(*store.User)
	return u
}

// loadUser identifies the caller: a bearer token (API clients) or a session
// cookie (browsers). A request with a bearer header is judged by the token
// alone; a bad token is refused, a bad cookie is just ignored.
func (h *handler) loadUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	now := h.now()
	if authz := c.Get(fiber.HeaderAuthorization); authz != "" {
		secret, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok || secret == "" {
			return userError(fiber.StatusUnauthorized, "invalid_token", "访问令牌格式不正确")
		}
		tok, u, err := h.store.TokenUser(ctx, auth.HashSecret(strings.TrimSpace(secret)), now)
		if errors.Is(err, store.ErrNotFound) {
			return userError(fiber.StatusUnauthorized, "invalid_token", "访问令牌无效或已过期")
		}
		if err != nil {
			return err
		}
		if u.BlockedAt != nil {
			return userError(fiber.StatusForbidden, "blocked", "该账号已被停用")
		}
		if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Hour {
			_ = h.store.TouchAPIToken(ctx, tok.ID, now)
		}
		c.Locals(userKey, u)
		return c.Next()
	}
	if secret := c.Cookies(sessionCookie); secret != "" {
		sess, u, err := h.store.SessionUser(ctx, auth.HashSecret(secret), now)
		switch {
		case err == nil && u.BlockedAt == nil:
			c.Locals(userKey, u)
			// Sliding expiry, written at most once an hour per session.
			if now.Sub(sess.LastSeenAt) > time.Hour {
				if err := h.store.TouchSession(ctx, sess.ID, now, now.Add(sessionTTL)); err != nil {
					h.logFor(c).Warn("touch session", "err", err)
				}
			}
		case err == nil, errors.Is(err, store.ErrNotFound):
			c.ClearCookie(sessionCookie)
		default:
			return err
		}
	}
	return c.Next()
}

// requireUser refuses visitors: 401 for the API, a redirect to the sign-in
// page for browsers.
func (h *handler) requireUser(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	if isAPI(c) {
		return userError(fiber.StatusUnauthorized, "unauthorized", "请先登录")
	}
	next := c.OriginalURL()
	if c.Method() != fiber.MethodGet {
		// After signing in, come back to the page the form was on, not to the
		// form's target (which only answers POST).
		next = "/"
		if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && (ref.Host == "" || ref.Host == c.Hostname()) {
			next = safeNext(ref.RequestURI())
		}
	}
	return c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
}

// requireRole lets through only users with one of the roles (401 for visitors,
// 403 for other roles).
func (h *handler) requireRole(roles ...store.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		if u == nil {
			return h.requireUser(c)
		}
		for _, r := range roles {
			if u.Role == r {
				return c.Next()
			}
		}
		return userError(fiber.StatusForbidden, "forbidden", "您没有权限进行此操作")
	}
}

type loginPage struct {
	Name  string
	Next  string
	Error string
}

func (h *handler) loginForm(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return h.render(c, "login", "登录", loginPage{Next: safeNext(c.Query("next"))})
}

func (h *handler) login(c *fiber.Ctx) error {
	form := loginPage{Name: strings.TrimSpace(c.FormValue("name")), Next: safeNext(c.FormValue("next"))}
	password := c.FormValue("password")
	if form.Name == "" || password == "" {
		form.Error = "请输入用户名和密码"
		c.Status(fiber.StatusUnprocessableEntity)
		return h.render(c, "login", "登录", form)
	}
	u, err := h.auth.Login(c.UserContext(), form.Name, password)
	switch {
	case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrLocked), errors.Is(err, auth.ErrBlocked):
		form.Error = err.Error()
		c.Status(fiber.StatusUnauthorized)
		return h.render(c, "login", "登录", form)
	case err != nil:
		return err
	}
	secret, hash, err := auth.NewSecret("")
	if err != nil {
		return err
	}
	now := h.now()
	ua := c.Get(fiber.HeaderUserAgent)
	if len(ua) > 255 {
		ua = ua[:255]
	}
	if err := h.store.CreateSession(c.UserContext(), &store.Session{
		ID: hash, UserID: u.ID, IP: c.IP(), UserAgent: ua,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(sessionTTL),
	}); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: h.cfg.CookieSecure, Expires: now.Add(sessionTTL),
	})
	return c.Redirect(form.Next, fiber.StatusSeeOther)
}

func (h *handler) logout(c *fiber.Ctx) error {
	if secret := c.Cookies(sessionCookie); secret != "" {
		if err := h.store.DeleteSession(c.UserContext(), auth.HashSecret(secret)); err != nil {
			return err
		}
	}
	c.ClearCookie(sessionCookie)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// safeNext keeps redirects on this site: only local absolute paths pass.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// apiMe tells an API client who it is signed in as.
func (h *handler) apiMe(c *fiber.Ctx) error {
	u := currentUser(c)
	out := fiber.Map{"id": u.ID, "name": u.Name, "display_name": u.DisplayName, "role": u.Role}
	if u.DepartmentID != nil {
		if d, err := h.store.Department(c.UserContext(), *u.DepartmentID); err == nil {
			out["department"] = d.Name
		}
	}
	return c.JSON(out)
}
