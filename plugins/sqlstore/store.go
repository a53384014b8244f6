// Package sqlstore keeps the apps' key-value storage in the SQL database
// (SQLite or PostgreSQL through core/sqldb). It knows nothing of apps beyond
// the install id that namespaces every key.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/plugins"
)

// Area is the migrations area.
const Area = "plugins"

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the goose migrations, for db.Migrate(ctx, Area, Migrations).
var Migrations = func() fs.FS {
	s, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err)
	}
	return s
}()

// Store implements plugins.Storage.
type Store struct {
	db  *sqldb.DB
	now func() time.Time
}

var _ plugins.Storage = (*Store)(nil)

// New returns a store over a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db, now: time.Now} }

func (s *Store) Get(ctx context.Context, installID, key string) ([]byte, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT v FROM plugins_kv WHERE install_id = ? AND k = ?`, installID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, core.Wrap(err, "read app storage")
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, false, core.Wrap(err, "decode app storage")
	}
	return b, true, nil
}

func (s *Store) Set(ctx context.Context, installID, key string, value []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO plugins_kv (install_id, k, v, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (install_id, k) DO UPDATE SET v = excluded.v, updated_at = excluded.updated_at`,
		installID, key, base64.StdEncoding.EncodeToString(value), sqldb.Millis(s.now()))
	return core.Wrap(err, "write app storage")
}

func (s *Store) Delete(ctx context.Context, installID, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM plugins_kv WHERE install_id = ? AND k = ?`, installID, key)
	return core.Wrap(err, "delete from app storage")
}

// Keys lists keys by prefix; the prefix is matched with a range rather than
// LIKE so '%' and '_' in keys mean themselves.
func (s *Store) Keys(ctx context.Context, installID, prefix string, limit int) ([]string, error) {
	q := `SELECT k FROM plugins_kv WHERE install_id = ? AND k >= ?`
	args := []any{installID, prefix}
	if prefix != "" {
		q += ` AND k < ?`
		args = append(args, prefix+"\U0010FFFF")
	}
	q += ` ORDER BY k LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, core.Wrap(err, "list app storage")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, core.Wrap(err, "list app storage")
		}
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out, core.Wrap(rows.Err(), "list app storage")
}
