// Package sqldbtest runs a store's contract suite against every database
// Rounds supports: a fresh SQLite file always, and PostgreSQL when
// ROUNDS_TEST_POSTGRES holds a DSN (each test gets its own schema, dropped
// afterwards). With ROUNDS_TEST_REQUIRE_SERVICES=1 a missing DSN fails the
// test instead of skipping it, so CI proves the PostgreSQL suites ran.
package sqldbtest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

// Migration is one area's migrations, applied before the test body runs.
type Migration struct {
	Area string
	FS   fs.FS
}

// Each runs fn as a subtest per database ("sqlite", "postgres").
func Each(t *testing.T, migrations []Migration, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		db := OpenSQLite(t, migrations...)
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db := OpenPostgres(t, migrations...)
		fn(t, db)
	})
}

// OpenSQLite opens a migrated SQLite database in a temp dir.
func OpenSQLite(t testing.TB, migrations ...Migration) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), sqldb.Config{SQLitePath: filepath.Join(t.TempDir(), "rounds.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db, migrations)
	return db
}

// PostgresDSN returns the DSN of a fresh schema on the test server, or skips
// (fails, when services are required) without one. The schema is dropped
// when the test ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ROUNDS_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("ROUNDS_TEST_POSTGRES is not set but services are required")
		}
		t.Skip("ROUNDS_TEST_POSTGRES not set: PostgreSQL suite skipped")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "t_" + strings.ToLower(strings.ReplaceAll(core.NewID(), "-", ""))
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return fmt.Sprintf("%s search_path=%s", dsn, schema)
}

// OpenPostgres opens a migrated PostgreSQL database in a fresh schema.
func OpenPostgres(t testing.TB, migrations ...Migration) *sqldb.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := sqldb.Open(context.Background(), sqldb.Config{PostgresDSN: dsn, MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db, migrations)
	return db
}

func migrate(t testing.TB, db *sqldb.DB, migrations []Migration) {
	t.Helper()
	for _, m := range migrations {
		if err := db.Migrate(context.Background(), m.Area, m.FS); err != nil {
			t.Fatalf("migrate %s: %v", m.Area, err)
		}
	}
}
