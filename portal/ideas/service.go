package ideas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// Errors a resident can act on. Each has a code for the API and a Chinese
// message for people.
var (
	ErrCampaignClosed  = &Problem{Status: 409, Code: "campaign_not_open", Message: "该征集活动当前不在征集期内，暂不接收建议"}
	ErrDailyLimit      = &Problem{Status: 429, Code: "daily_limit", Message: "您今天在本活动的提交次数已达上限，请明天再来"}
	ErrBlocked         = &Problem{Status: 403, Code: "blocked", Message: "您的账号已被停用，暂不能提交"}
	ErrNotFound        = &Problem{Status: 404, Code: "not_found", Message: "找不到对应的建议，请核对查询码"}
	ErrNotWithdrawable = &Problem{Status: 409, Code: "not_withdrawable", Message: "该建议已进入审核或办理流程，不能撤回"}
	ErrNotEditable     = &Problem{Status: 409, Code: "not_editable", Message: "只有审核员要求修改的建议才能修改"}
	ErrRejected        = &Problem{Status: 422, Code: "rejected", Message: "提交的内容未通过审核"}
)

// Problem is an error with an HTTP status, a stable code and a message safe
// to show the resident.
type Problem struct {
	Status  int
	Code    string
	Message string
}

func (p *Problem) Error() string { return p.Message }

// ThemeSuggester proposes a theme for an idea's text. The keyword suggester
// below is the fallback; the trained classifier replaces it.
type ThemeSuggester interface {
	Suggest(ctx context.Context, campaignID int64, themes []store.Theme, title, body string) (themeID int64, confidence float64, ok bool)
}

// Service carries out residents' actions on ideas.
type Service struct {
	Store       *store.Store
	Moderation  moderation.Checker
	Themes      ThemeSuggester
	Attachments attachment.Storage
	Now         func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Receipt is what a resident gets back for a submission.
type Receipt struct {
	ID             int64  `json:"id"`
	TrackingCode   string `json:"tracking_code"`
	Status         string `json:"status"`
	Theme          string `json:"theme"`
	ThemeSuggested bool   `json:"theme_suggested"`
	// Replayed is true when an idempotency key matched an earlier submission.
	Replayed bool `json:"-"`
}

// Meta is what the request says about the submitter beyond the form.
type Meta struct {
	User           *store.User
	IP             string
	IdempotencyKey string
	Source         string // web, api
}

// Submit validates, moderates and stores an idea with its attachments. It
// writes nothing unless everything is valid: the idea, its first event, its
// attachments and the outbox row commit together.
func (s *Service) Submit(ctx context.Context, sub Submission, files []attachment.Upload, meta Meta) (Receipt, error) {
	sub, verr := sub.Validate()
	var ve *input.Errors
	if verr != nil {
		ve = verr.(*input.Errors)
	} else {
		ve = &input.Errors{}
	}
	if err := attachment.Check(files); err != nil {
		code := "attachment_unsupported"
		switch {
		case errors.Is(err, attachment.ErrTooLarge):
			code = "attachment_too_large"
		case errors.Is(err, attachment.ErrTooMany):
			code = "too_many_attachments"
		case errors.Is(err, attachment.ErrEmpty):
			code = "attachment_empty"
		}
		ve.Add("attachments", code, err.Error())
	}
	if meta.User != nil && meta.User.BlockedAt != nil {
		return Receipt{}, ErrBlocked
	}
	camp, err := s.Store.CampaignBySlug(ctx, sub.Campaign)
	if errors.Is(err, store.ErrNotFound) || (err == nil && camp.Status == store.CampaignDraft) {
		if sub.Campaign != "" {
			ve.Add("campaign", "unknown_campaign", "找不到该征集活动")
		}
		return Receipt{}, ve
	}
	if err != nil {
		return Receipt{}, err
	}
	themes, err := s.Store.Themes(ctx, camp.ID)
	if err != nil {
		return Receipt{}, err
	}
	var theme *store.Theme
	if sub.Theme != "" {
		for i := range themes {
			if themes[i].Name == sub.Theme {
				theme = &themes[i]
			}
		}
		if theme == nil {
			ve.Add("theme", "unknown_theme", "所选主题不属于该征集活动，请重新选择")
		}
	}
	if len(ve.Fields) > 0 {
		return Receipt{}, ve
	}
	now := s.now()
	if !camp.AcceptsIdeas(now) {
		return Receipt{}, ErrCampaignClosed
	}
	submitter := SubmitterKey(sub.Phone, sub.Email)
	var idemKey *string
	if k := strings.TrimSpace(meta.IdempotencyKey); k != "" {
		// Scoped to the submitter, so a guessed key never reveals another's receipt.
		sum := sha256.Sum256([]byte(submitter + "\x00" + k))
		h := hex.EncodeToString(sum[:])
		idemKey = &h
		if prev, err := s.Store.IdeaByIdempotencyKey(ctx, h); err == nil {
			return s.receipt(prev, themes, true), nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return Receipt{}, err
		}
	}
	if camp.DailyLimit > 0 {
		// The day is China's calendar day.
		local := now.In(chinaTime)
		dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, chinaTime).UTC()
		n, err := s.Store.CountSubmissions(ctx, camp.ID, submitter, dayStart)
		if err != nil {
			return Receipt{}, err
		}
		if n >= int64(camp.DailyLimit) {
			return Receipt{}, ErrDailyLimit
		}
	}
	var authorID int64
	if meta.User != nil {
		authorID = meta.User.ID
	}
	verdict, err := s.Moderation.Check(ctx, moderation.Input{
		Kind: "idea", CampaignID: camp.ID, Policy: camp.Policy, Title: sub.Title, Body: sub.Body,
		SubmitterKey: submitter, IP: meta.IP, AuthorID: authorID,
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("ideas: moderate: %w", err)
	}
	if verdict.Action == moderation.Reject {
		p := *ErrRejected
		if len(verdict.Reasons) > 0 {
			p.Message = "提交的内容未通过审核：" + verdict.Reasons[0].Message
		}
		return Receipt{}, &p
	}
	suggested := false
	if theme == nil && s.Themes != nil {
		if id, _, ok := s.Themes.Suggest(ctx, camp.ID, themes, sub.Title, sub.Body); ok {
			for i := range themes {
				if themes[i].ID == id {
					theme, suggested = &themes[i], true
				}
			}
		}
	}
	status := store.IdeaPending
	if verdict.Action == moderation.Publish {
		status = store.IdeaPublished
	}
	modJSON, _ := json.Marshal(verdict)
	idea := &store.Idea{
		CampaignID: camp.ID, ThemeSuggested: suggested,
		Title: sub.Title, Body: sub.Body, TitleMasked: verdict.TitleMasked, BodyMasked: verdict.BodyMasked,
		ProvinceCode: sub.ProvinceCode, CityCode: sub.CityCode,
		DisplayName: sub.DisplayName, Anonymous: sub.Anonymous,
		ContactPhone: sub.Phone, ContactEmail: sub.Email, SubmitterKey: submitter,
		Status: status, RiskScore: verdict.Risk, Moderation: string(modJSON), ReasonCodes: verdict.Codes(),
		ContentHash: verdict.ContentHash, Simhash: int64(verdict.Simhash),
		Source: meta.Source, IdempotencyKey: idemKey, ClientIP: meta.IP,
		// Stamped with the service clock, the one the daily limit counts by.
		CreatedAt: now.Truncate(time.Microsecond), UpdatedAt: now.Truncate(time.Microsecond),
	}
	if idea.Source == "" {
		idea.Source = "web"
	}
	if theme != nil {
		idea.ThemeID = &theme.ID
	}
	if meta.User != nil {
		idea.AuthorID = &meta.User.ID
	}
	saved, err := s.saveFiles(ctx, files)
	if err != nil {
		return Receipt{}, err
	}
	note := "已收到您的建议，等待审核"
	if status == store.IdeaPublished {
		note = "已收到您的建议，已公开"
	}
	for attempt := 0; ; attempt++ {
		idea.TrackingCode = NewTrackingCode()
		err = s.Store.CreateIdea(ctx, idea, saved, note)
		if !errors.Is(err, store.ErrTrackingCodeTaken) || attempt == 4 {
			break
		}
	}
	if err != nil {
		s.removeFiles(ctx, saved)
		if errors.Is(err, store.ErrConflict) && idemKey != nil {
			// A concurrent repeat of the same submission won the race.
			if prev, perr := s.Store.IdeaByIdempotencyKey(ctx, *idemKey); perr == nil {
				return s.receipt(prev, themes, true), nil
			}
		}
		return Receipt{}, err
	}
	if l, ok := s.Moderation.(moderation.Learner); ok {
		l.Remember(idea.CampaignID, idea.ID, idea.ContentHash, uint64(idea.Simhash))
	}
	return s.receipt(idea, themes, false), nil
}

func (s *Service) receipt(i *store.Idea, themes []store.Theme, replayed bool) Receipt {
	r := Receipt{ID: i.ID, TrackingCode: i.TrackingCode, Status: string(i.Status), ThemeSuggested: i.ThemeSuggested, Replayed: replayed}
	if i.ThemeID != nil {
		for _, t := range themes {
			if t.ID == *i.ThemeID {
				r.Theme = t.Name
			}
		}
	}
	return r
}

func (s *Service) saveFiles(ctx context.Context, files []attachment.Upload) ([]store.Attachment, error) {
	var out []store.Attachment
	for _, f := range files {
		sv, err := s.Attachments.Save(ctx, f.Name, f.Data)
		if err != nil {
			s.removeFiles(ctx, out)
			return nil, fmt.Errorf("ideas: save attachment: %w", err)
		}
		out = append(out, store.Attachment{OriginalName: sv.OriginalName, StoredName: sv.StoredName,
			ContentType: sv.ContentType, SizeBytes: sv.Size, Sha256: sv.SHA256})
	}
	return out, nil
}

func (s *Service) removeFiles(ctx context.Context, as []store.Attachment) {
	for _, a := range as {
		_ = s.Attachments.Remove(ctx, a.StoredName)
	}
}
