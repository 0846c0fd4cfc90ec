package portal

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/region"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// maxSearchText caps what a search may carry; longer text is cut, not refused.
const maxSearchText = 2000

// searchHit is one result as residents see it.
type searchHit struct {
	ID       string  `json:"id"`
	Kind     string  `json:"kind"`
	URL      string  `json:"url"`
	Title    string  `json:"title"`
	Snippet  string  `json:"snippet"`
	Score    float64 `json:"score"`
	Status   string  `json:"status"`
	Campaign string  `json:"campaign,omitempty"`
	// Spans are the byte ranges of Snippet to highlight.
	Spans [][2]int `json:"spans,omitempty"`
	// TitleSpans are the byte ranges of Title to highlight (the title is
	// never cut).
	TitleSpans    [][2]int      `json:"title_spans,omitempty"`
	Segments      []textSegment `json:"-"`
	TitleSegments []textSegment `json:"-"`
}

// searchAnswer is GET /api/v1/search's body.
type searchAnswer struct {
	Total  uint64                         `json:"total"`
	Page   int                            `json:"page"`
	Hits   []searchHit                    `json:"hits"`
	Facets map[string][]search.FacetCount `json:"facets"`
	// DropFilters is true when nothing matched with filters set: the
	// page suggests searching without them.
	DropFilters bool `json:"drop_filters_suggested"`
	// WithoutQuotes, when set, is the query these hits are for: the one
	// asked had "phrases" and found nothing on its first page, so its
	// phrases were searched as plain words (search.WithoutQuotes).
	WithoutQuotes string `json:"without_quotes,omitempty"`
}

// canSeeAll reports whether the caller may search pending and hidden items.
func canSeeAll(c *fiber.Ctx) bool {
	u := currentUser(c)
	return u != nil && (u.Role == store.RoleModerator || u.Role == store.RoleAdmin)
}

func publicStatusNames() []string {
	var out []string
	for _, s := range store.PublicStatuses() {
		out = append(out, string(s))
	}
	return out
}

// searchRequest reads the query string into a search request, applying the
// caller's visibility: residents get public items only, whatever they ask.
func (h *handler) searchRequest(c *fiber.Ctx) (search.Request, error) {
	q := c.Query("q")
	if !utf8.ValidString(q) {
		return search.Request{}, userError(fiber.StatusBadRequest, "invalid_utf8", "搜索内容含有无法识别的字符")
	}
	if utf8.RuneCountInString(q) > maxSearchText {
		q = string([]rune(q)[:maxSearchText])
	}
	page, err := parsePage(c)
	if err != nil {
		return search.Request{}, err
	}
	r := search.Request{Text: q, Campaign: c.Query("campaign"), Theme: c.Query("theme"), Region: c.Query("region"),
		Sort: c.Query("sort"), Page: page.Number, PerPage: page.Limit(), Facets: true}
	switch c.Query("kind") {
	case "", "all":
	case "idea":
		r.Kind = searchdocs.EntityIdea
	case "post":
		r.Kind = searchdocs.EntityPost
	default:
		return r, userError(fiber.StatusBadRequest, "invalid_kind", "类型只能是 idea（建议）或 post（讨论发言）")
	}
	switch r.Sort {
	case "", search.SortRelevance, search.SortNewest, search.SortSupported:
	default:
		return r, userError(fiber.StatusBadRequest, "invalid_sort", "排序方式只能是 relevance、newest 或 supported")
	}
	for _, d := range []struct {
		key string
		dst *time.Time
		add int
	}{{"from", &r.From, 0}, {"to", &r.To, 1}} {
		if v := c.Query(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, chinaTime)
			if err != nil {
				return r, userError(fiber.StatusBadRequest, "invalid_date", "日期格式应为 2006-01-02")
			}
			// The index compares dates as nanoseconds since 1970, which
			// reach only the years 1678 to 2262.
			if t.Year() < 1900 || t.Year() > 2200 {
				return r, userError(fiber.StatusBadRequest, "invalid_date", "日期应在 1900 年到 2200 年之间")
			}
			*d.dst = t.AddDate(0, 0, d.add).Add(-time.Nanosecond * time.Duration(d.add))
		}
	}
	status := c.Query("status")
	if canSeeAll(c) {
		if status != "" {
			r.Statuses = []string{status}
		}
	} else {
		r.Statuses = publicStatusNames()
		if status != "" {
			// A resident may narrow to one public status, never widen.
			allowed := false
			for _, s := range r.Statuses {
				allowed = allowed || s == status
			}
			if !allowed {
				status = "none"
			}
			r.Statuses = []string{status}
		}
	}
	return r, nil
}

// runSearch searches and loads the hits' rows with the caller's visibility.
// A query with "phrases" whose first page comes back empty is searched
// again with the phrases as plain words; if that finds something, it is
// the answer, and says so (WithoutQuotes).
func (h *handler) runSearch(c *fiber.Ctx, r search.Request) (searchAnswer, error) {
	ans, err := h.searchOnce(c, r)
	if err != nil || len(ans.Hits) > 0 || r.Page > 1 {
		return ans, err
	}
	loose, had := search.WithoutQuotes(r.Text)
	if !had {
		return ans, nil
	}
	r.Text = loose
	again, err := h.searchOnce(c, r)
	if err != nil || len(again.Hits) == 0 {
		return ans, err
	}
	again.WithoutQuotes = loose
	return again, nil
}

// searchOnce is runSearch without the second try.
func (h *handler) searchOnce(c *fiber.Ctx, r search.Request) (searchAnswer, error) {
	ans := searchAnswer{Page: r.Page, Hits: []searchHit{}, Facets: map[string][]search.FacetCount{}}
	if h.index == nil {
		return ans, userError(fiber.StatusServiceUnavailable, "search_unavailable", "搜索暂时不可用，请稍后再试")
	}
	res, err := h.index.Search(c.UserContext(), r)
	if err != nil {
		return ans, err
	}
	ans.Total, ans.Facets = res.Total, res.Facets
	all := canSeeAll(c)
	hits, err := h.loadHits(c.UserContext(), res.Hits, r.Text, all)
	if err != nil {
		return ans, err
	}
	ans.Hits = hits
	filtered := r.Campaign != "" || r.Theme != "" || r.Region != "" || !r.From.IsZero() || !r.To.IsZero() || r.Kind != "" ||
		(all && len(r.Statuses) > 0) || (!all && len(r.Statuses) == 1)
	ans.DropFilters = res.Total == 0 && filtered
	return ans, nil
}

// loadHits reads each hit's row from the store, skipping any the caller may
// not see (the index may lag a moment behind a moderation decision), and
// marks the query's words in each title and snippet.
//
// Hits whose title and body do not hold every "quoted phrase" of text are
// dropped too: the index keeps no positions and matches a phrase by its
// character pairs, so "小区电梯" also matches a text with 小区 and 电梯
// apart; search.ContainsPhrase checks the loaded text, folded as the index
// folds it. The page keeps the index's order, and may then hold fewer hits
// than a full page. The answer's total stays the index's count: with
// phrases in the query it is an upper bound.
func (h *handler) loadHits(ctx context.Context, hits []search.Hit, text string, all bool) ([]searchHit, error) {
	out := []searchHit{}
	var ideaIDs, postIDs []int64
	for _, hit := range hits {
		entity, id, err := searchdocs.ParseID(hit.ID)
		if err != nil {
			continue
		}
		if entity == searchdocs.EntityPost {
			postIDs = append(postIDs, id)
		} else {
			ideaIDs = append(ideaIDs, id)
		}
	}
	ideas, err := h.store.IdeaSummariesByIDs(ctx, ideaIDs)
	if err != nil {
		return nil, err
	}
	posts, err := h.store.DebatePostsByIDs(ctx, postIDs)
	if err != nil {
		return nil, err
	}
	byIdea := map[int64]*store.IdeaSummary{}
	for i := range ideas {
		byIdea[ideas[i].ID] = &ideas[i]
	}
	byPost := map[int64]*store.DebatePost{}
	for i := range posts {
		byPost[posts[i].ID] = &posts[i]
	}
	debates := map[int64]*store.Debate{}
	hl := h.highlighter(text)
	phrases := search.ParseQuery(text).Phrases
	for _, hit := range hits {
		entity, id, err := searchdocs.ParseID(hit.ID)
		if err != nil {
			continue
		}
		sh := searchHit{ID: hit.ID, Kind: entity, Score: hit.Score}
		var body string
		switch entity {
		case searchdocs.EntityIdea:
			i, ok := byIdea[id]
			if !ok || (!all && !i.Visible()) {
				continue
			}
			sh.Title, body = i.Title, i.Body
			if !search.HoldsPhrases(sh.Title, body, phrases) {
				continue
			}
			sh.URL, sh.Status, sh.Campaign = "/ideas/"+url.PathEscape(hit.ID), hitStatus(i.Status, i.Hidden), i.CampaignTitle
			if all && !i.Visible() {
				sh.URL = "/moderation"
			}
		case searchdocs.EntityPost:
			p, ok := byPost[id]
			if !ok || (!all && (!p.Status.Public() || p.Hidden)) {
				continue
			}
			d, ok := debates[p.DebateID]
			if !ok {
				if d, err = h.store.DebateByID(ctx, p.DebateID); err != nil {
					return nil, err
				}
				debates[p.DebateID] = d
			}
			sh.Title, body = d.Title, p.BodyMasked
			if !search.HoldsPhrases(sh.Title, body, phrases) {
				continue
			}
			sh.URL = "/debates/" + url.PathEscape(d.Slug) + "#p" + hit.ID[len(searchdocs.PostIDPrefix):]
			sh.Status, sh.Campaign = hitStatus(p.Status, p.Hidden), "主题大讨论"
		}
		sh.Snippet, sh.Spans = hl.Snippet(body, snippetRunes)
		sh.TitleSpans = titleSpans(hl, sh.Title)
		sh.Segments = segmentsOf(sh.Snippet, sh.Spans)
		sh.TitleSegments = segmentsOf(sh.Title, sh.TitleSpans)
		out = append(out, sh)
	}
	return out, nil
}

// titleSpans are the byte ranges of title to mark for hl's query: the
// whole title is the "snippet", never cut.
func titleSpans(hl *search.Highlighter, title string) [][2]int {
	if title == "" {
		return nil
	}
	snippet, spans := hl.Snippet(title, utf8.RuneCountInString(title))
	if snippet != title {
		return nil // never the case for a window as long as the text
	}
	return spans
}

// snippetRunes is how many characters a search hit's snippet shows.
const snippetRunes = 120

// highlighter picks the part of each hit's text around the query's words,
// with the spans to mark (the index stores no text: highlights come from
// the database's copy). The query is cut once for all the hits.
func (h *handler) highlighter(query string) *search.Highlighter {
	p := search.ParseQuery(query)
	q := strings.TrimSpace(p.Words + " " + strings.Join(p.Phrases, " "))
	return search.NewHighlighter(h.segmenter(), q)
}

// segmentsOf splits text at the marked spans, for templates.
func segmentsOf(text string, spans [][2]int) []textSegment {
	var out []textSegment
	at := 0
	for _, s := range spans {
		if s[0] < at || s[1] > len(text) || s[0] >= s[1] {
			continue
		}
		if s[0] > at {
			out = append(out, textSegment{Text: text[at:s[0]]})
		}
		out = append(out, textSegment{Text: text[s[0]:s[1]], Mark: true})
		at = s[1]
	}
	if at < len(text) {
		out = append(out, textSegment{Text: text[at:]})
	}
	return out
}

// apiSearch is GET /api/v1/search.
func (h *handler) apiSearch(c *fiber.Ctx) error {
	r, err := h.searchRequest(c)
	if err != nil {
		return err
	}
	ans, err := h.runSearch(c, r)
	if err != nil {
		return err
	}
	return c.JSON(ans)
}

// searchHTML is GET /search.
func (h *handler) searchHTML(c *fiber.Ctx) error {
	r, err := h.searchRequest(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := searchPage{Query: url.Values{}, SeeAll: canSeeAll(c), Provinces: region.Provinces()}
	for _, k := range []string{"q", "campaign", "theme", "region", "status", "from", "to", "sort", "kind"} {
		if v := c.Query(k); v != "" {
			p.Query.Set(k, v)
		}
	}
	if p.Answer, err = h.runSearch(c, r); err != nil {
		return err
	}
	if p.Answer.WithoutQuotes != "" {
		// The box, the pages and the facets go on with the query searched.
		p.Typed = p.Query.Get("q")
		p.Query.Set("q", p.Answer.WithoutQuotes)
	}
	p.Searched = len(p.Query) > 0
	p.Pager = newPager(p.Query, "/search", store.Page{Number: r.Page, PerPage: r.PerPage}, int64(p.Answer.Total))
	listed, _, err := h.store.Campaigns(ctx, !isAdmin(c), store.Page{PerPage: store.MaxPerPage})
	if err != nil {
		return err
	}
	camps := newCampaignNames(h.store, !isAdmin(c), listed)
	if p.Campaigns, err = campaignOptions(ctx, listed, p.Query.Get("campaign"), camps); err != nil {
		return err
	}
	if p.SeeAll {
		p.Statuses = statusOptions(p.Query.Get("status"))
	}
	// Facet links keep a chosen page size; the page goes back to 1.
	base := url.Values{}
	for k, v := range p.Query {
		base[k] = v
	}
	if v := c.Query("per_page"); v != "" {
		base.Set("per_page", v)
	}
	if p.Facets, err = buildFacets(ctx, base, p.Answer.Facets, p.SeeAll, camps); err != nil {
		return err
	}
	return h.render(c, "search", "搜索", p)
}

// minDraftRunes is how many letters, digits or Chinese characters a draft
// needs before similar ideas are looked for.
const minDraftRunes = 4

// longEnoughDraft reports whether a draft holds minDraftRunes letters,
// digits or Chinese characters. Its quotes and minus signs are
// punctuation, not query syntax (search.Request.Draft).
func longEnoughDraft(text string) bool {
	n := 0
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			if n++; n >= minDraftRunes {
				return true
			}
		}
	}
	return false
}

// apiSimilar is GET /api/v1/ideas/similar?text=…&campaign=…: up to 5
// published ideas like the text, for the submission form. A draft too
// short to compare (fewer than four letters, digits or Chinese characters
// once quotes, minus signs, spaces and punctuation are left out) gets an
// empty list.
func (h *handler) apiSimilar(c *fiber.Ctx) error {
	text := c.Query("text")
	if !utf8.ValidString(text) {
		return userError(fiber.StatusBadRequest, "invalid_utf8", "内容含有无法识别的字符")
	}
	if utf8.RuneCountInString(text) > maxSearchText {
		text = string([]rune(text)[:maxSearchText])
	}
	out := []fiber.Map{}
	if h.index == nil || !longEnoughDraft(text) {
		return c.JSON(fiber.Map{"ideas": out})
	}
	res, err := h.index.Search(c.UserContext(), search.Request{Text: text,
		Kind: searchdocs.EntityIdea, Campaign: c.Query("campaign"), Statuses: publicStatusNames(), PerPage: 5, PageOnly: true, Draft: true})
	if err != nil {
		return err
	}
	// Titles only: the form lists them, so no bodies, snippets or
	// campaigns are read.
	idOf := make([]int64, len(res.Hits)) // 0, which no idea has, for a hit that is no idea
	var ids []int64
	for k, hit := range res.Hits {
		if entity, id, err := searchdocs.ParseID(hit.ID); err == nil && entity == searchdocs.EntityIdea {
			idOf[k], ids = id, append(ids, id)
		}
	}
	rows, err := h.store.IdeaTitlesByIDs(c.UserContext(), ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*store.IdeaSummary, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	for k, hit := range res.Hits {
		// The index may lag a moment behind a moderation decision.
		if i, ok := byID[idOf[k]]; ok && i.Visible() {
			out = append(out, fiber.Map{"id": hit.ID, "title": i.Title, "score": hit.Score, "url": "/ideas/" + url.PathEscape(hit.ID)})
		}
	}
	return c.JSON(fiber.Map{"ideas": out})
}

// hitStatus is the status a search hit shows, as the index and its status
// facet have it (a hidden public item is 已隐藏).
func hitStatus(status store.IdeaStatus, hidden bool) string {
	return statusLabel(searchdocs.VisibleStatus(status, hidden))
}
