package store

import (
	"context"
	"time"
)

// OpenCampaigns returns the campaigns that accept ideas at now, soonest closing first.
func (s *Store) OpenCampaigns(ctx context.Context, now time.Time, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := s.r.WithContext(ctx).
		Where("status = ? AND (opens_at IS NULL OR opens_at <= ?) AND (closes_at IS NULL OR closes_at > ?)", "open", now, now).
		Order("closes_at IS NULL, closes_at, id").Limit(limit).Find(&cs).Error
	return cs, wrap(err, "open campaigns")
}

// CurrentDebates returns debates that are open or about to open at now, open ones first.
func (s *Store) CurrentDebates(ctx context.Context, now time.Time, limit int) ([]Debate, error) {
	var ds []Debate
	err := s.r.WithContext(ctx).Where("closes_at > ?", now).
		Order("opens_at, id").Limit(limit).Find(&ds).Error
	return ds, wrap(err, "current debates")
}
