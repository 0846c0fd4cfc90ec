package classify

import (
	"math"
	"slices"
	"unicode"
)

// Tokenizer cuts text into words. *search.Segmenter satisfies it; the model
// depends on nothing else of package search, so changes there cannot break it.
type Tokenizer interface {
	Cut(text string) []string
}

// Features says what a model reads from a text. The zero value means
// DefaultFeatures.
type Features struct {
	// Words adds jieba words (punctuation and whitespace dropped).
	Words bool `json:"words,omitempty"`
	// CharMin and CharMax give the range of character n-grams; CharMax 0
	// means none. N-grams run over the normalised text, where every run of
	// characters that are neither letters nor digits is one space.
	CharMin int `json:"char_min,omitempty"`
	CharMax int `json:"char_max,omitempty"`
	// WordWeight scales the word block against the character block before
	// the whole vector is l2-normalised (each block is normalised first).
	WordWeight float64 `json:"word_weight,omitempty"`
	// MinDF drops features seen in fewer training texts than this.
	MinDF int `json:"min_df,omitempty"`
}

// DefaultFeatures is what Train uses when Options.Features is zero: words
// and character 1–3-grams, the best pair measured in MODEL.md.
var DefaultFeatures = Features{Words: true, CharMin: 1, CharMax: 3, WordWeight: 1, MinDF: 2}

// Feature blocks: each has its own vocabulary and is l2-normalised alone.
const (
	blockWords = iota
	blockChars
	numBlocks
)

// Features are stored as 32-bit hashes, never as strings, which keeps a
// model small: fnv-1a (64 bits, over runes) xor-folded. Among the ~230,000
// features of the 2,947 labelled messages about six pairs collide, and an
// unseen n-gram hits a kept hash about once in 18,000 lookups: noise far
// below what the measurements can see.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashRunes(ns uint64, rs []rune) uint32 {
	h := uint64(fnvOffset) ^ ns
	h *= fnvPrime
	for _, r := range rs {
		h ^= uint64(r)
		h *= fnvPrime
	}
	return uint32(h ^ h>>32)
}

// fold maps a rune to the form features see: full-width ASCII to half-width,
// upper case to lower case; it returns -1 for a rune that is neither a letter
// nor a digit (punctuation, spaces, symbols, emoji).
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	if r == 0x3000 {
		return -1
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

// normalise returns text as folded runes, each run of other characters
// reduced to one space and no space at either end.
func normalise(text string, buf []rune) []rune {
	out := buf[:0]
	space := true
	for _, r := range text {
		f := fold(r)
		if f < 0 {
			if !space {
				out = append(out, ' ')
				space = true
			}
			continue
		}
		out = append(out, f)
		space = false
	}
	if n := len(out); n > 0 && out[n-1] == ' ' {
		out = out[:n-1]
	}
	return out
}

// isWord reports whether a jieba token carries meaning: it has at least one
// letter or digit.
func isWord(w string) bool {
	for _, r := range w {
		if fold(r) >= 0 {
			return true
		}
	}
	return false
}

// extractor turns a text into the hashed features of each block, counted.
type extractor struct {
	f   Features
	tok Tokenizer
}

// term is one hashed feature with how often it occurs in a text.
type term struct {
	key   uint32
	count int32
}

// extract returns the counted features of text, per block, each sorted by key.
func (e extractor) extract(text string) [numBlocks][]term {
	var out [numBlocks][]term
	var keys []uint32
	if e.f.Words && e.tok != nil {
		words := e.tok.Cut(text)
		keys = make([]uint32, 0, len(words))
		var rs []rune
		for _, w := range words {
			if !isWord(w) {
				continue
			}
			rs = rs[:0]
			for _, r := range w {
				if f := fold(r); f >= 0 {
					rs = append(rs, f)
				}
			}
			keys = append(keys, hashRunes('w', rs))
		}
		out[blockWords] = countKeys(keys)
	}
	if e.f.CharMax > 0 {
		rs := normalise(text, make([]rune, 0, len(text)/2))
		lo := max(e.f.CharMin, 1)
		keys = keys[:0]
		for n := lo; n <= e.f.CharMax; n++ {
			for i := 0; i+n <= len(rs); i++ {
				g := rs[i : i+n]
				if n == 1 && g[0] == ' ' {
					continue
				}
				keys = append(keys, hashRunes('c'+uint64(n)<<8, g))
			}
		}
		out[blockChars] = countKeys(keys)
	}
	return out
}

// countKeys sorts keys and returns each distinct key with its count.
func countKeys(keys []uint32) []term {
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	out := make([]term, 0, len(keys))
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		out = append(out, term{keys[i], int32(j - i)})
		i = j
	}
	return out
}

// vocab is the fitted feature space: per block, the sorted hashes of the
// features kept and their inverse document frequencies.
type vocab struct {
	keys   [numBlocks][]uint32
	df     [numBlocks][]uint32 // kept for the stored form, which rebuilds idf
	idf    [numBlocks][]float32
	docs   int
	offset [numBlocks]int // index of a block's first feature in the weight matrix
	weight [numBlocks]float64
	size   int
}

// fitVocab counts document frequencies over docs and keeps the features seen
// in at least minDF of them. idf is scikit-learn's smooth form,
// ln((1+n)/(1+df)) + 1.
func fitVocab(docs [][numBlocks][]term, f Features) *vocab {
	v := &vocab{docs: len(docs)}
	for b := range numBlocks {
		df := make(map[uint32]int32)
		for _, d := range docs {
			for _, t := range d[b] {
				df[t.key]++
			}
		}
		keys := make([]uint32, 0, len(df))
		for k, c := range df {
			if int(c) >= max(f.MinDF, 1) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		v.keys[b] = keys
		v.df[b] = make([]uint32, len(keys))
		for i, k := range keys {
			v.df[b][i] = uint32(df[k])
		}
	}
	v.finish(f)
	return v
}

// finish derives what transform needs from keys, df and docs.
func (v *vocab) finish(f Features) {
	v.weight[blockWords] = f.WordWeight
	if v.weight[blockWords] == 0 {
		v.weight[blockWords] = 1
	}
	v.weight[blockChars] = 1
	n := float64(v.docs)
	v.size = 0
	for b := range numBlocks {
		v.idf[b] = make([]float32, len(v.keys[b]))
		for i, d := range v.df[b] {
			v.idf[b][i] = float32(math.Log((1+n)/(1+float64(d))) + 1)
		}
		v.offset[b] = v.size
		v.size += len(v.keys[b])
	}
}

// vector is a sparse feature vector, indices ascending.
type vector struct {
	idx []int32
	val []float32
}

// transform turns counted features into a tf-idf vector: sublinear tf
// (1 + ln tf), times idf, each block l2-normalised and weighted, then the
// whole vector l2-normalised. Features outside the vocabulary are dropped.
func (v *vocab) transform(doc [numBlocks][]term) vector {
	var out vector
	n := 0
	for b := range numBlocks {
		n += len(doc[b])
	}
	out.idx = make([]int32, 0, n)
	out.val = make([]float32, 0, n)
	var total float64
	for b := range numBlocks {
		keys := v.keys[b]
		start := len(out.val)
		var sq float64
		// Both lists are sorted: walk them together, galloping through
		// the vocabulary by binary search.
		lo := 0
		for _, t := range doc[b] {
			i, ok := slices.BinarySearch(keys[lo:], t.key)
			lo += i
			if !ok {
				continue
			}
			x := (1 + math.Log(float64(t.count))) * float64(v.idf[b][lo])
			out.idx = append(out.idx, int32(v.offset[b]+lo))
			out.val = append(out.val, float32(x))
			sq += x * x
		}
		if sq == 0 {
			continue
		}
		scale := v.weight[b] / math.Sqrt(sq)
		for i := start; i < len(out.val); i++ {
			out.val[i] = float32(float64(out.val[i]) * scale)
		}
		total += v.weight[b] * v.weight[b]
	}
	if total > 0 && total != 1 {
		s := float32(1 / math.Sqrt(total))
		for i := range out.val {
			out.val[i] *= s
		}
	}
	return out
}
