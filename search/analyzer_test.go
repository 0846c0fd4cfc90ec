package search

import (
	"errors"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
)

func TestTokenizerNeedsSegmenter(t *testing.T) {
	if _, err := newTokenizer(nil, true); !errors.Is(err, errNoSegmenter) {
		t.Fatalf("newTokenizer(nil) error = %v, want errNoSegmenter", err)
	}
}

func testAnalyzer(t *testing.T) analysis.Analyzer {
	t.Helper()
	testSegmenter(t)
	a := NewMapping().AnalyzerNamed(AnalyzerName)
	if a == nil {
		t.Fatalf("mapping has no analyzer %q", AnalyzerName)
	}
	return a
}

func TestAnalyzer(t *testing.T) {
	a := testAnalyzer(t)
	text := "ABC停车难，电动车123"
	stream := a.Analyze([]byte(text))
	if len(stream) == 0 {
		t.Fatal("no tokens")
	}
	terms := map[string]*analysis.Token{}
	lastPos := 0
	for _, tok := range stream {
		t.Logf("%v", tok)
		terms[string(tok.Term)] = tok
		if tok.Position < lastPos || tok.Position < 1 {
			t.Errorf("token %v: position goes from %d to %d", tok, lastPos, tok.Position)
		}
		lastPos = tok.Position
		if tok.Start < 0 || tok.End > len(text) || tok.Start >= tok.End {
			t.Fatalf("token %v out of range", tok)
		}
	}
	if _, ok := terms["，"]; ok {
		t.Error("punctuation was indexed")
	}
	abc := terms["abc"]
	if abc == nil {
		t.Fatalf("no lower-cased abc in %v", stream)
	}
	if abc.Start != 0 || abc.End != 3 || abc.Type != analysis.AlphaNumeric {
		t.Errorf("abc = %v, want 0:3 AlphaNumeric", abc)
	}
	ev := terms["电动车"]
	if ev == nil {
		t.Fatalf("no 电动车 in %v", stream)
	}
	if text[ev.Start:ev.End] != "电动车" || ev.Type != analysis.Ideographic {
		t.Errorf("电动车 = %v, want its byte span and Ideographic", ev)
	}
	if n := terms["123"]; n == nil || n.Type != analysis.AlphaNumeric || text[n.Start:n.End] != "123" {
		t.Errorf("123 = %v, want an AlphaNumeric token over 123", n)
	}
}

func TestTokenizerGroupsSearchModeWords(t *testing.T) {
	tok, err := newTokenizer(testSegmenter(t), true)
	if err != nil {
		t.Fatal(err)
	}
	stream := tok.Tokenize([]byte("中华人民共和国成立了"))
	pos := map[string]int{}
	for _, tok := range stream {
		t.Logf("%v", tok)
		pos[string(tok.Term)] = tok.Position
	}
	// Every word inside 中华人民共和国 stands at its position; the next word
	// follows it.
	for _, w := range []string{"中华", "人民", "共和国", "中华人民共和国"} {
		if p, ok := pos[w]; !ok || p != 1 {
			t.Errorf("%s at position %d (present %v), want 1", w, p, ok)
		}
	}
	if pos["成立"] != 2 {
		t.Errorf("成立 at position %d, want 2", pos["成立"])
	}
}
