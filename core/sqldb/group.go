package sqldb

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Group commit for SQLite. SQLite has one writer and, with
// synchronous=full, every commit waits for the disk. Transactions that
// arrive while another commits are queued and then run together inside one
// real transaction, each in its own savepoint: one that fails is rolled back
// to its savepoint alone, the others commit together with a single sync.
// Each caller returns only after the commit that holds its writes (or with
// that commit's error), so nothing is acknowledged before it is durable, and
// the effect is the same as running them one after another in queue order.

// maxGroup bounds one commit, so the first caller in a long queue does not
// wait for a hundred others' work.
const maxGroup = 64

type groupCommit struct {
	mu      sync.Mutex
	queue   []*txReq
	leading bool
}

type txReq struct {
	ctx      context.Context
	fn       func(tx *Tx) error
	err      error
	panicked any
	done     chan struct{}
	group    int // how many transactions the commit that held this one held
}

func (r *txReq) finish(err error) {
	r.err = err
	close(r.done)
}

// A request re-run after an aborted batch starts clean.
func (r *txReq) reset() { r.err, r.panicked = nil, nil }

// inGroupTx queues fn and waits for the commit that holds it.
func (db *DB) inGroupTx(ctx context.Context, fn func(tx *Tx) error) error {
	r := &txReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		go db.commitQueued()
	}
	<-r.done
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.Int("rounds.db.group_size", r.group))
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// commitQueued runs batches until the queue is empty.
func (db *DB) commitQueued() {
	g := &db.group
	for {
		g.mu.Lock()
		batch := g.queue
		if len(batch) > maxGroup {
			batch = batch[:maxGroup:maxGroup]
			g.queue = g.queue[maxGroup:]
		} else {
			g.queue = nil
		}
		if len(batch) == 0 {
			g.leading = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		db.commitBatch(batch)
	}
}

// commitBatch runs each request in a savepoint of one transaction and
// commits once. Nobody is answered before the commit: a request that failed
// may read what an earlier one in the batch wrote (a retried send finding
// the original), and that must be committed by then.
func (db *DB) commitBatch(batch []*txReq) {
	bg := context.Background()
	stx, err := db.w.BeginTx(bg, nil)
	if err != nil {
		for _, r := range batch {
			r.finish(mapErr(err))
		}
		return
	}
	now := time.Now().UTC()
	var ok, failed []*txReq // failed carry their own error in r.err
	abort := func(rest []*txReq, cause error) {
		_ = stx.Rollback()
		for _, r := range ok {
			r.finish(cause)
		}
		for _, r := range failed {
			r.finish(r.err)
		}
		for _, r := range rest {
			r.finish(cause)
		}
	}
	for i, r := range batch {
		r.reset()
		r.group = len(batch)
		if err := r.ctx.Err(); err != nil {
			r.err = err
			failed = append(failed, r)
			continue
		}
		if _, err := stx.ExecContext(bg, "SAVEPOINT grp"); err != nil {
			abort(batch[i:], mapErr(err))
			return
		}
		p, err := runFn(r.fn, &Tx{tx: stx, db: db, Now: now})
		if err == nil && p == nil {
			if _, err := stx.ExecContext(bg, "RELEASE grp"); err != nil {
				abort(batch[i:], mapErr(err))
				return
			}
			ok = append(ok, r)
			continue
		}
		r.err, r.panicked = err, p
		// A statement cancelled by its context interrupts SQLite, which may
		// roll back the whole transaction: trust nothing of it then. The
		// others have been told nothing yet, so they run again in a fresh
		// transaction (transactions may be retried, as on PostgreSQL).
		if r.ctx.Err() != nil {
			_ = stx.Rollback()
			r.finish(err)
			db.commitBatch(append(append(ok, failed...), batch[i+1:]...))
			return
		}
		_, rerr := stx.ExecContext(bg, "ROLLBACK TO grp")
		if rerr == nil {
			_, rerr = stx.ExecContext(bg, "RELEASE grp")
		}
		failed = append(failed, r)
		if rerr != nil {
			abort(batch[i+1:], mapErr(rerr))
			return
		}
	}
	cerr := mapErr(stx.Commit())
	for _, r := range ok {
		r.finish(cerr)
	}
	for _, r := range failed {
		r.finish(r.err)
	}
}

// runFn calls fn, turning a panic into a value the caller re-raises.
func runFn(fn func(tx *Tx) error, tx *Tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(tx)
}
