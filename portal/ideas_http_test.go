package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/attachment"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// ideasFixture is a portal with an admin API client and helpers to create
// campaigns and submit ideas the way clients do: through the HTTP API.
type ideasFixture struct {
	*testEnv
	t       *testing.T
	admin   *client // bearer token of an admin
	visitor *client // no credentials
	users   int
	tmpRoot string // parent of the test's temporary directories
}

// testClock is a clock a test moves forward (testOptions.Now); the app
// reads it between requests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newIdeasFixture(t *testing.T, opts testOptions) *ideasFixture {
	t.Helper()
	f := &ideasFixture{testEnv: newTestApp(t, opts), t: t, tmpRoot: filepath.Dir(t.TempDir())}
	f.admin = f.bearer("admin", store.RoleAdmin)
	f.visitor = f.client(t)
	return f
}

// bearer creates a user with the role and returns an API client carrying
// its token. Names get a counter so one fixture can hold many users.
func (f *ideasFixture) bearer(name string, role store.Role) *client {
	f.t.Helper()
	f.users++
	u := f.createUser(f.t, fmt.Sprintf("%s%d", name, f.users), role, "")
	c := f.client(f.t)
	c.header.Set(fiber.HeaderAuthorization, "Bearer "+f.createToken(f.t, u, nil))
	return c
}

// do sends req as c: with its headers and cookies, keeping the cookies the
// response sets (as client.do does for forms).
func (f *ideasFixture) do(c *client, req *http.Request, header http.Header) *response {
	f.t.Helper()
	return c.send(req, header)
}

// json sends body as JSON: []byte is sent as is, anything else marshalled.
func (f *ideasFixture) json(c *client, method, target string, body any, header http.Header) *response {
	f.t.Helper()
	raw, ok := body.([]byte)
	if !ok && body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			f.t.Fatalf("marshal %T: %v", body, err)
		}
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	}
	return f.do(c, req, header)
}

// multipartFile is one file of a multipart form.
type multipartFile struct {
	name string
	data []byte
}

// multipart sends fields and files (under "attachments") as multipart/form-data.
func (f *ideasFixture) multipart(c *client, target string, fields url.Values, files []multipartFile, header http.Header) *response {
	f.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	for _, file := range files {
		fw, err := w.CreateFormFile("attachments", file.name)
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := fw.Write(file.data); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, target, &buf)
	req.Header.Set(fiber.HeaderContentType, w.FormDataContentType())
	return f.do(c, req, header)
}

// campaignBody is a valid campaign that is open now, takes any number of
// ideas a day and has two themes with keywords.
func campaignBody(slug, policy string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"slug": slug, "title": "文明城市金点子（" + slug + "）", "description": "请为城市文明建设建言献策",
		"status": "open", "policy": policy, "daily_limit": 0,
		"opens_at": now.Add(-24 * time.Hour).Format(time.RFC3339), "closes_at": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"award_tiers": []string{"一等奖", "二等奖"},
		"themes": []map[string]any{
			{"name": "城市管理", "description": "市容市貌、占道经营", "keywords": []string{"占道经营", "乱停车"}},
			{"name": "交通出行", "keywords": []string{"公交", "地铁"}},
		},
	}
}

// campaign creates a campaign through POST /api/v1/campaigns as the admin.
func (f *ideasFixture) campaign(slug, policy string, edit func(map[string]any)) {
	f.t.Helper()
	b := campaignBody(slug, policy)
	if edit != nil {
		edit(b)
	}
	if res := f.json(f.admin, http.MethodPost, "/api/v1/campaigns", b, nil); res.status != fiber.StatusCreated {
		f.t.Fatalf("create campaign %s: %s", slug, res)
	}
}

// Contact details used by every valid submission; they must never be public.
const (
	testPhone = "13812345678"
	testEmail = "zhang.wei@example.com"
)

// ideaBody is a valid API submission to the campaign.
func ideaBody(campaign string) map[string]any {
	return map[string]any{
		"campaign": campaign, "theme": "城市管理", "title": "小区门口人行道被占用",
		"body":     "小区门口的人行道长期被摊贩占用，行人只能走机动车道，建议划定摆摊区域并加强巡查。",
		"province": "330000", "city": "330100", "display_name": "张伟",
		"phone": testPhone, "email": testEmail, "consent": true,
	}
}

// ideaReceipt is the body of a 201 from POST /api/v1/ideas.
type ideaReceipt struct {
	ID             int64  `json:"id"`
	TrackingCode   string `json:"tracking_code"`
	Status         string `json:"status"`
	Theme          string `json:"theme"`
	ThemeSuggested bool   `json:"theme_suggested"`
}

var trackingCodeRE = regexp.MustCompile(`^JDZ-[0-9A-Z]{4}-[0-9A-Z]{4}$`)

func (f *ideasFixture) decodeReceipt(res *response) ideaReceipt {
	f.t.Helper()
	if res.status != fiber.StatusCreated {
		f.t.Fatalf("submit: %s", res)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.body), &keys); err != nil {
		f.t.Fatalf("receipt %s: %v", res.body, err)
	}
	for _, k := range []string{"id", "tracking_code", "status", "theme", "theme_suggested"} {
		if _, ok := keys[k]; !ok {
			f.t.Errorf("receipt %s lacks %q", res.body, k)
		}
	}
	if len(keys) != 5 {
		f.t.Errorf("receipt %s: want exactly id, tracking_code, status, theme, theme_suggested", res.body)
	}
	var r ideaReceipt
	if err := json.Unmarshal([]byte(res.body), &r); err != nil {
		f.t.Fatalf("receipt %s: %v", res.body, err)
	}
	if r.ID < 1 || !trackingCodeRE.MatchString(r.TrackingCode) {
		f.t.Errorf("receipt %+v: bad id or tracking code", r)
	}
	return r
}

// submit posts an idea as c and fails the test unless it was accepted.
func (f *ideasFixture) submit(c *client, body map[string]any) ideaReceipt {
	f.t.Helper()
	return f.decodeReceipt(f.json(c, http.MethodPost, "/api/v1/ideas", body, nil))
}

// publish moves a pending idea to published, as a moderator would.
func (f *ideasFixture) publish(id int64) {
	f.t.Helper()
	_, err := f.store.ChangeIdeaStatus(context.Background(), id, []store.IdeaStatus{store.IdeaPending}, store.IdeaPublished,
		store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Note: "审核通过", Public: true}, nil)
	if err != nil {
		f.t.Fatalf("publish idea %d: %v", id, err)
	}
}

// apiProblem is an API error body; fields are present for invalid input.
type apiProblem struct {
	Code    string
	Message string
	Fields  []input.FieldError
}

// problem decodes {"error":{code,message[,fields]}} and checks its shape.
func (f *ideasFixture) problem(res *response) apiProblem {
	f.t.Helper()
	if ct := res.header.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		f.t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	var top map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.body), &top); err != nil || len(top) != 1 || top["error"] == nil {
		f.t.Fatalf("error body %s: want exactly {\"error\":{…}} (%v)", res.body, err)
	}
	var p apiProblem
	for k, v := range top["error"] {
		var err error
		switch k {
		case "code":
			err = json.Unmarshal(v, &p.Code)
		case "message":
			err = json.Unmarshal(v, &p.Message)
		case "fields":
			err = json.Unmarshal(v, &p.Fields)
		default:
			f.t.Errorf("error body %s: unexpected key %q", res.body, k)
		}
		if err != nil {
			f.t.Fatalf("error body %s: %v", res.body, err)
		}
	}
	if p.Code == "" || p.Message == "" {
		f.t.Errorf("error body %s: empty code or message", res.body)
	}
	return p
}

// wantProblem checks status and code of an API error.
func (f *ideasFixture) wantProblem(res *response, status int, code string) apiProblem {
	f.t.Helper()
	if res.status != status {
		f.t.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
	p := f.problem(res)
	if p.Code != code {
		f.t.Errorf("code %q, want %q (%s)", p.Code, code, res.body)
	}
	return p
}

// wantFieldProblem is wantProblem for invalid input: a 422 must also name
// the field at fault in fields, with the same code.
func (f *ideasFixture) wantFieldProblem(res *response, status int, code string) apiProblem {
	f.t.Helper()
	p := f.wantProblem(res, status, code)
	if status != fiber.StatusUnprocessableEntity {
		return p
	}
	found := false
	for _, fe := range p.Fields {
		found = found || (fe.Code == code && fe.Field != "" && fe.Message != "")
	}
	if !found {
		f.t.Errorf("422 %s: fields lack %q", res.body, code)
	}
	return p
}

// ideaCounts returns the public total the API lists for a campaign and the
// number of stored ideas of any status (pending included).
func (f *ideasFixture) ideaCounts(slug string) (public, stored int64) {
	f.t.Helper()
	res := f.visitor.get("/api/v1/ideas?campaign=" + url.QueryEscape(slug))
	var list struct{ Total int64 }
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &list) != nil {
		f.t.Fatalf("list ideas of %s: %s", slug, res)
	}
	camp, err := f.store.CampaignBySlug(context.Background(), slug)
	if err != nil {
		f.t.Fatal(err)
	}
	_, stored, err = f.store.Ideas(context.Background(), store.IdeaFilter{CampaignID: camp.ID})
	if err != nil {
		f.t.Fatal(err)
	}
	return list.Total, stored
}

// allIdeas counts every stored idea of every campaign.
func (f *ideasFixture) allIdeas() int64 {
	f.t.Helper()
	_, n, err := f.store.Ideas(context.Background(), store.IdeaFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// storedFiles counts the attachment files on disk: newTestApp keeps them in
// an attachments directory under one of the test's temporary directories.
func (f *ideasFixture) storedFiles(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(f.tmpRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(p, string(os.PathSeparator)+"attachments"+string(os.PathSeparator)) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// nothingStored runs fn and checks it added no idea to the campaign (nor any
// other).
func (f *ideasFixture) nothingStored(slug string, fn func()) {
	f.t.Helper()
	pub, stored := f.ideaCounts(slug)
	all := f.allIdeas()
	fn()
	pub2, stored2 := f.ideaCounts(slug)
	if pub2 != pub || stored2 != stored || f.allIdeas() != all {
		f.t.Errorf("ideas stored: public %d→%d, stored %d→%d, all %d→%d", pub, pub2, stored, stored2, all, f.allIdeas())
	}
}

func TestSubmitIdeaAPIRejectsBadInput(t *testing.T) {
	f := newIdeasFixture(t, testOptions{SubmitLimit: 1000})
	now := time.Now().UTC()
	f.campaign("jiedao", store.PolicyPost, nil)
	f.campaign("yijieshu", store.PolicyPost, func(b map[string]any) { b["status"] = store.CampaignClosed })
	f.campaign("weikaishi", store.PolicyPost, func(b map[string]any) {
		b["opens_at"] = now.Add(24 * time.Hour).Format(time.RFC3339)
	})
	f.submit(f.visitor, ideaBody("jiedao")) // so "unchanged" is not just "still zero"

	// The raw body with bytes that are not UTF-8 in the title.
	valid, _ := json.Marshal(ideaBody("jiedao"))
	badUTF8 := bytes.Replace(valid, []byte("小区门口"), []byte("\xff\xfe小区"), 1)

	set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
	tests := []struct {
		name     string
		edit     func(map[string]any)
		raw      []byte
		campaign string // whose counts must not change
		status   int
		code     string
	}{
		{"empty title", set("title", ""), nil, "jiedao", 422, "title_empty"},
		{"61-character title", set("title", strings.Repeat("长", 61)), nil, "jiedao", 422, "title_too_long"},
		{"19-character body", set("body", strings.Repeat("短", 19)), nil, "jiedao", 422, "body_too_short"},
		{"5001-character body", set("body", strings.Repeat("长", 5001)), nil, "jiedao", 422, "body_too_long"},
		{"invalid UTF-8", nil, badUTF8, "jiedao", 400, "invalid_utf8"},
		{"control character", set("title", "人行道\u0007被占用了"), nil, "jiedao", 422, "control_characters"},
		// An unknown slug is a field problem like the others: 422 with
		// fields, not the 404 of GET /api/v1/ideas?campaign=.
		{"unknown campaign", set("campaign", "no-such-campaign"), nil, "jiedao", 422, "unknown_campaign"},
		{"unknown theme", set("theme", "不存在的主题"), nil, "jiedao", 422, "unknown_theme"},
		{"campaign closed", set("campaign", "yijieshu"), nil, "yijieshu", 409, "campaign_not_open"},
		{"campaign opens tomorrow", set("campaign", "weikaishi"), nil, "weikaishi", 409, "campaign_not_open"},
		{"no consent", set("consent", false), nil, "jiedao", 422, "consent_required"},
		{"invalid phone", set("phone", "12345"), nil, "jiedao", 422, "invalid_phone"},
		{"invalid e-mail", set("email", "zhang.wei@"), nil, "jiedao", 422, "invalid_email"},
		{"no contact", func(b map[string]any) { b["phone"], b["email"] = "", "" }, nil, "jiedao", 422, "contact_required"},
		{"no region", set("city", ""), nil, "jiedao", 422, "invalid_region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			body := any(tt.raw)
			if tt.raw == nil {
				b := ideaBody("jiedao")
				tt.edit(b)
				body = b
			}
			f.nothingStored(tt.campaign, func() {
				res := f.json(f.visitor, http.MethodPost, "/api/v1/ideas", body, nil)
				p := f.wantFieldProblem(res, tt.status, tt.code)
				if tt.status == 422 && len(p.Fields) == 0 {
					t.Errorf("422 without fields: %s", res.body)
				}
				if tt.code == "unknown_campaign" && !strings.Contains(p.Message, "征集活动") {
					t.Errorf("unknown campaign message %q does not name the campaign", p.Message)
				}
			})
		})
	}
	f.t = t

	t.Run("daily limit", func(t *testing.T) {
		f.t = t
		f.campaign("meiri", store.PolicyPre, func(b map[string]any) { b["daily_limit"] = 2 })
		for i := 0; i < 2; i++ {
			f.submit(f.visitor, ideaBody("meiri"))
		}
		f.nothingStored("meiri", func() {
			f.wantProblem(f.json(f.visitor, http.MethodPost, "/api/v1/ideas", ideaBody("meiri"), nil), 429, "daily_limit")
		})
		// The limit is per submitter: someone else may still post today.
		other := ideaBody("meiri")
		other["phone"], other["email"] = "13900001111", ""
		f.submit(f.visitor, other)
	})
}

func TestSubmitIdeaAPIBurstIsRateLimited(t *testing.T) {
	f := newIdeasFixture(t, testOptions{SubmitLimit: 3})
	f.campaign("jiedao", store.PolicyPost, nil)
	for i := 0; i < 3; i++ {
		f.submit(f.visitor, ideaBody("jiedao"))
	}
	f.nothingStored("jiedao", func() {
		res := f.json(f.visitor, http.MethodPost, "/api/v1/ideas", ideaBody("jiedao"), nil)
		f.wantProblem(res, fiber.StatusTooManyRequests, "rate_limited")
		if res.header.Get(fiber.HeaderRetryAfter) == "" {
			t.Error("429 without Retry-After")
		}
	})
	// Reading is not limited.
	if res := f.visitor.get("/api/v1/ideas?campaign=jiedao"); res.status != fiber.StatusOK {
		t.Errorf("GET after the submit limit: %s", res)
	}
}

// ideaJSON is the body of GET /api/v1/ideas/:id.
type ideaJSON struct {
	Idea struct {
		ID       int64  `json:"id"`
		Title    string `json:"title"`
		Body     string `json:"body"`
		Theme    string `json:"theme"`
		Region   string `json:"region"`
		Author   string `json:"author"`
		Supports int    `json:"supports"`
		Status   string `json:"status"`
	} `json:"idea"`
	Comments []commentView `json:"comments"`
}

func (f *ideasFixture) getIdea(id int64) ideaJSON {
	f.t.Helper()
	res := f.visitor.get(fmt.Sprintf("/api/v1/ideas/%d", id))
	var v ideaJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
		f.t.Fatalf("GET idea %d: %s", id, res)
	}
	return v
}

func TestSubmittedHTMLIsKeptAsText(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("jiedao", store.PolicyPost, nil)
	const title = `<i>斜体</i>标题 & "引号"`
	const body = `<script>alert(1)</script><b>粗体</b>`
	b := ideaBody("jiedao")
	b["title"], b["body"] = title, body
	r := f.submit(f.visitor, b)
	if r.Status != string(store.IdeaPublished) {
		t.Fatalf("status %q under post", r.Status)
	}

	page := f.visitor.get(fmt.Sprintf("/ideas/%d", r.ID))
	if page.status != fiber.StatusOK {
		t.Fatalf("idea page: %s", page)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;", "&lt;i&gt;斜体&lt;/i&gt;标题 &amp; &#34;引号&#34;"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("idea page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert(1)", "<b>粗体", "<i>斜体"} {
		if strings.Contains(page.body, bad) {
			t.Errorf("idea page contains raw %q", bad)
		}
	}
	if list := f.visitor.get("/campaigns/jiedao"); strings.Contains(list.body, "<i>斜体") || !strings.Contains(list.body, "&lt;i&gt;斜体") {
		t.Errorf("campaign page does not escape the title:\n%s", list.body)
	}

	v := f.getIdea(r.ID)
	if v.Idea.Body != body || v.Idea.Title != title {
		t.Errorf("API changed the text: title %q body %q", v.Idea.Title, v.Idea.Body)
	}
}

// testPNG is a small, real PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 30), uint8(y * 30), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// formValues turns a submission body into form fields.
func formValues(b map[string]any) url.Values {
	v := url.Values{}
	for k, x := range b {
		switch x := x.(type) {
		case bool:
			if x {
				v.Set(k, "on")
			}
		default:
			v.Set(k, fmt.Sprint(x))
		}
	}
	return v
}

func TestSubmitIdeaAPIAttachments(t *testing.T) {
	f := newIdeasFixture(t, testOptions{SubmitLimit: 1000})
	f.campaign("jiedao", store.PolicyPost, nil)
	ctx := context.Background()
	pic := testPNG(t)
	fields := formValues(ideaBody("jiedao"))

	res := f.multipart(f.visitor, "/api/v1/ideas", fields, []multipartFile{{"现场.png", pic}}, nil)
	r := f.decodeReceipt(res)
	as, err := f.store.Attachments(ctx, r.ID)
	if err != nil || len(as) != 1 || as[0].ContentType != string(attachment.KindPNG) || as[0].OriginalName != "现场.png" {
		t.Fatalf("attachments of the idea: %+v %v", as, err)
	}
	if n := f.storedFiles(t); n != 1 {
		t.Fatalf("%d files on disk after one attachment", n)
	}
	if v := f.getIdea(r.ID); v.Idea.Title != fields.Get("title") {
		t.Errorf("multipart idea title %q", v.Idea.Title)
	}

	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 512)...)
	big := append(append([]byte{}, pic...), bytes.Repeat([]byte{0}, attachment.MaxSize+1-len(pic))...)
	tests := []struct {
		name  string
		files []multipartFile
		code  string
	}{
		{"four files", []multipartFile{{"1.png", pic}, {"2.png", pic}, {"3.png", pic}, {"4.png", pic}}, "too_many_attachments"},
		{"executable named photo.jpg", []multipartFile{{"photo.jpg", exe}}, "attachment_unsupported"},
		{"5 MB and one byte", []multipartFile{{"big.png", big}}, "attachment_too_large"},
		{"good file then a bad one", []multipartFile{{"ok.png", pic}, {"photo.jpg", exe}}, "attachment_unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			f.nothingStored("jiedao", func() {
				res := f.multipart(f.visitor, "/api/v1/ideas", fields, tt.files, nil)
				p := f.wantFieldProblem(res, fiber.StatusUnprocessableEntity, tt.code)
				if len(p.Fields) != 1 || p.Fields[0].Field != "attachments" {
					t.Errorf("fields %+v, want the attachments field only", p.Fields)
				}
			})
			if n := f.storedFiles(t); n != 1 {
				t.Errorf("%d files on disk, want still 1", n)
			}
		})
	}
}

func TestSubmitIdeaAPIReceipt(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("xianfa", store.PolicyPost, nil)
	f.campaign("xianshen", store.PolicyPre, nil)

	post := f.submit(f.visitor, ideaBody("xianfa"))
	if post.Status != "published" || post.Theme != "城市管理" || post.ThemeSuggested {
		t.Errorf("receipt under post: %+v", post)
	}
	pre := f.submit(f.visitor, ideaBody("xianshen"))
	if pre.Status != "pending" {
		t.Errorf("receipt under pre: %+v", pre)
	}
	if pre.TrackingCode == post.TrackingCode || pre.ID == post.ID {
		t.Error("two submissions share a receipt")
	}

	// No theme chosen: the keyword 乱停车 suggests 城市管理.
	b := ideaBody("xianshen")
	b["theme"] = ""
	b["body"] = "我们小区门口每天晚上都有很多车辆乱停车，堵住了消防通道，建议增设停车位并加强管理。"
	if r := f.submit(f.visitor, b); r.Theme != "城市管理" || !r.ThemeSuggested {
		t.Errorf("blank theme with a keyword: %+v", r)
	}

	// An Idempotency-Key repeated replays the first receipt and stores nothing.
	key := http.Header{"Idempotency-Key": {"6b1f2c1e-5d0a-4a57-9a55-2f8d3c2c0b11"}}
	first := f.json(f.visitor, http.MethodPost, "/api/v1/ideas", ideaBody("xianshen"), key)
	r1 := f.decodeReceipt(first)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Error("first submission marked as replayed")
	}
	if loc := first.header.Get(fiber.HeaderLocation); loc != "/api/v1/track/"+r1.TrackingCode {
		t.Errorf("Location %q", loc)
	}
	f.nothingStored("xianshen", func() {
		again := f.json(f.visitor, http.MethodPost, "/api/v1/ideas", ideaBody("xianshen"), key)
		r2 := f.decodeReceipt(again)
		if r2 != r1 {
			t.Errorf("replayed receipt %+v, want %+v", r2, r1)
		}
		if again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("Idempotent-Replayed = %q", again.header.Get("Idempotent-Replayed"))
		}
	})
	// The key is scoped to the submitter: another person's same key is a
	// new submission, not someone else's receipt.
	other := ideaBody("xianshen")
	other["phone"], other["email"] = "13900002222", ""
	if r := f.decodeReceipt(f.json(f.visitor, http.MethodPost, "/api/v1/ideas", other, key)); r.ID == r1.ID || r.TrackingCode == r1.TrackingCode {
		t.Error("the same Idempotency-Key from another contact replayed the first receipt")
	}
	camp, _ := f.store.CampaignBySlug(context.Background(), "xianshen")
	rows, _, err := f.store.Ideas(context.Background(), store.IdeaFilter{CampaignID: camp.ID, Page: store.Page{PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, i := range rows {
		if i.TrackingCode == r1.TrackingCode {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rows with the replayed tracking code", n)
	}
}

var idemKeyRE = regexp.MustCompile(`<input type="hidden" name="idempotency_key" value="([0-9a-f-]{36})">`)

// controlsHaveLabels checks that every visible form control of the page has
// a label: <label for=id>, or an enclosing <label class="check">.
func controlsHaveLabels(t *testing.T, page string) {
	t.Helper()
	controls := regexp.MustCompile(`(<label class="check">)?\s*<(input|select|textarea)\b([^>]*)>`).FindAllStringSubmatch(page, -1)
	if len(controls) == 0 {
		t.Fatal("no form controls in page")
	}
	for _, m := range controls {
		attrs := m[3]
		if strings.Contains(attrs, `type="hidden"`) || m[1] != "" {
			continue
		}
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(attrs)
		if id == nil || !strings.Contains(page, `<label for="`+id[1]+`"`) {
			t.Errorf("control without a label: <%s%s>", m[2], attrs)
		}
	}
}

func TestSubmitIdeaHTMLForm(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("jiedao", store.PolicyPost, nil)
	c := f.client(t)

	form := c.get("/campaigns/jiedao/submit")
	if form.status != fiber.StatusOK {
		t.Fatalf("submit form: %s", form)
	}
	controlsHaveLabels(t, form.body)
	for _, name := range []string{"title", "body", "theme", "province", "city", "display_name", "phone", "email", "attachments"} {
		if !strings.Contains(form.body, `<label for="`+name+`">`) || !strings.Contains(form.body, `name="`+name+`"`) {
			t.Errorf("submit form lacks a labelled %q field", name)
		}
	}
	for _, name := range []string{"anonymous", "consent"} {
		if !regexp.MustCompile(`<label class="check"><input type="checkbox" name="` + name + `"`).MatchString(form.body) {
			t.Errorf("submit form lacks a labelled %q checkbox", name)
		}
	}
	m := idemKeyRE.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no idempotency_key in the form:\n%s", form.body)
	}
	idem, tok := m[1], csrfFrom(t, form.body)

	typed := url.Values{
		"_csrf": {tok}, "idempotency_key": {idem}, "title": {`人行道"被占" & 摊贩`}, "body": {"太短了，写不下"},
		"theme": {"城市管理"}, "province": {"330000"}, "city": {"330100"}, "display_name": {"张伟"},
		"phone": {"138 1234 5678"}, "email": {testEmail},
	}
	f.nothingStored("jiedao", func() {
		res := f.multipart(c, "/campaigns/jiedao/submit", typed, nil, nil)
		if res.status != fiber.StatusUnprocessableEntity {
			t.Fatalf("invalid form: %s", res)
		}
		for _, want := range []string{"建议内容至少需要 20 个字", "请阅读并同意隐私说明后再提交", "提交未成功",
			`<option value="330000" selected>浙江省</option>`, `<option value="330100" selected>杭州市</option>`,
			`<option value="城市管理" selected>城市管理</option>`, ">太短了，写不下</textarea>"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("422 page lacks %q", want)
			}
		}
		for _, name := range []string{"title", "phone", "email", "display_name", "idempotency_key"} {
			if got := inputValue(t, res.body, name); got != typed.Get(name) {
				t.Errorf("422 page keeps %s = %q, want %q", name, got, typed.Get(name))
			}
		}
		csrfFrom(t, res.body) // the page can be submitted again
	})

	// Without the CSRF token nothing happens.
	valid := formValues(ideaBody("jiedao"))
	valid.Set("idempotency_key", idem)
	f.nothingStored("jiedao", func() {
		if res := f.multipart(c, "/campaigns/jiedao/submit", valid, nil, nil); res.status != fiber.StatusForbidden {
			t.Errorf("POST without csrf: %s", res)
		}
	})

	valid.Set("_csrf", tok)
	res := f.multipart(c, "/campaigns/jiedao/submit", valid, []multipartFile{{"现场.png", testPNG(t)}}, nil)
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("valid form: %s", res)
	}
	loc := res.header.Get(fiber.HeaderLocation)
	lm := regexp.MustCompile(`^/track\?new=1&code=(JDZ-[0-9A-Z]{4}-[0-9A-Z]{4})$`).FindStringSubmatch(loc)
	if lm == nil {
		t.Fatalf("redirect to %q", loc)
	}
	receipt := c.get(loc)
	if receipt.status != fiber.StatusOK || !strings.Contains(receipt.body, "提交成功") || !strings.Contains(receipt.body, lm[1]) {
		t.Errorf("receipt page:\n%s", receipt)
	}
	// A double click (same idempotency key) lands on the same receipt.
	f.nothingStored("jiedao", func() {
		again := f.multipart(c, "/campaigns/jiedao/submit", valid, nil, nil)
		if again.status != fiber.StatusSeeOther || again.header.Get(fiber.HeaderLocation) != loc {
			t.Errorf("repeated form: %d %q, want %q", again.status, again.header.Get(fiber.HeaderLocation), loc)
		}
	})
}

func TestSubmitIdeaHTMLFormRateLimit(t *testing.T) {
	f := newIdeasFixture(t, testOptions{SubmitLimit: 2})
	f.campaign("jiedao", store.PolicyPost, nil)
	c := f.client(t)
	tok := c.csrf("/campaigns/jiedao/submit")
	typed := formValues(ideaBody("jiedao"))
	typed.Set("_csrf", tok)
	typed.Del("consent") // invalid, so the first two store nothing either
	for i := 1; i <= 2; i++ {
		if res := f.multipart(c, "/campaigns/jiedao/submit", typed, nil, nil); res.status != fiber.StatusUnprocessableEntity {
			t.Fatalf("POST %d: %s", i, res)
		}
	}
	typed.Set("consent", "on")
	f.nothingStored("jiedao", func() {
		res := f.multipart(c, "/campaigns/jiedao/submit", typed, nil, nil)
		if res.status != fiber.StatusTooManyRequests {
			t.Fatalf("third POST: %s", res)
		}
		for _, want := range []string{"提交过于频繁", ">" + html.EscapeString(typed.Get("body")) + "</textarea>"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("429 page lacks %q:\n%s", want, res.body)
			}
		}
		if got := inputValue(t, res.body, "title"); got != typed.Get("title") {
			t.Errorf("429 page keeps title %q", got)
		}
	})
}

// trackJSON is the body of GET /api/v1/track/:code.
type trackJSON struct {
	TrackingCode string      `json:"tracking_code"`
	Title        string      `json:"title"`
	Status       string      `json:"status"`
	StatusLabel  string      `json:"status_label"`
	Events       []eventView `json:"events"`
	CanWithdraw  bool        `json:"can_withdraw"`
	CanEdit      bool        `json:"can_edit"`
}

func (f *ideasFixture) decodeTrack(res *response) trackJSON {
	f.t.Helper()
	var v trackJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
		f.t.Fatalf("tracking: %s", res)
	}
	return v
}

func TestTrackingAPIAndPages(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("xianfa", store.PolicyPost, nil)
	f.campaign("xianshen", store.PolicyPre, nil)
	pending := f.submit(f.visitor, ideaBody("xianshen"))
	published := f.submit(f.visitor, ideaBody("xianfa"))
	ctx := context.Background()

	v := f.decodeTrack(f.visitor.get("/api/v1/track/" + pending.TrackingCode))
	if v.TrackingCode != pending.TrackingCode || v.Status != "pending" || v.StatusLabel != "待审核" || !v.CanWithdraw || v.CanEdit {
		t.Errorf("tracking of a pending idea: %+v", v)
	}
	if len(v.Events) != 1 || v.Events[0].Status != "pending" || v.Events[0].StatusLabel != "待审核" || v.Events[0].Note == "" {
		t.Errorf("events: %+v", v.Events)
	}
	// Typed in lower case with spaces instead of dashes.
	typed := strings.ToLower(strings.ReplaceAll(pending.TrackingCode, "-", " "))
	if v := f.decodeTrack(f.visitor.get("/api/v1/track/" + url.PathEscape(typed))); v.TrackingCode != pending.TrackingCode {
		t.Errorf("lower-case code with spaces: %+v", v)
	}
	f.wantProblem(f.visitor.get("/api/v1/track/JDZ-0000-0000"), fiber.StatusNotFound, "not_found")
	f.wantProblem(f.visitor.get("/api/v1/track/nonsense"), fiber.StatusNotFound, "not_found")

	// Withdrawing: a pending idea yes, a published one no.
	w := f.decodeTrack(f.json(f.visitor, http.MethodPost, "/api/v1/track/"+pending.TrackingCode+"/withdraw", nil, nil))
	if w.Status != "withdrawn" || w.StatusLabel != "已撤回" || w.CanWithdraw || len(w.Events) != 2 {
		t.Errorf("withdrawn: %+v", w)
	}
	f.wantProblem(f.json(f.visitor, http.MethodPost, "/api/v1/track/"+published.TrackingCode+"/withdraw", nil, nil),
		fiber.StatusConflict, "not_withdrawable")

	// Editing: only after a moderator asked for changes.
	edit := map[string]any{"title": "修改后的标题：人行道占用", "body": "补充了具体位置：解放路 12 号小区南门，每天 17 点到 21 点。"}
	f.wantProblem(f.json(f.visitor, http.MethodPut, "/api/v1/track/"+published.TrackingCode, edit, nil), fiber.StatusConflict, "not_editable")
	sentBack := f.submit(f.visitor, ideaBody("xianshen"))
	if _, err := f.store.ChangeIdeaStatus(ctx, sentBack.ID, []store.IdeaStatus{store.IdeaPending}, store.IdeaChanges,
		store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Note: "请补充具体位置", Public: true}, nil); err != nil {
		t.Fatal(err)
	}
	f.wantFieldProblem(f.json(f.visitor, http.MethodPut, "/api/v1/track/"+sentBack.TrackingCode, map[string]any{"title": edit["title"], "body": "太短"}, nil),
		fiber.StatusUnprocessableEntity, "body_too_short")
	ev := f.decodeTrack(f.json(f.visitor, http.MethodPut, "/api/v1/track/"+sentBack.TrackingCode, edit, nil))
	if ev.Status != "pending" || ev.Title != edit["title"] || len(ev.Events) != 3 {
		t.Errorf("after the edit: %+v", ev)
	}
	if idea, _ := f.store.IdeaByID(ctx, sentBack.ID); idea.Body != edit["body"] {
		t.Errorf("stored body %q", idea.Body)
	}

	// The same through the HTML edit form.
	c := f.client(t)
	again := f.submit(f.visitor, ideaBody("xianshen"))
	if _, err := f.store.ChangeIdeaStatus(ctx, again.ID, []store.IdeaStatus{store.IdeaPending}, store.IdeaChanges,
		store.IdeaStatusEvent{ActorRole: string(store.RoleModerator), Note: "请补充具体位置", Public: true}, nil); err != nil {
		t.Fatal(err)
	}
	tp := c.get("/track?code=" + again.TrackingCode)
	if !strings.Contains(tp.body, "待修改") || !strings.Contains(tp.body, "请补充具体位置") || !strings.Contains(tp.body, "按审核意见修改") {
		t.Errorf("track page of an idea sent back:\n%s", tp.body)
	}
	ef := c.get("/track/edit?code=" + again.TrackingCode)
	if ef.status != fiber.StatusOK || inputValue(t, ef.body, "title") != ideaBody("")["title"] {
		t.Fatalf("edit form: %s", ef)
	}
	tok := csrfFrom(t, ef.body)
	res := c.post("/track/edit", url.Values{"_csrf": {tok}, "code": {again.TrackingCode}, "title": {"新标题：补充位置"}, "body": {"还是太短"}})
	if res.status != fiber.StatusUnprocessableEntity || !strings.Contains(res.body, "建议内容至少需要 20 个字") ||
		inputValue(t, res.body, "title") != "新标题：补充位置" || !strings.Contains(res.body, ">还是太短</textarea>") {
		t.Errorf("invalid edit form: %s", res)
	}
	res = c.post("/track/edit", url.Values{"_csrf": {tok}, "code": {again.TrackingCode}, "title": {"新标题：补充位置"}, "body": {edit["body"].(string)}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("edit form: %s", res)
	}
	if after := c.get(res.header.Get(fiber.HeaderLocation)); !strings.Contains(after.body, "修改已提交，将重新审核") || !strings.Contains(after.body, "新标题：补充位置") {
		t.Errorf("page after editing:\n%s", after.body)
	}

	// The HTML page offers to withdraw a pending idea, with CSRF.
	third := f.submit(f.visitor, ideaBody("xianshen"))
	page := c.get("/track?code=" + url.QueryEscape(strings.ToLower(third.TrackingCode)))
	if page.status != fiber.StatusOK || !strings.Contains(page.body, "撤回这条建议") || !strings.Contains(page.body, "待审核") {
		t.Fatalf("track page of a pending idea:\n%s", page)
	}
	if res := c.post("/track/withdraw", url.Values{"code": {third.TrackingCode}}); res.status != fiber.StatusForbidden {
		t.Errorf("withdraw without csrf: %s", res)
	}
	res = c.post("/track/withdraw", url.Values{"_csrf": {csrfFrom(t, page.body)}, "code": {third.TrackingCode}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("withdraw form: %s", res)
	}
	after := c.get(res.header.Get(fiber.HeaderLocation))
	for _, want := range []string{"已撤回", "建议已撤回", third.TrackingCode} {
		if !strings.Contains(after.body, want) {
			t.Errorf("page after withdrawing lacks %q", want)
		}
	}
	if strings.Contains(after.body, "撤回这条建议") {
		t.Error("a withdrawn idea still offers to withdraw")
	}
	if page := c.get("/track?code=" + published.TrackingCode); strings.Contains(page.body, "撤回这条建议") || !strings.Contains(page.body, "已公开") {
		t.Errorf("track page of a published idea:\n%s", page.body)
	}
}

func TestTrackingIsRateLimited(t *testing.T) {
	f := newIdeasFixture(t, testOptions{TrackLimit: 3})
	for i := 1; i <= 3; i++ {
		f.wantProblem(f.visitor.get("/api/v1/track/JDZ-0000-000"+fmt.Sprint(i)), fiber.StatusNotFound, "not_found")
	}
	f.wantProblem(f.visitor.get("/api/v1/track/JDZ-0000-0004"), fiber.StatusTooManyRequests, "rate_limited")
	if res := f.visitor.get("/track?code=JDZ-0000-0005"); res.status != fiber.StatusTooManyRequests || !strings.Contains(res.body, "查询过于频繁") {
		t.Errorf("HTML lookup after the limit: %s", res)
	}
}

// listJSON is the body of GET /api/v1/ideas.
type listJSON struct {
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Ideas   []struct {
		ID       int64  `json:"id"`
		Title    string `json:"title"`
		Supports int    `json:"supports"`
	} `json:"ideas"`
}

func (f *ideasFixture) list(query string) listJSON {
	f.t.Helper()
	res := f.visitor.get("/api/v1/ideas?" + query)
	var l listJSON
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &l) != nil {
		f.t.Fatalf("list %s: %s", query, res)
	}
	return l
}

func TestPublicCampaignPagesAndLists(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("fenye", store.PolicyPre, nil)

	// Five ideas a moderator published (three on 城市管理, two on 交通出行)
	// and one still pending.
	var ids []int64
	titles := []string{"第一条：人行道占道经营", "第二条：夜市油烟扰民", "第三条：共享单车乱停车", "第四条：公交线路调整", "第五条：地铁站口接驳"}
	for i, title := range titles {
		b := ideaBody("fenye")
		b["title"] = title
		if i >= 3 {
			b["theme"] = "交通出行"
		}
		r := f.submit(f.visitor, b)
		f.publish(r.ID)
		ids = append(ids, r.ID)
	}
	hb := ideaBody("fenye")
	hb["title"] = "尚未审核的建议标题"
	hidden := f.submit(f.visitor, hb)

	// Supports: the second idea 2, the fourth 1.
	for _, s := range []struct {
		idea  int64
		times int
	}{{ids[1], 2}, {ids[3], 1}} {
		for i := 0; i < s.times; i++ {
			r := f.bearer("jumin", store.RoleResident)
			if res := f.json(r, http.MethodPost, fmt.Sprintf("/api/v1/ideas/%d/support", s.idea), nil, nil); res.status != fiber.StatusOK {
				t.Fatalf("support: %s", res)
			}
		}
	}

	page := f.visitor.get("/campaigns/fenye")
	if page.status != fiber.StatusOK {
		t.Fatalf("campaign page: %s", page)
	}
	for _, want := range []string{`城市管理</a> <span class="count">（3）</span>`, `交通出行</a> <span class="count">（2）</span>`,
		"先审后发", "一等奖、二等奖", "我要提建议"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
	for _, title := range titles {
		if !strings.Contains(page.body, title) {
			t.Errorf("campaign page lacks published %q", title)
		}
	}
	if strings.Contains(page.body, hb["title"].(string)) {
		t.Error("campaign page shows a pending idea")
	}
	var camp campaignView
	if res := f.visitor.get("/api/v1/campaigns/fenye"); json.Unmarshal([]byte(res.body), &camp) != nil || len(camp.Themes) != 2 ||
		camp.Themes[0].Ideas != 3 || camp.Themes[1].Ideas != 2 || !camp.Open {
		t.Errorf("campaign API: %s", res.body)
	}

	// Sorting.
	newest := f.list("campaign=fenye")
	if newest.Total != 5 || len(newest.Ideas) != 5 || newest.Ideas[0].ID != ids[4] || newest.Ideas[4].ID != ids[0] {
		t.Errorf("newest first: %+v", newest)
	}
	for _, i := range newest.Ideas {
		if i.ID == hidden.ID {
			t.Error("the API lists a pending idea")
		}
	}
	sup := f.list("campaign=fenye&sort=supported")
	if sup.Ideas[0].ID != ids[1] || sup.Ideas[0].Supports != 2 || sup.Ideas[1].ID != ids[3] || sup.Ideas[1].Supports != 1 {
		t.Errorf("most supported first: %+v", sup.Ideas)
	}
	sp := f.visitor.get("/campaigns/fenye?sort=supported")
	if i, j := strings.Index(sp.body, titles[1]), strings.Index(sp.body, titles[3]); i < 0 || j < 0 || i > j || j > strings.Index(sp.body, titles[4]) {
		t.Error("campaign page sorted by supports is out of order")
	}
	if !strings.Contains(sp.body, "<strong>附议最多</strong>") {
		t.Error("campaign page does not mark the current sort")
	}
	f.wantProblem(f.visitor.get("/api/v1/ideas?campaign=fenye&sort=created_at"), fiber.StatusBadRequest, "invalid_sort")
	if res := f.visitor.get("/campaigns/fenye?sort=id;DROP"); res.status != fiber.StatusBadRequest || !strings.Contains(res.body, "排序方式只能是") {
		t.Errorf("HTML with an invalid sort: %s", res)
	}
	f.wantProblem(f.visitor.get("/api/v1/ideas?campaign=fenye&per_page=0"), fiber.StatusBadRequest, "invalid_page")
	f.wantProblem(f.visitor.get("/api/v1/ideas?campaign=fenye&theme=不存在"), fiber.StatusNotFound, "unknown_theme")
	if l := f.list("campaign=fenye&theme=" + url.QueryEscape("交通出行")); l.Total != 2 {
		t.Errorf("theme filter: %+v", l)
	}

	// Paging: 5 ideas, 2 a page.
	for n, want := range map[int]int{1: 2, 2: 2, 3: 1, 4: 0} {
		l := f.list(fmt.Sprintf("campaign=fenye&per_page=2&page=%d", n))
		if l.Total != 5 || l.Page != n || l.PerPage != 2 || len(l.Ideas) != want {
			t.Errorf("page %d: total %d page %d per_page %d, %d ideas; want %d", n, l.Total, l.Page, l.PerPage, len(l.Ideas), want)
		}
	}
	p1 := f.visitor.get("/campaigns/fenye?per_page=2")
	if !strings.Contains(p1.body, "第 1 页，共 3 页（5 条）") {
		t.Errorf("page 1 lacks the pager:\n%s", p1.body)
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">下一页</a>`).FindStringSubmatch(p1.body)
	if next == nil {
		t.Fatal("page 1 has no 下一页 link")
	}
	p2 := f.visitor.get(html.UnescapeString(next[1]))
	if !strings.Contains(p2.body, "第 2 页，共 3 页（5 条）") || !strings.Contains(p2.body, titles[2]) || strings.Contains(p2.body, titles[4]) {
		t.Errorf("following 下一页 (%s) does not show page 2 of 2 ideas:\n%s", next[1], p2.body)
	}
	if !strings.Contains(p2.body, `rel="prev">上一页</a>`) {
		t.Error("page 2 has no 上一页 link")
	}

	// A pending idea is not found; a public one shows no contact details
	// and only province and city.
	f.wantProblem(f.visitor.get(fmt.Sprintf("/api/v1/ideas/%d", hidden.ID)), fiber.StatusNotFound, "not_found")
	if res := f.visitor.get(fmt.Sprintf("/ideas/%d", hidden.ID)); res.status != fiber.StatusNotFound || strings.Contains(res.body, hb["title"].(string)) {
		t.Errorf("HTML page of a pending idea: %d", res.status)
	}
	v := f.getIdea(ids[0])
	if v.Idea.Region != "浙江省 杭州市" || v.Idea.Author != "张伟" || v.Idea.Theme != "城市管理" {
		t.Errorf("public idea: %+v", v.Idea)
	}
	for _, target := range []string{fmt.Sprintf("/api/v1/ideas/%d", ids[0]), fmt.Sprintf("/ideas/%d", ids[0]),
		"/api/v1/ideas?campaign=fenye", "/campaigns/fenye", "/api/v1/campaigns/fenye"} {
		res := f.visitor.get(target)
		if res.status != fiber.StatusOK {
			t.Errorf("GET %s: %d", target, res.status)
		}
		for _, secret := range []string{testPhone, "1234-5678", testEmail, "zhang.wei"} {
			if strings.Contains(res.body, secret) {
				t.Errorf("GET %s reveals %q", target, secret)
			}
		}
	}
	if res := f.visitor.get(fmt.Sprintf("/ideas/%d", ids[0])); !strings.Contains(res.body, "浙江省 杭州市 · 张伟") {
		t.Errorf("idea page region and author:\n%s", res.body)
	}
}

func TestSupportsAndComments(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("jiedao", store.PolicyPost, nil)
	idea := f.submit(f.visitor, ideaBody("jiedao"))
	supportURL := fmt.Sprintf("/api/v1/ideas/%d/support", idea.ID)
	resident := f.bearer("jumin", store.RoleResident)
	official := f.bearer("ganbu", store.RoleOfficial)

	supports := func(res *response) int {
		t.Helper()
		var v struct{ Supports int }
		if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &v) != nil {
			t.Fatalf("support: %s", res)
		}
		return v.Supports
	}
	if n := supports(f.json(resident, http.MethodPost, supportURL, nil, nil)); n != 1 {
		t.Errorf("after supporting: %d", n)
	}
	if n := supports(f.json(resident, http.MethodPost, supportURL, nil, nil)); n != 1 {
		t.Errorf("after supporting twice: %d", n)
	}
	if n := f.getIdea(idea.ID).Idea.Supports; n != 1 {
		t.Errorf("idea shows %d supports", n)
	}
	if n := supports(f.json(resident, http.MethodDelete, supportURL, nil, nil)); n != 0 {
		t.Errorf("after withdrawing: %d", n)
	}
	f.wantProblem(f.json(f.visitor, http.MethodPost, supportURL, nil, nil), fiber.StatusUnauthorized, "unauthorized")
	f.wantProblem(f.json(official, http.MethodPost, supportURL, nil, nil), fiber.StatusForbidden, "residents_only")
	f.wantProblem(f.json(resident, http.MethodPost, "/api/v1/ideas/999999/support", nil, nil), fiber.StatusNotFound, "not_found")

	// Comments and one level of replies.
	commentsURL := fmt.Sprintf("/api/v1/ideas/%d/comments", idea.ID)
	const evil = `<img src=x onerror=alert(1)>好主意，支持！`
	comment := func(c *client, body any) (int64, *response) {
		t.Helper()
		res := f.json(c, http.MethodPost, commentsURL, body, nil)
		var v struct {
			ID     int64
			Status string
		}
		_ = json.Unmarshal([]byte(res.body), &v)
		return v.ID, res
	}
	top, res := comment(resident, map[string]any{"body": evil})
	if res.status != fiber.StatusCreated || top == 0 || !strings.Contains(res.body, `"status":"published"`) {
		t.Fatalf("comment: %s", res)
	}
	reply, res := comment(resident, map[string]any{"body": "同意楼上的意见", "parent": top})
	if res.status != fiber.StatusCreated || reply == 0 {
		t.Fatalf("reply: %s", res)
	}
	_, res = comment(resident, map[string]any{"body": "回复的回复", "parent": reply})
	f.wantProblem(res, fiber.StatusUnprocessableEntity, "invalid_parent")
	_, res = comment(resident, map[string]any{"body": "  "})
	f.wantFieldProblem(res, fiber.StatusUnprocessableEntity, "comment_empty")
	_, res = comment(f.visitor, map[string]any{"body": "访客评论"})
	f.wantProblem(res, fiber.StatusUnauthorized, "unauthorized")

	v := f.getIdea(idea.ID)
	if len(v.Comments) != 1 || v.Comments[0].Body != evil || len(v.Comments[0].Replies) != 1 || v.Comments[0].Replies[0].Body != "同意楼上的意见" {
		t.Errorf("threaded comments: %+v", v.Comments)
	}
	page := f.visitor.get(fmt.Sprintf("/ideas/%d", idea.ID))
	if !strings.Contains(page.body, "&lt;img src=x onerror=alert(1)&gt;好主意") || strings.Contains(page.body, "<img src=x") {
		t.Errorf("comment not escaped on the idea page:\n%s", page.body)
	}
	if !strings.Contains(page.body, "同意楼上的意见") {
		t.Error("idea page lacks the comment thread")
	}

	// The same through the HTML forms of a signed-in resident.
	browser := f.client(t)
	f.createUser(t, "liulaoshi", store.RoleResident, "")
	browser.mustLogin("liulaoshi")
	ideaPage := fmt.Sprintf("/ideas/%d", idea.ID)
	tok := browser.csrf(ideaPage)
	if res := browser.post(ideaPage+"/support", url.Values{}); res.status != fiber.StatusForbidden {
		t.Errorf("support form without csrf: %s", res)
	}
	res = browser.post(ideaPage+"/support", url.Values{"_csrf": {tok}})
	if res.status != fiber.StatusSeeOther || !strings.HasPrefix(res.header.Get(fiber.HeaderLocation), ideaPage+"?notice=supported") {
		t.Fatalf("support form: %s", res)
	}
	after := browser.get(res.header.Get(fiber.HeaderLocation))
	for _, want := range []string{"取消附议", "已附议，感谢您的支持", `<strong class="big">1</strong>`} {
		if !strings.Contains(after.body, want) {
			t.Errorf("page after supporting lacks %q", want)
		}
	}
	res = browser.post(ideaPage+"/unsupport", url.Values{"_csrf": {tok}})
	if after := browser.get(res.header.Get(fiber.HeaderLocation)); !strings.Contains(after.body, "我也支持（附议）") || !strings.Contains(after.body, "已取消附议") {
		t.Errorf("page after withdrawing the support:\n%s", after.body)
	}
	res = browser.post(ideaPage+"/comments", url.Values{"_csrf": {tok}, "body": {"<b>网页评论</b>"}, "parent": {fmt.Sprint(top)}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("comment form: %s", res)
	}
	if after := browser.get(res.header.Get(fiber.HeaderLocation)); !strings.Contains(after.body, "&lt;b&gt;网页评论&lt;/b&gt;") || !strings.Contains(after.body, "评论已发表") {
		t.Errorf("page after commenting:\n%s", after.body)
	}
	res = browser.post(ideaPage+"/comments", url.Values{"_csrf": {tok}, "body": {"回复的回复"}, "parent": {fmt.Sprint(reply)}})
	if res.status != fiber.StatusUnprocessableEntity || !strings.Contains(res.body, "只能回复该建议下的一级评论") || !strings.Contains(res.body, "回复的回复") {
		t.Errorf("reply to a reply through the form: %d", res.status)
	}
	// A visitor is sent to sign in.
	if res := f.visitor.post(ideaPage+"/support", url.Values{}); res.status != fiber.StatusForbidden && res.status != fiber.StatusSeeOther {
		t.Errorf("visitor support form: %s", res)
	}
}

func TestMyIdeas(t *testing.T) {
	f := newIdeasFixture(t, testOptions{})
	f.campaign("xianshen", store.PolicyPre, nil)
	f.createUser(t, "wanglaoshi", store.RoleResident, "")
	c := f.client(t)
	c.mustLogin("wanglaoshi")

	tok := c.csrf("/campaigns/xianshen/submit")
	b := ideaBody("xianshen")
	b["title"] = "王老师的建议：校门口接送秩序"
	form := formValues(b)
	form.Set("_csrf", tok)
	res := f.multipart(c, "/campaigns/xianshen/submit", form, nil, nil)
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("submit: %s", res)
	}
	code := strings.TrimPrefix(res.header.Get(fiber.HeaderLocation), "/track?new=1&code=")
	// Someone else's idea is not listed.
	other := ideaBody("xianshen")
	other["title"] = "别人的建议不应出现"
	f.submit(f.visitor, other)

	my := c.get("/my")
	if my.status != fiber.StatusOK {
		t.Fatalf("/my: %s", my)
	}
	for _, want := range []string{b["title"].(string), code, "待审核", `href="/track?code=` + code + `"`} {
		if !strings.Contains(my.body, want) {
			t.Errorf("/my lacks %q:\n%s", want, my.body)
		}
	}
	if strings.Contains(my.body, "别人的建议不应出现") {
		t.Error("/my lists another person's idea")
	}
	res = f.visitor.get("/my")
	if res.status != fiber.StatusSeeOther || res.header.Get(fiber.HeaderLocation) != "/login?next=%2Fmy" {
		t.Errorf("visitor /my: %d %q", res.status, res.header.Get(fiber.HeaderLocation))
	}
}
