package ideas

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/input"
	"jindianzi/portal/store"
)

// Import limits: offline letters may be longer than the web form allows.
const (
	ImportTitleMax = 200
	ImportBodyMax  = 20000
)

// importAliases are the column names each field is looked for under when the
// map does not name one.
var importAliases = map[string][]string{
	"id":       {"id", "编号", "留言编号"},
	"title":    {"title", "标题", "留言主题"},
	"body":     {"body", "content", "text", "正文", "内容", "留言详情"},
	"time":     {"time", "created_at", "date", "时间", "留言时间"},
	"theme":    {"theme", "label", "category", "主题", "分类", "一级标签"},
	"supports": {"supports", "likes", "点赞数", "附议数"},
	"name":     {"name", "display_name", "署名"},
}

// ImportOptions control an import.
type ImportOptions struct {
	Campaign string // slug
	// Map names the file's column for a field (title, body, time, theme,
	// supports, id, name); fields not named are found by common names.
	Map map[string]string
	// Publish makes imported ideas public at once (unless moderation rejects
	// them); otherwise they wait in the moderation queue.
	Publish   bool
	BatchSize int
	// Progress, if set, is called after each batch with rows read so far.
	Progress func(rowsDone int)
}

// RowError says why one row of the file was not imported.
type RowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportReport sums up an import.
type ImportReport struct {
	Rows          int        `json:"rows"`
	Imported      int        `json:"imported"`
	AlreadyThere  int        `json:"already_there"`
	Failed        []RowError `json:"failed"`
	ThemesCreated []string   `json:"themes_created"`
}

// ParseMap reads a --map value such as "title=标题,theme=label".
func ParseMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--map entry %q is not field=column", part)
		}
		if _, known := importAliases[k]; !known {
			return nil, fmt.Errorf("--map: unknown field %q (use title, body, time, theme, supports, id, name)", k)
		}
		m[k] = v
	}
	return m, nil
}

// Import reads a CSV file (RFC 4180, UTF-8, header row) into a campaign.
// Good rows commit in batches; bad rows are reported with their line number
// and reason. Running the same file again imports nothing twice.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportReport, error) {
	camp, err := s.Store.CampaignBySlug(ctx, opts.Campaign)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("找不到征集活动 %q", opts.Campaign)
	}
	if err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("读取表头失败: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from spreadsheet exports
	}
	cols, err := resolveColumns(header, opts.Map)
	if err != nil {
		return nil, err
	}
	themes, err := s.Store.Themes(ctx, camp.ID)
	if err != nil {
		return nil, err
	}
	themeIDs := map[string]int64{}
	for _, t := range themes {
		themeIDs[t.Name] = t.ID
	}
	rep := &ImportReport{Failed: []RowError{}, ThemesCreated: []string{}}
	var batch []*store.Idea
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var n int
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			n, err = s.Store.ImportIdeas(ctx, batch, "线下来信导入")
			if !errors.Is(err, store.ErrTrackingCodeTaken) {
				break
			}
			for _, i := range batch {
				i.TrackingCode = NewTrackingCode()
			}
		}
		if err != nil {
			return err
		}
		rep.Imported += n
		rep.AlreadyThere += len(batch) - n
		batch = batch[:0]
		if opts.Progress != nil {
			opts.Progress(rep.Rows)
		}
		return nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rep.Rows++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.Failed = append(rep.Failed, RowError{Line: pe.StartLine, Reason: "CSV 格式错误: " + pe.Err.Error()})
				continue
			}
			return rep, err
		}
		// Only after a successful read: FieldPos panics when a parse error
		// left the record without fields.
		line, _ := cr.FieldPos(0)
		idea, themeName, reason := s.importRow(ctx, camp, cols, rec, opts.Publish)
		if reason != "" {
			rep.Failed = append(rep.Failed, RowError{Line: line, Reason: reason})
			continue
		}
		if themeName != "" {
			id, ok := themeIDs[themeName]
			if !ok {
				t, err := s.Store.EnsureTheme(ctx, camp.ID, themeName)
				if err != nil {
					return rep, err
				}
				id = t.ID
				themeIDs[themeName] = id
				themes = append(themes, *t)
				rep.ThemesCreated = append(rep.ThemesCreated, themeName)
			}
			idea.ThemeID = &id
		} else if s.Themes != nil {
			if id, _, ok := s.Themes.Suggest(ctx, camp.ID, themes, idea.Title, idea.Body); ok {
				idea.ThemeID, idea.ThemeSuggested = &id, true
			}
		}
		batch = append(batch, idea)
		if len(batch) >= opts.BatchSize {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	return rep, nil
}

func resolveColumns(header []string, m map[string]string) (map[string]int, error) {
	index := map[string]int{}
	for i, h := range header {
		index[strings.ToLower(strings.TrimSpace(h))] = i
	}
	cols := map[string]int{}
	for field, aliases := range importAliases {
		if name, ok := m[field]; ok {
			i, found := index[strings.ToLower(name)]
			if !found {
				return nil, fmt.Errorf("文件中没有列 %q（--map %s=%s）", name, field, name)
			}
			cols[field] = i
			continue
		}
		for _, a := range aliases {
			if i, found := index[strings.ToLower(a)]; found {
				cols[field] = i
				break
			}
		}
	}
	for _, need := range []string{"title", "body"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("找不到 %s 列，请用 --map %s=列名 指定", need, need)
		}
	}
	return cols, nil
}

var importTimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006-01-02", "2006/1/2", time.RFC3339}

// importRow turns one record into an idea, or says why it cannot.
func (s *Service) importRow(ctx context.Context, camp *store.Campaign, cols map[string]int, rec []string, publish bool) (*store.Idea, string, string) {
	get := func(field string) string {
		if i, ok := cols[field]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var e input.Errors
	title := e.Text("title", "标题", get("title"), false)
	body := e.Text("body", "正文", get("body"), true)
	theme := e.Text("theme", "主题", get("theme"), false)
	name := e.Text("name", "署名", get("name"), false)
	if !e.Empty() {
		return nil, "", e.Error()
	}
	switch {
	case title == "":
		return nil, "", "标题为空"
	case input.Len(title) > ImportTitleMax:
		return nil, "", fmt.Sprintf("标题超过 %d 个字", ImportTitleMax)
	case body == "":
		return nil, "", "正文为空"
	case input.Len(body) > ImportBodyMax:
		return nil, "", fmt.Sprintf("正文超过 %d 个字", ImportBodyMax)
	case input.Len(theme) > 60:
		return nil, "", "主题名称超过 60 个字"
	}
	if input.Len(name) > NameMax {
		name = string([]rune(name)[:NameMax])
	}
	created := s.now()
	if ts := strings.TrimSpace(get("time")); ts != "" {
		var err error
		created, err = parseImportTime(ts)
		if err != nil {
			return nil, "", fmt.Sprintf("时间 %q 无法识别（应为 2006-01-02 15:04:05）", ts)
		}
	}
	supports := 0
	if v := strings.TrimSpace(get("supports")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, "", fmt.Sprintf("附议数 %q 不是非负整数", v)
		}
		supports = n
	}
	// Each imported letter is its own submitter: rate and repeat rules must
	// not treat a whole file as one person posting fast.
	rowSum := sha256.Sum256([]byte(get("id") + "\x00" + title + "\x00" + body))
	verdict, err := s.Moderation.Check(ctx, moderation.Input{Kind: "idea", CampaignID: camp.ID,
		Policy: moderation.PolicyPost, Title: title, Body: body, SubmitterKey: "import:" + hex.EncodeToString(rowSum[:8])})
	if err != nil {
		return nil, "", "审核检查失败: " + err.Error()
	}
	status := store.IdeaPending
	if publish && verdict.Action == moderation.Publish {
		status = store.IdeaPublished
	}
	// The key must not depend on the clock: a row without a time is stamped
	// with now, which differs on every run.
	keyTime := ""
	if strings.TrimSpace(get("time")) != "" {
		keyTime = created.Format(time.RFC3339)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%s\x00%s\x00%s", camp.ID, get("id"), title, keyTime)))
	key := hex.EncodeToString(sum[:])
	mj, _ := json.Marshal(verdict)
	return &store.Idea{
		CampaignID: camp.ID, TrackingCode: NewTrackingCode(),
		Title: title, Body: body, TitleMasked: verdict.TitleMasked, BodyMasked: verdict.BodyMasked,
		DisplayName: name, Anonymous: name == "", SubmitterKey: "import",
		Status: status, RiskScore: verdict.Risk, Moderation: string(mj), ReasonCodes: verdict.Codes(),
		ContentHash: verdict.ContentHash, Simhash: int64(verdict.Simhash),
		ImportedSupports: supports, Source: "import", ImportKey: &key,
		CreatedAt: created, UpdatedAt: created,
	}, theme, ""
}

func parseImportTime(s string) (time.Time, error) {
	for _, l := range importTimeLayouts {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unknown time format")
}
