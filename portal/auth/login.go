package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"jindianzi/portal/store"
)

// Lockout rules: an account locks for LockFor after MaxFailures wrong passwords.
const (
	MaxFailures = 10
	LockFor     = 15 * time.Minute
)

// Sign-in errors. Their text is safe to show to the person signing in.
var (
	// ErrBadCredentials does not say whether the name or the password was wrong.
	ErrBadCredentials = errors.New("用户名或密码不正确")
	ErrLocked         = errors.New("密码错误次数过多，账号已锁定 15 分钟，请稍后再试")
	ErrBlocked        = errors.New("该账号已被停用，如有疑问请联系管理员")
)

// Authenticator checks names and passwords against the store and applies the
// lockout rules.
type Authenticator struct {
	Store *store.Store
	Now   func() time.Time
}

// Login returns the user whose name and password match. A wrong password
// counts towards the lockout; a locked or blocked account is refused even with
// the right password.
func (a *Authenticator) Login(ctx context.Context, name, password string) (*store.User, error) {
	now := a.now()
	u, err := a.Store.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		_, _ = VerifyPassword(dummyHash, password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return nil, ErrLocked
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("auth: login %q: %w", name, err)
	}
	if !ok {
		locked, err := a.Store.RecordLoginFailure(ctx, u.ID, MaxFailures, LockFor, now)
		if err != nil {
			return nil, fmt.Errorf("auth: login: %w", err)
		}
		if locked != nil {
			return nil, ErrLocked
		}
		return nil, ErrBadCredentials
	}
	if u.BlockedAt != nil {
		return nil, ErrBlocked
	}
	if err := a.Store.RecordLoginSuccess(ctx, u.ID, now); err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	return u, nil
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}
