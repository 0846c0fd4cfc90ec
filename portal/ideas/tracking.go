package ideas

import (
	"crypto/rand"
	"strings"
)

// Crockford's base32 alphabet: no I, L, O or U, so codes read aloud or typed
// from paper are not mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewTrackingCode returns a tracking code (查询码) such as JDZ-7K3M-9QXD:
// eight base32 characters, 40 random bits.
func NewTrackingCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("ideas: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	out := []byte("JDZ-0000-0000")
	for i, v := range b {
		pos := 4 + i
		if i >= 4 {
			pos++
		}
		out[pos] = crockford[v&31]
	}
	return string(out)
}

// NormaliseTrackingCode accepts what people type (lower case, spaces, missing
// dashes, O for 0, I/L for 1) and returns the canonical form, or "" if it
// cannot be a tracking code.
func NormaliseTrackingCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		case r >= '０' && r <= '９':
			r = '0' + (r - '０')
		}
		if strings.ContainsRune(crockford, r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) == 11 && strings.HasPrefix(c, "JDZ") {
		c = c[3:]
	}
	if len(c) != 8 {
		return ""
	}
	return "JDZ-" + c[:4] + "-" + c[4:]
}
