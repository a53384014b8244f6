// Package sqlstore keeps rosters in the Rounds SQL database (SQLite or
// PostgreSQL). Every saved version of a roster is its own row; the current
// and latest published version numbers sit on the roster row.
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
	"github.com/roundshq/rounds/roster"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the roster area's schema migrations.
func Migrations() fs.FS { sub, _ := fs.Sub(migrations, "migrations"); return sub }

// Area is the migration area name.
const Area = "roster"

// Store implements roster.Store.
type Store struct{ db *sqldb.DB }

var _ roster.Store = (*Store)(nil)

// New returns a store on a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

func (s *Store) TimeZone(ctx context.Context, orgID string) (string, error) {
	var tz string
	err := s.db.QueryRowContext(ctx, `SELECT time_zone FROM roster_settings WHERE org_id = ?`, orgID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return tz, err
}

func (s *Store) SetTimeZone(ctx context.Context, orgID, tz string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO roster_settings (org_id, time_zone) VALUES (?, ?)
		ON CONFLICT (org_id) DO UPDATE SET time_zone = excluded.time_zone`, orgID, tz)
	return err
}

func (s *Store) PutShift(ctx context.Context, sh roster.Shift) error {
	req, _ := json.Marshal(nonNil(sh.Requires))
	_, err := s.db.ExecContext(ctx, `INSERT INTO roster_shifts (id, org_id, code, name, kind, start_minute, end_minute, break_minutes, paid_minutes, night, overnight, colour, requires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, kind = excluded.kind, start_minute = excluded.start_minute,
		end_minute = excluded.end_minute, break_minutes = excluded.break_minutes, paid_minutes = excluded.paid_minutes, night = excluded.night,
		overnight = excluded.overnight, colour = excluded.colour, requires = excluded.requires`,
		sh.ID, sh.OrgID, sh.Code, sh.Name, string(sh.Kind), sh.Start, sh.End, sh.BreakMinutes, sh.PaidMinutes, sh.Night, sh.Overnight, sh.Colour, string(req))
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "a shift with code %q exists already", sh.Code).With("field", "code")
	}
	return err
}

func (s *Store) Shifts(ctx context.Context, orgID string) ([]roster.Shift, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, code, name, kind, start_minute, end_minute, break_minutes, paid_minutes, night, overnight, colour, requires
		FROM roster_shifts WHERE org_id = ? ORDER BY start_minute, code`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Shift
	for rows.Next() {
		var sh roster.Shift
		var kind, req string
		if err := rows.Scan(&sh.ID, &sh.OrgID, &sh.Code, &sh.Name, &kind, &sh.Start, &sh.End, &sh.BreakMinutes, &sh.PaidMinutes, &sh.Night, &sh.Overnight, &sh.Colour, &req); err != nil {
			return nil, err
		}
		sh.Kind = roster.ShiftKind(kind)
		_ = json.Unmarshal([]byte(req), &sh.Requires)
		out = append(out, sh)
	}
	return out, rows.Err()
}

func (s *Store) PutRules(ctx context.Context, orgID, deptID string, rs roster.RuleSet) error {
	b, _ := json.Marshal(rs)
	_, err := s.db.ExecContext(ctx, `INSERT INTO roster_rules (org_id, department_id, rules) VALUES (?, ?, ?)
		ON CONFLICT (org_id, department_id) DO UPDATE SET rules = excluded.rules`, orgID, deptID, string(b))
	return err
}

func (s *Store) Rules(ctx context.Context, orgID, deptID string) (roster.RuleSet, bool, error) {
	var b string
	err := s.db.QueryRowContext(ctx, `SELECT rules FROM roster_rules WHERE org_id = ? AND department_id = ?`, orgID, deptID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.RuleSet{}, false, nil
	}
	if err != nil {
		return roster.RuleSet{}, false, err
	}
	var rs roster.RuleSet
	return rs, true, json.Unmarshal([]byte(b), &rs)
}

func (s *Store) PutProfile(ctx context.Context, orgID string, p roster.Person) error {
	sk, _ := json.Marshal(nonNil(p.Skills))
	q, _ := json.Marshal(nonNil(p.Qualifications))
	_, err := s.db.ExecContext(ctx, `INSERT INTO roster_profiles (org_id, user_id, skills, qualifications) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, user_id) DO UPDATE SET skills = excluded.skills, qualifications = excluded.qualifications`, orgID, p.UserID, string(sk), string(q))
	return err
}

func (s *Store) Profiles(ctx context.Context, orgID string, userIDs []string) (map[string]roster.Person, error) {
	out := make(map[string]roster.Person, len(userIDs))
	for _, chunk := range chunks(userIDs, 500) {
		args := []any{orgID}
		for _, u := range chunk {
			args = append(args, u)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT user_id, skills, qualifications FROM roster_profiles WHERE org_id = ? AND user_id IN (`+sqldb.Marks(len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p roster.Person
			var sk, q string
			if err := rows.Scan(&p.UserID, &sk, &q); err != nil {
				rows.Close()
				return nil, err
			}
			_ = json.Unmarshal([]byte(sk), &p.Skills)
			_ = json.Unmarshal([]byte(q), &p.Qualifications)
			out[p.UserID] = p
		}
		rows.Close()
	}
	return out, nil
}

func (s *Store) AddLeave(ctx context.Context, orgID, userID string, dates []roster.Date, source string) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		for _, d := range dates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO roster_leave (org_id, user_id, day, source) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id, user_id, day) DO NOTHING`, orgID, userID, int(d), source); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) Leave(ctx context.Context, orgID string, userIDs []string, from, to roster.Date) (map[string][]roster.Date, error) {
	out := map[string][]roster.Date{}
	for _, chunk := range chunks(userIDs, 500) {
		args := []any{orgID, int(from), int(to)}
		for _, u := range chunk {
			args = append(args, u)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT user_id, day FROM roster_leave WHERE org_id = ? AND day BETWEEN ? AND ? AND user_id IN (`+sqldb.Marks(len(chunk))+`) ORDER BY day`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var u string
			var d int
			if err := rows.Scan(&u, &d); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = append(out[u], roster.Date(d))
		}
		rows.Close()
	}
	return out, nil
}

func (s *Store) CreateRoster(ctx context.Context, r roster.Roster, vs []roster.Violation) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rosters WHERE org_id = ? AND department_id = ? AND from_day <= ? AND to_day >= ?`,
			r.OrgID, r.DepartmentID, int(r.To), int(r.From)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return core.Errorf(core.EConflict, "this department already has a roster overlapping %s – %s", r.From, r.To)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rosters (id, org_id, department_id, from_day, to_day, status, version) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.OrgID, r.DepartmentID, int(r.From), int(r.To), string(r.Status), r.Version); err != nil {
			return err
		}
		return insertVersion(ctx, tx, r, vs)
	})
}

func insertVersion(ctx context.Context, tx *sqldb.Tx, r roster.Roster, vs []roster.Violation) error {
	as, _ := json.Marshal(nonNilA(r.Assignments))
	if vs == nil {
		vs = []roster.Violation{}
	}
	v, _ := json.Marshal(vs)
	_, err := tx.ExecContext(ctx, `INSERT INTO roster_versions (roster_id, version, status, reason, assignments, violations, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Version, string(r.Status), r.Reason, string(as), string(v), r.UpdatedBy, sqldb.Millis(r.UpdatedAt))
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "someone saved this roster at the same moment; reload and edit again")
	}
	return err
}

func (s *Store) SaveVersion(ctx context.Context, r roster.Roster, vs []roster.Violation) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		pub := 0
		if r.Status == roster.StatusPublished {
			pub = r.Version
		}
		res, err := tx.ExecContext(ctx, `UPDATE rosters SET version = ?, status = ?, published_version = CASE WHEN ? > 0 THEN ? ELSE published_version END
			WHERE id = ? AND version = ?`, r.Version, string(r.Status), pub, pub, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return core.Errorf(core.EConflict, "the roster changed since you opened it; reload and edit again")
		}
		return insertVersion(ctx, tx, r, vs)
	})
}

const rosterCols = `r.id, r.org_id, r.department_id, r.from_day, r.to_day, v.status, v.version, v.reason, v.updated_by, v.updated_at`

func scanRoster(sc interface{ Scan(...any) error }, extra ...any) (roster.Roster, error) {
	var r roster.Roster
	var from, to int
	var status string
	var at int64
	dest := append([]any{&r.ID, &r.OrgID, &r.DepartmentID, &from, &to, &status, &r.Version, &r.Reason, &r.UpdatedBy, &at}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.From, r.To, r.Status, r.UpdatedAt = roster.Date(from), roster.Date(to), roster.Status(status), sqldb.FromMillis(at)
	return r, nil
}

func (s *Store) Roster(ctx context.Context, id string, version int) (roster.Roster, []roster.Violation, error) {
	q := `SELECT ` + rosterCols + `, v.assignments, v.violations FROM rosters r JOIN roster_versions v ON v.roster_id = r.id
		WHERE r.id = ? AND v.version = ` + map[bool]string{true: "r.version", false: "?"}[version == 0]
	args := []any{id}
	if version != 0 {
		args = append(args, version)
	}
	var as, vs string
	r, err := scanRoster(s.db.QueryRowContext(ctx, q, args...), &as, &vs)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, core.Errorf(core.ENotFound, "no such roster or version")
	}
	if err != nil {
		return r, nil, err
	}
	var violations []roster.Violation
	_ = json.Unmarshal([]byte(as), &r.Assignments)
	_ = json.Unmarshal([]byte(vs), &violations)
	return r, violations, nil
}

func (s *Store) Versions(ctx context.Context, id string) ([]roster.Roster, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+rosterCols+` FROM rosters r JOIN roster_versions v ON v.roster_id = r.id WHERE r.id = ? ORDER BY v.version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Roster
	for rows.Next() {
		r, err := scanRoster(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) Rosters(ctx context.Context, orgID, deptID string, from, to roster.Date) ([]roster.Roster, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+rosterCols+` FROM rosters r JOIN roster_versions v ON v.roster_id = r.id AND v.version = r.version
		WHERE r.org_id = ? AND r.department_id = ? AND r.from_day <= ? AND r.to_day >= ? ORDER BY r.from_day`, orgID, deptID, int(to), int(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Roster
	for rows.Next() {
		r, err := scanRoster(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) PublishedCovering(ctx context.Context, orgID, deptID string, from, to roster.Date) ([]roster.Roster, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+rosterCols+`, v.assignments FROM rosters r JOIN roster_versions v ON v.roster_id = r.id AND v.version = r.published_version
		WHERE r.org_id = ? AND r.department_id = ? AND r.published_version > 0 AND r.from_day <= ? AND r.to_day >= ? ORDER BY r.from_day`, orgID, deptID, int(to), int(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Roster
	for rows.Next() {
		var as string
		r, err := scanRoster(rows, &as)
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(as), &r.Assignments)
		out = append(out, r)
	}
	return out, rows.Err()
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilA(s []roster.Assignment) []roster.Assignment {
	if s == nil {
		return []roster.Assignment{}
	}
	return s
}
