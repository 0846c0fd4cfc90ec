package moderation

import (
	"os"
	"strings"
	"sync"
	"testing"
)

func testWords(t testing.TB) WordList {
	t.Helper()
	f, err := os.Open("testdata/words_extra.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := ParseWordList(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestStarterWords(t *testing.T) {
	l := StarterWords()
	if len(l) < 40 {
		t.Fatalf("starter list has %d words", len(l))
	}
	m, err := NewMatcher(l)
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]bool{}
	for _, w := range m.Words() {
		cats[w.Category] = true
	}
	for _, c := range []string{CategoryInsult, CategoryAdvertising, CategoryGambling, CategoryIllegal, CategoryFraud} {
		if !cats[c] {
			t.Errorf("no %s words", c)
		}
		if CategoryLabel(c) == CategoryLabel("unknown") {
			t.Errorf("category %s has no label", c)
		}
	}
}

func TestParseWordListErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"fields", "刷单\tadvertising\n", "fields"},
		{"action", "刷单\tadvertising\tdelete\n", "action"},
		{"category", "刷单\t\thold\n", "category"},
		{"one character", "死\tinsult\thold\n", "two letters"},
		{"only symbols", "**\tinsult\thold\n", "two letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWordList(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one about %q", err, tt.want)
			}
		})
	}
	l, err := ParseWordList(strings.NewReader("# comment\n\n刷单\tadvertising\treject\n"))
	if err != nil || len(l) != 1 || l[0].Action != Block {
		t.Errorf("reject is read as block: %v %v", l, err)
	}
}

func TestMatcherEvasions(t *testing.T) {
	m, err := NewMatcher(testWords(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		word       string // "" for no hit
		orig       string // the original text the hit covers
	}{
		{"plain", "他们在搞法轮活动", "法轮", "法轮"},
		{"space", "法 轮", "法轮", "法 轮"},
		{"symbols", "法*轮", "法轮", "法*轮"},
		{"underscore", "法_轮", "法轮", "法_轮"},
		{"dot", "这是法.轮功", "法轮", "法.轮"},
		{"emoji between", "法😀轮", "法轮", "法😀轮"},
		{"zero-width", "法\u200b轮", "法轮", "法\u200b轮"},
		{"traditional", "法輪大法", "法轮", "法輪"},
		{"full-width latin", "加ＶＸ聊", "vx", "ＶＸ"},
		{"spaced latin", "加 v x 13800138000", "vx", "v x"},
		{"latin touching digits", "vx13800138000", "vx", "vx"},
		{"latin inside a word", "new xbox", "", ""},
		{"cyrillic look-alike", "加vх", "vx", "vх"},
		{"chinese zero", "〇元购手机", "0元购", "〇元购"},
		{"letter o among digits", "只要1OO元购", "0元购", "O元购"},
		{"full-width digit", "０元购", "0元购", "０元购"},
		{"flag word", "你这个王八蛋", "王八蛋", "王八蛋"},
		{"no hit", "小区路灯坏了", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := m.Match(tt.text)
			if tt.word == "" {
				if len(hits) != 0 {
					t.Fatalf("Match(%q) = %+v, want none", tt.text, hits)
				}
				return
			}
			if len(hits) == 0 {
				t.Fatalf("Match(%q) found nothing, want %q", tt.text, tt.word)
			}
			h := hits[0]
			if h.Word != tt.word {
				t.Errorf("word %q, want %q", h.Word, tt.word)
			}
			if got := tt.text[h.Start:h.End]; got != tt.orig {
				t.Errorf("offsets [%d,%d) cover %q, want %q", h.Start, h.End, got, tt.orig)
			}
		})
	}
}

func TestMatcherOverlapsAndActions(t *testing.T) {
	m, err := NewMatcher(testWords(t))
	if err != nil {
		t.Fatal(err)
	}
	text := "专业刷 单返利，日结"
	hits := m.Match(text)
	got := map[string]Action{}
	for _, h := range hits {
		got[h.Word] = h.Action
		if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
			t.Fatalf("bad offsets %+v", h)
		}
	}
	if got["刷单"] != Hold || got["刷单返利"] != Block {
		t.Errorf("hits %+v, want 刷单 (hold) and 刷单返利 (block)", hits)
	}
	if hits[0].Start > hits[1].Start {
		t.Errorf("hits not in order: %+v", hits)
	}
	// The same word twice in the list: the strictest action wins.
	m2, err := NewMatcher(WordList{{"刷单", "advertising", Flag}, {"刷單", "advertising", Block}})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Len() != 1 || m2.Match("刷单")[0].Action != Block {
		t.Errorf("duplicate words: %+v", m2.Words())
	}
	// A very repetitive text reports a bounded number of hits.
	if n := len(m.Match(strings.Repeat("刷单", 500))); n != maxMatches {
		t.Errorf("%d hits, want %d", n, maxMatches)
	}
	var nilMatcher *Matcher
	if nilMatcher.Match("刷单") != nil {
		t.Error("nil Matcher matched")
	}
}

func TestRegistrySwap(t *testing.T) {
	r, err := NewRegistry(WordList{{"刷单", "advertising", Hold}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Matcher().Match("刷单")) != 1 {
		t.Fatal("no hit before the swap")
	}
	if err := r.Replace(WordList{{"x", "advertising", Hold}}); err == nil {
		t.Fatal("invalid list accepted")
	}
	if len(r.Matcher().Match("刷单")) != 1 {
		t.Fatal("a failed Replace changed the list")
	}
	// Readers never block or see a half-built Matcher while admins swap.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, h := range r.Matcher().Match("刷单 博彩") {
					if h.Word != "刷单" && h.Word != "博彩" {
						t.Errorf("unexpected hit %+v", h)
					}
				}
			}
		})
	}
	for i := range 50 {
		list := WordList{{"刷单", "advertising", Hold}}
		if i%2 == 1 {
			list = append(list, Word{"博彩", "gambling", Block})
		}
		if err := r.Replace(list); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(r.Matcher().Match("博彩")) != 1 {
		t.Error("last list not in use")
	}
}
