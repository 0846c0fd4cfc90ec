// Package store owns jindianzi's persistent state: the GORM models, the
// versioned migrations, every query and transaction, and the outbox that feeds
// the search index. Handlers never build queries; they call methods here.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL database family behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// ErrNotFound is returned when a requested row does not exist (or is not
// visible to the caller). Handlers map it to 404.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a uniqueness rule, such as
// a second user with the same name.
var ErrConflict = errors.New("store: already exists")

// Store is the one data-access layer over GORM. It is safe for concurrent use.
//
// On SQLite it keeps two connection pools on the same file: r for reads (many
// connections, WAL lets them run beside a writer) and w for writes (one
// connection, so writers queue in Go rather than spinning on SQLITE_BUSY).
// On MySQL both point at the same pool.
type Store struct {
	r, w    *gorm.DB
	dialect Dialect
	where   string // a password-free description of the database, for logs and health
}

// Target is a parsed --db setting.
type Target struct {
	Dialect Dialect
	// DSN is the driver's data source name. For SQLite it is the file path.
	DSN string
	// Display describes the database without secrets.
	Display string
}

// ParseTarget accepts `sqlite:PATH`, `mysql://user:pass@host:port/dbname?params`
// and `mysql:RAW-GO-SQL-DRIVER-DSN`, and returns the driver DSN. MySQL
// connections are forced to utf8mb4, UTC and parsed times.
func ParseTarget(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if p == "" {
			return Target{}, fmt.Errorf("store: %q names no SQLite file (use sqlite:PATH)", s)
		}
		return Target{Dialect: SQLite, DSN: p, Display: "sqlite:" + p}, nil
	case strings.HasPrefix(s, "mysql://"):
		u, err := url.Parse(s)
		if err != nil {
			return Target{}, fmt.Errorf("store: cannot parse MySQL URL: %w", redactURLError(err))
		}
		if u.Hostname() == "" {
			return Target{}, errors.New("store: MySQL URL has no host (mysql://user:pass@host:port/dbname)")
		}
		addr := u.Host
		if u.Port() == "" {
			addr = u.Hostname() + ":3306"
		}
		db := strings.TrimPrefix(u.Path, "/")
		if db == "" || strings.Contains(db, "/") {
			return Target{}, errors.New("store: MySQL URL must name one database (mysql://user:pass@host:port/dbname)")
		}
		var cred string
		if u.User != nil {
			cred = u.User.Username()
			if pw, ok := u.User.Password(); ok {
				cred += ":" + pw
			}
			cred += "@"
		}
		raw := cred + "tcp(" + addr + ")/" + db
		if u.RawQuery != "" {
			raw += "?" + u.RawQuery
		}
		return mysqlTarget(raw)
	case strings.HasPrefix(s, "mysql:"):
		return mysqlTarget(strings.TrimPrefix(s, "mysql:"))
	default:
		return Target{}, fmt.Errorf("store: unsupported database %q (use sqlite:PATH or mysql://user:pass@host:port/dbname)", redactDSN(s))
	}
}

func mysqlTarget(raw string) (Target, error) {
	cfg, err := mysql.ParseDSN(raw)
	if err != nil {
		return Target{}, fmt.Errorf("store: invalid MySQL DSN: %v", err)
	}
	if cfg.DBName == "" {
		return Target{}, errors.New("store: MySQL DSN names no database")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// 4-byte characters (𠮷, emoji) need utf8mb4 on the connection, not only on the tables.
	cfg.Params["charset"] = "utf8mb4"
	cfg.Collation = "utf8mb4_unicode_ci"
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	// Interpolate arguments client-side: one round trip per query instead of
	// prepare, execute and close. Safe because the connection is utf8mb4.
	cfg.InterpolateParams = true
	return Target{
		Dialect: MySQL,
		DSN:     cfg.FormatDSN(),
		Display: fmt.Sprintf("mysql://%s@%s/%s", cfg.User, cfg.Addr, cfg.DBName),
	}, nil
}

// redactDSN hides anything that looks like a password in s.
func redactDSN(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s[:i], ":"); j >= 0 {
			if k := strings.LastIndex(s[:i], ":"); k > j {
				return s[:k+1] + "***" + s[i:]
			}
		}
	}
	return s
}

func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New(ue.Err.Error())
	}
	return err
}

// Open connects to the database named by target (see ParseTarget) and checks
// that it answers. It does not migrate: call Migrate for that.
func Open(ctx context.Context, target string, log *slog.Logger) (*Store, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	cfg := &gorm.Config{
		Logger:         newGormLogger(log),
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		TranslateError: true,
		// We ping ourselves, so a failure comes back as one error instead of
		// being logged by GORM as well.
		DisableAutomaticPing: true,
	}
	s := &Store{dialect: t.Dialect, where: t.Display}
	switch t.Dialect {
	case SQLite:
		if err := os.MkdirAll(filepath.Dir(t.DSN), 0o755); err != nil {
			return nil, fmt.Errorf("store: cannot create the directory for %s: %w", t.DSN, err)
		}
		base := "file:" + t.DSN + "?_busy_timeout=10000&_foreign_keys=1&_synchronous=NORMAL&_journal_mode=WAL"
		// Writes: one connection; BEGIN IMMEDIATE takes the write lock up front so
		// a transaction never fails half-way with SQLITE_BUSY.
		if s.w, err = gorm.Open(sqlite.Open(base+"&_txlock=immediate"), cfg); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", t.DSN, err)
		}
		wdb, _ := s.w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		if s.r, err = gorm.Open(sqlite.Open(base), cfg); err != nil {
			_ = wdb.Close()
			return nil, fmt.Errorf("store: open %s: %w", t.DSN, err)
		}
		rdb, _ := s.r.DB()
		rdb.SetMaxOpenConns(8)
		rdb.SetMaxIdleConns(8)
		// The journal mode is a property of the file; check it really took.
		var mode string
		if err := s.w.WithContext(ctx).Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
			s.Close()
			return nil, fmt.Errorf("store: open %s: %w", t.DSN, err)
		}
		if !strings.EqualFold(mode, "wal") {
			s.Close()
			return nil, fmt.Errorf("store: %s is not in WAL mode (got %q)", t.DSN, mode)
		}
	case MySQL:
		_ = mysql.SetLogger(mysqlLogger{log})
		db, err := gorm.Open(gormmysql.New(gormmysql.Config{DSN: t.DSN, SkipInitializeWithVersion: true}), cfg)
		if err != nil {
			return nil, fmt.Errorf("store: cannot connect to %s: %w", t.Display, err)
		}
		sqlDB, _ := db.DB()
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		s.r, s.w = db, db
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: cannot reach %s: %w", t.Display, err)
	}
	return s, nil
}

// Dialect reports which database family the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// String describes the database without secrets.
func (s *Store) String() string { return s.where }

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*gorm.DB{s.w, s.r} {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return err
		}
		if s.r == s.w {
			break
		}
	}
	return nil
}

// Close closes the connection pools. It is safe to call more than once.
func (s *Store) Close() error {
	var errs []error
	for _, db := range []*gorm.DB{s.w, s.r} {
		if db == nil {
			continue
		}
		if sqlDB, err := db.DB(); err == nil {
			if err := sqlDB.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
				errs = append(errs, err)
			}
		}
		if s.r == s.w {
			break
		}
	}
	return errors.Join(errs...)
}

// notFound maps GORM's record-not-found error to ErrNotFound and duplicate
// keys to ErrConflict, and wraps everything else with context.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("store: %s: %w", msg, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("store: %s: %w", msg, ErrConflict)
	}
	return fmt.Errorf("store: %s: %w", msg, err)
}

func newGormLogger(log *slog.Logger) logger.Interface {
	return quietConflicts{logger.New(slogWriter{log}, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true, // never log residents' text or contacts
		Colorful:                  false,
	})}
}

// quietConflicts keeps expected unique-key conflicts out of the log: the
// store turns them into ErrConflict and callers answer them.
type quietConflicts struct{ logger.Interface }

func (q quietConflicts) LogMode(l logger.LogLevel) logger.Interface {
	return quietConflicts{q.Interface.LogMode(l)}
}

func (q quietConflicts) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && isUniqueViolation(err) {
		err = nil
	}
	q.Interface.Trace(ctx, begin, fc, err)
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "Error 1062")
}

type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Printf(format string, args ...any) {
	w.log.Warn("database", "detail", fmt.Sprintf(format, args...))
}

// mysqlLogger routes the MySQL driver's own messages into the structured log.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) { l.log.Warn("mysql driver", "detail", fmt.Sprint(v...)) }
