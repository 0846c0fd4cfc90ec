// Package campaign owns the administration of golden-idea campaigns: the
// input an admin sends (form or API), its validation, and the demo content.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// ThemeInput is one theme of a campaign as an admin describes it.
type ThemeInput struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords"`
}

// Input is a campaign as an admin sends it (the API body, or the parsed form).
type Input struct {
	Slug            string       `json:"slug"`
	Title           string       `json:"title"`
	Description     string       `json:"description"`
	OpensAt         *time.Time   `json:"opens_at"`
	ClosesAt        *time.Time   `json:"closes_at"`
	Status          string       `json:"status"`
	Policy          string       `json:"policy"`
	DailyLimit      *int         `json:"daily_limit"`
	AwardTiers      []string     `json:"award_tiers"`
	ReviewDays      *int         `json:"review_days"`
	ReportThreshold *int         `json:"report_threshold"`
	Themes          []ThemeInput `json:"themes"`
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// Limits on campaign fields.
const (
	MaxThemes   = 30
	MaxKeywords = 50
	MaxAwards   = 10
)

// Validate checks the input and returns the campaign and themes to store.
// Defaults: status open, policy pre, 5 ideas a day per person, a 3-working-day
// review deadline, hidden after 3 reports.
func (in Input) Validate() (*store.Campaign, []store.Theme, error) {
	var e input.Errors
	c := &store.Campaign{Status: store.CampaignOpen, Policy: store.PolicyPre, DailyLimit: 5, ReviewDays: 3, ReportThreshold: 3}
	c.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	if !slugRe.MatchString(c.Slug) {
		e.Add("slug", "invalid_slug", "网址标识只能包含小写字母、数字和短横线，3 到 64 个字符")
	}
	c.Title = e.Text("title", "活动名称", in.Title, false)
	if n := input.Len(c.Title); !e.Has("title") && (n < 2 || n > 120) {
		e.Add("title", "invalid_title", "活动名称应为 2 到 120 个字")
	}
	c.Description = e.Text("description", "活动说明", in.Description, true)
	if input.Len(c.Description) > 10000 {
		e.Add("description", "description_too_long", "活动说明不能超过 10000 个字")
	}
	if in.Status != "" {
		c.Status = in.Status
	}
	switch c.Status {
	case store.CampaignDraft, store.CampaignOpen, store.CampaignClosed, store.CampaignArchived:
	default:
		e.Add("status", "invalid_status", "状态只能是 draft、open、closed 或 archived")
	}
	if in.Policy != "" {
		c.Policy = in.Policy
	}
	if c.Policy != store.PolicyPre && c.Policy != store.PolicyPost {
		e.Add("policy", "invalid_policy", "审核方式只能是 pre（先审后发）或 post（先发后审）")
	}
	if in.OpensAt != nil {
		t := in.OpensAt.UTC()
		c.OpensAt = &t
	}
	if in.ClosesAt != nil {
		t := in.ClosesAt.UTC()
		c.ClosesAt = &t
	}
	if c.OpensAt != nil && c.ClosesAt != nil && !c.ClosesAt.After(*c.OpensAt) {
		e.Add("closes_at", "invalid_dates", "截止时间必须晚于开始时间")
	}
	if in.DailyLimit != nil {
		c.DailyLimit = *in.DailyLimit
	}
	if c.DailyLimit < 0 || c.DailyLimit > 1000 {
		e.Add("daily_limit", "invalid_daily_limit", "每人每日提交上限应在 0 到 1000 之间（0 表示不限）")
	}
	if in.ReviewDays != nil {
		c.ReviewDays = *in.ReviewDays
	}
	if c.ReviewDays < 1 || c.ReviewDays > 60 {
		e.Add("review_days", "invalid_review_days", "审核时限应为 1 到 60 个工作日")
	}
	if in.ReportThreshold != nil {
		c.ReportThreshold = *in.ReportThreshold
	}
	if c.ReportThreshold < 1 || c.ReportThreshold > 100 {
		e.Add("report_threshold", "invalid_report_threshold", "举报隐藏阈值应为 1 到 100")
	}
	awards := cleanList(&e, "award_tiers", "奖项", in.AwardTiers, MaxAwards, 20)
	c.AwardTiers = store.EncodeList(awards)

	var themes []store.Theme
	seen := map[string]bool{}
	if len(in.Themes) > MaxThemes {
		e.Add("themes", "too_many_themes", fmt.Sprintf("主题最多 %d 个", MaxThemes))
	}
	for i, t := range in.Themes {
		field := fmt.Sprintf("themes[%d]", i)
		name := e.Text(field+".name", "主题名称", t.Name, false)
		switch n := input.Len(name); {
		case e.Has(field + ".name"):
		case n == 0 || n > 60:
			e.Add(field+".name", "invalid_theme_name", "主题名称应为 1 到 60 个字")
		case seen[name]:
			e.Add(field+".name", "duplicate_theme", "主题名称重复："+name)
		}
		seen[name] = true
		desc := e.Text(field+".description", "主题说明", t.Description, true)
		kws := cleanList(&e, field+".keywords", "关键词", t.Keywords, MaxKeywords, 20)
		themes = append(themes, store.Theme{Name: name, Description: desc, Keywords: store.EncodeList(kws)})
	}
	if err := e.Err(); err != nil {
		return nil, nil, err
	}
	return c, themes, nil
}

func cleanList(e *input.Errors, field, label string, xs []string, maxN, maxLen int) []string {
	if len(xs) > maxN {
		e.Add(field, "too_many", fmt.Sprintf("%s最多 %d 个", label, maxN))
		return nil
	}
	var out []string
	for _, x := range xs {
		x = e.Text(field, label, x, false)
		if x == "" {
			continue
		}
		if input.Len(x) > maxLen {
			e.Add(field, "too_long", fmt.Sprintf("每个%s不能超过 %d 个字", label, maxLen))
			return nil
		}
		out = append(out, x)
	}
	return out
}

// ErrSlugTaken is returned when another campaign has the slug.
var ErrSlugTaken = errors.New("该网址标识已被其他活动使用")

// Create validates and stores a new campaign.
func Create(ctx context.Context, st *store.Store, in Input, by store.Actor) (*store.Campaign, error) {
	c, themes, err := in.Validate()
	if err != nil {
		return nil, err
	}
	c.CreatedBy = by.ID
	if err := st.CreateCampaign(ctx, c, themes, by); err != nil {
		if errors.Is(err, store.ErrConflict) {
			var e input.Errors
			e.Add("slug", "slug_taken", ErrSlugTaken.Error())
			return nil, &e
		}
		return nil, err
	}
	return c, nil
}

// Update validates and saves changes to the campaign with the given id.
func Update(ctx context.Context, st *store.Store, id int64, in Input, by store.Actor) (*store.Campaign, error) {
	c, themes, err := in.Validate()
	if err != nil {
		return nil, err
	}
	c.ID = id
	if err := st.UpdateCampaign(ctx, c, themes, by); err != nil {
		if errors.Is(err, store.ErrConflict) {
			var e input.Errors
			e.Add("slug", "slug_taken", ErrSlugTaken.Error())
			return nil, &e
		}
		return nil, err
	}
	return c, nil
}
