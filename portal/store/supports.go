package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AddSupport records a resident's support (附议) of a public idea. Supporting
// twice changes nothing. It returns the idea's new total.
func (s *Store) AddSupport(ctx context.Context, ideaID, userID int64) (int, error) {
	return s.changeSupport(ctx, ideaID, userID, true)
}

// RemoveSupport withdraws a resident's support. Withdrawing one that does not
// exist changes nothing. It returns the idea's new total.
func (s *Store) RemoveSupport(ctx context.Context, ideaID, userID int64) (int, error) {
	return s.changeSupport(ctx, ideaID, userID, false)
}

func (s *Store) changeSupport(ctx context.Context, ideaID, userID int64, add bool) (int, error) {
	var idea Idea
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&idea, ideaID).Error; err != nil {
			return err
		}
		if !idea.Visible() {
			return gorm.ErrRecordNotFound
		}
		var res *gorm.DB
		delta := 1
		if add {
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Support{IdeaID: ideaID, UserID: userID})
		} else {
			delta = -1
			res = tx.Where("idea_id = ? AND user_id = ?", ideaID, userID).Delete(&Support{})
		}
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		idea.SupportsCount += delta
		if err := tx.Model(&Idea{}).Where("id = ?", ideaID).
			Update("supports_count", gorm.Expr("supports_count + ?", delta)).Error; err != nil {
			return err
		}
		return appendOutbox(tx, "idea", ideaID, "upsert")
	})
	if err != nil {
		return 0, wrap(err, "support idea %d", ideaID)
	}
	return idea.TotalSupports(), nil
}

// HasSupported reports whether the user supports the idea.
func (s *Store) HasSupported(ctx context.Context, ideaID, userID int64) (bool, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&Support{}).Where("idea_id = ? AND user_id = ?", ideaID, userID).Count(&n).Error
	return n > 0, wrap(err, "has supported")
}

// CreateComment stores a comment on a public idea. A reply must answer a
// top-level comment of the same idea (one level of replies): otherwise
// ErrBadParent. Public comments bump the idea's comment count.
func (s *Store) CreateComment(ctx context.Context, c *Comment) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var idea Idea
		if err := tx.Select("id", "status", "hidden").Take(&idea, c.IdeaID).Error; err != nil {
			return err
		}
		if !idea.Visible() {
			return gorm.ErrRecordNotFound
		}
		if c.ParentID != nil {
			var parent Comment
			err := tx.Select("id", "idea_id", "parent_id").Take(&parent, *c.ParentID).Error
			if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (parent.IdeaID != c.IdeaID || parent.ParentID != nil)) {
				return ErrBadParent
			}
			if err != nil {
				return err
			}
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		if c.Status.Public() {
			return tx.Model(&Idea{}).Where("id = ?", c.IdeaID).
				Update("comments_count", gorm.Expr("comments_count + 1")).Error
		}
		return nil
	})
	if errors.Is(err, ErrBadParent) {
		return err
	}
	return wrap(err, "create comment on idea %d", c.IdeaID)
}

// ErrBadParent is returned for a reply to a missing comment, to a comment of
// another idea, or to a reply.
var ErrBadParent = errors.New("store: a reply must answer a top-level comment of the same idea")

// PublicComments returns an idea's public comments, oldest first.
func (s *Store) PublicComments(ctx context.Context, ideaID int64) ([]Comment, error) {
	var cs []Comment
	err := s.r.WithContext(ctx).Where("idea_id = ? AND status = ? AND hidden = ?", ideaID, IdeaPublished, false).
		Order("id").Find(&cs).Error
	return cs, wrap(err, "comments of idea %d", ideaID)
}

// Attachments lists an idea's attachments.
func (s *Store) Attachments(ctx context.Context, ideaID int64) ([]Attachment, error) {
	var as []Attachment
	err := s.r.WithContext(ctx).Where("idea_id = ?", ideaID).Order("id").Find(&as).Error
	return as, wrap(err, "attachments of idea %d", ideaID)
}
