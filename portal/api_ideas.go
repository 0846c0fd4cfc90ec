package portal

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/attachment"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
)

// defaultPerPage is the page size when ?per_page= is not given.
const defaultPerPage = 20

// parsePage reads ?page= and ?per_page=; bad values are a 400.
func parsePage(c *fiber.Ctx) (store.Page, error) {
	p := store.Page{Number: 1, PerPage: defaultPerPage}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return p, userError(fiber.StatusBadRequest, "invalid_page", "页码不正确")
		}
		p.Number = n
	}
	if v := c.Query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPerPage {
			return p, userError(fiber.StatusBadRequest, "invalid_page", "每页条数应为 1 到 100")
		}
		p.PerPage = n
	}
	return p, nil
}

func parseID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// submissionFromForm reads a submission and its files from a form post
// (urlencoded or multipart).
func submissionFromForm(c *fiber.Ctx) (ideas.Submission, []attachment.Upload, error) {
	sub := ideas.Submission{
		Campaign: c.FormValue("campaign"), Theme: c.FormValue("theme"),
		Title: c.FormValue("title"), Body: c.FormValue("body"),
		ProvinceCode: c.FormValue("province"), CityCode: c.FormValue("city"),
		DisplayName: c.FormValue("display_name"), Anonymous: isChecked(c.FormValue("anonymous")),
		Phone: c.FormValue("phone"), Email: c.FormValue("email"), Consent: isChecked(c.FormValue("consent")),
	}
	var files []attachment.Upload
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil {
			return sub, nil, userError(fiber.StatusBadRequest, "bad_request", "表单格式不正确")
		}
		for _, fh := range form.File["attachments"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue // an empty file input
			}
			data, err := readUpload(fh)
			if err != nil {
				return sub, nil, err
			}
			files = append(files, attachment.Upload{Name: fh.Filename, Data: data})
		}
	}
	return sub, files, nil
}

// readUpload reads at most MaxSize+1 bytes, enough to tell a file is too large.
func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, attachment.MaxSize+1))
}

func isChecked(v string) bool {
	switch strings.ToLower(v) {
	case "on", "1", "true", "yes":
		return true
	}
	return false
}

// apiSubmitIdea is POST /api/v1/ideas: JSON, or multipart with attachments.
func (h *handler) apiSubmitIdea(c *fiber.Ctx) error {
	var sub ideas.Submission
	var files []attachment.Upload
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		if err := parseBody(c, &sub, "应为 JSON"); err != nil {
			return err
		}
	} else {
		var err error
		if sub, files, err = submissionFromForm(c); err != nil {
			return err
		}
	}
	r, err := h.ideas.Submit(c.UserContext(), sub, files, ideas.Meta{
		User: currentUser(c), IP: c.IP(), IdempotencyKey: c.Get("Idempotency-Key"), Source: "api",
	})
	if err != nil {
		return err
	}
	if r.Replayed {
		c.Set("Idempotent-Replayed", "true")
	}
	c.Location("/api/v1/track/" + r.TrackingCode)
	return c.Status(fiber.StatusCreated).JSON(r)
}

// apiListIdeas is GET /api/v1/ideas: public ideas with paging and sort.
func (h *handler) apiListIdeas(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f, camp, err := h.ideaFilter(c)
	if err != nil {
		return err
	}
	list, total, err := h.store.Ideas(ctx, f)
	if err != nil {
		return err
	}
	cat := newCatalog(h.store)
	views, err := cat.views(ctx, list)
	if err != nil {
		return err
	}
	out := fiber.Map{"total": total, "page": f.Page.Number, "per_page": f.Page.Limit(), "ideas": views}
	if camp != nil {
		out["campaign"] = camp.Slug
	}
	return c.JSON(out)
}

// ideaFilter reads campaign, theme, sort and paging from the query string.
func (h *handler) ideaFilter(c *fiber.Ctx) (store.IdeaFilter, *store.Campaign, error) {
	f := store.IdeaFilter{PublicOnly: true}
	var err error
	if f.Page, err = parsePage(c); err != nil {
		return f, nil, err
	}
	sort, ok := store.ParseIdeaSort(c.Query("sort"))
	if !ok {
		return f, nil, userError(fiber.StatusBadRequest, "invalid_sort", "排序方式只能是 newest（最新）或 supported（附议最多）")
	}
	f.Sort = sort
	var camp *store.Campaign
	if slug := c.Query("campaign"); slug != "" {
		camp, err = h.store.CampaignBySlug(c.UserContext(), slug)
		if errors.Is(err, store.ErrNotFound) || (err == nil && camp.Status == store.CampaignDraft) {
			return f, nil, userError(fiber.StatusNotFound, "unknown_campaign", "找不到该征集活动")
		}
		if err != nil {
			return f, nil, err
		}
		f.CampaignID = camp.ID
	}
	if name := c.Query("theme"); name != "" {
		if camp == nil {
			return f, nil, userError(fiber.StatusBadRequest, "theme_needs_campaign", "按主题筛选时请同时指定征集活动")
		}
		themes, err := h.store.Themes(c.UserContext(), camp.ID)
		if err != nil {
			return f, nil, err
		}
		for _, t := range themes {
			if t.Name == name {
				f.ThemeID = t.ID
			}
		}
		if f.ThemeID == 0 {
			return f, nil, userError(fiber.StatusNotFound, "unknown_theme", "该征集活动没有这个主题")
		}
	}
	return f, camp, nil
}

type commentView struct {
	ID        int64         `json:"id"`
	ParentID  *int64        `json:"parent,omitempty"`
	Author    string        `json:"author"`
	Body      string        `json:"body"`
	CreatedAt time.Time     `json:"created_at"`
	Replies   []commentView `json:"replies,omitempty"`
}

// threadComments nests replies under their comments, oldest first.
func threadComments(cs []store.Comment) []commentView {
	var top []commentView
	index := map[int64]int{}
	for _, c := range cs {
		if c.ParentID == nil {
			index[c.ID] = len(top)
			top = append(top, commentView{ID: c.ID, Author: authorLabel(c.DisplayName, false), Body: c.BodyMasked, CreatedAt: c.CreatedAt.UTC()})
		}
	}
	for _, c := range cs {
		if c.ParentID != nil {
			if i, ok := index[*c.ParentID]; ok {
				top[i].Replies = append(top[i].Replies, commentView{ID: c.ID, ParentID: c.ParentID,
					Author: authorLabel(c.DisplayName, false), Body: c.BodyMasked, CreatedAt: c.CreatedAt.UTC()})
			}
		}
	}
	return top
}

// apiGetIdea is GET /api/v1/ideas/:id: 404 for anything not public.
func (h *handler) apiGetIdea(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	v, comments, err := h.publicIdea(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"idea": v, "comments": comments})
}

// publicIdea loads what the public idea page and API show: the idea (not
// found unless public) and its public comments, threaded.
func (h *handler) publicIdea(ctx context.Context, id int64) (ideaView, []commentView, error) {
	idea, err := h.store.PublicIdea(ctx, id)
	if err != nil {
		return ideaView{}, nil, err
	}
	v, err := newCatalog(h.store).view(ctx, idea)
	if err != nil {
		return ideaView{}, nil, err
	}
	cs, err := h.store.PublicComments(ctx, id)
	if err != nil {
		return ideaView{}, nil, err
	}
	return v, threadComments(cs), nil
}

// apiSupport is POST (add) and DELETE (withdraw) /api/v1/ideas/:id/support.
func (h *handler) apiSupport(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	remove := c.Method() == fiber.MethodDelete
	n, err := h.ideas.Support(c.UserContext(), currentUser(c), id, remove)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id, "supports": n, "supported": !remove})
}

type commentBody struct {
	Body   string `json:"body" form:"body"`
	Parent *int64 `json:"parent" form:"parent"`
}

// apiComment is POST /api/v1/ideas/:id/comments.
func (h *handler) apiComment(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	var b commentBody
	if err := parseBody(c, &b, ""); err != nil {
		return err
	}
	cm, err := h.ideas.Comment(c.UserContext(), currentUser(c), id, b.Parent, b.Body, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": cm.ID, "status": cm.Status, "status_label": cm.Status.Label()})
}

// trackingView is what GET /api/v1/track/:code answers.
type trackingView struct {
	TrackingCode string      `json:"tracking_code"`
	Title        string      `json:"title"`
	Campaign     string      `json:"campaign"`
	Theme        string      `json:"theme"`
	Status       string      `json:"status"`
	StatusLabel  string      `json:"status_label"`
	Reason       string      `json:"reason,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	Events       []eventView `json:"events"`
	Reply        string      `json:"reply,omitempty"`
	MergedInto   *mergedView `json:"merged_into,omitempty"`
	CanWithdraw  bool        `json:"can_withdraw"`
	CanEdit      bool        `json:"can_edit"`
	PublicID     int64       `json:"public_id,omitempty"`
}

type eventView struct {
	Status      string    `json:"status"`
	StatusLabel string    `json:"status_label"`
	Note        string    `json:"note"`
	At          time.Time `json:"at"`
}

type mergedView struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

func newTrackingView(t *ideas.Tracking) trackingView {
	v := trackingView{TrackingCode: t.Idea.TrackingCode, Title: t.Idea.Title, Campaign: t.Campaign.Title, Theme: t.Theme,
		Status: string(t.Idea.Status), StatusLabel: t.Idea.Status.Label(), Reason: t.Idea.StatusReason,
		CreatedAt: t.Idea.CreatedAt.UTC(), Reply: t.Idea.Reply, CanWithdraw: t.CanWithdraw(), CanEdit: t.CanEdit(),
		Events: []eventView{}}
	if t.Idea.Visible() {
		v.PublicID = t.Idea.ID
	}
	for _, e := range t.Events {
		v.Events = append(v.Events, eventView{Status: string(e.ToStatus), StatusLabel: e.ToStatus.Label(), Note: e.Note, At: e.CreatedAt.UTC()})
	}
	if t.MergedInto != nil {
		v.MergedInto = &mergedView{ID: t.MergedInto.ID, Title: publicTitle(t.MergedInto)}
	}
	return v
}

// trackingCodeParam is the :code of the URL, percent-decoded: Fiber hands
// out the raw path, and a code typed with spaces arrives as "jdz%207k3m…".
func trackingCodeParam(c *fiber.Ctx) string {
	code := c.Params("code")
	if s, err := url.PathUnescape(code); err == nil {
		return s
	}
	return code
}

// apiTrack is GET /api/v1/track/:code.
func (h *handler) apiTrack(c *fiber.Ctx) error {
	t, err := h.ideas.Track(c.UserContext(), trackingCodeParam(c))
	if err != nil {
		return err
	}
	return c.JSON(newTrackingView(t))
}

// apiWithdraw is POST /api/v1/track/:code/withdraw.
func (h *handler) apiWithdraw(c *fiber.Ctx) error {
	if _, err := h.ideas.Withdraw(c.UserContext(), trackingCodeParam(c)); err != nil {
		return err
	}
	return h.apiTrack(c)
}

type editBody struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// apiEdit is PUT /api/v1/track/:code: revise an idea a moderator sent back.
func (h *handler) apiEdit(c *fiber.Ctx) error {
	var b editBody
	if err := parseBody(c, &b, "应为 JSON"); err != nil {
		return err
	}
	if _, err := h.ideas.Edit(c.UserContext(), trackingCodeParam(c), b.Title, b.Body); err != nil {
		return err
	}
	return h.apiTrack(c)
}
