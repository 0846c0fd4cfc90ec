package region

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	ps := Provinces()
	if got, want := len(ps), 34; got != want {
		t.Fatalf("len(Provinces()) = %d, want %d", got, want)
	}
	cities := 0
	for _, p := range ps {
		cities += len(p.Cities)
	}
	// 333 prefecture-level units of china-division 2.7.0, 32 county-level
	// units directly under a province, 4 municipalities, 台湾/香港/澳门.
	if got, want := cities, 372; got != want {
		t.Errorf("total cities = %d, want %d", got, want)
	}
	perProvince := map[string]int{
		"110000": 1, "120000": 1, "310000": 1, "500000": 1, // municipalities
		"710000": 1, "810000": 1, "820000": 1, // 台湾, 香港, 澳门
		"130000": 11, // 河北
		"330000": 11, // 浙江
		"410000": 18, // 河南: 17 + 济源
		"420000": 17, // 湖北: 13 + 仙桃, 潜江, 天门, 神农架林区
		"440000": 21, // 广东
		"460000": 19, // 海南: 4 + 15 directly administered
		"650000": 26, // 新疆: 14 + 12 directly administered
	}
	for code, want := range perProvince {
		p, ok := LookupProvince(code)
		if !ok {
			t.Errorf("LookupProvince(%q) not found", code)
			continue
		}
		if got := len(p.Cities); got != want {
			t.Errorf("%s %s has %d cities, want %d", p.Code, p.Name, got, want)
		}
	}
}

func TestProvincesOrderAndConsistency(t *testing.T) {
	ps := Provinces()
	if !slices.IsSortedFunc(ps, func(a, b Province) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("Provinces() not in code order")
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if len(p.Code) != 6 || !strings.HasSuffix(p.Code, "0000") || p.Name == "" {
			t.Errorf("bad province %+v", p)
		}
		if len(p.Cities) == 0 {
			t.Errorf("province %s %s has no city", p.Code, p.Name)
		}
		if got, ok := LookupProvince(p.Code); !ok || got.Name != p.Name || len(got.Cities) != len(p.Cities) {
			t.Errorf("LookupProvince(%q) = %+v, %v", p.Code, got.Name, ok)
		}
		if !slices.IsSortedFunc(p.Cities, func(a, b City) int { return strings.Compare(a.Code, b.Code) }) {
			t.Errorf("cities of %s not in code order", p.Code)
		}
		for _, c := range p.Cities {
			if len(c.Code) != 6 || c.Name == "" || seen[c.Code] {
				t.Errorf("bad or duplicate city %+v", c)
			}
			seen[c.Code] = true
			if c.ProvinceCode != p.Code {
				t.Errorf("city %s %s: ProvinceCode %q, listed under %s", c.Code, c.Name, c.ProvinceCode, p.Code)
			}
			if c.Code[:2] != p.Code[:2] {
				t.Errorf("city %s %s does not share the prefix of province %s", c.Code, c.Name, p.Code)
			}
			if c.Code == p.Code {
				t.Errorf("city %s reuses its province code", c.Code)
			}
			if got, ok := LookupCity(c.Code); !ok || got != c {
				t.Errorf("LookupCity(%q) = %+v, %v; want %+v", c.Code, got, ok, c)
			}
			if err := Validate(p.Code, c.Code); err != nil {
				t.Errorf("Validate(%q, %q) = %v", p.Code, c.Code, err)
			}
		}
	}
}

func TestProvincesReturnsCopy(t *testing.T) {
	ps := Provinces()
	ps[0].Name = "x"
	ps[0].Cities[0].Name = "y"
	p, _ := LookupProvince(ps[0].Code)
	p.Cities[0].Name = "z"
	again := Provinces()
	if again[0].Name == "x" || again[0].Cities[0].Name != "北京市" {
		t.Errorf("Provinces() shares state with callers: %+v", again[0])
	}
}

func TestLookupProvince(t *testing.T) {
	tests := []struct {
		code, name string
		ok         bool
	}{
		{"110000", "北京市", true},
		{"120000", "天津市", true},
		{"310000", "上海市", true},
		{"330000", "浙江省", true},
		{"440000", "广东省", true},
		{"450000", "广西壮族自治区", true},
		{"500000", "重庆市", true},
		{"650000", "新疆维吾尔自治区", true},
		{"710000", "台湾省", true},
		{"810000", "香港特别行政区", true},
		{"820000", "澳门特别行政区", true},
		{"", "", false},
		{"33", "", false},
		{"330100", "", false}, // a city, not a province
		{"990000", "", false},
		{" 330000", "", false},
	}
	for _, tt := range tests {
		p, ok := LookupProvince(tt.code)
		if ok != tt.ok || p.Name != tt.name || (ok && p.Code != tt.code) {
			t.Errorf("LookupProvince(%q) = %q, %v; want %q, %v", tt.code, p.Name, ok, tt.name, tt.ok)
		}
	}
}

func TestLookupCity(t *testing.T) {
	tests := []struct {
		code, name, province string
		ok                   bool
	}{
		{"330100", "杭州市", "330000", true},
		{"330200", "宁波市", "330000", true},
		{"440300", "深圳市", "440000", true},
		{"130100", "石家庄市", "130000", true},
		{"152500", "锡林郭勒盟", "150000", true},
		{"232700", "大兴安岭地区", "230000", true},
		{"422800", "恩施土家族苗族自治州", "420000", true},
		{"110100", "北京市", "110000", true},
		{"120100", "天津市", "120000", true},
		{"310100", "上海市", "310000", true},
		{"500100", "重庆市", "500000", true},
		{"419001", "济源市", "410000", true},
		{"429004", "仙桃市", "420000", true},
		{"469002", "琼海市", "460000", true},
		{"659001", "石河子市", "650000", true},
		{"710100", "台湾省", "710000", true},
		{"810100", "香港特别行政区", "810000", true},
		{"820100", "澳门特别行政区", "820000", true},
		{"", "", "", false},
		{"330000", "", "", false}, // a province, not a city
		{"500200", "", "", false}, // 重庆 "县" placeholder folded into 500100
		{"429000", "", "", false}, // 省直辖县级行政区划 placeholder
		{"330101", "", "", false}, // county level is not included
		{"3301", "", "", false},
	}
	for _, tt := range tests {
		c, ok := LookupCity(tt.code)
		if ok != tt.ok || c.Name != tt.name || c.ProvinceCode != tt.province || (ok && c.Code != tt.code) {
			t.Errorf("LookupCity(%q) = %+v, %v; want %q in %q, %v", tt.code, c, ok, tt.name, tt.province, tt.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		province, city string
		want           error
	}{
		{"330000", "330100", nil},
		{"110000", "110100", nil},
		{"500000", "500100", nil},
		{"420000", "429004", nil},
		{"810000", "810100", nil},
		{"", "", ErrProvinceRequired},
		{"", "330100", ErrProvinceRequired},
		{"990000", "330100", ErrUnknownProvince},
		{"330100", "330100", ErrUnknownProvince},
		{"浙江省", "杭州市", ErrUnknownProvince},
		{"330000", "", ErrCityRequired},
		{"330000", "339900", ErrUnknownCity},
		{"330000", "330000", ErrUnknownCity},
		{"330000", "330102", ErrUnknownCity},
		{"330000", "440300", ErrCityNotInProvince},
		{"110000", "120100", ErrCityNotInProvince},
		{"710000", "810100", ErrCityNotInProvince},
	}
	for _, tt := range tests {
		err := Validate(tt.province, tt.city)
		if tt.want == nil {
			if err != nil {
				t.Errorf("Validate(%q, %q) = %v, want nil", tt.province, tt.city, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("Validate(%q, %q) = %v, want %v", tt.province, tt.city, err, tt.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, err := range []error{ErrProvinceRequired, ErrUnknownProvince, ErrCityRequired, ErrUnknownCity, ErrCityNotInProvince} {
		msg := err.Error()
		if msg == "" || strings.ContainsAny(msg, "abcdefghijklmnopqrstuvwxyz:") {
			t.Errorf("error message %q is not a plain Chinese sentence", msg)
		}
	}
	if got := ErrProvinceRequired.Error(); got != "请选择所在省份" {
		t.Errorf("ErrProvinceRequired = %q", got)
	}
	if got := ErrCityNotInProvince.Error(); got != "所选城市不属于该省份" {
		t.Errorf("ErrCityNotInProvince = %q", got)
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		province, city, want string
	}{
		{"330000", "330100", "浙江省 杭州市"},
		{"150000", "152500", "内蒙古自治区 锡林郭勒盟"},
		{"420000", "429004", "湖北省 仙桃市"},
		{"110000", "110100", "北京市"},
		{"120000", "120100", "天津市"},
		{"310000", "310100", "上海市"},
		{"500000", "500100", "重庆市"},
		{"710000", "710100", "台湾省"},
		{"810000", "810100", "香港特别行政区"},
		{"820000", "820100", "澳门特别行政区"},
		{"330000", "", "浙江省"},
		{"330000", "999999", "浙江省"},
		{"330000", "440300", "浙江省"},
		{"", "330100", ""},
		{"990000", "", ""},
	}
	for _, tt := range tests {
		if got := Label(tt.province, tt.city); got != tt.want {
			t.Errorf("Label(%q, %q) = %q, want %q", tt.province, tt.city, got, tt.want)
		}
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	tests := map[string]string{
		"empty":              "# only a comment\n",
		"short code":         "33000\t浙江省\n",
		"no name":            "330000\t\n",
		"too many columns":   "330000\t浙江省\t\tx\n",
		"orphan city":        "330100\t杭州市\t330000\n",
		"province no city":   "330000\t浙江省\n",
		"duplicate city":     "330000\t浙江省\n330100\t杭州市\t330000\n330100\t杭州市\t330000\n",
		"duplicate province": "330000\t浙江省\n330000\t浙江省\n330100\t杭州市\t330000\n",
	}
	for name, in := range tests {
		if _, err := parse(in); err == nil {
			t.Errorf("%s: parse succeeded, want error", name)
		}
	}
	if _, err := parse("# c\n330000\t浙江省\n330100\t杭州市\t330000\n"); err != nil {
		t.Errorf("minimal table: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	load()
	for b.Loop() {
		_ = Validate("330000", "330100")
	}
}
