package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ImportIdeas stores a batch of imported ideas whose ImportKey is set, with
// their first status events and outbox rows, in one transaction. Ideas whose
// key is already present are skipped, so re-running an import creates no
// duplicates. It returns how many were inserted; a tracking-code collision
// fails the batch with ErrTrackingCodeTaken (draw new codes and retry).
func (s *Store) ImportIdeas(ctx context.Context, ideas []*Idea, note string) (int, error) {
	if len(ideas) == 0 {
		return 0, nil
	}
	keys := make([]string, 0, len(ideas))
	for _, i := range ideas {
		if i.ImportKey == nil {
			return 0, errors.New("store: import ideas: missing import key")
		}
		keys = append(keys, *i.ImportKey)
	}
	inserted := 0
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing []string
		if err := tx.Model(&Idea{}).Where("import_key IN ?", keys).Pluck("import_key", &existing).Error; err != nil {
			return err
		}
		have := make(map[string]bool, len(existing))
		for _, k := range existing {
			have[k] = true
		}
		fresh := make([]*Idea, 0, len(ideas))
		for _, i := range ideas {
			if !have[*i.ImportKey] {
				have[*i.ImportKey] = true // a key repeated inside the batch is inserted once
				fresh = append(fresh, i)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		now := time.Now().UTC()
		for _, i := range fresh {
			if i.Status.Public() && i.PublishedAt == nil {
				i.PublishedAt = &now
			}
		}
		if err := tx.CreateInBatches(fresh, 200).Error; err != nil {
			return err
		}
		events := make([]IdeaStatusEvent, len(fresh))
		outbox := make([]OutboxEvent, len(fresh))
		for n, i := range fresh {
			events[n] = IdeaStatusEvent{IdeaID: i.ID, ToStatus: i.Status, ActorRole: string(RoleAdmin), Note: note, Public: true, CreatedAt: i.CreatedAt}
			outbox[n] = OutboxEvent{Entity: "idea", EntityID: i.ID, Op: "upsert"}
		}
		if err := tx.CreateInBatches(events, 500).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(outbox, 500).Error; err != nil {
			return err
		}
		inserted = len(fresh)
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return 0, ErrTrackingCodeTaken
	}
	return inserted, wrap(err, "import ideas")
}
