package themes

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"jindianzi/portal/store"
	"jindianzi/search/classify"
	"jindianzi/search/cluster"
)

// Tokenizer cuts text into words: the process's jieba (*search.Segmenter).
// It satisfies both classify.Tokenizer and cluster.Tokenizer.
type Tokenizer interface {
	Cut(text string) []string
}

// labelKeywords is how many keywords name a cluster nobody has renamed.
const labelKeywords = 3

// builtPrefix namespaces the markers BuildClusters leaves in the store's
// key/value table: per campaign, the newest idea the clustering has seen.
const builtPrefix = "themes:clusters-built:"

// built is the marker BuildClusters stores after each build.
type built struct {
	MaxIdeaID int64     `json:"max_idea_id"`
	At        time.Time `json:"at"`
}

// Clusterable reports whether an idea in this status takes part in
// clustering: it waits for a moderator or is public. Rejected, withdrawn,
// merged ideas and those sent back for changes do not.
func Clusterable(s store.IdeaStatus) bool {
	return s == store.IdeaPending || s.Public()
}

// BuildClusters clusters a campaign's pending and public ideas (title and
// body, personal data masked) and stores every cluster of two or more ideas
// in place of the previous clustering; moderators' names and pinned ideas
// are kept (store.ReplaceClusters). It returns how many clusters it stored.
func BuildClusters(ctx context.Context, st *store.Store, tok Tokenizer, campaignID int64) (int, error) {
	var items []cluster.Item
	themeOf := map[int64]*int64{}
	titles := map[int64]string{}
	var maxID int64
	const batch = 1000
	for after := int64(0); ; {
		page, err := st.IdeasAfter(ctx, campaignID, after, batch)
		if err != nil {
			return 0, err
		}
		for i := range page {
			idea := &page[i]
			after, maxID = idea.ID, max(maxID, idea.ID)
			if !Clusterable(idea.Status) {
				continue
			}
			title := maskedTitle(idea)
			items = append(items, cluster.Item{ID: idea.ID, Text: classify.Text(title, maskedBody(idea)),
				Supports: idea.TotalSupports(), Created: idea.CreatedAt})
			themeOf[idea.ID] = idea.ThemeID
			titles[idea.ID] = title
		}
		if len(page) < batch {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	var rows []store.Cluster
	var members [][]int64
	for _, c := range cluster.Build(items, cluster.Options{Tokenizer: tok, Now: now}) {
		if c.Size < 2 {
			continue
		}
		kw := c.Keywords
		if kw == nil {
			kw = []string{}
		}
		kj, err := json.Marshal(kw)
		if err != nil {
			return 0, err
		}
		rep := c.Representative
		row := store.Cluster{Label: Label(kw, titles[rep]), Keywords: string(kj), Size: c.Size,
			Supports: c.Supports, RepresentativeID: &rep, Score: c.Score, ThemeID: majorityTheme(c.Members, themeOf)}
		if !c.First.IsZero() {
			first, last := c.First.UTC(), c.Last.UTC()
			row.FirstAt, row.LastAt = &first, &last
		}
		rows = append(rows, row)
		members = append(members, c.Members)
	}
	if err := st.ReplaceClusters(ctx, campaignID, rows, members); err != nil {
		return 0, err
	}
	mark, _ := json.Marshal(built{MaxIdeaID: maxID, At: now})
	if err := st.KV(builtPrefix).Set(strconv.FormatInt(campaignID, 10), mark, 0); err != nil {
		return len(rows), err
	}
	return len(rows), nil
}

// Label names a cluster nobody has renamed: its first keywords joined with
// "、", or, without keywords, its representative idea's title.
func Label(keywords []string, representativeTitle string) string {
	if len(keywords) > 0 {
		return strings.Join(keywords[:min(len(keywords), labelKeywords)], "、")
	}
	return truncate(representativeTitle, 40)
}

// majorityTheme is the theme most members are filed under (ties: the
// smaller id), or nil when none has one.
func majorityTheme(ids []int64, themeOf map[int64]*int64) *int64 {
	counts := map[int64]int{}
	var best int64
	for _, id := range ids {
		t := themeOf[id]
		if t == nil {
			continue
		}
		counts[*t]++
		n := counts[*t]
		if n > counts[best] || (n == counts[best] && *t < best) {
			best = *t
		}
	}
	if best == 0 {
		return nil
	}
	return &best
}

// Rebuilt reports one campaign RefreshDue clustered again.
type Rebuilt struct {
	CampaignID int64
	Slug       string
	Clusters   int
}

// RefreshDue rebuilds the clusters of every campaign that has ideas newer
// than its last clustering (or was never clustered and has ideas). Failures
// of one campaign do not stop the others; they are returned joined.
func RefreshDue(ctx context.Context, st *store.Store, tok Tokenizer) ([]Rebuilt, error) {
	camps, err := allCampaigns(ctx, st)
	if err != nil {
		return nil, err
	}
	var done []Rebuilt
	var errs []error
	for _, c := range camps {
		if ctx.Err() != nil {
			break
		}
		due, err := clustersDue(ctx, st, c.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !due {
			continue
		}
		n, err := BuildClusters(ctx, st, tok, c.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, Rebuilt{CampaignID: c.ID, Slug: c.Slug, Clusters: n})
	}
	return done, errors.Join(errs...)
}

// clustersDue reports whether a campaign has ideas its clustering has not seen.
func clustersDue(ctx context.Context, st *store.Store, campaignID int64) (bool, error) {
	var mark built
	raw, err := st.KV(builtPrefix).Get(strconv.FormatInt(campaignID, 10))
	if err != nil {
		return false, err
	}
	if raw != nil {
		_ = json.Unmarshal(raw, &mark) // an unreadable marker means "never built"
	}
	newer, err := st.IdeasAfter(ctx, campaignID, mark.MaxIdeaID, 1)
	if err != nil {
		return false, err
	}
	return len(newer) > 0, nil
}

func maskedTitle(i *store.Idea) string {
	if i.TitleMasked != "" {
		return i.TitleMasked
	}
	return i.Title
}

func maskedBody(i *store.Idea) string {
	if i.BodyMasked != "" {
		return i.BodyMasked
	}
	return i.Body
}

// truncate keeps the first n characters of s, marking a cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
