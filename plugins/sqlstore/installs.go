package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/plugins"
)

var _ plugins.Installs = (*Store)(nil)

// SaveInstall creates or replaces an install. An app is installed at most
// once per organisation (EConflict).
func (s *Store) SaveInstall(ctx context.Context, inst plugins.Install, enabled bool) error {
	grants, err := json.Marshal(inst.Grants)
	if err != nil {
		return core.Wrap(err, "encode grants")
	}
	if inst.Settings == nil {
		inst.Settings = map[string]string{}
	}
	settings, err := json.Marshal(inst.Settings)
	if err != nil {
		return core.Wrap(err, "encode settings")
	}
	now := sqldb.Millis(s.now())
	_, err = s.db.ExecContext(ctx, `INSERT INTO plugins_installs
		(id, org_id, app_id, bot_user_id, dir, checksum, grants, settings, enabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, app_id = excluded.app_id, bot_user_id = excluded.bot_user_id,
		dir = excluded.dir, checksum = excluded.checksum, grants = excluded.grants, settings = excluded.settings,
		enabled = excluded.enabled, updated_at = excluded.updated_at`,
		inst.ID, inst.OrgID, inst.AppID, inst.BotUserID, inst.Dir, inst.Checksum, string(grants), string(settings), enabled, now, now)
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "the app %s is already installed in this organisation", inst.AppID)
	}
	return core.Wrap(err, "save install")
}

const installCols = `id, org_id, app_id, bot_user_id, dir, checksum, grants, settings, enabled, created_at, updated_at`

func scanInstall(sc interface{ Scan(...any) error }) (plugins.InstallRecord, error) {
	var r plugins.InstallRecord
	var grants, settings string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.OrgID, &r.AppID, &r.BotUserID, &r.Dir, &r.Checksum, &grants, &settings, &r.Enabled, &created, &updated); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(grants), &r.Grants); err != nil {
		return r, core.Wrap(err, "decode grants")
	}
	if err := json.Unmarshal([]byte(settings), &r.Settings); err != nil {
		return r, core.Wrap(err, "decode settings")
	}
	r.Install.Dir = r.Dir
	r.CreatedAt, r.UpdatedAt = sqldb.FromMillis(created), sqldb.FromMillis(updated)
	return r, nil
}

func (s *Store) GetInstall(ctx context.Context, id string) (plugins.InstallRecord, error) {
	r, err := scanInstall(s.db.QueryRowContext(ctx, `SELECT `+installCols+` FROM plugins_installs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, core.Errorf(core.ENotFound, "no install %s", id)
	}
	return r, core.Wrap(err, "read install")
}

func (s *Store) ListInstalls(ctx context.Context, orgID string) ([]plugins.InstallRecord, error) {
	q, args := `SELECT `+installCols+` FROM plugins_installs`, []any{}
	if orgID != "" {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY app_id, id`, args...)
	if err != nil {
		return nil, core.Wrap(err, "list installs")
	}
	defer rows.Close()
	var out []plugins.InstallRecord
	for rows.Next() {
		r, err := scanInstall(rows)
		if err != nil {
			return nil, core.Wrap(err, "list installs")
		}
		out = append(out, r)
	}
	return out, core.Wrap(rows.Err(), "list installs")
}

func (s *Store) SetEnabled(ctx context.Context, id string, enabled bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE plugins_installs SET enabled = ?, updated_at = ? WHERE id = ?`, enabled, sqldb.Millis(s.now()), id)
	if err != nil {
		return core.Wrap(err, "enable install")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "no install %s", id)
	}
	return nil
}

// ForgetInstall removes the install's record and leaves its storage.
func (s *Store) ForgetInstall(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM plugins_installs WHERE id = ?`, id)
	if err != nil {
		return core.Wrap(err, "forget install")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "no install %s", id)
	}
	return nil
}

// DeleteInstall removes the install and its storage in one transaction.
func (s *Store) DeleteInstall(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM plugins_installs WHERE id = ?`, id)
		if err != nil {
			return core.Wrap(err, "delete install")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return core.Errorf(core.ENotFound, "no install %s", id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM plugins_kv WHERE install_id = ?`, id)
		return core.Wrap(err, "delete install storage")
	})
}
