// Package storetest opens real, migrated databases for tests: a fresh SQLite
// file always, and a fresh MariaDB/MySQL database when JDZ_TEST_MYSQL_DSN is
// set (for example mysql://root@127.0.0.1:3306/jdz_test). No mocks.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"jindianzi/portal/store"
)

// EnvMySQL names the variable that enables the MySQL-backed tests.
const EnvMySQL = "JDZ_TEST_MYSQL_DSN"

// Backend is a database the same test code runs against.
type Backend struct {
	Name string // "sqlite" or "mysql"
	// Target returns a --db value for a brand-new, empty database.
	Target func(t testing.TB) string
}

// Backends lists SQLite, plus MySQL when JDZ_TEST_MYSQL_DSN is set.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", Target: SQLiteTarget}}
	if os.Getenv(EnvMySQL) != "" {
		bs = append(bs, Backend{Name: "mysql", Target: MySQLTarget})
	}
	return bs
}

// ForEach runs f as a subtest against each backend with a fresh, migrated store.
func ForEach(t *testing.T, f func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f(t, OpenTarget(t, b.Target(t)))
		})
	}
}

// Open returns a fresh, migrated SQLite store in t.TempDir(), closed at cleanup.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenTarget(t, SQLiteTarget(t))
}

// OpenTarget opens and migrates the database named by target.
func OpenTarget(t testing.TB, target string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, target, Logger(t))
	if err != nil {
		t.Fatalf("open %s: %v", target, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate %s: %v", target, err)
	}
	return s
}

// SQLiteTarget names a new SQLite file in a temporary directory.
func SQLiteTarget(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// MySQLTarget creates an empty database on the server named by
// JDZ_TEST_MYSQL_DSN and drops it at cleanup. It skips the test when the
// variable is unset.
func MySQLTarget(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvMySQL)
	if base == "" {
		t.Skip(EnvMySQL + " not set")
	}
	target, err := store.ParseTarget(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	cfg, err := mysql.ParseDSN(target.DSN)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("%s_%s", cfg.DBName, hex.EncodeToString(b))
	admin := *cfg
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatalf("connect to MySQL: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", admin.FormatDSN())
		if err == nil {
			_, _ = db.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			db.Close()
		}
	})
	db2 := *cfg
	db2.DBName = name
	return "mysql:" + db2.FormatDSN()
}

// Logger writes to the test log, so database warnings show up with the test.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
