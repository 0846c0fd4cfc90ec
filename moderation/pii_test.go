package moderation

import (
	"testing"
)

func TestValidIDNumber(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"11010519491231002X", true}, // the example of GB 11643
		{"11010519491231002x", true},
		{"440524188001010014", true},
		{"430102199003071234", true},
		{"110105194912310021", false}, // wrong check character
		{"430102199003071235", false},
		{"320583198602290017", false}, // right checksum, 29 February 1986
		{"430102199013071239", false}, // month 13
		{"030102199003071234", false}, // no region starts with 0
		{"43010219900307123", false},  // 17 characters
		{"4301021990030712345", false},
		{"43010219900307123A", false},
	}
	for _, tt := range tests {
		if got := ValidIDNumber(tt.id); got != tt.want {
			t.Errorf("ValidIDNumber(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		n    string
		want bool
	}{
		{"4111111111111111", true},
		{"6222021234567890128", true},
		{"6217000000000006", true},
		{"4111111111111112", false},
		{"6222021234567890127", false},
		{"0", false},
		{"41111111111111x1", false},
	}
	for _, tt := range tests {
		if got := Luhn(tt.n); got != tt.want {
			t.Errorf("Luhn(%s) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
		kinds          []PIIKind
	}{
		{"mobile", "电话13800138000谢谢", "电话138****8000谢谢", []PIIKind{PIIMobile}},
		{"mobile grouped", "电话 138 0013 8000。", "电话 138****8000。", []PIIKind{PIIMobile}},
		{"mobile hyphens", "138-0013-8000", "138****8000", []PIIKind{PIIMobile}},
		{"mobile +86", "+86 13800138000", "+86 138****8000", []PIIKind{PIIMobile}},
		{"mobile full-width", "电话：１３８００１３８０００", "电话：138****8000", []PIIKind{PIIMobile}},
		{"mobile look-alikes", "138OO138OOO", "138****8000", []PIIKind{PIIMobile}},
		{"mobile then year", "13800138000 2019年", "138****8000 2019年", []PIIKind{PIIMobile}},
		{"not a mobile", "12800138000", "12800138000", nil},
		{"masked already", "138****8000", "138****8000", nil},
		{"landline", "请拨0731-84567890", "请拨0731-******90", []PIIKind{PIILandline}},
		{"landline beijing", "010-62345678", "010-******78", []PIIKind{PIILandline}},
		{"id", "身份证11010519491231002X。", "身份证110***********002X。", []PIIKind{PIIIDCard}},
		{"id lower x", "11010519491231002x", "110***********002X", []PIIKind{PIIIDCard}},
		{"id bad checksum", "110105194912310021", "110105194912310021", nil},
		{"bank card", "卡号6222021234567890128", "卡号6222***********0128", []PIIKind{PIIBankCard}},
		{"bank card grouped", "6217 0000 0000 0006", "6217********0006", []PIIKind{PIIBankCard}},
		{"bank card bad luhn", "6222021234567890127", "6222021234567890127", nil},
		{"email", "发到zhang.san@example.com谢谢", "发到z***@example.com谢谢", []PIIKind{PIIEmail}},
		{"email full-width at", "zhang＠example.com", "z***@example.com", []PIIKind{PIIEmail}},
		{"not an email", "a@b", "a@b", nil},
		{"plate", "车牌粤B12345停在门口", "车牌粤B***45停在门口", []PIIKind{PIIPlate}},
		{"plate new energy", "云A·D12345", "云A****45", []PIIKind{PIIPlate}},
		{"plate hyphen", "京A-12345", "京A***45", []PIIKind{PIIPlate}},
		{"plate lower case", "湘a12345", "湘A***45", []PIIKind{PIIPlate}},
		{"plate learner", "粤B1234学", "粤B***4学", []PIIKind{PIIPlate}},
		{"not a plate", "京Abcdef", "京Abcdef", nil},
		{"several", "电话13800138000，车牌粤B12345", "电话138****8000，车牌粤B***45", []PIIKind{PIIMobile, PIIPlate}},
		{"nothing", "小区路灯坏了三个月", "小区路灯坏了三个月", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := Mask(tt.in)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(found) != len(tt.kinds) {
				t.Fatalf("found %+v, want kinds %v", found, tt.kinds)
			}
			for i, p := range found {
				if p.Kind != tt.kinds[i] {
					t.Errorf("found[%d] kind %s, want %s", i, p.Kind, tt.kinds[i])
				}
				if p.Start < 0 || p.End > len(tt.in) || p.Start >= p.End {
					t.Errorf("found[%d] offsets [%d,%d) out of %q", i, p.Start, p.End, tt.in)
				}
				if p.Value == "" || p.Masked == "" {
					t.Errorf("found[%d] = %+v", i, p)
				}
			}
		})
	}
}

func TestFindPIIValues(t *testing.T) {
	found := FindPII("电话 +86 138-0013-8000，身份证 11010519491231002x")
	if len(found) != 2 {
		t.Fatalf("found %+v", found)
	}
	if found[0].Value != "13800138000" || found[1].Value != "11010519491231002X" {
		t.Errorf("values %q %q", found[0].Value, found[1].Value)
	}
}
