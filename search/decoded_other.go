//go:build !unix

package search

// allocPostingsMemory returns n zeroed bytes on the Go heap, where there
// is no anonymous mapping to put them in (see decoded_unix.go).
func allocPostingsMemory(n int) ([]byte, func(), error) {
	return make([]byte, n), func() {}, nil
}

// pageRound returns n: heap memory is not taken in pages.
func pageRound(n int) int { return n }
