package portal

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/region"
	"jindianzi/portal/store"
)

// pager is the paging bar under a list.
type pager struct {
	Page, Pages int
	Total       int64
	Prev, Next  string
}

func newPager(base url.Values, path string, page store.Page, total int64) pager {
	p := pager{Page: page.Number, Total: total, Pages: int((total + int64(page.Limit()) - 1) / int64(page.Limit()))}
	if p.Page < 1 {
		p.Page = 1
	}
	link := func(n int) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		// Keep a chosen page size, or page 2 of ?per_page=2 would be
		// counted in pages of the default size.
		if page.PerPage != 0 && page.Limit() != defaultPerPage {
			q.Set("per_page", strconv.Itoa(page.Limit()))
		}
		return path + "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	return p
}

type campaignPageData struct {
	Notice   string
	Campaign campaignView
	Ideas    []ideaView
	Sort     string
	Theme    string
	Pager    pager
	Hot      []hotIssue // hot issues from public ideas only
}

// campaignHTML is GET /campaigns/:slug.
func (h *handler) campaignHTML(c *fiber.Ctx) error {
	v, err := h.campaignPage(c, c.Params("slug"))
	if err != nil {
		return err
	}
	c.Request().URI().QueryArgs().Set("campaign", v.Slug)
	f, _, err := h.ideaFilter(c)
	if err != nil {
		return err
	}
	list, total, err := h.store.Ideas(c.UserContext(), f)
	if err != nil {
		return err
	}
	views, err := newCatalog(h.store).views(c.UserContext(), list)
	if err != nil {
		return err
	}
	base := url.Values{}
	if f.Sort != store.SortNewest {
		base.Set("sort", string(f.Sort))
	}
	if t := c.Query("theme"); t != "" {
		base.Set("theme", t)
	}
	hot, err := h.hotIssues(c.UserContext(), f.CampaignID, hotIssuesShown)
	if err != nil {
		return err
	}
	return h.render(c, "campaign", v.Title, campaignPageData{
		Notice: takeFlash(c)["notice"], Campaign: v, Ideas: views, Sort: string(f.Sort), Theme: c.Query("theme"),
		Pager: newPager(base, "/campaigns/"+v.Slug, f.Page, total), Hot: hot,
	})
}

type submitPageData struct {
	Campaign  campaignView
	Form      ideas.Submission
	Errors    *input.Errors
	Problem   string
	Provinces []region.Province
	IdemKey   string
}

// submitForm is GET /campaigns/:slug/submit.
func (h *handler) submitForm(c *fiber.Ctx) error {
	form := ideas.Submission{Consent: false}
	if u := currentUser(c); u != nil {
		form.DisplayName, form.Phone, form.Email = u.DisplayName, u.Phone, u.Email
	}
	return h.renderSubmit(c, fiber.StatusOK, form, nil, "", uuid.NewString())
}

func (h *handler) renderSubmit(c *fiber.Ctx, status int, form ideas.Submission, errs *input.Errors, problem, idem string) error {
	v, err := h.campaignPage(c, c.Params("slug"))
	if err != nil {
		return err
	}
	if errs == nil {
		errs = &input.Errors{}
	}
	c.Status(status)
	return h.render(c, "submit", "提建议 - "+v.Title, submitPageData{
		Campaign: v, Form: form, Errors: errs, Problem: problem, Provinces: region.Provinces(), IdemKey: idem,
	})
}

// submitHTML is POST /campaigns/:slug/submit. Problems re-render the form
// with everything the resident typed (files must be chosen again).
func (h *handler) submitHTML(c *fiber.Ctx) error {
	sub, files, err := submissionFromForm(c)
	if err != nil {
		return err
	}
	sub.Campaign = c.Params("slug")
	idem := c.FormValue("idempotency_key")
	r, err := h.ideas.Submit(c.UserContext(), sub, files, ideas.Meta{
		User: currentUser(c), IP: c.IP(), IdempotencyKey: idem, Source: "web",
	})
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		return h.renderSubmit(c, fiber.StatusUnprocessableEntity, sub, ie, "请根据提示修改后重新提交", idem)
	case errors.As(err, &ip):
		return h.renderSubmit(c, ip.Status, sub, nil, ip.Message, idem)
	case err != nil:
		return err
	}
	return c.Redirect("/track?new=1&code="+url.QueryEscape(r.TrackingCode), fiber.StatusSeeOther)
}

// submitRateLimited answers a burst of submissions: the form comes back
// with the text kept.
func (h *handler) submitRateLimited(c *fiber.Ctx) error {
	const msg = "提交过于频繁，请稍等一分钟后再试"
	if isAPI(c) {
		return userError(fiber.StatusTooManyRequests, "rate_limited", msg)
	}
	sub, _, _ := submissionFromForm(c)
	return h.renderSubmit(c, fiber.StatusTooManyRequests, sub, nil, msg, c.FormValue("idempotency_key"))
}

type ideaPageData struct {
	Idea        ideaView
	Files       []store.Attachment
	Comments    []commentView
	Supported   bool
	CanSupport  bool
	Notice      string
	CommentErr  string
	CommentBody string
}

// ideaHTML is GET /ideas/:id.
func (h *handler) ideaHTML(c *fiber.Ctx) error {
	return h.renderIdea(c, fiber.StatusOK, c.Query("notice"), "", "")
}

func (h *handler) renderIdea(c *fiber.Ctx, status int, notice, commentErr, commentBody string) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	v, comments, err := h.publicIdea(ctx, id)
	if err != nil {
		return err
	}
	files, err := h.store.Attachments(ctx, id)
	if err != nil {
		return err
	}
	d := ideaPageData{Idea: v, Files: files, Comments: comments, Notice: noticeText(notice), CommentErr: commentErr, CommentBody: commentBody}
	if u := currentUser(c); u != nil && u.Role == store.RoleResident {
		d.CanSupport = true
		if d.Supported, err = h.store.HasSupported(ctx, id, u.ID); err != nil {
			return err
		}
	}
	c.Status(status)
	return h.render(c, "idea", v.Title, d)
}

// noticeText maps a notice key from a redirect to its message, so no text
// from the URL is ever shown.
func noticeText(key string) string {
	switch key {
	case "supported":
		return "已附议，感谢您的支持"
	case "unsupported":
		return "已取消附议"
	case "commented":
		return "评论已发表"
	case "comment_pending":
		return "评论已提交，审核通过后显示"
	case "reported":
		return "已收到您的举报，审核员会尽快处理"
	}
	return ""
}

// supportHTML is POST /ideas/:id/support and /ideas/:id/unsupport.
func (h *handler) supportHTML(remove bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return err
		}
		if _, err := h.ideas.Support(c.UserContext(), currentUser(c), id, remove); err != nil {
			return err
		}
		notice := "supported"
		if remove {
			notice = "unsupported"
		}
		return c.Redirect(fmt.Sprintf("/ideas/%d?notice=%s#support", id, notice), fiber.StatusSeeOther)
	}
}

// commentHTML is POST /ideas/:id/comments.
func (h *handler) commentHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var parent *int64
	if p := c.FormValue("parent"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return fiber.ErrBadRequest
		}
		parent = &n
	}
	body := c.FormValue("body")
	cm, err := h.ideas.Comment(c.UserContext(), currentUser(c), id, parent, body, c.IP())
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		return h.renderIdea(c, fiber.StatusUnprocessableEntity, "", ie.Error(), body)
	case errors.As(err, &ip) && ip.Status != fiber.StatusNotFound:
		return h.renderIdea(c, ip.Status, "", ip.Message, body)
	case err != nil:
		return err
	}
	notice := "commented"
	if !cm.Status.Public() {
		notice = "comment_pending"
	}
	return c.Redirect(fmt.Sprintf("/ideas/%d?notice=%s#comments", id, notice), fiber.StatusSeeOther)
}

type trackPageData struct {
	Code       string
	Tracking   *trackingView
	Problem    string
	New        bool
	Notice     string
	EditErrors *input.Errors
	EditTitle  string
	EditBody   string
	Editing    bool
}

// trackHTML is GET /track: the form, and with ?code= the idea's status.
func (h *handler) trackHTML(c *fiber.Ctx) error {
	code := c.Query("code")
	d := trackPageData{Code: code, New: c.Query("new") == "1", Notice: noticeText(c.Query("notice")), EditErrors: &input.Errors{}}
	if c.Query("notice") == "withdrawn" {
		d.Notice = "建议已撤回"
	} else if c.Query("notice") == "edited" {
		d.Notice = "修改已提交，将重新审核"
	}
	if code == "" {
		return h.render(c, "track", "查询办理进度", d)
	}
	return h.renderTrack(c, d)
}

func (h *handler) renderTrack(c *fiber.Ctx, d trackPageData) error {
	t, err := h.ideas.Track(c.UserContext(), d.Code)
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ip):
		d.Problem = ip.Message
		c.Status(ip.Status)
		return h.render(c, "track", "查询办理进度", d)
	case err != nil:
		return err
	}
	v := newTrackingView(t)
	d.Tracking, d.Code = &v, t.Idea.TrackingCode
	if d.Editing && d.EditTitle == "" && d.EditBody == "" {
		d.EditTitle, d.EditBody = t.Idea.Title, t.Idea.Body
	}
	return h.render(c, "track", "查询办理进度", d)
}

// trackLimited answers too many lookups from one address.
func (h *handler) trackLimited(c *fiber.Ctx) error {
	return userError(fiber.StatusTooManyRequests, "rate_limited", "查询过于频繁，请稍后再试")
}

// withdrawHTML is POST /track/withdraw.
func (h *handler) withdrawHTML(c *fiber.Ctx) error {
	code := c.FormValue("code")
	_, err := h.ideas.Withdraw(c.UserContext(), code)
	var ip *ideas.Problem
	if errors.As(err, &ip) {
		c.Status(ip.Status)
		return h.renderTrack(c, trackPageData{Code: code, Problem: ip.Message, EditErrors: &input.Errors{}})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/track?notice=withdrawn&code="+url.QueryEscape(ideas.NormaliseTrackingCode(code)), fiber.StatusSeeOther)
}

// editHTML is GET and POST /track/edit: revise an idea a moderator sent back.
func (h *handler) editHTML(c *fiber.Ctx) error {
	d := trackPageData{Code: c.Query("code"), Editing: true, EditErrors: &input.Errors{}}
	if c.Method() == fiber.MethodGet {
		return h.renderTrack(c, d)
	}
	d.Code, d.EditTitle, d.EditBody = c.FormValue("code"), c.FormValue("title"), c.FormValue("body")
	_, err := h.ideas.Edit(c.UserContext(), d.Code, d.EditTitle, d.EditBody)
	var ie *input.Errors
	var ip *ideas.Problem
	switch {
	case errors.As(err, &ie):
		d.EditErrors = ie
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderTrack(c, d)
	case errors.As(err, &ip):
		d.Problem = ip.Message
		c.Status(ip.Status)
		return h.renderTrack(c, d)
	case err != nil:
		return err
	}
	return c.Redirect("/track?notice=edited&code="+url.QueryEscape(ideas.NormaliseTrackingCode(d.Code)), fiber.StatusSeeOther)
}

type myIdea struct {
	ideaView
	TrackingCode string
}

// myHTML is GET /my: the signed-in resident's own submissions, any status.
func (h *handler) myHTML(c *fiber.Ctx) error {
	page, err := parsePage(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	list, total, err := h.store.Ideas(c.UserContext(), store.IdeaFilter{AuthorID: u.ID, Page: page})
	if err != nil {
		return err
	}
	cat := newCatalog(h.store)
	out := make([]myIdea, 0, len(list))
	for i := range list {
		v, err := cat.view(c.UserContext(), &list[i])
		if err != nil {
			return err
		}
		// The owner sees their own words, not the masked copy.
		v.Title = list[i].Title
		out = append(out, myIdea{ideaView: v, TrackingCode: list[i].TrackingCode})
	}
	return h.render(c, "my", "我的建议", struct {
		Ideas []myIdea
		Pager pager
	}{out, newPager(url.Values{}, "/my", page, total)})
}

// attachmentFile is GET /ideas/:id/files/:file: an attachment of a public
// idea. Images show inline; PDFs download. nosniff keeps browsers from
// treating a file as anything but its checked type.
func (h *handler) attachmentFile(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := h.store.PublicIdea(ctx, id); err != nil {
		return err
	}
	as, err := h.store.Attachments(ctx, id)
	if err != nil {
		return err
	}
	fileID, err := strconv.ParseInt(c.Params("file"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	for _, a := range as {
		if a.ID != fileID {
			continue
		}
		rc, err := h.cfg.Attachments.Open(ctx, a.StoredName)
		if err != nil {
			return err
		}
		defer rc.Close()
		c.Set(fiber.HeaderContentType, a.ContentType)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
		disp := "inline"
		if a.ContentType == "application/pdf" {
			disp = "attachment"
		}
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("%s; filename=\"file-%d%s\"; filename*=UTF-8''%s",
			disp, a.ID, extFor(a.ContentType), url.PathEscape(a.OriginalName)))
		body, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		return c.Send(body)
	}
	return fiber.ErrNotFound
}

func extFor(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}
