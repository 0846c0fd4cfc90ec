package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"

	"jindianzi/portal/store"
)

// Source is the database as the indexer sees it: the outbox, and the
// documents of the entities it names (ids with no row come back as gone).
type Source interface {
	OutboxAfter(ctx context.Context, cursor int64, limit int) ([]store.OutboxEvent, error)
	OutboxHead(ctx context.Context) (int64, error)
	Docs(ctx context.Context, entity string, ids []int64) (docs []Doc, gone []string, err error)
}

// DefaultSettle is how long an Indexer waits for an id gap in the outbox to
// fill (Indexer.Settle), and how long Rebuild waits on a database whose ids
// can commit out of order (Settler). It must exceed the time any write takes
// from inserting its outbox row to committing: the stores' transactions are
// short and write their outbox rows last.
const DefaultSettle = 10 * time.Second

// Indexer keeps an index in step with the database by draining the outbox
// in id order, in batches. Its cursor is stored inside the index, so after a
// crash, or on a new node with an empty index, it catches up from where the
// index says it stopped.
//
// Outbox ids are handed out when a row is inserted but the row is seen only
// once its transaction commits. SQLite has one writer, so rows appear in id
// order; on MySQL/MariaDB, transactions on different connections commit in
// any order, and while the one holding id 100 is still open, id 101 may be
// visible already. A cursor moved to 101 would never see 100. So the
// indexer keeps two marks: the cursor stored in the index, which only
// passes ids it has read (or given up on), and, in memory, the highest id
// it has applied. The ids between them it has not seen are gaps. Each step
// reads the outbox after the stored cursor — the few rows already applied
// there are read again, to find the ones that filled a gap — applies what
// is new at once, gaps or not, and stores the cursor just before the first
// gap still open.
//
// A gap that stays empty for Settle after this process first saw it is
// taken for a rolled-back transaction (or an id MySQL skipped) and passed:
// otherwise it would hold the cursor back for good. The wait is measured by
// the process's own clock from when it saw the gap, not from the rows'
// created_at, which other processes' clocks (or the database's) wrote.
//
// Applying an event twice, or out of order, is harmless: an event only
// names an entity, and applying it indexes the entity's current row (or
// deletes its document when the row is gone). So a process that restarts
// with a gap open simply applies the events after the stored cursor again.
//
// (Reading by a commit-ordered sequence instead would need every writing
// transaction to take the next number from one counter row and hold its
// lock until commit: that serialises all writers and invites deadlocks with
// the row locks they already hold. Gaps cost nothing when there are none.)
type Indexer struct {
	Index  *Index
	Source Source
	Batch  int           // events per step (default 500)
	Every  time.Duration // how often to look for new events when idle (default 1s)
	Settle time.Duration // how long an id gap is waited for (default DefaultSettle)
	Log    *slog.Logger

	// wake is made on first use, by Notify or Run, whichever comes first:
	// handlers may notify while Run is starting.
	wakeOnce sync.Once
	wake     chan struct{}

	mu  sync.Mutex // one step at a time; guards pos
	pos progress   // where the last step left the index
	// mark is pos without its gaps, for Lag, which must not wait for a step.
	mark atomic.Pointer[progress]
}

// progress is where the indexer stands in one generation of the index.
type progress struct {
	gen    bleve.Index // the generation (a swap replaces it)
	cursor int64       // the cursor stored in gen
	ahead  int64       // the highest event applied to gen, ≥ cursor
	gaps   []idGap     // the ids in (cursor, ahead] not seen yet, ascending
}

// idGap is a run of outbox ids lo..hi that had not been seen when a later
// one was, first noticed at seen.
type idGap struct {
	lo, hi int64
	seen   time.Time
}

// unseen counts the ids in gaps.
func unseen(gaps []idGap) int64 {
	var n int64
	for _, g := range gaps {
		n += g.hi - g.lo + 1
	}
	return n
}

// fill removes id from gaps and reports whether it was in one.
func fill(gaps []idGap, id int64) ([]idGap, bool) {
	for i, g := range gaps {
		if id < g.lo || id > g.hi {
			continue
		}
		var parts []idGap
		if id > g.lo {
			parts = append(parts, idGap{g.lo, id - 1, g.seen})
		}
		if id < g.hi {
			parts = append(parts, idGap{id + 1, g.hi, g.seen})
		}
		return slices.Concat(gaps[:i], parts, gaps[i+1:]), true
	}
	return gaps, false
}

// maxSpanBatches bounds the events between the stored cursor and the
// highest applied one, in batches: past that, a step applies only events
// that fill gaps until the oldest gaps settle, so that re-reading the span
// stays cheap (it can grow that far only while catching up through many
// gaps).
const maxSpanBatches = 20

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

// Step applies the next batch of outbox events and returns how many new
// ones it applied; 0 when there were none (gaps may still be open).
func (ix *Indexer) Step(ctx context.Context) (int, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
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
	settle := ix.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	gen, cursor, err := ix.Index.position()
	if err != nil {
		return 0, fmt.Errorf("search: read cursor: %w", err)
	}
	p := ix.pos
	if p.gen != gen || p.cursor != cursor {
		// First step, or a rebuilt generation: nothing applied past its cursor.
		p = progress{gen: gen, cursor: cursor, ahead: cursor}
	}
	// Gaps seen settle before now and still empty in the read below are passed.
	now := time.Now()
	// Every id in (cursor, ahead] was applied or is in a gap (or in a gap
	// passed above an open one: counting those only raises the limit).
	applied := int(p.ahead - p.cursor - unseen(p.gaps))
	limit := applied + batch
	events, err := ix.Source.OutboxAfter(ctx, p.cursor, limit)
	if err != nil {
		return 0, fmt.Errorf("search: read outbox after %d: %w", p.cursor, err)
	}
	seen := time.Now()
	// The read covers every id up to the last event it returned, or every id
	// there is if it was not cut short by the limit.
	readTo := int64(math.MaxInt64)
	if len(events) == limit {
		readTo = events[len(events)-1].ID
	}
	gaps := slices.Clone(p.gaps)
	ahead := p.ahead
	var fresh []store.OutboxEvent
	for _, e := range events {
		if e.ID <= ahead {
			var filled bool
			if gaps, filled = fill(gaps, e.ID); filled {
				fresh = append(fresh, e)
			}
			continue
		}
		if applied >= maxSpanBatches*batch {
			break
		}
		if e.ID > ahead+1 {
			gaps = append(gaps, idGap{lo: ahead + 1, hi: e.ID - 1, seen: seen})
		}
		ahead = e.ID
		fresh = append(fresh, e)
	}
	open := gaps[:0]
	for _, g := range gaps {
		if g.hi < readTo && now.Sub(g.seen) >= settle {
			ix.logger().Debug("search: outbox ids never committed, passed", "from", g.lo, "to", g.hi)
			continue
		}
		open = append(open, g)
	}
	next := progress{gen: gen, cursor: ahead, ahead: ahead, gaps: open}
	if len(open) > 0 {
		next.cursor = open[0].lo - 1
	}
	if len(fresh) == 0 && next.cursor == p.cursor {
		ix.settled(next)
		return 0, nil
	}
	docs, gone, err := ix.load(ctx, fresh)
	if err != nil {
		return 0, err
	}
	if err := ix.Index.applyAt(gen, p.cursor, docs, gone, next.cursor); err != nil {
		if errors.Is(err, errCursorMoved) {
			return 0, err
		}
		return 0, fmt.Errorf("search: apply batch: %w", err)
	}
	ix.settled(next)
	return len(fresh), nil
}

// settled records where a step left the index.
func (ix *Indexer) settled(p progress) {
	ix.pos = p
	ix.mark.Store(&progress{gen: p.gen, cursor: p.cursor, ahead: p.ahead})
}

// load reads the documents the events name, each entity once.
func (ix *Indexer) load(ctx context.Context, events []store.OutboxEvent) (docs []Doc, gone []string, err error) {
	var entities []string
	ids := map[string][]int64{}
	seen := map[string]map[int64]bool{}
	for _, e := range events {
		if seen[e.Entity] == nil {
			seen[e.Entity] = map[int64]bool{}
			entities = append(entities, e.Entity)
		}
		if !seen[e.Entity][e.EntityID] {
			seen[e.Entity][e.EntityID] = true
			ids[e.Entity] = append(ids[e.Entity], e.EntityID)
		}
	}
	for _, entity := range entities {
		d, g, err := ix.Source.Docs(ctx, entity, ids[entity])
		if err != nil {
			return nil, nil, fmt.Errorf("search: load %s documents: %w", entity, err)
		}
		docs, gone = append(docs, d...), append(gone, g...)
	}
	return docs, gone, nil
}

func (ix *Indexer) logger() *slog.Logger {
	if ix.Log != nil {
		return ix.Log
	}
	return slog.Default()
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

// Lag is how many outbox events the index has not applied yet: the ids
// from the highest one applied to the head. Rows that commit later into a
// gap below it are applied at the next step and not counted; nor are the
// events after a gap that a restart applies again.
func (ix *Indexer) Lag(ctx context.Context) (int64, error) {
	head, err := ix.Source.OutboxHead(ctx)
	if err != nil {
		return 0, err
	}
	gen, cursor, err := ix.Index.position()
	if err != nil {
		return 0, err
	}
	ahead := cursor
	if m := ix.mark.Load(); m != nil && m.gen == gen && m.cursor == cursor {
		ahead = max(ahead, m.ahead)
	}
	return max(head-ahead, 0), nil
}

// Run drains the outbox until ctx ends: at once when notified, otherwise
// every Every. Errors are logged and retried.
func (ix *Indexer) Run(ctx context.Context) {
	every := ix.Every
	if every <= 0 {
		every = time.Second
	}
	log := ix.logger()
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

// Settler is implemented by an AllSource whose outbox ids can become visible
// out of order (MySQL/MariaDB, see Indexer). A rebuild starts from the
// outbox head, and a transaction that holds an id below the head may still
// be open: so Rebuild waits OutboxSettle after taking the head before it
// reads any document. By then that transaction has committed, and the
// documents read include its change, or it is one an Indexer would give up
// on too. 0 means no wait (SQLite, one writer).
type Settler interface {
	OutboxSettle() time.Duration
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
// time it began, so changes made during the rebuild are applied afterwards
// (if src is a Settler, it waits for the transactions below the head first).
// progress, if set, gets the number of documents written so far.
func Rebuild(ctx context.Context, dir string, seg *Segmenter, src AllSource, progress func(int)) error {
	head, err := src.OutboxHead(ctx)
	if err != nil {
		return fmt.Errorf("search: rebuild: outbox head: %w", err)
	}
	if s, ok := src.(Settler); ok && head > 0 && s.OutboxSettle() > 0 {
		t := time.NewTimer(s.OutboxSettle())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("search: rebuild: %w", ctx.Err())
		}
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
