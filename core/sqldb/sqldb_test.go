package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var v1 = fstest.MapFS{
	"00001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL, at BIGINT NOT NULL);
-- +goose Down
DROP TABLE notes;
`)},
}

func TestDatabaseContract(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: "test", FS: v1}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		t.Run("placeholders and round trip", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, ?, ?)`, "a", "它's ? fine", 5); err != nil {
				t.Fatal(err)
			}
			var body string
			if err := db.QueryRowContext(ctx, `SELECT body FROM notes WHERE id = ? AND body <> '?'`, "a").Scan(&body); err != nil {
				t.Fatal(err)
			}
			if body != "它's ? fine" {
				t.Fatalf("body = %q", body)
			}
		})
		t.Run("unique violation is recognised", func(t *testing.T) {
			_, err := db.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, ?, ?)`, "a", "again", 6)
			if !sqldb.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
		})
		t.Run("failed transaction changes nothing", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.InTx(ctx, func(tx *sqldb.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, ?, ?)`, "b", "x", sqldb.Millis(tx.Now)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE id = ?`, "b").Scan(&n); err != nil || n != 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
		})
		t.Run("migrating twice is a no-op", func(t *testing.T) {
			if err := db.Migrate(ctx, "test", v1); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("refuses a schema newer than the binary", func(t *testing.T) {
			v2 := fstest.MapFS{"00001_notes.sql": v1["00001_notes.sql"], "00002_more.sql": {Data: []byte("-- +goose Up\nCREATE TABLE more_notes (id TEXT);\n-- +goose Down\nDROP TABLE more_notes;\n")}}
			if err := db.Migrate(ctx, "test", v2); err != nil {
				t.Fatal(err)
			}
			err := db.Migrate(ctx, "test", v1)
			if !core.IsCode(err, core.EConflict) {
				t.Fatalf("want conflict for a newer schema, got %v", err)
			}
		})
	})
}

func TestAmbientTransaction(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: "test", FS: v1}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		insert := func(ctx context.Context, id string) error {
			// What another area's store does: plain DB calls and a nested InTx.
			if _, err := db.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, 'x', 1)`, id); err != nil {
				return err
			}
			return db.InTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body, at) VALUES (?, 'y', 2)`, id+"-nested")
				return err
			})
		}
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := insert(tx.Context(ctx), "rolled-back"); err != nil {
				return err
			}
			var n int
			if err := db.QueryRowContext(tx.Context(ctx), `SELECT COUNT(*) FROM notes WHERE id LIKE 'rolled-back%'`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("the transaction sees its own writes: %d %v", n, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return insert(tx.Context(ctx), "kept") }); err != nil {
			t.Fatal(err) // on SQLite this would wait forever without the ambient transaction
		}
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE id LIKE 'rolled-back%'`).Scan(&n)
		var k int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE id LIKE 'kept%'`).Scan(&k)
		if n != 0 || k != 2 {
			t.Fatalf("rolled back %d (want 0), kept %d (want 2)", n, k)
		}
	})
}

// TestPostgresConnectionCutIsUnavailable: a pooled connection that
// PostgreSQL ends (as it does to every connection when it shuts down) makes
// the next read either succeed on a new connection or fail with code
// unavailable — never an internal error, whichever way the store reads.
func TestPostgresConnectionCutIsUnavailable(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{PostgresDSN: dsn, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	reads := map[string]func() error{
		"QueryRow.Scan": func() error { var n int; return db.QueryRowContext(ctx, "SELECT 1").Scan(&n) },
		"Query": func() error {
			rows, err := db.QueryContext(ctx, "SELECT 1")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		},
		"Tx QueryRow.Scan": func() error {
			return db.InTx(ctx, func(tx *sqldb.Tx) error { var n int; return tx.QueryRowContext(ctx, "SELECT 1").Scan(&n) })
		},
	}
	for what, read := range reads {
		var pid int
		if err := db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // the FATAL message is on its way
		if err := read(); err != nil && !core.IsCode(err, core.EUnavailable) {
			t.Errorf("%s after the connection was cut: %v (code %s), want success or unavailable", what, err, core.ErrorCode(err))
		}
		if err := read(); err != nil {
			t.Errorf("%s on the next try: %v", what, err)
		}
	}
}
