package moderation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"sort"
	"sync"
	"unicode/utf8"
)

// Tokenizer cuts text into words; *search.Segmenter (jieba) satisfies it.
// Implementations must be safe for concurrent use.
type Tokenizer interface {
	Cut(text string) []string
}

// Bigrams is the Tokenizer used when none is given: overlapping pairs of
// runes. It needs no dictionary, which suits tests; jieba's words give
// better fingerprints.
type Bigrams struct{}

// Cut implements Tokenizer.
func (Bigrams) Cut(text string) []string {
	rs := []rune(text)
	if len(rs) < 2 {
		if len(rs) == 1 {
			return []string{text}
		}
		return nil
	}
	out := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// ContentHash is the exact-duplicate key of a normalised text: the hex
// SHA-256 of its dense form, so texts differing only in punctuation,
// spacing, width, case or traditional/simplified forms hash alike.
func ContentHash(n *Normalized) string {
	sum := sha256.Sum256([]byte(n.Dense))
	return hex.EncodeToString(sum[:])
}

// Simhash is the 64-bit Charikar fingerprint of a list of words: each
// distinct word is hashed, and bit i of the result is set when the words
// whose hash has bit i set outweigh the others. Longer words weigh more (1,
// 2, 3 for one, two, three or more runes: single characters are mostly
// particles), and a word counts once however often it occurs, so the words
// every long complaint repeats (小区, 业主, 反映) cannot pull all long texts
// towards one fingerprint. Texts sharing most of their words have
// fingerprints a few bits apart.
func Simhash(tokens []string) uint64 {
	var v [64]int32
	seen := make(map[uint64]struct{}, len(tokens))
	for _, t := range tokens {
		if t == "" {
			continue
		}
		h := tokenHash(t)
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		w := int32(min(utf8.RuneCountInString(t), 3))
		for i := range 64 {
			// +w where bit i is set, −w where it is not, without a branch.
			v[i] += (int32(h>>i&1)*2 - 1) * w
		}
	}
	var out uint64
	for i := range 64 {
		if v[i] > 0 {
			out |= 1 << i
		}
	}
	return out
}

// tokenHash is FNV-1a finished with splitmix64's mixer: stable across
// processes and versions (fingerprints are stored), with well-spread bits.
func tokenHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Similarity turns the Hamming distance of two fingerprints into a score:
// 1 for equal fingerprints, 0.5 for unrelated ones on average.
func Similarity(a, b uint64) float64 {
	return 1 - float64(bits.OnesCount64(a^b))/64
}

// DupRow is an existing idea as the duplicate index needs it (the ideas
// table's id, content_hash and simhash columns).
type DupRow struct {
	IdeaID      int64
	ContentHash string
	Simhash     uint64
}

// DupIndex finds the existing ideas of one campaign that look like a new
// one: equal content hashes, and fingerprints within MaxDistance bits. It is
// in memory, loaded from the ideas' rows and kept current with Add; safe
// for concurrent use.
//
// Fingerprints are found through a multi-index: the 64 bits are cut into m
// bands, m = max(k/2+1, 6) for distance k (7 bands of 9–10 bits for k = 12).
// Two fingerprints within distance k differ in at most k/m ≤ 1 bits on at
// least one band (pigeonhole), so a search reads, in each band, the bucket
// of its own key and the buckets one bit away — 70 buckets for k = 12 —
// instead of every idea. Buckets hold the fingerprints themselves, so a
// bucket is one sequential scan: about 20 µs at 100,000 ideas.
type DupIndex struct {
	maxDist int
	bands   []bandSpec

	mu      sync.RWMutex
	ids     []int64 // by position; removed ideas keep their slot with id 0
	pos     map[int64]int32
	byHash  map[string][]int32
	buckets [][]bucket // [band][key]
}

type bandSpec struct {
	shift uint
	width int
}

type bucket struct {
	sims []uint64
	pos  []int32
}

func (b bandSpec) key(h uint64) int { return int(h >> b.shift & (1<<b.width - 1)) }

// NewDupIndex returns an empty index reporting fingerprints up to
// maxDistance bits apart (0 to 20).
func NewDupIndex(maxDistance int) *DupIndex {
	k := min(max(maxDistance, 0), 20)
	m := max(k/2+1, 6)
	x := &DupIndex{maxDist: k, pos: make(map[int64]int32), byHash: make(map[string][]int32)}
	shift := uint(0)
	for b := range m {
		w := 64 / m
		if b < 64%m {
			w++
		}
		x.bands = append(x.bands, bandSpec{shift: shift, width: w})
		shift += uint(w)
	}
	x.buckets = make([][]bucket, m)
	return x
}

// MaxDistance is the largest Hamming distance the index reports.
func (x *DupIndex) MaxDistance() int { return x.maxDist }

// Len is the number of ideas in the index.
func (x *DupIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.pos)
}

// Load adds many rows at once (the campaign's ideas at start).
func (x *DupIndex) Load(rows []DupRow) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rows {
		x.add(r)
	}
}

// Add adds one accepted idea; adding an id again replaces its entry.
func (x *DupIndex) Add(r DupRow) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.add(r)
}

func (x *DupIndex) add(r DupRow) {
	if r.IdeaID == 0 {
		return
	}
	if _, ok := x.pos[r.IdeaID]; ok {
		x.remove(r.IdeaID)
	}
	p := int32(len(x.ids))
	x.ids = append(x.ids, r.IdeaID)
	x.pos[r.IdeaID] = p
	if r.ContentHash != "" {
		x.byHash[r.ContentHash] = append(x.byHash[r.ContentHash], p)
	}
	for b, spec := range x.bands {
		if x.buckets[b] == nil {
			x.buckets[b] = make([]bucket, 1<<spec.width)
		}
		bk := &x.buckets[b][spec.key(r.Simhash)]
		bk.sims = append(bk.sims, r.Simhash)
		bk.pos = append(bk.pos, p)
	}
}

// Remove drops an idea (rejected, merged or deleted).
func (x *DupIndex) Remove(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(id)
}

// remove leaves the slot in the buckets with id 0; searches skip it.
func (x *DupIndex) remove(id int64) {
	if p, ok := x.pos[id]; ok {
		x.ids[p] = 0
		delete(x.pos, id)
	}
}

// Search returns up to limit ideas (all if limit ≤ 0) like the one with
// this hash and fingerprint, most similar first: equal hashes with
// similarity 1, then fingerprints within MaxDistance bits with Similarity.
func (x *DupIndex) Search(hash string, sim uint64, limit int) []Duplicate {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Duplicate
	// A flood of near-copies lands in the same buckets: stop collecting
	// after enough candidates (any of them is as good a pointer as the
	// rest), so one search never costs more than a bounded amount.
	const maxCollect = 64
	seen := map[int64]bool{}
	found := func(id int64) bool {
		if seen[id] {
			return true
		}
		seen[id] = true
		return false
	}
	if hash != "" {
		for _, p := range x.byHash[hash] {
			if id := x.ids[p]; id != 0 && !found(id) {
				out = append(out, Duplicate{IdeaID: id, Similarity: 1})
			}
		}
	}
	radius := x.maxDist / len(x.bands)
	for b, spec := range x.bands {
		buckets := x.buckets[b]
		if buckets == nil {
			break // nothing added yet
		}
		key := spec.key(sim)
		scan := func(k int) {
			bk := &buckets[k]
			for i, s := range bk.sims {
				if len(out) >= maxCollect {
					return
				}
				d := bits.OnesCount64(sim ^ s)
				if d > x.maxDist {
					continue
				}
				// A near idea turns up again in each band it agrees on;
				// the list of hits is short, so a scan dedupes.
				if id := x.ids[bk.pos[i]]; id != 0 && !found(id) {
					out = append(out, Duplicate{IdeaID: id, Similarity: 1 - float64(d)/64})
				}
			}
		}
		scan(key)
		if radius >= 1 {
			for i := range spec.width {
				scan(key ^ 1<<i)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Similarity != out[j].Similarity {
			return out[i].Similarity > out[j].Similarity
		}
		return out[i].IdeaID < out[j].IdeaID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// DupIndexes holds one DupIndex per campaign, loaded on first use through
// a function the caller supplies (reading the campaign's ideas from the
// database). Safe for concurrent use.
type DupIndexes struct {
	maxDist int
	load    func(ctx context.Context, campaignID int64) ([]DupRow, error)

	mu sync.Mutex
	m  map[int64]*dupSlot
}

type dupSlot struct {
	ready chan struct{} // closed once loaded (or failed)
	idx   *DupIndex
	err   error
}

// NewDupIndexes returns an empty set of indexes. load may be nil: each
// campaign then starts empty and learns from Add.
func NewDupIndexes(maxDistance int, load func(ctx context.Context, campaignID int64) ([]DupRow, error)) *DupIndexes {
	return &DupIndexes{maxDist: maxDistance, load: load, m: make(map[int64]*dupSlot)}
}

// Index returns the campaign's index, loading it on first use. A failed
// load is returned to every caller waiting for it and retried by the next.
func (s *DupIndexes) Index(ctx context.Context, campaignID int64) (*DupIndex, error) {
	s.mu.Lock()
	slot, ok := s.m[campaignID]
	if !ok {
		slot = &dupSlot{ready: make(chan struct{})}
		s.m[campaignID] = slot
		s.mu.Unlock()
		slot.idx = NewDupIndex(s.maxDist)
		if s.load != nil {
			rows, err := s.load(ctx, campaignID)
			if err != nil {
				slot.err = err
				s.mu.Lock()
				delete(s.m, campaignID)
				s.mu.Unlock()
			} else {
				slot.idx.Load(rows)
			}
		}
		close(slot.ready)
	} else {
		s.mu.Unlock()
		select {
		case <-slot.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if slot.err != nil {
		return nil, slot.err
	}
	return slot.idx, nil
}

// Add records an accepted idea in its campaign's index, if that index is
// loaded; otherwise the next load reads it from the database.
func (s *DupIndexes) Add(campaignID int64, r DupRow) {
	s.mu.Lock()
	slot, ok := s.m[campaignID]
	s.mu.Unlock()
	if !ok {
		return
	}
	<-slot.ready
	if slot.err == nil {
		slot.idx.Add(r)
	}
}

// Remove drops an idea from its campaign's index, if loaded.
func (s *DupIndexes) Remove(campaignID, ideaID int64) {
	s.mu.Lock()
	slot, ok := s.m[campaignID]
	s.mu.Unlock()
	if !ok {
		return
	}
	<-slot.ready
	if slot.err == nil {
		slot.idx.Remove(ideaID)
	}
}
