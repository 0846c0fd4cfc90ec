// Package search owns Chinese text analysis and the full-text index.
//
// One jieba segmenter serves the whole process (see OpenSegmenter); its
// dictionaries are embedded in the binary and installed under the data
// directory, and the civic dictionary and synonym words are added to it at
// start (more with AddWords). Text is folded before it is cut (see Fold:
// NFKC, traditional → simplified, lower case), so 臺灣 finds 台湾 and ＡＢＣ
// finds abc.
//
// The Bleve index (see OpenIndex) holds each idea's title and body as one
// field each, cut by "jindianzi_text" into jieba's exact-mode words with
// synonyms, overlapping character pairs and uncommon single characters in
// one stream (the body by "jindianzi_body", which counts the terms of its
// opening twice); no text is stored, results are loaded and highlighted
// (Highlight) from the database. BuildQuery ranks with BM25F over title and
// body, computed from the postings (see textQuery); PhraseQuery serves
// quoted phrases. ANALYSIS.md records the measurements behind these choices,
// and Eval repeats them on any CSV of titled messages. The database stays
// the source of truth: the index can always be rebuilt from it, and
// NeedsRebuild says when its mapping is out of date. The index's segments
// are built by internal/zapbuild, which writes Bleve's own format (zap
// v17) with less work than Bleve's builder, and a rebuild's final merge
// runs there on every core.
package search
