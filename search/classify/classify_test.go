package classify

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"jindianzi/portal/store"
)

// readExamples reads a testdata CSV into examples of title and body.
func readExamples(t testing.TB, name string) []Example {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	ex := make([]Example, len(rows))
	for i, r := range rows {
		ex[i] = Example{Text: Text(r.Title, r.Body), Label: r.Label}
	}
	return ex
}

func trainSmall(t testing.TB) *Model {
	t.Helper()
	m, err := Train(readExamples(t, "testdata/themes.csv"), Options{Tokenizer: testTok})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPredictObvious(t *testing.T) {
	m := trainSmall(t)
	if !slices.Equal(m.Classes, []string{"交通出行", "教育文化", "生态环境"}) {
		t.Fatalf("classes = %q", m.Classes)
	}
	for _, tc := range []struct {
		text, want string
	}{
		{"小区停车位严重不足，车都停到马路上了", "交通出行"},
		{"公交车太少，等车时间太长", "交通出行"},
		{"工地夜间施工噪音扰民，还有扬尘", "生态环境"},
		{"垃圾站的垃圾没人清运，臭气熏天", "生态环境"},
		{"孩子上学没有学位，幼儿园也太贵", "教育文化"},
		{"图书馆开放时间太短", "教育文化"},
	} {
		got := m.Predict(tc.text)
		if len(got) != 3 || got[0].Label != tc.want {
			t.Errorf("Predict(%q) = %v, want %s first", tc.text, got, tc.want)
			continue
		}
		var sum float64
		for i, s := range got {
			sum += s.Score
			if i > 0 && s.Score > got[i-1].Score {
				t.Errorf("Predict(%q) not ranked: %v", tc.text, got)
			}
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("Predict(%q) confidences sum to %v", tc.text, sum)
		}
	}
}

func TestPredictBodyAlone(t *testing.T) {
	m := trainSmall(t)
	for _, e := range readExamples(t, "testdata/bodies.csv") {
		if got := m.Predict(e.Text); got[0].Label != e.Label {
			t.Errorf("Predict(%q) = %v, want %s", e.Text, got[0], e.Label)
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	a, b := trainSmall(t), trainSmall(t)
	for _, text := range []string{"停车难", "河道污染", "学校食堂", "没有任何相关内容的一句话"} {
		if pa, pb := a.Predict(text), b.Predict(text); !slices.Equal(pa, pb) {
			t.Errorf("Predict(%q): %v then %v", text, pa, pb)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(nil, Options{Tokenizer: testTok}); err != ErrTooFewExamples {
		t.Errorf("no examples: %v", err)
	}
	one := []Example{{"停车难", "交通"}, {"公交少", "交通"}, {"没有标签", ""}}
	if _, err := Train(one, Options{Tokenizer: testTok}); err != ErrOneClass {
		t.Errorf("one class: %v", err)
	}
	if _, err := Train(readExamples(t, "testdata/themes.csv"), Options{Algorithm: "forest"}); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func TestAlgorithms(t *testing.T) {
	ex := readExamples(t, "testdata/themes.csv")
	for _, algo := range []string{AlgoNBSVM, AlgoSVM, AlgoLogReg, AlgoCNB} {
		m, err := Train(ex, Options{Tokenizer: testTok, Algorithm: algo, CalibrationFolds: -1})
		if err != nil {
			t.Fatal(algo, err)
		}
		if got := m.Predict("工地扬尘和噪音")[0].Label; got != "生态环境" {
			t.Errorf("%s: got %s", algo, got)
		}
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := trainSmall(t)
	blob, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model of %d features: %d bytes", m.Metrics.Features, len(blob))
	var back Model
	if err := back.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	back.SetTokenizer(testTok)
	if back.Version != ModelVersion || !slices.Equal(back.Classes, m.Classes) || back.Temperature != m.Temperature ||
		back.Metrics != m.Metrics || back.Features != m.Features {
		t.Errorf("header changed: %+v", back)
	}
	for _, text := range []string{"停车难", "河道污染发臭", "学校食堂饭菜差", "", "随便说点什么"} {
		if a, b := m.Predict(text), back.Predict(text); !slices.Equal(a, b) {
			t.Errorf("Predict(%q): %v before, %v after", text, a, b)
		}
	}
	again, err := back.MarshalBinary()
	if err != nil || !bytes.Equal(again, blob) {
		t.Errorf("re-encoding differs (%v)", err)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	m := trainSmall(t)
	blob, _ := m.MarshalBinary()
	old := *m
	old.Version = ModelVersion + 1
	oldBlob, _ := old.MarshalBinary()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a model at all"),
		"truncated": blob[:len(blob)/2],
		"version":   oldBlob,
	} {
		var back Model
		if err := back.UnmarshalBinary(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSeedModel(t *testing.T) {
	m := SeedModel([]ThemeSeed{
		{Name: "交通出行", Keywords: []string{"停车", "公交", "红绿灯", "道路拥堵"}},
		{Name: "生态环境", Keywords: []string{"垃圾分类", "噪音", "污染"}},
		{Name: "教育文化"}, // no keywords: competes on its name
		{Name: "  "},   // no name: left out
	})
	if !slices.Equal(m.Classes, []string{"交通出行", "生态环境", "教育文化"}) {
		t.Fatalf("classes = %q", m.Classes)
	}
	for _, tc := range []struct {
		text, want string
		unsure     bool
	}{
		{"小区停车难，公交也少", "交通出行", false},
		{"工地噪音大，河水污染", "生态环境", false},
		{"关于教育文化的建议：多办讲座", "教育文化", false},
		{"早上路上很拥堵", "交通出行", true}, // only the bigram 拥堵 of 道路拥堵
		{"今天天气很好", "", true},
	} {
		got := m.Predict(tc.text)
		if Unsure(got) != tc.unsure {
			t.Errorf("Predict(%q) = %v: unsure %v, want %v", tc.text, got, Unsure(got), tc.unsure)
		}
		if tc.want != "" && got[0].Label != tc.want {
			t.Errorf("Predict(%q) = %v, want %s first", tc.text, got, tc.want)
		}
	}
	blob, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := back.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if a, b := m.Predict("停车难"), back.Predict("停车难"); !slices.Equal(a, b) {
		t.Errorf("keyword model round trip: %v then %v", a, b)
	}
	for _, themes := range [][]ThemeSeed{nil, {{Name: ""}}, {{Name: "唯一主题"}}} {
		m := SeedModel(themes)
		if got := m.Predict("任何文字"); len(themes) != 1 || themes[0].Name == "" {
			if got != nil {
				t.Errorf("SeedModel(%v).Predict = %v, want nil", themes, got)
			}
		} else if len(got) != 1 {
			t.Errorf("one theme: %v", got)
		}
	}
}

func TestUnsure(t *testing.T) {
	for _, tc := range []struct {
		ranked []Scored
		want   bool
	}{
		{nil, true},
		{[]Scored{{"a", 0.9}, {"b", 0.1}}, false},
		{[]Scored{{"a", UnsureBelow}, {"b", 1 - UnsureBelow}}, UnsureBelow == 0.5},
		{[]Scored{{"a", 0.4}, {"b", 0.3}, {"c", 0.3}}, true},
		{[]Scored{{"a", 1}}, false},
	} {
		if got := Unsure(tc.ranked); got != tc.want {
			t.Errorf("Unsure(%v) = %v", tc.ranked, got)
		}
	}
}

// themeSuggester is portal/ideas.ThemeSuggester, restated so this package
// need not import the portal.
type themeSuggester interface {
	Suggest(ctx context.Context, campaignID int64, themes []store.Theme, title, body string) (themeID int64, confidence float64, ok bool)
}

var _ themeSuggester = (*Suggester)(nil)

func TestSuggester(t *testing.T) {
	s := NewSuggester(testTok)
	ctx := context.Background()
	themes := []store.Theme{
		{ID: 11, Name: "交通出行", Keywords: `["停车","公交"]`},
		{ID: 12, Name: "生态环境", Keywords: `["噪音","污染"]`},
		{ID: 13, Name: "教育文化", Keywords: `["学校","幼儿园"]`},
	}
	// No model yet: the themes' keywords decide.
	if id, conf, ok := s.Suggest(ctx, 1, themes, "停车难", "小区停车位太少，公交也不方便"); !ok || id != 11 {
		t.Errorf("keyword suggestion = %d %.2f %v, want 11", id, conf, ok)
	}
	if _, _, ok := s.Suggest(ctx, 1, themes, "", "今天天气很好"); ok {
		t.Error("suggested a theme for a text that matches nothing")
	}
	if _, _, ok := s.Suggest(ctx, 1, nil, "停车难", ""); ok {
		t.Error("suggested a theme with no themes")
	}
	// A trained model takes over, mapping labels to theme IDs by name.
	s.Set(1, trainSmall(t))
	if id, _, ok := s.Suggest(ctx, 1, themes, "", "工地夜里施工，扬尘和噪音太大"); !ok || id != 12 {
		t.Errorf("model suggestion = %d %v, want 12", id, ok)
	}
	// Another campaign is unaffected.
	if s.Model(2) != nil {
		t.Error("campaign 2 has a model")
	}
	// Themes renamed since training: no label matches, keywords decide.
	renamed := []store.Theme{{ID: 21, Name: "出行", Keywords: `["停车"]`}, {ID: 22, Name: "环境", Keywords: `["噪音"]`}}
	if id, _, ok := s.Suggest(ctx, 1, renamed, "", "晚上噪音太大"); !ok || id != 22 {
		t.Errorf("after rename = %d %v, want 22", id, ok)
	}
	// A theme dropped: its share goes to the others.
	if id, _, ok := s.Suggest(ctx, 1, themes[1:], "学校", "学校门口的幼儿园学位紧张"); !ok || id != 13 {
		t.Errorf("with a theme dropped = %d %v, want 13", id, ok)
	}
	s.Set(1, nil)
	if s.Model(1) != nil {
		t.Error("Set(nil) kept the model")
	}
}

func TestSuggesterConcurrent(t *testing.T) {
	s := NewSuggester(testTok)
	m := trainSmall(t)
	themes := []store.Theme{{ID: 1, Name: "交通出行"}, {ID: 2, Name: "生态环境"}, {ID: 3, Name: "教育文化"}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if j%10 == 0 {
					s.Set(int64(i%2), m)
				}
				s.Suggest(context.Background(), int64(i%2), themes, "", "工地噪音太大")
			}
		})
	}
	wg.Wait()
}

func TestStratifiedFolds(t *testing.T) {
	ys := make([]int, 100)
	for i := range ys {
		ys[i] = i % 3
		if i >= 90 {
			ys[i] = 3 // a small class
		}
	}
	folds := StratifiedFolds(ys, 5, 42)
	if again := StratifiedFolds(ys, 5, 42); !slices.EqualFunc(folds, again, slices.Equal) {
		t.Error("folds differ for the same seed")
	}
	seen := map[int]bool{}
	for _, f := range folds {
		if len(f) != 20 {
			t.Errorf("fold of %d", len(f))
		}
		small := 0
		for _, i := range f {
			if seen[i] {
				t.Errorf("%d in two folds", i)
			}
			seen[i] = true
			if ys[i] == 3 {
				small++
			}
		}
		if small != 2 {
			t.Errorf("fold has %d of the small class, want 2", small)
		}
	}
	if len(seen) != 100 {
		t.Errorf("folds cover %d of 100", len(seen))
	}
}

func TestConfusion(t *testing.T) {
	c := NewConfusion([]string{"a", "b"})
	for range 8 {
		c.Add(0, 0)
	}
	c.Add(0, 1)
	c.Add(1, 1)
	if got := c.Accuracy(); got != 0.9 {
		t.Errorf("accuracy %v", got)
	}
	p, r, f := c.PRF(1)
	if p != 0.5 || r != 1 || f < 0.666 || f > 0.667 {
		t.Errorf("PRF(b) = %v %v %v", p, r, f)
	}
	var out strings.Builder
	if err := c.Write(&out); err != nil || !strings.Contains(out.String(), "truth") {
		t.Errorf("Write: %v\n%s", err, out.String())
	}
}

func TestReadCSV(t *testing.T) {
	rows, err := ReadCSV(strings.NewReader("\ufeffBody,LABEL,other\n\"多行\n正文，有逗号\",甲,x\n只有正文\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{Body: "多行\n正文，有逗号", Label: "甲"}, {Body: "只有正文"}}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %q", rows)
	}
	if _, err := ReadCSV(strings.NewReader("title,label\nx,y\n")); err == nil {
		t.Error("a file without a body column was accepted")
	}
}

// TestCrossValidateMessages guards the measured quality on the real
// messages (MODEL.md): 5-fold stratified CV of the default model.
func TestCrossValidateMessages(t *testing.T) {
	rows := loadMessages(t)
	ex := make([]Example, len(rows))
	for i, r := range rows {
		ex[i] = Example{Text: Text(r.Title, r.Body), Label: r.Label}
	}
	conf, preds, err := CrossValidate(ex, 5, Options{Tokenizer: testTok, CalibrationFolds: -1})
	if err != nil {
		t.Fatal(err)
	}
	acc, f1 := conf.Accuracy(), conf.MacroF1()
	t.Logf("5-fold CV: accuracy %.4f, macro-F1 %.4f", acc, f1)
	if acc < 0.895 || f1 < 0.885 {
		t.Errorf("accuracy %.4f macro-F1 %.4f: below the measured 0.90 / 0.89", acc, f1)
	}
	if len(preds) != len(ex) {
		t.Errorf("%d predictions for %d examples", len(preds), len(ex))
	}
}

// BenchmarkPredict predicts a message of median length (217 characters)
// with a model trained on the real messages, or on testdata without them.
func BenchmarkPredict(b *testing.B) {
	var ex []Example
	if f, err := os.Open(messagesCSV); err == nil {
		rows, err := ReadCSV(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			ex = append(ex, Example{Text: Text(r.Title, r.Body), Label: r.Label})
		}
	} else {
		ex = readExamples(b, "testdata/themes.csv")
	}
	m, err := Train(ex, Options{Tokenizer: testTok})
	if err != nil {
		b.Fatal(err)
	}
	text := "A市A3区阳光小区停车难问题\n尊敬的领导：您好！我是阳光小区的业主，小区建成十多年，车位严重不足，" +
		"每天晚上下班回家都找不到停车位，很多车只能停在消防通道和小区外的马路上，既不安全又影响交通。" +
		"物业说没有办法，社区也多次反映没有结果。希望相关部门能够规划建设停车场或者立体车库，" +
		"同时加强对乱停乱放的管理，还居民一个安全有序的出行环境。谢谢！"
	b.Logf("text of %d characters", len([]rune(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(text)
	}
}
