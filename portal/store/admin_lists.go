package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SensitiveWords returns the whole moderation word list.
func (s *Store) SensitiveWords(ctx context.Context) ([]SensitiveWord, error) {
	var ws []SensitiveWord
	err := s.r.WithContext(ctx).Order("category, word").Find(&ws).Error
	return ws, wrap(err, "sensitive words")
}

// AddSensitiveWords adds words (an existing word is updated to the new
// category and action), audited.
func (s *Store) AddSensitiveWords(ctx context.Context, ws []SensitiveWord, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, w := range ws {
			w.CreatedBy = by.ID
			var existing SensitiveWord
			err := tx.Where("word = ?", w.Word).Take(&existing).Error
			switch {
			case err == nil:
				if err := tx.Model(&existing).Updates(map[string]any{"category": w.Category, "action": w.Action}).Error; err != nil {
					return err
				}
			case err == gorm.ErrRecordNotFound:
				if err := tx.Create(&w).Error; err != nil {
					return err
				}
			default:
				return err
			}
		}
		return appendAudit(tx, by.entry("words.add", "sensitive_words", 0, nil, ws, ""))
	})
	return wrap(err, "add sensitive words")
}

// DeleteSensitiveWord removes a word, audited.
func (s *Store) DeleteSensitiveWord(ctx context.Context, id int64, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var w SensitiveWord
		if err := tx.Take(&w, id).Error; err != nil {
			return err
		}
		if err := tx.Delete(&SensitiveWord{}, id).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("words.delete", "sensitive_words", id, w, nil, ""))
	})
	return wrap(err, "delete sensitive word %d", id)
}

// DictionaryTerms returns the words admins added to the segmentation dictionary.
func (s *Store) DictionaryTerms(ctx context.Context) ([]DictionaryTerm, error) {
	var ts []DictionaryTerm
	err := s.r.WithContext(ctx).Order("term").Find(&ts).Error
	return ts, wrap(err, "dictionary terms")
}

// DictionaryEntry is a word admins added to the segmentation dictionary as
// the admin page lists it: when, and by whom.
type DictionaryEntry struct {
	ID        int64
	Term      string
	CreatedAt time.Time
	// CreatedBy is the login name of the admin who added the word; "" when
	// the word was not added by a signed-in user.
	CreatedBy string
}

// DictionaryEntries returns the words admins added to the segmentation
// dictionary, newest first, each with who added it.
func (s *Store) DictionaryEntries(ctx context.Context) ([]DictionaryEntry, error) {
	out := []DictionaryEntry{}
	err := s.r.WithContext(ctx).Model(&DictionaryTerm{}).
		Select("dictionary_terms.id, dictionary_terms.term, dictionary_terms.created_at, COALESCE(users.name, '') AS created_by").
		Joins("LEFT JOIN users ON users.id = dictionary_terms.created_by").
		Order("dictionary_terms.id DESC").Scan(&out).Error
	return out, wrap(err, "dictionary entries")
}

// AddDictionaryTerms adds terms (existing ones are kept), audited. It
// returns the terms that were new.
func (s *Store) AddDictionaryTerms(ctx context.Context, terms []string, by Actor) ([]string, error) {
	var added []string
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, t := range terms {
			var n int64
			if err := tx.Model(&DictionaryTerm{}).Where("term = ?", t).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if err := tx.Create(&DictionaryTerm{Term: t, CreatedBy: by.ID}).Error; err != nil {
				return err
			}
			added = append(added, t)
		}
		if len(added) == 0 {
			return nil
		}
		return appendAudit(tx, by.entry("dictionary.add", "dictionary", 0, nil, added, ""))
	})
	return added, wrap(err, "add dictionary terms")
}

// SaveThemeModel stores a newly trained theme model for a campaign.
func (s *Store) SaveThemeModel(ctx context.Context, m *ThemeModel) error {
	return wrap(s.w.WithContext(ctx).Create(m).Error, "save theme model for campaign %d", m.CampaignID)
}

// LatestThemeModels returns the newest model of every campaign that has one.
func (s *Store) LatestThemeModels(ctx context.Context) ([]ThemeModel, error) {
	var ms []ThemeModel
	err := s.r.WithContext(ctx).
		Where("id IN (SELECT MAX(id) FROM theme_models GROUP BY campaign_id)").Find(&ms).Error
	return ms, wrap(err, "latest theme models")
}

// LatestThemeModel returns a campaign's newest model, or ErrNotFound.
func (s *Store) LatestThemeModel(ctx context.Context, campaignID int64) (*ThemeModel, error) {
	var m ThemeModel
	err := s.r.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("id DESC").Take(&m).Error
	if err != nil {
		return nil, wrap(err, "theme model of campaign %d", campaignID)
	}
	return &m, nil
}

// LabeledIdea is a training example: an idea whose theme is known.
type LabeledIdea struct {
	ID    int64
	Title string
	Body  string
	Theme string
}

// LabeledIdeas returns a campaign's ideas whose theme a moderator confirmed
// or an import set (not merely suggested), for training the classifier.
func (s *Store) LabeledIdeas(ctx context.Context, campaignID int64) ([]LabeledIdea, error) {
	var out []LabeledIdea
	err := s.r.WithContext(ctx).Table("ideas").
		Select("ideas.id, ideas.title, ideas.body, themes.name AS theme").
		Joins("JOIN themes ON themes.id = ideas.theme_id").
		Where("ideas.campaign_id = ? AND (ideas.theme_confirmed = ? OR ideas.theme_suggested = ?) AND ideas.status NOT IN ?",
			campaignID, true, false, []IdeaStatus{IdeaRejected, IdeaWithdrawn}).
		Order("ideas.id").Scan(&out).Error
	return out, wrap(err, "labeled ideas of campaign %d", campaignID)
}

// ReplaceClusters stores a fresh clustering of a campaign: clusters named by
// a moderator keep their names when a new cluster has the same
// representative; ideas a moderator pinned stay where they were put.
func (s *Store) ReplaceClusters(ctx context.Context, campaignID int64, clusters []Cluster, members [][]int64) error {
	if len(clusters) != len(members) {
		return wrap(gorm.ErrInvalidData, "replace clusters: %d clusters, %d member lists", len(clusters), len(members))
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old []Cluster
		if err := tx.Where("campaign_id = ?", campaignID).Find(&old).Error; err != nil {
			return err
		}
		names := map[int64]string{}
		for _, c := range old {
			if c.Renamed && c.RepresentativeID != nil {
				names[*c.RepresentativeID] = c.Label
			}
		}
		var pinned []ClusterMember
		if err := tx.Joins("JOIN clusters ON clusters.id = cluster_members.cluster_id").
			Where("clusters.campaign_id = ? AND cluster_members.pinned = ?", campaignID, true).Find(&pinned).Error; err != nil {
			return err
		}
		keep := map[int64]bool{}
		for _, p := range pinned {
			keep[p.IdeaID] = true
		}
		// Pinned members live in their own (kept) clusters.
		keepClusters := map[int64]bool{}
		for _, p := range pinned {
			keepClusters[p.ClusterID] = true
		}
		for _, c := range old {
			if keepClusters[c.ID] {
				continue
			}
			if err := tx.Where("cluster_id = ?", c.ID).Delete(&ClusterMember{}).Error; err != nil {
				return err
			}
			if err := tx.Delete(&Cluster{}, c.ID).Error; err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		for i := range clusters {
			// Members a moderator pinned elsewhere stay there; a cluster left
			// with fewer than two of its own is not a cluster.
			var own []int64
			for _, id := range members[i] {
				if !keep[id] {
					own = append(own, id)
				}
			}
			if len(own) < 2 {
				continue
			}
			c := clusters[i]
			c.ID, c.CampaignID, c.CreatedAt, c.UpdatedAt = 0, campaignID, now, now
			if len(own) < len(members[i]) {
				c.Size = len(own)
			}
			if c.RepresentativeID != nil {
				if n, ok := names[*c.RepresentativeID]; ok {
					c.Label, c.Renamed = n, true
				}
			}
			if c.Keywords == "" {
				c.Keywords = "[]"
			}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
			for _, id := range own {
				if err := tx.Create(&ClusterMember{IdeaID: id, ClusterID: c.ID}).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	return wrap(err, "replace clusters of campaign %d", campaignID)
}

// SetClusterFigures stores a cluster's recomputed size, supports, dates
// and score (after a merge or a move).
func (s *Store) SetClusterFigures(ctx context.Context, c *Cluster) error {
	err := s.w.WithContext(ctx).Model(&Cluster{}).Where("id = ?", c.ID).Updates(map[string]any{
		"size": c.Size, "supports": c.Supports, "first_at": c.FirstAt, "last_at": c.LastAt,
		"score": c.Score, "updated_at": time.Now().UTC()}).Error
	return wrap(err, "set figures of cluster %d", c.ID)
}

// Clusters lists a campaign's clusters by hot-issue score.
func (s *Store) Clusters(ctx context.Context, campaignID int64, limit int) ([]Cluster, error) {
	var cs []Cluster
	err := s.r.WithContext(ctx).Where("campaign_id = ? AND size > 0", campaignID).Order("score DESC, id").Limit(limit).Find(&cs).Error
	return cs, wrap(err, "clusters of campaign %d", campaignID)
}

// ClusterByID returns a cluster.
func (s *Store) ClusterByID(ctx context.Context, id int64) (*Cluster, error) {
	var c Cluster
	if err := s.r.WithContext(ctx).Take(&c, id).Error; err != nil {
		return nil, wrap(err, "cluster %d", id)
	}
	return &c, nil
}

// ClusterIdeas returns a cluster's ideas (any status), most supported first.
func (s *Store) ClusterIdeas(ctx context.Context, clusterID int64) ([]Idea, error) {
	var is []Idea
	err := s.r.WithContext(ctx).Joins("JOIN cluster_members m ON m.idea_id = ideas.id").
		Where("m.cluster_id = ?", clusterID).Order("supports_count + imported_supports DESC, ideas.id").Find(&is).Error
	return is, wrap(err, "ideas of cluster %d", clusterID)
}

// RenameCluster names a cluster; rebuilds keep the name. Audited.
func (s *Store) RenameCluster(ctx context.Context, id int64, label string, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Cluster
		if err := tx.Take(&c, id).Error; err != nil {
			return err
		}
		if err := tx.Model(&c).Updates(map[string]any{"label": label, "renamed": true, "updated_at": time.Now().UTC()}).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("cluster.rename", "cluster", id, map[string]string{"label": c.Label}, map[string]string{"label": label}, ""))
	})
	return wrap(err, "rename cluster %d", id)
}

// MergeClusters moves every idea of cluster from into cluster into and
// removes from. Audited. The caller recomputes the summary figures.
func (s *Store) MergeClusters(ctx context.Context, into, from int64, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a, b Cluster
		if err := tx.Take(&a, into).Error; err != nil {
			return err
		}
		if err := tx.Take(&b, from).Error; err != nil {
			return err
		}
		if a.CampaignID != b.CampaignID || a.ID == b.ID {
			return ErrBadTarget
		}
		if err := tx.Model(&ClusterMember{}).Where("cluster_id = ?", from).
			Updates(map[string]any{"cluster_id": into, "pinned": true}).Error; err != nil {
			return err
		}
		if err := tx.Model(&ClusterMember{}).Where("cluster_id = ?", into).Update("pinned", true).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Cluster{}, from).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("cluster.merge", "cluster", into, map[string]int64{"from": from}, nil, ""))
	})
	return wrap(err, "merge cluster %d into %d", from, into)
}

// MoveOutOfCluster takes an idea out of its cluster into a cluster of its
// own (pinned, so rebuilds respect the moderator's choice). Audited.
func (s *Store) MoveOutOfCluster(ctx context.Context, ideaID int64, by Actor) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m ClusterMember
		if err := tx.Where("idea_id = ?", ideaID).Take(&m).Error; err != nil {
			return err
		}
		var c Cluster
		if err := tx.Take(&c, m.ClusterID).Error; err != nil {
			return err
		}
		var idea Idea
		if err := tx.Take(&idea, ideaID).Error; err != nil {
			return err
		}
		now := time.Now().UTC()
		single := Cluster{CampaignID: c.CampaignID, ThemeID: idea.ThemeID, Label: idea.Title, Keywords: "[]", Size: 1,
			Supports: idea.TotalSupports(), FirstAt: &idea.CreatedAt, LastAt: &idea.CreatedAt, RepresentativeID: &idea.ID,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&single).Error; err != nil {
			return err
		}
		if err := tx.Model(&ClusterMember{}).Where("idea_id = ?", ideaID).
			Updates(map[string]any{"cluster_id": single.ID, "pinned": true}).Error; err != nil {
			return err
		}
		if err := tx.Model(&Cluster{}).Where("id = ?", c.ID).
			Updates(map[string]any{"size": gorm.Expr("size - 1"), "supports": gorm.Expr("supports - ?", idea.TotalSupports()), "updated_at": now}).Error; err != nil {
			return err
		}
		return appendAudit(tx, by.entry("cluster.move_out", "idea", ideaID, map[string]int64{"cluster": c.ID}, map[string]int64{"cluster": single.ID}, ""))
	})
	return wrap(err, "move idea %d out of its cluster", ideaID)
}

// IdeasByIDs loads ideas by id (any status), in no particular order.
func (s *Store) IdeasByIDs(ctx context.Context, ids []int64) ([]Idea, error) {
	var is []Idea
	if len(ids) == 0 {
		return is, nil
	}
	err := s.r.WithContext(ctx).Where("id IN ?", ids).Find(&is).Error
	return is, wrap(err, "ideas by id")
}

// IdeaSummary is what a list of ideas from many places shows, such as
// search hits: enough to decide who may see each and to show its title and
// a snippet, without contact details, moderation data or other internals.
// Title and Body are the texts shown in public: the masked copies, or the
// texts as sent where nothing was masked.
type IdeaSummary struct {
	ID            int64
	CampaignID    int64
	CampaignTitle string
	Title         string
	Body          string
	Status        IdeaStatus
	Hidden        bool
}

// Visible reports whether residents may see the idea (see Idea.Visible).
func (i *IdeaSummary) Visible() bool { return i.Status.Public() && !i.Hidden }

// IdeaSummariesByIDs loads the summaries of ideas by id (any status), in no
// particular order: a search page's hits, without the 40 other columns.
func (s *Store) IdeaSummariesByIDs(ctx context.Context, ids []int64) ([]IdeaSummary, error) {
	return s.ideaSummaries(ctx, ids, true)
}

// IdeaTitlesByIDs is IdeaSummariesByIDs without the bodies (Body is
// empty): what a list of titles shows, such as a draft's similar ideas.
func (s *Store) IdeaTitlesByIDs(ctx context.Context, ids []int64) ([]IdeaSummary, error) {
	return s.ideaSummaries(ctx, ids, false)
}

// ideaSummaries is IdeaSummariesByIDs, with or without the bodies.
func (s *Store) ideaSummaries(ctx context.Context, ids []int64, bodies bool) ([]IdeaSummary, error) {
	out := []IdeaSummary{}
	if len(ids) == 0 {
		return out, nil
	}
	// One copy of each text, chosen by the database: a search page reads
	// the bodies of all its hits, and the masked and the sent copy of a
	// long letter are both long. The campaign's title comes in the same
	// query.
	cols := []any{"ideas.campaign_id", "COALESCE(campaigns.title, '') AS campaign_title",
		"CASE WHEN ideas.title_masked <> '' THEN ideas.title_masked ELSE ideas.title END AS title", "ideas.status", "ideas.hidden"}
	if bodies {
		cols = append(cols, "CASE WHEN ideas.body_masked <> '' THEN ideas.body_masked ELSE ideas.body END AS body")
	}
	err := s.r.WithContext(ctx).Model(&Idea{}).Select("ideas.id", cols...).
		Joins("LEFT JOIN campaigns ON campaigns.id = ideas.campaign_id").
		Where("ideas.id IN ?", ids).Find(&out).Error
	return out, wrap(err, "idea summaries by id")
}

// IdeasAfter returns up to limit ideas with id > after, in id order (for
// reindexing and clustering in batches).
func (s *Store) IdeasAfter(ctx context.Context, campaignID, after int64, limit int) ([]Idea, error) {
	q := s.r.WithContext(ctx).Where("id > ?", after)
	if campaignID != 0 {
		q = q.Where("campaign_id = ?", campaignID)
	}
	var is []Idea
	err := q.Order("id").Limit(limit).Find(&is).Error
	return is, wrap(err, "ideas after %d", after)
}

// CountIdeas counts all ideas (for progress bars).
func (s *Store) CountIdeas(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&Idea{}).Count(&n).Error
	return n, wrap(err, "count ideas")
}

// DebatePostsByIDs loads debate posts by id.
func (s *Store) DebatePostsByIDs(ctx context.Context, ids []int64) ([]DebatePost, error) {
	var ps []DebatePost
	if len(ids) == 0 {
		return ps, nil
	}
	err := s.r.WithContext(ctx).Where("id IN ?", ids).Find(&ps).Error
	return ps, wrap(err, "debate posts by id")
}

// DebatePostsAfter returns up to limit posts with id > after, in id order.
func (s *Store) DebatePostsAfter(ctx context.Context, after int64, limit int) ([]DebatePost, error) {
	var ps []DebatePost
	err := s.r.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&ps).Error
	return ps, wrap(err, "debate posts after %d", after)
}
