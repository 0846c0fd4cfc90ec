package store

import (
	"context"

	"gorm.io/gorm"
)

// appendOutbox queues an index update inside tx, so the index learns of a
// change exactly when the change commits.
func appendOutbox(tx *gorm.DB, entity string, id int64, op string) error {
	return tx.Create(&OutboxEvent{Entity: entity, EntityID: id, Op: op}).Error
}

// OutboxAfter returns up to limit outbox events with id > cursor, in id order.
// Only committed rows are visible, and on MySQL/MariaDB they do not commit
// in id order: a row with a lower id than one returned may appear later
// (search.Indexer waits for such gaps).
func (s *Store) OutboxAfter(ctx context.Context, cursor int64, limit int) ([]OutboxEvent, error) {
	var es []OutboxEvent
	err := s.r.WithContext(ctx).Where("id > ?", cursor).Order("id").Limit(limit).Find(&es).Error
	return es, wrap(err, "outbox after %d", cursor)
}

// OutboxHead returns the id of the newest outbox event, 0 when there is none.
func (s *Store) OutboxHead(ctx context.Context) (int64, error) {
	var id *int64
	err := s.r.WithContext(ctx).Model(&OutboxEvent{}).Select("MAX(id)").Scan(&id).Error
	if err != nil || id == nil {
		return 0, wrap(err, "outbox head")
	}
	return *id, nil
}

// CountIndexed counts the rows the search index holds a document for: every
// idea and every debate post (for a rebuild's progress bar).
func (s *Store) CountIndexed(ctx context.Context) (int64, error) {
	ideas, err := s.CountIdeas(ctx)
	if err != nil {
		return 0, err
	}
	var posts int64
	if err := s.r.WithContext(ctx).Model(&DebatePost{}).Count(&posts).Error; err != nil {
		return 0, wrap(err, "count debate posts")
	}
	return ideas + posts, nil
}
