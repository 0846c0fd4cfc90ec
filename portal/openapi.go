package portal

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPIDoc describes the /api/v1 routes; a test checks every documented
// route exists.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /api/v1/openapi.json.
func (h *handler) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPIDoc)
}
