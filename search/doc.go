// Package search owns Chinese text analysis and the full-text index.
//
// One jieba segmenter serves the whole process (see OpenSegmenter); its
// dictionaries are embedded in the binary and installed under the data
// directory, and the civic dictionary and synonym words are added to it at
// start (more with AddWords). Text is folded before it is cut (see Fold:
// NFKC, traditional → simplified, lower case), so 臺灣 finds 台湾 and ＡＢＣ
// finds abc.
//
// The Bleve index (see OpenIndex) holds each idea's title and body three
// ways: jieba's exact-mode words with synonyms ("jindianzi"), overlapping
// character pairs ("jindianzi_bigram") and uncommon single characters
// ("jindianzi_unigram"); BuildQuery searches all of them, titles boosted.
// ANALYSIS.md records the measurements behind these choices, and Eval
// repeats them on any CSV of titled messages. The database stays the source
// of truth: the index can always be rebuilt from it, and NeedsRebuild says
// when its mapping is out of date.
package search
