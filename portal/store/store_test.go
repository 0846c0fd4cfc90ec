package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		dialect store.Dialect
		dsnHas  []string
		display string
		wantErr string
	}{
		{in: "sqlite:./data/jindianzi.db", dialect: store.SQLite, dsnHas: []string{"./data/jindianzi.db"}, display: "sqlite:./data/jindianzi.db"},
		{in: "sqlite:///var/lib/jdz.db", dialect: store.SQLite, dsnHas: []string{"/var/lib/jdz.db"}},
		{in: "mysql://root@127.0.0.1:3306/jdz", dialect: store.MySQL,
			dsnHas: []string{"root@tcp(127.0.0.1:3306)/jdz", "parseTime=true", "charset=utf8mb4", "collation=utf8mb4_unicode_ci"}, display: "mysql://root@127.0.0.1:3306/jdz"},
		{in: "mysql://u:p%40ss@db.example:4000/jdz?timeout=3s", dialect: store.MySQL,
			dsnHas: []string{"u:p@ss@tcp(db.example:4000)/jdz", "timeout=3s"}, display: "mysql://u@db.example:4000/jdz"},
		{in: "mysql://u@dbhost/jdz", dialect: store.MySQL, dsnHas: []string{"tcp(dbhost:3306)"}},
		{in: "mysql:root:pw@tcp(127.0.0.1:3306)/jdz", dialect: store.MySQL, dsnHas: []string{"root:pw@tcp(127.0.0.1:3306)/jdz", "charset=utf8mb4"}, display: "mysql://root@127.0.0.1:3306/jdz"},
		{in: "sqlite:", wantErr: "names no SQLite file"},
		{in: "mysql://", wantErr: "no host"},
		{in: "mysql://root@127.0.0.1:3306/", wantErr: "one database"},
		{in: "mysql:garbage", wantErr: "invalid MySQL DSN"},
		{in: "postgres://u:secret@h/db", wantErr: "unsupported database"},
		{in: "", wantErr: "unsupported database"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := store.ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Dialect != tt.dialect {
				t.Errorf("dialect = %s, want %s", got.Dialect, tt.dialect)
			}
			for _, s := range tt.dsnHas {
				if !strings.Contains(got.DSN, s) {
					t.Errorf("DSN %q lacks %q", got.DSN, s)
				}
			}
			if tt.display != "" && got.Display != tt.display {
				t.Errorf("display = %q, want %q", got.Display, tt.display)
			}
			if strings.Contains(got.Display, "pw") || strings.Contains(got.Display, "p@ss") {
				t.Errorf("display leaks the password: %q", got.Display)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != store.LatestVersion() {
			t.Fatalf("schema version = %d, %v; want %d", v, err, store.LatestVersion())
		}
		applied := 0
		if err := s.Migrate(ctx, func(int, string) { applied++ }); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if applied != 0 {
			t.Errorf("second migrate applied %d steps, want 0", applied)
		}
	})
}

func TestMigrateFromEmptyReportsSteps(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, b.Target(t), storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
				t.Fatalf("empty database: version %d, %v", v, err)
			}
			var steps []string
			if err := s.Migrate(ctx, func(v int, name string) { steps = append(steps, fmt.Sprint(v, name)) }); err != nil {
				t.Fatal(err)
			}
			if len(steps) != store.LatestVersion() {
				t.Errorf("steps = %v", steps)
			}
		})
	}
}

// 4-byte characters must survive on MySQL too (utf8mb4 on tables and connection).
func TestFourByteCharactersRoundTrip(t *testing.T) {
	const name = "𠮷野家😀🏙️"
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.NewUser{Name: "user-" + name, DisplayName: name, PasswordHash: "x", Role: store.RoleResident})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByName(ctx, "user-"+name)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != name || got.ID != u.ID {
			t.Fatalf("got %q (id %d), want %q (id %d)", got.DisplayName, got.ID, name, u.ID)
		}
		long := strings.Repeat("城市文明𠮷😀", 500)
		if err := s.AppendAudit(ctx, &store.AuditEntry{ActorName: name, Action: "test", Reason: long}); err != nil {
			t.Fatal(err)
		}
		es, err := s.AuditEntries(ctx, 1)
		if err != nil || len(es) != 1 {
			t.Fatalf("audit entries: %v %v", es, err)
		}
		if es[0].Reason != long || es[0].ActorName != name {
			t.Errorf("audit text changed in the round trip")
		}
	})
}

// Parallel writers wait for each other instead of failing with SQLITE_BUSY,
// even from two Stores (two processes) on the same file.
func TestParallelWriters(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			target := b.Target(t)
			s1 := storetest.OpenTarget(t, target)
			s2 := storetest.OpenTarget(t, target)
			const workers, each = 16, 40
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := range workers {
				s := s1
				if w%2 == 1 {
					s = s2
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						_, err := s.CreateUser(context.Background(), store.NewUser{
							Name: fmt.Sprintf("w%d-%d", w, i), PasswordHash: "x", Role: store.RoleResident,
							Department: fmt.Sprintf("部门%d", i%3),
						})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("writer failed: %v", err)
			}
			n, err := s1.CountUsers(context.Background())
			if err != nil || n != workers*each {
				t.Fatalf("users = %d, %v; want %d", n, err, workers*each)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.NewUser{Name: "li", PasswordHash: "h", Role: store.RoleOfficial, Department: "市交警支队"})
		if err != nil {
			t.Fatal(err)
		}
		if u.DepartmentID == nil || u.DisplayName != "li" {
			t.Fatalf("user = %+v", u)
		}
		d, err := s.Department(ctx, *u.DepartmentID)
		if err != nil || d.Name != "市交警支队" {
			t.Fatalf("department = %+v, %v", d, err)
		}
		u2, err := s.CreateUser(ctx, store.NewUser{Name: "wang", PasswordHash: "h", Role: store.RoleOfficial, Department: "市交警支队"})
		if err != nil || *u2.DepartmentID != *u.DepartmentID {
			t.Fatalf("second official: %+v, %v (department must be reused)", u2, err)
		}
		if _, err := s.CreateUser(ctx, store.NewUser{Name: "li", PasswordHash: "h", Role: store.RoleResident}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: err = %v, want ErrConflict", err)
		}
		if _, err := s.CreateUser(ctx, store.NewUser{Name: "x", Role: "king"}); err == nil {
			t.Error("invalid role accepted")
		}
		if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing user: err = %v, want ErrNotFound", err)
		}
		if _, err := s.UserByID(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing id: err = %v, want ErrNotFound", err)
		}
	})
}

func TestLoginFailuresLock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.NewUser{Name: "zhao", PasswordHash: "h", Role: store.RoleResident})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		for i := 1; i < 10; i++ {
			locked, err := s.RecordLoginFailure(ctx, u.ID, 10, 15*time.Minute, now)
			if err != nil || locked != nil {
				t.Fatalf("failure %d: locked=%v err=%v", i, locked, err)
			}
		}
		locked, err := s.RecordLoginFailure(ctx, u.ID, 10, 15*time.Minute, now)
		if err != nil || locked == nil || !locked.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("10th failure: locked=%v err=%v", locked, err)
		}
		got, _ := s.UserByID(ctx, u.ID)
		if got.LockedUntil == nil || !got.LockedUntil.Equal(now.Add(15*time.Minute)) || got.FailedLogins != 0 {
			t.Errorf("after lock: locked_until=%v failed=%d", got.LockedUntil, got.FailedLogins)
		}
		if err := s.RecordLoginSuccess(ctx, u.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.UserByID(ctx, u.ID)
		if got.LockedUntil != nil || got.LastLoginAt == nil {
			t.Errorf("after success: %+v", got)
		}
	})
}

func TestSessionsAndTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, store.NewUser{Name: "qian", PasswordHash: "h", Role: store.RoleModerator})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		if err := s.CreateSession(ctx, &store.Session{ID: "live", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, &store.Session{ID: "old", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if _, got, err := s.SessionUser(ctx, "live", now); err != nil || got.ID != u.ID {
			t.Fatalf("live session: %v %v", got, err)
		}
		if _, _, err := s.SessionUser(ctx, "old", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: err = %v", err)
		}
		if err := s.TouchSession(ctx, "live", now.Add(2*time.Hour), now.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, "live", now.Add(2*time.Hour+time.Minute)); err != nil {
			t.Errorf("touched session expired: %v", err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 1 {
			t.Errorf("delete expired: %d %v", n, err)
		}
		if err := s.DeleteSession(ctx, "live"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, "live", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session: err = %v", err)
		}

		past := now.Add(-time.Hour)
		for _, tok := range []*store.APIToken{
			{UserID: u.ID, TokenHash: "good", Prefix: "jdz_good"},
			{UserID: u.ID, TokenHash: "revoked", Prefix: "jdz_rev", RevokedAt: &past},
			{UserID: u.ID, TokenHash: "expired", Prefix: "jdz_exp", ExpiresAt: &past},
		} {
			if err := s.CreateAPIToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		tok, got, err := s.TokenUser(ctx, "good", now)
		if err != nil || got.Name != "qian" {
			t.Fatalf("token: %v %v", got, err)
		}
		if err := s.TouchAPIToken(ctx, tok.ID, now); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"revoked", "expired", "missing"} {
			if _, _, err := s.TokenUser(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("token %s: err = %v, want ErrNotFound", h, err)
			}
		}
		if err := s.CreateAPIToken(ctx, &store.APIToken{UserID: u.ID, TokenHash: "good", Prefix: "x"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate token hash: err = %v", err)
		}
	})
}

func TestKV(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		kv := s.KV("test:")
		other := s.KV("other:")
		if v, err := kv.Get("a"); err != nil || v != nil {
			t.Fatalf("missing key: %q %v", v, err)
		}
		if err := kv.Set("a", []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
		if err := kv.Set("a", []byte("2"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := other.Set("a", []byte("other"), 0); err != nil {
			t.Fatal(err)
		}
		if v, _ := kv.Get("a"); string(v) != "2" {
			t.Errorf("after overwrite: %q", v)
		}
		if err := kv.Set("gone", []byte("x"), time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if v, _ := kv.Get("gone"); v != nil {
			t.Errorf("expired key still readable: %q", v)
		}
		if n, err := s.DeleteExpiredKV(context.Background(), time.Now()); err != nil || n != 1 {
			t.Errorf("delete expired: %d %v", n, err)
		}
		if err := kv.Set("", []byte("x"), 0); err != nil {
			t.Errorf("empty key: %v", err)
		}
		if err := kv.Reset(); err != nil {
			t.Fatal(err)
		}
		if v, _ := kv.Get("a"); v != nil {
			t.Errorf("after reset: %q", v)
		}
		if v, _ := other.Get("a"); string(v) != "other" {
			t.Errorf("reset touched another prefix: %q", v)
		}
		if err := other.Delete("a"); err != nil {
			t.Fatal(err)
		}
		if v, _ := other.Get("a"); v != nil {
			t.Errorf("after delete: %q", v)
		}
	})
}

func TestEmptyListings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		if cs, err := s.OpenCampaigns(ctx, now, 10); err != nil || len(cs) != 0 {
			t.Errorf("campaigns: %v %v", cs, err)
		}
		if ds, err := s.CurrentDebates(ctx, now, 10); err != nil || len(ds) != 0 {
			t.Errorf("debates: %v %v", ds, err)
		}
		if h, err := s.OutboxHead(ctx); err != nil || h != 0 {
			t.Errorf("outbox head: %d %v", h, err)
		}
	})
}

func TestPingAfterClose(t *testing.T) {
	s := storetest.Open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("ping after close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
