// Package sqlstore keeps the marketplace's trusted keys and installs in the
// SQL database (SQLite or PostgreSQL through core/sqldb), migrations area
// "marketplace".
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/marketplace"
)

// Area is the migrations area.
const Area = "marketplace"

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

// Store implements marketplace.Store.
type Store struct{ db *sqldb.DB }

var _ marketplace.Store = (*Store)(nil)

// New returns a store over a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

func (s *Store) AddKey(ctx context.Context, k marketplace.TrustedKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO marketplace_keys (id, org_id, key_id, name, public_key, added_by, added_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, k.ID, k.OrgID, k.KeyID, k.Name, k.PublicKey, k.AddedBy, sqldb.Millis(k.AddedAt))
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "key %s is already trusted", k.KeyID)
	}
	return core.Wrap(err, "add trusted key")
}

func (s *Store) Keys(ctx context.Context, orgID string) ([]marketplace.TrustedKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, key_id, name, public_key, added_by, added_at
		FROM marketplace_keys WHERE org_id = ? ORDER BY name, key_id`, orgID)
	if err != nil {
		return nil, core.Wrap(err, "list trusted keys")
	}
	defer rows.Close()
	out := []marketplace.TrustedKey{}
	for rows.Next() {
		var k marketplace.TrustedKey
		var at int64
		if err := rows.Scan(&k.ID, &k.OrgID, &k.KeyID, &k.Name, &k.PublicKey, &k.AddedBy, &at); err != nil {
			return nil, core.Wrap(err, "list trusted keys")
		}
		k.AddedAt = sqldb.FromMillis(at)
		out = append(out, k)
	}
	return out, core.Wrap(rows.Err(), "list trusted keys")
}

func (s *Store) RemoveKey(ctx context.Context, orgID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM marketplace_keys WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return core.Wrap(err, "remove trusted key")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "trusted key %s not found", id)
	}
	return nil
}

type encoded struct{ current, previous, visibility string }

func encode(in marketplace.Install) (encoded, error) {
	c, err := json.Marshal(in.Current)
	if err != nil {
		return encoded{}, core.Wrap(err, "encode install")
	}
	p := []byte("null")
	if in.Previous != nil {
		if p, err = json.Marshal(in.Previous); err != nil {
			return encoded{}, core.Wrap(err, "encode install")
		}
	}
	v, err := json.Marshal(in.Visibility)
	if err != nil {
		return encoded{}, core.Wrap(err, "encode install")
	}
	return encoded{string(c), string(p), string(v)}, nil
}

func (s *Store) CreateInstall(ctx context.Context, in marketplace.Install) error {
	e, err := encode(in)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO marketplace_installs
		(id, org_id, app_id, enabled, version, current, previous, visibility, rev, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, in.OrgID, in.AppID, in.Enabled, in.Current.Version, e.current, e.previous, e.visibility, 1,
		sqldb.Millis(in.CreatedAt), sqldb.Millis(in.UpdatedAt), in.UpdatedBy)
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "%s is already installed in this organisation", in.AppID)
	}
	return core.Wrap(err, "create install")
}

const cols = `id, org_id, app_id, enabled, current, previous, visibility, rev, created_at, updated_at, updated_by`

func scan(sc interface{ Scan(...any) error }) (marketplace.Install, error) {
	var in marketplace.Install
	var cur, prev, vis string
	var created, updated int64
	if err := sc.Scan(&in.ID, &in.OrgID, &in.AppID, &in.Enabled, &cur, &prev, &vis, &in.Rev, &created, &updated, &in.UpdatedBy); err != nil {
		return in, err
	}
	if err := json.Unmarshal([]byte(cur), &in.Current); err != nil {
		return in, core.Wrap(err, "decode install")
	}
	if err := json.Unmarshal([]byte(prev), &in.Previous); err != nil {
		return in, core.Wrap(err, "decode install")
	}
	if err := json.Unmarshal([]byte(vis), &in.Visibility); err != nil {
		return in, core.Wrap(err, "decode install")
	}
	in.CreatedAt, in.UpdatedAt = sqldb.FromMillis(created), sqldb.FromMillis(updated)
	return in, nil
}

func (s *Store) Install(ctx context.Context, id string) (marketplace.Install, error) {
	in, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM marketplace_installs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, core.Errorf(core.ENotFound, "install %s not found", id)
	}
	return in, core.Wrap(err, "read install")
}

func (s *Store) Installs(ctx context.Context, orgID string) ([]marketplace.Install, error) {
	q, args := `SELECT `+cols+` FROM marketplace_installs WHERE org_id = ? ORDER BY app_id`, []any{orgID}
	if orgID == "" {
		q, args = `SELECT `+cols+` FROM marketplace_installs ORDER BY org_id, app_id`, nil
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, core.Wrap(err, "list installs")
	}
	defer rows.Close()
	out := []marketplace.Install{}
	for rows.Next() {
		in, err := scan(rows)
		if err != nil {
			return nil, core.Wrap(err, "list installs")
		}
		out = append(out, in)
	}
	return out, core.Wrap(rows.Err(), "list installs")
}

func (s *Store) UpdateInstall(ctx context.Context, in marketplace.Install) error {
	e, err := encode(in)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE marketplace_installs SET enabled = ?, version = ?, current = ?, previous = ?,
		visibility = ?, rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ? AND rev = ?`,
		in.Enabled, in.Current.Version, e.current, e.previous, e.visibility, sqldb.Millis(in.UpdatedAt), in.UpdatedBy, in.ID, in.Rev)
	if err != nil {
		return core.Wrap(err, "update install")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Install(ctx, in.ID); err != nil {
			return err
		}
		return core.Errorf(core.EConflict, "install %s was changed by someone else; reload and try again", in.ID)
	}
	return nil
}

func (s *Store) DeleteInstall(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM marketplace_installs WHERE id = ?`, id)
	if err != nil {
		return core.Wrap(err, "delete install")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "install %s not found", id)
	}
	return nil
}
