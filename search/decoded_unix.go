//go:build unix

package search

import (
	"fmt"
	"os"
	"syscall"
)

// allocPostingsMemory returns n zeroed bytes outside the Go heap (an
// anonymous mapping), and how to give them back. Decoded postings live
// there so that the cache adds its own size to the process and no more:
// on the heap, the collector lets the heap grow to about twice what is
// live, and a 16 MiB cache grew serve's resident memory by 45 MB
// (ANALYSIS.md, "Decoded postings").
func allocPostingsMemory(n int) ([]byte, func(), error) {
	if n == 0 {
		return nil, func() {}, nil
	}
	size := pageRound(n)
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: map %d bytes: %w", errPostingsMemory, size, err)
	}
	return mem[:n], func() { _ = syscall.Munmap(mem) }, nil
}

// pageRound rounds n up to whole pages: what a mapping of n bytes takes.
func pageRound(n int) int {
	page := os.Getpagesize()
	return (n + page - 1) / page * page
}
