// Package auth owns credentials: password hashing (argon2id), random secrets
// for sessions and API tokens, and the sign-in rules (lockout after repeated
// failures). It knows nothing of HTTP.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: RFC 9106's second recommended option, scaled to a
// 2-core server (about 40 ms and 64 MiB a hash).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// Bounds on what VerifyPassword accepts from a stored hash. A corrupted or
// planted hash must fail with an error: argon2 panics on zero rounds, zero
// threads or an empty key, a huge memory or round count would exhaust the
// server on one sign-in, and a key of a few bytes is easy to collide with.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 64
	minSaltLen     = 8
	minKeyLen      = 16
)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 8

// ErrWeakPassword is returned for passwords shorter than MinPasswordLen.
var ErrWeakPassword = fmt.Errorf("密码至少需要 %d 个字符", MinPasswordLen)

// HashPassword returns an argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return "", ErrWeakPassword
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC hash. The
// comparison takes the same time whether or not it matches.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("auth: unsupported password hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("auth: unsupported argon2 version")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("auth: bad argon2 parameters: %w", err)
	}
	if t < 1 || t > maxArgonTime || p < 1 || m > maxArgonMemory {
		return false, fmt.Errorf("auth: argon2 parameters out of range (m=%d,t=%d,p=%d)", m, t, p)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("auth: bad salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("auth: bad hash: %w", err)
	}
	if len(salt) < minSaltLen || len(want) < minKeyLen {
		return false, errors.New("auth: argon2 salt or hash too short")
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when a user does not exist, so that a wrong
// name costs the same time as a wrong password.
var dummyHash, _ = HashPassword("jindianzi-dummy-password")

// NewSecret returns a random URL-safe secret of 32 bytes with the given
// prefix, and the hex SHA-256 under which it is stored.
func NewSecret(prefix string) (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: random secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a session or token secret. Secrets carry
// 256 random bits, so a plain SHA-256 is enough (no stretching needed).
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
