package portal

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"
)

const flashCookie = "jdz_flash"

// setFlash keeps a one-time message for the page a redirect leads to, in a
// cookie only this site sets — so no message can be planted through a link.
func setFlash(c *fiber.Ctx, kind, msg string) {
	b, _ := json.Marshal(map[string]string{kind: msg})
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HTTPOnly: true, SameSite: "Lax", Expires: time.Now().Add(time.Minute)})
}

// takeFlash reads and clears the one-time message.
func takeFlash(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	v := c.Cookies(flashCookie)
	if v == "" {
		return out
	}
	c.ClearCookie(flashCookie)
	if b, err := base64.RawURLEncoding.DecodeString(v); err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}
