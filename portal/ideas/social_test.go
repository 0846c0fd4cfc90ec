package ideas_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

func TestSupports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		post := e.campaign("post", store.PolicyPost, nil)
		pre := e.campaign("pre", store.PolicyPre, nil)
		published := e.submit(validSubmission(post.Slug), ideas.Meta{})
		pending := e.submit(validSubmission(pre.Slug), ideas.Meta{})
		alice, bob := e.user("alice", store.RoleResident), e.user("bob", store.RoleResident)

		steps := []struct {
			name   string
			user   *store.User
			remove bool
			want   int
		}{
			{"support", alice, false, 1},
			{"support twice", alice, false, 1},
			{"withdraw", alice, true, 0},
			{"withdraw again", alice, true, 0},
			{"support again", alice, false, 1},
			{"another resident", bob, false, 2},
		}
		for _, s := range steps {
			n, err := e.svc.Support(e.ctx, s.user, published.ID, s.remove)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if stored := e.idea(published.ID).SupportsCount; n != s.want || stored != s.want {
				t.Fatalf("%s: returned %d, stored %d, want %d", s.name, n, stored, s.want)
			}
		}
		if ok, err := st.HasSupported(e.ctx, published.ID, alice.ID); err != nil || !ok {
			t.Errorf("HasSupported(alice) = %v, %v", ok, err)
		}

		t.Run("imported supports add up", func(t *testing.T) {
			csv := "id,title,time,body,likes\n" +
				"1,建议增加社区停车位,2024-05-01 09:00:00,小区停车位严重不足，晚上车辆只能停在消防通道上，存在安全隐患。,7\n"
			rep, err := e.svc.Import(e.ctx, strings.NewReader(csv), ideas.ImportOptions{Campaign: post.Slug, Publish: true})
			if err != nil || rep.Imported != 1 {
				t.Fatalf("import %+v, %v", rep, err)
			}
			ideasList, _, err := st.Ideas(e.ctx, store.IdeaFilter{CampaignID: post.ID, Sort: store.SortSupported})
			if err != nil {
				t.Fatal(err)
			}
			imported := ideasList[0]
			if imported.Source != "import" || imported.ImportedSupports != 7 || imported.TotalSupports() != 7 {
				t.Fatalf("most supported idea %+v", imported)
			}
			n, err := e.svc.Support(e.ctx, alice, imported.ID, false)
			if err != nil || n != 8 {
				t.Errorf("support of an imported idea: %d, %v; want 8", n, err)
			}
			if got := e.idea(imported.ID); got.SupportsCount != 1 || got.TotalSupports() != 8 {
				t.Errorf("stored %d + %d", got.SupportsCount, got.ImportedSupports)
			}
			if n, err := e.svc.Support(e.ctx, alice, imported.ID, true); err != nil || n != 7 {
				t.Errorf("withdraw: %d, %v; want 7", n, err)
			}
		})

		official := e.user("official", store.RoleOfficial)
		blocked := e.user("blocked", store.RoleResident)
		at := time.Now()
		blocked.BlockedAt = &at
		refusals := []struct {
			name string
			user *store.User
			idea int64
			want *ideas.Problem
		}{
			{"official", official, published.ID, ideas.ErrResidentsOnly},
			{"signed out", nil, published.ID, ideas.ErrSignInRequired},
			{"blocked", blocked, published.ID, ideas.ErrBlocked},
			{"pending idea", bob, pending.ID, &ideas.Problem{Status: 404, Code: "not_found"}},
			{"no such idea", bob, 999999, &ideas.Problem{Status: 404, Code: "not_found"}},
		}
		for _, r := range refusals {
			for _, remove := range []bool{false, true} {
				_, err := e.svc.Support(e.ctx, r.user, r.idea, remove)
				assertProblem(t, err, r.want)
			}
		}
		if got := e.idea(published.ID).SupportsCount; got != 2 {
			t.Errorf("supports after refusals: %d, want 2", got)
		}
		if got := e.idea(pending.ID).SupportsCount; got != 0 {
			t.Errorf("pending idea supports: %d", got)
		}
	})
}

func TestComments(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	post := e.campaign("post", store.PolicyPost, nil)
	pre := e.campaign("pre", store.PolicyPre, nil)
	ideaA := e.submit(validSubmission(post.Slug), ideas.Meta{}).ID
	ideaB := e.submit(validSubmission(post.Slug), ideas.Meta{}).ID
	pendingIdea := e.submit(validSubmission(post.Slug), ideas.Meta{}).ID
	if _, err := e.st.ChangeIdeaStatus(e.ctx, pendingIdea, []store.IdeaStatus{store.IdeaPublished}, store.IdeaPending,
		store.IdeaStatusEvent{ActorRole: string(store.RoleModerator)}, nil); err != nil {
		t.Fatal(err)
	}
	preIdea := e.submit(validSubmission(pre.Slug), ideas.Meta{}).ID
	if _, err := e.st.ChangeIdeaStatus(e.ctx, preIdea, []store.IdeaStatus{store.IdeaPending}, store.IdeaPublished,
		store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Public: true}, nil); err != nil {
		t.Fatal(err)
	}
	u := e.user("resident", store.RoleResident)

	top, err := e.svc.Comment(e.ctx, u, ideaA, nil, "很好的建议，我也经常挤不上车。", "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	if top.Status != store.IdeaPublished || top.ID == 0 || top.DisplayName != u.DisplayName || *top.AuthorID != u.ID {
		t.Errorf("comment %+v", top)
	}
	if n := e.idea(ideaA).CommentsCount; n != 1 {
		t.Errorf("comments_count %d, want 1", n)
	}
	reply, err := e.svc.Comment(e.ctx, u, ideaA, &top.ID, "同意，\r\n晚高峰也一样。", "")
	if err != nil {
		t.Fatal(err)
	}
	if reply.ParentID == nil || *reply.ParentID != top.ID || reply.Body != "同意，\n晚高峰也一样。" || reply.Status != store.IdeaPublished {
		t.Errorf("reply %+v", reply)
	}
	onB, err := e.svc.Comment(e.ctx, u, ideaB, nil, "另一条建议下的评论。", "")
	if err != nil {
		t.Fatal(err)
	}

	missing := int64(999999)
	refusals := []struct {
		name   string
		parent *int64
		body   string
		check  func(t *testing.T, err error)
	}{
		{"reply to a reply", &reply.ID, "再回复一层。", func(t *testing.T, err error) { assertProblem(t, err, ideas.ErrBadParent) }},
		{"reply to another idea's comment", &onB.ID, "串到别的建议。", func(t *testing.T, err error) { assertProblem(t, err, ideas.ErrBadParent) }},
		{"reply to no comment", &missing, "回复不存在的评论。", func(t *testing.T, err error) { assertProblem(t, err, ideas.ErrBadParent) }},
		{"empty", nil, " \n ", func(t *testing.T, err error) { assertFieldError(t, err, "body", "comment_empty") }},
		{"1001 characters", nil, strings.Repeat("评", ideas.CommentMax+1), func(t *testing.T, err error) { assertFieldError(t, err, "body", "comment_too_long") }},
		{"control character", nil, "评论\x1b[31m", func(t *testing.T, err error) { assertFieldError(t, err, "body", "control_characters") }},
		{"invalid UTF-8", nil, "评论\xff", func(t *testing.T, err error) { assertFieldError(t, err, "body", "invalid_utf8") }},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			c, err := e.svc.Comment(e.ctx, u, ideaA, r.parent, r.body, "")
			if err == nil {
				t.Fatalf("accepted %+v", c)
			}
			r.check(t, err)
		})
	}
	if _, err := e.svc.Comment(e.ctx, nil, ideaA, nil, "未登录的评论。", ""); !errors.Is(err, ideas.ErrSignInRequired) {
		t.Errorf("signed out: err %v", err)
	}
	_, err = e.svc.Comment(e.ctx, u, pendingIdea, nil, "待审核建议下的评论。", "")
	assertProblem(t, err, &ideas.Problem{Status: 404, Code: "not_found"})
	if c, err := e.svc.Comment(e.ctx, u, ideaA, nil, strings.Repeat("评", ideas.CommentMax), ""); err != nil || c.Status != store.IdeaPublished {
		t.Errorf("1000 characters: %v", err)
	}

	// Under pre-moderation the comment waits and is not counted.
	held, err := e.svc.Comment(e.ctx, u, preIdea, nil, "先审后发活动里的评论。", "")
	if err != nil {
		t.Fatal(err)
	}
	if held.Status != store.IdeaPending {
		t.Errorf("status %s, want pending", held.Status)
	}
	if n := e.idea(preIdea).CommentsCount; n != 0 {
		t.Errorf("comments_count %d, want 0", n)
	}

	public, err := e.st.PublicComments(e.ctx, ideaA)
	if err != nil {
		t.Fatal(err)
	}
	if len(public) != 3 || public[0].ID != top.ID || public[1].ID != reply.ID {
		t.Errorf("public comments of A: %+v", public)
	}
	if n := e.idea(ideaA).CommentsCount; n != 3 {
		t.Errorf("comments_count of A %d, want 3", n)
	}
	if public, _ := e.st.PublicComments(e.ctx, preIdea); len(public) != 0 {
		t.Errorf("public comments of the pre idea: %+v", public)
	}
}

// TestSupportsRace has residents support one idea at once, and one resident
// click twice at once: every support counts exactly once.
func TestSupportsRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.campaign("race", store.PolicyPost, nil)
		id := e.submit(validSubmission(c.Slug), ideas.Meta{}).ID
		var users []*store.User
		for i := 0; i < 8; i++ {
			users = append(users, e.user(fmt.Sprintf("resident%d", i), store.RoleResident))
		}
		clicks := append(append([]*store.User{}, users...), users[0], users[0], users[1])
		errs := make(chan error, len(clicks))
		var wg sync.WaitGroup
		for _, u := range clicks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.Support(e.ctx, u, id, false)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if got := e.idea(id).SupportsCount; got != len(users) {
			t.Errorf("supports_count %d, want %d", got, len(users))
		}
		for _, u := range users {
			if ok, err := st.HasSupported(e.ctx, id, u.ID); err != nil || !ok {
				t.Errorf("%s: HasSupported = %v, %v", u.Name, ok, err)
			}
		}
	})
}
