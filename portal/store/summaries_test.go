package store_test

import (
	"slices"
	"testing"

	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// TestIdeaSummariesByIDs checks that summaries carry what a search hit
// shows and decides visibility by, as the full rows do, on both databases.
func TestIdeaSummariesByIDs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newModEnv(t, st)
		c, _ := e.campaign("summaries", 3)
		shown := e.idea(c, store.IdeaPublished, func(i *store.Idea) {
			i.Title, i.TitleMasked = "电话13800138000的建议", "电话138****8000的建议"
			i.Body, i.BodyMasked = "请打13800138000联系我", "请打138****8000联系我"
			i.ContactPhone = "13800138000"
		})
		pending := e.idea(c, store.IdeaPending, nil)
		hidden := e.idea(c, store.IdeaPublished, func(i *store.Idea) { i.Hidden = true })
		// Nothing masked: no masked copies, the texts as sent are shown.
		plain := e.idea(c, store.IdeaPublished, func(i *store.Idea) {
			i.Title, i.Body, i.TitleMasked, i.BodyMasked = "路灯不亮", "小区门口的路灯坏了", "", ""
		})

		got, err := st.IdeaSummariesByIDs(e.ctx, []int64{shown.ID, pending.ID, hidden.ID, plain.ID, 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("%d summaries for 4 ideas and a missing id: %+v", len(got), got)
		}
		for _, s := range got {
			if s.ID == shown.ID && (s.Title != "电话138****8000的建议" || s.Body != "请打138****8000联系我") {
				t.Errorf("summary of a masked idea shows %q / %q", s.Title, s.Body)
			}
			if s.ID == plain.ID && (s.Title != "路灯不亮" || s.Body != "小区门口的路灯坏了") {
				t.Errorf("summary of an idea without masked copies shows %q / %q", s.Title, s.Body)
			}
		}
		full, err := st.IdeasByIDs(e.ctx, []int64{shown.ID, pending.ID, hidden.ID, plain.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			i := full[slices.IndexFunc(full, func(i store.Idea) bool { return i.ID == s.ID })]
			title, body := i.TitleMasked, i.BodyMasked
			if title == "" {
				title = i.Title
			}
			if body == "" {
				body = i.Body
			}
			want := store.IdeaSummary{ID: i.ID, CampaignID: i.CampaignID, CampaignTitle: c.Title, Title: title, Body: body, Status: i.Status, Hidden: i.Hidden}
			if s != want {
				t.Errorf("summary %+v, row %+v", s, want)
			}
			if s.Visible() != i.Visible() {
				t.Errorf("idea %d: summary visible %v, row %v", s.ID, s.Visible(), i.Visible())
			}
		}
		// Titles only: the same rows without their bodies.
		titles, err := st.IdeaTitlesByIDs(e.ctx, []int64{shown.ID, pending.ID, hidden.ID, plain.ID, 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if len(titles) != len(got) {
			t.Fatalf("%d titles, %d summaries", len(titles), len(got))
		}
		for _, ti := range titles {
			s := got[slices.IndexFunc(got, func(s store.IdeaSummary) bool { return s.ID == ti.ID })]
			s.Body = ""
			if ti != s {
				t.Errorf("title row %+v, summary without its body %+v", ti, s)
			}
		}
		if none, err := st.IdeaSummariesByIDs(e.ctx, nil); err != nil || none == nil || len(none) != 0 {
			t.Errorf("no ids: %v, %v", none, err)
		}
	})
}
