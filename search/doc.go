// Package search owns Chinese text analysis and the full-text index.
//
// One jieba segmenter serves the whole process (see OpenSegmenter); its
// dictionaries are embedded in the binary and installed under the data
// directory. The Bleve index (see OpenIndex) analyses titles and bodies with
// the "jindianzi" analyzer, which cuts text with that segmenter in search
// mode. The database stays the source of truth: the index can always be
// rebuilt from it, and NeedsRebuild says when its mapping is out of date.
package search
