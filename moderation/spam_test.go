package moderation

import (
	"testing"
	"time"
)

func TestCountLinks(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"没有链接", 0},
		{"详见https://example.com/a?b=1。", 1},
		{"www.example.cn 和 http://a.org", 2},
		{"加我看 abc123.top 领取", 1},
		{"邮箱 zhang@example.com", 0},
		{"版本1.5.com", 0}, // a number is not a domain
		{"ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ", 1},
	}
	for _, tt := range tests {
		if got := CountLinks(Normalize(tt.text).Text); got != tt.want {
			t.Errorf("CountLinks(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestRepetition(t *testing.T) {
	tests := []struct {
		text     string
		longest  int
		shareMin float64
		shareMax float64
	}{
		{"哈哈哈哈哈哈哈哈哈哈", 10, 1, 1},
		{"aaaaaa好", 6, 0.8, 0.9},
		{"投资1000000元", 1, 0, 0}, // digits are not repetition
		{"小区路灯坏了", 1, 0, 0},
	}
	for _, tt := range tests {
		longest, share, _ := Repetition(Normalize(tt.text), 6)
		if longest != tt.longest || share < tt.shareMin || share > tt.shareMax {
			t.Errorf("Repetition(%q) = %d, %.2f", tt.text, longest, share)
		}
	}
}

func TestSpamGuardWindow(t *testing.T) {
	g := NewSpamGuard(DefaultSpamRules())
	rate := Rate{Limit: 3, Window: time.Minute}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if g.Hit("ip:1.2.3.4", rate, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("hit %d over the limit", i+1)
		}
	}
	if !g.Hit("ip:1.2.3.4", rate, t0.Add(3*time.Second)) {
		t.Fatal("4th event in a minute not limited")
	}
	if g.Hit("ip:5.6.7.8", rate, t0.Add(3*time.Second)) {
		t.Fatal("another key limited")
	}
	// The window slides: a minute after the first events they no longer count.
	if g.Hit("ip:1.2.3.4", rate, t0.Add(62*time.Second)) {
		t.Fatal("still limited after the window passed")
	}
	if g.Hit("x", Rate{}, t0) || g.Hit("", rate, t0) {
		t.Fatal("a zero rate or empty key limited")
	}
	// Keys with no event inside their window are swept (each shard sweeps
	// itself at most once a minute, on its next event).
	g.Hit("ip:9.9.9.9", rate, t0.Add(10*time.Minute))
	total := 0
	for i := range g.shards {
		g.shards[i].sweep(t0.Add(10 * time.Minute))
		total += len(g.shards[i].events)
	}
	if total != 1 {
		t.Errorf("%d keys kept after the sweep, want 1", total)
	}
}
