package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
	"jindianzi/portal/themes"
)

// clusterFixture is a moderation fixture with a campaign whose ideas form
// two hot issues: a concrete plant (two public letters and one pending) and
// bundled parking spaces (one public letter and two pending).
type clusterFixture struct {
	*modFixture
	camp *store.Campaign
	// plant and parking are the ideas of each matter; the pending ones are last.
	plant, parking []int64
	secretTitle    string // a pending idea's title, never public
}

// ideaIn writes an idea with this text straight to the store, pending or
// published.
func (f *modFixture) ideaIn(camp *store.Campaign, title, body string, public bool, supports int) int64 {
	f.t.Helper()
	now := f.clock.Now().Add(-time.Hour).Truncate(time.Microsecond)
	idea := &store.Idea{
		CampaignID: camp.ID, TrackingCode: ideas.NewTrackingCode(), Title: title, Body: body,
		TitleMasked: title, BodyMasked: body, DisplayName: "李娜", Status: store.IdeaPending,
		ImportedSupports: supports, Source: "api", CreatedAt: now, UpdatedAt: now,
	}
	if err := f.store.CreateIdea(context.Background(), idea, nil, "已收到"); err != nil {
		f.t.Fatalf("CreateIdea %q: %v", title, err)
	}
	if public {
		f.publish(idea.ID)
	}
	return idea.ID
}

func newClusterFixture(t *testing.T) *clusterFixture {
	t.Helper()
	f := &clusterFixture{modFixture: newModFixture(t), secretTitle: "待审：丽发新城搅拌站半夜偷偷生产"}
	f.campaign("hot", "pre", nil)
	camp, err := f.store.CampaignBySlug(context.Background(), "hot")
	if err != nil {
		t.Fatal(err)
	}
	f.camp = camp
	f.plant = []int64{
		f.ideaIn(camp, "丽发新城附近搅拌站噪音扰民", "丽发新城小区旁边的搅拌站每天深夜还在生产，搅拌站噪音和粉尘严重影响丽发新城居民休息，请查处搅拌站夜间违规作业。", true, 3),
		f.ideaIn(camp, "丽发新城搅拌站夜间噪音粉尘严重", "丽发新城附近的搅拌站夜间生产噪音很大，搅拌站粉尘污染严重，丽发新城居民无法休息，请尽快查处搅拌站。", true, 4),
		f.ideaIn(camp, f.secretTitle, "丽发新城的搅拌站昨晚又在夜间生产，搅拌站噪音和粉尘让丽发新城居民整夜无法休息。", false, 0),
	}
	f.parking = []int64{
		f.ideaIn(camp, "伊景园滨河苑车位捆绑销售", "伊景园滨河苑开发商强制业主购买车位，车位捆绑销售是否合法？请住建部门调查伊景园滨河苑车位问题。", true, 1),
		f.ideaIn(camp, "伊景园滨河苑捆绑车位不合理", "伊景园滨河苑买房必须捆绑购买车位，车位价格过高，请调查伊景园滨河苑开发商。", false, 0),
		f.ideaIn(camp, "投诉伊景园滨河苑强卖车位", "伊景园滨河苑开发商捆绑销售车位，业主不买车位就不能收房，请查处伊景园滨河苑。", false, 0),
	}
	f.ideaIn(camp, "图书馆延长开放时间", "市图书馆晚上八点就闭馆，上班族没有时间借书，希望周末和晚上延长开放。", true, 0)
	f.ideaIn(camp, "增设公交线路", "城东新区到火车站没有直达公交，建议开通一条经过高铁站的快线。", true, 0)
	f.build()
	return f
}

// build clusters the campaign as the background job does.
func (f *clusterFixture) build() {
	f.t.Helper()
	openTestIndex(f.t) // loads the shared jieba
	n, err := themes.BuildClusters(context.Background(), f.store, seg, f.camp.ID)
	if err != nil || n != 2 {
		f.t.Fatalf("BuildClusters = %d, %v; want the plant and the parking clusters", n, err)
	}
}

// clusterOf returns the id of the stored cluster holding the idea.
func (f *clusterFixture) clusterOf(ideaID int64) int64 {
	f.t.Helper()
	cs, err := f.store.Clusters(context.Background(), f.camp.ID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range cs {
		is, err := f.store.ClusterIdeas(context.Background(), c.ID)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, i := range is {
			if i.ID == ideaID {
				return c.ID
			}
		}
	}
	f.t.Fatalf("idea %d is in no cluster", ideaID)
	return 0
}

func TestClusterPagesAuthorization(t *testing.T) {
	f := newClusterFixture(t)
	plant := f.clusterOf(f.plant[0])
	pages := []string{"/moderation/clusters?campaign=hot", fmt.Sprintf("/moderation/clusters/%d", plant)}

	for _, p := range pages {
		res := f.visitor.get(p)
		if res.status != fiber.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login?next=") {
			t.Errorf("visitor GET %s: %d %s", p, res.status, res.header.Get("Location"))
		}
	}
	for _, role := range []store.Role{store.RoleResident, store.RoleOfficial} {
		c := f.session("u-"+string(role), role)
		for _, p := range pages {
			if res := c.get(p); res.status != fiber.StatusForbidden {
				t.Errorf("%s GET %s: %d", role, p, res.status)
			}
		}
		// Even with a valid CSRF token, the forms refuse them.
		tok := c.csrf("/")
		res := c.post(fmt.Sprintf("/moderation/clusters/%d/rename", plant), url.Values{"_csrf": {tok}, "label": {"x"}})
		if res.status != fiber.StatusForbidden {
			t.Errorf("%s rename: %d", role, res.status)
		}
	}
	for _, role := range []store.Role{store.RoleModerator, store.RoleAdmin} {
		c := f.session("u-"+string(role), role)
		list := c.get(pages[0])
		if list.status != fiber.StatusOK {
			t.Fatalf("%s GET %s: %s", role, pages[0], list)
		}
		for _, want := range []string{fmt.Sprintf(`href="/moderation/clusters/%d"`, plant), "搅拌站", "伊景园"} {
			if !strings.Contains(list.body, want) {
				t.Errorf("%s cluster list lacks %q", role, want)
			}
		}
		detail := c.get(pages[1])
		if detail.status != fiber.StatusOK {
			t.Fatalf("%s GET %s: %s", role, pages[1], detail)
		}
		// Moderators see every idea of the cluster, pending ones too.
		for _, want := range []string{f.secretTitle, fmt.Sprintf(`href="/ideas/%d"`, f.plant[0]), "待审核", "移出本聚类"} {
			if !strings.Contains(detail.body, want) {
				t.Errorf("%s cluster page lacks %q", role, want)
			}
		}
		controlsHaveLabels(t, detail.body)
	}
	mod := f.session("mod-404", store.RoleModerator)
	if res := mod.get("/moderation/clusters/999999"); res.status != fiber.StatusNotFound {
		t.Errorf("unknown cluster: %d", res.status)
	}
	if res := mod.get("/moderation/clusters?campaign=no-such"); res.status != fiber.StatusNotFound {
		t.Errorf("unknown campaign: %d", res.status)
	}
	if res := mod.get("/moderation/clusters"); res.status != fiber.StatusOK || !strings.Contains(res.body, "请先选择一个活动") {
		t.Errorf("list without a campaign: %d", res.status)
	}
}

// follow reads the page a redirect points at and returns it.
func follow(t *testing.T, c *client, res *response) *response {
	t.Helper()
	if res.status != fiber.StatusSeeOther {
		t.Fatalf("want a redirect, got %s", res)
	}
	return c.get(res.header.Get("Location"))
}

func TestClusterForms(t *testing.T) {
	f := newClusterFixture(t)
	plant, parking := f.clusterOf(f.plant[0]), f.clusterOf(f.parking[0])
	mod := f.session("mod", store.RoleModerator)
	plantPage := fmt.Sprintf("/moderation/clusters/%d", plant)
	tok := mod.csrf(plantPage)

	// The queue names each pending idea's cluster.
	queue := mod.get("/moderation?campaign=hot")
	if !strings.Contains(queue.body, fmt.Sprintf(`热点聚类：<a href="/moderation/clusters/%d">`, plant)) ||
		!strings.Contains(queue.body, `href="/moderation/clusters?campaign=hot"`) {
		t.Errorf("queue does not link the clusters:\n%s", queue.body)
	}
	q, _ := f.queue("campaign=hot")
	if it := q.item(f.plant[2]); it == nil {
		t.Fatalf("pending idea %d not in the queue", f.plant[2])
	}
	var raw struct {
		Items []struct {
			ID      int64         `json:"id"`
			Cluster *queueCluster `json:"cluster"`
		} `json:"items"`
	}
	_, body := f.queue("campaign=hot")
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, it := range raw.Items {
		want := plant
		if it.ID != f.plant[2] {
			want = parking
		}
		if it.Cluster == nil || it.Cluster.ID != want || it.Cluster.Size != 3 {
			t.Errorf("queue item %d: cluster %+v, want #%d of 3", it.ID, it.Cluster, want)
		}
	}

	// Rename.
	res := mod.post(plantPage+"/rename", url.Values{"_csrf": {tok}, "label": {"  丽发新城 搅拌站扰民  "}})
	if res.header.Get("Location") != plantPage {
		t.Fatalf("rename redirects to %q", res.header.Get("Location"))
	}
	page := follow(t, mod, res)
	if !strings.Contains(page.body, "<h1>丽发新城 搅拌站扰民</h1>") || !strings.Contains(page.body, "已重命名") {
		t.Errorf("renamed page:\n%s", page.body)
	}
	if c, err := f.store.ClusterByID(context.Background(), plant); err != nil || c.Label != "丽发新城 搅拌站扰民" || !c.Renamed {
		t.Errorf("stored cluster %+v, %v", c, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("长", maxClusterLabel+1)} {
		page := follow(t, mod, mod.post(plantPage+"/rename", url.Values{"_csrf": {tok}, "label": {bad}}))
		if !strings.Contains(page.body, "名称不能为空") {
			t.Errorf("rename to %q: no problem shown", bad)
		}
	}
	if res := mod.post(plantPage+"/rename", url.Values{"label": {"无令牌"}}); res.status != fiber.StatusForbidden {
		t.Errorf("rename without CSRF token: %d", res.status)
	}
	// The renamed label is what the queue shows now.
	if queue := mod.get("/moderation?campaign=hot"); !strings.Contains(queue.body, "丽发新城 搅拌站扰民</a>") {
		t.Error("queue still shows the old label")
	}

	// Move an idea out: it keeps a cluster of its own and leaves the queue's label.
	res = mod.post(plantPage+"/move-out", url.Values{"_csrf": {tok}, "idea": {fmt.Sprint(f.plant[2])}})
	page = follow(t, mod, res)
	if strings.Contains(page.body, fmt.Sprintf(`id="idea-%d"`, f.plant[2])) || !strings.Contains(page.body, "已移出本聚类") {
		t.Errorf("after move-out:\n%s", page.body)
	}
	if got := f.clusterOf(f.plant[2]); got == plant {
		t.Error("moved-out idea still in its cluster")
	}
	_, body = f.queue("campaign=hot")
	if strings.Contains(body, fmt.Sprintf(`"cluster":{"id":%d`, plant)) {
		t.Error("queue still places the moved-out idea in the cluster")
	}
	page = follow(t, mod, mod.post(plantPage+"/move-out", url.Values{"_csrf": {tok}, "idea": {fmt.Sprint(f.parking[0])}}))
	if !strings.Contains(page.body, "该建议不在此聚类中") {
		t.Error("moving out an idea of another cluster: no problem shown")
	}

	// Merge the parking cluster into the plant cluster (a moderator's call).
	parkingPage := fmt.Sprintf("/moderation/clusters/%d", parking)
	for _, bad := range []string{"", "abc", fmt.Sprint(parking), "999999"} {
		page := follow(t, mod, mod.post(parkingPage+"/merge", url.Values{"_csrf": {tok}, "into": {bad}}))
		if !strings.Contains(page.body, `class="alert alert-error"`) {
			t.Errorf("merge into %q: no problem shown", bad)
		}
	}
	res = mod.post(parkingPage+"/merge", url.Values{"_csrf": {tok}, "into": {fmt.Sprintf("#%d", plant)}})
	if res.header.Get("Location") != plantPage {
		t.Fatalf("merge redirects to %q", res.header.Get("Location"))
	}
	page = follow(t, mod, res)
	for _, want := range []string{"伊景园滨河苑车位捆绑销售", "丽发新城附近搅拌站噪音扰民", "并入本聚类"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("merged cluster page lacks %q", want)
		}
	}
	if res := mod.get(parkingPage); res.status != fiber.StatusNotFound {
		t.Errorf("merged-away cluster: %d", res.status)
	}

	// Every action is in the audit log.
	es, err := f.store.AuditEntries(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.Action] = true
	}
	for _, a := range []string{"cluster.rename", "cluster.move_out", "cluster.merge"} {
		if !seen[a] {
			t.Errorf("no %s audit entry", a)
		}
	}

	// A rebuild keeps the name and the moderator's placements.
	f.build2()
	if got := f.clusterOf(f.parking[1]); got != plant {
		t.Errorf("after a rebuild, merged idea is in cluster %d, want %d", got, plant)
	}
	// The rebuild found every idea pinned and left empty clusters behind
	// (store.ReplaceClusters); the list does not show them.
	list := mod.get("/moderation/clusters?campaign=hot")
	cs, err := f.store.Clusters(context.Background(), f.camp.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		is, err := f.store.ClusterIdeas(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		linked := strings.Contains(list.body, fmt.Sprintf(`href="/moderation/clusters/%d"`, c.ID))
		if linked != (len(is) > 0) {
			t.Errorf("cluster %d with %d ideas: listed %v", c.ID, len(is), linked)
		}
	}
	if !strings.Contains(list.body, "丽发新城 搅拌站扰民") {
		t.Error("renamed cluster missing from the list after a rebuild")
	}
}

// build2 rebuilds without checking the number of clusters.
func (f *clusterFixture) build2() {
	f.t.Helper()
	if _, err := themes.BuildClusters(context.Background(), f.store, seg, f.camp.ID); err != nil {
		f.t.Fatal(err)
	}
}

func TestCampaignHotIssuesArePublicOnly(t *testing.T) {
	f := newClusterFixture(t)
	page := f.visitor.get("/campaigns/hot")
	if page.status != fiber.StatusOK {
		t.Fatalf("campaign page: %s", page)
	}
	hot := between(t, page.body, `<h2 id="hot-title">`, `</section>`)
	// The plant has two public letters; the parking matter only one, so it
	// is not a public hot issue yet.
	for _, want := range []string{"2 条建议", "附议 7", fmt.Sprintf(`href="/ideas/%d"`, f.plant[1]), "搅拌站"} {
		if !strings.Contains(hot, want) {
			t.Errorf("hot issues lack %q:\n%s", want, hot)
		}
	}
	if strings.Contains(page.body, f.secretTitle) {
		t.Error("campaign page shows a pending idea's title")
	}
	if strings.Contains(hot, "伊景园") {
		t.Errorf("a matter with one public letter is a hot issue:\n%s", hot)
	}

	res := f.visitor.get("/api/v1/campaigns/hot/hot-issues")
	var api struct {
		HotIssues []hotIssue `json:"hot_issues"`
	}
	if res.status != fiber.StatusOK || json.Unmarshal([]byte(res.body), &api) != nil {
		t.Fatalf("hot-issues API: %s", res)
	}
	if len(api.HotIssues) != 1 || api.HotIssues[0].Ideas != 2 || api.HotIssues[0].Supports != 7 ||
		api.HotIssues[0].Example.ID != f.plant[1] || strings.Contains(res.body, f.secretTitle) {
		t.Errorf("hot-issues API: %s", res.body)
	}
	if res := f.visitor.get("/api/v1/campaigns/no-such/hot-issues"); res.status != fiber.StatusNotFound {
		t.Errorf("unknown campaign: %d", res.status)
	}

	// A public letter hidden by reports stops counting at once: the plant
	// is down to one public letter and leaves the list.
	if _, err := f.store.ReportTarget(context.Background(), "idea", f.plant[0], store.Report{Reason: "广告", ReporterKey: "t1"}, 1); err != nil {
		t.Fatal(err)
	}
	page = f.visitor.get("/campaigns/hot")
	if strings.Contains(page.body, `id="hot-title"`) {
		t.Errorf("hot issues still shown with one visible letter:\n%s", page.body)
	}
}

func TestQueueShowsUnsureTheme(t *testing.T) {
	f := newModFixture(t)
	f.campaign("unsure", "pre", nil)
	none := f.storedIdea("unsure", "没有主题的建议", "", 0.1, nil, nil)
	themed := f.storedIdea("unsure", "有主题的建议", "城市管理", 0.1, nil, nil)
	mod := f.session("mod", store.RoleModerator)
	page := mod.get("/moderation?campaign=unsure")
	item := between(t, page.body, fmt.Sprintf(`id="item-%d"`, none.ID), "</li>")
	if !strings.Contains(item, "主题：系统无法确定（请选择）") || !strings.Contains(item, `<option value="" selected>请选择</option>`) {
		t.Errorf("idea without a theme:\n%s", item)
	}
	item = between(t, page.body, fmt.Sprintf(`id="item-%d"`, themed.ID), "</li>")
	if strings.Contains(item, "系统无法确定") {
		t.Errorf("themed idea marked unsure:\n%s", item)
	}
	_, body := f.queue("campaign=unsure")
	if !strings.Contains(body, `"theme_unsure":true`) || !strings.Contains(body, `"theme_unsure":false`) {
		t.Errorf("queue API: %s", body)
	}
}
