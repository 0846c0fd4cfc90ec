package moderation

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Reason codes a verdict may carry. The decisive reasons come first in
// Verdict.Reasons; informational ones (pii_masked, duplicate_candidates,
// word_flagged) follow.
const (
	CodePolicyPre     = "policy_pre"           // the campaign reviews everything first
	CodeWordBlocked   = "word_blocked"         // a block word: rejected
	CodeWordHeld      = "word_held"            // a hold word: waits for a moderator
	CodeWordFlagged   = "word_flagged"         // a flag word: published, marked
	CodeTooManyLinks  = "too_many_links"       // more links than SpamRules.MaxLinks
	CodeRepeated      = "repeated_chars"       // text mostly one repeated letter
	CodeSameText      = "same_text"            // the submitter sent this text already
	CodeRateLimited   = "rate_limited"         // too many submissions from one source
	CodeHighRisk      = "high_risk"            // the signals add up past HoldRisk
	CodeContactAd     = "contact_with_ad"      // an advertising word next to a phone number or e-mail
	CodePIIMasked     = "pii_masked"           // personal data hidden in the public copy
	CodeDuplicateSeen = "duplicate_candidates" // looks like existing ideas
)

// Config sets up a Pipeline; every zero field has a working default.
type Config struct {
	// Words holds the sensitive-word list; nil means the starter list.
	Words *Registry
	// Tokenizer cuts text for the fingerprint; pass the process's jieba
	// (*search.Segmenter). Nil means Bigrams.
	Tokenizer Tokenizer
	// Dups holds the campaigns' duplicate indexes; nil means a fresh set
	// that starts empty for every campaign and learns from Dups().Add.
	Dups *DupIndexes
	// Spam holds the rate windows; nil means NewSpamGuard(DefaultSpamRules()).
	Spam *SpamGuard
	// HoldRisk is the risk from which the post policy holds; 0 means 0.5.
	HoldRisk float64
	// DupLimit is how many duplicate candidates a verdict lists; 0 means 5.
	DupLimit int
	// Now is the clock of the rate rules; nil means time.Now.
	Now func() time.Time
}

// DefaultDupDistance is the largest Hamming distance between fingerprints
// reported as a duplicate candidate by the default index set, chosen with
// the evaluation on the sample messages (see Eval).
const DefaultDupDistance = 12

// Pipeline is the full moderation check: normalisation, sensitive words,
// personal data, spam and rate rules, duplicates, and the verdict under the
// campaign's policy. It implements Checker and is safe for concurrent use.
type Pipeline struct {
	words    *Registry
	tok      Tokenizer
	dups     *DupIndexes
	spam     *SpamGuard
	holdRisk float64
	dupLimit int
	now      func() time.Time
}

var _ Checker = (*Pipeline)(nil)

// NewPipeline builds a Pipeline from cfg.
func NewPipeline(cfg Config) (*Pipeline, error) {
	if _, err := t2sTable(); err != nil {
		return nil, err
	}
	p := &Pipeline{words: cfg.Words, tok: cfg.Tokenizer, dups: cfg.Dups, spam: cfg.Spam,
		holdRisk: cfg.HoldRisk, dupLimit: cfg.DupLimit, now: cfg.Now}
	if p.words == nil {
		r, err := NewRegistry(StarterWords())
		if err != nil {
			return nil, err
		}
		p.words = r
	}
	if p.tok == nil {
		p.tok = Bigrams{}
	}
	if p.dups == nil {
		p.dups = NewDupIndexes(DefaultDupDistance, nil)
	}
	if p.spam == nil {
		p.spam = NewSpamGuard(DefaultSpamRules())
	}
	if p.holdRisk <= 0 {
		p.holdRisk = 0.5
	}
	if p.dupLimit <= 0 {
		p.dupLimit = 5
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Words is the word registry, for admins' edits to swap in a new list.
func (p *Pipeline) Words() *Registry { return p.words }

// Dups is the set of duplicate indexes: call Dups().Add when an idea is
// stored so later submissions see it.
func (p *Pipeline) Dups() *DupIndexes { return p.dups }

// signal is one finding on the way to a verdict.
type signal struct {
	reason Reason
	action Action  // Reject, Hold or Publish (informational)
	risk   float64 // 0..1
}

// Check implements Checker.
func (p *Pipeline) Check(ctx context.Context, in Input) (Verdict, error) {
	a := p.Analyze(in)
	return p.decide(ctx, in, a)
}

// Analysis is what a check finds in the text alone, before state (rates,
// duplicates) and policy are applied.
type Analysis struct {
	Title, Body *Normalized
	Matches     []Match // word hits, offsets into the original title or body
	PII         []PII
	TitleMasked string
	BodyMasked  string
	ContentHash string  // of title and body together (see ContentHash)
	Simhash     uint64  // of the tokens of title and body together
	Links       int     // see CountLinks
	LongestRun  int     // longest run of one repeated letter
	RepeatShare float64 // share of letters in runs of SpamRules.RepeatRun or more
	Distinct    int     // distinct letters and digits, counted up to 64
}

// Analyze runs the stateless part of a check: normalisation, words,
// personal data, fingerprints and content spam measures.
func (p *Pipeline) Analyze(in Input) Analysis {
	a := Analysis{Title: Normalize(in.Title), Body: Normalize(in.Body)}
	m := p.words.Matcher()
	for _, f := range []struct {
		name string
		n    *Normalized
	}{{"title", a.Title}, {"body", a.Body}} {
		for _, hit := range m.Find(f.n) {
			hit.Field = f.name
			a.Matches = append(a.Matches, hit)
		}
		found := findPII(f.n)
		masked := applyMask(f.n.Original, found)
		for i := range found {
			found[i].Field = f.name
		}
		a.PII = append(a.PII, found...)
		if f.name == "title" {
			a.TitleMasked = masked
		} else {
			a.BodyMasked = masked
		}
	}
	// The fingerprint and hash cover title and body: a resubmission may
	// change either, and a title alone is rarely unique.
	whole := a.Title.Dense + a.Body.Dense
	a.ContentHash = ContentHash(&Normalized{Dense: whole})
	a.Simhash = Simhash(p.tok.Cut(whole))
	a.Links = CountLinks(a.Title.Text) + CountLinks(a.Body.Text)
	a.LongestRun, a.RepeatShare, a.Distinct = Repetition(&Normalized{Dense: whole}, p.spam.rules.RepeatRun)
	return a
}

// decide applies rates, duplicates and the policy to an analysis.
func (p *Pipeline) decide(ctx context.Context, in Input, a Analysis) (Verdict, error) {
	v := Verdict{
		TitleMasked: a.TitleMasked, BodyMasked: a.BodyMasked,
		ContentHash: a.ContentHash, Simhash: a.Simhash,
		Matches: a.Matches, PII: a.PII,
	}
	var sig []signal
	add := func(code, msg, category string, action Action, risk float64) {
		sig = append(sig, signal{reason: Reason{Code: code, Message: msg, Category: category}, action: action, risk: risk})
	}

	// Words: one reason per category, with the strictest action seen.
	type catHit struct {
		action Action
		order  int
	}
	cats := map[string]catHit{}
	for i, m := range a.Matches {
		c, ok := cats[m.Category]
		if !ok || severity(m.Action) > severity(c.action) {
			cats[m.Category] = catHit{action: m.Action, order: i}
		}
	}
	catOrder := make([]string, 0, len(cats))
	for name := range cats {
		catOrder = append(catOrder, name)
	}
	sort.Slice(catOrder, func(i, j int) bool { return cats[catOrder[i]].order < cats[catOrder[j]].order })
	for _, c := range catOrder {
		label := CategoryLabel(c)
		switch cats[c].action {
		case Block:
			add(CodeWordBlocked, "内容含有"+label+"，请修改后再提交", c, Reject, 1)
		case Hold:
			add(CodeWordHeld, "内容可能含有"+label+"，需人工审核后公开", c, Hold, 0.7)
		default:
			add(CodeWordFlagged, "内容含有需要留意的词语（"+label+"）", c, Publish, 0.25)
		}
	}

	// Content spam.
	rules := p.spam.rules
	if rules.MaxLinks > 0 && a.Links > rules.MaxLinks {
		add(CodeTooManyLinks, fmt.Sprintf("链接过多（%d 个），需人工审核后公开", a.Links), "spam", Hold, 0.7)
	} else if a.Links > 0 && rules.LinkRisk > 0 {
		sig = append(sig, signal{action: Publish, risk: min(float64(a.Links)*rules.LinkRisk, 0.4)})
	}
	letters := a.Title.denseRunes() + a.Body.denseRunes()
	switch {
	case rules.RepeatShare > 0 && a.RepeatShare >= rules.RepeatShare && letters >= rules.RepeatRun,
		letters >= 20 && a.Distinct <= 3:
		add(CodeRepeated, "内容大量重复，需人工审核后公开", "spam", Hold, 0.7)
	case rules.RepeatRun > 0 && a.LongestRun >= rules.RepeatRun:
		sig = append(sig, signal{action: Publish, risk: 0.2})
	}

	// Rates and repeats (this process's memory).
	now := p.now()
	if in.SubmitterKey != "" && p.spam.Hit("same:"+in.SubmitterKey+":"+a.ContentHash, rules.SameText, now) {
		add(CodeSameText, "您已提交过相同内容，需人工审核后公开", "spam", Hold, 0.6)
	}
	limited := false
	if in.SubmitterKey != "" && p.spam.Hit("sub:"+in.SubmitterKey, rules.PerSubmitter, now) {
		limited = true
	}
	if in.AuthorID != 0 && p.spam.Hit("acct:"+strconv.FormatInt(in.AuthorID, 10), rules.PerAccount, now) {
		limited = true
	}
	if in.IP != "" && p.spam.Hit("ip:"+in.IP, rules.PerIP, now) {
		limited = true
	}
	for _, pi := range a.PII {
		if pi.Kind == PIIMobile || pi.Kind == PIIEmail || pi.Kind == PIILandline {
			if p.spam.Hit("contact:"+string(pi.Kind)+":"+pi.Value, rules.PerContact, now) {
				limited = true
			}
		}
	}
	if limited {
		add(CodeRateLimited, "提交过于频繁，需人工审核后公开", "spam", Hold, 0.6)
	}

	// Duplicates among the campaign's ideas (comments and debate posts are
	// not compared).
	if in.Kind != "comment" && in.Kind != "debate_post" && in.CampaignID != 0 {
		idx, err := p.dups.Index(ctx, in.CampaignID)
		if err != nil {
			return Verdict{}, fmt.Errorf("moderation: duplicate index of campaign %d: %w", in.CampaignID, err)
		}
		v.Duplicates = idx.Search(a.ContentHash, a.Simhash, p.dupLimit)
		if len(v.Duplicates) > 0 {
			risk := 0.1
			if v.Duplicates[0].Similarity == 1 {
				risk = 0.2
			}
			add(CodeDuplicateSeen, "已有相似的建议，可以前往支持或补充", "", Publish, risk)
		}
	}
	// Contact details alone are a resident reaching the officials; with an
	// advertising word they are the shape of a sales post. The risk is set
	// so that even a flag-level advertising word then holds (0.25 and 0.4
	// combine to 0.55).
	if _, ad := cats[CategoryAdvertising]; ad && hasContact(a.PII) {
		add(CodeContactAd, "内容含有联系方式和推销信息", CategoryAdvertising, Publish, 0.4)
	}
	if len(a.PII) > 0 {
		add(CodePIIMasked, "个人信息（电话、证件号等）已在公开内容中隐去", "", Publish, 0)
	}

	// Risk: independent signals combined, 1 − Π(1 − rᵢ).
	keep := 1.0
	for _, s := range sig {
		keep *= 1 - s.risk
	}
	v.Risk = 1 - keep

	v.Action = Publish
	for _, s := range sig {
		if severity(s.action) > severity(v.Action) {
			v.Action = s.action
		}
	}
	if v.Action == Publish {
		switch {
		case in.Policy != PolicyPost:
			v.Action = Hold
			add(CodePolicyPre, "本活动实行先审后发，审核通过后公开", "", Hold, 0)
		case v.Risk >= p.holdRisk:
			v.Action = Hold
			add(CodeHighRisk, "内容需人工审核后公开", "", Hold, 0)
		}
	}
	// Decisive reasons first: Reject, then Hold, then the rest, each group
	// in the order found. The portal shows the first to the submitter.
	for _, want := range []Action{Reject, Hold, Publish} {
		for _, s := range sig {
			if s.action == want && s.reason.Code != "" {
				v.Reasons = append(v.Reasons, s.reason)
			}
		}
	}
	return v, nil
}

// hasContact reports a phone number or e-mail address among the found
// personal data.
func hasContact(found []PII) bool {
	for _, p := range found {
		if p.Kind == PIIMobile || p.Kind == PIILandline || p.Kind == PIIEmail {
			return true
		}
	}
	return false
}
