// Package latency measures how long calls take when several clients make
// them at once: the percentiles the scale tests report.
package latency

import (
	"fmt"
	"slices"
	"sync"
	"syscall"
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
	// CPU is the CPU time (user and system) the process used during the
	// run, 0 where the system does not say: unlike the latencies, it does
	// not grow when other processes share the machine.
	CPU time.Duration
}

// Run calls do once for every item, from clients goroutines at once, each
// taking the next item as soon as its last call returns.
func Run[T any](clients int, items []T, do func(T) error) Report {
	r := Report{Clients: clients}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Every item is queued before the clients start: with an unbuffered
	// channel, a client whose call had returned waited for the feeding
	// goroutine to be scheduled, outside the time it measures, and under
	// load that wait is where most of the queueing went (8 clients on 2
	// busy cores showed a p50 of one call's own time).
	next := make(chan T, len(items))
	for _, it := range items {
		next <- it
	}
	close(next)
	start, cpu := time.Now(), CPUTime()
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
	wg.Wait()
	r.Took = time.Since(start)
	if cpu > 0 {
		r.CPU = CPUTime() - cpu
	}
	slices.Sort(r.Each)
	return r
}

// Merge returns the reports of runs made one after another as one: every
// call's duration, the runs' wall and CPU times added up, and the clients
// of the first.
func Merge(rs ...Report) Report {
	var m Report
	for i, r := range rs {
		if i == 0 {
			m.Clients = r.Clients
		}
		m.Each = append(m.Each, r.Each...)
		m.Took += r.Took
		m.Errs = append(m.Errs, r.Errs...)
		m.CPU += r.CPU
	}
	slices.Sort(m.Each)
	return m
}

// Percentile returns the duration below which p percent of the calls took
// (0 when there were none).
func (r Report) Percentile(p int) time.Duration {
	if len(r.Each) == 0 {
		return 0
	}
	return r.Each[min(len(r.Each)*p/100, len(r.Each)-1)]
}

// String reads "8 clients: p50 … p95 … max …, N calls/s, CPU … a call".
func (r Report) String() string {
	if len(r.Each) == 0 {
		return fmt.Sprintf("%d clients: no calls", r.Clients)
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	s := fmt.Sprintf("%d clients: p50 %v p95 %v max %v, %.0f calls/s", r.Clients, round(r.Percentile(50)),
		round(r.Percentile(95)), round(r.Each[len(r.Each)-1]), float64(len(r.Each))/r.Took.Seconds())
	if r.CPU > 0 {
		s += fmt.Sprintf(", CPU %v a call", round(r.CPU/time.Duration(len(r.Each))))
	}
	return s
}

// CPUTime returns the CPU time (user and system) the process has used so
// far, or 0 where the system does not say.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
