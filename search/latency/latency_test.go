package latency

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var running, most atomic.Int32
	items := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	r := Run(4, items, func(i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Duration(i) * time.Millisecond)
		if i == 7 {
			return errors.New("seven")
		}
		return nil
	})
	if len(r.Each) != len(items) || len(r.Errs) != 1 {
		t.Fatalf("%d durations, %d errors; want 10 and 1", len(r.Each), len(r.Errs))
	}
	if m := most.Load(); m < 2 || m > 4 {
		t.Errorf("at most %d calls at once, want 2 to 4", m)
	}
	for i := 1; i < len(r.Each); i++ {
		if r.Each[i] < r.Each[i-1] {
			t.Fatalf("durations not sorted: %v", r.Each)
		}
	}
	if r.Percentile(50) < 5*time.Millisecond || r.Percentile(95) < 10*time.Millisecond {
		t.Errorf("p50 %v p95 %v, want at least 5 and 10 ms", r.Percentile(50), r.Percentile(95))
	}
	if s := r.String(); !strings.HasPrefix(s, "4 clients: p50 ") || !strings.Contains(s, "calls/s") {
		t.Errorf("String() = %q", s)
	}
	if s := (Report{Clients: 2}).String(); s != "2 clients: no calls" || (Report{}).Percentile(95) != 0 {
		t.Errorf("empty report: %q", s)
	}
}

func TestMerge(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	a := Report{Clients: 8, Each: ms(1, 4), Took: time.Second, CPU: 2 * time.Millisecond, Errs: []error{errors.New("a")}}
	b := Report{Clients: 8, Each: ms(2, 3, 9), Took: 2 * time.Second, CPU: 3 * time.Millisecond}
	m := Merge(a, b)
	if m.Clients != 8 || m.Took != 3*time.Second || m.CPU != 5*time.Millisecond || len(m.Errs) != 1 {
		t.Errorf("Merge = %+v", m)
	}
	if want := ms(1, 2, 3, 4, 9); !slices.Equal(m.Each, want) {
		t.Errorf("Merge durations %v, want %v", m.Each, want)
	}
	if m.Percentile(50) != 3*time.Millisecond {
		t.Errorf("p50 %v, want 3ms", m.Percentile(50))
	}
	if e := Merge(); len(e.Each) != 0 || e.Clients != 0 {
		t.Errorf("Merge() = %+v", e)
	}
}
