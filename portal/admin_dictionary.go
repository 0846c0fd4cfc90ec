package portal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/input"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// The search dictionary is jieba's: the embedded dictionaries, the civic
// terms kept in the repository (search/dict) and the words admins add here.
// Added words are stored (dictionary_terms, the source of truth), put into
// this process's segmenter at once, and a rebuild of the index is asked for
// so that ideas indexed before are cut with them too. At start every command
// that analyses text adds the stored words before it opens the index, and a
// serving node picks up words added on another node within a minute (see
// cmd/jindianzi).

// Reindexer rebuilds the search index in the background, one rebuild at a
// time, while the current index keeps answering.
type Reindexer interface {
	// Reindex starts a rebuild or, when one is running, marks that one more
	// must follow it (however often it is called meanwhile): the running one
	// may have read ideas before the words changed.
	Reindex()
	// ReindexState says what the rebuilds are doing, for the admin page.
	ReindexState() ReindexState
}

// ReindexState is a snapshot of a Reindexer's background rebuilds.
type ReindexState struct {
	Running bool `json:"running"`
	// Queued is set when another rebuild will follow the running one.
	Queued bool `json:"queued"`
	// Finished is when the last rebuild ended; nil if none has since start.
	Finished *time.Time `json:"finished_at"`
	// Failed reports that the last rebuild did not complete (the server log
	// says why).
	Failed bool `json:"failed"`
}

// Limits on what an admin may add in one go.
const (
	maxDictionaryWordLen = 20  // characters per word
	maxDictionaryWords   = 200 // words per submission
)

// dictionarySeparators separate the words typed into the form (besides
// line breaks and spaces).
const dictionarySeparators = ",，、;；"

// splitDictionaryText splits the form's text into words: one per line, or
// separated by spaces or commas.
func splitDictionaryText(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(dictionarySeparators, r)
	})
}

// cleanDictionaryWords checks the words an admin wants to add and returns
// them folded the way the text they will be found in is (search.Fold:
// simplified, half-width, lower case), each once, in the order given. Blank
// entries are skipped; any problem rejects the whole submission, with one
// message per faulty word.
func cleanDictionaryWords(words []string) ([]string, *input.Errors) {
	var e input.Errors
	var out []string
	seen := map[string]bool{}
	for _, raw := range words {
		var one input.Errors
		w := one.Text("words", fmt.Sprintf("词语“%s”", shorten(raw)), raw, false)
		if !one.Empty() {
			e.Fields = append(e.Fields, one.Fields...)
			continue
		}
		if w == "" {
			continue
		}
		folded := strings.TrimSpace(search.Fold(w))
		if code, msg := dictionaryWordProblem(folded); code != "" {
			e.Add("words", code, fmt.Sprintf("“%s”%s", shorten(w), msg))
			continue
		}
		if !seen[folded] {
			seen[folded] = true
			out = append(out, folded)
		}
	}
	switch {
	case !e.Empty():
	case len(out) == 0:
		e.Add("words", "empty", "请至少填写一个词语")
	case len(out) > maxDictionaryWords:
		e.Add("words", "too_many", fmt.Sprintf("一次最多添加 %d 个词语，请分批提交", maxDictionaryWords))
	}
	return out, &e
}

// dictionaryWordProblem says what is wrong with one folded word, or "".
func dictionaryWordProblem(w string) (code, msg string) {
	n := input.Len(w)
	switch {
	case strings.ContainsFunc(w, unicode.IsSpace):
		return "inner_space", "中间有空格：一个词语不能含空格，多个词语请分行填写"
	case n > maxDictionaryWordLen:
		return "too_long", fmt.Sprintf("超过 %d 个字，不像一个词语", maxDictionaryWordLen)
	case !strings.ContainsFunc(w, unicode.IsLetter):
		return "no_letters", "只有标点、符号或数字，不是词语"
	case n < 2:
		return "too_short", "只有一个字，单字无需加入词典"
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) && !strings.ContainsRune("·・-", r) {
			return "punctuation", fmt.Sprintf("含有标点或符号“%c”，请去掉后再添加", r)
		}
	}
	return "", ""
}

// shorten cuts a word for a message to a length a message can carry.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxDictionaryWordLen {
		return s
	}
	return string([]rune(s)[:maxDictionaryWordLen]) + "…"
}

// dictionaryResult is what adding words to the search dictionary did.
type dictionaryResult struct {
	Added    []string `json:"added"`
	Existing []string `json:"existing"`
}

// addDictionaryWords stores the cleaned words the dictionary does not hold
// yet, adds them to seg at once (text indexed from now on is cut with them)
// and, when any was new, asks rx for a rebuild so the ideas indexed before
// are too. Words it holds already — the embedded civic terms and synonyms,
// or words an admin added before — are reported as existing, in the order
// given.
func addDictionaryWords(ctx context.Context, st *store.Store, seg *search.Segmenter, rx Reindexer, words []string, by store.Actor) (dictionaryResult, error) {
	res := dictionaryResult{Added: []string{}, Existing: []string{}}
	var fresh []string
	for _, w := range words {
		if !seg.HasWord(w) {
			fresh = append(fresh, w)
		}
	}
	if len(fresh) > 0 {
		added, err := st.AddDictionaryTerms(ctx, fresh, by)
		if errors.Is(err, store.ErrConflict) {
			// Another admin added one of the words at the same moment: once
			// more, and it counts as existing.
			added, err = st.AddDictionaryTerms(ctx, fresh, by)
		}
		if err != nil {
			return res, fmt.Errorf("portal: add dictionary words: %w", err)
		}
		res.Added = append(res.Added, added...)
	}
	isNew := make(map[string]bool, len(res.Added))
	for _, w := range res.Added {
		isNew[w] = true
	}
	for _, w := range words {
		if !isNew[w] {
			res.Existing = append(res.Existing, w)
		}
	}
	if len(res.Added) > 0 {
		seg.AddWords(res.Added)
		if rx != nil {
			rx.Reindex()
		}
	}
	return res, nil
}

// dictionaryNotice is the message shown after words were added.
func dictionaryNotice(res dictionaryResult, reindexing bool) string {
	var parts []string
	if len(res.Added) > 0 {
		s := fmt.Sprintf("已添加 %d 个词语：%s。新提交的内容立即按新词切分；", len(res.Added), listWords(res.Added))
		if reindexing {
			s += "已有的建议正在后台重建索引，完成后也按新词检索（重建期间搜索照常可用）。"
		} else {
			s += "已有的建议需运行 jindianzi reindex 重建索引后才按新词检索。"
		}
		parts = append(parts, s)
	}
	if len(res.Existing) > 0 {
		parts = append(parts, fmt.Sprintf("%d 个词语已在词典中，无需添加：%s。", len(res.Existing), listWords(res.Existing)))
	}
	return strings.Join(parts, "")
}

// listWords names up to ten words (the notice travels in a cookie).
func listWords(ws []string) string {
	if len(ws) <= 10 {
		return strings.Join(ws, "、")
	}
	return strings.Join(ws[:10], "、") + fmt.Sprintf(" 等 %d 个", len(ws))
}

// segmenter returns the segmenter the index analyses text with, the one
// dictionary words go into; nil without an index.
func (h *handler) segmenter() *search.Segmenter {
	if h.index == nil {
		return nil
	}
	return h.index.Segmenter()
}

// reindexState reports the background rebuilds, nil without a Reindexer.
func (h *handler) reindexState() *ReindexState {
	if h.cfg.Reindexer == nil {
		return nil
	}
	st := h.cfg.Reindexer.ReindexState()
	return &st
}

type dictionaryPage struct {
	Entries []store.DictionaryEntry
	Text    string
	Errors  *input.Errors
	Notice  string
	Reindex *ReindexState
	MaxLen  int
}

// dictionaryHTML is GET /admin/dictionary: the words admins added to the
// search dictionary, and the form to add more.
func (h *handler) dictionaryHTML(c *fiber.Ctx) error {
	return h.renderDictionary(c, fiber.StatusOK, "", nil, takeFlash(c)["notice"])
}

func (h *handler) renderDictionary(c *fiber.Ctx, status int, text string, errs *input.Errors, notice string) error {
	if h.segmenter() == nil {
		return fiber.ErrNotFound
	}
	es, err := h.store.DictionaryEntries(c.UserContext())
	if err != nil {
		return err
	}
	c.Status(status)
	return h.render(c, "admin_dictionary", "搜索词典", dictionaryPage{Entries: es, Text: text, Errors: errs,
		Notice: notice, Reindex: h.reindexState(), MaxLen: maxDictionaryWordLen})
}

// addDictionaryHTML is POST /admin/dictionary.
func (h *handler) addDictionaryHTML(c *fiber.Ctx) error {
	seg := h.segmenter()
	if seg == nil {
		return fiber.ErrNotFound
	}
	text := c.FormValue("words")
	words, errs := cleanDictionaryWords(splitDictionaryText(text))
	if !errs.Empty() {
		return h.renderDictionary(c, fiber.StatusUnprocessableEntity, text, errs, "")
	}
	res, err := addDictionaryWords(c.UserContext(), h.store, seg, h.cfg.Reindexer, words, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	setFlash(c, "notice", dictionaryNotice(res, h.cfg.Reindexer != nil))
	return c.Redirect("/admin/dictionary", fiber.StatusSeeOther)
}

// dictionaryWordView is one admin-added word in the API.
type dictionaryWordView struct {
	Word    string    `json:"word"`
	AddedAt time.Time `json:"added_at"`
	AddedBy string    `json:"added_by"`
}

// apiDictionary is GET /api/v1/admin/dictionary (admins).
func (h *handler) apiDictionary(c *fiber.Ctx) error {
	if h.segmenter() == nil {
		return fiber.ErrNotFound
	}
	es, err := h.store.DictionaryEntries(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]dictionaryWordView, 0, len(es))
	for _, e := range es {
		out = append(out, dictionaryWordView{Word: e.Term, AddedAt: e.CreatedAt, AddedBy: e.CreatedBy})
	}
	return c.JSON(fiber.Map{"words": out, "reindex": h.reindexState()})
}

// apiAddDictionary is POST /api/v1/admin/dictionary (admins):
// {"words":[…]} → {"added":[…],"existing":[…]}.
func (h *handler) apiAddDictionary(c *fiber.Ctx) error {
	seg := h.segmenter()
	if seg == nil {
		return fiber.ErrNotFound
	}
	var in struct {
		Words []string `json:"words"`
	}
	if err := parseBody(c, &in, `应为 JSON：{"words":["词语", …]}`); err != nil {
		return err
	}
	words, errs := cleanDictionaryWords(in.Words)
	if !errs.Empty() {
		return userError(fiber.StatusBadRequest, errs.Code(), errs.Error())
	}
	res, err := addDictionaryWords(c.UserContext(), h.store, seg, h.cfg.Reindexer, words, store.ActorFor(currentUser(c), c.IP()))
	if err != nil {
		return err
	}
	return c.JSON(res)
}
