package search

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/mapping"
)

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"臺灣", "台湾"},
		{"ＡＢＣ", "abc"},
		{"ABC停车难", "abc停车难"},
		{"Ｗｉ－Ｆｉ信號１２３", "wi-fi信号123"},
		{"電動自行車亂停", "电动自行车乱停"},
		{"ｅ\u0301", "é"},   // full-width e and a combining accent compose
		{"全角　空格", "全角 空格"}, // ideographic space
		{"垃圾\x00分类\xff", "垃圾 分类 "},
		{"简体中文不变", "简体中文不变"},
		{"", ""},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every token's offsets point at the text as written, whatever folding did
// to its length, so highlighting marks the right characters.
func TestAnalyzersKeepOriginalOffsets(t *testing.T) {
	testSegmenter(t)
	im := NewMapping()
	text := "臺灣ＡＢＣ電瓶車在樓道充電，\xff礼让斑马线ｅ\u0301！Ａ7县"
	for _, name := range []string{TextAnalyzerName, BodyAnalyzerName, AnalyzerName, BigramAnalyzerName, UnigramAnalyzerName} {
		a := im.AnalyzerNamed(name)
		stream := a.Analyze([]byte(text))
		if len(stream) == 0 {
			t.Fatalf("%s: no tokens", name)
		}
		for _, tok := range stream {
			if tok.Term[0] < ' ' {
				continue // the length and place markers cover nothing
			}
			if tok.Start < 0 || tok.End > len(text) || tok.Start >= tok.End {
				t.Fatalf("%s: token %v out of range", name, tok)
			}
			got := Fold(text[tok.Start:tok.End])
			if !strings.Contains(got, string(tok.Term)) && synonymCanon()[got] != string(tok.Term) {
				t.Errorf("%s: token %q covers %q (folded %q)", name, tok.Term, text[tok.Start:tok.End], got)
			}
		}
	}
}

func terms(stream analysis.TokenStream) []string {
	out := make([]string, len(stream))
	for i, tok := range stream {
		out[i] = string(tok.Term)
	}
	return out
}

func TestCivicWordsCutWhole(t *testing.T) {
	seg := testSegmenter(t)
	for _, tc := range []struct{ text, word string }{
		{"希望大家礼让斑马线", "礼让斑马线"},
		{"电动自行车进楼充电很危险", "电动自行车"},
		{"打12345热线没人接", "12345热线"},
		{"老旧小区加装电梯补贴", "老旧小区"},
		{"老旧小区加装电梯补贴", "加装电梯"},
		{"学校门口设护学岗", "护学岗"},
		{"推进公厕革命", "公厕革命"},
		{"我的金点子", "金点子"},
		{"街边占道经营严重", "占道经营"},
		{"楼顶违章搭建", "违章搭建"},
		{"物业费太贵了", "物业费"},
	} {
		if words := seg.Cut(tc.text); !slices.Contains(words, tc.word) {
			t.Errorf("Cut(%q) = %q, want %q whole", tc.text, words, tc.word)
		}
	}
	if !seg.HasWord("礼让斑马线") || !seg.HasWord("電瓶車") {
		t.Error("HasWord misses a civic word or a synonym")
	}
	n := 0
	lines(civicDictFile, func(line string) {
		if e := parseDictLine(line); e.word != "" && e.freq > 0 && e.tag != "" {
			n++
		}
	})
	if n < 300 {
		t.Errorf("civic dictionary has %d entries, want at least 300", n)
	}
}

func TestAddWords(t *testing.T) {
	seg := testSegmenter(t)
	const word = "翠微坡口袋花园" // made up: not in any dictionary
	text := "建议把" + word + "改成停车场"
	if slices.Contains(seg.Cut(text), word) {
		t.Fatalf("%s is already a word", word)
	}
	if n := seg.AddWords([]string{word, " ", "两个 词", word}); n != 1 {
		t.Errorf("AddWords added %d words, want 1 (blank, spaced and repeated words skipped)", n)
	}
	if words := seg.Cut(text); !slices.Contains(words, word) {
		t.Errorf("after AddWords, Cut(%q) = %q", text, words)
	}
	// Added words are folded like the text they are found in.
	seg.AddWords([]string{"翠微坡ＡＢ站"})
	if words := seg.Cut(Fold("去翠微坡ＡＢ站")); !slices.Contains(words, "翠微坡ab站") {
		t.Errorf("folded admin word not cut whole: %q", words)
	}
}

// AddWords may run while other goroutines cut text (go test -race).
func TestAddWordsWhileCutting(t *testing.T) {
	seg := testSegmenter(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			seg.AddWords([]string{"并发测试词" + string(rune('甲'+i))})
		}
	}()
	for range 200 {
		seg.Tokenize("并发测试词甲和并发测试词乙都在这里", false)
	}
	<-done
}

func TestSynonymFilter(t *testing.T) {
	testSegmenter(t)
	a := NewMapping().AnalyzerNamed(AnalyzerName)
	stream := a.Analyze([]byte("楼道里的电瓶车"))
	var ev, canon *analysis.Token
	for _, tok := range stream {
		switch string(tok.Term) {
		case "电瓶车":
			ev = tok
		case "电动车":
			canon = tok
		}
	}
	if ev == nil || canon == nil {
		t.Fatalf("want 电瓶车 and its canonical 电动车 in %q", terms(stream))
	}
	if ev.Position != canon.Position || ev.Start != canon.Start || ev.End != canon.End {
		t.Errorf("电动车 %v is not at 电瓶车's place %v", canon, ev)
	}
}

func TestSynonymsFindEachOther(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	docs := []Doc{
		{ID: "ebike", Title: "楼道停放", Body: "有人把电瓶车推进楼道，堵住了出口。"},
		{ID: "toilet", Title: "公园设施", Body: "公园里的卫生间晚上锁门。"},
		{ID: "parking", Title: "小区车位", Body: "小区车位不足，晚上车停满了路边。"},
		{ID: "taxi", Title: "车站秩序", Body: "火车站的士不打表。"},
		{ID: "other", Title: "健身器材", Body: "希望增加健身器材。"},
	}
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, want string }{
		{"电动车", "ebike"},
		{"电动自行车", "ebike"},
		{"公厕", "toilet"},
		{"停车难", "parking"},
		{"出租车", "taxi"},
	} {
		got, err := idx.SearchIDs(tc.query, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0] != tc.want {
			t.Errorf("SearchIDs(%q) = %q, want %s first", tc.query, got, tc.want)
		}
	}
}

func TestFoldedTextMatches(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	docs := []Doc{
		{ID: "tw", Title: "臺灣遊客", Body: "一位臺灣遊客在火車站問路。"},
		{ID: "abc", Title: "ＡＢＣ小区", Body: "ＡＢＣ小区的电梯坏了。"},
		{ID: "other", Title: "健身器材", Body: "希望增加健身器材。"},
	}
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	assertIDs(t, idx, "台湾游客", "tw")
	assertIDs(t, idx, "abc", "abc")
	assertIDs(t, idx, "ABC", "abc")
	assertIDs(t, idx, "健身器材", "other")
}

func TestStopFilter(t *testing.T) {
	testSegmenter(t)
	a := stopAnalyzer(t)
	got := terms(a.Analyze([]byte("请问我们的小区什么时候能通天然气")))
	for _, w := range []string{"请问", "我们", "的", "什么"} {
		if slices.Contains(got, w) {
			t.Errorf("kept stop word %q: %q", w, got)
		}
	}
	for _, keep := range []string{"小区", "天然气"} {
		if !slices.Contains(got, keep) {
			t.Errorf("lost %q: %q", keep, got)
		}
	}
	// Content words that jieba's stop list holds stay: short queries need them.
	if got := terms(a.Analyze([]byte("全部人员"))); !slices.Contains(got, "全部") {
		t.Errorf("lost 全部: %q", got)
	}
	// Neither the index nor BuildQuery drops stop words (ANALYSIS.md).
	idxTerms := terms(NewMapping().AnalyzerNamed(AnalyzerName).Analyze([]byte("我们的小区")))
	if !slices.Contains(idxTerms, "我们") {
		t.Errorf("word analyzer dropped 我们: %q", idxTerms)
	}
}

// stopAnalyzer is the word analyzer followed by StopFilterName.
func stopAnalyzer(t *testing.T) analysis.Analyzer {
	t.Helper()
	im := mapping.NewIndexMapping()
	err := im.AddCustomAnalyzer("test_stop", map[string]any{
		"type":          custom.Name,
		"tokenizer":     TokenizerName,
		"token_filters": []string{StopFilterName},
	})
	if err != nil {
		t.Fatal(err)
	}
	return im.AnalyzerNamed("test_stop")
}

func TestBuildQueryRobust(t *testing.T) {
	idx := openTestIndex(t, filepath.Join(t.TempDir(), "index"))
	docs := append(slices.Clone(testDocs),
		Doc{ID: "literal", Title: "系统显示 status:pending", Body: "提交后一直显示 status:pending，不知道什么意思。", Status: "published"},
	)
	if err := idx.Index(docs...); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("老旧小区停车难，", 1250) // 10,000 characters
	for _, tc := range []struct {
		name, text string
		none       bool     // must match nothing
		first      string   // if set, must rank first
		notAmong   []string // must not be returned
	}{
		{name: "empty", text: "", none: true},
		{name: "blank", text: " \t\n　", none: true},
		{name: "punctuation", text: "！！！", none: true},
		{name: "ascii punctuation", text: `+-&&||!(){}[]^"~*?:\/`, none: true},
		// Field syntax is text: "status:pending" must not select the
		// pending idea (3) by its status field, only the idea saying it.
		{name: "field syntax", text: "status:pending", first: "literal", notAmong: []string{"3"}},
		{name: "field syntax 2", text: "theme:环境 +region:西湖区", notAmong: []string{"1"}},
		{name: "unbalanced quote", text: `"unbalanced`},
		{name: "unbalanced quote chinese", text: `"垃圾分类`, first: "1"},
		{name: "wildcards", text: "垃圾*", first: "1"},
		{name: "invalid utf-8", text: "垃圾\xff\xfe分类\x00", first: "1"},
		{name: "only invalid utf-8", text: "\xff\xfe\xfd", none: true},
		{name: "10k characters", text: long, first: "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := idx.BuildQuery(tc.text)
			if q == nil {
				t.Fatal("nil query")
			}
			start := time.Now()
			got, err := idx.SearchIDs(tc.text, 10)
			if err != nil {
				t.Fatalf("SearchIDs: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if tc.none && len(got) > 0 {
				t.Errorf("matched %q, want nothing", got)
			}
			if tc.first != "" && (len(got) == 0 || got[0] != tc.first) {
				t.Errorf("got %q, want %s first", got, tc.first)
			}
			for _, id := range tc.notAmong {
				if slices.Contains(got, id) {
					t.Errorf("got %q, must not contain %s", got, id)
				}
			}
		})
	}
}

func TestClipQuery(t *testing.T) {
	long := strings.Repeat("字", maxQueryRunes+10)
	if got := clipQuery(long); got != strings.Repeat("字", maxQueryRunes) {
		t.Errorf("clipQuery kept %d characters, want %d", len([]rune(got)), maxQueryRunes)
	}
	if got := clipQuery("a\xffb"); got != "a b" {
		t.Errorf("clipQuery(invalid) = %q", got)
	}
}

func FuzzBuildQuery(f *testing.F) {
	for _, seed := range []string{
		"", "垃圾分类", "status:pending", `"unbalanced`, "！！！", "\xff\xfe", "a\x00b",
		"title:x body:y", "+a -b", "*?~^", strings.Repeat("长", 300), "臺灣ＡＢＣ", "e\u0301\u0301",
	} {
		f.Add(seed)
	}
	seg := testSegmenter(f)
	idx, err := OpenIndex(filepath.Join(f.TempDir(), "index"), seg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { idx.Close() })
	if err := idx.Index(testDocs...); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if idx.BuildQuery(text) == nil {
			t.Fatal("nil query")
		}
		if _, err := idx.SearchIDs(text, 5); err != nil {
			t.Fatalf("SearchIDs(%q): %v", text, err)
		}
		Fold(text)
	})
}
