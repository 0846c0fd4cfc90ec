package moderation

import (
	"context"
	"errors"
	"math/bits"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func fingerprint(text string) (string, uint64) {
	n := Normalize(text)
	return ContentHash(n), Simhash(Bigrams{}.Cut(n.Dense))
}

func TestSimhashNearAndUnrelated(t *testing.T) {
	letter, other := readFixture(t, "letter.txt"), readFixture(t, "letter2.txt")
	h0, s0 := fingerprint(letter)

	// Punctuation, spacing and width only: the same content hash.
	respaced := strings.NewReplacer("，", ", ", "。", "．", "：", " : ").Replace(letter)
	if h, _ := fingerprint(respaced); h != h0 {
		t.Error("punctuation and spaces changed the content hash")
	}
	// Traditional characters: the same content hash after folding.
	trad, err := ToTraditional(letter)
	if err != nil {
		t.Fatal(err)
	}
	if trad == letter {
		t.Fatal("ToTraditional changed nothing")
	}
	if h, _ := fingerprint(trad); h != h0 {
		t.Error("traditional characters changed the content hash")
	}
	// One sentence dropped: another hash, a near fingerprint.
	sents := splitSentences(letter)
	dropped := strings.Join(append(append([]string(nil), sents[:3]...), sents[4:]...), "")
	h1, s1 := fingerprint(dropped)
	if h1 == h0 {
		t.Fatal("dropping a sentence kept the hash")
	}
	near := bits.OnesCount64(s0 ^ s1)
	_, s2 := fingerprint(other)
	far := bits.OnesCount64(s0 ^ s2)
	t.Logf("distance near %d, unrelated %d", near, far)
	if near > DefaultDupDistance {
		t.Errorf("near-duplicate %d bits apart, more than %d", near, DefaultDupDistance)
	}
	if far <= DefaultDupDistance {
		t.Errorf("unrelated letters only %d bits apart", far)
	}
	if Similarity(s0, s0) != 1 || Similarity(s0, ^s0) != 0 {
		t.Error("Similarity bounds")
	}
	// A word repeated counts once.
	if Simhash([]string{"小区", "路灯"}) != Simhash([]string{"小区", "小区", "路灯", "", "小区"}) {
		t.Error("repeated words changed the fingerprint")
	}
}

func TestDupIndex(t *testing.T) {
	x := NewDupIndex(DefaultDupDistance)
	if got := x.Search("h", 0, 5); len(got) != 0 {
		t.Fatalf("empty index found %+v", got)
	}
	x.Load([]DupRow{
		{IdeaID: 1, ContentHash: "aa", Simhash: 0},
		{IdeaID: 2, ContentHash: "bb", Simhash: 0b111},                // 3 bits from 0
		{IdeaID: 3, ContentHash: "cc", Simhash: 1<<20 - 1},            // 20 bits
		{IdeaID: 4, ContentHash: "aa", Simhash: ^uint64(0)},           // same hash, far print
		{IdeaID: 5, ContentHash: "dd", Simhash: 1<<63 | 1<<40 | 1<<5}, // 3 bits, other bands
	})
	got := x.Search("aa", 0, 0)
	ids := []int64{}
	for _, d := range got {
		ids = append(ids, d.IdeaID)
	}
	want := []int64{1, 4, 2, 5} // exact hashes first (similarity 1), then by distance
	if len(ids) != len(want) {
		t.Fatalf("Search = %+v, want ids %v", got, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("Search = %v, want %v", ids, want)
		}
	}
	if got[2].Similarity != 1-3.0/64 {
		t.Errorf("similarity %v", got[2].Similarity)
	}
	if got := x.Search("aa", 0, 2); len(got) != 2 {
		t.Errorf("limit 2 gave %d", len(got))
	}
	x.Remove(1)
	x.Add(DupRow{IdeaID: 2, ContentHash: "bb", Simhash: ^uint64(0)}) // replaced: now far
	ids = ids[:0]
	for _, d := range x.Search("aa", 0, 0) {
		ids = append(ids, d.IdeaID)
	}
	if len(ids) != 2 || ids[0] != 4 || ids[1] != 5 {
		t.Errorf("after Remove and Add: %v, want [4 5]", ids)
	}
	if x.Len() != 4 {
		t.Errorf("Len %d", x.Len())
	}
}

// TestDupIndexMatchesScan checks the multi-index against a plain scan, with
// planted neighbours at every distance up to the threshold.
func TestDupIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, k := range []int{0, 3, 6, DefaultDupDistance, 16} {
		x := NewDupIndex(k)
		var all []DupRow
		for i := range 3000 {
			all = append(all, DupRow{IdeaID: int64(i + 1), Simhash: rng.Uint64()})
		}
		queries := make([]uint64, 40)
		for q := range queries {
			queries[q] = rng.Uint64()
			for d := 0; d <= k+2; d++ {
				h := queries[q]
				for _, b := range rng.Perm(64)[:d] {
					h ^= 1 << b
				}
				all = append(all, DupRow{IdeaID: int64(len(all) + 1), Simhash: h})
			}
		}
		x.Load(all)
		for _, q := range queries {
			var want []int64
			for _, r := range all {
				if bits.OnesCount64(q^r.Simhash) <= k {
					want = append(want, r.IdeaID)
				}
			}
			var got []int64
			for _, d := range x.Search("", q, 0) {
				got = append(got, d.IdeaID)
			}
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			if len(got) != len(want) {
				t.Fatalf("k=%d: index found %d, scan %d", k, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("k=%d: index %v, scan %v", k, got, want)
				}
			}
		}
	}
}

func TestDupIndexes(t *testing.T) {
	loads := 0
	fail := true
	s := NewDupIndexes(DefaultDupDistance, func(_ context.Context, id int64) ([]DupRow, error) {
		loads++
		if fail {
			return nil, errors.New("database down")
		}
		return []DupRow{{IdeaID: 10, ContentHash: "h", Simhash: 1}}, nil
	})
	ctx := context.Background()
	if _, err := s.Index(ctx, 1); err == nil {
		t.Fatal("load error not returned")
	}
	fail = false
	x, err := s.Index(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(1, DupRow{IdeaID: 11, ContentHash: "h", Simhash: 1})
	s.Add(2, DupRow{IdeaID: 12, ContentHash: "h", Simhash: 1}) // not loaded: skipped
	if got := x.Search("h", 1, 0); len(got) != 2 {
		t.Errorf("campaign 1: %+v", got)
	}
	if _, err := s.Index(ctx, 1); err != nil || loads != 2 {
		t.Errorf("loaded %d times, err %v", loads, err)
	}
	s.Remove(1, 10)
	if got := x.Search("h", 1, 0); len(got) != 1 || got[0].IdeaID != 11 {
		t.Errorf("after Remove: %+v", got)
	}
	y, _ := s.Index(ctx, 2)
	if got := y.Search("h", 1, 0); len(got) != 1 || got[0].IdeaID != 10 {
		t.Errorf("campaign 2 (loaded after the skipped Add): %+v", got)
	}
}
