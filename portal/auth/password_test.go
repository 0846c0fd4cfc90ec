package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	const pw = "城市文明-jdz-2025"
	h1, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=2,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h1) {
		t.Errorf("hash %q is not a PHC argon2id string with the expected parameters", h1)
	}
	if strings.Contains(h1, pw) {
		t.Error("the hash contains the password")
	}
	h2, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no random salt")
	}

	tests := []struct {
		hash, password string
		want           bool
	}{
		{h1, pw, true},
		{h2, pw, true},
		{h1, pw + " ", false},
		{h1, strings.ToUpper(pw), false},
		{h1, "", false},
	}
	for _, tt := range tests {
		ok, err := VerifyPassword(tt.hash, tt.password)
		if err != nil || ok != tt.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
}

func TestHashPasswordWeak(t *testing.T) {
	for _, pw := range []string{"", "1234567", "密码密码密码密"} { // the last is 21 bytes but 7 characters
		if h, err := HashPassword(pw); !errors.Is(err, ErrWeakPassword) || h != "" {
			t.Errorf("HashPassword(%q) = %q, %v; want ErrWeakPassword", pw, h, err)
		}
	}
	if _, err := HashPassword("密码密码密码密码"); err != nil {
		t.Errorf("8 Chinese characters refused: %v", err)
	}
	if !strings.Contains(ErrWeakPassword.Error(), "8") {
		t.Errorf("ErrWeakPassword %q does not say the minimum", ErrWeakPassword)
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	const (
		salt = "c2FsdHNhbHRzYWx0c2FsdA"                      // 16 bytes
		key  = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	)
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "password123"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=2$" + salt + "$" + key},
		{"too few parts", "$argon2id$v=19$m=65536,t=2,p=2$" + salt},
		{"too many parts", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$" + key + "$x"},
		{"old version", "$argon2id$v=16$m=65536,t=2,p=2$" + salt + "$" + key},
		{"bad version", "$argon2id$v=x$m=65536,t=2,p=2$" + salt + "$" + key},
		{"bad parameters", "$argon2id$m=65536$t=2$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=65536,t=2,p=300$" + salt + "$" + key},
		{"zero rounds", "$argon2id$v=19$m=65536,t=0,p=2$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=2,p=2$" + salt + "$" + key},
		{"huge rounds", "$argon2id$v=19$m=65536,t=4294967295,p=2$" + salt + "$" + key},
		{"bad salt", "$argon2id$v=19$m=65536,t=2,p=2$!!!$" + key},
		{"bad key", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$!!!"},
		{"empty key", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$"},
		{"short key", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$a2V5"},
		{"empty salt", "$argon2id$v=19$m=65536,t=2,p=2$$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ok bool
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("VerifyPassword panicked: %v", r)
					}
				}()
				ok, err = VerifyPassword(tt.hash, "any password at all")
			}()
			if ok || err == nil {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		secret, hash, err := NewSecret("jdz_")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^jdz_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
			t.Fatalf("secret %q is not jdz_ and 32 URL-safe base64 bytes", secret)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
			t.Fatalf("hash %q is not hex SHA-256", hash)
		}
		if HashSecret(secret) != hash {
			t.Fatalf("HashSecret(%q) = %q, NewSecret said %q", secret, HashSecret(secret), hash)
		}
		if seen[secret] || seen[hash] {
			t.Fatalf("secret repeated after %d draws", i)
		}
		seen[secret], seen[hash] = true, true
	}
	secret, _, err := NewSecret("")
	if err != nil || len(secret) != 43 {
		t.Errorf("unprefixed secret %q, %v", secret, err)
	}
	// Known answer: SHA-256 of "abc".
	if got := HashSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashSecret(abc) = %s", got)
	}
}
