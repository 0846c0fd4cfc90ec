package search

import (
	"context"
	"runtime"
)

// slots admits at most as many searches at once as it has slots; the
// others wait their turn, first come first served.
//
// A search is CPU work without pauses. Left to themselves, eight searches
// on two cores share them in the Go scheduler's 10 ms time slices, and a
// search that is preempted waits for the others' slices: at 100,000 ideas
// a keyword search page took about 1 ms of CPU, yet with eight clients
// its p95 was 38 ms in process. Run one search per core to the end and
// queue the rest, and the same load's p95 is 12–13 ms, with the same
// throughput (ANALYSIS.md, "Searches take turns").
type slots chan struct{}

// newSlots returns slots for n searches at once (at least one).
func newSlots(n int) slots { return make(slots, max(1, n)) }

// searchSlots is the process's: one search per core, as GOMAXPROCS gives
// them when the package is initialised (the CPUs the process may use,
// unless the GOMAXPROCS variable says otherwise). It stays at that number
// when a command raises GOMAXPROCS later, as serve does to keep a
// processor for the network (see SearchSlots). Cached answers take no
// slot (see collect).
var searchSlots = newSlots(runtime.GOMAXPROCS(0))

// SearchSlots returns how many searches the process runs at once; the
// others wait their turn.
//
// A server should let the Go runtime run code on one more processor than
// that (GOMAXPROCS): while every slot's search holds a core, the spare
// processor reads requests, loads their rows and writes their answers.
// Without it those wait behind the searches (most likely for the network
// poll: the Go scheduler polls when a processor runs out of work, and its
// monitor every 10 ms). At 100,000 ideas and eight clients on two cores,
// the spare took the p95 of a two-keyword search over HTTP from 18–21 ms
// to 14–15 ms (ANALYSIS.md, "A processor for the network").
func SearchSlots() int { return cap(searchSlots) }

// run calls f once a slot is free, and frees it when f returns (or
// panics). While it waits, a cancelled ctx ends the wait with ctx's error,
// and f is not called.
func (s slots) run(ctx context.Context, f func() (*Result, error)) (*Result, error) {
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s }()
	return f()
}
