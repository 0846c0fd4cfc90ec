package moderation

import (
	"fmt"
	"strings"
	"sync"
)

//go:generate go run ./internal/gentradsimp tradsimp_table.go

// Traditional and simplified Chinese come from OpenCC's character tables
// (Apache-2.0), kept as rune pairs in tradsimp_table.go, which
// internal/gentradsimp generates with github.com/longbridgeapp/opencc.
// The binary does not link that library:
//
//   - it depends, through github.com/liuzl/da, on github.com/liuzl/cedar-go,
//     which is GPL-2.0;
//   - normalisation needs one simplified rune per traditional rune, so that
//     every normalised rune still maps back to one place in the original,
//     while the library's Convert is phrase-aware, may change the number of
//     runes, and runs at about 4 MB/s (measured on the sample messages),
//     which would make it the slowest step of a check;
//   - importing it registers a "-dir" flag on flag.CommandLine.
//
// Character by character is what matching needs: 頭髮 and 頭發 both fold
// to 头发.

// t2sTable returns the traditional→simplified rune table, built on first use
// (about 0.3 ms) and never changed afterwards.
var t2sTable = sync.OnceValues(func() (map[rune]rune, error) {
	return pairTable("t2s", t2sPairs)
})

// s2tTable returns the simplified→traditional rune table.
var s2tTable = sync.OnceValues(func() (map[rune]rune, error) {
	return pairTable("s2t", s2tPairs)
})

func pairTable(name, pairs string) (map[rune]rune, error) {
	rs := []rune(pairs)
	if len(rs)%2 != 0 || len(rs) < 6000 {
		return nil, fmt.Errorf("moderation: %s table: %d runes", name, len(rs))
	}
	m := make(map[rune]rune, len(rs)/2)
	for i := 0; i < len(rs); i += 2 {
		m[rs[i]] = rs[i+1]
	}
	return m, nil
}

// ToTraditional converts simplified Chinese to traditional character by
// character (OpenCC's first candidate for each), as the evaluation's
// traditional copies of messages; other text passes unchanged.
func ToTraditional(s string) (string, error) {
	m, err := s2tTable()
	if err != nil {
		return "", err
	}
	return strings.Map(func(r rune) rune {
		if t, ok := m[r]; ok {
			return t
		}
		return r
	}, s), nil
}
