package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PublicStatuses are the statuses whose ideas everyone may read.
func PublicStatuses() []IdeaStatus {
	return []IdeaStatus{IdeaPublished, IdeaAccepted, IdeaInProgress, IdeaAdopted, IdeaPartlyAdopted, IdeaDeclined, IdeaImplemented}
}

// Visible reports whether everyone may read the idea.
func (i *Idea) Visible() bool { return i.Status.Public() && !i.Hidden }

// TotalSupports counts residents' supports plus supports carried over from an import.
func (i *Idea) TotalSupports() int { return i.SupportsCount + i.ImportedSupports }

// ErrTrackingCodeTaken is returned by CreateIdea when the generated tracking
// code already exists; the caller draws a new one and tries again.
var ErrTrackingCodeTaken = errors.New("store: tracking code taken")

// CreateIdea writes a new idea, its first status event and an outbox row in
// one transaction. A repeated idempotency key is ErrConflict (look the first
// receipt up with IdeaByIdempotencyKey); a tracking-code collision is
// ErrTrackingCodeTaken.
//
// Attachments (files already saved) are recorded in the same transaction.
func (s *Store) CreateIdea(ctx context.Context, idea *Idea, files []Attachment, note string) error {
	if idea.Status.Public() && idea.PublishedAt == nil {
		now := time.Now().UTC()
		idea.PublishedAt = &now
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(idea).Error; err != nil {
			return err
		}
		ev := &IdeaStatusEvent{IdeaID: idea.ID, ToStatus: idea.Status, ActorID: idea.AuthorID,
			ActorRole: string(RoleResident), Note: note, Public: true}
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		for i := range files {
			files[i].IdeaID = idea.ID
		}
		if len(files) > 0 {
			if err := tx.Create(&files).Error; err != nil {
				return err
			}
		}
		return appendOutbox(tx, "idea", idea.ID, "upsert")
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Which unique key? Only the idempotency key and tracking code can clash.
		if idea.IdempotencyKey != nil {
			if _, ierr := s.IdeaByIdempotencyKey(ctx, *idea.IdempotencyKey); ierr == nil {
				return wrap(err, "create idea")
			}
		}
		idea.ID = 0
		return ErrTrackingCodeTaken
	}
	return wrap(err, "create idea")
}

// IdeaByIdempotencyKey returns the idea first created with that key.
func (s *Store) IdeaByIdempotencyKey(ctx context.Context, key string) (*Idea, error) {
	var i Idea
	if err := s.w.WithContext(ctx).Where("idempotency_key = ?", key).Take(&i).Error; err != nil {
		return nil, wrap(err, "idea by idempotency key")
	}
	return &i, nil
}

// IdeaByTrackingCode returns the idea with that tracking code (any status).
func (s *Store) IdeaByTrackingCode(ctx context.Context, code string) (*Idea, error) {
	var i Idea
	if err := s.r.WithContext(ctx).Where("tracking_code = ?", code).Take(&i).Error; err != nil {
		return nil, wrap(err, "idea by tracking code")
	}
	return &i, nil
}

// IdeaByID returns the idea with that id, whatever its status. Callers that
// show it publicly must check Visible.
func (s *Store) IdeaByID(ctx context.Context, id int64) (*Idea, error) {
	var i Idea
	if err := s.r.WithContext(ctx).Take(&i, id).Error; err != nil {
		return nil, wrap(err, "idea %d", id)
	}
	return &i, nil
}

// PublicIdea returns the idea only if everyone may read it; otherwise ErrNotFound.
func (s *Store) PublicIdea(ctx context.Context, id int64) (*Idea, error) {
	i, err := s.IdeaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !i.Visible() {
		return nil, wrap(gorm.ErrRecordNotFound, "idea %d", id)
	}
	return i, nil
}

// IdeaEvents returns an idea's status history, oldest first; with publicOnly,
// internal notes are left out.
func (s *Store) IdeaEvents(ctx context.Context, ideaID int64, publicOnly bool) ([]IdeaStatusEvent, error) {
	q := s.r.WithContext(ctx).Where("idea_id = ?", ideaID)
	if publicOnly {
		q = q.Where("public = ?", true)
	}
	var es []IdeaStatusEvent
	err := q.Order("id").Find(&es).Error
	return es, wrap(err, "events of idea %d", ideaID)
}

// CountSubmissions counts a submitter's ideas in a campaign since a time
// (withdrawn ones included: the limit is on effort, not on outcomes).
func (s *Store) CountSubmissions(ctx context.Context, campaignID int64, submitterKey string, since time.Time) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&Idea{}).
		Where("campaign_id = ? AND submitter_key = ? AND created_at >= ?", campaignID, submitterKey, since).
		Count(&n).Error
	return n, wrap(err, "count submissions")
}

// IdeaSort is an allowed ordering of idea lists.
type IdeaSort string

// The orderings residents can choose.
const (
	SortNewest    IdeaSort = "newest"
	SortSupported IdeaSort = "supported"
)

var ideaOrders = map[IdeaSort]string{
	SortNewest:    "created_at DESC, id DESC",
	SortSupported: "supports_count + imported_supports DESC, id DESC",
}

// ParseIdeaSort maps a request parameter to an ordering; unknown values are false.
func ParseIdeaSort(s string) (IdeaSort, bool) {
	if s == "" {
		return SortNewest, true
	}
	_, ok := ideaOrders[IdeaSort(s)]
	return IdeaSort(s), ok
}

// IdeaFilter selects ideas for a list.
type IdeaFilter struct {
	CampaignID int64
	ThemeID    int64 // 0: any theme
	AuthorID   int64 // 0: anyone
	// PublicOnly keeps only ideas everyone may read.
	PublicOnly bool
	Sort       IdeaSort
	Page       Page
}

// Ideas lists ideas and the total matching the filter.
func (s *Store) Ideas(ctx context.Context, f IdeaFilter) ([]Idea, int64, error) {
	q := s.r.WithContext(ctx).Model(&Idea{})
	if f.CampaignID != 0 {
		q = q.Where("campaign_id = ?", f.CampaignID)
	}
	if f.ThemeID != 0 {
		q = q.Where("theme_id = ?", f.ThemeID)
	}
	if f.AuthorID != 0 {
		q = q.Where("author_id = ?", f.AuthorID)
	}
	if f.PublicOnly {
		q = q.Where("status IN ? AND hidden = ?", PublicStatuses(), false)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count ideas")
	}
	order, ok := ideaOrders[f.Sort]
	if !ok {
		order = ideaOrders[SortNewest]
	}
	var ideas []Idea
	err := q.Order(order).Offset(f.Page.Offset()).Limit(f.Page.Limit()).Find(&ideas).Error
	return ideas, total, wrap(err, "list ideas")
}

// RecentIdeasWithStatus lists the newest public ideas in the given statuses
// (for example adopted ones for the home page), by when they reached it.
func (s *Store) RecentIdeasWithStatus(ctx context.Context, statuses []IdeaStatus, limit int) ([]Idea, error) {
	var ideas []Idea
	err := s.r.WithContext(ctx).Where("status IN ? AND hidden = ?", statuses, false).
		Order("updated_at DESC, id DESC").Limit(limit).Find(&ideas).Error
	return ideas, wrap(err, "recent ideas")
}

// ChangeIdeaStatus moves an idea from one of the allowed statuses to another,
// records the event and queues the index update, in one transaction. It
// returns ErrNotFound if the idea is missing and ErrStatusConflict if its
// status is not one of from.
func (s *Store) ChangeIdeaStatus(ctx context.Context, id int64, from []IdeaStatus, to IdeaStatus, ev IdeaStatusEvent, edit func(*Idea)) (*Idea, error) {
	var idea Idea
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&idea, id).Error; err != nil {
			return err
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || idea.Status == f
		}
		if !allowed {
			return ErrStatusConflict
		}
		ev.IdeaID, ev.FromStatus, ev.ToStatus = idea.ID, idea.Status, to
		idea.Status = to
		if edit != nil {
			edit(&idea)
		}
		if to.Public() && idea.PublishedAt == nil {
			now := time.Now().UTC()
			idea.PublishedAt = &now
		}
		if err := tx.Save(&idea).Error; err != nil {
			return err
		}
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return appendOutbox(tx, "idea", idea.ID, "upsert")
	})
	if errors.Is(err, ErrStatusConflict) {
		return &idea, err
	}
	if err != nil {
		return nil, wrap(err, "change status of idea %d", id)
	}
	return &idea, nil
}

// ErrStatusConflict is returned when an idea is not in a status that allows
// the requested change (for example withdrawing a published idea).
var ErrStatusConflict = errors.New("store: idea is not in a status that allows this")

// Fingerprint is what duplicate detection keeps of an idea.
type Fingerprint struct {
	IdeaID      int64
	ContentHash string
	Simhash     int64
}

// Fingerprints returns the fingerprints of a campaign's ideas that new
// submissions may duplicate: pending and public ones, not rejected, withdrawn
// or already merged ones.
func (s *Store) Fingerprints(ctx context.Context, campaignID int64) ([]Fingerprint, error) {
	var out []Fingerprint
	err := s.r.WithContext(ctx).Model(&Idea{}).Select("id AS idea_id, content_hash, simhash").
		Where("campaign_id = ? AND content_hash <> '' AND status NOT IN ?", campaignID,
			[]IdeaStatus{IdeaRejected, IdeaWithdrawn, IdeaMerged}).
		Scan(&out).Error
	return out, wrap(err, "fingerprints of campaign %d", campaignID)
}
