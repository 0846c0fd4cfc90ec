package ideas_test

import (
	"strings"
	"testing"

	"jindianzi/portal/ideas"
)

func TestSubmissionValidateRejects(t *testing.T) {
	cases := []struct {
		name        string
		change      func(*ideas.Submission)
		field, code string
	}{
		{"no campaign", func(s *ideas.Submission) { s.Campaign = "  " }, "campaign", "unknown_campaign"},
		{"empty title", func(s *ideas.Submission) { s.Title = "" }, "title", "title_empty"},
		{"blank title", func(s *ideas.Submission) { s.Title = " \u3000 " }, "title", "title_empty"},
		{"title too short", func(s *ideas.Submission) { s.Title = "增加班次" }, "title", "title_too_short"},
		{"title 61 chars", func(s *ideas.Submission) { s.Title = strings.Repeat("长", 61) }, "title", "title_too_long"},
		{"body under 20 chars", func(s *ideas.Submission) { s.Body = "公交太挤了，建议增加班次。" }, "body", "body_too_short"},
		{"body over 5000 chars", func(s *ideas.Submission) { s.Body = strings.Repeat("字", 5001) }, "body", "body_too_long"},
		{"invalid UTF-8 in title", func(s *ideas.Submission) { s.Title = "建议增加\xff公交班次" }, "title", "invalid_utf8"},
		{"invalid UTF-8 in body", func(s *ideas.Submission) { s.Body += "\xc3\x28" }, "body", "invalid_utf8"},
		{"bell in title", func(s *ideas.Submission) { s.Title = "建议增加\x07公交班次" }, "title", "control_characters"},
		{"tab in title", func(s *ideas.Submission) { s.Title = "建议增加\t公交班次" }, "title", "control_characters"},
		{"line separator in body", func(s *ideas.Submission) { s.Body += "\u2028另起一行" }, "body", "control_characters"},
		{"bell in body", func(s *ideas.Submission) { s.Body += "\x07" }, "body", "control_characters"},
		{"no consent", func(s *ideas.Submission) { s.Consent = false }, "consent", "consent_required"},
		{"no contact", func(s *ideas.Submission) { s.Phone, s.Email = "", " " }, "contact", "contact_required"},
		{"short phone", func(s *ideas.Submission) { s.Phone = "12345" }, "phone", "invalid_phone"},
		{"phone starting 12", func(s *ideas.Submission) { s.Phone = "12800138000" }, "phone", "invalid_phone"},
		{"phone with letters", func(s *ideas.Submission) { s.Phone = "138abc" }, "phone", "invalid_phone"},
		{"e-mail without domain", func(s *ideas.Submission) { s.Phone, s.Email = "", "zhang@" }, "email", "invalid_email"},
		{"e-mail without dot", func(s *ideas.Submission) { s.Phone, s.Email = "", "zhang@localhost" }, "email", "invalid_email"},
		{"e-mail with name", func(s *ideas.Submission) { s.Phone, s.Email = "", "张三 <zhang@example.com>" }, "email", "invalid_email"},
		{"no province", func(s *ideas.Submission) { s.ProvinceCode, s.CityCode = "", "" }, "region", "invalid_region"},
		{"unknown province", func(s *ideas.Submission) { s.ProvinceCode = "999999" }, "region", "invalid_region"},
		{"city of another province", func(s *ideas.Submission) { s.CityCode = "110100" }, "region", "invalid_region"},
		{"no display name", func(s *ideas.Submission) { s.DisplayName = "" }, "display_name", "display_name_required"},
		{"display name too long", func(s *ideas.Submission) { s.DisplayName = strings.Repeat("名", 31) }, "display_name", "display_name_too_long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSubmission("city")
			c.change(&s)
			_, err := s.Validate()
			assertFieldError(t, err, c.field, c.code)
			if ie := inputErrors(t, err); len(ie.Fields) != 1 {
				t.Errorf("got %d problems %+v, want only %s", len(ie.Fields), ie.Fields, c.code)
			}
		})
	}
}

func TestSubmissionValidateReportsEveryProblem(t *testing.T) {
	_, err := ideas.Submission{Campaign: "city", Title: "短", Body: "太短", ProvinceCode: "330000", CityCode: "330100"}.Validate()
	ie := inputErrors(t, err)
	want := map[string]string{"title": "title_too_short", "body": "body_too_short",
		"display_name": "display_name_required", "contact": "contact_required", "consent": "consent_required"}
	if len(ie.Fields) != len(want) {
		t.Fatalf("problems %+v, want %v", ie.Fields, want)
	}
	for _, f := range ie.Fields {
		if want[f.Field] != f.Code || f.Message == "" {
			t.Errorf("problem %+v not expected", f)
		}
	}
}

func TestSubmissionValidateAccepts(t *testing.T) {
	cases := []struct {
		name   string
		change func(*ideas.Submission)
		check  func(t *testing.T, out ideas.Submission)
	}{
		{"mobile with +86 and dashes", func(s *ideas.Submission) { s.Phone = "+86 138-0013-8000" }, func(t *testing.T, out ideas.Submission) {
			if out.Phone != "13800138000" {
				t.Errorf("phone %q, want 13800138000", out.Phone)
			}
		}},
		{"mobile with 0086", func(s *ideas.Submission) { s.Phone = "0086 13800138000" }, func(t *testing.T, out ideas.Submission) {
			if out.Phone != "13800138000" {
				t.Errorf("phone %q, want 13800138000", out.Phone)
			}
		}},
		{"landline with area code", func(s *ideas.Submission) { s.Phone = "0571-87654321" }, func(t *testing.T, out ideas.Submission) {
			if out.Phone != "057187654321" {
				t.Errorf("phone %q, want 057187654321", out.Phone)
			}
		}},
		{"full-width digits", func(s *ideas.Submission) { s.Phone = "１３８ ００１３ ８０００" }, func(t *testing.T, out ideas.Submission) {
			if out.Phone != "13800138000" {
				t.Errorf("phone %q, want 13800138000", out.Phone)
			}
		}},
		{"HTML kept as text", func(s *ideas.Submission) {
			s.Body = "<script>alert(1)</script> 夜间路灯经常不亮，行人很不安全，建议尽快维修。"
		}, func(t *testing.T, out ideas.Submission) {
			if !strings.HasPrefix(out.Body, "<script>alert(1)</script>") {
				t.Errorf("body %q lost its text", out.Body)
			}
		}},
		{"CRLF becomes LF", func(s *ideas.Submission) {
			s.Body = "第一点：早高峰公交车太挤。\r\n第二点：建议增加班次缩短间隔。\r\n"
		}, func(t *testing.T, out ideas.Submission) {
			if out.Body != "第一点：早高峰公交车太挤。\n第二点：建议增加班次缩短间隔。" {
				t.Errorf("body %q", out.Body)
			}
		}},
		{"surrounding space trimmed", func(s *ideas.Submission) { s.Title = "  建议增加早高峰公交班次 \u3000" }, nil},
		{"e-mail only, lower-cased", func(s *ideas.Submission) { s.Phone, s.Email = "", " Zhang.San@Example.COM " }, func(t *testing.T, out ideas.Submission) {
			if out.Email != "zhang.san@example.com" || out.Phone != "" {
				t.Errorf("contact %q %q", out.Phone, out.Email)
			}
		}},
		{"anonymous without a name", func(s *ideas.Submission) { s.DisplayName, s.Anonymous = "", true }, nil},
		{"limits exactly", func(s *ideas.Submission) {
			s.Title, s.Body = strings.Repeat("标", ideas.TitleMax), strings.Repeat("字", ideas.BodyMax)
		}, nil},
		{"shortest", func(s *ideas.Submission) {
			s.Title, s.Body = strings.Repeat("标", ideas.TitleMin), strings.Repeat("字", ideas.BodyMin)
		}, nil},
		{"municipality", func(s *ideas.Submission) { s.ProvinceCode, s.CityCode = "110000", "110100" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSubmission("city")
			c.change(&s)
			out, err := s.Validate()
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if strings.TrimSpace(out.Title) != out.Title || out.Title == "" {
				t.Errorf("title %q not trimmed", out.Title)
			}
			if c.check != nil {
				c.check(t, out)
			}
		})
	}
}

func TestSubmitterKeyIgnoresFormatting(t *testing.T) {
	a := ideas.SubmitterKey(ideas.NormalisePhone("+86 138-0013-8000"), "")
	b := ideas.SubmitterKey("13800138000", "")
	c := ideas.SubmitterKey("13900139000", "")
	d := ideas.SubmitterKey("", "Zhang@Example.com")
	if a != b || a == c || d != ideas.SubmitterKey("", "zhang@example.com ") || len(a) != 32 {
		t.Errorf("keys %s %s %s %s", a, b, c, d)
	}
}
