package portal

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"jindianzi/moderation"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

type wordsPage struct {
	Words   []store.SensitiveWord
	Text    string
	Errors  *input.Errors
	Notice  string
	Actions []string
}

// wordsHTML is GET /admin/words: the moderation word list.
func (h *handler) wordsHTML(c *fiber.Ctx) error {
	return h.renderWords(c, fiber.StatusOK, "", nil, takeFlash(c)["notice"])
}

func (h *handler) renderWords(c *fiber.Ctx, status int, text string, errs *input.Errors, notice string) error {
	if h.cfg.Words == nil {
		return fiber.ErrNotFound
	}
	ws, err := h.store.SensitiveWords(c.UserContext())
	if err != nil {
		return err
	}
	c.Status(status)
	return h.render(c, "admin_words", "敏感词管理", wordsPage{Words: ws, Text: text, Errors: errs, Notice: notice,
		Actions: []string{string(moderation.Block), string(moderation.Hold), string(moderation.Flag)}})
}

// parseWords reads lines of "词语 分类 处理方式" (tab, space or comma separated).
func parseWords(text string) (moderation.WordList, *input.Errors) {
	var e input.Errors
	var out moderation.WordList
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := e.Text("words", "词语", sc.Text(), false)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" \t,，", r) })
		if len(f) != 3 {
			e.Add("words", "invalid_line", fmt.Sprintf("第 %d 行应为“词语 分类 处理方式”三项", n))
			continue
		}
		act := moderation.Action(f[2])
		if act != moderation.Block && act != moderation.Hold && act != moderation.Flag {
			e.Add("words", "invalid_action", fmt.Sprintf("第 %d 行的处理方式只能是 block（拒绝）、hold（待审）或 flag（标记）", n))
			continue
		}
		if input.Len(f[0]) > 50 || input.Len(f[1]) > 30 {
			e.Add("words", "too_long", fmt.Sprintf("第 %d 行的词语或分类过长", n))
			continue
		}
		out = append(out, moderation.Word{Word: f[0], Category: f[1], Action: act})
	}
	if len(out) == 0 && e.Empty() {
		e.Add("words", "empty", "请至少填写一个词语")
	}
	return out, &e
}

// addWordsHTML is POST /admin/words.
func (h *handler) addWordsHTML(c *fiber.Ctx) error {
	if h.cfg.Words == nil {
		return fiber.ErrNotFound
	}
	text := c.FormValue("words")
	ws, errs := parseWords(text)
	if !errs.Empty() {
		return h.renderWords(c, fiber.StatusUnprocessableEntity, text, errs, "")
	}
	if err := h.cfg.Words.Add(c.UserContext(), ws, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	setFlash(c, "notice", fmt.Sprintf("已添加或更新 %d 个词语，立即生效", len(ws)))
	return c.Redirect("/admin/words", fiber.StatusSeeOther)
}

// deleteWordHTML is POST /admin/words/:id/delete.
func (h *handler) deleteWordHTML(c *fiber.Ctx) error {
	if h.cfg.Words == nil {
		return fiber.ErrNotFound
	}
	id, err := parseID(c)
	if err != nil {
		return err
	}
	if err := h.cfg.Words.Delete(c.UserContext(), id, store.ActorFor(currentUser(c), c.IP())); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fiber.ErrNotFound
		}
		return err
	}
	setFlash(c, "notice", "已删除，立即生效")
	return c.Redirect("/admin/words", fiber.StatusSeeOther)
}
