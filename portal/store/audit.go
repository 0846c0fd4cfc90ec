package store

import (
	"context"

	"gorm.io/gorm"
)

// appendAudit writes an audit entry inside tx. Audit rows are only ever
// inserted: no code path updates or deletes them.
func appendAudit(tx *gorm.DB, e *AuditEntry) error {
	return tx.Create(e).Error
}

// AppendAudit records an action that changed nothing else in the database
// (for example a command-line user creation).
func (s *Store) AppendAudit(ctx context.Context, e *AuditEntry) error {
	return wrap(appendAudit(s.w.WithContext(ctx), e), "append audit entry %q", e.Action)
}

// AuditEntries returns the newest entries first, at most limit of them.
func (s *Store) AuditEntries(ctx context.Context, limit int) ([]AuditEntry, error) {
	var es []AuditEntry
	err := s.r.WithContext(ctx).Order("id DESC").Limit(limit).Find(&es).Error
	return es, wrap(err, "audit entries")
}
