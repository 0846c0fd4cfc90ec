package ideas_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

var trackingCodeRe = regexp.MustCompile(`^JDZ-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func TestNewTrackingCode(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := ideas.NewTrackingCode()
		if !trackingCodeRe.MatchString(c) {
			t.Fatalf("code %q does not match %s", c, trackingCodeRe)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice in %d", c, i+1)
		}
		seen[c] = true
		if n := ideas.NormaliseTrackingCode(c); n != c {
			t.Fatalf("NormaliseTrackingCode(%q) = %q", c, n)
		}
	}
}

func TestNormaliseTrackingCode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"JDZ-7K3M-9QXD", "JDZ-7K3M-9QXD"},
		{"jdz 7k3m 9qxd", "JDZ-7K3M-9QXD"},
		{"jdz-7k3m-9qxd", "JDZ-7K3M-9QXD"},
		{"  JDZ7K3M9QXD\n", "JDZ-7K3M-9QXD"},
		{"7K3M-9QXD", "JDZ-7K3M-9QXD"},
		{"7k3m9qxd", "JDZ-7K3M-9QXD"},
		{"JDZ-7K3M-9QXO", "JDZ-7K3M-9QX0"}, // O read as zero
		{"JDZ-oK3M-9QXD", "JDZ-0K3M-9QXD"}, // lower-case o too
		{"JDZ-IK3M-9QXL", "JDZ-1K3M-9QX1"}, // I and L read as one
		{"jdz-ik3m-9qxl", "JDZ-1K3M-9QX1"}, // lower-case i and l
		{"JDZ-７K３M-９QXD", "JDZ-7K3M-9QXD"}, // full-width digits
		{"JDZ－7K3M－9QXD", "JDZ-7K3M-9QXD"}, // full-width dashes dropped
		{"JDZ-7K3M-9QX", ""},               // too short
		{"JDZ-7K3M-9QXD1", ""},             // too long
		{"7K3", ""},
		{"", ""},
		{"查询码", ""},
		{"JDZ-7K3M-9QXU", ""}, // U is not in the alphabet
	}
	for _, c := range cases {
		if got := ideas.NormaliseTrackingCode(c.in); got != c.want {
			t.Errorf("NormaliseTrackingCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTrackWithdrawEdit(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	pre := e.campaign("pre", store.PolicyPre, nil)
	post := e.campaign("post", store.PolicyPost, nil)

	t.Run("track by a code typed in lower case", func(t *testing.T) {
		r := e.submit(validSubmission(pre.Slug), ideas.Meta{})
		typed := strings.ToLower(strings.ReplaceAll(r.TrackingCode, "-", " "))
		tr, err := e.svc.Track(e.ctx, typed)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Idea.ID != r.ID || tr.Campaign.ID != pre.ID || tr.Theme != "交通出行" || !tr.CanWithdraw() || tr.CanEdit() {
			t.Errorf("tracking %+v", tr)
		}
		if len(tr.Events) != 1 || tr.Events[0].ToStatus != store.IdeaPending || !tr.Events[0].Public || tr.Events[0].Note == "" {
			t.Errorf("events %+v", tr.Events)
		}
	})

	t.Run("withdraw a pending idea", func(t *testing.T) {
		r := e.submit(validSubmission(pre.Slug), ideas.Meta{})
		idea, err := e.svc.Withdraw(e.ctx, strings.ToLower(r.TrackingCode))
		if err != nil {
			t.Fatal(err)
		}
		if idea.Status != store.IdeaWithdrawn || e.idea(r.ID).Status != store.IdeaWithdrawn {
			t.Errorf("status %s", idea.Status)
		}
		tr, err := e.svc.Track(e.ctx, r.TrackingCode)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(tr.Events); n != 2 {
			t.Fatalf("events %+v", tr.Events)
		}
		last := tr.Events[1]
		if last.FromStatus != store.IdeaPending || last.ToStatus != store.IdeaWithdrawn || !last.Public ||
			last.ActorRole != string(store.RoleResident) {
			t.Errorf("withdraw event %+v", last)
		}
		if _, err := e.svc.Withdraw(e.ctx, r.TrackingCode); !errors.Is(err, ideas.ErrNotWithdrawable) {
			t.Errorf("second withdraw: err %v, want ErrNotWithdrawable", err)
		}
	})

	t.Run("a published idea cannot be withdrawn", func(t *testing.T) {
		r := e.submit(validSubmission(post.Slug), ideas.Meta{})
		_, err := e.svc.Withdraw(e.ctx, r.TrackingCode)
		if !errors.Is(err, ideas.ErrNotWithdrawable) {
			t.Fatalf("err %v, want ErrNotWithdrawable", err)
		}
		assertProblem(t, err, ideas.ErrNotWithdrawable)
		if got := e.idea(r.ID).Status; got != store.IdeaPublished {
			t.Errorf("status %s, want published", got)
		}
		if evs, _ := e.st.IdeaEvents(e.ctx, r.ID, false); len(evs) != 1 {
			t.Errorf("events %+v, want the first only", evs)
		}
	})

	t.Run("edit after changes were requested", func(t *testing.T) {
		r := e.submit(validSubmission(pre.Slug), ideas.Meta{})
		newTitle, newBody := "建议早高峰加开大站快车", "早高峰时段建议在三号线上加开大站快车，\r\n只停换乘站，缩短通勤时间。"

		if _, err := e.svc.Edit(e.ctx, r.TrackingCode, newTitle, newBody); !errors.Is(err, ideas.ErrNotEditable) {
			t.Fatalf("edit of a pending idea: err %v, want ErrNotEditable", err)
		}
		_, err := e.st.ChangeIdeaStatus(e.ctx, r.ID, []store.IdeaStatus{store.IdeaPending}, store.IdeaChanges,
			store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Note: "内部备注：请补充线路名称"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := e.svc.Track(e.ctx, r.TrackingCode)
		if err != nil || !tr.CanEdit() || !tr.CanWithdraw() || len(tr.Events) != 1 {
			t.Fatalf("tracking after the request: %+v, %v (internal notes must not show)", tr, err)
		}

		_, err = e.svc.Edit(e.ctx, r.TrackingCode, "太短", newBody)
		assertFieldError(t, err, "title", "title_too_short")
		_, err = e.svc.Edit(e.ctx, r.TrackingCode, newTitle, "短\x07")
		assertFieldError(t, err, "body", "control_characters")
		if i := e.idea(r.ID); i.Status != store.IdeaChanges || i.Title != validSubmission("").Title {
			t.Errorf("after invalid edits: %s %q", i.Status, i.Title)
		}

		idea, err := e.svc.Edit(e.ctx, strings.ToLower(r.TrackingCode), newTitle, newBody)
		if err != nil {
			t.Fatal(err)
		}
		wantBody := strings.ReplaceAll(newBody, "\r\n", "\n")
		stored := e.idea(r.ID)
		for _, i := range []*store.Idea{idea, stored} {
			if i.Status != store.IdeaPending || i.Title != newTitle || i.Body != wantBody || i.TitleMasked != newTitle {
				t.Errorf("edited idea %s %q %q", i.Status, i.Title, i.Body)
			}
		}
		tr, _ = e.svc.Track(e.ctx, r.TrackingCode)
		if len(tr.Events) != 2 || tr.Events[1].ToStatus != store.IdeaPending || tr.Events[1].FromStatus != store.IdeaChanges {
			t.Errorf("public events %+v", tr.Events)
		}
		if _, err := e.svc.Edit(e.ctx, r.TrackingCode, newTitle, newBody); !errors.Is(err, ideas.ErrNotEditable) {
			t.Errorf("second edit: err %v, want ErrNotEditable", err)
		}
	})

	t.Run("unknown codes", func(t *testing.T) {
		for _, code := range []string{"JDZ-0000-0000", "not a code", ""} {
			if _, err := e.svc.Track(e.ctx, code); !errors.Is(err, ideas.ErrNotFound) {
				t.Errorf("Track(%q): err %v, want ErrNotFound", code, err)
			}
			if _, err := e.svc.Withdraw(e.ctx, code); !errors.Is(err, ideas.ErrNotFound) {
				t.Errorf("Withdraw(%q): err %v, want ErrNotFound", code, err)
			}
			_, err := e.svc.Edit(e.ctx, code, "建议早高峰加开大站快车", "早高峰时段建议在三号线上加开大站快车，只停换乘站。")
			if !errors.Is(err, ideas.ErrNotFound) {
				t.Errorf("Edit(%q): err %v, want ErrNotFound", code, err)
			}
		}
	})
}
