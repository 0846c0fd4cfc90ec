// Package latency measures how long calls take when several clients make
// them at once: the percentiles the scale tests report.
package latency

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Report is what Run measured.
type Report struct {
	Clients int
	// Each is the duration of every call, shortest first.
	Each []time.Duration
	// Took is the wall time of the whole run.
	Took time.Duration
	// Errs are the errors the calls returned.
	Errs []error
}

// Run calls do once for every item, from clients goroutines at once, each
// taking the next item as soon as its last call returns.
func Run[T any](clients int, items []T, do func(T) error) Report {
	r := Report{Clients: clients}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan T)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				t0 := time.Now()
				err := do(it)
				d := time.Since(t0)
				mu.Lock()
				r.Each = append(r.Each, d)
				if err != nil {
					r.Errs = append(r.Errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	r.Took = time.Since(start)
	slices.Sort(r.Each)
	return r
}

// Percentile returns the duration below which p percent of the calls took
// (0 when there were none).
func (r Report) Percentile(p int) time.Duration {
	if len(r.Each) == 0 {
		return 0
	}
	return r.Each[min(len(r.Each)*p/100, len(r.Each)-1)]
}

// String reads "8 clients: p50 … p95 … max …, N calls/s".
func (r Report) String() string {
	if len(r.Each) == 0 {
		return fmt.Sprintf("%d clients: no calls", r.Clients)
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d clients: p50 %v p95 %v max %v, %.0f calls/s", r.Clients, round(r.Percentile(50)),
		round(r.Percentile(95)), round(r.Each[len(r.Each)-1]), float64(len(r.Each))/r.Took.Seconds())
}
