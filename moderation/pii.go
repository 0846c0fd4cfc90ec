package moderation

import (
	"sort"
	"strings"
)

// PIIKind names a kind of personal data.
type PIIKind string

// The kinds of personal data the pipeline finds and masks.
const (
	PIIIDCard   PIIKind = "id_card"   // 18-digit resident ID, GB 11643 checksum and birth date valid
	PIIMobile   PIIKind = "mobile"    // 1[3-9] and 9 digits, optionally +86
	PIILandline PIIKind = "landline"  // area code 0xx(x) and 7–8 digits
	PIIEmail    PIIKind = "email"     // local@domain.tld
	PIIPlate    PIIKind = "plate"     // 粤B12345, 云A·D12345, 京A-12345
	PIIBankCard PIIKind = "bank_card" // 16–19 digits passing Luhn
)

// PII is one piece of personal data found in a text. Start and End are byte
// offsets into the text as given (on rune boundaries); Masked is what
// replaces it in the public copy. Value, the data itself with separators
// removed, never goes into JSON: the original text stays with the officials.
type PII struct {
	Kind   PIIKind `json:"kind"`
	Field  string  `json:"field,omitempty"` // "title" or "body", set by the pipeline
	Start  int     `json:"start"`
	End    int     `json:"end"`
	Masked string  `json:"masked"`
	Value  string  `json:"-"`
}

// Mask finds the personal data in text and returns text with each piece
// replaced by its masked form (138****8000, 110***********1234, 粤B***45,
// z***@example.com), and the pieces found, with offsets into text.
func Mask(text string) (string, []PII) {
	found := findPII(Normalize(text))
	return applyMask(text, found), found
}

// FindPII returns the personal data in text without masking it.
func FindPII(text string) []PII { return findPII(Normalize(text)) }

// applyMask replaces each found piece (sorted, not overlapping) in text.
func applyMask(text string, found []PII) string {
	if len(found) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, p := range found {
		if p.Start < last || p.End > len(text) {
			continue
		}
		b.WriteString(text[last:p.Start])
		b.WriteString(p.Masked)
		last = p.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// findPII scans the folded text (full-width digits are ASCII there, zero-width
// characters gone) and maps every piece back to n.Original.
func findPII(n *Normalized) []PII {
	var out []PII
	rs := n.runes
	add := func(kind PIIKind, first, last int, value, masked string) {
		out = append(out, PII{Kind: kind, Start: int(rs[first].start), End: int(rs[last].end), Value: value, Masked: masked})
	}
	for i := 0; i < len(rs); {
		r := rs[i].r
		switch {
		case isDigit(r) || (r == '+' && i+1 < len(rs) && isDigit(rs[i+1].r) && (i == 0 || !isDigit(rs[i-1].r))):
			i = scanNumbers(rs, i, add)
			continue
		case r == '@':
			if first, last, ok := scanEmail(rs, i); ok {
				value := runeString(rs, first, last)
				at := strings.IndexByte(value, '@')
				add(PIIEmail, first, last, value, value[:1]+"***"+value[at:])
				i = last + 1
				continue
			}
		case plateProvinces[r]:
			if last, value, ok := scanPlate(rs, i); ok {
				add(PIIPlate, i, last, value, maskPlate(value))
				i = last + 1
				continue
			}
		}
		i++
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	// Pieces never overlap by construction; keep the first if one ever did.
	kept := out[:0]
	end := 0
	for _, p := range out {
		if p.Start >= end && p.Start < p.End {
			kept = append(kept, p)
			end = p.End
		}
	}
	return kept
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func runeString(rs []normRune, first, last int) string {
	var b strings.Builder
	for k := first; k <= last; k++ {
		b.WriteRune(rs[k].r)
	}
	return b.String()
}

// numGroup is a run of digits in a number written in groups (138 0013 8000).
type numGroup struct {
	first, last int    // rune indices
	digits      string // the digits (an ID's final x included)
}

// scanNumbers reads the digit groups starting at rs[i] (a digit, or + and
// a digit), reports every number they hold, and returns the index after them.
// Groups are joined by one space or hyphen. Each number must start at a
// group's start and end at a group's end, so the 2019 in
// "13800138000 2019年" is not glued onto a phone number.
func scanNumbers(rs []normRune, i int, add func(PIIKind, int, int, string, string)) int {
	plusAt := -1
	if rs[i].r == '+' {
		plusAt = i
		i++
	}
	var groups []numGroup
	j := i
	for {
		g := numGroup{first: j}
		var b strings.Builder
		for j < len(rs) && isDigit(rs[j].r) {
			b.WriteRune(rs[j].r)
			j++
		}
		// An ID number may end in x.
		if j < len(rs) && rs[j].r == 'x' && (j+1 == len(rs) || !isASCIILetter(rs[j+1].r)) {
			b.WriteByte('x')
			j++
		}
		g.last, g.digits = j-1, b.String()
		groups = append(groups, g)
		if strings.HasSuffix(g.digits, "x") || j+1 >= len(rs) || (rs[j].r != ' ' && rs[j].r != '-') || !isDigit(rs[j+1].r) {
			break
		}
		j++ // the separator
	}
	end := groups[len(groups)-1].last + 1
	// A number glued to letters on the left (order no. AB13800138000) is
	// still taken: masking too much costs less than leaking.
	for a := 0; a < len(groups); {
		best := -1
		var bestKind PIIKind
		var bestValue, bestMasked string
		digits := ""
		for b := a; b < len(groups) && len(digits) < 20; b++ {
			digits += groups[b].digits
			if kind, value, masked, ok := classifyNumber(groups[a:b+1], digits, a == 0 && plusAt >= 0); ok {
				best, bestKind, bestValue, bestMasked = b, kind, value, masked
			}
		}
		if best < 0 {
			a++
			continue
		}
		first := groups[a].first
		if a == 0 && plusAt >= 0 && bestKind == PIIMobile {
			first = plusAt
		}
		add(bestKind, first, groups[best].last, bestValue, bestMasked)
		a = best + 1
	}
	return end
}

// classifyNumber decides what the digits of consecutive groups are.
func classifyNumber(groups []numGroup, d string, plus bool) (kind PIIKind, value, masked string, ok bool) {
	x := strings.IndexByte(d, 'x')
	if x >= 0 && x != 17 {
		return "", "", "", false
	}
	switch {
	case len(d) == 18 && ValidIDNumber(d):
		return PIIIDCard, strings.ToUpper(d), d[:3] + strings.Repeat("*", 11) + strings.ToUpper(d[14:]), true
	case x >= 0:
		return "", "", "", false
	case len(d) == 11 && isMobile(d):
		return PIIMobile, d, d[:3] + "****" + d[7:], true
	case len(d) == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]):
		prefix := "86"
		if plus {
			prefix = "+86"
		}
		return PIIMobile, d[2:], prefix + " " + d[2:5] + "****" + d[9:], true
	case len(d) >= 16 && len(d) <= 19 && bankGrouping(groups) && Luhn(d):
		return PIIBankCard, d, d[:4] + strings.Repeat("*", len(d)-8) + d[len(d)-4:], true
	case len(d) >= 10 && len(d) <= 12 && d[0] == '0' && d[1] != '0':
		area := 0
		switch {
		case len(groups) == 2 && len(groups[0].digits) >= 3 && len(groups[0].digits) <= 4 &&
			len(groups[1].digits) >= 7 && len(groups[1].digits) <= 8:
			area = len(groups[0].digits)
		case len(groups) == 1 && len(d) >= 10 && len(d) <= 12:
			area = 4
			if d[1] == '1' || d[1] == '2' {
				area = 3 // 010 and 02x
			}
		default:
			return "", "", "", false
		}
		return PIILandline, d, d[:area] + "-" + strings.Repeat("*", len(d)-area-2) + d[len(d)-2:], true
	}
	return "", "", "", false
}

// isMobile reports an 11-digit mainland mobile number.
func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// bankGrouping accepts a card number written in one block or in blocks of
// four (the last may be shorter), so a phone number and the digits after it
// are not taken for a card.
func bankGrouping(groups []numGroup) bool {
	if len(groups) == 1 {
		return true
	}
	for i, g := range groups {
		if len(g.digits) != 4 && (i != len(groups)-1 || len(g.digits) > 4) {
			return false
		}
	}
	return true
}

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ValidIDNumber reports whether s is an 18-character resident ID number
// with a plausible region, a real birth date (1850–2099) and the right
// GB 11643 check character (0–9 or X).
func ValidIDNumber(s string) bool {
	if len(s) != 18 || s[0] < '1' || s[0] > '8' {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(rune(s[i])) {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	check := "10X98765432"[sum%11]
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if last != check {
		return false
	}
	return validDate(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14]))
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func validDate(y, m, d int) bool {
	if y < 1850 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}

// Luhn reports whether a string of digits passes the Luhn check, as bank
// card numbers do.
func Luhn(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// emailLocal and emailDomain are the characters an address may hold.
func emailLocal(r rune) bool {
	return 'a' <= r && r <= 'z' || isDigit(r) || r == '.' || r == '_' || r == '%' || r == '+' || r == '-'
}

func emailDomain(r rune) bool {
	return 'a' <= r && r <= 'z' || isDigit(r) || r == '.' || r == '-'
}

// scanEmail reads the address around the @ at rs[at].
func scanEmail(rs []normRune, at int) (first, last int, ok bool) {
	first = at
	for first > 0 && emailLocal(rs[first-1].r) {
		first--
	}
	for first < at && (rs[first].r == '.' || rs[first].r == '-') {
		first++
	}
	last = at
	for last+1 < len(rs) && emailDomain(rs[last+1].r) {
		last++
	}
	for last > at && (rs[last].r == '.' || rs[last].r == '-') {
		last--
	}
	if first == at || last == at {
		return 0, 0, false
	}
	dot := -1
	for k := at + 1; k <= last; k++ {
		if rs[k].r == '.' {
			dot = k
		}
	}
	if dot < 0 || dot == at+1 || last-dot < 2 {
		return 0, 0, false
	}
	for k := dot + 1; k <= last; k++ {
		if !('a' <= rs[k].r && rs[k].r <= 'z') {
			return 0, 0, false
		}
	}
	return first, last, true
}

// plateProvinces are the one-character region abbreviations that begin a
// licence plate.
var plateProvinces = func() map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼" {
		m[r] = true
	}
	return m
}()

// plateSeparators may stand between a plate's region part and its number.
func plateSeparator(r rune) bool {
	return r == '·' || r == '•' || r == '・' || r == '‧' || r == '-' || r == ' ' || r == '.'
}

// plateSuffixes end special plates (学 driving school, 警 police, 挂 trailer…).
func plateSuffix(r rune) bool {
	return strings.ContainsRune("学警挂港澳领试超", r)
}

// scanPlate reads a licence plate whose region character is rs[i]: a
// letter, an optional separator, then five characters (at least three
// digits), six for new-energy plates (D or F first, or last, the rest
// digits), or four and a suffix such as 学.
func scanPlate(rs []normRune, i int) (last int, value string, ok bool) {
	j := i + 1
	if j >= len(rs) || !isASCIILetter(rs[j].r) {
		return 0, "", false
	}
	j++
	if j < len(rs) && plateSeparator(rs[j].r) {
		j++
	}
	var body []rune
	for j < len(rs) && (isASCIILetter(rs[j].r) || isDigit(rs[j].r)) && len(body) < 7 {
		body = append(body, rs[j].r)
		j++
	}
	if len(body) == 4 && j < len(rs) && plateSuffix(rs[j].r) {
		body = append(body, rs[j].r)
		j++
	}
	if j < len(rs) && (isASCIILetter(rs[j].r) || isDigit(rs[j].r)) {
		return 0, "", false
	}
	digits := 0
	for _, r := range body {
		if isDigit(r) {
			digits++
		}
	}
	switch len(body) {
	case 5:
		if digits < 3 {
			return 0, "", false
		}
	case 6:
		newEnergy := (body[0] == 'd' || body[0] == 'f') && digits >= 4 ||
			(body[5] == 'd' || body[5] == 'f') && digits == 5
		if !newEnergy {
			return 0, "", false
		}
	default:
		return 0, "", false
	}
	value = string(rs[i].r) + strings.ToUpper(string(rs[i+1].r)+string(body))
	return j - 1, value, true
}

// maskPlate keeps the region, the city letter and the last two characters.
func maskPlate(v string) string {
	r := []rune(v)
	if len(r) < 5 {
		return v
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-4) + string(r[len(r)-2:])
}
