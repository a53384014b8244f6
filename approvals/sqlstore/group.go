package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core/sqldb"
)

// groupCommit batches concurrent Update calls on SQLite into one
// transaction, each in its own savepoint, so that one commit (one fsync with
// synchronous=FULL) serves many actions. SQLite has a single writer, so the
// actions run one after another either way; only the commits are shared.
// A failing action rolls back to its savepoint and leaves the others alone;
// a failing commit fails every action of the batch.
//
// There is no background goroutine: the first caller to find no batch
// running leads; when its batch is done and more callers have queued, it
// hands the lead to a new goroutine and returns.
type groupCommit struct {
	db      *sqldb.DB
	mu      sync.Mutex
	queue   []*pending
	leading bool
}

type pending struct {
	ctx   context.Context
	fn    func(tx approvals.Tx) error
	err   error
	panic any
	done  chan struct{}
}

var errPanicked = errors.New("approvals action panicked")

// maxBatch bounds one transaction so a burst does not hold the writer for
// long.
const maxBatch = 64

func (g *groupCommit) update(ctx context.Context, fn func(tx approvals.Tx) error) error {
	p := &pending{ctx: ctx, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		g.lead()
	}
	<-p.done
	if p.panic != nil {
		panic(p.panic)
	}
	return p.err
}

func (g *groupCommit) lead() {
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.run(batch)
	for _, p := range batch {
		close(p.done)
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		go g.lead()
	} else {
		g.leading = false
	}
	g.mu.Unlock()
}

func (g *groupCommit) run(batch []*pending) {
	if len(batch) == 1 {
		// Alone: the transaction itself is the savepoint.
		p := batch[0]
		if p.err = p.ctx.Err(); p.err != nil {
			return
		}
		err := g.db.InTx(context.Background(), func(tx *sqldb.Tx) error {
			p.panic, p.err = call(p, &storeTx{tx: tx})
			if p.panic != nil {
				return errPanicked
			}
			return p.err
		})
		if p.err == nil && p.panic == nil && err != nil {
			p.err = err
		}
		return
	}
	ran := make([]bool, len(batch))
	err := g.db.InTx(context.Background(), func(tx *sqldb.Tx) error {
		st := &storeTx{tx: tx}
		for i, p := range batch {
			if err := p.ctx.Err(); err != nil {
				p.err = err
				continue
			}
			if _, err := tx.ExecContext(p.ctx, "SAVEPOINT approvals_action"); err != nil {
				return err
			}
			ran[i] = true
			p.panic, p.err = call(p, st)
			if p.err != nil || p.panic != nil {
				if _, err := tx.ExecContext(context.Background(), "ROLLBACK TO approvals_action"); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(context.Background(), "RELEASE approvals_action"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, p := range batch {
			if p.err == nil && p.panic == nil && (ran[i] || p.ctx.Err() == nil) {
				p.err = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

// call runs one action, catching a panic so the batch can roll it back and
// re-raise it in the caller's goroutine.
func call(p *pending, tx approvals.Tx) (panicked any, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
		}
	}()
	return nil, p.fn(tx)
}
