package ideas_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
	"unicode"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// cst is China Standard Time, the zone residents' calendar days are in.
var cst = time.FixedZone("CST", 8*3600)

// env is one test's world: a real store, a real attachment directory and a
// service whose clock the test sets.
type env struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	dir string
	now time.Time
	svc *ideas.Service
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	dir := t.TempDir()
	files, err := attachment.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), st: st, dir: dir,
		now: time.Date(2025, 6, 15, 10, 0, 0, 0, cst)}
	e.svc = &ideas.Service{Store: st, Moderation: moderation.PolicyOnly{}, Themes: ideas.KeywordSuggester{},
		Attachments: files, Now: func() time.Time { return e.now }}
	return e
}

// campaign creates a campaign through campaign.Create with three themes;
// change adjusts the input first.
func (e *env) campaign(slug, policy string, change func(*campaign.Input)) *store.Campaign {
	e.t.Helper()
	in := campaign.Input{
		Slug: slug, Title: "城市建设金点子征集", Policy: policy,
		Themes: []campaign.ThemeInput{
			{Name: "交通出行", Keywords: []string{"公交", "地铁", "停车"}},
			{Name: "环境保护", Keywords: []string{"垃圾", "绿化", "噪音"}},
			{Name: "教育文体", Keywords: []string{"学校", "图书馆"}},
		},
	}
	if change != nil {
		change(&in)
	}
	c, err := campaign.Create(e.ctx, e.st, in, store.Actor{Name: "test"})
	if err != nil {
		e.t.Fatalf("create campaign %s: %v", slug, err)
	}
	return c
}

func (e *env) user(name string, role store.Role) *store.User {
	e.t.Helper()
	nu := store.NewUser{Name: name, DisplayName: name + "的昵称", Role: role}
	if role == store.RoleOfficial {
		nu.Department = "交通运输局"
	}
	u, err := e.st.CreateUser(e.ctx, nu)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// submit files a valid idea and fails the test if that does not work.
func (e *env) submit(sub ideas.Submission, meta ideas.Meta, files ...attachment.Upload) ideas.Receipt {
	e.t.Helper()
	r, err := e.svc.Submit(e.ctx, sub, files, meta)
	if err != nil {
		e.t.Fatalf("submit %q: %v", sub.Title, err)
	}
	return r
}

func (e *env) idea(id int64) *store.Idea {
	e.t.Helper()
	i, err := e.st.IdeaByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return i
}

// countIdeas counts every idea in the database, or a campaign's when id != 0.
func (e *env) countIdeas(campaignID int64) int64 {
	e.t.Helper()
	_, n, err := e.st.Ideas(e.ctx, store.IdeaFilter{CampaignID: campaignID})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// storedFiles lists the regular files in the attachment directory.
func (e *env) storedFiles() []string {
	e.t.Helper()
	var out []string
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// assertNothingWritten checks that no idea exists and no file is stored.
func (e *env) assertNothingWritten(wantIdeas int64) {
	e.t.Helper()
	if n := e.countIdeas(0); n != wantIdeas {
		e.t.Errorf("ideas in the database: %d, want %d", n, wantIdeas)
	}
	if fs := e.storedFiles(); len(fs) != 0 {
		e.t.Errorf("attachment directory holds %v, want nothing", fs)
	}
}

// validSubmission is a submission that passes every check.
func validSubmission(slug string) ideas.Submission {
	return ideas.Submission{
		Campaign: slug, Theme: "交通出行",
		Title:        "建议增加早高峰公交班次",
		Body:         "早上七点到九点公交车非常拥挤，很多人挤不上车，建议在主要线路上增加班次，缩短发车间隔。",
		ProvinceCode: "330000", CityCode: "330100",
		DisplayName: "张先生", Phone: "13800138000", Consent: true,
	}
}

func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := 0; x < 16; x++ {
		for y := 0; y < 12; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 15), uint8(y * 20), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := 0; x < 16; x++ {
		for y := 0; y < 12; y++ {
			img.Set(x, y, color.RGBA{200, uint8(x * 10), uint8(y * 10), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// exeAsJPEG is a Windows executable's start under an image's name.
func exeAsJPEG() attachment.Upload {
	data := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 240)...)
	copy(data[64:], "PE\x00\x00")
	return attachment.Upload{Name: "photo.jpg", Data: data}
}

// fieldCode returns the input.Errors in err, failing the test if there is none.
func inputErrors(t *testing.T, err error) *input.Errors {
	t.Helper()
	var ie *input.Errors
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want *input.Errors", err, err)
	}
	return ie
}

// assertFieldError checks that err is an input.Errors with the code on the
// field and a Chinese message.
func assertFieldError(t *testing.T, err error, field, code string) {
	t.Helper()
	ie := inputErrors(t, err)
	for _, f := range ie.Fields {
		if f.Field == field && f.Code == code {
			if !hasHan(f.Message) {
				t.Errorf("%s/%s: message %q is not a Chinese sentence", field, code, f.Message)
			}
			return
		}
	}
	t.Errorf("errors %+v, want %s on %s", ie.Fields, code, field)
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// assertProblem checks that err is the given *ideas.Problem (or one with its code).
func assertProblem(t *testing.T, err error, want *ideas.Problem) {
	t.Helper()
	var p *ideas.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T), want problem %s", err, err, want.Code)
	}
	if p.Code != want.Code || p.Status != want.Status || !hasHan(p.Message) {
		t.Errorf("problem %+v, want code %s status %d with a Chinese message", p, want.Code, want.Status)
	}
}
