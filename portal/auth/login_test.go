package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"jindianzi/portal/auth"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

const password = "correct-horse-battery"

var (
	hashOnce sync.Once
	hash     string
	hashErr  error
)

// passwordHash is computed once per test binary: each argon2 hash costs ~40 ms.
func passwordHash(t *testing.T) string {
	t.Helper()
	hashOnce.Do(func() { hash, hashErr = auth.HashPassword(password) })
	if hashErr != nil {
		t.Fatal(hashErr)
	}
	return hash
}

// clock is a settable time source for Authenticator.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

func createUser(t *testing.T, s *store.Store, name, passwordHash string) *store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{Name: name, PasswordHash: passwordHash, Role: store.RoleResident})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func reload(t *testing.T, s *store.Store, id int64) *store.User {
	t.Helper()
	u, err := s.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginLockout(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)}
		a := &auth.Authenticator{Store: s, Now: clk.Now}
		u := createUser(t, s, "liming", passwordHash(t))

		got, err := a.Login(ctx, "liming", password)
		if err != nil || got.ID != u.ID {
			t.Fatalf("first login: %v %v", got, err)
		}
		if r := reload(t, s, u.ID); r.LastLoginAt == nil || !r.LastLoginAt.Equal(clk.t) {
			t.Errorf("last login = %v, want %v", r.LastLoginAt, clk.t)
		}

		// A success clears earlier failures.
		for i := 0; i < 3; i++ {
			if _, err := a.Login(ctx, "liming", "wrong-password"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if r := reload(t, s, u.ID); r.FailedLogins != 3 {
			t.Errorf("failed logins = %d, want 3", r.FailedLogins)
		}
		if _, err := a.Login(ctx, "liming", password); err != nil {
			t.Fatalf("login after 3 failures: %v", err)
		}
		if r := reload(t, s, u.ID); r.FailedLogins != 0 || r.LockedUntil != nil {
			t.Errorf("after success: failed %d, locked until %v", r.FailedLogins, r.LockedUntil)
		}

		// MaxFailures wrong passwords in a row lock the account for LockFor.
		for i := 1; i <= auth.MaxFailures; i++ {
			clk.Add(time.Second)
			_, err := a.Login(ctx, "liming", "wrong-password")
			want := auth.ErrBadCredentials
			if i == auth.MaxFailures {
				want = auth.ErrLocked
			}
			if !errors.Is(err, want) {
				t.Fatalf("failure %d: %v, want %v", i, err, want)
			}
		}
		lockedAt := clk.t
		r := reload(t, s, u.ID)
		if r.LockedUntil == nil || !r.LockedUntil.Equal(lockedAt.Add(auth.LockFor)) {
			t.Fatalf("locked until %v, want %v", r.LockedUntil, lockedAt.Add(auth.LockFor))
		}

		// While locked even the right password is refused.
		for _, after := range []time.Duration{0, time.Minute, auth.LockFor - time.Second} {
			clk.t = lockedAt.Add(after)
			if _, err := a.Login(ctx, "liming", password); !errors.Is(err, auth.ErrLocked) {
				t.Errorf("right password %v after locking: %v, want ErrLocked", after, err)
			}
		}

		// When the lock ends the right password works and clears it.
		clk.t = lockedAt.Add(auth.LockFor)
		if got, err := a.Login(ctx, "liming", password); err != nil || got.ID != u.ID {
			t.Fatalf("login when the lock ended: %v %v", got, err)
		}
		if r := reload(t, s, u.ID); r.FailedLogins != 0 || r.LockedUntil != nil {
			t.Errorf("after the lock: failed %d, locked until %v", r.FailedLogins, r.LockedUntil)
		}
		// And the count starts again: one more failure does not re-lock.
		if _, err := a.Login(ctx, "liming", "wrong-password"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("first failure after the lock: %v", err)
		}

		// An unknown name is the same error as a wrong password.
		if got, err := a.Login(ctx, "nobody", password); !errors.Is(err, auth.ErrBadCredentials) || got != nil {
			t.Errorf("unknown user: %v %v", got, err)
		}
	})
}

func TestLoginBlocked(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			target := b.Target(t)
			s := storetest.OpenTarget(t, target)
			a := &auth.Authenticator{Store: s}
			u := createUser(t, s, "blocked", passwordHash(t))
			blockUser(t, target, u.ID)

			if got, err := a.Login(ctx, "blocked", password); !errors.Is(err, auth.ErrBlocked) || got != nil {
				t.Errorf("blocked user, right password: %v %v", got, err)
			}
			// A wrong password does not reveal that the account is blocked.
			if _, err := a.Login(ctx, "blocked", "wrong-password"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("blocked user, wrong password: %v", err)
			}
			if r := reload(t, s, u.ID); r.LastLoginAt != nil {
				t.Error("a blocked user's sign-in was recorded as a login")
			}
		})
	}
}

// blockUser sets blocked_at through a second connection: the store has no
// method for blocking yet.
func blockUser(t *testing.T, target string, id int64) {
	t.Helper()
	tg, err := store.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	var d gorm.Dialector
	if tg.Dialect == store.MySQL {
		d = gormmysql.Open(tg.DSN)
	} else {
		d = sqlite.Open("file:" + tg.DSN + "?_busy_timeout=10000")
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	now := time.Now().UTC()
	res := db.Model(&store.User{}).Where("id = ?", id).Updates(map[string]any{"blocked_at": now, "blocked_reason": "test"})
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("block user %d: %v (%d rows)", id, res.Error, res.RowsAffected)
	}
}

func TestLoginCorruptHash(t *testing.T) {
	s := storetest.Open(t)
	a := &auth.Authenticator{Store: s}
	createUser(t, s, "corrupt", "$argon2id$v=19$m=65536,t=0,p=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	_, err := a.Login(context.Background(), "corrupt", password)
	if err == nil || errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrLocked) || errors.Is(err, auth.ErrBlocked) {
		t.Errorf("corrupt hash: %v, want an internal error", err)
	}
}

func TestLoginErrorsAreSafeChinese(t *testing.T) {
	for _, err := range []error{auth.ErrBadCredentials, auth.ErrLocked, auth.ErrBlocked, auth.ErrWeakPassword} {
		msg := err.Error()
		if strings.Contains(msg, "auth:") || !strings.ContainsAny(msg, "码号") {
			t.Errorf("%q is not a message for residents", msg)
		}
	}
	if !strings.Contains(auth.ErrLocked.Error(), "账号已锁定") || !strings.Contains(auth.ErrLocked.Error(), "15 分钟") || auth.LockFor != 15*time.Minute {
		t.Errorf("ErrLocked %q disagrees with LockFor %v", auth.ErrLocked, auth.LockFor)
	}
}
