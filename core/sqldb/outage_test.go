package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roundshq/rounds/core"
)

// TestPostgresOutageIsUnavailable: while nothing answers at the database's
// address, every way a store reads — including sql.Row.Scan, which mapErr
// never sees — fails with code unavailable, so the API answers 503.
func TestPostgresOutageIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // now nothing listens there
	pc, err := pgx.ParseConfig(fmt.Sprintf("postgres://rounds@%s/rounds?sslmode=disable&connect_timeout=2", addr))
	if err != nil {
		t.Fatal(err)
	}
	w := sql.OpenDB(outageConnector{stdlib.GetConnector(*pc)})
	defer w.Close()
	db := &DB{Dialect: Postgres, w: w, r: w}
	ctx := context.Background()
	var n int
	checks := map[string]error{
		"QueryRow.Scan": db.QueryRowContext(ctx, "SELECT 1").Scan(&n),
		"Exec":          func() error { _, err := db.ExecContext(ctx, "SELECT 1"); return err }(),
		"Query":         func() error { _, err := db.QueryContext(ctx, "SELECT 1"); return err }(),
		"InTx":          db.InTx(ctx, func(*Tx) error { return nil }),
		"Ping":          db.Ping(ctx),
	}
	for what, err := range checks {
		if !core.IsCode(err, core.EUnavailable) {
			t.Errorf("%s: %v, want code unavailable", what, err)
		}
		// A store wrapping the error keeps the code.
		if !core.IsCode(core.Wrap(fmt.Errorf("im store: %w", err), "im store"), core.EUnavailable) {
			t.Errorf("%s wrapped by a store lost its code", what)
		}
	}
}

// TestServerShutdownErrorsAreUnavailable: PostgreSQL's own words for "I am
// going away / not up yet" are outages; a statement's errors are not.
func TestServerShutdownErrorsAreUnavailable(t *testing.T) {
	for code, want := range map[string]core.Code{
		"57P01": core.EUnavailable, // admin_shutdown: terminating connection due to administrator command
		"57P02": core.EUnavailable, // crash_shutdown
		"57P03": core.EUnavailable, // cannot_connect_now: the database system is starting up
		"08006": core.EUnavailable, // connection_failure
		"23505": core.EInternal,    // unique_violation: the statement's, passed on unchanged
		"42P01": core.EInternal,    // undefined_table
	} {
		err := mapErr(&pgconn.PgError{Code: code, Message: "x"})
		if got := core.ErrorCode(err); got != want {
			t.Errorf("SQLSTATE %s: code %s, want %s", code, got, want)
		}
	}
}
