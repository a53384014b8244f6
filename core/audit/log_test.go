package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var auditOnly = []sqldbtest.Migration{{Area: audit.Area, FS: audit.Migrations}}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		err := l.Record(context.Background(), audit.Entry{
			OrgID: "hospital-a", ActorID: core.NewID(), ActorKind: "user", IP: "10.1.2.3",
			Action: "session.login", ObjectType: "user", ObjectID: fmt.Sprint(i), Result: audit.ResultOK,
			Details: map[string]any{"n": i, "method": "password"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, l *audit.Log) audit.VerifyReport {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestChainVerifies(t *testing.T) {
	sqldbtest.Each(t, auditOnly, func(t *testing.T, db *sqldb.DB) {
		l := audit.New(db, audit.Options{})
		if rep := verify(t, l); !rep.OK || rep.Checked != 0 || rep.LastSeq != 0 {
			t.Fatalf("empty log: %+v", rep)
		}
		record(t, l, 5)
		rep := verify(t, l)
		if !rep.OK || rep.Checked != 5 || rep.LastSeq != 5 || rep.BrokenSeq != 0 {
			t.Fatalf("report = %+v", rep)
		}
		seq, head, err := l.Head(context.Background())
		if err != nil || seq != 5 || len(head) != 64 {
			t.Fatalf("head = %d %q %v", seq, head, err)
		}
		// The entries link up: seq 1..5, each prev_hash the hash before.
		rows, err := db.QueryContext(context.Background(), `SELECT seq, prev_hash, hash FROM audit_entries ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want, prev := int64(1), ""
		for rows.Next() {
			var s int64
			var p, h string
			if err := rows.Scan(&s, &p, &h); err != nil {
				t.Fatal(err)
			}
			if s != want || p != prev || h == "" || h == p {
				t.Fatalf("row seq=%d prev=%q hash=%q, want seq %d prev %q", s, p, h, want, prev)
			}
			want, prev = want+1, h
		}
		if prev != head {
			t.Fatal("head is not the last hash")
		}
	})
}

func TestRecordRefusesBadEntries(t *testing.T) {
	sqldbtest.Each(t, auditOnly, func(t *testing.T, db *sqldb.DB) {
		l := audit.New(db, audit.Options{})
		for _, c := range []struct {
			name  string
			e     audit.Entry
			field string
		}{
			{"no action", audit.Entry{Result: audit.ResultOK}, "action"},
			{"unknown result", audit.Entry{Action: "x.y", Result: "meh"}, "result"},
			{"details not encodable", audit.Entry{Action: "x.y", Details: map[string]any{"f": func() {}}}, "details"},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := l.Record(context.Background(), c.e)
				if !core.IsCode(err, core.EInvalid) {
					t.Fatalf("want invalid, got %v", err)
				}
			})
		}
		if seq, _, _ := l.Head(context.Background()); seq != 0 {
			t.Fatalf("refused entries advanced the chain to %d", seq)
		}
	})
}

// Rows changed, removed or moved by hand are found at the right seq.
func TestTamperingIsDetected(t *testing.T) {
	cases := []struct {
		name    string
		tamper  []string
		broken  int64
		checked int64
	}{
		{"action changed", []string{`UPDATE audit_entries SET action = 'session.logout' WHERE seq = 3`}, 3, 2},
		{"details changed", []string{`UPDATE audit_entries SET details = '{"method":"password","n":99}' WHERE seq = 4`}, 4, 3},
		{"time changed", []string{`UPDATE audit_entries SET at = at + 1000 WHERE seq = 2`}, 2, 1},
		{"middle row deleted", []string{`DELETE FROM audit_entries WHERE seq = 4`}, 4, 3},
		{"first row deleted", []string{`DELETE FROM audit_entries WHERE seq = 1`}, 1, 0},
		{"last row deleted", []string{`DELETE FROM audit_entries WHERE seq = 6`}, 6, 5},
		{"rows reordered", []string{
			`UPDATE audit_entries SET seq = 100 WHERE seq = 2`,
			`UPDATE audit_entries SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_entries SET seq = 3 WHERE seq = 100`,
		}, 2, 1},
		{"deleted row and renumbered", []string{
			`DELETE FROM audit_entries WHERE seq = 3`,
			`UPDATE audit_entries SET seq = seq - 1 WHERE seq > 3`,
			`UPDATE audit_head SET seq = 5`,
		}, 3, 2},
		{"row appended past the head", []string{
			`INSERT INTO audit_entries (seq, id, at, action, result, prev_hash, hash) VALUES (7, 'forged', 0, 'session.login', 'ok', '', '')`,
		}, 7, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sqldbtest.Each(t, auditOnly, func(t *testing.T, db *sqldb.DB) {
				l := audit.New(db, audit.Options{})
				record(t, l, 6)
				for _, q := range c.tamper {
					if _, err := db.ExecContext(context.Background(), q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				rep := verify(t, l)
				if rep.OK || rep.BrokenSeq != c.broken || rep.Checked != c.checked || rep.Problem == "" {
					t.Fatalf("report = %+v, want broken at %d after %d checked", rep, c.broken, c.checked)
				}
			})
		})
	}
}

// Many writers at once (on PostgreSQL over several connections) keep the
// chain gapless and valid.
func TestConcurrentRecord(t *testing.T) {
	sqldbtest.Each(t, auditOnly, func(t *testing.T, db *sqldb.DB) {
		l := audit.New(db, audit.Options{})
		const writers, each = 16, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					errs <- l.Record(context.Background(), audit.Entry{Action: "im.message.recall", ActorID: fmt.Sprint(w), ObjectID: fmt.Sprint(i)})
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n, lo, hi int64
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*), MIN(seq), MAX(seq) FROM audit_entries`).Scan(&n, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if n != writers*each || lo != 1 || hi != writers*each {
			t.Fatalf("count=%d min=%d max=%d", n, lo, hi)
		}
		if rep := verify(t, l); !rep.OK || rep.Checked != writers*each {
			t.Fatalf("report = %+v", rep)
		}
	})
}

// RecordTx commits or rolls back with the caller's transaction.
func TestRecordTx(t *testing.T) {
	sqldbtest.Each(t, auditOnly, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := audit.New(db, audit.Options{})
		boom := fmt.Errorf("boom")
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := l.RecordTx(ctx, tx, audit.Entry{Action: "authz.role.create"}); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatal(err)
		}
		if seq, _, _ := l.Head(ctx); seq != 0 {
			t.Fatalf("rolled-back entry left seq %d", seq)
		}
		if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return l.RecordTx(ctx, tx, audit.Entry{Action: "authz.role.create"}) }); err != nil {
			t.Fatal(err)
		}
		if rep := verify(t, l); !rep.OK || rep.LastSeq != 1 {
			t.Fatalf("report = %+v", rep)
		}
	})
}
