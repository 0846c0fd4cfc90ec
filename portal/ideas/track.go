package ideas

import (
	"context"
	"errors"
	"jindianzi/moderation"

	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// Tracking is what a tracking code reveals to whoever holds it: the idea's
// own text and status history, never other people's data.
type Tracking struct {
	Idea   *store.Idea
	Events []store.IdeaStatusEvent
	// MergedInto is the idea this one was merged into, when it was.
	MergedInto *store.Idea
	Campaign   *store.Campaign
	Theme      string
}

// CanWithdraw reports whether the submitter may still withdraw the idea.
func (t *Tracking) CanWithdraw() bool {
	return t.Idea.Status == store.IdeaPending || t.Idea.Status == store.IdeaChanges
}

// CanEdit reports whether a moderator asked for changes.
func (t *Tracking) CanEdit() bool { return t.Idea.Status == store.IdeaChanges }

// Track looks an idea up by its tracking code.
func (s *Service) Track(ctx context.Context, code string) (*Tracking, error) {
	c := NormaliseTrackingCode(code)
	if c == "" {
		return nil, ErrNotFound
	}
	idea, err := s.Store.IdeaByTrackingCode(ctx, c)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t := &Tracking{Idea: idea}
	if t.Events, err = s.Store.IdeaEvents(ctx, idea.ID, true); err != nil {
		return nil, err
	}
	if idea.MergedIntoID != nil {
		if m, err := s.Store.PublicIdea(ctx, *idea.MergedIntoID); err == nil {
			t.MergedInto = m
		}
	}
	if t.Campaign, err = s.Store.CampaignByID(ctx, idea.CampaignID); err != nil {
		return nil, err
	}
	if idea.ThemeID != nil {
		themes, err := s.Store.Themes(ctx, idea.CampaignID)
		if err != nil {
			return nil, err
		}
		for _, th := range themes {
			if th.ID == *idea.ThemeID {
				t.Theme = th.Name
			}
		}
	}
	return t, nil
}

// Withdraw lets the submitter take back an idea nobody has acted on yet.
func (s *Service) Withdraw(ctx context.Context, code string) (*store.Idea, error) {
	t, err := s.Track(ctx, code)
	if err != nil {
		return nil, err
	}
	idea, err := s.Store.ChangeIdeaStatus(ctx, t.Idea.ID,
		[]store.IdeaStatus{store.IdeaPending, store.IdeaChanges}, store.IdeaWithdrawn,
		store.IdeaStatusEvent{ActorRole: string(store.RoleResident), Note: "提交人已撤回", Public: true}, nil)
	if errors.Is(err, store.ErrStatusConflict) {
		return nil, ErrNotWithdrawable
	}
	if err == nil {
		if l, ok := s.Moderation.(moderation.Learner); ok {
			l.Forget(idea.CampaignID, idea.ID)
		}
	}
	return idea, err
}

// Edit lets the submitter revise title and body after a moderator asked for
// changes; the idea goes back to the moderation queue.
func (s *Service) Edit(ctx context.Context, code, title, body string) (*store.Idea, error) {
	var e input.Errors
	title = e.Text("title", "标题", title, false)
	body = e.Text("body", "建议内容", body, true)
	checkLengths(&e, title, body)
	if len(e.Fields) > 0 {
		return nil, &e
	}
	t, err := s.Track(ctx, code)
	if err != nil {
		return nil, err
	}
	if !t.CanEdit() {
		return nil, ErrNotEditable
	}
	idea, err := s.Store.ChangeIdeaStatus(ctx, t.Idea.ID, []store.IdeaStatus{store.IdeaChanges}, store.IdeaPending,
		store.IdeaStatusEvent{ActorRole: string(store.RoleResident), Note: "提交人已按要求修改，重新进入审核", Public: true},
		func(i *store.Idea) {
			i.Title, i.Body = title, body
			// Masked copies are refreshed by the moderator's review; until then
			// nothing of the new text is public.
			i.TitleMasked, i.BodyMasked = title, body
		})
	if errors.Is(err, store.ErrStatusConflict) {
		return nil, ErrNotEditable
	}
	return idea, err
}
