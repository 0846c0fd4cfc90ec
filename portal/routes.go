package portal

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"jindianzi/portal/store"
)

// limit builds a per-address rate limiter whose counters live in the shared
// database, so every web node counts the same.
func (h *handler) limit(name string, max int, window time.Duration, reached fiber.Handler) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:          max,
		Expiration:   window,
		Storage:      h.store.KV("rl:" + name + ":"),
		KeyGenerator: func(c *fiber.Ctx) string { return c.IP() },
		LimitReached: reached,
	})
}

// routes mounts the pages and the /api/v1 JSON API (see openapi.json).
func (h *handler) routes(app *fiber.App) {
	submitLimit := h.limit("submit", h.cfg.SubmitLimit, time.Minute, h.submitRateLimited)
	trackLimit := h.limit("track", h.cfg.TrackLimit, time.Minute, h.trackLimited)
	admin := h.requireRole(store.RoleAdmin)
	moderator := h.requireRole(store.RoleModerator, store.RoleAdmin)

	// Pages.
	app.Get("/campaigns/:slug", h.campaignHTML)
	app.Get("/campaigns/:slug/submit", h.submitForm)
	app.Post("/campaigns/:slug/submit", submitLimit, h.submitHTML)
	app.Get("/ideas/:id", h.ideaHTML)
	app.Get("/ideas/:id/files/:file", h.attachmentFile)
	app.Post("/ideas/:id/support", h.requireUser, h.supportHTML(false))
	app.Post("/ideas/:id/unsupport", h.requireUser, h.supportHTML(true))
	app.Post("/ideas/:id/comments", h.requireUser, submitLimit, h.commentHTML)
	app.Get("/track", trackLimit, h.trackHTML)
	app.Post("/track/withdraw", trackLimit, h.withdrawHTML)
	app.Get("/track/edit", trackLimit, h.editHTML)
	app.Post("/track/edit", trackLimit, h.editHTML)
	app.Get("/my", h.requireUser, h.myHTML)
	app.Get("/privacy", h.privacyHTML)
	app.Get("/search", h.searchHTML)
	app.Post("/ideas/:id/report", submitLimit, h.reportHTML)
	app.Get("/moderation", moderator, h.queueHTML)
	app.Post("/moderation/items/:id/decision", moderator, h.decisionHTML)
	app.Post("/moderation/bulk", moderator, h.bulkHTML)
	app.Post("/moderation/comments/:id/decision", moderator, h.commentDecisionHTML)
	app.Post("/moderation/posts/:id/decision", moderator, h.postDecisionHTML)
	app.Post("/moderation/users/:id/block", moderator, h.blockHTML)
	app.Get("/moderation/clusters", moderator, h.clustersHTML)
	app.Get("/moderation/clusters/:id", moderator, h.clusterHTML)
	app.Post("/moderation/clusters/:id/rename", moderator, h.renameClusterHTML)
	app.Post("/moderation/clusters/:id/merge", moderator, h.mergeClusterHTML)
	app.Post("/moderation/clusters/:id/move-out", moderator, h.moveOutHTML)
	app.Get("/debates", h.debatesHTML)
	app.Get("/debates/:slug", h.debateHTML)
	app.Post("/debates/:slug/posts", h.requireUser, submitLimit, h.postHTML)
	app.Post("/debates/:slug/posts/:id/support", h.requireUser, h.postSupportHTML(false))
	app.Post("/debates/:slug/posts/:id/unsupport", h.requireUser, h.postSupportHTML(true))
	app.Post("/debates/:slug/conclusion", moderator, h.conclusionHTML)
	app.Post("/debates/:slug/posts/:id/pin", moderator, h.pinHTML)
	app.Post("/debates/:slug/posts/:id/promote", moderator, h.promoteHTML)
	app.Get("/admin/debates/new", admin, h.debateFormHTML)
	app.Post("/admin/debates/new", admin, h.debateFormHTML)
	app.Get("/admin/words", admin, h.wordsHTML)
	app.Post("/admin/words", admin, h.addWordsHTML)
	app.Post("/admin/words/:id/delete", admin, h.deleteWordHTML)
	app.Get("/admin/dictionary", admin, h.dictionaryHTML)
	app.Post("/admin/dictionary", admin, h.addDictionaryHTML)
	app.Get("/admin/audit", moderator, h.auditHTML)
	app.Get("/admin/audit.csv", moderator, h.auditCSV)
	app.Get("/admin/campaigns", admin, h.adminCampaigns)
	app.Get("/admin/campaigns/new", admin, h.adminCampaignForm)
	app.Post("/admin/campaigns/new", admin, h.adminCampaignSave)
	app.Get("/admin/campaigns/:slug/edit", admin, h.adminCampaignForm)
	app.Post("/admin/campaigns/:slug/edit", admin, h.adminCampaignSave)

	// JSON API.
	api := app.Group("/api/v1")
	api.Get("/openapi.json", h.openAPI)
	api.Get("/me", h.requireUser, h.apiMe)
	api.Get("/regions", h.apiRegions)
	api.Get("/campaigns", h.apiListCampaigns)
	api.Post("/campaigns", admin, h.apiCreateCampaign)
	api.Get("/campaigns/:slug", h.apiGetCampaign)
	api.Put("/campaigns/:slug", admin, h.apiUpdateCampaign)
	api.Get("/campaigns/:slug/suggest-theme", h.apiSuggestTheme)
	api.Get("/campaigns/:slug/hot-issues", h.apiHotIssues)
	api.Get("/search", h.apiSearch)
	api.Get("/ideas/similar", h.apiSimilar)
	api.Get("/ideas", h.apiListIdeas)
	api.Post("/ideas", submitLimit, h.apiSubmitIdea)
	api.Get("/ideas/:id", h.apiGetIdea)
	api.Post("/ideas/:id/support", h.requireUser, h.apiSupport)
	api.Delete("/ideas/:id/support", h.requireUser, h.apiSupport)
	api.Post("/ideas/:id/comments", h.requireUser, submitLimit, h.apiComment)
	api.Get("/track/:code", trackLimit, h.apiTrack)
	api.Post("/track/:code/withdraw", trackLimit, h.apiWithdraw)
	api.Put("/track/:code", trackLimit, h.apiEdit)
	api.Post("/ideas/:id/report", submitLimit, h.apiReport)
	api.Get("/moderation/queue", moderator, h.apiQueue)
	api.Post("/moderation/items/:id/decision", moderator, h.apiDecision)
	api.Post("/moderation/bulk", moderator, h.apiBulk)
	api.Get("/moderation/comments", moderator, h.apiPendingComments)
	api.Post("/moderation/comments/:id/decision", moderator, h.apiCommentDecision)
	api.Post("/moderation/users/:id/block", moderator, h.apiBlockUser)
	api.Get("/moderation/audit", moderator, h.apiAudit)
	api.Post("/moderation/posts/:id/decision", moderator, h.apiPostDecision)
	api.Get("/debates", h.apiDebates)
	api.Post("/debates", admin, h.apiCreateDebate)
	api.Get("/debates/:id", h.apiDebate)
	api.Post("/debates/:id/posts", h.requireUser, submitLimit, h.apiPost)
	api.Post("/debates/:id/conclusion", moderator, h.apiConclusion)
	api.Post("/debate-posts/:id/support", h.requireUser, h.apiPostSupport)
	api.Delete("/debate-posts/:id/support", h.requireUser, h.apiPostSupport)
	api.Post("/debate-posts/:id/pin", moderator, h.apiPin)
	api.Post("/debate-posts/:id/promote", moderator, h.apiPromote)
	api.Get("/admin/dictionary", admin, h.apiDictionary)
	api.Post("/admin/dictionary", admin, h.apiAddDictionary)
}
