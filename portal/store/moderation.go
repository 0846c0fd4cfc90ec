package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// QueueFilter selects pending ideas for the moderation queue.
type QueueFilter struct {
	CampaignID int64
	ThemeID    int64
	Reason     string    // a reason code the item must carry
	Before     time.Time // only items created before this (age filter); zero: any
	Page       Page
}

// Queue lists ideas that need a moderator — pending ones, and published
// ones hidden by residents' reports — riskiest first, then oldest.
func (s *Store) Queue(ctx context.Context, f QueueFilter) ([]Idea, int64, error) {
	q := s.r.WithContext(ctx).Model(&Idea{}).
		Where("(status = ? OR (hidden = ? AND status IN ?))", IdeaPending, true, PublicStatuses())
	if f.CampaignID != 0 {
		q = q.Where("campaign_id = ?", f.CampaignID)
	}
	if f.ThemeID != 0 {
		q = q.Where("theme_id = ?", f.ThemeID)
	}
	if f.Reason != "" {
		// Codes are space-separated words; pad both sides to match whole codes,
		// and escape LIKE's wildcards so "_" and "%" in the filter are literal.
		padded := "(' ' || reason_codes || ' ')"
		if s.dialect == MySQL {
			padded = "CONCAT(' ', reason_codes, ' ')"
		}
		code := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(f.Reason)
		q = q.Where(padded+" LIKE ? ESCAPE '!'", "% "+code+" %")
	}
	if !f.Before.IsZero() {
		// SQLite compares times as text: compare in the zone they are stored in.
		q = q.Where("created_at < ?", f.Before.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count queue")
	}
	var ideas []Idea
	err := q.Order("risk_score DESC, created_at, id").Offset(f.Page.Offset()).Limit(f.Page.Limit()).Find(&ideas).Error
	return ideas, total, wrap(err, "queue")
}

// Moderation actions on ideas.
const (
	ActApprove        = "approve"
	ActReject         = "reject"
	ActRequestChanges = "request_changes"
	ActMerge          = "merge"
	ActUnmerge        = "unmerge"
	ActRetheme        = "retheme"
)

// Decision is a moderator's action on one idea.
type Decision struct {
	Action string
	Reason string
	// Target is the idea to merge into (merge).
	Target int64
	// ThemeID is the new theme (retheme).
	ThemeID int64
	By      Actor
	Role    Role
}

// Errors a decision can meet; the caller explains them to the moderator.
var (
	ErrBadAction    = errors.New("store: unknown moderation action")
	ErrBadTarget    = errors.New("store: merge target must be another public idea of the same campaign")
	ErrNotMerged    = errors.New("store: idea is not merged")
	ErrBadTheme     = errors.New("store: theme does not belong to the idea's campaign")
	ErrNeedsReason  = errors.New("store: this action needs a reason")
	ErrUnknownIdeas = errors.New("store: unknown idea")
)

// ideaAudit is what the audit log keeps of an idea before and after an action.
type ideaAudit struct {
	Status       IdeaStatus `json:"status"`
	ThemeID      *int64     `json:"theme_id"`
	MergedIntoID *int64     `json:"merged_into_id"`
	Hidden       bool       `json:"hidden"`
	Supports     int        `json:"supports"`
}

func auditOf(i *Idea) ideaAudit {
	return ideaAudit{Status: i.Status, ThemeID: i.ThemeID, MergedIntoID: i.MergedIntoID, Hidden: i.Hidden, Supports: i.SupportsCount}
}

// Decide applies a moderator's decision to an idea: the status change, its
// public event (the reason is what the submitter reads on the tracking page),
// the audit entry and the index update commit together.
func (s *Store) Decide(ctx context.Context, ideaID int64, d Decision) (*Idea, error) {
	var out Idea
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var idea Idea
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&idea, ideaID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrUnknownIdeas
			}
			return err
		}
		before := auditOf(&idea)
		now := time.Now().UTC()
		event := func(to IdeaStatus, note string) error {
			return tx.Create(&IdeaStatusEvent{IdeaID: idea.ID, FromStatus: idea.Status, ToStatus: to,
				ActorID: d.By.ID, ActorRole: string(d.Role), Note: note, Public: true}).Error
		}
		switch d.Action {
		case ActApprove:
			if idea.Status != IdeaPending && !(idea.Hidden && idea.Status.Public()) {
				return ErrStatusConflict
			}
			note := "审核通过，已公开"
			if idea.Status.Public() {
				note = "经复核，恢复显示"
			}
			if err := event(IdeaPublished, note); err != nil {
				return err
			}
			if idea.Status == IdeaPending {
				idea.Status = IdeaPublished
			}
			if idea.PublishedAt == nil {
				idea.PublishedAt = &now
			}
			idea.Hidden, idea.ReportsCount, idea.ThemeConfirmed = false, 0, idea.ThemeID != nil
			if err := tx.Model(&Report{}).Where("target_type = ? AND target_id = ? AND resolved_at IS NULL", "idea", idea.ID).
				Updates(map[string]any{"resolved_at": now, "resolved_by": d.By.ID}).Error; err != nil {
				return err
			}
		case ActReject, ActRequestChanges:
			if strings.TrimSpace(d.Reason) == "" {
				return ErrNeedsReason
			}
			if idea.Status != IdeaPending && !(idea.Hidden && idea.Status.Public()) {
				return ErrStatusConflict
			}
			to := IdeaRejected
			if d.Action == ActRequestChanges {
				to = IdeaChanges
			}
			if err := event(to, d.Reason); err != nil {
				return err
			}
			idea.Status, idea.StatusReason = to, d.Reason
		case ActRetheme:
			var t Theme
			if err := tx.Take(&t, d.ThemeID).Error; err != nil || t.CampaignID != idea.CampaignID {
				return ErrBadTheme
			}
			idea.ThemeID, idea.ThemeSuggested, idea.ThemeConfirmed = &t.ID, false, true
		case ActMerge:
			if err := s.merge(tx, &idea, d, now); err != nil {
				return err
			}
		case ActUnmerge:
			if err := s.unmerge(tx, &idea, d, now); err != nil {
				return err
			}
		default:
			return ErrBadAction
		}
		if err := tx.Save(&idea).Error; err != nil {
			return err
		}
		if err := appendOutbox(tx, "idea", idea.ID, "upsert"); err != nil {
			return err
		}
		out = idea
		return appendAudit(tx, d.By.entry("idea."+d.Action, "idea", idea.ID, before, auditOf(&idea), d.Reason))
	})
	switch {
	case err == nil:
		return &out, nil
	case errors.Is(err, ErrStatusConflict), errors.Is(err, ErrBadAction), errors.Is(err, ErrBadTarget),
		errors.Is(err, ErrNotMerged), errors.Is(err, ErrBadTheme), errors.Is(err, ErrNeedsReason), errors.Is(err, ErrUnknownIdeas):
		return nil, err
	}
	return nil, wrap(err, "decide %s on idea %d", d.Action, ideaID)
}

// merge folds idea into d.Target: the idea becomes "merged", its supporters
// (and its signed-in author) become supporters of the target unless they
// already are, and a merges row remembers enough to undo it.
func (s *Store) merge(tx *gorm.DB, idea *Idea, d Decision, now time.Time) error {
	if idea.Status == IdeaMerged || d.Target == idea.ID {
		return ErrBadTarget
	}
	var target Idea
	if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&target, d.Target).Error; err != nil ||
		target.CampaignID != idea.CampaignID || !target.Visible() {
		return ErrBadTarget
	}
	if err := tx.Create(&Merge{SourceIdeaID: idea.ID, TargetIdeaID: target.ID, SourceStatus: idea.Status,
		Reason: d.Reason, MergedBy: d.By.ID, MergedAt: now}).Error; err != nil {
		return err
	}
	// Move supports the target does not have yet; the rest stay (the merged
	// idea is no longer shown) and come back on unmerge. The author's own
	// support stays too: the co-sign below stands for it on the target, and
	// unmerge deletes that co-sign, which must not take the support with it.
	if err := tx.Exec(`UPDATE supports SET idea_id = ?, moved_from_idea_id = ?
		WHERE idea_id = ? AND user_id <> ? AND user_id NOT IN (SELECT user_id FROM (SELECT user_id FROM supports WHERE idea_id = ?) AS t)`,
		target.ID, idea.ID, idea.ID, derefOr(idea.AuthorID, -1), target.ID).Error; err != nil {
		return err
	}
	if idea.AuthorID != nil {
		// The author co-signs (附议) the idea theirs was merged into.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Support{IdeaID: target.ID, UserID: *idea.AuthorID, MovedFromIdeaID: &idea.ID, CreatedAt: now}).Error; err != nil {
			return err
		}
	}
	if err := recountSupports(tx, idea.ID, target.ID); err != nil {
		return err
	}
	note := fmt.Sprintf("与相同内容的建议合并，请在 #%d 查看办理进展", target.ID)
	if d.Reason != "" {
		note += "（" + d.Reason + "）"
	}
	if err := tx.Create(&IdeaStatusEvent{IdeaID: idea.ID, FromStatus: idea.Status, ToStatus: IdeaMerged,
		ActorID: d.By.ID, ActorRole: string(d.Role), Note: note, Public: true}).Error; err != nil {
		return err
	}
	idea.Status, idea.MergedIntoID = IdeaMerged, &target.ID
	idea.SupportsCount = 0
	return appendOutbox(tx, "idea", target.ID, "upsert")
}

// unmerge undoes the latest merge of idea: status and supports come back.
func (s *Store) unmerge(tx *gorm.DB, idea *Idea, d Decision, now time.Time) error {
	if idea.Status != IdeaMerged || idea.MergedIntoID == nil {
		return ErrNotMerged
	}
	var m Merge
	if err := tx.Where("source_idea_id = ? AND undone_at IS NULL", idea.ID).Order("id DESC").Take(&m).Error; err != nil {
		return ErrNotMerged
	}
	target := *idea.MergedIntoID
	if err := tx.Model(&Support{}).Where("idea_id = ? AND moved_from_idea_id = ? AND user_id = ?", target, idea.ID, derefOr(idea.AuthorID, -1)).
		Delete(&Support{}).Error; err != nil {
		return err
	}
	if err := tx.Model(&Support{}).Where("idea_id = ? AND moved_from_idea_id = ?", target, idea.ID).
		Updates(map[string]any{"idea_id": idea.ID, "moved_from_idea_id": nil}).Error; err != nil {
		return err
	}
	if err := tx.Model(&m).Updates(map[string]any{"undone_at": now, "undone_by": d.By.ID}).Error; err != nil {
		return err
	}
	if err := tx.Create(&IdeaStatusEvent{IdeaID: idea.ID, FromStatus: IdeaMerged, ToStatus: m.SourceStatus,
		ActorID: d.By.ID, ActorRole: string(d.Role), Note: "已撤销合并", Public: true}).Error; err != nil {
		return err
	}
	idea.Status, idea.MergedIntoID = m.SourceStatus, nil
	if err := recountSupports(tx, idea.ID, target); err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&Support{}).Where("idea_id = ?", idea.ID).Count(&n).Error; err != nil {
		return err
	}
	idea.SupportsCount = int(n)
	return appendOutbox(tx, "idea", target, "upsert")
}

func derefOr(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

// recountSupports sets supports_count from the supports rows.
func recountSupports(tx *gorm.DB, ids ...int64) error {
	for _, id := range ids {
		if err := tx.Exec("UPDATE ideas SET supports_count = (SELECT COUNT(*) FROM supports WHERE idea_id = ?) WHERE id = ?", id, id).Error; err != nil {
			return err
		}
	}
	return nil
}

// ReportTarget records a resident's report of an idea or comment; one per
// reporter. When open reports reach threshold the item is hidden until a
// moderator reviews it. It returns whether the item is now hidden.
func (s *Store) ReportTarget(ctx context.Context, targetType string, id int64, r Report, threshold int) (bool, error) {
	var hidden bool
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var table string
		switch targetType {
		case "idea":
			table = "ideas"
		case "comment":
			table = "comments"
		case "post":
			table = "debate_posts"
		default:
			return ErrBadAction
		}
		var row struct {
			Status IdeaStatus
			Hidden bool
		}
		if err := tx.Table(table).Select("status", "hidden").Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		if !row.Status.Public() {
			return gorm.ErrRecordNotFound
		}
		r.TargetType, r.TargetID = targetType, id
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error != nil {
			return res.Error
		}
		var n int64
		if err := tx.Model(&Report{}).Where("target_type = ? AND target_id = ? AND resolved_at IS NULL", targetType, id).Count(&n).Error; err != nil {
			return err
		}
		hidden = row.Hidden || (threshold > 0 && n >= int64(threshold))
		if err := tx.Table(table).Where("id = ?", id).Updates(map[string]any{"reports_count": n, "hidden": hidden}).Error; err != nil {
			return err
		}
		switch targetType {
		case "idea":
			return appendOutbox(tx, "idea", id, "upsert")
		case "post":
			return appendOutbox(tx, "debate_post", id, "upsert")
		}
		return nil
	})
	if err != nil {
		return false, wrap(err, "report %s %d", targetType, id)
	}
	return hidden, nil
}

// BlockUser stops an account: its pending ideas and comments are rejected
// and it can post nothing more. Audited.
func (s *Store) BlockUser(ctx context.Context, userID int64, reason string, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		var u User
		if err := tx.Take(&u, userID).Error; err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"blocked_at": now, "blocked_reason": reason, "updated_at": now}).Error; err != nil {
			return err
		}
		var pending []Idea
		if err := tx.Where("author_id = ? AND status IN ?", userID, []IdeaStatus{IdeaPending, IdeaChanges}).Find(&pending).Error; err != nil {
			return err
		}
		for _, i := range pending {
			if err := tx.Create(&IdeaStatusEvent{IdeaID: i.ID, FromStatus: i.Status, ToStatus: IdeaRejected,
				ActorID: by.ID, ActorRole: string(RoleModerator), Note: "账号已被停用", Public: true}).Error; err != nil {
				return err
			}
			if err := tx.Model(&Idea{}).Where("id = ?", i.ID).
				Updates(map[string]any{"status": IdeaRejected, "status_reason": "账号已被停用", "updated_at": now}).Error; err != nil {
				return err
			}
			if err := appendOutbox(tx, "idea", i.ID, "upsert"); err != nil {
				return err
			}
		}
		if err := tx.Model(&Comment{}).Where("author_id = ? AND status = ?", userID, IdeaPending).
			Updates(map[string]any{"status": IdeaRejected, "status_reason": "账号已被停用", "updated_at": now}).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("user.block", "user", userID, map[string]any{"blocked": u.BlockedAt != nil},
			map[string]any{"blocked": true, "rejected_ideas": len(pending)}, reason))
	})
	return wrap(err, "block user %d", userID)
}

// Holidays returns the calendar entries between two days (YYYY-MM-DD, inclusive).
func (s *Store) Holidays(ctx context.Context, from, to string) ([]Holiday, error) {
	var hs []Holiday
	err := s.r.WithContext(ctx).Where("day >= ? AND day <= ?", from, to).Order("day").Find(&hs).Error
	return hs, wrap(err, "holidays")
}

// SetHoliday adds or changes one calendar entry.
func (s *Store) SetHoliday(ctx context.Context, h Holiday) error {
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&h).Error
	return wrap(err, "set holiday %s", h.Day)
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	ActorID    int64
	Action     string // prefix, e.g. "idea." or "idea.merge"
	TargetType string
	TargetID   int64
	From, To   time.Time
	Page       Page
}

// AuditLog lists audit entries, newest first, with the total.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	q := s.r.WithContext(ctx).Model(&AuditEntry{})
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("SUBSTR(action, 1, ?) = ?", len(f.Action), f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != 0 {
		q = q.Where("target_id = ?", f.TargetID)
	}
	// SQLite compares times as text: compare in the zone they are stored in.
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count audit")
	}
	var es []AuditEntry
	err := q.Order("id DESC").Offset(f.Page.Offset()).Limit(f.Page.Limit()).Find(&es).Error
	return es, total, wrap(err, "audit log")
}

// PendingComments lists comments waiting for a moderator, oldest first.
func (s *Store) PendingComments(ctx context.Context, page Page) ([]Comment, int64, error) {
	q := s.r.WithContext(ctx).Model(&Comment{}).Where("status = ? OR hidden = ?", IdeaPending, true)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count pending comments")
	}
	var cs []Comment
	err := q.Order("risk_score DESC, created_at, id").Offset(page.Offset()).Limit(page.Limit()).Find(&cs).Error
	return cs, total, wrap(err, "pending comments")
}

// DecideComment approves or rejects a comment, audited.
func (s *Store) DecideComment(ctx context.Context, id int64, approve bool, reason string, by Actor) (*Comment, error) {
	var c Comment
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&c, id).Error; err != nil {
			return err
		}
		if c.Status != IdeaPending && !c.Hidden {
			return ErrStatusConflict
		}
		before := map[string]any{"status": c.Status, "hidden": c.Hidden}
		wasPublic := c.Status.Public()
		if approve {
			// As with ideas, approval settles the open reports: only new ones
			// count towards hiding the comment again.
			c.Status, c.Hidden, c.ReportsCount = IdeaPublished, false, 0
			if err := tx.Model(&Report{}).Where("target_type = ? AND target_id = ? AND resolved_at IS NULL", "comment", c.ID).
				Updates(map[string]any{"resolved_at": time.Now().UTC(), "resolved_by": by.ID}).Error; err != nil {
				return err
			}
		} else {
			if strings.TrimSpace(reason) == "" {
				return ErrNeedsReason
			}
			c.Status, c.StatusReason, c.Hidden = IdeaRejected, reason, false
		}
		if err := tx.Save(&c).Error; err != nil {
			return err
		}
		delta := 0
		switch {
		case !wasPublic && c.Status.Public():
			delta = 1
		case wasPublic && !c.Status.Public():
			delta = -1
		}
		if delta != 0 {
			if err := tx.Model(&Idea{}).Where("id = ?", c.IdeaID).
				Update("comments_count", gorm.Expr("comments_count + ?", delta)).Error; err != nil {
				return err
			}
		}
		action := "comment.approve"
		if !approve {
			action = "comment.reject"
		}
		return appendAudit(tx, by.entry(action, "comment", c.ID, before, map[string]any{"status": c.Status}, reason))
	})
	if errors.Is(err, ErrStatusConflict) || errors.Is(err, ErrNeedsReason) {
		return nil, err
	}
	if err != nil {
		return nil, wrap(err, "decide comment %d", id)
	}
	return &c, nil
}
