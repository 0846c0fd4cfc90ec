package portal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"jindianzi/portal/store"
	"jindianzi/portal/themes"
	"jindianzi/search/cluster"
)

// Limits of the cluster pages.
const (
	// maxSnapshotClusters bounds the clusters of one campaign the portal
	// keeps membership for.
	maxSnapshotClusters = 5000
	// listedClusters is how many clusters the moderators' list shows: the
	// hottest by their stored score, reranked by their live figures.
	listedClusters = 100
	// hotCandidates is how many clusters (hottest by stored score) the
	// public hot-issue list is computed from.
	hotCandidates = 50
	// hotIssuesShown is how many hot issues the campaign page shows.
	hotIssuesShown = 5
	// maxClusterLabel is the longest name a moderator may give a cluster.
	maxClusterLabel = 60
)

// clusterIndex remembers which ideas belong to which cluster, per campaign,
// so the queue can name each idea's cluster without a query per cluster.
// A campaign's entry is reloaded whenever its clusters change (a rebuild, a
// rename, a merge or a move-out), which a fingerprint of the cluster rows
// detects; every web node checks it on use, so nodes need not talk.
type clusterIndex struct {
	mu    sync.Mutex
	snaps map[int64]*clusterSnapshot
}

func newClusterIndex() *clusterIndex {
	return &clusterIndex{snaps: map[int64]*clusterSnapshot{}}
}

// clusterSnapshot is one campaign's clusters and their members.
type clusterSnapshot struct {
	fingerprint uint64
	clusters    []store.Cluster // hottest first, by stored score
	members     map[int64][]int64
	byIdea      map[int64]int64 // idea → cluster
}

// fingerprintClusters summarises the cluster rows that membership changes touch.
func fingerprintClusters(cs []store.Cluster) uint64 {
	f := fnv.New64a()
	var b [8]byte
	put := func(x int64) {
		binary.LittleEndian.PutUint64(b[:], uint64(x))
		f.Write(b[:])
	}
	put(int64(len(cs)))
	for _, c := range cs {
		put(c.ID)
		put(int64(c.Size))
		put(c.UpdatedAt.UnixNano())
		f.Write([]byte(c.Label))
	}
	return f.Sum64()
}

// clusterSnapshot returns the campaign's current cluster membership,
// reloading it when the cluster rows changed since it was last loaded.
func (h *handler) clusterSnapshot(ctx context.Context, campaignID int64) (*clusterSnapshot, error) {
	cs, err := h.store.Clusters(ctx, campaignID, maxSnapshotClusters)
	if err != nil {
		return nil, err
	}
	fp := fingerprintClusters(cs)
	h.members.mu.Lock()
	snap := h.members.snaps[campaignID]
	h.members.mu.Unlock()
	if snap != nil && snap.fingerprint == fp {
		return snap, nil
	}
	snap = &clusterSnapshot{fingerprint: fp, clusters: cs, members: map[int64][]int64{}, byIdea: map[int64]int64{}}
	for _, c := range cs {
		ideas, err := h.store.ClusterIdeas(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(ideas))
		for i := range ideas {
			ids[i] = ideas[i].ID
			snap.byIdea[ideas[i].ID] = c.ID
		}
		snap.members[c.ID] = ids
	}
	h.members.mu.Lock()
	h.members.snaps[campaignID] = snap
	h.members.mu.Unlock()
	return snap, nil
}

// queueCluster is the cluster an idea in the queue belongs to.
type queueCluster struct {
	ID    int64  `json:"id"`
	Label string `json:"label"`
	Size  int    `json:"size"` // ideas in it, any status
}

// queueClusterOf names the cluster of two or more ideas that idea belongs
// to, or nil. snaps caches each campaign's snapshot for one request.
func (h *handler) queueClusterOf(ctx context.Context, snaps map[int64]*clusterSnapshot, idea *store.Idea) (*queueCluster, error) {
	snap, ok := snaps[idea.CampaignID]
	if !ok {
		var err error
		if snap, err = h.clusterSnapshot(ctx, idea.CampaignID); err != nil {
			return nil, err
		}
		snaps[idea.CampaignID] = snap
	}
	cid, ok := snap.byIdea[idea.ID]
	if !ok || len(snap.members[cid]) < 2 {
		return nil, nil
	}
	for _, c := range snap.clusters {
		if c.ID == cid {
			return &queueCluster{ID: c.ID, Label: c.Label, Size: len(snap.members[cid])}, nil
		}
	}
	return nil, nil
}

// clusterRow is a cluster on the moderators' list, with figures computed
// from its members as they are now (pending and public ones count).
type clusterRow struct {
	ID             int64
	Label          string
	Renamed        bool
	Keywords       []string
	Size           int // pending and public members
	Members        int // members of any status
	Supports       int
	First, Last    *time.Time
	Score          float64
	Representative *clusterIdea
}

// clusterIdea is an idea as a moderator sees it on the cluster pages.
type clusterIdea struct {
	ID          int64
	Title       string
	Body        string
	Status      string
	StatusLabel string
	Public      bool
	Hidden      bool
	Supports    int
	CreatedAt   time.Time
}

func newClusterIdea(i *store.Idea) *clusterIdea {
	return &clusterIdea{ID: i.ID, Title: publicTitle(i), Body: publicBody(i), Status: string(i.Status),
		StatusLabel: i.Status.Label(), Public: i.Visible(), Hidden: i.Hidden, Supports: i.TotalSupports(), CreatedAt: i.CreatedAt}
}

// clusterKeywords decodes a cluster's stored keywords.
func clusterKeywords(c *store.Cluster) []string {
	var kw []string
	_ = json.Unmarshal([]byte(c.Keywords), &kw)
	return kw
}

// membersOf loads the members of the clusters (any status), by id.
func (h *handler) membersOf(ctx context.Context, snap *clusterSnapshot, cs []store.Cluster) (map[int64]*store.Idea, error) {
	var ids []int64
	for _, c := range cs {
		ids = append(ids, snap.members[c.ID]...)
	}
	ideas, err := h.store.IdeasByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*store.Idea, len(ideas))
	for i := range ideas {
		out[ideas[i].ID] = &ideas[i]
	}
	return out, nil
}

// clusterRows builds the moderators' list of a campaign's clusters, hottest
// first by their live figures.
func (h *handler) clusterRows(ctx context.Context, campaignID int64) ([]clusterRow, error) {
	snap, err := h.clusterSnapshot(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	// Clusters without members are left behind when a rebuild finds every
	// idea of a cluster pinned elsewhere by a moderator; they are not shown.
	var cs []store.Cluster
	for _, c := range snap.clusters {
		if len(snap.members[c.ID]) > 0 && len(cs) < listedClusters {
			cs = append(cs, c)
		}
	}
	byID, err := h.membersOf(ctx, snap, cs)
	if err != nil {
		return nil, err
	}
	now := h.now()
	rows := make([]clusterRow, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		r := clusterRow{ID: c.ID, Label: c.Label, Renamed: c.Renamed, Keywords: clusterKeywords(c)}
		for _, id := range snap.members[c.ID] {
			idea, ok := byID[id]
			if !ok {
				continue
			}
			r.Members++
			if !themes.Clusterable(idea.Status) {
				continue
			}
			r.Size++
			r.Supports += idea.TotalSupports()
			at := idea.CreatedAt
			if r.First == nil || at.Before(*r.First) {
				r.First = &at
			}
			if r.Last == nil || at.After(*r.Last) {
				r.Last = &at
			}
		}
		if c.RepresentativeID != nil {
			if idea, ok := byID[*c.RepresentativeID]; ok {
				r.Representative = newClusterIdea(idea)
			}
		}
		if r.Last != nil {
			r.Score = cluster.HotScore(r.Size, r.Supports, now.Sub(*r.Last), cluster.DefaultHalfLife)
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b clusterRow) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return b.Size - a.Size
	})
	return rows, nil
}

// hotIssue is a cluster as the public sees it: figures from its public
// ideas only, named by a moderator or by keywords its public ideas contain.
type hotIssue struct {
	ID       int64     `json:"id"`
	Label    string    `json:"label"`
	Keywords []string  `json:"keywords"`
	Ideas    int       `json:"ideas"`
	Supports int       `json:"supports"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
	Score    float64   `json:"score"`
	// Example is the most supported public idea of the issue.
	Example hotExample `json:"example"`
}

// hotExample is a public idea that stands for a hot issue.
type hotExample struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// hotIssues computes a campaign's hot issues for the public from its public
// ideas alone: a cluster counts only its visible ideas (published or later,
// not hidden), clusters with fewer than two are left out, and nothing of a
// pending idea is shown — not its title, and not a keyword only pending
// ideas contain. The candidates are the hottest clusters by stored score.
func (h *handler) hotIssues(ctx context.Context, campaignID int64, limit int) ([]hotIssue, error) {
	snap, err := h.clusterSnapshot(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	cs := snap.clusters[:min(len(snap.clusters), hotCandidates)]
	byID, err := h.membersOf(ctx, snap, cs)
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := []hotIssue{}
	for i := range cs {
		c := &cs[i]
		var public []*store.Idea
		for _, id := range snap.members[c.ID] {
			if idea, ok := byID[id]; ok && idea.Visible() {
				public = append(public, idea)
			}
		}
		if len(public) < 2 {
			continue
		}
		hi := hotIssue{ID: c.ID, Ideas: len(public), Keywords: []string{}}
		var text strings.Builder
		var top *store.Idea
		for _, idea := range public {
			hi.Supports += idea.TotalSupports()
			if hi.FirstAt.IsZero() || idea.CreatedAt.Before(hi.FirstAt) {
				hi.FirstAt = idea.CreatedAt
			}
			if idea.CreatedAt.After(hi.LastAt) {
				hi.LastAt = idea.CreatedAt
			}
			if top == nil || idea.TotalSupports() > top.TotalSupports() ||
				(idea.TotalSupports() == top.TotalSupports() && idea.ID < top.ID) {
				top = idea
			}
			text.WriteString(foldText(publicTitle(idea)))
			text.WriteByte('\n')
			text.WriteString(foldText(publicBody(idea)))
			text.WriteByte('\n')
		}
		publicText := text.String()
		for _, k := range clusterKeywords(c) {
			if strings.Contains(publicText, foldText(k)) {
				hi.Keywords = append(hi.Keywords, k)
			}
		}
		hi.Example = hotExample{ID: top.ID, Title: publicTitle(top)}
		switch {
		case c.Renamed:
			hi.Label = c.Label
		case len(hi.Keywords) > 0:
			hi.Label = strings.Join(hi.Keywords[:min(len(hi.Keywords), 3)], "、")
		default:
			hi.Label = hi.Example.Title
		}
		hi.FirstAt, hi.LastAt = hi.FirstAt.UTC(), hi.LastAt.UTC()
		hi.Score = cluster.HotScore(hi.Ideas, hi.Supports, now.Sub(hi.LastAt), cluster.DefaultHalfLife)
		out = append(out, hi)
	}
	slices.SortStableFunc(out, func(a, b hotIssue) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return b.Ideas - a.Ideas
	})
	return out[:min(len(out), limit)], nil
}

// foldText lowers case and folds full-width letters and digits, as the
// clustering does before it picks keywords.
func foldText(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		return unicode.ToLower(r)
	}, s)
}

// apiHotIssues is GET /api/v1/campaigns/:slug/hot-issues.
func (h *handler) apiHotIssues(c *fiber.Ctx) error {
	camp, err := h.campaignFor(c, c.Params("slug"))
	if err != nil {
		return err
	}
	hot, err := h.hotIssues(c.UserContext(), camp.ID, hotIssuesShown)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"hot_issues": hot})
}

type clustersPage struct {
	Campaigns []store.Campaign
	Campaign  *store.Campaign
	Clusters  []clusterRow
	Notice    string
	Problem   string
}

// clustersHTML is GET /moderation/clusters?campaign=SLUG.
func (h *handler) clustersHTML(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cs, _, err := h.store.Campaigns(ctx, false, store.Page{PerPage: store.MaxPerPage})
	if err != nil {
		return err
	}
	flash := takeFlash(c)
	p := clustersPage{Campaigns: cs, Notice: flash["notice"], Problem: flash["problem"]}
	if slug := c.Query("campaign"); slug != "" {
		if p.Campaign, err = h.campaignFor(c, slug); err != nil {
			return err
		}
		if p.Clusters, err = h.clusterRows(ctx, p.Campaign.ID); err != nil {
			return err
		}
	}
	title := "热点聚类"
	if p.Campaign != nil {
		title += " - " + p.Campaign.Title
	}
	return h.render(c, "clusters", title, p)
}

type clusterPage struct {
	Cluster  store.Cluster
	Keywords []string
	Campaign *store.Campaign
	Ideas    []*clusterIdea
	Others   []mergeTarget // the campaign's other clusters, hottest first
	Back     string        // the campaign's cluster list
	Notice   string
	Problem  string
}

// mergeTarget is a cluster this one may be merged into.
type mergeTarget struct {
	ID    int64
	Label string
	Size  int // ideas in it, any status
}

// clusterHTML is GET /moderation/clusters/:id: a cluster's ideas, any status.
func (h *handler) clusterHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	cl, err := h.store.ClusterByID(ctx, id)
	if err != nil {
		return err
	}
	camp, err := h.store.CampaignByID(ctx, cl.CampaignID)
	if err != nil {
		return err
	}
	ideas, err := h.store.ClusterIdeas(ctx, id)
	if err != nil {
		return err
	}
	snap, err := h.clusterSnapshot(ctx, cl.CampaignID)
	if err != nil {
		return err
	}
	var others []mergeTarget
	for _, o := range snap.clusters {
		if n := len(snap.members[o.ID]); n > 0 && o.ID != id && len(others) < listedClusters {
			others = append(others, mergeTarget{ID: o.ID, Label: o.Label, Size: n})
		}
	}
	flash := takeFlash(c)
	p := clusterPage{Cluster: *cl, Keywords: clusterKeywords(cl), Campaign: camp, Others: others, Back: clustersLink(camp.Slug),
		Notice: flash["notice"], Problem: flash["problem"]}
	for i := range ideas {
		p.Ideas = append(p.Ideas, newClusterIdea(&ideas[i]))
	}
	return h.render(c, "cluster", "热点聚类："+cl.Label, p)
}

// backToCluster redirects to a cluster's page with a one-time message.
func backToCluster(c *fiber.Ctx, id int64, key, msg string) error {
	setFlash(c, key, msg)
	return c.Redirect(fmt.Sprintf("/moderation/clusters/%d", id), fiber.StatusSeeOther)
}

// renameClusterHTML is POST /moderation/clusters/:id/rename.
func (h *handler) renameClusterHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	label := strings.Join(strings.Fields(c.FormValue("label")), " ")
	if label == "" || !utf8.ValidString(label) || utf8.RuneCountInString(label) > maxClusterLabel {
		return backToCluster(c, id, "problem", fmt.Sprintf("名称不能为空，也不能超过 %d 字", maxClusterLabel))
	}
	if err := h.store.RenameCluster(c.UserContext(), id, label, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	return backToCluster(c, id, "notice", "已重命名为“"+label+"”，重新计算聚类时保留该名称")
}

// mergeClusterHTML is POST /moderation/clusters/:id/merge: every idea of
// this cluster moves into the cluster named by the form's "into".
func (h *handler) mergeClusterHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := h.store.ClusterByID(ctx, id); err != nil {
		return err
	}
	into, perr := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(c.FormValue("into")), "#"), 10, 64)
	if perr != nil || into < 1 {
		return backToCluster(c, id, "problem", "请填写要并入的聚类编号")
	}
	err = h.store.MergeClusters(ctx, into, id, store.ActorFor(currentUser(c), c.IP()))
	switch {
	case errors.Is(err, store.ErrBadTarget):
		return backToCluster(c, id, "problem", "只能并入同一活动中的另一个聚类")
	case errors.Is(err, store.ErrNotFound):
		return backToCluster(c, id, "problem", fmt.Sprintf("找不到聚类 #%d", into))
	case err != nil:
		return err
	}
	return backToCluster(c, into, "notice", fmt.Sprintf("已将聚类 #%d 的建议并入本聚类", id))
}

// moveOutHTML is POST /moderation/clusters/:id/move-out: the form's "idea"
// leaves the cluster for one of its own, and rebuilds leave it there.
func (h *handler) moveOutHTML(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ideas, err := h.store.ClusterIdeas(ctx, id)
	if err != nil {
		return err
	}
	if len(ideas) == 0 {
		if _, err := h.store.ClusterByID(ctx, id); err != nil {
			return err
		}
	}
	ideaID, perr := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(c.FormValue("idea")), "#"), 10, 64)
	if perr != nil || !slices.ContainsFunc(ideas, func(i store.Idea) bool { return i.ID == ideaID }) {
		return backToCluster(c, id, "problem", "该建议不在此聚类中")
	}
	if err := h.store.MoveOutOfCluster(ctx, ideaID, store.ActorFor(currentUser(c), c.IP())); err != nil {
		return err
	}
	return backToCluster(c, id, "notice", fmt.Sprintf("#%d 已移出本聚类，之后重新计算也不会再并入", ideaID))
}

// clustersLink is the address of a campaign's cluster list.
func clustersLink(slug string) string {
	return "/moderation/clusters?" + url.Values{"campaign": {slug}}.Encode()
}
