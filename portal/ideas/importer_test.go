package ideas_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// importThemes are the themes the import campaign starts with; the file's
// labels add the others.
func importThemes(in *campaign.Input) {
	in.Themes = []campaign.ThemeInput{
		{Name: "交通出行", Keywords: []string{"公交", "地铁"}},
		{Name: "环境保护", Keywords: []string{"垃圾", "噪音", "卫生"}},
	}
}

func TestImport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.campaign("offline", store.PolicyPre, importThemes)
		var progress []int
		opts := ideas.ImportOptions{Campaign: c.Slug, Publish: true, BatchSize: 3, Progress: func(n int) { progress = append(progress, n) }}

		rep := importFile(t, e, "testdata/import.csv", opts)
		if rep.Rows != 10 || rep.Imported != 7 || rep.AlreadyThere != 0 {
			t.Errorf("report %+v, want 10 rows, 7 imported", rep)
		}
		if got := failedLines(rep); !reflect.DeepEqual(got, []int{6, 10, 15}) {
			t.Errorf("failed lines %v, want [6 10 15] (%+v)", got, rep.Failed)
		}
		for _, f := range rep.Failed {
			if !hasHan(f.Reason) {
				t.Errorf("line %d: reason %q", f.Line, f.Reason)
			}
		}
		if !strings.Contains(rep.Failed[1].Reason, "yesterday") || !strings.Contains(rep.Failed[2].Reason, "-3") {
			t.Errorf("reasons do not name the bad value: %+v", rep.Failed)
		}
		if !reflect.DeepEqual(rep.ThemesCreated, []string{"城乡建设", "教育文体"}) {
			t.Errorf("themes created %v", rep.ThemesCreated)
		}
		if len(progress) != 3 || progress[len(progress)-1] != 10 {
			t.Errorf("progress %v, want three batches ending at 10 rows", progress)
		}

		themes, err := st.Themes(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		themeName := map[int64]string{}
		for _, th := range themes {
			themeName[th.ID] = th.Name
		}
		if len(themes) != 4 || themes[2].Name != "城乡建设" || themes[3].Name != "教育文体" || themes[3].Position <= themes[2].Position {
			t.Errorf("themes %+v", themes)
		}

		byTitle := importedIdeas(t, e, c.ID)
		if len(byTitle) != 7 {
			t.Fatalf("stored %d ideas, want 7", len(byTitle))
		}
		at := func(s string) time.Time {
			tm, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		want := []struct {
			title     string
			created   time.Time
			theme     string
			suggested bool
			supports  int
			body      string
		}{
			{"建议在地铁站增设自行车停放点", at("2024-03-01 09:15"), "交通出行", false, 12, ""},
			{"老旧小区加装电梯的建议", at("2024-03-02 14:30"), "城乡建设", false, 30,
				"我们小区建于上世纪九十年代，没有电梯，老人上下楼很困难。\n建议政府出台补贴政策，推动加装电梯。\n谢谢！"},
			{"社区图书馆周末开放", at("2024-03-06 00:00"), "教育文体", false, 0, ""},
			{"关于烧烤店噪音扰民的问题, 请尽快处理", at("2024-03-07 22:10"), "环境保护", false, 21,
				"楼下烧烤店每天营业到凌晨两点，噪音很大，\n油烟也很重，严重影响休息，多次投诉无果。"},
			{"增加夜间公交线路", at("2024-03-08 18:20"), "交通出行", false, 3, ""},
			{"建议延长地铁运营时间", at("2024-03-10 10:00"), "交通出行", false, 100, ""},
			// No time: stamped with the clock; no label: the keyword 卫生 suggests the theme.
			{"菜市场环境需要改善", e.now, "环境保护", true, 0, `菜市场地面湿滑，"卫生状况差"，建议加强管理，定期清洗。`},
		}
		for _, w := range want {
			i, ok := byTitle[w.title]
			if !ok {
				t.Errorf("%s: not imported", w.title)
				continue
			}
			if !i.CreatedAt.Equal(w.created) || i.Status != store.IdeaPublished || i.PublishedAt == nil ||
				i.ImportedSupports != w.supports || i.TotalSupports() != w.supports || i.SupportsCount != 0 ||
				i.Source != "import" || i.ImportKey == nil || !i.Anonymous || i.ThemeSuggested != w.suggested {
				t.Errorf("%s: %+v", w.title, i)
			}
			if i.ThemeID == nil || themeName[*i.ThemeID] != w.theme {
				t.Errorf("%s: theme %v, want %s", w.title, i.ThemeID, w.theme)
			}
			if w.body != "" && i.Body != w.body {
				t.Errorf("%s: body %q, want %q", w.title, i.Body, w.body)
			}
			if evs, err := st.IdeaEvents(e.ctx, i.ID, true); err != nil || len(evs) != 1 || evs[0].ToStatus != store.IdeaPublished {
				t.Errorf("%s: events %+v, %v", w.title, evs, err)
			}
			if !trackingCodeRe.MatchString(i.TrackingCode) {
				t.Errorf("%s: tracking code %q", w.title, i.TrackingCode)
			}
		}

		// The same file again, an hour later: nothing new.
		e.now = e.now.Add(time.Hour)
		progress = nil
		again := importFile(t, e, "testdata/import.csv", opts)
		if again.Rows != 10 || again.Imported != 0 || again.AlreadyThere != 7 || len(again.ThemesCreated) != 0 {
			t.Errorf("second import %+v, want 0 imported, 7 already there", again)
		}
		if got := failedLines(again); !reflect.DeepEqual(got, []int{6, 10, 15}) {
			t.Errorf("second import failed lines %v", got)
		}
		if n := e.countIdeas(c.ID); n != 7 {
			t.Errorf("ideas after the second import: %d, want 7", n)
		}
		if ts, _ := st.Themes(e.ctx, c.ID); len(ts) != 4 {
			t.Errorf("themes after the second import: %d", len(ts))
		}
	})
}

func TestImportWithoutPublishWaits(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("offline", store.PolicyPost, importThemes)
	rep := importFile(t, e, "testdata/import.csv", ideas.ImportOptions{Campaign: c.Slug})
	if rep.Imported != 7 {
		t.Fatalf("report %+v", rep)
	}
	for title, i := range importedIdeas(t, e, c.ID) {
		if i.Status != store.IdeaPending || i.PublishedAt != nil {
			t.Errorf("%s: status %s", title, i.Status)
		}
	}
	if _, n, _ := e.st.Ideas(e.ctx, store.IdeaFilter{CampaignID: c.ID, PublicOnly: true}); n != 0 {
		t.Errorf("%d imported ideas are public", n)
	}
}

func TestImportMalformedCSV(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("offline", store.PolicyPost, importThemes)
	const body = "小区门口的路灯已经坏了一个多月，晚上出行很不方便，请尽快维修。"
	data := "title,body\n" +
		"路灯坏了," + body + "\n" + // line 2: good
		`路"灯,` + body + "\n" + // line 3: a bare quote in the first field
		`路灯不亮,"` + body + `"x` + "\n" + // line 4: text after a closing quote
		"路灯维修," + body + "\n" + // line 5: good
		"," + body + "\n" + // line 6: no title
		`夜间照明,"` + body // line 7: a quote never closed
	rep, err := e.svc.Import(e.ctx, strings.NewReader(data), ideas.ImportOptions{Campaign: c.Slug, Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.Imported != 2 || !reflect.DeepEqual(failedLines(rep), []int{3, 4, 6, 7}) {
		t.Errorf("report %+v, want 6 rows, 2 imported, lines 3 4 6 7 failed", rep)
	}
	for _, f := range rep.Failed {
		if f.Reason == "" {
			t.Errorf("line %d: no reason", f.Line)
		}
	}
}

func TestImportColumns(t *testing.T) {
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("offline", store.PolicyPost, importThemes)
	const body = "小区门口的路灯已经坏了一个多月，晚上出行很不方便，请尽快维修。"

	t.Run("a --map names the columns", func(t *testing.T) {
		m, err := ideas.ParseMap("title=Subject, body=Letter ,theme=科室")
		if err != nil {
			t.Fatal(err)
		}
		data := "\ufeffSubject,Letter,科室,留言时间,点赞数,署名\n" +
			"路灯坏了," + body + ",城市管理,2024-04-01 08:00:00,4,王女士\n"
		rep, err := e.svc.Import(e.ctx, strings.NewReader(data), ideas.ImportOptions{Campaign: c.Slug, Map: m, Publish: true})
		if err != nil || rep.Imported != 1 || !reflect.DeepEqual(rep.ThemesCreated, []string{"城市管理"}) {
			t.Fatalf("report %+v, %v", rep, err)
		}
		i := importedIdeas(t, e, c.ID)["路灯坏了"]
		if i == nil || i.Body != body || i.ImportedSupports != 4 || i.DisplayName != "王女士" || i.Anonymous ||
			!i.CreatedAt.Equal(time.Date(2024, 4, 1, 8, 0, 0, 0, cst)) {
			t.Errorf("idea %+v", i)
		}
	})
	t.Run("no title column", func(t *testing.T) {
		before := e.countIdeas(c.ID)
		_, err := e.svc.Import(e.ctx, strings.NewReader("id,body\n1,"+body+"\n"), ideas.ImportOptions{Campaign: c.Slug})
		if err == nil || !strings.Contains(err.Error(), "title") {
			t.Errorf("err %v, want the missing title column named", err)
		}
		if n := e.countIdeas(c.ID); n != before {
			t.Errorf("ideas %d → %d", before, n)
		}
	})
	t.Run("a --map naming a missing column", func(t *testing.T) {
		_, err := e.svc.Import(e.ctx, strings.NewReader("title,body\n路灯坏了,"+body+"\n"),
			ideas.ImportOptions{Campaign: c.Slug, Map: map[string]string{"body": "正文内容"}})
		if err == nil || !strings.Contains(err.Error(), "正文内容") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("unknown campaign", func(t *testing.T) {
		_, err := e.svc.Import(e.ctx, strings.NewReader("title,body\n路灯坏了,"+body+"\n"), ideas.ImportOptions{Campaign: "nope"})
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		if _, err := e.svc.Import(e.ctx, strings.NewReader(""), ideas.ImportOptions{Campaign: c.Slug}); err == nil {
			t.Error("an empty file was accepted")
		}
	})
}

func TestParseMap(t *testing.T) {
	good := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"  ", map[string]string{}},
		{"title=标题", map[string]string{"title": "标题"}},
		{"title=留言主题, body = 留言详情 ,theme=label,supports=点赞数,time=留言时间,id=编号,name=署名",
			map[string]string{"title": "留言主题", "body": "留言详情", "theme": "label", "supports": "点赞数",
				"time": "留言时间", "id": "编号", "name": "署名"}},
	}
	for _, g := range good {
		got, err := ideas.ParseMap(g.in)
		if err != nil || !reflect.DeepEqual(got, g.want) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v", g.in, got, err, g.want)
		}
	}
	bad := []struct{ in, mention string }{
		{"author=署名", "unknown field"},
		{"Title=标题", "unknown field"},
		{"title", "not field=column"},
		{"title=", "not field=column"},
		{"=标题", "not field=column"},
		{"title=标题,,body=正文", "not field=column"},
	}
	for _, b := range bad {
		got, err := ideas.ParseMap(b.in)
		if err == nil || !strings.Contains(err.Error(), b.mention) {
			t.Errorf("ParseMap(%q) = %v, %v; want an error saying %q", b.in, got, err, b.mention)
		}
	}
}

// TestImportHotMessages imports the 4,326 real messages of the shared data
// set into a fresh SQLite store and reports the throughput.
func TestImportHotMessages(t *testing.T) {
	const path = "../../../shared/data/hot_messages_fj3.csv"
	if testing.Short() {
		t.Skip("slow: imports 4,326 rows")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s: %v", path, err)
	}
	e := newEnv(t, storetest.Open(t))
	c := e.campaign("hot-messages", store.PolicyPost, func(in *campaign.Input) {
		in.Themes = []campaign.ThemeInput{
			{Name: "城乡建设", Keywords: []string{"小区", "物业", "拆迁", "房"}},
			{Name: "交通运输", Keywords: []string{"公交", "道路", "地铁", "停车"}},
			{Name: "教育文体", Keywords: []string{"学校", "学生", "教师"}},
		}
	})
	start := time.Now()
	rep := importFile(t, e, path, ideas.ImportOptions{Campaign: c.Slug, Publish: true})
	elapsed := time.Since(start)
	if rep.Rows != 4326 {
		t.Errorf("rows %d, want 4326", rep.Rows)
	}
	if rep.Imported+len(rep.Failed) != rep.Rows || rep.AlreadyThere != 0 {
		t.Errorf("imported %d + failed %d + already there %d != rows %d", rep.Imported, len(rep.Failed), rep.AlreadyThere, rep.Rows)
	}
	if n := e.countIdeas(c.ID); n != int64(rep.Imported) {
		t.Errorf("stored %d ideas, report says %d", n, rep.Imported)
	}
	for i, f := range rep.Failed {
		if i == 5 {
			break
		}
		t.Logf("failed line %d: %s", f.Line, f.Reason)
	}
	t.Logf("imported %d of %d rows (%d failed) in %v: %.0f rows/s",
		rep.Imported, rep.Rows, len(rep.Failed), elapsed.Round(time.Millisecond), float64(rep.Rows)/elapsed.Seconds())
}

func importFile(t *testing.T, e *env, path string, opts ideas.ImportOptions) *ideas.ImportReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := e.svc.Import(e.ctx, f, opts)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return rep
}

func failedLines(rep *ideas.ImportReport) []int {
	var out []int
	for _, f := range rep.Failed {
		out = append(out, f.Line)
	}
	return out
}

// importedIdeas returns a campaign's ideas by title.
func importedIdeas(t *testing.T, e *env, campaignID int64) map[string]*store.Idea {
	t.Helper()
	list, _, err := e.st.Ideas(e.ctx, store.IdeaFilter{CampaignID: campaignID, Page: store.Page{PerPage: store.MaxPerPage}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Idea{}
	for i := range list {
		out[list[i].Title] = &list[i]
	}
	return out
}
