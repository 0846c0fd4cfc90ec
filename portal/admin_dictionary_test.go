package portal

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/store"
	"jindianzi/search/searchtest"
)

// recordingReindexer counts the rebuilds asked for. It stands in for the
// server's background rebuilds (cmd/jindianzi tests those on a real index);
// the store and the segmenter in these tests are real.
type recordingReindexer struct {
	mu    sync.Mutex
	calls int
	state ReindexState
}

func (r *recordingReindexer) Reindex() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
}

func (r *recordingReindexer) ReindexState() ReindexState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *recordingReindexer) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// newDictionaryEnv is a portal with an admin, a moderator and a resident,
// whose dictionary rebuilds are recorded by rx (nil: no Reindexer).
func newDictionaryEnv(t *testing.T, rx Reindexer) *testEnv {
	t.Helper()
	e := newTestApp(t, testOptions{})
	e.h.cfg.Reindexer = rx
	e.createUser(t, "dict-admin", store.RoleAdmin, "")
	e.createUser(t, "dict-mod", store.RoleModerator, "")
	e.createUser(t, "dict-resident", store.RoleResident, "")
	return e
}

// TestAdminDictionaryHTML: an admin adds words through the form; they are
// stored, cut whole at once, listed with who added them, and a rebuild is
// asked for; words already there are reported, not added, and ask for none.
func TestAdminDictionaryHTML(t *testing.T) {
	rx := &recordingReindexer{}
	e := newDictionaryEnv(t, rx)
	seg := e.index.Segmenter()
	c := e.client(t)
	c.mustLogin("dict-admin")

	res := c.get("/admin/dictionary")
	if res.status != fiber.StatusOK {
		t.Fatalf("GET /admin/dictionary: %s", res)
	}
	for _, want := range []string{`<label for="words">`, `<textarea id="words" name="words"`, "还没有管理员添加的词语", `href="/admin/dictionary"`, "索引状态：本次启动以来未重建"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	park, circle := searchtest.MadeUpWord("葫芦岛湾区口袋公园"), searchtest.MadeUpWord("金沙滩便民生活圈")
	sentence := "建议" + park + "增加座椅"
	if slices.Contains(seg.Cut(sentence), park) {
		t.Fatalf("%q is cut whole before it was added: %q", park, seg.Cut(sentence))
	}
	tok := csrfFrom(t, res.body)
	// One per line, or separated by spaces and commas; full-width letters
	// are folded; a repeated word counts once.
	res = c.post("/admin/dictionary", url.Values{"_csrf": {tok}, "words": {park + "\r\n" + circle + "，金点子 " + park}})
	if res.status != fiber.StatusSeeOther || res.header.Get("Location") != "/admin/dictionary" {
		t.Fatalf("POST /admin/dictionary: %s", res)
	}
	if !seg.HasWord(park) || !seg.HasWord(circle) {
		t.Errorf("the segmenter lacks the new words")
	}
	if cut := seg.Cut(sentence); !slices.Contains(cut, park) {
		t.Errorf("after adding, %q is not cut whole: %q", park, cut)
	}
	if n := rx.count(); n != 1 {
		t.Errorf("%d rebuilds asked for, want 1", n)
	}
	terms, err := e.store.DictionaryTerms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != 2 {
		t.Errorf("stored %+v, want the two new words (金点子 is a civic term)", terms)
	}

	res = c.get("/admin/dictionary")
	body := html.UnescapeString(res.body)
	for _, want := range []string{"已添加 2 个词语：" + park + "、" + circle, "1 个词语已在词典中，无需添加：金点子", "dict-admin", park} {
		if !strings.Contains(body, want) {
			t.Errorf("page after adding lacks %q:\n%s", want, body)
		}
	}
	if strings.Index(body, circle) > strings.LastIndex(body, park) {
		t.Errorf("the list is not newest first")
	}

	// The same words again: nothing new, no rebuild.
	res = c.post("/admin/dictionary", url.Values{"_csrf": {tok}, "words": {circle}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("POST again: %s", res)
	}
	if n := rx.count(); n != 1 {
		t.Errorf("%d rebuilds asked for after adding nothing new, want 1", n)
	}
	if body := c.get("/admin/dictionary").body; !strings.Contains(body, "1 个词语已在词典中") || strings.Contains(body, "已添加") {
		t.Errorf("notice after adding an existing word:\n%s", body)
	}
}

// TestAdminDictionaryBadInput: a faulty submission adds nothing and shows
// the form again with what was typed and a Chinese message per problem.
func TestAdminDictionaryBadInput(t *testing.T) {
	rx := &recordingReindexer{}
	e := newDictionaryEnv(t, rx)
	c := e.client(t)
	c.mustLogin("dict-admin")
	tok := c.csrf("/admin/dictionary")
	good := searchtest.MadeUpWord("海棠湾区口袋公园")
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "  \n ，", []string{"请至少填写一个词语"}},
		{"too long", good + "\n这是一个远远超过二十个字的非常非常长的不像词语的句子", []string{"超过 20 个字"}},
		{"punctuation only", "！！？", []string{"“！！？”只有标点、符号或数字"}},
		{"digits only", "12345", []string{"“12345”只有标点、符号或数字"}},
		{"single character", "园", []string{"“园”只有一个字"}},
		{"punctuation inside", "口袋公园！", []string{"“口袋公园！”含有标点或符号“!”"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.post("/admin/dictionary", url.Values{"_csrf": {tok}, "words": {tc.text}})
			if res.status != fiber.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", res.status, res.body)
			}
			body := html.UnescapeString(res.body)
			for _, want := range append(tc.want, "提交未成功", `aria-invalid="true"`) {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if !strings.Contains(body, `aria-invalid="true">`+tc.text+"</textarea>") {
				t.Errorf("the textarea lost what was typed (%q):\n%s", tc.text, body)
			}
		})
	}
	if terms, _ := e.store.DictionaryTerms(context.Background()); len(terms) != 0 || rx.count() != 0 {
		t.Errorf("bad input stored %+v and asked for %d rebuilds", terms, rx.count())
	}
	if e.index.Segmenter().HasWord(good) {
		t.Errorf("the valid word of a rejected submission reached the segmenter")
	}
}

// TestAdminDictionaryAccess: only admins see the page and the link to it.
func TestAdminDictionaryAccess(t *testing.T) {
	e := newDictionaryEnv(t, &recordingReindexer{})
	visitor := e.client(t)
	if res := visitor.get("/admin/dictionary"); res.status != fiber.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Errorf("visitor GET: %s", res)
	}
	for _, name := range []string{"dict-mod", "dict-resident"} {
		c := e.client(t)
		c.mustLogin(name)
		home := c.get("/")
		if strings.Contains(home.body, `href="/admin/dictionary"`) {
			t.Errorf("%s sees the link to the dictionary page", name)
		}
		if res := c.get("/admin/dictionary"); res.status != fiber.StatusForbidden {
			t.Errorf("%s GET: %d", name, res.status)
		}
		tok := csrfFrom(t, home.body)
		if res := c.post("/admin/dictionary", url.Values{"_csrf": {tok}, "words": {searchtest.MadeUpWord("禁止添加词")}}); res.status != fiber.StatusForbidden {
			t.Errorf("%s POST: %d", name, res.status)
		}
	}
	if terms, _ := e.store.DictionaryTerms(context.Background()); len(terms) != 0 {
		t.Errorf("non-admins stored %+v", terms)
	}
}

// TestAdminDictionaryReindexState: the page tells whether old ideas are
// being re-cut, and what to do when the server does not rebuild by itself.
func TestAdminDictionaryReindexState(t *testing.T) {
	rx := &recordingReindexer{state: ReindexState{Running: true, Queued: true}}
	e := newDictionaryEnv(t, rx)
	c := e.client(t)
	c.mustLogin("dict-admin")
	if body := c.get("/admin/dictionary").body; !strings.Contains(body, "正在后台重建，完成后将再重建一次") {
		t.Errorf("running state not shown:\n%s", body)
	}

	e = newDictionaryEnv(t, nil)
	c = e.client(t)
	c.mustLogin("dict-admin")
	res := c.get("/admin/dictionary")
	if !strings.Contains(res.body, "jindianzi reindex") {
		t.Errorf("without a Reindexer the page does not say to reindex:\n%s", res.body)
	}
	res = c.post("/admin/dictionary", url.Values{"_csrf": {csrfFrom(t, res.body)}, "words": {searchtest.MadeUpWord("无重建词")}})
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("POST: %s", res)
	}
	if body := html.UnescapeString(c.get("/admin/dictionary").body); !strings.Contains(body, "需运行 jindianzi reindex") {
		t.Errorf("notice without a Reindexer:\n%s", body)
	}
}

// dictionaryAPI sends a JSON request to /api/v1/admin/dictionary.
func dictionaryAPI(t *testing.T, e *testEnv, method, token, body string) *response {
	t.Helper()
	req := httptest.NewRequest(method, "/api/v1/admin/dictionary", strings.NewReader(body))
	req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if token != "" {
		req.Header.Set(fiber.HeaderAuthorization, "Bearer "+token)
	}
	return send(t, e.app, req)
}

// TestAdminDictionaryAPI: admins list and add words with a token; bad
// input is a 400 with a code and a Chinese message; others are refused.
func TestAdminDictionaryAPI(t *testing.T) {
	rx := &recordingReindexer{}
	e := newDictionaryEnv(t, rx)
	ctx := context.Background()
	admin, err := e.store.UserByName(ctx, "dict-admin")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := e.store.UserByName(ctx, "dict-mod")
	if err != nil {
		t.Fatal(err)
	}
	adminTok, modTok := e.createToken(t, admin, nil), e.createToken(t, mod, nil)

	word := searchtest.MadeUpWord("鲅鱼圈滨海步道")
	trad := searchtest.MadeUpWord("臺灣大道口袋公園")
	res := dictionaryAPI(t, e, http.MethodPost, adminTok, `{"words":["`+word+`","金点子","`+trad+`","`+word+`"]}`)
	if res.status != fiber.StatusOK {
		t.Fatalf("POST: %s", res)
	}
	var out struct {
		Added    []string `json:"added"`
		Existing []string `json:"existing"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatal(err)
	}
	folded := strings.NewReplacer("臺", "台", "灣", "湾", "園", "园").Replace(trad)
	if !slices.Equal(out.Added, []string{word, folded}) || !slices.Equal(out.Existing, []string{"金点子"}) {
		t.Errorf("POST answered %+v", out)
	}
	if !e.index.Segmenter().HasWord(word) || rx.count() != 1 {
		t.Errorf("segmenter has %q: %v; rebuilds asked for: %d", word, e.index.Segmenter().HasWord(word), rx.count())
	}
	res = dictionaryAPI(t, e, http.MethodPost, adminTok, `{"words":["`+word+`"]}`)
	if !strings.Contains(res.body, `"added":[]`) || !strings.Contains(res.body, `"existing":["`+word+`"]`) || rx.count() != 1 {
		t.Errorf("adding an existing word: %s (rebuilds %d)", res, rx.count())
	}

	res = dictionaryAPI(t, e, http.MethodGet, adminTok, "")
	var list struct {
		Words []struct {
			Word    string `json:"word"`
			AddedBy string `json:"added_by"`
			AddedAt string `json:"added_at"`
		} `json:"words"`
		Reindex *ReindexState `json:"reindex"`
	}
	if err := json.Unmarshal([]byte(res.body), &list); err != nil || res.status != fiber.StatusOK {
		t.Fatalf("GET: %s (%v)", res, err)
	}
	if len(list.Words) != 2 || list.Words[0].Word != folded || list.Words[1].AddedBy != "dict-admin" || list.Words[1].AddedAt == "" || list.Reindex == nil {
		t.Errorf("GET answered %s", res.body)
	}

	for _, tc := range []struct{ name, body, code string }{
		{"not json", `words=口袋公园`, "invalid_json"},
		{"wrong type", `{"words":"口袋公园"}`, "invalid_json"},
		{"empty", `{"words":[]}`, "empty"},
		{"no words", `{}`, "empty"},
		{"inner space", `{"words":["口袋 公园"]}`, "inner_space"},
		{"too long", `{"words":["一二三四五六七八九十一二三四五六七八九十一"]}`, "too_long"},
		{"punctuation", `{"words":["……"]}`, "no_letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := dictionaryAPI(t, e, http.MethodPost, adminTok, tc.body)
			code, msg := errorJSON(t, res)
			if res.status != fiber.StatusBadRequest || code != tc.code || msg == "" {
				t.Errorf("status %d, code %q (want 400 %q), message %q", res.status, code, tc.code, msg)
			}
		})
	}
	if rx.count() != 1 {
		t.Errorf("bad input asked for rebuilds")
	}

	// Authorisation.
	if res := dictionaryAPI(t, e, http.MethodGet, "", ""); res.status != fiber.StatusUnauthorized {
		t.Errorf("GET without a token: %d", res.status)
	}
	if res := dictionaryAPI(t, e, http.MethodPost, "", `{"words":["未登录词语"]}`); res.status != fiber.StatusUnauthorized {
		t.Errorf("POST without a token: %d", res.status)
	}
	if res := dictionaryAPI(t, e, http.MethodGet, modTok, ""); res.status != fiber.StatusForbidden {
		t.Errorf("GET as a moderator: %d", res.status)
	}
	if res := dictionaryAPI(t, e, http.MethodPost, modTok, `{"words":["审核员词语"]}`); res.status != fiber.StatusForbidden {
		t.Errorf("POST as a moderator: %d", res.status)
	}
	// A browser session must send the CSRF token on writes.
	c := e.client(t)
	c.mustLogin("dict-admin")
	body := `{"words":["` + searchtest.MadeUpWord("会话添加词") + `"]}`
	req := httptest.NewRequest(http.MethodPost, "/api/v1/admin/dictionary", strings.NewReader(body))
	req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if res := c.send(req, nil); res.status != fiber.StatusForbidden {
		t.Errorf("session POST without a CSRF token: %d", res.status)
	}
	tok := c.csrf("/admin/dictionary")
	req = httptest.NewRequest(http.MethodPost, "/api/v1/admin/dictionary", strings.NewReader(body))
	req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if res := c.send(req, http.Header{"X-Csrf-Token": {tok}}); res.status != fiber.StatusOK {
		t.Errorf("session POST with a CSRF token: %s", res)
	}
}

// TestAdminDictionaryCleanWords: folding, deduplication and the limits.
func TestAdminDictionaryCleanWords(t *testing.T) {
	words, errs := cleanDictionaryWords(splitDictionaryText("臺灣大道\nＡＢＣ公园、阿卜杜·热合曼；5G基站 台湾大道"))
	if !errs.Empty() || !slices.Equal(words, []string{"台湾大道", "abc公园", "阿卜杜·热合曼", "5g基站"}) {
		t.Errorf("got %q, %v", words, errs)
	}
	many := make([]string, maxDictionaryWords+1)
	for i := range many {
		many[i] = "词语" + strconv.Itoa(i)
	}
	if _, errs := cleanDictionaryWords(many); errs.Code() != "too_many" {
		t.Errorf("%d words: %v", len(many), errs)
	}
	if _, errs := cleanDictionaryWords([]string{"好词", "a\x00b"}); errs.Code() != "control_characters" {
		t.Errorf("control character: %v", errs)
	}
}
