package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Campaign statuses.
const (
	CampaignDraft    = "draft"
	CampaignOpen     = "open"
	CampaignClosed   = "closed"
	CampaignArchived = "archived"
)

// Moderation policies.
const (
	PolicyPre  = "pre"  // 先审后发: everything waits for a moderator
	PolicyPost = "post" // 先发后审: low-risk items publish at once
)

// AcceptsIdeas reports whether the campaign takes submissions at now.
func (c *Campaign) AcceptsIdeas(now time.Time) bool {
	return c.Status == CampaignOpen &&
		(c.OpensAt == nil || !now.Before(*c.OpensAt)) &&
		(c.ClosesAt == nil || now.Before(*c.ClosesAt))
}

// Awards decodes the award tiers.
func (c *Campaign) Awards() []string {
	var out []string
	_ = json.Unmarshal([]byte(c.AwardTiers), &out)
	return out
}

// KeywordList decodes a theme's seed keywords.
func (t *Theme) KeywordList() []string {
	var out []string
	_ = json.Unmarshal([]byte(t.Keywords), &out)
	return out
}

// EncodeList is the stored form of a list of strings (award tiers, keywords).
func EncodeList(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

// Actor is who performs an audited action.
type Actor struct {
	ID   *int64
	Name string
	IP   string
}

// ActorFor names a user as the actor of an action.
func ActorFor(u *User, ip string) Actor {
	if u == nil {
		return Actor{Name: "anonymous", IP: ip}
	}
	return Actor{ID: &u.ID, Name: u.Name, IP: ip}
}

func (a Actor) entry(action, targetType string, targetID int64, before, after any, reason string) *AuditEntry {
	e := &AuditEntry{ActorID: a.ID, ActorName: a.Name, IP: a.IP, Action: action, TargetType: targetType,
		TargetID: &targetID, Reason: reason, BeforeJSON: "", AfterJSON: ""}
	if before != nil {
		b, _ := json.Marshal(before)
		e.BeforeJSON = string(b)
	}
	if after != nil {
		b, _ := json.Marshal(after)
		e.AfterJSON = string(b)
	}
	return e
}

// CreateCampaign adds a campaign with its themes (in order) and audits it, in
// one transaction. A taken slug is ErrConflict.
func (s *Store) CreateCampaign(ctx context.Context, c *Campaign, themes []Theme, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if c.AwardTiers == "" {
			c.AwardTiers = "[]"
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		for i := range themes {
			themes[i].CampaignID = c.ID
			themes[i].Position = i + 1
			if themes[i].Keywords == "" {
				themes[i].Keywords = "[]"
			}
		}
		if len(themes) > 0 {
			if err := tx.Create(&themes).Error; err != nil {
				return err
			}
		}
		return appendAudit(tx, by.entry("campaign.create", "campaign", c.ID, nil, campaignAudit{c, themes}, ""))
	})
	return wrap(err, "create campaign %q", c.Slug)
}

type campaignAudit struct {
	Campaign *Campaign
	Themes   []Theme
}

// UpdateCampaign saves a changed campaign and reconciles its themes by name:
// themes keep their ids (and so their ideas) when renamed only through
// their id; new names are added and themes missing from the list are kept
// if ideas use them, deleted otherwise. Audited with before and after.
func (s *Store) UpdateCampaign(ctx context.Context, c *Campaign, themes []Theme, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before Campaign
		if err := tx.Take(&before, c.ID).Error; err != nil {
			return err
		}
		var oldThemes []Theme
		if err := tx.Where("campaign_id = ?", c.ID).Order("position, id").Find(&oldThemes).Error; err != nil {
			return err
		}
		c.CreatedAt, c.CreatedBy = before.CreatedAt, before.CreatedBy
		if err := tx.Select("*").Omit("created_at", "created_by").Save(c).Error; err != nil {
			return err
		}
		keep := map[int64]bool{}
		byName := map[string]Theme{}
		for _, t := range oldThemes {
			byName[t.Name] = t
		}
		for i, t := range themes {
			t.CampaignID = c.ID
			t.Position = i + 1
			if t.Keywords == "" {
				t.Keywords = "[]"
			}
			if t.ID == 0 {
				if old, ok := byName[t.Name]; ok {
					t.ID, t.CreatedAt = old.ID, old.CreatedAt
				}
			}
			if err := tx.Save(&t).Error; err != nil {
				return err
			}
			keep[t.ID] = true
			themes[i] = t
		}
		for _, t := range oldThemes {
			if keep[t.ID] {
				continue
			}
			var used int64
			if err := tx.Model(&Idea{}).Where("theme_id = ?", t.ID).Count(&used).Error; err != nil {
				return err
			}
			if used == 0 {
				if err := tx.Delete(&Theme{}, t.ID).Error; err != nil {
					return err
				}
			}
		}
		return appendAudit(tx, by.entry("campaign.update", "campaign", c.ID,
			campaignAudit{&before, oldThemes}, campaignAudit{c, themes}, ""))
	})
	return wrap(err, "update campaign %q", c.Slug)
}

// CampaignBySlug returns the campaign with that slug.
func (s *Store) CampaignBySlug(ctx context.Context, slug string) (*Campaign, error) {
	var c Campaign
	if err := s.r.WithContext(ctx).Where("slug = ?", slug).Take(&c).Error; err != nil {
		return nil, wrap(err, "campaign %q", slug)
	}
	return &c, nil
}

// CampaignByID returns the campaign with that id.
func (s *Store) CampaignByID(ctx context.Context, id int64) (*Campaign, error) {
	var c Campaign
	if err := s.r.WithContext(ctx).Take(&c, id).Error; err != nil {
		return nil, wrap(err, "campaign %d", id)
	}
	return &c, nil
}

// Campaigns lists campaigns, newest first. With public set, drafts are left out.
func (s *Store) Campaigns(ctx context.Context, public bool, page Page) ([]Campaign, int64, error) {
	q := s.r.WithContext(ctx).Model(&Campaign{})
	if public {
		q = q.Where("status <> ?", CampaignDraft)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count campaigns")
	}
	var cs []Campaign
	err := q.Order("id DESC").Offset(page.Offset()).Limit(page.Limit()).Find(&cs).Error
	return cs, total, wrap(err, "list campaigns")
}

// Themes returns a campaign's themes in their order.
func (s *Store) Themes(ctx context.Context, campaignID int64) ([]Theme, error) {
	var ts []Theme
	err := s.r.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("position, id").Find(&ts).Error
	return ts, wrap(err, "themes of campaign %d", campaignID)
}

// ThemeCounts returns, per theme id, how many public ideas the campaign has
// under it (key 0: no theme).
func (s *Store) ThemeCounts(ctx context.Context, campaignID int64) (map[int64]int64, error) {
	var rows []struct {
		ThemeID *int64
		N       int64
	}
	err := s.r.WithContext(ctx).Model(&Idea{}).Select("theme_id, COUNT(*) AS n").
		Where("campaign_id = ? AND status IN ? AND hidden = ?", campaignID, PublicStatuses(), false).
		Group("theme_id").Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "theme counts of campaign %d", campaignID)
	}
	out := map[int64]int64{}
	for _, r := range rows {
		var id int64
		if r.ThemeID != nil {
			id = *r.ThemeID
		}
		out[id] += r.N
	}
	return out, nil
}

// EnsureTheme returns the campaign's theme with that name, creating it (at the
// end of the list) if missing.
func (s *Store) EnsureTheme(ctx context.Context, campaignID int64, name string) (*Theme, error) {
	var t Theme
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("campaign_id = ? AND name = ?", campaignID, name).Take(&t).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var maxPos *int
		if err := tx.Model(&Theme{}).Select("MAX(position)").Where("campaign_id = ?", campaignID).Scan(&maxPos).Error; err != nil {
			return err
		}
		t = Theme{CampaignID: campaignID, Name: name, Keywords: "[]"}
		if maxPos != nil {
			t.Position = *maxPos + 1
		}
		return tx.Create(&t).Error
	})
	if err != nil {
		return nil, wrap(err, "ensure theme %q", name)
	}
	return &t, nil
}

// Page selects one page of a list. Zero values mean the first page of 20.
type Page struct {
	Number  int // 1-based
	PerPage int
}

// MaxPerPage caps any page size a client asks for.
const MaxPerPage = 100

// Limit is the page size, within 1..MaxPerPage.
func (p Page) Limit() int {
	switch {
	case p.PerPage <= 0:
		return 20
	case p.PerPage > MaxPerPage:
		return MaxPerPage
	}
	return p.PerPage
}

// Offset is how many rows precede the page.
func (p Page) Offset() int {
	if p.Number <= 1 {
		return 0
	}
	return (p.Number - 1) * p.Limit()
}
