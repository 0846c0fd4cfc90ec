package moderation

// Learner is a Checker that remembers stored submissions, so later ones can
// be compared with them for duplicates, and forgets rejected or merged ones.
type Learner interface {
	Remember(campaignID, ideaID int64, contentHash string, simhash uint64)
	Forget(campaignID, ideaID int64)
}

var _ Learner = (*Pipeline)(nil)

// Remember adds a stored idea's fingerprint to its campaign's duplicate index.
func (p *Pipeline) Remember(campaignID, ideaID int64, contentHash string, simhash uint64) {
	if contentHash == "" {
		return
	}
	p.dups.Add(campaignID, DupRow{IdeaID: ideaID, ContentHash: contentHash, Simhash: simhash})
}

// Forget removes an idea from its campaign's duplicate index.
func (p *Pipeline) Forget(campaignID, ideaID int64) { p.dups.Remove(campaignID, ideaID) }
