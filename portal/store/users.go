package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// NewUser is what CreateUser needs to make an account.
type NewUser struct {
	Name         string
	DisplayName  string
	PasswordHash string
	Role         Role
	// Department is the department's name; it is created if it does not exist.
	Department string
	Phone      string
	Email      string
}

// CreateUser adds an account. A second user with the same name is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	if !nu.Role.Valid() {
		return nil, errors.New("store: create user: invalid role " + string(nu.Role))
	}
	u := &User{
		Name: nu.Name, DisplayName: nu.DisplayName, PasswordHash: nu.PasswordHash,
		Role: nu.Role, Phone: nu.Phone, Email: nu.Email,
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if nu.Department != "" {
			d, err := departmentByName(tx, nu.Department, true)
			if err != nil {
				return err
			}
			u.DepartmentID = &d.ID
		}
		return tx.Create(u).Error
	})
	if err != nil {
		return nil, wrap(err, "create user %q", nu.Name)
	}
	return u, nil
}

// departmentByName finds a department, creating it when create is set. Two
// writers may create the same department at once: the insert ignores the
// conflict and the locking read then sees whichever row won (a plain read
// would see the transaction's old snapshot on MySQL).
func departmentByName(tx *gorm.DB, name string, create bool) (*Department, error) {
	var d Department
	if create {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Department{Name: name}).Error; err != nil {
			return nil, err
		}
		tx = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	if err := tx.Where("name = ?", name).Take(&d).Error; err != nil {
		return nil, err
	}
	return &d, nil
}

// Department returns the department with the given id.
func (s *Store) Department(ctx context.Context, id int64) (*Department, error) {
	var d Department
	if err := s.r.WithContext(ctx).Take(&d, id).Error; err != nil {
		return nil, wrap(err, "department %d", id)
	}
	return &d, nil
}

// UserByName returns the account with that login name.
func (s *Store) UserByName(ctx context.Context, name string) (*User, error) {
	var u User
	if err := s.r.WithContext(ctx).Where("name = ?", name).Take(&u).Error; err != nil {
		return nil, wrap(err, "user %q", name)
	}
	return &u, nil
}

// UserByID returns the account with that id.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.r.WithContext(ctx).Take(&u, id).Error; err != nil {
		return nil, wrap(err, "user %d", id)
	}
	return &u, nil
}

// RecordLoginFailure counts a wrong password for the user. When the count
// reaches maxFailures the account is locked until now+lockFor and the count
// starts again. It returns the lock's end, if one was set.
func (s *Store) RecordLoginFailure(ctx context.Context, userID int64, maxFailures int, lockFor time.Duration, now time.Time) (*time.Time, error) {
	var locked *time.Time
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Select("id", "failed_logins").Take(&u, userID).Error; err != nil {
			return err
		}
		n := u.FailedLogins + 1
		upd := map[string]any{"failed_logins": n, "updated_at": now}
		if n >= maxFailures {
			until := now.Add(lockFor).UTC()
			locked = &until
			upd["failed_logins"] = 0
			upd["locked_until"] = until
		}
		return tx.Model(&User{}).Where("id = ?", userID).Updates(upd).Error
	})
	return locked, wrap(err, "record login failure for user %d", userID)
}

// RecordLoginSuccess clears the failure count and notes the time.
func (s *Store) RecordLoginSuccess(ctx context.Context, userID int64, now time.Time) error {
	err := s.w.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"failed_logins": 0, "locked_until": nil, "last_login_at": now, "updated_at": now}).Error
	return wrap(err, "record login for user %d", userID)
}

// CountUsers returns how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, wrap(err, "count users")
}
