package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"jindianzi/portal/campaign"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

func validInput() campaign.Input {
	return campaign.Input{
		Slug: "city-2025", Title: "2025 年城市建设金点子征集",
		Themes: []campaign.ThemeInput{
			{Name: "交通出行", Description: "公交、地铁、停车", Keywords: []string{"公交", "地铁"}},
			{Name: "环境保护", Keywords: []string{"垃圾", "噪音"}},
		},
	}
}

func intp(n int) *int { return &n }

func assertFieldError(t *testing.T, err error, field, code string) {
	t.Helper()
	var ie *input.Errors
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want *input.Errors", err, err)
	}
	for _, f := range ie.Fields {
		if f.Field == field && f.Code == code {
			if !strings.ContainsFunc(f.Message, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("%s/%s: message %q is not Chinese", field, code, f.Message)
			}
			return
		}
	}
	t.Errorf("errors %+v, want %s on %s", ie.Fields, code, field)
}

func TestInputValidateRejects(t *testing.T) {
	opens := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	before := opens.Add(-time.Hour)
	manyThemes := make([]campaign.ThemeInput, campaign.MaxThemes+1)
	for i := range manyThemes {
		manyThemes[i] = campaign.ThemeInput{Name: fmt.Sprintf("主题%d", i+1)}
	}
	cases := []struct {
		name        string
		change      func(*campaign.Input)
		field, code string
	}{
		{"empty slug", func(in *campaign.Input) { in.Slug = "" }, "slug", "invalid_slug"},
		{"slug with space", func(in *campaign.Input) { in.Slug = "city 2025" }, "slug", "invalid_slug"},
		{"slug with Chinese", func(in *campaign.Input) { in.Slug = "城市-2025" }, "slug", "invalid_slug"},
		{"slug ending in a dash", func(in *campaign.Input) { in.Slug = "city-" }, "slug", "invalid_slug"},
		{"slug of two characters", func(in *campaign.Input) { in.Slug = "ab" }, "slug", "invalid_slug"},
		{"slug of 65 characters", func(in *campaign.Input) { in.Slug = strings.Repeat("a", 65) }, "slug", "invalid_slug"},
		{"one-character title", func(in *campaign.Input) { in.Title = "征" }, "title", "invalid_title"},
		{"empty title", func(in *campaign.Input) { in.Title = "  " }, "title", "invalid_title"},
		{"title with a control character", func(in *campaign.Input) { in.Title = "征集\x00活动" }, "title", "control_characters"},
		{"closes before it opens", func(in *campaign.Input) { in.OpensAt, in.ClosesAt = &opens, &before }, "closes_at", "invalid_dates"},
		{"closes as it opens", func(in *campaign.Input) { in.OpensAt, in.ClosesAt = &opens, &opens }, "closes_at", "invalid_dates"},
		{"unknown policy", func(in *campaign.Input) { in.Policy = "later" }, "policy", "invalid_policy"},
		{"unknown status", func(in *campaign.Input) { in.Status = "paused" }, "status", "invalid_status"},
		{"negative daily limit", func(in *campaign.Input) { in.DailyLimit = intp(-1) }, "daily_limit", "invalid_daily_limit"},
		{"review deadline of 0 days", func(in *campaign.Input) { in.ReviewDays = intp(0) }, "review_days", "invalid_review_days"},
		{"report threshold of 0", func(in *campaign.Input) { in.ReportThreshold = intp(0) }, "report_threshold", "invalid_report_threshold"},
		{"duplicate theme names", func(in *campaign.Input) {
			in.Themes = append(in.Themes, campaign.ThemeInput{Name: " 交通出行 "})
		}, "themes[2].name", "duplicate_theme"},
		{"empty theme name", func(in *campaign.Input) { in.Themes[1].Name = "" }, "themes[1].name", "invalid_theme_name"},
		{"too many themes", func(in *campaign.Input) { in.Themes = manyThemes }, "themes", "too_many_themes"},
		{"keyword too long", func(in *campaign.Input) {
			in.Themes[0].Keywords = []string{"公交", strings.Repeat("长", 21)}
		}, "themes[0].keywords", "too_long"},
		{"too many keywords", func(in *campaign.Input) {
			in.Themes[0].Keywords = make([]string, campaign.MaxKeywords+1)
		}, "themes[0].keywords", "too_many"},
		{"too many award tiers", func(in *campaign.Input) { in.AwardTiers = make([]string, campaign.MaxAwards+1) }, "award_tiers", "too_many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validInput()
			c.change(&in)
			camp, themes, err := in.Validate()
			if camp != nil || themes != nil {
				t.Errorf("returned %+v %+v with an error", camp, themes)
			}
			assertFieldError(t, err, c.field, c.code)
		})
	}
}

func TestInputValidateDefaults(t *testing.T) {
	in := validInput()
	in.Slug = "  City-2025 "
	in.Themes[1].Keywords = []string{" 垃圾 ", "", "噪音"}
	in.AwardTiers = []string{"一等奖", " ", "二等奖"}
	c, themes, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Slug != "city-2025" || c.Status != store.CampaignOpen || c.Policy != store.PolicyPre || c.DailyLimit != 5 ||
		c.ReviewDays != 3 || c.ReportThreshold != 3 || c.OpensAt != nil || c.ClosesAt != nil {
		t.Errorf("campaign %+v", c)
	}
	if got := c.Awards(); len(got) != 2 || got[0] != "一等奖" || got[1] != "二等奖" {
		t.Errorf("awards %q", c.AwardTiers)
	}
	if len(themes) != 2 || themes[0].Name != "交通出行" || themes[0].Description != "公交、地铁、停车" {
		t.Fatalf("themes %+v", themes)
	}
	if kw := themes[1].KeywordList(); len(kw) != 2 || kw[0] != "垃圾" || kw[1] != "噪音" {
		t.Errorf("keywords %q", themes[1].Keywords)
	}

	// Explicit values win over the defaults, and times are kept in UTC.
	opens := time.Date(2025, 7, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	closes := opens.AddDate(0, 1, 0)
	in = validInput()
	in.Status, in.Policy, in.DailyLimit, in.OpensAt, in.ClosesAt = store.CampaignDraft, store.PolicyPost, intp(0), &opens, &closes
	c, _, err = in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.CampaignDraft || c.Policy != store.PolicyPost || c.DailyLimit != 0 ||
		c.OpensAt.Location() != time.UTC || !c.OpensAt.Equal(opens) || !c.ClosesAt.Equal(closes) {
		t.Errorf("campaign %+v", c)
	}
	if _, _, err := (campaign.Input{Slug: "no-themes", Title: "没有主题的活动"}).Validate(); err != nil {
		t.Errorf("a campaign without themes: %v", err)
	}
}

func TestCreate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		by := store.Actor{Name: "test"}
		c, err := campaign.Create(ctx, st, validInput(), by)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.CampaignBySlug(ctx, "city-2025")
		if err != nil || got.ID != c.ID || got.Title != c.Title || got.Policy != store.PolicyPre {
			t.Fatalf("stored %+v, %v", got, err)
		}
		themes, err := st.Themes(ctx, c.ID)
		if err != nil || len(themes) != 2 || themes[0].Name != "交通出行" || themes[0].Position != 1 || themes[1].Position != 2 {
			t.Errorf("themes %+v, %v", themes, err)
		}

		dup := validInput()
		dup.Slug = "CITY-2025"
		dup.Title = "另一个活动"
		_, err = campaign.Create(ctx, st, dup, by)
		assertFieldError(t, err, "slug", "slug_taken")
		if _, n, _ := st.Campaigns(ctx, false, store.Page{}); n != 1 {
			t.Errorf("campaigns: %d, want 1", n)
		}

		_, err = campaign.Create(ctx, st, campaign.Input{Slug: "x"}, by)
		assertFieldError(t, err, "slug", "invalid_slug")

		entries, err := st.AuditEntries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "campaign.create" || entries[0].ActorName != "test" ||
			entries[0].TargetID == nil || *entries[0].TargetID != c.ID || !strings.Contains(entries[0].AfterJSON, "交通出行") {
			t.Errorf("audit %+v", entries)
		}
	})
}

func TestUpdateReconcilesThemes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		by := store.Actor{Name: "test"}
		in := validInput()
		in.Themes = append(in.Themes, campaign.ThemeInput{Name: "教育"}, campaign.ThemeInput{Name: "医疗"})
		c, err := campaign.Create(ctx, st, in, by)
		if err != nil {
			t.Fatal(err)
		}
		old := themeIDs(t, st, c.ID)
		// An idea under 环境保护 and one under 教育.
		for i, name := range []string{"环境保护", "教育"} {
			id := old[name]
			idea := &store.Idea{CampaignID: c.ID, ThemeID: &id, TrackingCode: fmt.Sprintf("JDZ-TEST-000%d", i),
				Title: "测试建议标题", Body: "测试建议的正文内容，足够长。", Status: store.IdeaPending, Source: "web"}
			if err := st.CreateIdea(ctx, idea, nil, "测试"); err != nil {
				t.Fatal(err)
			}
		}

		// Keep 交通出行 (new keywords), rename 教育 and 医疗, add 文化, drop 环境保护.
		up := validInput()
		up.Title = "2025 年城市建设金点子征集（延长）"
		up.Policy = store.PolicyPost
		up.Themes = []campaign.ThemeInput{
			{Name: "教育文体"},
			{Name: "交通出行", Keywords: []string{"公交", "地铁", "停车"}},
			{Name: "卫生健康"},
			{Name: "文化"},
		}
		u, err := campaign.Update(ctx, st, c.ID, up, by)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != c.ID {
			t.Errorf("updated id %d", u.ID)
		}
		got, err := st.CampaignByID(ctx, c.ID)
		if err != nil || got.Title != up.Title || got.Policy != store.PolicyPost || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("stored %+v, %v", got, err)
		}
		now := themeIDs(t, st, c.ID)
		if now["交通出行"] != old["交通出行"] {
			t.Errorf("交通出行 changed id %d → %d", old["交通出行"], now["交通出行"])
		}
		if now["环境保护"] != old["环境保护"] {
			t.Errorf("环境保护 (used by an idea) was not kept: %v", now)
		}
		if now["教育"] != old["教育"] {
			t.Errorf("教育 (used by an idea) was not kept: %v", now)
		}
		if _, ok := now["医疗"]; ok {
			t.Errorf("医疗 (unused) was kept: %v", now)
		}
		for _, name := range []string{"教育文体", "卫生健康", "文化"} {
			if now[name] == 0 {
				t.Errorf("%s missing: %v", name, now)
			}
		}
		if len(now) != 6 {
			t.Errorf("themes %v", now)
		}
		themes, _ := st.Themes(ctx, c.ID)
		for _, th := range themes {
			if th.Name == "交通出行" && (th.Position != 2 || len(th.KeywordList()) != 3) {
				t.Errorf("交通出行 %+v", th)
			}
		}

		entries, err := st.AuditEntries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "campaign.update" || entries[1].Action != "campaign.create" ||
			*entries[0].TargetID != c.ID || !strings.Contains(entries[0].BeforeJSON, "医疗") ||
			!strings.Contains(entries[0].AfterJSON, "卫生健康") {
			t.Errorf("audit %+v", entries)
		}

		// Another campaign's slug is taken; an unknown id is not found.
		other := validInput()
		other.Slug = "other-2025"
		if _, err := campaign.Create(ctx, st, other, by); err != nil {
			t.Fatal(err)
		}
		_, err = campaign.Update(ctx, st, c.ID, other, by)
		assertFieldError(t, err, "slug", "slug_taken")
		if _, err := campaign.Update(ctx, st, 999999, validInput(), by); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of a missing campaign: %v", err)
		}
		bad := validInput()
		bad.Title = ""
		_, err = campaign.Update(ctx, st, c.ID, bad, by)
		assertFieldError(t, err, "title", "invalid_title")
	})
}

func themeIDs(t *testing.T, st *store.Store, campaignID int64) map[string]int64 {
	t.Helper()
	ts, err := st.Themes(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, th := range ts {
		out[th.Name] = th.ID
	}
	return out
}
