package themes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/campaign"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/portal/themes"
	"jindianzi/search"
	"jindianzi/search/classify"
	"jindianzi/search/searchtest"
)

// messagesCSV holds real labelled messages (see /work/shared/data/README.md);
// tests that need them fall back to generated ideas when it is absent.
// messagesCSV is the real data beside the repository (../shared).
var messagesCSV = filepath.Join("..", "..", "..", "shared", "data", "messages.csv")

func TestMain(m *testing.M) { searchtest.Main(m) }

func segmenter(t *testing.T) *search.Segmenter { return searchtest.Segmenter(t) }

var ctx = context.Background()

// newCampaign creates an open campaign with the themes.
func newCampaign(t *testing.T, st *store.Store, slug string, ts []campaign.ThemeInput) *store.Campaign {
	t.Helper()
	c, err := campaign.Create(ctx, st, campaign.Input{Slug: slug, Title: "金点子征集 " + slug, Policy: "pre", Status: "open", Themes: ts},
		store.Actor{Name: "test"})
	if err != nil {
		t.Fatalf("create campaign %s: %v", slug, err)
	}
	return c
}

var civicThemes = []campaign.ThemeInput{
	{Name: "交通出行", Keywords: []string{"公交", "地铁", "停车", "红绿灯"}},
	{Name: "环境保护", Keywords: []string{"垃圾", "绿化", "噪音", "污染"}},
	{Name: "教育文体", Keywords: []string{"学校", "图书馆", "体育"}},
}

// idea is an idea to store with addIdeas.
type idea struct {
	title, body, theme string
	status             store.IdeaStatus
	supports           int
	created            time.Time
}

var importSeq int

// addIdeas stores ideas in a campaign as an import would; a theme set here
// counts as a confirmed label. It returns their ids in order.
func addIdeas(t *testing.T, st *store.Store, c *store.Campaign, list []idea) []int64 {
	t.Helper()
	ts, err := st.Themes(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int64{}
	for _, th := range ts {
		byName[th.Name] = th.ID
	}
	rows := make([]*store.Idea, len(list))
	for i, it := range list {
		importSeq++
		key := fmt.Sprintf("test-%d", importSeq)
		status, created := it.status, it.created
		if status == "" {
			status = store.IdeaPublished
		}
		if created.IsZero() {
			created = time.Now().UTC().Add(-time.Hour)
		}
		row := &store.Idea{CampaignID: c.ID, TrackingCode: ideas.NewTrackingCode(), Title: it.title, Body: it.body,
			Status: status, ImportedSupports: it.supports, Source: "import", ImportKey: &key,
			CreatedAt: created.Truncate(time.Microsecond), UpdatedAt: created.Truncate(time.Microsecond)}
		if it.theme != "" {
			id, ok := byName[it.theme]
			if !ok {
				t.Fatalf("campaign %s has no theme %q", c.Slug, it.theme)
			}
			row.ThemeID = &id
		}
		rows[i] = row
	}
	if n, err := st.ImportIdeas(ctx, rows, "导入"); err != nil || n != len(rows) {
		t.Fatalf("ImportIdeas: %d, %v", n, err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// generated makes n labelled ideas per theme of civicThemes, each naming a
// few of the theme's words among shared filler.
func generated(n int) []idea {
	words := map[string][]string{
		"交通出行": {"公交站台", "地铁换乘", "停车位", "红绿灯", "斑马线", "非机动车道", "出租车", "公交线路"},
		"环境保护": {"垃圾分类", "绿化带", "噪音扰民", "河道污染", "油烟排放", "扬尘", "垃圾桶", "污水"},
		"教育文体": {"学校食堂", "图书馆", "体育馆", "课后服务", "幼儿园", "校车", "文化站", "健身步道"},
	}
	var out []idea
	for _, th := range civicThemes {
		ws := words[th.Name]
		for i := range n {
			a, b := ws[i%len(ws)], ws[(i*3+1)%len(ws)]
			out = append(out, idea{theme: th.Name,
				title: fmt.Sprintf("关于%s的建议%d", a, i),
				body:  fmt.Sprintf("我们社区的%s问题存在很久了，%s也需要改进，希望有关部门第%d次调研后尽快解决。", a, b, i)})
		}
	}
	return out
}

// fromMessages reads up to perLabel messages of each label from messages.csv.
func fromMessages(t *testing.T, perLabel int) ([]idea, []string) {
	t.Helper()
	f, err := os.Open(messagesCSV)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	rows, err := classify.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var labels []string
	var out []idea
	for _, r := range rows {
		if r.Label == "" || count[r.Label] >= perLabel {
			continue
		}
		if count[r.Label] == 0 {
			labels = append(labels, r.Label)
		}
		count[r.Label]++
		out = append(out, idea{title: r.Title, body: r.Body, theme: r.Label})
	}
	return out, labels
}

func TestTrainFallsBackToKeywordsWithFewLabels(t *testing.T) {
	tok := segmenter(t)
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		c := newCampaign(t, st, "few-labels", civicThemes)
		addIdeas(t, st, c, generated(4)) // 12 labels
		m, row, err := themes.Train(ctx, st, tok, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != "keywords" || row.Labels != 12 || len(row.Model) == 0 {
			t.Fatalf("kind %s, labels %d, %d bytes; want a keyword model of 12 labels", m.Kind, row.Labels, len(row.Model))
		}
		var met themes.Metrics
		if err := json.Unmarshal([]byte(row.Metrics), &met); err != nil {
			t.Fatalf("metrics %s: %v", row.Metrics, err)
		}
		if met.Kind != "keywords" || met.Labels != 12 || met.PerTheme["交通出行"] != 4 || met.LabelAccuracy == nil || met.Bytes != len(row.Model) {
			t.Errorf("metrics %s", row.Metrics)
		}
		if got := m.Predict("小区门口的垃圾桶太少，垃圾分类做不好")[0].Label; got != "环境保护" {
			t.Errorf("keyword model suggests %s", got)
		}

		// A keyword model is stored but not installed: the Suggester keeps
		// its own, built from the themes as they are now.
		sugg := classify.NewSuggester(tok)
		if n, err := themes.LoadAll(ctx, st, tok, sugg); err != nil || n != 1 {
			t.Fatalf("LoadAll = %d, %v", n, err)
		}
		if sugg.Model(c.ID) != nil {
			t.Error("a keyword model was installed")
		}

		bare := newCampaign(t, st, "no-themes", nil)
		if _, _, err := themes.Train(ctx, st, tok, bare.ID); !errors.Is(err, themes.ErrNoThemes) {
			t.Errorf("Train without themes: %v", err)
		}
	})
}

func TestTrainUsesLabelsWhenEnough(t *testing.T) {
	tok := segmenter(t)
	list, labels := fromMessages(t, 30) // 7 labels × 30
	if list == nil {
		t.Logf("%s absent: training on generated ideas", messagesCSV)
		list = generated(60)
		for _, th := range civicThemes {
			labels = append(labels, th.Name)
		}
	}
	var ts []campaign.ThemeInput
	for _, l := range labels {
		ts = append(ts, campaign.ThemeInput{Name: l})
	}
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		c := newCampaign(t, st, "many-labels", ts)
		addIdeas(t, st, c, list)
		start := time.Now()
		m, row, err := themes.Train(ctx, st, tok, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("trained on %d labels in %v: %s", row.Labels, time.Since(start).Round(time.Millisecond), row.Metrics)
		if m.Kind != "linear" || row.Labels != len(list) || row.Labels < themes.MinLabels {
			t.Fatalf("kind %s, labels %d; want a trained model of %d labels", m.Kind, row.Labels, len(list))
		}
		var met themes.Metrics
		if err := json.Unmarshal([]byte(row.Metrics), &met); err != nil {
			t.Fatal(err)
		}
		if met.Kind != "linear" || met.CVAccuracy < 0.5 || met.Features == 0 || len(met.Classes) != len(labels) {
			t.Errorf("metrics %s", row.Metrics)
		}

		// The stored model predicts exactly as the trained one.
		stored, err := st.LatestThemeModel(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var back classify.Model
		back.SetTokenizer(tok)
		if err := back.UnmarshalBinary(stored.Model); err != nil {
			t.Fatal(err)
		}
		for _, it := range list[:20] {
			text := classify.Text(it.title, it.body)
			a, b := m.Predict(text), back.Predict(text)
			if a[0] != b[0] {
				t.Errorf("prediction changed through the database: %v vs %v", a[0], b[0])
			}
		}

		sugg := classify.NewSuggester(tok)
		if n, err := themes.LoadAll(ctx, st, tok, sugg); err != nil || n != 1 || sugg.Model(c.ID) == nil {
			t.Fatalf("LoadAll = %d, %v; model installed: %v", n, err, sugg.Model(c.ID) != nil)
		}
		stThemes, err := st.Themes(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for _, it := range list[:40] {
			id, _, ok := sugg.Suggest(ctx, c.ID, stThemes, it.title, it.body)
			for _, th := range stThemes {
				if ok && th.ID == id && th.Name == it.theme {
					right++
				}
			}
		}
		if right < 30 { // training examples: nearly all should come back
			t.Errorf("suggester got %d of 40 training ideas right", right)
		}
	})
}

func TestRetrainIfDue(t *testing.T) {
	tok := segmenter(t)
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		c := newCampaign(t, st, "retrain", civicThemes)
		sugg := classify.NewSuggester(tok)
		retrain := func() []themes.Retrained {
			t.Helper()
			done, err := themes.RetrainIfDue(ctx, st, tok, sugg, 5)
			if err != nil {
				t.Fatal(err)
			}
			return done
		}
		if done := retrain(); len(done) != 0 {
			t.Fatalf("retrained without labels: %+v", done)
		}
		list := generated(4)
		addIdeas(t, st, c, list[:5])
		done := retrain()
		if len(done) != 1 || done[0].CampaignID != c.ID || done[0].Labels != 5 || done[0].Kind != "keywords" {
			t.Fatalf("after 5 labels: %+v", done)
		}
		if done := retrain(); len(done) != 0 {
			t.Fatalf("retrained again with no new labels: %+v", done)
		}
		addIdeas(t, st, c, list[5:9])
		if done := retrain(); len(done) != 0 {
			t.Fatalf("retrained after 4 new labels (minNew 5): %+v", done)
		}
		// Suggested themes and rejected ideas are not labels.
		addIdeas(t, st, c, []idea{{title: "驳回的", body: "不算标签", theme: "交通出行", status: store.IdeaRejected}})
		if done := retrain(); len(done) != 0 {
			t.Fatalf("a rejected idea counted as a label: %+v", done)
		}
		addIdeas(t, st, c, list[9:10])
		if done := retrain(); len(done) != 1 || done[0].Labels != 10 {
			t.Fatalf("after 5 new labels: %+v", done)
		}

		// A model this build cannot read is skipped by LoadAll and retrained.
		if err := st.SaveThemeModel(ctx, &store.ThemeModel{CampaignID: c.ID, Version: classify.ModelVersion + 1,
			Model: []byte("JDZM\x00"), Metrics: "{}", Labels: 10, CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if n, err := themes.LoadAll(ctx, st, tok, sugg); err != nil || n != 0 {
			t.Errorf("LoadAll with an unreadable model = %d, %v", n, err)
		}
		if done := retrain(); len(done) != 1 {
			t.Fatalf("unreadable model not retrained: %+v", done)
		}
	})
}

// nearDuplicates are two wordings of one matter; others are unrelated.
var (
	plantA = idea{title: "丽发新城小区附近搅拌站噪音扰民",
		body: "丽发新城小区旁边的搅拌站每天深夜还在生产，搅拌站噪音和粉尘严重影响丽发新城居民休息，请环保部门查处搅拌站夜间违规作业。"}
	plantB = idea{title: "丽发新城搅拌站夜间噪音粉尘严重",
		body: "丽发新城附近的搅拌站夜间生产噪音很大，搅拌站粉尘污染严重，丽发新城居民无法休息，请尽快查处搅拌站。"}
	others = []idea{
		{title: "学校门口接送拥堵", body: "实验小学门口每天放学时段家长车辆乱停，建议设置临时停车区并安排交警疏导。"},
		{title: "图书馆延长开放时间", body: "市图书馆晚上八点就闭馆，上班族没有时间借书，希望周末和晚上延长开放。"},
		{title: "河道垃圾无人清理", body: "东风河沿岸漂浮大量塑料袋和泡沫，气味难闻，请安排人员定期打捞。"},
		{title: "增设公交线路", body: "城东新区到火车站没有直达公交，建议开通一条经过高铁站的快线。"},
	}
)

func TestBuildClusters(t *testing.T) {
	tok := segmenter(t)
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		c := newCampaign(t, st, "hot", civicThemes)
		a, b := plantA, plantB
		a.status, a.supports, a.theme = store.IdeaPending, 2, "环境保护"
		b.supports, b.theme = 5, "环境保护"
		rejected := plantA
		rejected.title, rejected.status = "被驳回的重复来信", store.IdeaRejected
		ids := addIdeas(t, st, c, append([]idea{a, b, rejected}, others...))

		n, err := themes.BuildClusters(ctx, st, tok, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("BuildClusters stored %d clusters, want 1 (the two near-identical ideas)", n)
		}
		cs, err := st.Clusters(ctx, c.ID, 10)
		if err != nil || len(cs) != 1 {
			t.Fatalf("Clusters = %+v, %v", cs, err)
		}
		cl := cs[0]
		members := clusterMembers(t, st, cl.ID)
		if len(members) != 2 || !members[ids[0]] || !members[ids[1]] {
			t.Fatalf("cluster members %v, want %d and %d (not the rejected %d)", members, ids[0], ids[1], ids[2])
		}
		var kw []string
		if err := json.Unmarshal([]byte(cl.Keywords), &kw); err != nil || len(kw) == 0 {
			t.Fatalf("keywords %q: %v", cl.Keywords, err)
		}
		if cl.Label != themes.Label(kw, "") || !strings.Contains(cl.Keywords, "搅拌站") {
			t.Errorf("label %q, keywords %s", cl.Label, cl.Keywords)
		}
		if cl.Size != 2 || cl.Supports != 7 || cl.Score <= 0 || cl.FirstAt == nil || cl.LastAt == nil ||
			cl.RepresentativeID == nil || cl.ThemeID == nil {
			t.Errorf("cluster figures %+v", cl)
		}

		// A moderator's name survives a rebuild.
		if err := st.RenameCluster(ctx, cl.ID, "丽发新城搅拌站噪音", store.Actor{Name: "mod"}); err != nil {
			t.Fatal(err)
		}
		if _, err := themes.BuildClusters(ctx, st, tok, c.ID); err != nil {
			t.Fatal(err)
		}
		cs, err = st.Clusters(ctx, c.ID, 10)
		if err != nil || len(cs) != 1 {
			t.Fatalf("after rebuild: %+v, %v", cs, err)
		}
		if cs[0].ID == cl.ID || cs[0].Label != "丽发新城搅拌站噪音" || !cs[0].Renamed {
			t.Errorf("after rebuild: %+v; want a new row keeping the name", cs[0])
		}
	})
}

func TestRefreshDue(t *testing.T) {
	tok := segmenter(t)
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		c := newCampaign(t, st, "refresh", civicThemes)
		empty := newCampaign(t, st, "empty", civicThemes)
		refresh := func() []themes.Rebuilt {
			t.Helper()
			done, err := themes.RefreshDue(ctx, st, tok)
			if err != nil {
				t.Fatal(err)
			}
			return done
		}
		if done := refresh(); len(done) != 0 {
			t.Fatalf("campaigns without ideas rebuilt: %+v", done)
		}
		addIdeas(t, st, c, append([]idea{plantA}, others...))
		done := refresh()
		if len(done) != 1 || done[0].CampaignID != c.ID || done[0].Clusters != 0 {
			t.Fatalf("first refresh: %+v", done)
		}
		if done := refresh(); len(done) != 0 {
			t.Fatalf("refreshed without new ideas: %+v", done)
		}
		addIdeas(t, st, c, []idea{plantB})
		done = refresh()
		if len(done) != 1 || done[0].Clusters != 1 {
			t.Fatalf("after a near-duplicate arrived: %+v", done)
		}
		_ = empty
	})
}

// clusterMembers returns the ids of a cluster's ideas.
func clusterMembers(t *testing.T, st *store.Store, clusterID int64) map[int64]bool {
	t.Helper()
	is, err := st.ClusterIdeas(ctx, clusterID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]bool{}
	for _, i := range is {
		out[i.ID] = true
	}
	return out
}
