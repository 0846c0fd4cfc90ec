package store

import (
	"context"
	"time"
)

// CreateSession stores a browser session. id must be the hash of the
// cookie's secret, never the secret itself.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	return wrap(s.w.WithContext(ctx).Create(sess).Error, "create session")
}

// SessionUser returns the live session with the given id and its user.
// Expired sessions are ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, id string, now time.Time) (*Session, *User, error) {
	var sess Session
	if err := s.r.WithContext(ctx).Where("id = ? AND expires_at > ?", id, now).Take(&sess).Error; err != nil {
		return nil, nil, wrap(err, "session")
	}
	u, err := s.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	return &sess, u, nil
}

// TouchSession moves a session's expiry forward (sliding expiry).
func (s *Store) TouchSession(ctx context.Context, id string, now, expires time.Time) error {
	err := s.w.WithContext(ctx).Model(&Session{}).Where("id = ?", id).
		Updates(map[string]any{"last_seen_at": now, "expires_at": expires}).Error
	return wrap(err, "touch session")
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return wrap(s.w.WithContext(ctx).Where("id = ?", id).Delete(&Session{}).Error, "delete session")
}

// DeleteExpiredSessions removes sessions that ended before now and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Where("expires_at <= ?", now).Delete(&Session{})
	return res.RowsAffected, wrap(res.Error, "delete expired sessions")
}

// CreateAPIToken stores a bearer token's hash for a user.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	return wrap(s.w.WithContext(ctx).Create(t).Error, "create api token")
}

// TokenUser returns the live token with that hash and its user.
func (s *Store) TokenUser(ctx context.Context, hash string, now time.Time) (*APIToken, *User, error) {
	var t APIToken
	err := s.r.WithContext(ctx).
		Where("token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", hash, now).
		Take(&t).Error
	if err != nil {
		return nil, nil, wrap(err, "api token")
	}
	u, err := s.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	return &t, u, nil
}

// TouchAPIToken records when a token was last used.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, now time.Time) error {
	return wrap(s.w.WithContext(ctx).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", now).Error, "touch api token")
}

// Sweep deletes expired sessions and key/value rows. serve calls it
// periodically; any node may, the deletes are idempotent.
func (s *Store) Sweep(ctx context.Context, now time.Time) error {
	if _, err := s.DeleteExpiredSessions(ctx, now); err != nil {
		return err
	}
	_, err := s.DeleteExpiredKV(ctx, now)
	return err
}
