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

// Rebuild reads documents from its source rebuildRead at a time and writes
// them to the index rebuildBatch at a time; each batch becomes a segment.
// Fewer, larger segments cost less to build (per distinct term) and, the
// larger part, to merge at the end: at 100,000 documents, batches of 2,500
// instead of 1,000 cut the final merge from about 22 to 15 seconds, for
// about 600 MB more memory at the peak (ANALYSIS.md, "A larger index").
const (
	rebuildRead  = 1000
	rebuildBatch = 2500
)

// Rebuild fills a new generation of the index directory from the database,
// merges it into one segment and makes it current; the processes serving
// the directory swap it in (Follow). It starts from the outbox head at the
// time it began, so changes made during the rebuild are applied afterwards.
// progress, if set, gets the number of documents written so far.
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
	send := func(docs []Doc) error {
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
	}
	var pending []Doc
	sent := false
	err = src.All(ctx, rebuildRead, func(docs []Doc) error {
		pending = append(pending, docs...)
		for len(pending) >= rebuildBatch {
			full := pending[:rebuildBatch:rebuildBatch]
			pending = pending[rebuildBatch:]
			sent = true
			if err := send(full); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && !sent && len(pending) > 1 {
		// Everything fits in one batch. Write it as two segments all the
		// same: Commit merges them, and a merged segment is about 12%
		// smaller than the one a batch builds (ANALYSIS.md, "Index size").
		half := len(pending) / 2
		err = send(pending[:half:half])
		pending = pending[half:]
	}
	if err == nil && len(pending) > 0 {
		err = send(pending)
	}
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
	if err := b.commit(ctx, head); err != nil {
		b.Abort()
		return fmt.Errorf("search: rebuild: %w", err)
	}
	return nil
}

// docSource is an AllSource over documents in memory, whose outbox is
// empty: what Eval and the benchmarks rebuild from.
type docSource []Doc

// OutboxHead implements AllSource.
func (docSource) OutboxHead(context.Context) (int64, error) { return 0, nil }

// All implements AllSource.
func (s docSource) All(ctx context.Context, batch int, emit func([]Doc) error) error {
	if batch <= 0 {
		batch = len(s)
	}
	for i := 0; i < len(s); i += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(s[i:min(i+batch, len(s))]); err != nil {
			return err
		}
	}
	return nil
}
