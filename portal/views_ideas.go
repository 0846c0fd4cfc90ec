package portal

import (
	"context"
	"time"

	"jindianzi/portal/region"
	"jindianzi/portal/store"
)

// ideaView is an idea as the public may see it: masked text, province and
// city only, no contact details.
type ideaView struct {
	ID           int64     `json:"id"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	Campaign     string    `json:"campaign"`
	Theme        string    `json:"theme"`
	Region       string    `json:"region"`
	Province     string    `json:"province"`
	City         string    `json:"city"`
	Author       string    `json:"author"`
	Supports     int       `json:"supports"`
	Comments     int       `json:"comments"`
	Status       string    `json:"status"`
	StatusLabel  string    `json:"status_label"`
	Reply        string    `json:"reply,omitempty"`
	RepliedAt    *string   `json:"replied_at,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	MergedInto   *int64    `json:"merged_into,omitempty"`
	Attachments  int       `json:"attachments"`
	statusValue  store.IdeaStatus
	campaignName string
}

// StatusValue is the raw status, for templates.
func (v ideaView) StatusValue() store.IdeaStatus { return v.statusValue }

// CampaignTitle is the campaign's title, for templates.
func (v ideaView) CampaignTitle() string { return v.campaignName }

func publicTitle(i *store.Idea) string { return masked(i.TitleMasked, i.Title) }

func publicBody(i *store.Idea) string { return masked(i.BodyMasked, i.Body) }

// masked returns the masked text shown in public, or the text itself when
// masking left nothing to hide (the masked column is then empty).
func masked(maskedText, text string) string {
	if maskedText != "" {
		return maskedText
	}
	return text
}

// authorLabel is how a submitter is named in public.
func authorLabel(displayName string, anonymous bool) string {
	if anonymous || displayName == "" {
		return "匿名"
	}
	return displayName
}

// ideaCatalog resolves campaign and theme names for a list of ideas with one
// query per campaign (two with its themes).
type ideaCatalog struct {
	st        *store.Store
	campaigns map[int64]*store.Campaign
	themed    map[int64]bool // campaigns whose themes are in themes
	themes    map[int64]string
}

func newCatalog(st *store.Store) *ideaCatalog {
	return &ideaCatalog{st: st, campaigns: map[int64]*store.Campaign{}, themed: map[int64]bool{}, themes: map[int64]string{}}
}

// campaign returns the campaign, read once per catalog.
func (k *ideaCatalog) campaign(ctx context.Context, campaignID int64) (*store.Campaign, error) {
	if c, ok := k.campaigns[campaignID]; ok {
		return c, nil
	}
	c, err := k.st.CampaignByID(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	k.campaigns[campaignID] = c
	return c, nil
}

// load returns the campaign, with its themes' names read into the catalog.
func (k *ideaCatalog) load(ctx context.Context, campaignID int64) (*store.Campaign, error) {
	c, err := k.campaign(ctx, campaignID)
	if err != nil || k.themed[campaignID] {
		return c, err
	}
	ts, err := k.st.Themes(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		k.themes[t.ID] = t.Name
	}
	k.themed[campaignID] = true
	return c, nil
}

func (k *ideaCatalog) view(ctx context.Context, i *store.Idea) (ideaView, error) {
	c, err := k.load(ctx, i.CampaignID)
	if err != nil {
		return ideaView{}, err
	}
	v := ideaView{
		ID: i.ID, Title: publicTitle(i), Body: publicBody(i), Campaign: c.Slug, campaignName: c.Title,
		Region: region.Label(i.ProvinceCode, i.CityCode), Province: i.ProvinceCode, City: i.CityCode,
		Author: authorLabel(i.DisplayName, i.Anonymous), Supports: i.TotalSupports(), Comments: i.CommentsCount,
		Status: string(i.Status), StatusLabel: i.Status.Label(), statusValue: i.Status, Reply: i.Reply,
		CreatedAt: i.CreatedAt.UTC(), MergedInto: i.MergedIntoID,
	}
	if i.ThemeID != nil {
		v.Theme = k.themes[*i.ThemeID]
	}
	if i.RepliedAt != nil {
		s := i.RepliedAt.UTC().Format(time.RFC3339)
		v.RepliedAt = &s
	}
	return v, nil
}

func (k *ideaCatalog) views(ctx context.Context, is []store.Idea) ([]ideaView, error) {
	out := make([]ideaView, 0, len(is))
	for n := range is {
		v, err := k.view(ctx, &is[n])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// campaignView is a campaign for the API and pages.
type campaignView struct {
	Slug        string      `json:"slug"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Status      string      `json:"status"`
	Open        bool        `json:"open"`
	Policy      string      `json:"policy"`
	OpensAt     *time.Time  `json:"opens_at"`
	ClosesAt    *time.Time  `json:"closes_at"`
	DailyLimit  int         `json:"daily_limit"`
	AwardTiers  []string    `json:"award_tiers"`
	Themes      []themeView `json:"themes,omitempty"`
}

type themeView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords"`
	Ideas       int64    `json:"ideas"`
}

func newCampaignView(c *store.Campaign, themes []store.Theme, counts map[int64]int64, now time.Time) campaignView {
	v := campaignView{Slug: c.Slug, Title: c.Title, Description: c.Description, Status: c.Status,
		Open: c.AcceptsIdeas(now), Policy: c.Policy, OpensAt: c.OpensAt, ClosesAt: c.ClosesAt,
		DailyLimit: c.DailyLimit, AwardTiers: c.Awards()}
	if v.AwardTiers == nil {
		v.AwardTiers = []string{}
	}
	for _, t := range themes {
		kw := t.KeywordList()
		if kw == nil {
			kw = []string{}
		}
		v.Themes = append(v.Themes, themeView{Name: t.Name, Description: t.Description, Keywords: kw, Ideas: counts[t.ID]})
	}
	return v
}
