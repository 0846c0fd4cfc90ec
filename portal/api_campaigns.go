package portal

import (
	"errors"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/campaign"
	"jindianzi/portal/store"
)

// isAdmin reports whether the caller administers the portal.
func isAdmin(c *fiber.Ctx) bool {
	u := currentUser(c)
	return u != nil && u.Role == store.RoleAdmin
}

// campaignFor loads a campaign by slug; drafts exist only for admins.
func (h *handler) campaignFor(c *fiber.Ctx, slug string) (*store.Campaign, error) {
	camp, err := h.store.CampaignBySlug(c.UserContext(), slug)
	if err == nil && camp.Status == store.CampaignDraft && !isAdmin(c) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, userError(fiber.StatusNotFound, "unknown_campaign", "找不到该征集活动")
	}
	return camp, err
}

// apiListCampaigns is GET /api/v1/campaigns.
func (h *handler) apiListCampaigns(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	cs, total, err := h.store.Campaigns(c.UserContext(), !isAdmin(c), page)
	if err != nil {
		return err
	}
	now := h.now()
	out := make([]campaignView, 0, len(cs))
	for i := range cs {
		out = append(out, newCampaignView(&cs[i], nil, nil, now))
	}
	return c.JSON(fiber.Map{"total": total, "page": page.Number, "per_page": page.Limit(), "campaigns": out})
}

// apiGetCampaign is GET /api/v1/campaigns/:slug with themes and their counts.
func (h *handler) apiGetCampaign(c *fiber.Ctx) error {
	v, err := h.campaignPage(c, c.Params("slug"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (h *handler) campaignPage(c *fiber.Ctx, slug string) (campaignView, error) {
	ctx := c.UserContext()
	camp, err := h.campaignFor(c, slug)
	if err != nil {
		return campaignView{}, err
	}
	themes, err := h.store.Themes(ctx, camp.ID)
	if err != nil {
		return campaignView{}, err
	}
	counts, err := h.store.ThemeCounts(ctx, camp.ID)
	if err != nil {
		return campaignView{}, err
	}
	return newCampaignView(camp, themes, counts, h.now()), nil
}

func parseCampaignJSON(c *fiber.Ctx) (campaign.Input, error) {
	var in campaign.Input
	err := parseBody(c, &in, "应为 JSON，时间请用 RFC 3339 格式，例如 2026-03-01T00:00:00+08:00")
	return in, err
}

// apiCreateCampaign is POST /api/v1/campaigns (admins).
func (h *handler) apiCreateCampaign(c *fiber.Ctx) error {
	in, err := parseCampaignJSON(c)
	if err != nil {
		return err
	}
	camp, err := campaign.Create(c.UserContext(), h.store, in, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	v, err := h.campaignPage(c, camp.Slug)
	if err != nil {
		return err
	}
	c.Location("/api/v1/campaigns/" + camp.Slug)
	return c.Status(fiber.StatusCreated).JSON(v)
}

// apiUpdateCampaign is PUT /api/v1/campaigns/:slug (admins): the whole campaign.
func (h *handler) apiUpdateCampaign(c *fiber.Ctx) error {
	camp, err := h.campaignFor(c, c.Params("slug"))
	if err != nil {
		return err
	}
	in, err := parseCampaignJSON(c)
	if err != nil {
		return err
	}
	updated, err := campaign.Update(c.UserContext(), h.store, camp.ID, in, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	v, err := h.campaignPage(c, updated.Slug)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// apiSuggestTheme is GET /api/v1/campaigns/:slug/suggest-theme?text=…: the
// theme the submission form would pick for the text typed so far.
func (h *handler) apiSuggestTheme(c *fiber.Ctx) error {
	camp, err := h.campaignFor(c, c.Params("slug"))
	if err != nil {
		return err
	}
	text := c.Query("text")
	if !utf8.ValidString(text) || len(text) > 20000 {
		return userError(fiber.StatusBadRequest, "invalid_text", "文本过长或含有无法识别的字符")
	}
	themes, err := h.store.Themes(c.UserContext(), camp.ID)
	if err != nil {
		return err
	}
	out := fiber.Map{"theme": nil, "confidence": 0}
	if id, conf, ok := h.cfg.Themes.Suggest(c.UserContext(), camp.ID, themes, "", text); ok {
		for _, t := range themes {
			if t.ID == id {
				out["theme"], out["confidence"] = t.Name, conf
			}
		}
	}
	return c.JSON(out)
}
