// Package searchdocs turns stored ideas and debate posts into search
// documents: it is the indexer's window on the database, resolving campaign
// and theme names so the search package needs nothing but store types.
package searchdocs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"jindianzi/portal/store"
	"jindianzi/search"
)

// Entity names used in outbox rows.
const (
	EntityIdea = "idea"
	EntityPost = "debate_post"
)

// PostIDPrefix marks debate posts' document ids, so they never collide
// with ideas' (plain numbers).
const PostIDPrefix = "post-"

// Loader builds search documents from the store.
type Loader struct {
	Store *store.Store
	// Settle is how long a rebuild waits for open transactions on MySQL
	// (see search.Settler); 0 means search.DefaultSettle.
	Settle time.Duration
}

// IdeaDoc is the search document of one idea. Title and body are the masked
// copies: the index never holds personal data.
func IdeaDoc(i *store.Idea, campaign, theme string) search.Doc {
	title, body := i.TitleMasked, i.BodyMasked
	if title == "" {
		title = i.Title
	}
	if body == "" {
		body = i.Body
	}
	return search.Doc{ID: strconv.FormatInt(i.ID, 10), Kind: EntityIdea, Title: title, Body: body, Theme: theme, Campaign: campaign,
		Region: i.ProvinceCode, Status: VisibleStatus(i.Status, i.Hidden), Created: i.CreatedAt, Supports: i.TotalSupports()}
}

// HiddenStatus is the status the index gives public items hidden by
// reports or a moderator.
const HiddenStatus = "hidden"

// DebateCampaignPrefix starts the campaign value of a debate's posts in the
// index: "debate:" and the debate's slug.
const DebateCampaignPrefix = "debate:"

// VisibleStatus is the status the index filters on: hidden public items
// count as not public (HiddenStatus). Hiding says nothing about other
// statuses: a rejected idea that reports had hidden is still found as
// rejected.
func VisibleStatus(s store.IdeaStatus, hidden bool) string {
	if hidden && s.Public() {
		return HiddenStatus
	}
	return string(s)
}

// names caches campaign slugs and theme names while building a batch.
type names struct {
	st        *store.Store
	campaigns map[int64]string
	themes    map[int64]string
}

func (n *names) campaign(ctx context.Context, id int64) (string, error) {
	if s, ok := n.campaigns[id]; ok {
		return s, nil
	}
	c, err := n.st.CampaignByID(ctx, id)
	if err != nil {
		return "", err
	}
	ts, err := n.st.Themes(ctx, id)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		n.themes[t.ID] = t.Name
	}
	n.campaigns[id] = c.Slug
	return c.Slug, nil
}

// Docs loads the documents for the given entity ids. Ids with no row (deleted)
// are returned in gone, so the caller deletes them from the index.
func (l *Loader) Docs(ctx context.Context, entity string, ids []int64) (docs []search.Doc, gone []string, err error) {
	n := &names{st: l.Store, campaigns: map[int64]string{}, themes: map[int64]string{}}
	found := map[int64]bool{}
	switch entity {
	case EntityIdea:
		ideas, err := l.Store.IdeasByIDs(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		for i := range ideas {
			d, err := l.ideaDoc(ctx, n, &ideas[i])
			if err != nil {
				return nil, nil, err
			}
			docs = append(docs, d)
			found[ideas[i].ID] = true
		}
		for _, id := range ids {
			if !found[id] {
				gone = append(gone, strconv.FormatInt(id, 10))
			}
		}
	case EntityPost:
		posts, err := l.Store.DebatePostsByIDs(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		debates := map[int64]*store.Debate{}
		for i := range posts {
			p := &posts[i]
			d, ok := debates[p.DebateID]
			if !ok {
				if d, err = l.Store.DebateByID(ctx, p.DebateID); err != nil {
					return nil, nil, err
				}
				debates[p.DebateID] = d
			}
			docs = append(docs, PostDoc(p, d))
			found[p.ID] = true
		}
		for _, id := range ids {
			if !found[id] {
				gone = append(gone, PostIDPrefix+strconv.FormatInt(id, 10))
			}
		}
	default:
		return nil, nil, fmt.Errorf("searchdocs: unknown entity %q", entity)
	}
	return docs, gone, nil
}

func (l *Loader) ideaDoc(ctx context.Context, n *names, i *store.Idea) (search.Doc, error) {
	slug, err := n.campaign(ctx, i.CampaignID)
	if err != nil {
		return search.Doc{}, err
	}
	theme := ""
	if i.ThemeID != nil {
		theme = n.themes[*i.ThemeID]
	}
	return IdeaDoc(i, slug, theme), nil
}

// PostDoc is the search document of a debate post: the debate's title gives
// it a title, its theme the theme facet.
func PostDoc(p *store.DebatePost, d *store.Debate) search.Doc {
	body := p.BodyMasked
	if body == "" {
		body = p.Body
	}
	return search.Doc{ID: PostIDPrefix + strconv.FormatInt(p.ID, 10), Kind: EntityPost, Title: d.Title, Body: body, Theme: d.Theme,
		Campaign: DebateCampaignPrefix + d.Slug, Status: VisibleStatus(p.Status, p.Hidden), Created: p.CreatedAt, Supports: p.SupportsCount}
}

// ParseID tells an idea's document id from a debate post's.
func ParseID(docID string) (entity string, id int64, err error) {
	entity = EntityIdea
	if rest, ok := strings.CutPrefix(docID, PostIDPrefix); ok {
		entity, docID = EntityPost, rest
	}
	id, err = strconv.ParseInt(docID, 10, 64)
	return entity, id, err
}

// All walks every idea and debate post in id order, in batches, calling emit
// with each batch's documents (for rebuilding an index).
func (l *Loader) All(ctx context.Context, batch int, emit func([]search.Doc) error) error {
	n := &names{st: l.Store, campaigns: map[int64]string{}, themes: map[int64]string{}}
	for after := int64(0); ; {
		ideas, err := l.Store.IdeasAfter(ctx, 0, after, batch)
		if err != nil {
			return err
		}
		if len(ideas) == 0 {
			break
		}
		docs := make([]search.Doc, 0, len(ideas))
		for i := range ideas {
			d, err := l.ideaDoc(ctx, n, &ideas[i])
			if err != nil {
				return err
			}
			docs = append(docs, d)
		}
		if err := emit(docs); err != nil {
			return err
		}
		after = ideas[len(ideas)-1].ID
	}
	debates := map[int64]*store.Debate{}
	for after := int64(0); ; {
		posts, err := l.Store.DebatePostsAfter(ctx, after, batch)
		if err != nil {
			return err
		}
		if len(posts) == 0 {
			return nil
		}
		docs := make([]search.Doc, 0, len(posts))
		for i := range posts {
			p := &posts[i]
			d, ok := debates[p.DebateID]
			if !ok {
				if d, err = l.Store.DebateByID(ctx, p.DebateID); err != nil {
					return err
				}
				debates[p.DebateID] = d
			}
			docs = append(docs, PostDoc(p, d))
		}
		if err := emit(docs); err != nil {
			return err
		}
		after = posts[len(posts)-1].ID
	}
}

// OutboxAfter passes through to the store, so a Loader is a search.Source.
func (l *Loader) OutboxAfter(ctx context.Context, cursor int64, limit int) ([]store.OutboxEvent, error) {
	return l.Store.OutboxAfter(ctx, cursor, limit)
}

// OutboxHead passes through to the store.
func (l *Loader) OutboxHead(ctx context.Context) (int64, error) { return l.Store.OutboxHead(ctx) }

// OutboxSettle implements search.Settler: on MySQL/MariaDB outbox ids can
// commit out of order; SQLite has one writer, so they never do.
func (l *Loader) OutboxSettle() time.Duration {
	switch {
	case l.Store.Dialect() == store.SQLite:
		return 0
	case l.Settle > 0:
		return l.Settle
	}
	return search.DefaultSettle
}

// Count is how many documents All emits: every idea and debate post.
func (l *Loader) Count(ctx context.Context) (int64, error) {
	n, err := l.Store.CountIndexed(ctx)
	if err != nil {
		return 0, fmt.Errorf("searchdocs: count documents: %w", err)
	}
	return n, nil
}

var (
	_ search.Source    = (*Loader)(nil)
	_ search.AllSource = (*Loader)(nil)
	_ search.Settler   = (*Loader)(nil)
)
