package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A migration is one numbered, named step of the schema. Steps are applied in
// order, each at most once; the applied versions are kept in schema_migrations.
// Never edit a step that has shipped: append a new one.
type migration struct {
	version int
	name    string
	stmts   []string // DDL with dialect placeholders, see expand
}

// migrations is the ordered schema history. The SQL is written once for both
// dialects; expand turns the @-placeholders into each dialect's types.
var migrations = []migration{
	{1, "initial schema", schemaV1},
	{2, "moderation, search administration, theme models and clusters", schemaV2},
	{3, "debate outcomes", schemaV3},
}

// LatestVersion is the schema version this build expects.
func LatestVersion() int { return migrations[len(migrations)-1].version }

// expand replaces the placeholders in a DDL statement:
//
//	@ID     auto-increment 64-bit primary key
//	@REF    a 64-bit column that refers to an @ID
//	@TEXT   long text
//	@BLOB   binary value
//	@TIME   timestamp with microseconds (always UTC)
//	@TABLE  table options (utf8mb4 on MySQL)
func expand(d Dialect, stmt string) string {
	var r *strings.Replacer
	if d == MySQL {
		r = strings.NewReplacer(
			"@ID", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
			"@REF", "BIGINT",
			"@TEXT", "MEDIUMTEXT",
			"@BLOB", "MEDIUMBLOB",
			"@TIME", "DATETIME(6)",
			"@TABLE", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
		)
	} else {
		r = strings.NewReplacer(
			"@ID", "INTEGER PRIMARY KEY AUTOINCREMENT",
			"@REF", "INTEGER",
			"@TEXT", "TEXT",
			"@BLOB", "BLOB",
			"@TIME", "DATETIME",
			"@TABLE", "",
		)
	}
	return r.Replace(stmt)
}

// Migrate brings the schema up to LatestVersion. It is safe to run from several
// processes at once: on MySQL a named lock serialises them, on SQLite the
// immediate write transaction does. It reports each applied step through
// progress (which may be nil).
func (s *Store) Migrate(ctx context.Context, progress func(version int, name string)) error {
	db := s.w.WithContext(ctx)
	if s.dialect == MySQL {
		// A dedicated connection holds the lock for the whole run.
		sqlDB, err := s.w.DB()
		if err != nil {
			return wrap(err, "migrate")
		}
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return wrap(err, "migrate: connect")
		}
		defer conn.Close()
		var got int
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('jindianzi_migrate', 60)").Scan(&got); err != nil || got != 1 {
			return fmt.Errorf("store: migrate: could not take the migration lock (another node migrating?): %v", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('jindianzi_migrate')")
	}
	create := expand(s.dialect, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY,
		name VARCHAR(200) NOT NULL,
		applied_at @TIME NOT NULL
	)@TABLE`)
	if err := db.Exec(create).Error; err != nil {
		return wrap(err, "migrate: create schema_migrations")
	}
	applied := map[int]bool{}
	var versions []int
	if err := db.Raw("SELECT version FROM schema_migrations").Scan(&versions).Error; err != nil {
		return wrap(err, "migrate: read applied versions")
	}
	for _, v := range versions {
		applied[v] = true
	}
	for _, m := range migrations {
		if applied[m.version] {
			continue
		}
		// SQLite runs DDL inside the transaction, so a failed step leaves nothing
		// behind. MySQL commits DDL implicitly; there the version row is written
		// last, so a failed step is retried from its start after the fix.
		err := db.Transaction(func(tx *gorm.DB) error {
			for i, stmt := range m.stmts {
				if err := tx.Exec(expand(s.dialect, stmt)).Error; err != nil {
					return fmt.Errorf("statement %d: %w", i+1, err)
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return wrap(err, "migrate: step %d (%s)", m.version, m.name)
		}
		if progress != nil {
			progress(m.version, m.name)
		}
	}
	return nil
}

// SchemaVersion reports the highest applied migration, 0 for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	db := s.r.WithContext(ctx)
	// Ask first, so a fresh database does not log a "no such table" error.
	if !db.Migrator().HasTable("schema_migrations") {
		return 0, nil
	}
	var v *int
	if err := db.Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error; err != nil {
		return 0, wrap(err, "schema version")
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}
