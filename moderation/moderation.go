// Package moderation owns the pipeline every submission passes before it is
// stored: normalisation, sensitive words, personal-data masking, spam and
// rate rules, the duplicate check, and the verdict with its reasons.
//
// Until the full pipeline lands, PolicyOnly applies the campaign's policy
// alone, so callers are already written against the final interface.
package moderation

import "context"

// Action is what happens to a submission.
type Action string

// The three verdicts.
const (
	Publish Action = "publish" // shown at once
	Hold    Action = "hold"    // waits for a moderator
	Reject  Action = "reject"  // refused, with a reason the resident sees
)

// Actions a word-list entry can carry besides Hold. They are never a
// verdict's Action: Block makes the verdict Reject, Flag publishes (under the
// post policy) with the match marked for moderators.
const (
	Block Action = "block" // the submission is refused
	Flag  Action = "flag"  // published, but marked for a moderator's look
)

// Policies, as set on a campaign or debate.
const (
	PolicyPre  = "pre"  // 先审后发: everything waits for a moderator
	PolicyPost = "post" // 先发后审: low-risk items publish at once
)

// Input is one submission to judge.
type Input struct {
	Kind       string // "idea", "comment", "debate_post"
	CampaignID int64
	Policy     string
	Title      string
	Body       string
	// SubmitterKey identifies the submitter across submissions (a hash of
	// their contact or account) for spam and rate rules.
	SubmitterKey string
	IP           string
	AuthorID     int64
}

// Reason explains one part of a verdict.
type Reason struct {
	Code     string `json:"code"`
	Message  string `json:"message"` // Chinese, safe to show the submitter
	Category string `json:"category,omitempty"`
}

// Duplicate is an existing idea that looks like the submission.
type Duplicate struct {
	IdeaID     int64   `json:"idea_id"`
	Similarity float64 `json:"similarity"`
}

// Verdict is the pipeline's decision on one submission.
type Verdict struct {
	Action      Action      `json:"action"`
	Reasons     []Reason    `json:"reasons,omitempty"`
	Risk        float64     `json:"risk"`
	TitleMasked string      `json:"-"`
	BodyMasked  string      `json:"-"`
	Duplicates  []Duplicate `json:"duplicates,omitempty"`
	ContentHash string      `json:"-"`
	Simhash     uint64      `json:"-"`
	// Matches are the word-list hits, with byte offsets into the original
	// title or body, for highlighting in the moderator queue.
	Matches []Match `json:"matches,omitempty"`
	// PII lists the personal data found and masked, by kind and position;
	// the raw values stay out of the JSON.
	PII []PII `json:"pii,omitempty"`
}

// Checker judges submissions. Implementations must be safe for concurrent use.
type Checker interface {
	Check(ctx context.Context, in Input) (Verdict, error)
}

// PolicyOnly applies the policy and nothing else: under "post" everything
// publishes, under "pre" everything is held. Text passes unmasked.
type PolicyOnly struct{}

// Check implements Checker.
func (PolicyOnly) Check(_ context.Context, in Input) (Verdict, error) {
	v := Verdict{Action: Publish, TitleMasked: in.Title, BodyMasked: in.Body}
	if in.Policy != PolicyPost {
		v.Action = Hold
		v.Reasons = []Reason{{Code: "policy_pre", Message: "本活动实行先审后发，审核通过后公开"}}
	}
	return v, nil
}

// Codes lists the verdict's reason codes, space-separated, for queue filters.
func (v Verdict) Codes() string {
	var b []byte
	for i, r := range v.Reasons {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, r.Code...)
	}
	return string(b)
}
