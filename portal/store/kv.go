package store

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm/clause"
)

// kvRow is a short-lived key/value pair: rate-limit counters and CSRF tokens.
// Kept in the shared database so several web nodes agree on them.
type kvRow struct {
	K         string `gorm:"column:k;primaryKey"`
	V         []byte `gorm:"column:v"`
	ExpiresAt int64  `gorm:"column:expires_at"` // unix milliseconds, 0 = never
}

func (kvRow) TableName() string { return "kv" }

// KV is a fiber.Storage over the kv table, for Fiber's limiter and CSRF
// middleware. Keys are namespaced by prefix.
type KV struct {
	s      *Store
	prefix string
	now    func() time.Time
}

var _ fiber.Storage = (*KV)(nil)

// KV returns a fiber.Storage whose keys all start with prefix.
func (s *Store) KV(prefix string) *KV {
	return &KV{s: s, prefix: prefix, now: time.Now}
}

// Get returns the value for key, or nil if it is missing or expired.
func (k *KV) Get(key string) ([]byte, error) {
	var row kvRow
	res := k.s.r.Where("k = ? AND (expires_at = 0 OR expires_at > ?)", k.prefix+key, k.now().UnixMilli()).Limit(1).Find(&row)
	if res.Error != nil {
		return nil, wrap(res.Error, "kv get")
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	return row.V, nil
}

// Set stores val under key for exp (0 = no expiry). Empty keys or values are ignored.
func (k *KV) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	row := kvRow{K: k.prefix + key, V: val}
	if exp > 0 {
		row.ExpiresAt = k.now().Add(exp).UnixMilli()
	}
	err := k.s.w.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "k"}},
		DoUpdates: clause.AssignmentColumns([]string{"v", "expires_at"}),
	}).Create(&row).Error
	return wrap(err, "kv set")
}

// Delete removes key.
func (k *KV) Delete(key string) error {
	return wrap(k.s.w.Where("k = ?", k.prefix+key).Delete(&kvRow{}).Error, "kv delete")
}

// Reset removes every key under this prefix.
func (k *KV) Reset() error {
	return wrap(k.s.w.Where("SUBSTR(k, 1, ?) = ?", len(k.prefix), k.prefix).Delete(&kvRow{}).Error, "kv reset")
}

// Close does nothing: the store owns the connection.
func (k *KV) Close() error { return nil }

// DeleteExpiredKV removes expired key/value rows and returns how many.
func (s *Store) DeleteExpiredKV(ctx context.Context, now time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Where("expires_at > 0 AND expires_at <= ?", now.UnixMilli()).Delete(&kvRow{})
	return res.RowsAffected, wrap(res.Error, "kv expire")
}
