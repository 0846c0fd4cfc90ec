package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Stances of a debate post.
const (
	StanceFor      = "for"      // 支持
	StanceAgainst  = "against"  // 反对
	StanceProposal = "proposal" // 建议
)

// DebateOutcome links a concluded debate to an idea adopted from it.
type DebateOutcome struct {
	DebateID int64 `gorm:"primaryKey"`
	IdeaID   int64 `gorm:"primaryKey"`
}

// TableName pins the table name.
func (DebateOutcome) TableName() string { return "debate_outcomes" }

type debateDepartment struct {
	DebateID     int64 `gorm:"primaryKey"`
	DepartmentID int64 `gorm:"primaryKey"`
}

func (debateDepartment) TableName() string { return "debate_departments" }

// DebatePostSupport is a resident's support of a debate post.
type DebatePostSupport struct {
	ID        int64
	PostID    int64
	UserID    int64
	CreatedAt time.Time
}

// TableName pins the table name.
func (DebatePostSupport) TableName() string { return "debate_post_supports" }

// CreateDebate stores a debate with its invited departments (created by name
// if missing), audited, in one transaction. A taken slug is ErrConflict.
func (s *Store) CreateDebate(ctx context.Context, d *Debate, departments []string, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		for _, name := range departments {
			dep, err := departmentByName(tx, name, true)
			if err != nil {
				return err
			}
			if err := tx.Create(&debateDepartment{DebateID: d.ID, DepartmentID: dep.ID}).Error; err != nil {
				return err
			}
		}
		return appendAudit(tx, by.entry("debate.create", "debate", d.ID, nil, map[string]any{"debate": d, "departments": departments}, ""))
	})
	return wrap(err, "create debate %q", d.Slug)
}

// DebateBySlug returns the debate with that slug.
func (s *Store) DebateBySlug(ctx context.Context, slug string) (*Debate, error) {
	var d Debate
	if err := s.r.WithContext(ctx).Where("slug = ?", slug).Take(&d).Error; err != nil {
		return nil, wrap(err, "debate %q", slug)
	}
	return &d, nil
}

// DebateByID returns the debate with that id.
func (s *Store) DebateByID(ctx context.Context, id int64) (*Debate, error) {
	var d Debate
	if err := s.r.WithContext(ctx).Take(&d, id).Error; err != nil {
		return nil, wrap(err, "debate %d", id)
	}
	return &d, nil
}

// Debates lists debates, the most recently opened first.
func (s *Store) Debates(ctx context.Context, page Page) ([]Debate, int64, error) {
	q := s.r.WithContext(ctx).Model(&Debate{})
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count debates")
	}
	var ds []Debate
	err := q.Order("opens_at DESC, id DESC").Offset(page.Offset()).Limit(page.Limit()).Find(&ds).Error
	return ds, total, wrap(err, "list debates")
}

// DebateDepartments returns the departments invited to a debate.
func (s *Store) DebateDepartments(ctx context.Context, debateID int64) ([]Department, error) {
	var ds []Department
	err := s.r.WithContext(ctx).Joins("JOIN debate_departments dd ON dd.department_id = departments.id").
		Where("dd.debate_id = ?", debateID).Order("departments.name").Find(&ds).Error
	return ds, wrap(err, "departments of debate %d", debateID)
}

// CreateDebatePost stores a post. A reply must answer a top-level post of
// the same debate (ErrBadParent). Public posts queue an index update.
func (s *Store) CreateDebatePost(ctx context.Context, p *DebatePost) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if p.ParentID != nil {
			var parent DebatePost
			err := tx.Select("id", "debate_id", "parent_id", "status").Take(&parent, *p.ParentID).Error
			if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (parent.DebateID != p.DebateID || parent.ParentID != nil || !parent.Status.Public())) {
				return ErrBadParent
			}
			if err != nil {
				return err
			}
		}
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		return appendOutbox(tx, "debate_post", p.ID, "upsert")
	})
	if errors.Is(err, ErrBadParent) {
		return err
	}
	return wrap(err, "create post in debate %d", p.DebateID)
}

// PostSort is an allowed ordering of debate posts.
type PostSort string

// Post orderings.
const (
	PostsNewest    PostSort = "newest"
	PostsSupported PostSort = "supported"
)

// DebatePosts lists a debate's public posts: pinned first, then official,
// then by the chosen order. Replies are included (callers nest them).
func (s *Store) DebatePosts(ctx context.Context, debateID int64, sort PostSort) ([]DebatePost, error) {
	order := "pinned DESC, official DESC, created_at DESC, id DESC"
	if sort == PostsSupported {
		order = "pinned DESC, official DESC, supports_count DESC, id DESC"
	}
	var ps []DebatePost
	err := s.r.WithContext(ctx).Where("debate_id = ? AND status = ? AND hidden = ?", debateID, IdeaPublished, false).
		Order(order).Find(&ps).Error
	return ps, wrap(err, "posts of debate %d", debateID)
}

// DebatePostByID returns a post.
func (s *Store) DebatePostByID(ctx context.Context, id int64) (*DebatePost, error) {
	var p DebatePost
	if err := s.r.WithContext(ctx).Take(&p, id).Error; err != nil {
		return nil, wrap(err, "debate post %d", id)
	}
	return &p, nil
}

// StanceCounts counts a debate's public top-level posts by stance.
func (s *Store) StanceCounts(ctx context.Context, debateID int64) (map[string]int64, error) {
	var rows []struct {
		Stance string
		N      int64
	}
	err := s.r.WithContext(ctx).Model(&DebatePost{}).Select("stance, COUNT(*) AS n").
		Where("debate_id = ? AND status = ? AND hidden = ? AND parent_id IS NULL", debateID, IdeaPublished, false).
		Group("stance").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Stance] = r.N
	}
	return out, wrap(err, "stance counts of debate %d", debateID)
}

// DebateActivity counts a debate's public posts per China calendar day
// (YYYY-MM-DD), for the activity timeline.
func (s *Store) DebateActivity(ctx context.Context, debateID int64) (map[string]int, error) {
	var times []time.Time
	err := s.r.WithContext(ctx).Model(&DebatePost{}).Where("debate_id = ? AND status = ? AND hidden = ?", debateID, IdeaPublished, false).
		Pluck("created_at", &times).Error
	if err != nil {
		return nil, wrap(err, "activity of debate %d", debateID)
	}
	cst := time.FixedZone("CST", 8*3600)
	out := map[string]int{}
	for _, t := range times {
		out[t.In(cst).Format("2006-01-02")]++
	}
	return out, nil
}

// SupportDebatePost adds (or with remove, withdraws) a resident's support of
// a public post and returns the new count.
func (s *Store) SupportDebatePost(ctx context.Context, postID, userID int64, remove bool) (int, error) {
	var p DebatePost
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&p, postID).Error; err != nil {
			return err
		}
		if !p.Status.Public() || p.Hidden {
			return gorm.ErrRecordNotFound
		}
		var res *gorm.DB
		delta := 1
		if remove {
			delta = -1
			res = tx.Where("post_id = ? AND user_id = ?", postID, userID).Delete(&DebatePostSupport{})
		} else {
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&DebatePostSupport{PostID: postID, UserID: userID})
		}
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		p.SupportsCount += delta
		return tx.Model(&DebatePost{}).Where("id = ?", postID).Update("supports_count", gorm.Expr("supports_count + ?", delta)).Error
	})
	return p.SupportsCount, wrap(err, "support debate post %d", postID)
}

// PinDebatePost pins or unpins a post, audited.
func (s *Store) PinDebatePost(ctx context.Context, postID int64, pinned bool, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p DebatePost
		if err := tx.Take(&p, postID).Error; err != nil {
			return err
		}
		if err := tx.Model(&DebatePost{}).Where("id = ?", postID).Update("pinned", pinned).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("debate_post.pin", "debate_post", postID, map[string]bool{"pinned": p.Pinned}, map[string]bool{"pinned": pinned}, ""))
	})
	return wrap(err, "pin debate post %d", postID)
}

// ConcludeDebate publishes a closed debate's conclusion, linked to the ideas
// adopted from it, audited.
func (s *Store) ConcludeDebate(ctx context.Context, debateID int64, conclusion string, ideaIDs []int64, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var d Debate
		if err := tx.Take(&d, debateID).Error; err != nil {
			return err
		}
		now := time.Now().UTC()
		if err := tx.Model(&Debate{}).Where("id = ?", debateID).
			Updates(map[string]any{"conclusion": conclusion, "concluded_at": now, "concluded_by": by.ID, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("debate_id = ?", debateID).Delete(&DebateOutcome{}).Error; err != nil {
			return err
		}
		for _, id := range ideaIDs {
			if err := tx.Create(&DebateOutcome{DebateID: debateID, IdeaID: id}).Error; err != nil {
				return err
			}
		}
		return appendAudit(tx, by.entry("debate.conclude", "debate", debateID, map[string]string{"conclusion": d.Conclusion},
			map[string]any{"conclusion": conclusion, "ideas": ideaIDs}, ""))
	})
	return wrap(err, "conclude debate %d", debateID)
}

// DebateOutcomes returns the ideas linked to a debate's conclusion.
func (s *Store) DebateOutcomes(ctx context.Context, debateID int64) ([]Idea, error) {
	var is []Idea
	err := s.r.WithContext(ctx).Joins("JOIN debate_outcomes o ON o.idea_id = ideas.id").
		Where("o.debate_id = ?", debateID).Order("ideas.id").Find(&is).Error
	return is, wrap(err, "outcomes of debate %d", debateID)
}

// PromoteDebatePost turns a proposal post into an idea of the given
// campaign, keeping its author and carrying its supports over as imported
// supports, in one transaction.
func (s *Store) PromoteDebatePost(ctx context.Context, postID int64, idea *Idea, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p DebatePost
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&p, postID).Error; err != nil {
			return err
		}
		if p.PromotedIdeaID != nil || p.Stance != StanceProposal || !p.Status.Public() {
			return ErrStatusConflict
		}
		idea.AuthorID, idea.ImportedSupports = p.AuthorID, p.SupportsCount
		if err := tx.Create(idea).Error; err != nil {
			return err
		}
		if err := tx.Create(&IdeaStatusEvent{IdeaID: idea.ID, ToStatus: idea.Status, ActorID: by.ID, ActorRole: string(RoleModerator),
			Note: "由主题大讨论中的建议转为金点子", Public: true}).Error; err != nil {
			return err
		}
		if err := tx.Model(&DebatePost{}).Where("id = ?", postID).Update("promoted_idea_id", idea.ID).Error; err != nil {
			return err
		}
		if err := appendOutbox(tx, "idea", idea.ID, "upsert"); err != nil {
			return err
		}
		return appendAudit(tx, by.entry("debate_post.promote", "debate_post", postID, nil, map[string]int64{"idea_id": idea.ID}, ""))
	})
	if errors.Is(err, ErrStatusConflict) {
		return err
	}
	return wrap(err, "promote debate post %d", postID)
}

// PendingDebatePosts lists posts waiting for a moderator.
func (s *Store) PendingDebatePosts(ctx context.Context, page Page) ([]DebatePost, int64, error) {
	q := s.r.WithContext(ctx).Model(&DebatePost{}).Where("status = ? OR hidden = ?", IdeaPending, true)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count pending posts")
	}
	var ps []DebatePost
	err := q.Order("risk_score DESC, created_at, id").Offset(page.Offset()).Limit(page.Limit()).Find(&ps).Error
	return ps, total, wrap(err, "pending posts")
}

// DecideDebatePost approves or rejects a post, audited.
func (s *Store) DecideDebatePost(ctx context.Context, id int64, approve bool, reason string, by Actor) (*DebatePost, error) {
	var p DebatePost
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&p, id).Error; err != nil {
			return err
		}
		if p.Status != IdeaPending && !p.Hidden {
			return ErrStatusConflict
		}
		before := map[string]any{"status": p.Status, "hidden": p.Hidden}
		if approve {
			p.Status, p.Hidden = IdeaPublished, false
		} else {
			if reason == "" {
				return ErrNeedsReason
			}
			p.Status, p.StatusReason, p.Hidden = IdeaRejected, reason, false
		}
		if err := tx.Save(&p).Error; err != nil {
			return err
		}
		if err := appendOutbox(tx, "debate_post", p.ID, "upsert"); err != nil {
			return err
		}
		action := "debate_post.approve"
		if !approve {
			action = "debate_post.reject"
		}
		return appendAudit(tx, by.entry(action, "debate_post", p.ID, before, map[string]any{"status": p.Status}, reason))
	})
	if errors.Is(err, ErrStatusConflict) || errors.Is(err, ErrNeedsReason) {
		return nil, err
	}
	if err != nil {
		return nil, wrap(err, "decide debate post %d", id)
	}
	return &p, nil
}
