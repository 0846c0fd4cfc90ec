package portal

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// Error is an error with a status, a stable code for API clients and a
// message that is safe to show to a resident. Err, if set, is the cause: it is
// logged, never shown.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// userError builds an Error for a request the user can correct.
func userError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// genericMessages are shown for errors that carry no message of their own.
var genericMessages = map[int]struct{ code, msg string }{
	fiber.StatusBadRequest:                  {"bad_request", "请求格式不正确"},
	fiber.StatusUnauthorized:                {"unauthorized", "请先登录"},
	fiber.StatusForbidden:                   {"forbidden", "您没有权限进行此操作"},
	fiber.StatusNotFound:                    {"not_found", "您访问的页面不存在或已被删除"},
	fiber.StatusMethodNotAllowed:            {"method_not_allowed", "不支持该请求方式"},
	fiber.StatusRequestEntityTooLarge:       {"too_large", "提交的内容过大"},
	fiber.StatusTooManyRequests:             {"rate_limited", "操作过于频繁，请稍后再试"},
	fiber.StatusRequestHeaderFieldsTooLarge: {"too_long", "请求的网址或内容过长，请缩短搜索词后再试"},
	fiber.StatusServiceUnavailable:          {"unavailable", "服务暂时不可用，请稍后再试"},
	fiber.StatusInternalServerError:         {"internal", "服务器内部错误，请稍后再试"},
}

// classify turns any error into a safe (status, code, message).
func classify(err error) (int, string, string) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status, ae.Code, ae.Message
	}
	var ie *input.Errors
	if errors.As(err, &ie) {
		return fiber.StatusUnprocessableEntity, ie.Code(), ie.Error()
	}
	var ip *ideas.Problem
	if errors.As(err, &ip) {
		return ip.Status, ip.Code, ip.Message
	}
	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		status = fe.Code
	case errors.Is(err, store.ErrNotFound):
		status = fiber.StatusNotFound
	}
	g, ok := genericMessages[status]
	if !ok {
		if status >= 500 {
			g = genericMessages[fiber.StatusInternalServerError]
		} else {
			g = genericMessages[fiber.StatusBadRequest]
		}
	}
	return status, g.code, g.msg
}

// isAPI reports whether the request is for the JSON API.
func isAPI(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/")
}

// errorHandler is the app's one error handler: a Chinese error page for
// browsers, {"error":{"code","message"}} for /api/. Internal details go to the
// log with the request id, never to the client.
func (h *handler) errorHandler(c *fiber.Ctx, err error) error {
	status, code, msg := classify(err)
	rid, _ := c.Locals("requestid").(string)
	if status >= 500 {
		h.log.Error("request failed", "request_id", rid, "method", c.Method(), "path", c.Path(), "err", err)
	}
	c.Status(status)
	if isAPI(c) {
		body := fiber.Map{"code": code, "message": msg}
		var ie *input.Errors
		if errors.As(err, &ie) {
			body["fields"] = ie.Fields
		}
		return c.JSON(fiber.Map{"error": body})
	}
	if err := h.render(c, "error", "出错了", errorPage{Status: status, Message: msg, RequestID: rid}); err != nil {
		h.log.Error("render error page", "request_id", rid, "err", err)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.SendString(msg)
	}
	return nil
}

type errorPage struct {
	Status    int
	Message   string
	RequestID string
}

// logAttrs is a helper for handlers that want to log with the request id.
func (h *handler) logFor(c *fiber.Ctx) *slog.Logger {
	rid, _ := c.Locals("requestid").(string)
	return h.log.With("request_id", rid)
}

// parseBody reads the request body into dst with Fiber's BodyParser (JSON,
// or a form on routes that take both), refusing invalid UTF-8 first:
// encoding/json would silently turn it into U+FFFD. hint, when set, tells
// the client what a valid body looks like.
func parseBody(c *fiber.Ctx, dst any, hint string) error {
	if !utf8.Valid(c.Body()) {
		return userError(fiber.StatusBadRequest, "invalid_utf8", "提交的内容含有无法识别的字符（不是有效的 UTF-8）")
	}
	if err := c.BodyParser(dst); err != nil {
		msg := "请求体格式不正确"
		if hint != "" {
			msg += "：" + hint
		}
		return userError(fiber.StatusBadRequest, "invalid_json", msg)
	}
	return nil
}
