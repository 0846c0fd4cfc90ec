package portal

import (
	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/store"
)

type homePage struct {
	Campaigns []store.Campaign
	Debates   []debateCard
	Adopted   []ideaView
}

type debateCard struct {
	store.Debate
	State string
}

// home lists the open campaigns and the current debates.
func (h *handler) home(c *fiber.Ctx) error {
	ctx := c.UserContext()
	now := h.now()
	cs, err := h.store.OpenCampaigns(ctx, now, 20)
	if err != nil {
		return err
	}
	ds, err := h.store.CurrentDebates(ctx, now, 20)
	if err != nil {
		return err
	}
	adopted, err := h.store.RecentIdeasWithStatus(ctx,
		[]store.IdeaStatus{store.IdeaAdopted, store.IdeaPartlyAdopted, store.IdeaImplemented}, 6)
	if err != nil {
		return err
	}
	views, err := newCatalog(h.store).views(ctx, adopted)
	if err != nil {
		return err
	}
	p := homePage{Campaigns: cs, Adopted: views}
	for _, d := range ds {
		p.Debates = append(p.Debates, debateCard{Debate: d, State: d.State(now)})
	}
	return h.render(c, "home", "首页", p)
}
