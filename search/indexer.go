package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"jindianzi/portal/store"
)

// Source is the database as the indexer sees it: the outbox, and the
// documents of the entities it names (ids with no row come back as gone).
type Source interface {
	OutboxAfter(ctx context.Context, cursor int64, limit int) ([]store.OutboxEvent, error)
	OutboxHead(ctx context.Context) (int64, error)
	Docs(ctx context.Context, entity string, ids []int64) (docs []Doc, gone []string, err error)
}

// Indexer keeps an index in step with the database by draining the outbox in
// id order, in batches. Its cursor is stored inside the index, so after a
// crash, or on a new node with an empty index, it catches up from where the
// index says it stopped.
type Indexer struct {
	Index  *Index
	Source Source
	Batch  int           // events per step (default 500)
	Every  time.Duration // how often to look for new events when idle (default 1s)
	Log    *slog.Logger

	// wake is made on first use, by Notify or Run, whichever comes first:
	// handlers may notify while Run is starting.
	wakeOnce sync.Once
	wake     chan struct{}
}

func (ix *Indexer) wakeup() chan struct{} {
	ix.wakeOnce.Do(func() { ix.wake = make(chan struct{}, 1) })
	return ix.wake
}

// Notify asks the indexer to look at the outbox now (after a write).
func (ix *Indexer) Notify() {
	select {
	case ix.wakeup() <- struct{}{}:
	default:
	}
}

// Step applies the next batch of outbox events and returns how many it read.
func (ix *Indexer) Step(ctx context.Context) (int, error) {
	for {
		n, err := ix.step(ctx)
		// A rebuilt generation came in while the batch was loading: read
		// again from its cursor.
		if !errors.Is(err, errCursorMoved) {
			return n, err
		}
	}
}

func (ix *Indexer) step(ctx context.Context) (int, error) {
	batch := ix.Batch
	if batch <= 0 {
		batch = 500
	}
	cursor, err := ix.Index.Cursor()
	if err != nil {
		return 0, fmt.Errorf("search: read cursor: %w", err)
	}
	events, err := ix.Source.OutboxAfter(ctx, cursor, batch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	ids := map[string][]int64{}
	seen := map[string]map[int64]bool{}
	for _, e := range events {
		if seen[e.Entity] == nil {
			seen[e.Entity] = map[int64]bool{}
		}
		if !seen[e.Entity][e.EntityID] {
			seen[e.Entity][e.EntityID] = true
			ids[e.Entity] = append(ids[e.Entity], e.EntityID)
		}
	}
	var docs []Doc
	var gone []string
	for entity, list := range ids {
		d, g, err := ix.Source.Docs(ctx, entity, list)
		if err != nil {
			return 0, fmt.Errorf("search: load %s documents: %w", entity, err)
		}
		docs, gone = append(docs, d...), append(gone, g...)
	}
	if err := ix.Index.applyAfter(cursor, docs, gone, events[len(events)-1].ID); err != nil {
		return 0, fmt.Errorf("search: apply batch: %w", err)
	}
	return len(events), nil
}

// CatchUp applies every pending event.
func (ix *Indexer) CatchUp(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := ix.Step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Lag is how many outbox events the index has not applied yet.
func (ix *Indexer) Lag(ctx context.Context) (int64, error) {
	head, err := ix.Source.OutboxHead(ctx)
	if err != nil {
		return 0, err
	}
	cursor, err := ix.Index.Cursor()
	if err != nil {
		return 0, err
	}
	return max(head-cursor, 0), nil
}

// Run drains the outbox until ctx ends: at once when notified, otherwise
// every Every. Errors are logged and retried.
func (ix *Indexer) Run(ctx context.Context) {
	every := ix.Every
	if every <= 0 {
		every = time.Second
	}
	log := ix.Log
	if log == nil {
		log = slog.Default()
	}
	wake := ix.wakeup()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := ix.CatchUp(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("search: indexer", "err", err)
		} else if n > 0 {
			log.Debug("search: indexed", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// AllSource walks every document, for rebuilds.
type AllSource interface {
	OutboxHead(ctx context.Context) (int64, error)
	All(ctx context.Context, batch int, emit func([]Doc) error) error
}

// Rebuild fills a new generation of the index directory from the database
// and makes it current; the processes serving the directory swap it in
// (Follow). It starts from the outbox head at the time it began, so changes
// made during the rebuild are applied afterwards. progress, if set, gets the
// number of documents written so far.
func Rebuild(ctx context.Context, dir string, seg *Segmenter, src AllSource, progress func(int)) error {
	head, err := src.OutboxHead(ctx)
	if err != nil {
		return err
	}
	b, err := NewBuilder(dir, seg)
	if err != nil {
		return err
	}
	// Bleve builds each batch's segment in the calling goroutine: two
	// writers keep both cores busy while the database is read.
	batches := make(chan []Doc, 2)
	var mu sync.Mutex
	var writeErr error
	done := 0
	var writers sync.WaitGroup
	for range 2 {
		writers.Go(func() {
			for docs := range batches {
				err := b.Index.Index(docs...)
				mu.Lock() // also serialises progress, which callers write to a bar
				if err != nil && writeErr == nil {
					writeErr = err
				}
				done += len(docs)
				if err == nil && progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		})
	}
	err = src.All(ctx, 1000, func(docs []Doc) error {
		mu.Lock()
		werr := writeErr
		mu.Unlock()
		if werr != nil {
			return werr
		}
		select {
		case batches <- docs:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(batches)
	writers.Wait()
	if err == nil {
		err = writeErr
	}
	if err == nil {
		err = ctx.Err() // cancelled while the last batches were written: do not switch
	}
	if err != nil {
		b.Abort()
		return fmt.Errorf("search: rebuild: %w", err)
	}
	if err := b.Commit(head); err != nil {
		b.Abort()
		return fmt.Errorf("search: rebuild: %w", err)
	}
	return nil
}
