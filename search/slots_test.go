package search

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSlotsAdmitAtMostN(t *testing.T) {
	s := newSlots(2)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.run(t.Context(), func() (*Result, error) {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				return &Result{}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := most.Load(); got != 2 {
		t.Errorf("at most %d searches ran at once, want 2", got)
	}
	if len(s) != 0 {
		t.Errorf("%d slots still taken", len(s))
	}
}

func TestSlotsWaitEndsWithContext(t *testing.T) {
	s := newSlots(1)
	release := make(chan struct{})
	started := make(chan struct{})
	go s.run(t.Context(), func() (*Result, error) {
		close(started)
		<-release
		return &Result{}, nil
	})
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	called := false
	_, err := s.run(ctx, func() (*Result, error) { called = true; return &Result{}, nil })
	if !errors.Is(err, context.DeadlineExceeded) || called {
		t.Errorf("waiting on a full slot: err %v, called %v; want the deadline and no call", err, called)
	}
	close(release)
	// The slot comes back once the first search ends.
	if _, err := s.run(t.Context(), func() (*Result, error) { return &Result{}, nil }); err != nil {
		t.Fatal(err)
	}
}

func TestSlotsFreedAfterPanic(t *testing.T) {
	s := newSlots(1)
	func() {
		defer func() { _ = recover() }()
		s.run(t.Context(), func() (*Result, error) { panic("boom") })
	}()
	if len(s) != 0 {
		t.Fatal("a panicking search kept its slot")
	}
}
