package moderation

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for the rate rules.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestPipeline(t testing.TB) (*Pipeline, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	words, err := NewRegistry(append(StarterWords(), testWords(t)...))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(Config{Words: words, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p, clock
}

func TestPipelinePolicy(t *testing.T) {
	p, _ := newTestPipeline(t)
	letter := readFixture(t, "letter.txt")
	tests := []struct {
		name, policy, title, body string
		want                      Action
		code                      string // first reason; "" for none
	}{
		{"post, clean", PolicyPost, "占道经营", letter, Publish, ""},
		{"pre, clean", PolicyPre, "占道经营", letter, Hold, CodePolicyPre},
		{"unknown policy is pre", "", "占道经营", letter, Hold, CodePolicyPre},
		{"post, block word", PolicyPost, "兼职", "兼职日结，加Ｖ＊信详聊", Reject, CodeWordBlocked},
		{"pre, block word still rejects", PolicyPre, "兼职", "兼职日结，加Ｖ＊信详聊", Reject, CodeWordBlocked},
		{"post, hold word", PolicyPost, "", "你就是个傻 逼", Hold, CodeWordHeld},
		{"post, flag word", PolicyPost, "", "这个王八蛋司机又把车停在盲道上了", Publish, CodeWordFlagged},
		{"post, advertising word and a phone number", PolicyPost, "", "免费领取礼品，电话13800138000", Hold, CodeHighRisk},
		{"post, PII alone publishes", PolicyPost, "", "我的电话13800138000，车牌粤B12345，身份证11010519491231002X。", Publish, CodePIIMasked},
		{"post, traditional block word", PolicyPost, "", "專業代開發票", Reject, CodeWordBlocked},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := p.Check(context.Background(), Input{Kind: "idea", Policy: tt.policy, Title: tt.title, Body: tt.body,
				SubmitterKey: "k" + string(rune('a'+i))})
			if err != nil {
				t.Fatal(err)
			}
			if v.Action != tt.want {
				t.Errorf("action %s, want %s (reasons %+v)", v.Action, tt.want, v.Reasons)
			}
			switch {
			case tt.code == "" && len(v.Reasons) > 0:
				t.Errorf("reasons %+v, want none", v.Reasons)
			case tt.code != "" && (len(v.Reasons) == 0 || v.Reasons[0].Code != tt.code):
				t.Errorf("reasons %+v, want %s first", v.Reasons, tt.code)
			}
			for _, r := range v.Reasons {
				if r.Message == "" || strings.Contains(r.Message, "傻逼") || strings.Contains(r.Message, "代开发票") {
					t.Errorf("reason message %q is empty or repeats the word", r.Message)
				}
			}
			if v.Risk < 0 || v.Risk > 1 {
				t.Errorf("risk %v", v.Risk)
			}
			if v.ContentHash == "" || len(v.ContentHash) != 64 {
				t.Errorf("content hash %q", v.ContentHash)
			}
		})
	}
}

func TestPipelineMasksAndHighlights(t *testing.T) {
	p, _ := newTestPipeline(t)
	title := "刷 单的人留了电话"
	body := "有人在群里发刷单广告，电话１３８００１３８０００，邮箱zhang@example.com。"
	v, err := p.Check(context.Background(), Input{Kind: "idea", Policy: PolicyPost, Title: title, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != Hold {
		t.Errorf("action %s, want hold for 刷单", v.Action)
	}
	if v.BodyMasked != "有人在群里发刷单广告，电话138****8000，邮箱z***@example.com。" {
		t.Errorf("body masked %q", v.BodyMasked)
	}
	if v.TitleMasked != title {
		t.Errorf("title masked %q", v.TitleMasked)
	}
	fields := map[string]string{"title": title, "body": body}
	var seen []string
	for _, m := range v.Matches {
		seen = append(seen, m.Field+":"+fields[m.Field][m.Start:m.End])
	}
	if strings.Join(seen, ",") != "title:刷 单,body:刷单" {
		t.Errorf("matches %v", seen)
	}
	if len(v.PII) != 2 || v.PII[0].Field != "body" {
		t.Errorf("pii %+v", v.PII)
	}
	// The verdict's JSON (stored with the idea) carries the highlights but
	// never the raw personal data.
	js, _ := json.Marshal(v)
	if !strings.Contains(string(js), `"matches"`) || strings.Contains(string(js), "13800138000") ||
		strings.Contains(string(js), "１３８") || strings.Contains(string(js), "zhang@") {
		t.Errorf("verdict JSON %s", js)
	}
}

func TestPipelineSpam(t *testing.T) {
	p, clock := newTestPipeline(t)
	ctx := context.Background()
	check := func(in Input) Verdict {
		t.Helper()
		in.Kind, in.Policy = "idea", PolicyPost
		v, err := p.Check(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	code := func(v Verdict) string {
		if len(v.Reasons) == 0 {
			return ""
		}
		return v.Reasons[0].Code
	}

	links := strings.Repeat("参考 https://example.com/a ", 9)
	if v := check(Input{Body: links, SubmitterKey: "s1"}); v.Action != Hold || code(v) != CodeTooManyLinks {
		t.Errorf("nine links: %s %+v", v.Action, v.Reasons)
	}
	if v := check(Input{Body: "相关报道见 https://example.com/news ，请领导关注。", SubmitterKey: "s2"}); v.Action != Publish || v.Risk == 0 {
		t.Errorf("one link: %s risk %v", v.Action, v.Risk)
	}
	if v := check(Input{Body: strings.Repeat("哈", 30), SubmitterKey: "s3"}); v.Action != Hold || code(v) != CodeRepeated {
		t.Errorf("repeated characters: %s %+v", v.Action, v.Reasons)
	}
	if v := check(Input{Body: "路灯坏了哈哈哈哈哈哈，什么时候修？已经坏了三个月了，晚上出门很不方便，希望尽快处理。", SubmitterKey: "s4"}); v.Action != Publish {
		t.Errorf("a laugh in a real message: %s %+v", v.Action, v.Reasons)
	}

	// The same text twice from one submitter: the second waits.
	letter := readFixture(t, "letter.txt")
	if v := check(Input{Body: letter, SubmitterKey: "same"}); v.Action != Publish {
		t.Fatalf("first: %s %+v", v.Action, v.Reasons)
	}
	if v := check(Input{Body: letter + " ", SubmitterKey: "same"}); v.Action != Hold || code(v) != CodeSameText {
		t.Errorf("second: %s %+v", v.Action, v.Reasons)
	}
	if v := check(Input{Body: letter, SubmitterKey: "other"}); v.Action != Publish {
		t.Errorf("another submitter: %s %+v", v.Action, v.Reasons)
	}
	clock.Advance(25 * time.Hour)
	if v := check(Input{Body: letter, SubmitterKey: "same"}); v.Action != Publish {
		t.Errorf("a day later: %s %+v", v.Action, v.Reasons)
	}

	// Rates per IP: the 21st submission in ten minutes waits.
	var last Verdict
	for i := range 21 {
		last = check(Input{Body: "建议增加公交班次" + strings.Repeat("。", i), SubmitterKey: "ip" + string(rune('a'+i)), IP: "10.0.0.1"})
		if i < 20 && last.Action != Publish {
			t.Fatalf("submission %d held: %+v", i+1, last.Reasons)
		}
	}
	if last.Action != Hold || code(last) != CodeRateLimited {
		t.Errorf("21st from one IP: %s %+v", last.Action, last.Reasons)
	}
	clock.Advance(11 * time.Minute)
	if v := check(Input{Body: "建议增加公交班次", SubmitterKey: "ipz", IP: "10.0.0.1"}); v.Action != Publish {
		t.Errorf("after the window: %s %+v", v.Action, v.Reasons)
	}
	// One contact advertised by many submitters.
	for i := range 4 {
		last = check(Input{Body: "回收旧家电，电话13912345678", SubmitterKey: "c" + string(rune('a'+i))})
	}
	if last.Action != Hold || code(last) != CodeRateLimited {
		t.Errorf("4th post with one phone number: %s %+v", last.Action, last.Reasons)
	}
}

func TestPipelineDuplicates(t *testing.T) {
	p, _ := newTestPipeline(t)
	ctx := context.Background()
	letter, other := readFixture(t, "letter.txt"), readFixture(t, "letter2.txt")
	in := Input{Kind: "idea", CampaignID: 7, Policy: PolicyPost, Body: letter, SubmitterKey: "a"}
	v, err := p.Check(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Duplicates) != 0 {
		t.Fatalf("duplicates in an empty campaign: %+v", v.Duplicates)
	}
	p.Dups().Add(7, DupRow{IdeaID: 100, ContentHash: v.ContentHash, Simhash: v.Simhash})
	v2, _ := p.Check(ctx, Input{Kind: "idea", CampaignID: 7, Policy: PolicyPost, Body: other, SubmitterKey: "b"})
	p.Dups().Add(7, DupRow{IdeaID: 101, ContentHash: v2.ContentHash, Simhash: v2.Simhash})

	// The same letter, re-punctuated, from someone else.
	again := strings.ReplaceAll(letter, "，", " , ")
	v3, _ := p.Check(ctx, Input{Kind: "idea", CampaignID: 7, Policy: PolicyPost, Body: again, SubmitterKey: "c"})
	if len(v3.Duplicates) != 1 || v3.Duplicates[0].IdeaID != 100 || v3.Duplicates[0].Similarity != 1 {
		t.Errorf("duplicates %+v, want idea 100 at 1", v3.Duplicates)
	}
	if v3.Action != Publish {
		t.Errorf("a duplicate alone holds: %+v", v3.Reasons)
	}
	// Another campaign and comments are not compared.
	v4, _ := p.Check(ctx, Input{Kind: "idea", CampaignID: 8, Policy: PolicyPost, Body: letter, SubmitterKey: "d"})
	v5, _ := p.Check(ctx, Input{Kind: "comment", CampaignID: 7, Policy: PolicyPost, Body: letter, SubmitterKey: "e"})
	if len(v4.Duplicates)+len(v5.Duplicates) != 0 {
		t.Errorf("other campaign %+v, comment %+v", v4.Duplicates, v5.Duplicates)
	}
}

func TestPipelineConcurrent(t *testing.T) {
	p, _ := newTestPipeline(t)
	letter := readFixture(t, "letter.txt")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				v, err := p.Check(context.Background(), Input{Kind: "idea", CampaignID: 1, Policy: PolicyPost,
					Body: letter, SubmitterKey: string(rune('a'+g)) + string(rune('a'+i%26))})
				if err != nil {
					t.Error(err)
					return
				}
				p.Dups().Add(1, DupRow{IdeaID: int64(g*100 + i + 1), ContentHash: v.ContentHash, Simhash: v.Simhash})
				if i%10 == 0 {
					if err := p.Words().Replace(StarterWords()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
}
