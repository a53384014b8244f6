package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// Many transactions at once (on SQLite they share commits): each one's
// outcome is its own — failed, panicked and conflicting ones leave nothing,
// the others all stay, and every caller sees its own result.
func TestConcurrentTransactionsKeepTheirOwnOutcome(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: "test", FS: v1}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES ('taken', 'x', 1)`); err != nil {
			t.Fatal(err)
		}
		const n = 300
		boom := errors.New("boom")
		errs := make([]error, n)
		panics := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				errs[i] = db.InTx(ctx, func(tx *sqldb.Tx) error {
					id := fmt.Sprintf("n%03d", i)
					if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, 'a', 1)`, id); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `UPDATE notes SET body = 'b' WHERE id = ?`, id); err != nil {
						return err
					}
					switch {
					case i%7 == 0:
						return boom
					case i%11 == 0:
						_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES ('taken', 'y', 2)`)
						return err
					case i%37 == 0:
						panic(fmt.Sprintf("panic %d", i))
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i := range n {
			want := "kept"
			switch {
			case i%7 == 0:
				want = "boom"
			case i%11 == 0:
				want = "unique"
			case i%37 == 0:
				want = "panic"
			}
			var got string
			switch {
			case panics[i] != nil:
				got = "panic"
				if panics[i] != fmt.Sprintf("panic %d", i) {
					t.Errorf("%d: panic %v reached the wrong caller", i, panics[i])
				}
			case errors.Is(errs[i], boom):
				got = "boom"
			case sqldb.IsUniqueViolation(errs[i]):
				got = "unique"
			case errs[i] == nil:
				got = "kept"
			default:
				got = errs[i].Error()
			}
			if got != want {
				t.Errorf("transaction %d: %s, want %s", i, got, want)
			}
			var body string
			err := db.QueryRowContext(ctx, `SELECT body FROM notes WHERE id = ?`, fmt.Sprintf("n%03d", i)).Scan(&body)
			if stored := err == nil; stored != (want == "kept") {
				t.Errorf("transaction %d (%s): stored=%v", i, want, stored)
			} else if stored && body != "b" {
				t.Errorf("transaction %d: body %q, want its own update", i, body)
			}
		}
	})
}

// A caller whose context is cancelled gets an error, and the others are
// not fooled: whatever they were told about, holds.
func TestCancelledTransactionAmongOthers(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: "test", FS: v1}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		const n = 100
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := ctx
				if i%10 == 0 {
					var cancel context.CancelFunc
					c, cancel = context.WithCancel(ctx)
					cancel()
				}
				errs[i] = db.InTx(c, func(tx *sqldb.Tx) error {
					_, err := tx.ExecContext(c, `INSERT INTO notes (id, body, at) VALUES (?, 'a', 1)`, fmt.Sprintf("c%03d", i))
					return err
				})
			}()
		}
		wg.Wait()
		for i := range n {
			var k int
			db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE id = ?`, fmt.Sprintf("c%03d", i)).Scan(&k)
			if i%10 == 0 && errs[i] == nil {
				t.Errorf("%d: cancelled, yet no error", i)
			}
			if errs[i] == nil && k != 1 {
				t.Errorf("%d: acknowledged but not stored", i)
			}
			if errs[i] != nil && k != 0 && i%10 == 0 {
				t.Errorf("%d: cancelled and refused, but stored", i)
			}
		}
	})
}

func BenchmarkConcurrentTransactions(b *testing.B) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: b.TempDir() + "/bench.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "test", v1); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	i := 0
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i++
			id := fmt.Sprintf("b%d", i)
			mu.Unlock()
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, 'a', 1)`, id)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Two transactions writing the same row race; the loser, refused, reads
// the winner's row at once — it must already be committed when the loser
// hears of its refusal (a retried send finding the original).
func TestLoserSeesTheWinnersCommit(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: "test", FS: v1}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 100 {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("race%03d", i)
					err := db.InTx(ctx, func(tx *sqldb.Tx) error {
						_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, 'a', 1)`, id)
						return err
					})
					if err == nil {
						return
					}
					if !sqldb.IsUniqueViolation(err) {
						t.Error(err)
						return
					}
					var n int
					if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE id = ?`, id).Scan(&n); err != nil || n != 1 {
						t.Errorf("%s: refused as taken, yet the winner's row is not visible (n=%d err=%v)", id, n, err)
					}
				}()
			}
		}
		wg.Wait()
	})
}
