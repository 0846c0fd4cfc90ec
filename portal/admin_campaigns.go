package portal

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/campaign"
	"jindianzi/portal/input"
	"jindianzi/portal/region"
	"jindianzi/portal/store"
)

// adminCampaigns is GET /admin/campaigns: every campaign, drafts included.
func (h *handler) adminCampaigns(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	cs, total, err := h.store.Campaigns(c.UserContext(), false, page)
	if err != nil {
		return err
	}
	return h.render(c, "admin_campaigns", "征集活动管理", struct {
		Campaigns []store.Campaign
		Pager     pager
		Saved     bool
	}{cs, newPager(url.Values{}, "/admin/campaigns", page, total), c.Query("saved") == "1"})
}

// campaignForm is the admin form's fields as typed.
type campaignForm struct {
	Slug, Title, Description, OpensAt, ClosesAt, Status, Policy string
	DailyLimit, ReviewDays, ReportThreshold                     string
	AwardTiers, Themes                                          string
}

type campaignFormPage struct {
	Form   campaignForm
	Errors *input.Errors
	Edit   string // slug being edited, "" for a new campaign
}

const formTime = "2006-01-02T15:04"

func formFromCampaign(c *store.Campaign, themes []store.Theme) campaignForm {
	f := campaignForm{Slug: c.Slug, Title: c.Title, Description: c.Description, Status: c.Status, Policy: c.Policy,
		DailyLimit: strconv.Itoa(c.DailyLimit), ReviewDays: strconv.Itoa(c.ReviewDays),
		ReportThreshold: strconv.Itoa(c.ReportThreshold), AwardTiers: strings.Join(c.Awards(), "\n")}
	if c.OpensAt != nil {
		f.OpensAt = c.OpensAt.In(chinaTime).Format(formTime)
	}
	if c.ClosesAt != nil {
		f.ClosesAt = c.ClosesAt.In(chinaTime).Format(formTime)
	}
	var lines []string
	for _, t := range themes {
		line := t.Name
		if kw := t.KeywordList(); len(kw) > 0 {
			line += "：" + strings.Join(kw, "、")
		}
		lines = append(lines, line)
	}
	f.Themes = strings.Join(lines, "\n")
	return f
}

// input turns the form into campaign.Input, noting unparseable numbers and dates.
func (f campaignForm) input(e *input.Errors) campaign.Input {
	in := campaign.Input{Slug: f.Slug, Title: f.Title, Description: f.Description, Status: f.Status, Policy: f.Policy}
	for _, d := range []struct {
		field, label, v string
		dst             **time.Time
	}{{"opens_at", "开始时间", f.OpensAt, &in.OpensAt}, {"closes_at", "截止时间", f.ClosesAt, &in.ClosesAt}} {
		if strings.TrimSpace(d.v) == "" {
			continue
		}
		t, err := time.ParseInLocation(formTime, strings.TrimSpace(d.v), chinaTime)
		if err != nil {
			e.Add(d.field, "invalid_time", d.label+"格式不正确")
			continue
		}
		*d.dst = &t
	}
	for _, n := range []struct {
		field, label, v string
		dst             **int
	}{{"daily_limit", "每人每日提交上限", f.DailyLimit, &in.DailyLimit}, {"review_days", "审核时限", f.ReviewDays, &in.ReviewDays},
		{"report_threshold", "举报隐藏阈值", f.ReportThreshold, &in.ReportThreshold}} {
		if strings.TrimSpace(n.v) == "" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(n.v))
		if err != nil {
			e.Add(n.field, "invalid_number", n.label+"应为整数")
			continue
		}
		*n.dst = &v
	}
	for _, l := range strings.Split(f.AwardTiers, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			in.AwardTiers = append(in.AwardTiers, l)
		}
	}
	for _, l := range strings.Split(f.Themes, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		name, kws, _ := strings.Cut(strings.Replace(l, "：", ":", 1), ":")
		t := campaign.ThemeInput{Name: strings.TrimSpace(name)}
		for _, k := range strings.FieldsFunc(kws, func(r rune) bool { return strings.ContainsRune(",，、;； ", r) }) {
			t.Keywords = append(t.Keywords, k)
		}
		in.Themes = append(in.Themes, t)
	}
	return in
}

// adminCampaignForm is GET /admin/campaigns/new and /admin/campaigns/:slug/edit.
func (h *handler) adminCampaignForm(c *fiber.Ctx) error {
	p := campaignFormPage{Errors: &input.Errors{}, Form: campaignForm{Status: store.CampaignDraft, Policy: store.PolicyPre,
		DailyLimit: "5", ReviewDays: "3", ReportThreshold: "3"}}
	if slug := c.Params("slug"); slug != "" {
		camp, err := h.campaignFor(c, slug)
		if err != nil {
			return err
		}
		themes, err := h.store.Themes(c.UserContext(), camp.ID)
		if err != nil {
			return err
		}
		p.Form, p.Edit = formFromCampaign(camp, themes), slug
	}
	return h.render(c, "admin_campaign_form", "编辑征集活动", p)
}

// adminCampaignSave is POST /admin/campaigns/new and /admin/campaigns/:slug/edit.
func (h *handler) adminCampaignSave(c *fiber.Ctx) error {
	f := campaignForm{Slug: c.FormValue("slug"), Title: c.FormValue("title"), Description: c.FormValue("description"),
		OpensAt: c.FormValue("opens_at"), ClosesAt: c.FormValue("closes_at"), Status: c.FormValue("status"),
		Policy: c.FormValue("policy"), DailyLimit: c.FormValue("daily_limit"), ReviewDays: c.FormValue("review_days"),
		ReportThreshold: c.FormValue("report_threshold"), AwardTiers: c.FormValue("award_tiers"), Themes: c.FormValue("themes")}
	p := campaignFormPage{Form: f, Errors: &input.Errors{}, Edit: c.Params("slug")}
	in := f.input(p.Errors)
	if !p.Errors.Empty() {
		c.Status(fiber.StatusUnprocessableEntity)
		return h.render(c, "admin_campaign_form", "编辑征集活动", p)
	}
	by := store.ActorFor(currentUser(c), c.IP())
	var err error
	if p.Edit == "" {
		_, err = campaign.Create(c.UserContext(), h.store, in, by)
	} else {
		camp, ferr := h.campaignFor(c, p.Edit)
		if ferr != nil {
			return ferr
		}
		_, err = campaign.Update(c.UserContext(), h.store, camp.ID, in, by)
	}
	var ie *input.Errors
	if errors.As(err, &ie) {
		p.Errors = ie
		c.Status(fiber.StatusUnprocessableEntity)
		return h.render(c, "admin_campaign_form", "编辑征集活动", p)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/campaigns?saved=1", fiber.StatusSeeOther)
}

// privacyHTML is GET /privacy: the privacy notice residents consent to.
func (h *handler) privacyHTML(c *fiber.Ctx) error {
	return h.render(c, "privacy", "隐私说明", nil)
}

// apiRegions is GET /api/v1/regions: provinces and their cities (GB/T 2260).
func (h *handler) apiRegions(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.JSON(fiber.Map{"provinces": region.Provinces()})
}
