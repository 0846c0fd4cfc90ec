// Package ideas owns a resident's side of a campaign: validating and
// submitting ideas, tracking codes, withdrawing and editing through them,
// supports, comments, and importing offline submissions. It is plain Go,
// called by the portal's handlers and the command line, and tested without HTTP.
package ideas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"jindianzi/portal/input"
	"jindianzi/portal/region"
)

// Limits on a submission, in characters.
const (
	TitleMin = 5
	TitleMax = 60
	BodyMin  = 20
	BodyMax  = 5000
	NameMax  = 30
)

// Submission is what a resident sends: the form or the API body.
type Submission struct {
	Campaign     string `json:"campaign"` // slug
	Theme        string `json:"theme"`    // theme name; empty: use the suggestion
	Title        string `json:"title"`
	Body         string `json:"body"`
	ProvinceCode string `json:"province"`
	CityCode     string `json:"city"`
	DisplayName  string `json:"display_name"`
	Anonymous    bool   `json:"anonymous"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	Consent      bool   `json:"consent"`
}

var (
	mobileRe   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landlineRe = regexp.MustCompile(`^0\d{2,3}\d{7,8}$`)
)

// NormalisePhone keeps the digits of a phone number, dropping a +86/0086
// prefix and separators.
func NormalisePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r >= '０' && r <= '９' {
			b.WriteRune('0' + (r - '０'))
		}
	}
	d := b.String()
	if strings.HasPrefix(strings.TrimSpace(p), "+86") || strings.HasPrefix(d, "0086") {
		d = strings.TrimPrefix(strings.TrimPrefix(d, "0086"), "86")
	}
	return d
}

// Validate checks every field and returns the cleaned submission, or a
// *input.Errors listing each problem (nothing is stored either way).
func (s Submission) Validate() (Submission, error) {
	var e input.Errors
	out := s
	out.Campaign = strings.TrimSpace(s.Campaign)
	if out.Campaign == "" {
		e.Add("campaign", "unknown_campaign", "请选择要参与的征集活动")
	}
	out.Theme = e.Text("theme", "主题", s.Theme, false)
	out.Title = e.Text("title", "标题", s.Title, false)
	out.Body = e.Text("body", "建议内容", s.Body, true)
	checkLengths(&e, out.Title, out.Body)
	if err := region.Validate(s.ProvinceCode, s.CityCode); err != nil {
		e.Add("region", "invalid_region", err.Error())
	}
	out.DisplayName = e.Text("display_name", "署名", s.DisplayName, false)
	if !out.Anonymous && out.DisplayName == "" && e.For("display_name") == "" {
		e.Add("display_name", "display_name_required", "请填写署名，或选择匿名提交")
	} else if utf8.RuneCountInString(out.DisplayName) > NameMax {
		e.Add("display_name", "display_name_too_long", fmt.Sprintf("署名不能超过 %d 个字", NameMax))
	}
	out.Phone, out.Email = strings.TrimSpace(s.Phone), strings.TrimSpace(s.Email)
	switch {
	case out.Phone == "" && out.Email == "":
		e.Add("contact", "contact_required", "请留下手机号码或电子邮箱，以便相关部门答复您（不会公开）")
	default:
		if out.Phone != "" {
			p := NormalisePhone(out.Phone)
			if !mobileRe.MatchString(p) && !landlineRe.MatchString(p) {
				e.Add("phone", "invalid_phone", "手机号码格式不正确，请输入 11 位手机号或带区号的固定电话")
			} else {
				out.Phone = p
			}
		}
		if out.Email != "" {
			a, err := mail.ParseAddress(out.Email)
			if err != nil || a.Address != out.Email || !strings.Contains(out.Email[strings.LastIndex(out.Email, "@")+1:], ".") || len(out.Email) > 254 {
				e.Add("email", "invalid_email", "电子邮箱格式不正确，例如 name@example.com")
			} else {
				out.Email = strings.ToLower(out.Email)
			}
		}
	}
	if !s.Consent {
		e.Add("consent", "consent_required", "请阅读并同意隐私说明后再提交")
	}
	return out, e.Err()
}

// SubmitterKey identifies a submitter by contact across submissions without
// storing the contact twice: the SHA-256 of the normalised phone or e-mail.
func SubmitterKey(phone, email string) string {
	key := "p:" + NormalisePhone(phone)
	if phone == "" {
		key = "e:" + strings.ToLower(strings.TrimSpace(email))
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// checkLengths adds the length problems of a title and body that are
// otherwise clean.
func checkLengths(e *input.Errors, title, body string) {
	if e.For("title") == "" {
		switch n := utf8.RuneCountInString(title); {
		case n == 0:
			e.Add("title", "title_empty", "请填写标题")
		case n < TitleMin:
			e.Add("title", "title_too_short", fmt.Sprintf("标题至少需要 %d 个字", TitleMin))
		case n > TitleMax:
			e.Add("title", "title_too_long", fmt.Sprintf("标题不能超过 %d 个字（现在 %d 个字）", TitleMax, n))
		}
	}
	if e.For("body") == "" {
		switch n := utf8.RuneCountInString(body); {
		case n < BodyMin:
			e.Add("body", "body_too_short", fmt.Sprintf("建议内容至少需要 %d 个字，请把问题和建议写具体一些", BodyMin))
		case n > BodyMax:
			e.Add("body", "body_too_long", fmt.Sprintf("建议内容不能超过 %d 个字（现在 %d 个字）", BodyMax, n))
		}
	}
}
