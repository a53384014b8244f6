// Package sqlstore keeps attendance in the Rounds SQL database (SQLite or
// PostgreSQL).
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"time"

	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/core/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the attendance area's schema migrations.
func Migrations() fs.FS { sub, _ := fs.Sub(migrations, "migrations"); return sub }

// Area is the migration area name.
const Area = "attendance"

// Store implements attendance.Store.
type Store struct{ db *sqldb.DB }

var _ attendance.Store = (*Store)(nil)

// New returns a store on a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

func (s *Store) Rules(ctx context.Context, orgID string) (attendance.Rules, bool, error) {
	var b string
	err := s.db.QueryRowContext(ctx, `SELECT rules FROM attendance_rules WHERE org_id = ?`, orgID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return attendance.Rules{}, false, nil
	}
	if err != nil {
		return attendance.Rules{}, false, err
	}
	var r attendance.Rules
	return r, true, json.Unmarshal([]byte(b), &r)
}

func (s *Store) PutRules(ctx context.Context, orgID string, r attendance.Rules) error {
	b, _ := json.Marshal(r)
	_, err := s.db.ExecContext(ctx, `INSERT INTO attendance_rules (org_id, rules) VALUES (?, ?)
		ON CONFLICT (org_id) DO UPDATE SET rules = excluded.rules`, orgID, string(b))
	return err
}

func (s *Store) AddPunch(ctx context.Context, p attendance.Punch) error {
	var src any
	if p.SourceID != "" {
		src = p.SourceID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO attendance_punches (id, org_id, user_id, kind, at, method, place, source_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, p.ID, p.OrgID, p.UserID, p.Kind, sqldb.Millis(p.At), p.Method, p.Place, src)
	return err
}

func (s *Store) Punches(ctx context.Context, orgID, userID string, from, to time.Time) ([]attendance.Punch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, user_id, kind, at, method, place, COALESCE(source_id, '') FROM attendance_punches
		WHERE org_id = ? AND user_id = ? AND at >= ? AND at < ? ORDER BY at`, orgID, userID, sqldb.Millis(from), sqldb.Millis(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []attendance.Punch
	for rows.Next() {
		var p attendance.Punch
		var at int64
		if err := rows.Scan(&p.ID, &p.OrgID, &p.UserID, &p.Kind, &at, &p.Method, &p.Place, &p.SourceID); err != nil {
			return nil, err
		}
		p.At = sqldb.FromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) AddOvertime(ctx context.Context, orgID, userID, date string, minutes int, sourceID string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO attendance_overtime (org_id, user_id, day, minutes, source_id) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source_id) DO NOTHING`, orgID, userID, date, minutes, sourceID)
	return err
}

func (s *Store) Overtime(ctx context.Context, orgID, userID, fromDate, toDate string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(minutes), 0) FROM attendance_overtime WHERE org_id = ? AND user_id = ? AND day >= ? AND day <= ?`,
		orgID, userID, fromDate, toDate).Scan(&n)
	return n, err
}
