package cluster

import (
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer cuts text into words. *search.Segmenter satisfies it; nothing
// else of package search is used, so changes there cannot break clustering.
type Tokenizer interface {
	Cut(text string) []string
}

// fold maps a rune to what terms are made of: full-width ASCII to
// half-width, upper to lower case; -1 for anything that is neither a letter
// nor a digit.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	if r < 0x80 {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return unicode.ToLower(r)
	}
	return -1
}

// normalise folds text and drops everything but letters and digits: two
// texts that differ only in punctuation, spacing or width normalise alike,
// which is what "exact duplicate" means here.
func normalise(text string) string {
	out := make([]rune, 0, len(text)/3)
	for _, r := range text {
		if f := fold(r); f >= 0 {
			out = append(out, f)
		}
	}
	return string(out)
}

func textHash(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(normalise(text)))
	return h.Sum64()
}

// stopWords are words of the genre, not of any matter: greetings, requests
// and the vocabulary every letter to a government uses. Corpus idf lowers
// them anyway; removing them keeps them out of cluster labels.
var stopWords = map[string]bool{}

func init() {
	for _, w := range []string{
		"尊敬", "领导", "您好", "你好", "谢谢", "感谢", "希望", "请问", "问题", "反映", "相关", "部门",
		"政府", "有关", "情况", "我们", "他们", "你们", "现在", "目前", "已经", "没有", "一个", "这个",
		"那个", "什么", "如何", "怎么", "怎样", "可以", "是否", "能否", "给予", "解决", "处理", "市民",
		"居民", "请求", "要求", "建议", "关于", "以及", "还是", "但是", "因为", "所以", "如果", "而且",
		"并且", "或者", "就是", "这些", "那些", "这样", "一些", "一下", "非常", "严重", "特别", "由于",
		"进行", "存在", "不能", "不是", "没人", "时候", "之后", "以后", "以来", "至今", "多次", "一直",
		"今天", "今年", "去年", "每天", "很多", "大家", "本人", "自己", "能够", "应该", "需要", "为什么",
		"一定", "得到", "造成", "导致", "影响", "工作", "同志", "书记", "市长", "局长", "主任", "您们",
		"麻烦", "帮助", "帮忙", "尽快", "及时", "落实", "回复", "答复", "咨询", "投诉", "举报", "网友",
		"西地省", "这种", "还有", "然后", "其他", "其中", "对于", "通过", "根据", "为了", "以上", "一样",
		// Rhetoric of appeals: "请加快…力度，刻不容缓", "何时能…", "是否合法".
		"加快", "刻不容缓", "力度", "步伐", "全覆盖", "有何", "何时", "何年何月", "合理", "合法", "是否合法",
		"强烈", "坚决", "恳请", "呼吁", "诉求", "心声", "老百姓", "百姓", "群众", "民众", "请", "为何",
	} {
		stopWords[w] = true
	}
}

// term turns one jieba word into a term, or "" when it carries no matter:
// punctuation, stop words, single characters and bare numbers.
func term(w string, buf []rune) ([]rune, bool) {
	buf = buf[:0]
	letters := 0
	for _, r := range w {
		f := fold(r)
		if f < 0 {
			continue
		}
		if !(f >= '0' && f <= '9') {
			letters++
		}
		buf = append(buf, f)
	}
	if len(buf) < 2 || letters == 0 || stopWords[string(buf)] {
		return buf, false
	}
	return buf, true
}

// isCode reports whether a word is a letter-and-digit code such as "A2",
// "B" or "12": the first half of "A2区", "B区", "12栋".
func isCode(w string) bool {
	if w == "" || len(w) > 4 {
		return false
	}
	for _, r := range w {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// splitUnit undoes a cut jieba's HMM makes after a code: "A2区丽发新城" comes
// out as "A2" "区丽发" "新城", the unit glued to the name that follows. After
// a code, a word starting with such a unit loses it ("丽发"). Real district
// names are in the dictionary and cut well; block codes ("B区", "3栋") and
// anonymised places ("A2区", "K8县") are not.
func splitUnit(w string) string {
	r, size := utf8.DecodeRuneInString(w)
	if utf8.RuneCountInString(w) >= 3 && strings.ContainsRune("市区县镇乡村栋幢号", r) {
		return w[size:]
	}
	return w
}

// vector is a sparse l2-normalised tf-idf vector, term ids ascending.
type vector struct {
	idx []int32
	val []float32
}

func (a vector) dot(b vector) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.idx) && j < len(b.idx) {
		switch {
		case a.idx[i] == b.idx[j]:
			s += float64(a.val[i]) * float64(b.val[j])
			i++
			j++
		case a.idx[i] < b.idx[j]:
			i++
		default:
			j++
		}
	}
	return s
}

// dotDense is a·d for a dense d indexed by term id.
func (a vector) dotDense(d []float64) float64 {
	var s float64
	for k, i := range a.idx {
		if int(i) < len(d) {
			s += float64(a.val[k]) * d[i]
		}
	}
	return s
}

// vocabulary maps terms to ids and keeps their document frequencies, frozen
// after Build so Assign weighs terms as Build did.
type vocabulary struct {
	ids   map[string]int32
	terms []string
	df    []int32
	docs  int
	idf   []float64
}

// counted is one text's terms with their counts, ids ascending.
type counted struct {
	ids    []int32
	counts []int32
}

// count cuts text into terms, adding unseen terms to the vocabulary when
// grow is true and dropping them otherwise.
func (v *vocabulary) count(tok Tokenizer, text string, grow bool) counted {
	words := tok.Cut(text)
	ids := make([]int32, 0, len(words))
	var buf []rune
	var terms []string
	afterCode := false
	for _, w := range words {
		if afterCode {
			w = splitUnit(w)
		}
		afterCode = isCode(w)
		var ok bool
		buf, ok = term(w, buf)
		if !ok {
			continue
		}
		terms = append(terms, string(buf))
	}
	for _, s := range terms {
		id, found := v.ids[s]
		if !found {
			if !grow {
				continue
			}
			id = int32(len(v.terms))
			v.ids[s] = id
			v.terms = append(v.terms, s)
			v.df = append(v.df, 0)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var c counted
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		c.ids = append(c.ids, ids[i])
		c.counts = append(c.counts, int32(j-i))
		i = j
	}
	return c
}

// fit sets document frequencies and idf from docs.
func (v *vocabulary) fit(docs []counted) {
	v.docs = len(docs)
	for i := range v.df {
		v.df[i] = 0
	}
	for _, d := range docs {
		for _, id := range d.ids {
			v.df[id]++
		}
	}
	v.idf = make([]float64, len(v.df))
	n := float64(v.docs)
	for i, d := range v.df {
		v.idf[i] = math.Log((1+n)/(1+float64(d))) + 1
	}
}

// vectorise weighs a text's terms: sublinear tf times idf, terms in more
// than maxDF of the texts dropped (they name no particular matter), the
// heaviest maxTerms kept, l2-normalised.
func (v *vocabulary) vectorise(c counted, maxDF float64, maxTerms int) vector {
	limit := int32(maxDF * float64(v.docs))
	type tw struct {
		id int32
		w  float64
	}
	ws := make([]tw, 0, len(c.ids))
	for k, id := range c.ids {
		if v.docs >= 20 && v.df[id] > limit {
			continue
		}
		ws = append(ws, tw{id, (1 + math.Log(float64(c.counts[k]))) * v.idf[id]})
	}
	if maxTerms > 0 && len(ws) > maxTerms {
		slices.SortFunc(ws, func(a, b tw) int {
			switch {
			case a.w > b.w:
				return -1
			case a.w < b.w:
				return 1
			}
			return int(a.id - b.id)
		})
		ws = ws[:maxTerms]
		slices.SortFunc(ws, func(a, b tw) int { return int(a.id - b.id) })
	}
	var sq float64
	for _, x := range ws {
		sq += x.w * x.w
	}
	out := vector{idx: make([]int32, len(ws)), val: make([]float32, len(ws))}
	if sq == 0 {
		return out
	}
	norm := 1 / math.Sqrt(sq)
	for k, x := range ws {
		out.idx[k] = x.id
		out.val[k] = float32(x.w * norm)
	}
	return out
}
