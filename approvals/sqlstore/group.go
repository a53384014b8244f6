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
// transaction, so that one commit (one fsync with synchronous=FULL) serves
// many actions. SQLite has a single writer, so the actions run one after
// another either way; only the commits are shared. A failing action leaves
// nothing behind and does not fail the others (see run); a failing commit
// fails every action of the batch. Actions may run twice (the first run
// rolled back), so an Update function must not act outside the transaction.
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

var errActionFailed = errors.New("an action of the batch failed")

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
	live := batch[:0:0]
	for _, p := range batch {
		if p.err = p.ctx.Err(); p.err == nil {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return
	}
	// Most batches succeed whole, so they run without savepoints. When one
	// action fails, the transaction is rolled back, that action keeps its
	// result (it ran against the state the actions before it left, which
	// the re-run restores), and the rest run again with a savepoint each, so
	// a batch costs at most two transactions.
	failed := g.runPlain(live)
	if failed < 0 {
		return
	}
	rest := make([]*pending, 0, len(live)-1)
	for i, p := range live {
		if i != failed {
			p.err, p.panic = nil, nil
			rest = append(rest, p)
		}
	}
	if len(rest) > 0 {
		g.runSavepoints(rest)
	}
}

// runPlain runs the actions in one transaction and returns the index of the
// first that failed (after rolling everything back), or -1.
func (g *groupCommit) runPlain(batch []*pending) int {
	failed := -1
	err := g.db.InTx(context.Background(), func(tx *sqldb.Tx) error {
		st := &storeTx{tx: tx}
		for i, p := range batch {
			p.panic, p.err = call(p, st)
			if p.err != nil || p.panic != nil {
				failed = i
				return errActionFailed
			}
		}
		return nil
	})
	if failed >= 0 {
		return failed
	}
	if err != nil {
		for _, p := range batch {
			p.err = fmt.Errorf("commit: %w", err)
		}
	}
	return -1
}

func (g *groupCommit) runSavepoints(batch []*pending) {
	err := g.db.InTx(context.Background(), func(tx *sqldb.Tx) error {
		st := &storeTx{tx: tx}
		for _, p := range batch {
			if _, err := tx.ExecContext(context.Background(), "SAVEPOINT approvals_action"); err != nil {
				return err
			}
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
		for _, p := range batch {
			if p.err == nil && p.panic == nil {
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
