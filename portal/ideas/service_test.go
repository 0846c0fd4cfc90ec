package ideas_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jindianzi/portal/attachment"
	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

func TestSubmitFollowsPolicy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		post := e.campaign("post-campaign", store.PolicyPost, nil)
		pre := e.campaign("pre-campaign", store.PolicyPre, nil)

		sub := validSubmission(post.Slug)
		sub.Phone = "+86 138-0013-8000"
		r := e.submit(sub, ideas.Meta{IP: "203.0.113.7"}, attachment.Upload{Name: `C:\Users\张\街景.png`, Data: pngBytes(t)})
		if r.Status != string(store.IdeaPublished) || r.Theme != "交通出行" || r.ThemeSuggested || r.Replayed || r.ID == 0 {
			t.Errorf("post receipt %+v", r)
		}
		got := e.idea(r.ID)
		if got.Status != store.IdeaPublished || got.PublishedAt == nil || got.TrackingCode != r.TrackingCode ||
			got.ContactPhone != "13800138000" || got.SubmitterKey != ideas.SubmitterKey("13800138000", "") ||
			got.Source != "web" || got.ClientIP != "203.0.113.7" || got.CampaignID != post.ID ||
			got.IdempotencyKey != nil || !got.CreatedAt.Equal(e.now) {
			t.Errorf("stored idea %+v", got)
		}
		as, err := st.Attachments(e.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].ContentType != "image/png" || as[0].OriginalName != "街景.png" || as[0].SizeBytes == 0 {
			t.Fatalf("attachments %+v", as)
		}
		if _, err := os.Stat(filepath.Join(e.dir, filepath.FromSlash(as[0].StoredName))); err != nil {
			t.Errorf("stored file: %v", err)
		}
		if fs := e.storedFiles(); len(fs) != 1 {
			t.Errorf("attachment directory holds %v, want one file", fs)
		}

		r2 := e.submit(validSubmission(pre.Slug), ideas.Meta{})
		if r2.Status != string(store.IdeaPending) || r2.TrackingCode == r.TrackingCode {
			t.Errorf("pre receipt %+v", r2)
		}
		if p := e.idea(r2.ID); p.Status != store.IdeaPending || p.PublishedAt != nil {
			t.Errorf("pre idea status %s published %v", p.Status, p.PublishedAt)
		}
		evs, err := st.IdeaEvents(e.ctx, r2.ID, true)
		if err != nil || len(evs) != 1 || evs[0].ToStatus != store.IdeaPending {
			t.Errorf("events %+v, %v", evs, err)
		}
	})
}

func TestSubmitThemes(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("themes", store.PolicyPost, nil)

	t.Run("chosen theme", func(t *testing.T) {
		sub := validSubmission(c.Slug)
		sub.Theme = "教育文体" // the text talks of buses: the choice still wins
		r := e.submit(sub, ideas.Meta{})
		if r.Theme != "教育文体" || r.ThemeSuggested {
			t.Errorf("receipt %+v", r)
		}
		if i := e.idea(r.ID); i.ThemeID == nil || i.ThemeSuggested {
			t.Errorf("idea theme %v suggested %v", i.ThemeID, i.ThemeSuggested)
		}
	})
	t.Run("suggested from a seed keyword", func(t *testing.T) {
		sub := validSubmission(c.Slug)
		sub.Theme, sub.Title = "", "小区环境问题的建议"
		sub.Body = "小区门口的垃圾桶经常满了没人清理，夏天气味很大，建议增加清运次数。"
		r := e.submit(sub, ideas.Meta{})
		if r.Theme != "环境保护" || !r.ThemeSuggested {
			t.Errorf("receipt %+v", r)
		}
		themes, _ := e.st.Themes(e.ctx, c.ID)
		if i := e.idea(r.ID); i.ThemeID == nil || *i.ThemeID != themes[1].ID || !i.ThemeSuggested {
			t.Errorf("idea theme %v suggested %v", i.ThemeID, i.ThemeSuggested)
		}
	})
	t.Run("nothing to suggest", func(t *testing.T) {
		sub := validSubmission(c.Slug)
		sub.Theme, sub.Title = "", "关于网上办事的建议"
		sub.Body = "网上办事大厅的页面太复杂，老年人不会用，建议做一个简洁版本。"
		r := e.submit(sub, ideas.Meta{})
		if r.Theme != "" || r.ThemeSuggested || e.idea(r.ID).ThemeID != nil {
			t.Errorf("receipt %+v", r)
		}
	})
	t.Run("unknown theme", func(t *testing.T) {
		before := e.countIdeas(0)
		sub := validSubmission(c.Slug)
		sub.Theme = "医疗卫生"
		_, err := e.svc.Submit(e.ctx, sub, []attachment.Upload{{Name: "a.png", Data: pngBytes(t)}}, ideas.Meta{})
		assertFieldError(t, err, "theme", "unknown_theme")
		e.assertNothingWritten(before)
	})
}

func TestSubmitClosedOrUnknownCampaign(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	hour := time.Hour
	past, future, longAgo := e.now.Add(-hour), e.now.Add(hour), e.now.Add(-48*hour)
	e.campaign("draft", store.PolicyPost, func(in *campaign.Input) { in.Status = store.CampaignDraft })
	e.campaign("closed", store.PolicyPost, func(in *campaign.Input) { in.Status = store.CampaignClosed })
	e.campaign("ended", store.PolicyPost, func(in *campaign.Input) { in.OpensAt, in.ClosesAt = &longAgo, &past })
	e.campaign("upcoming", store.PolicyPost, func(in *campaign.Input) { in.OpensAt = &future })
	e.campaign("archived", store.PolicyPost, func(in *campaign.Input) { in.Status = store.CampaignArchived })
	open := e.campaign("running", store.PolicyPost, func(in *campaign.Input) { in.OpensAt, in.ClosesAt = &longAgo, &future })

	for _, slug := range []string{"no-such-campaign", "draft"} {
		t.Run(slug, func(t *testing.T) {
			_, err := e.svc.Submit(e.ctx, validSubmission(slug), []attachment.Upload{{Name: "a.png", Data: pngBytes(t)}}, ideas.Meta{})
			assertFieldError(t, err, "campaign", "unknown_campaign")
			e.assertNothingWritten(0)
		})
	}
	for _, slug := range []string{"closed", "ended", "upcoming", "archived"} {
		t.Run(slug, func(t *testing.T) {
			_, err := e.svc.Submit(e.ctx, validSubmission(slug), []attachment.Upload{{Name: "a.png", Data: pngBytes(t)}}, ideas.Meta{})
			if !errors.Is(err, ideas.ErrCampaignClosed) {
				t.Fatalf("err %v, want ErrCampaignClosed", err)
			}
			e.assertNothingWritten(0)
		})
	}
	t.Run("open between its dates", func(t *testing.T) {
		if r := e.submit(validSubmission(open.Slug), ideas.Meta{}); r.Status != string(store.IdeaPublished) {
			t.Errorf("receipt %+v", r)
		}
		// At the closing instant the campaign no longer takes ideas.
		e.now = future
		_, err := e.svc.Submit(e.ctx, validSubmission(open.Slug), nil, ideas.Meta{})
		if !errors.Is(err, ideas.ErrCampaignClosed) {
			t.Errorf("at closes_at: err %v, want ErrCampaignClosed", err)
		}
	})
}

func TestSubmitDailyLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		limit := 2
		c := e.campaign("limited", store.PolicyPre, func(in *campaign.Input) { in.DailyLimit = &limit })
		other := e.campaign("other", store.PolicyPre, nil)
		e.now = time.Date(2025, 6, 15, 23, 59, 0, 0, cst)

		first := e.submit(validSubmission(c.Slug), ideas.Meta{IdempotencyKey: "k-1"})
		sub := validSubmission(c.Slug)
		sub.Phone = "+86 138-0013-8000" // the same person, typed differently
		e.submit(sub, ideas.Meta{})
		_, err := e.svc.Submit(e.ctx, validSubmission(c.Slug), []attachment.Upload{{Name: "a.png", Data: pngBytes(t)}}, ideas.Meta{})
		if !errors.Is(err, ideas.ErrDailyLimit) {
			t.Fatalf("third submission: err %v, want ErrDailyLimit", err)
		}
		assertProblem(t, err, ideas.ErrDailyLimit)
		e.assertNothingWritten(2)

		// A repeat of an earlier request is answered, not counted.
		r, err := e.svc.Submit(e.ctx, validSubmission(c.Slug), nil, ideas.Meta{IdempotencyKey: "k-1"})
		if err != nil || !r.Replayed || r.ID != first.ID {
			t.Errorf("replay at the limit: %+v, %v", r, err)
		}
		// Another person, and the same person in another campaign, are not limited.
		sub = validSubmission(c.Slug)
		sub.Phone = "13900139000"
		e.submit(sub, ideas.Meta{})
		e.submit(validSubmission(other.Slug), ideas.Meta{})

		// Two minutes later it is the next day in China (15:59 → 16:01 UTC).
		e.now = time.Date(2025, 6, 16, 0, 1, 0, 0, cst)
		r = e.submit(validSubmission(c.Slug), ideas.Meta{})
		if got := e.idea(r.ID).CreatedAt; !got.Equal(e.now) {
			t.Errorf("created_at %v, want the service clock %v", got, e.now)
		}
		e.submit(validSubmission(c.Slug), ideas.Meta{})
		if _, err := e.svc.Submit(e.ctx, validSubmission(c.Slug), nil, ideas.Meta{}); !errors.Is(err, ideas.ErrDailyLimit) {
			t.Errorf("third on the new day: err %v, want ErrDailyLimit", err)
		}
		if n := e.countIdeas(c.ID); n != 5 {
			t.Errorf("ideas in the limited campaign: %d, want 5", n)
		}
	})
}

func TestSubmitIdempotency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.campaign("idem", store.PolicyPost, nil)
		meta := ideas.Meta{IdempotencyKey: "0b6f3c9e-4c41-4a8e-9d4b-2a1f0c7d5e11"}

		r1 := e.submit(validSubmission(c.Slug), meta, attachment.Upload{Name: "a.png", Data: pngBytes(t)})
		r2 := e.submit(validSubmission(c.Slug), meta, attachment.Upload{Name: "a.png", Data: pngBytes(t)})
		if r1.Replayed || !r2.Replayed {
			t.Errorf("replayed: first %v, second %v", r1.Replayed, r2.Replayed)
		}
		if r1.ID != r2.ID || r1.TrackingCode != r2.TrackingCode || r1.Status != r2.Status || r1.Theme != r2.Theme {
			t.Errorf("receipts differ: %+v and %+v", r1, r2)
		}
		if n := e.countIdeas(c.ID); n != 1 {
			t.Errorf("ideas: %d, want 1", n)
		}
		if fs := e.storedFiles(); len(fs) != 1 {
			t.Errorf("files %v, want the first submission's only", fs)
		}
		if i := e.idea(r1.ID); i.IdempotencyKey == nil || strings.Contains(*i.IdempotencyKey, meta.IdempotencyKey) {
			t.Errorf("idempotency key stored as %v, want a scoped hash", i.IdempotencyKey)
		}

		// The same key from someone else is their own, new idea.
		sub := validSubmission(c.Slug)
		sub.Phone, sub.Email = "", "li@example.com"
		r3 := e.submit(sub, meta)
		if r3.Replayed || r3.ID == r1.ID || r3.TrackingCode == r1.TrackingCode {
			t.Errorf("other contact got %+v, first was %+v", r3, r1)
		}
		// No key: every request is a new idea.
		r4 := e.submit(validSubmission(c.Slug), ideas.Meta{})
		r5 := e.submit(validSubmission(c.Slug), ideas.Meta{IdempotencyKey: "   "})
		if r4.ID == r5.ID || r5.Replayed {
			t.Errorf("keyless submissions %+v %+v", r4, r5)
		}
		if n := e.countIdeas(c.ID); n != 4 {
			t.Errorf("ideas: %d, want 4", n)
		}
	})
}

func TestSubmitAttachments(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("files", store.PolicyPost, nil)
	good := func(name string) attachment.Upload { return attachment.Upload{Name: name, Data: pngBytes(t)} }

	big := make([]byte, attachment.MaxSize+1)
	copy(big, pngBytes(t))
	failures := []struct {
		name  string
		files []attachment.Upload
		code  string
	}{
		{"four files", []attachment.Upload{good("1.png"), good("2.png"), good("3.png"), good("4.png")}, "too_many_attachments"},
		{"executable named photo.jpg", []attachment.Upload{good("1.png"), exeAsJPEG()}, "attachment_unsupported"},
		{"5 MB and one byte", []attachment.Upload{{Name: "big.png", Data: big}}, "attachment_too_large"},
		{"empty file", []attachment.Upload{{Name: "empty.png"}}, "attachment_empty"},
		{"truncated PNG", []attachment.Upload{{Name: "cut.png", Data: pngBytes(t)[:40]}}, "attachment_unsupported"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			_, err := e.svc.Submit(e.ctx, validSubmission(c.Slug), f.files, ideas.Meta{})
			assertFieldError(t, err, "attachments", f.code)
			e.assertNothingWritten(0)
		})
	}
	t.Run("bad file and bad text are reported together", func(t *testing.T) {
		sub := validSubmission(c.Slug)
		sub.Title = ""
		_, err := e.svc.Submit(e.ctx, sub, []attachment.Upload{exeAsJPEG()}, ideas.Meta{})
		assertFieldError(t, err, "title", "title_empty")
		assertFieldError(t, err, "attachments", "attachment_unsupported")
		e.assertNothingWritten(0)
	})
	t.Run("three files", func(t *testing.T) {
		r := e.submit(validSubmission(c.Slug), ideas.Meta{},
			good("一.png"), attachment.Upload{Name: "二.jpg", Data: jpegBytes(t)}, good("三.png"))
		as, err := e.st.Attachments(e.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"image/png", "image/jpeg", "image/png"}
		if len(as) != 3 {
			t.Fatalf("attachments %+v", as)
		}
		for i, a := range as {
			if a.ContentType != want[i] || a.IdeaID != r.ID || len(a.Sha256) != 64 {
				t.Errorf("attachment %d: %+v", i, a)
			}
			if _, err := os.Stat(filepath.Join(e.dir, filepath.FromSlash(a.StoredName))); err != nil {
				t.Errorf("attachment %d: %v", i, err)
			}
		}
		if fs := e.storedFiles(); len(fs) != 3 {
			t.Errorf("files %v", fs)
		}
	})
}

func TestSubmitBlockedUser(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("blocked", store.PolicyPost, nil)
	u := e.user("spammer", store.RoleResident)
	at := e.now.Add(-time.Hour)
	u.BlockedAt = &at
	_, err := e.svc.Submit(e.ctx, validSubmission(c.Slug), []attachment.Upload{{Name: "a.png", Data: pngBytes(t)}}, ideas.Meta{User: u})
	if !errors.Is(err, ideas.ErrBlocked) {
		t.Fatalf("err %v, want ErrBlocked", err)
	}
	e.assertNothingWritten(0)

	// The same user before the block, signed in: the idea is theirs.
	u.BlockedAt = nil
	r := e.submit(validSubmission(c.Slug), ideas.Meta{User: u})
	if i := e.idea(r.ID); i.AuthorID == nil || *i.AuthorID != u.ID {
		t.Errorf("author %v, want %d", i.AuthorID, u.ID)
	}
}

// TestSubmitIdempotencyRace sends the same request several times at once, as
// a browser retrying on a flaky network does: one idea, one stored file, the
// same receipt for everyone.
func TestSubmitIdempotencyRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.campaign("race", store.PolicyPost, nil)
		const n = 8
		receipts := make([]ideas.Receipt, n)
		errs := make([]error, n)
		img := pngBytes(t)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				receipts[i], errs[i] = e.svc.Submit(e.ctx, validSubmission(c.Slug),
					[]attachment.Upload{{Name: "a.png", Data: img}}, ideas.Meta{IdempotencyKey: "retry-1"})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if receipts[i].ID != receipts[0].ID || receipts[i].TrackingCode != receipts[0].TrackingCode {
				t.Errorf("request %d: %+v, request 0: %+v", i, receipts[i], receipts[0])
			}
			if !receipts[i].Replayed {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d requests created the idea, want 1", fresh)
		}
		if got := e.countIdeas(c.ID); got != 1 {
			t.Errorf("ideas: %d, want 1", got)
		}
		if fs := e.storedFiles(); len(fs) != 1 {
			t.Errorf("files %v, want the winner's only", fs)
		}
	})
}
