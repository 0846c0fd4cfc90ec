package moderation

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
)

// benchLetter is a median-size message (about 200 characters) of our own
// writing.
func benchLetter(b *testing.B) string {
	b.Helper()
	data, err := os.ReadFile("testdata/letter.txt")
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

func BenchmarkNormalize(b *testing.B) {
	text := benchLetter(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Normalize(text)
	}
}

func BenchmarkMatch(b *testing.B) {
	n := Normalize(benchLetter(b))
	m, err := NewMatcher(StarterWords())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(n.Original)))
	for b.Loop() {
		m.Find(n)
	}
}

func BenchmarkFindPII(b *testing.B) {
	n := Normalize(benchLetter(b) + "电话13800138000，邮箱zhang@example.com，车牌粤B12345。")
	b.SetBytes(int64(len(n.Original)))
	for b.Loop() {
		findPII(n)
	}
}

func BenchmarkSimhashBigrams(b *testing.B) {
	n := Normalize(benchLetter(b))
	b.SetBytes(int64(len(n.Dense)))
	for b.Loop() {
		Simhash(Bigrams{}.Cut(n.Dense))
	}
}

// BenchmarkDupSearch100k searches an index of 100,000 random fingerprints
// at the default distance.
func BenchmarkDupSearch100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := NewDupIndex(DefaultDupDistance)
	rows := make([]DupRow, 100_000)
	for i := range rows {
		rows[i] = DupRow{IdeaID: int64(i + 1), Simhash: rng.Uint64()}
	}
	x.Load(rows)
	for b.Loop() {
		x.Search("", rng.Uint64(), 5)
	}
}

func BenchmarkCheck(b *testing.B) {
	text := benchLetter(b)
	p, err := NewPipeline(Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := Input{Kind: "idea", CampaignID: 1, Policy: PolicyPost, Title: "关于翠柳小区北门占道经营的建议", Body: text}
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Check(ctx, in); err != nil {
				b.Error(err)
			}
		}
	})
}
