package search

import (
	"slices"
	"strings"
	"testing"
)

func TestOpenSegmenterIsProcessWide(t *testing.T) {
	first := testSegmenter(t)
	second, err := OpenSegmenter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatalf("OpenSegmenter returned %p then %p, want one instance", first, second)
	}
	if got := first.Dictionaries().Dict; !strings.HasPrefix(got, testDataDir) {
		t.Errorf("jieba loaded %s, want the installed copy under %s", got, testDataDir)
	}
}

func TestCut(t *testing.T) {
	seg := testSegmenter(t)
	text := "我想提一个关于垃圾分类的金点子"
	words := seg.Cut(text)
	t.Logf("Cut: %q", words)
	if strings.Join(words, "") != text {
		t.Errorf("words %q do not add up to %q", words, text)
	}
	// 垃圾分类 and 金点子 come from the civic dictionary.
	for _, want := range []string{"关于", "垃圾分类", "金点子"} {
		if !slices.Contains(words, want) {
			t.Errorf("Cut(%q) = %q, missing %q", text, words, want)
		}
	}

	search := seg.CutForSearch("中华人民共和国")
	t.Logf("CutForSearch: %q", search)
	for _, want := range []string{"中华", "人民", "共和国", "中华人民共和国"} {
		if !slices.Contains(search, want) {
			t.Errorf("CutForSearch = %q, missing %q", search, want)
		}
	}
}

func TestTokenizeByteOffsets(t *testing.T) {
	seg := testSegmenter(t)
	for _, text := range []string{
		"ABC停车难，电动车123",
		"小区 Wi-Fi 信号差😀，希望改善！",
		"垃圾\x00分类\xff电动车", // NUL and invalid UTF-8 must not lose text
	} {
		for _, searchMode := range []bool{false, true} {
			tokens := seg.Tokenize(text, searchMode)
			t.Logf("Tokenize(%q, %v) = %v", text, searchMode, tokens)
			if len(tokens) == 0 {
				t.Fatalf("Tokenize(%q, %v) returned nothing", text, searchMode)
			}
			end := 0
			for _, tok := range tokens {
				if tok.Start < 0 || tok.End > len(text) || tok.Start >= tok.End {
					t.Fatalf("token %+v out of range for %q", tok, text)
				}
				if got := text[tok.Start:tok.End]; got != tok.Text {
					t.Errorf("text[%d:%d] = %q, token says %q", tok.Start, tok.End, got, tok.Text)
				}
				if !searchMode {
					// Exact mode tiles the text.
					if tok.Start != end {
						t.Errorf("token %+v starts at %d, want %d", tok, tok.Start, end)
					}
					end = tok.End
				}
			}
			if !searchMode && end != len(text) {
				t.Errorf("tokens end at %d, text is %d bytes", end, len(text))
			}
		}
	}

	tokens := seg.Tokenize("ABC停车难，电动车123", false)
	want := Token{Text: "电动车", Start: len("ABC停车难，"), End: len("ABC停车难，电动车")}
	if !slices.Contains(tokens, want) {
		t.Errorf("Tokenize = %v, want it to contain %+v", tokens, want)
	}

	words := seg.Cut("垃圾\x00分类\xff电动车")
	if !slices.Contains(words, "电动车") {
		t.Errorf("Cut after NUL and invalid UTF-8 = %q, lost 电动车", words)
	}
}

func TestExtract(t *testing.T) {
	seg := testSegmenter(t)
	text := "建议在小区增加垃圾分类投放点，垃圾分类宣传也要跟上，让居民了解垃圾分类。"
	keywords := seg.Extract(text, 3)
	t.Logf("Extract: %q", keywords)
	if len(keywords) == 0 || len(keywords) > 3 {
		t.Fatalf("Extract(_, 3) = %q, want 1 to 3 keywords", keywords)
	}
	if !slices.ContainsFunc(keywords, func(k string) bool { return strings.Contains("垃圾分类", k) }) {
		t.Errorf("Extract = %q, want 垃圾分类 (or a part of it) among them", keywords)
	}
	if got := seg.Extract(text, 0); got != nil {
		t.Errorf("Extract(_, 0) = %q, want nil", got)
	}
}

func TestSegmenterConcurrentUse(t *testing.T) {
	seg := testSegmenter(t)
	text := "我想提一个关于垃圾分类的金点子"
	want := seg.Cut(text)
	done := make(chan []string)
	for range 8 {
		go func() {
			var got []string
			for range 50 {
				got = seg.Cut(text)
				seg.Tokenize(text, true)
				seg.Extract(text, 3)
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Cut = %q, want %q", got, want)
		}
	}
}
