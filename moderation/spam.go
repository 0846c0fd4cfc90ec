package moderation

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// Rate is a limit of Limit events per sliding Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// SpamRules are the thresholds of the spam rules. A zero Rate disables
// that rate rule.
type SpamRules struct {
	// LinkRisk is the risk each link adds, up to 0.4; more than MaxLinks
	// links hold the submission. Residents cite news pages, so a few links
	// are normal (the sample has up to 6 in one message).
	LinkRisk float64
	MaxLinks int
	// RepeatRun is the length from which a run of one repeated letter
	// (哈哈哈哈哈哈, aaaaaa; digits do not count: 1000000元) is marked;
	// when such runs make up RepeatShare of the letters, or the text has
	// almost no distinct letters, the submission is held.
	RepeatRun   int
	RepeatShare float64
	// SameText limits the same text (same content hash) from the same
	// submitter key.
	SameText Rate
	// Per submitter key (contact hash), account, IP, and per contact found
	// in the text (a phone number or address advertised in many posts).
	PerSubmitter, PerAccount, PerIP, PerContact Rate
}

// DefaultSpamRules are the rules a Pipeline uses unless told otherwise.
func DefaultSpamRules() SpamRules {
	return SpamRules{
		LinkRisk:     0.1,
		MaxLinks:     8,
		RepeatRun:    6,
		RepeatShare:  0.5,
		SameText:     Rate{Limit: 1, Window: 24 * time.Hour},
		PerSubmitter: Rate{Limit: 5, Window: 10 * time.Minute},
		PerAccount:   Rate{Limit: 5, Window: 10 * time.Minute},
		PerIP:        Rate{Limit: 20, Window: 10 * time.Minute},
		PerContact:   Rate{Limit: 3, Window: time.Hour},
	}
}

// CountLinks counts the links in a folded text (Normalized.Text): each run
// of URL characters that has a scheme, starts with www. or ends in a common
// top-level domain counts once; e-mail addresses do not count.
func CountLinks(text string) int {
	if strings.IndexByte(text, '.') < 0 {
		return 0 // each link form counted below has a dot (http://localhost does not count)
	}
	n := 0
	for _, run := range strings.FieldsFunc(text, func(r rune) bool { return !urlRune(r) }) {
		if strings.Contains(run, "://") || strings.HasPrefix(run, "www.") {
			n++
			continue
		}
		if strings.Contains(run, "@") {
			continue
		}
		host := run
		if i := strings.IndexAny(host, "/?#:"); i >= 0 {
			host = host[:i]
		}
		dot := strings.LastIndexByte(host, '.')
		if dot > 0 && linkTLDs[host[dot+1:]] && hasLetter(host[:dot]) {
			n++
		}
	}
	return n
}

var linkTLDs = map[string]bool{"com": true, "cn": true, "net": true, "org": true, "top": true, "xyz": true,
	"vip": true, "cc": true, "info": true, "io": true, "me": true, "shop": true, "site": true, "club": true}

func urlRune(r rune) bool {
	return 'a' <= r && r <= 'z' || isDigit(r) || strings.ContainsRune(".:/?&=_%#~+-@", r)
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// Repetition measures repeated letters in n.Dense: the longest run of one
// letter (digits excluded), the share of letters in runs of at least
// minRun, and the number of distinct runes.
func Repetition(n *Normalized, minRun int) (longest int, share float64, distinct int) {
	seen := make(map[rune]struct{}, 64)
	letters, inRuns := 0, 0
	var prev rune
	run := 0
	flush := func() {
		if run >= minRun {
			inRuns += run
		}
		longest = max(longest, run)
	}
	for _, r := range n.Dense {
		if len(seen) < 64 {
			seen[r] = struct{}{}
		}
		if isDigit(r) {
			flush()
			run, prev = 0, 0
			continue
		}
		letters++
		if r == prev {
			run++
			continue
		}
		flush()
		prev, run = r, 1
	}
	flush()
	if letters > 0 {
		share = float64(inRuns) / float64(letters)
	}
	return longest, share, len(seen)
}

// SpamGuard keeps the sliding windows of the rate and same-text rules. The
// windows live in this process's memory: several web nodes each count
// their own share, and a restart forgets them (the shared daily limit in
// the database still holds). Safe for concurrent use.
type SpamGuard struct {
	rules  SpamRules
	seed   maphash.Seed
	shards [32]windowShard
}

type windowShard struct {
	mu        sync.Mutex
	events    map[string]*window
	lastSweep time.Time
}

type window struct {
	times []time.Time // oldest first, at most limit+1
	span  time.Duration
}

// NewSpamGuard returns a SpamGuard applying rules.
func NewSpamGuard(rules SpamRules) *SpamGuard {
	g := &SpamGuard{rules: rules, seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].events = make(map[string]*window)
	}
	return g
}

// Rules returns the rules the guard applies.
func (g *SpamGuard) Rules() SpamRules { return g.rules }

// Hit records one event under key at now and reports whether that makes
// more than rate.Limit events within rate.Window. A zero rate never hits.
func (g *SpamGuard) Hit(key string, rate Rate, now time.Time) bool {
	if rate.Limit <= 0 || rate.Window <= 0 || key == "" {
		return false
	}
	sh := &g.shards[maphash.String(g.seed, key)%uint64(len(g.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.lastSweep) > time.Minute {
		sh.sweep(now)
	}
	w := sh.events[key]
	if w == nil {
		w = &window{span: rate.Window}
		sh.events[key] = w
	}
	cut := now.Add(-rate.Window)
	k := 0
	for k < len(w.times) && !w.times[k].After(cut) {
		k++
	}
	w.times = append(w.times[k:], now)
	if len(w.times) > rate.Limit+1 {
		w.times = w.times[len(w.times)-rate.Limit-1:]
	}
	return len(w.times) > rate.Limit
}

// sweep forgets keys with no event inside their window.
func (sh *windowShard) sweep(now time.Time) {
	sh.lastSweep = now
	for k, w := range sh.events {
		if len(w.times) == 0 || now.Sub(w.times[len(w.times)-1]) > w.span {
			delete(sh.events, k)
		}
	}
}
