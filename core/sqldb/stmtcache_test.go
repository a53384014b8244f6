package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCachedSQLite(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{SQLitePath: filepath.Join(t.TempDir(), "c.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cachedOnWriter reports how many statements the writer connection holds.
func cachedOnWriter(t *testing.T, db *DB) int {
	t.Helper()
	c, err := db.w.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := -1
	if err := c.Raw(func(dc any) error {
		n = dc.(*cachingConn).lru.Len()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db := openCachedSQLite(t)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE t (a INTEGER PRIMARY KEY)`)
	for i := 1; i <= 5; i++ {
		mustExec(`INSERT INTO t (a) VALUES (?)`, i)
	}

	t.Run("a reused statement sees the schema as it is now", func(t *testing.T) {
		cols := func() []string {
			rows, err := db.w.QueryContext(ctx, `SELECT * FROM t WHERE a = ?`, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			c, _ := rows.Columns()
			return c
		}
		if c := cols(); len(c) != 1 {
			t.Fatalf("columns before = %v", c)
		}
		mustExec(`ALTER TABLE t ADD COLUMN b TEXT`)
		if c := cols(); len(c) != 2 || c[1] != "b" {
			t.Fatalf("columns after ALTER = %v, want [a b]", c)
		}
	})

	t.Run("the same query inside a loop over its own rows", func(t *testing.T) {
		const q = `SELECT a FROM t WHERE a > ? ORDER BY a`
		err := db.InTx(ctx, func(tx *Tx) error {
			rows, err := tx.QueryContext(ctx, q, 0)
			if err != nil {
				return err
			}
			defer rows.Close()
			var outer, inner int
			for rows.Next() {
				var a int
				if err := rows.Scan(&a); err != nil {
					return err
				}
				outer++
				in, err := tx.QueryContext(ctx, q, a)
				if err != nil {
					return err
				}
				for in.Next() {
					inner++
				}
				if err := in.Close(); err != nil {
					return err
				}
			}
			if outer != 5 || inner != 4+3+2+1 {
				return fmt.Errorf("outer %d inner %d, want 5 and 10", outer, inner)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a failed statement leaves its cached statement usable", func(t *testing.T) {
		const q = `INSERT INTO t (a) VALUES (?)`
		if _, err := db.ExecContext(ctx, q, 1); !IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v", err)
		}
		mustExec(q, 100)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 6 {
			t.Fatalf("count = %d, %v", n, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`); err == nil {
			t.Fatal("a statement on a missing table succeeded")
		}
	})

	t.Run("an empty result and a result left unread free the statement", func(t *testing.T) {
		for range 3 {
			var a int
			if err := db.w.QueryRowContext(ctx, `SELECT a FROM t WHERE a = ?`, -1).Scan(&a); err != sql.ErrNoRows {
				t.Fatalf("missing row: %v", err)
			}
			if err := db.w.QueryRowContext(ctx, `SELECT a FROM t WHERE a > ? ORDER BY a`, 0).Scan(&a); err != nil || a != 1 {
				t.Fatalf("first row = %d, %v", a, err)
			}
		}
	})

	t.Run("the cache is bounded", func(t *testing.T) {
		for i := range stmtCacheSize + 50 {
			var a int
			q := fmt.Sprintf(`SELECT a FROM t WHERE a = ? AND %d = %d`, i, i)
			if err := db.w.QueryRowContext(ctx, q, 2).Scan(&a); err != nil || a != 2 {
				t.Fatalf("query %d: %d, %v", i, a, err)
			}
		}
		if n := cachedOnWriter(t, db); n != stmtCacheSize {
			t.Fatalf("writer caches %d statements, want the bound %d", n, stmtCacheSize)
		}
	})
}

// BenchmarkSmallTransaction is one transaction of the shape the stores run
// (a read, two writes) on the writer, parsing cost included.
func BenchmarkSmallTransaction(b *testing.B) {
	ctx := context.Background()
	db := openCachedSQLite(b)
	if _, err := db.ExecContext(ctx, `CREATE TABLE req (id INTEGER PRIMARY KEY, state TEXT NOT NULL, n INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE step (req INTEGER NOT NULL, at BIGINT NOT NULL, what TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		err := db.InTx(ctx, func(tx *Tx) error {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT n FROM req WHERE id = ? AND state <> 'done'`, i).Scan(&n)
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO req (id, state, n) VALUES (?, 'pending', ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n`, i, n+1); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO step (req, at, what) VALUES (?, ?, ?)`, i, Millis(tx.Now), "submitted")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
