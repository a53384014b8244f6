// Package sqlstore keeps the org chart in the Rounds SQL database (SQLite or
// PostgreSQL). It knows tables and transactions, not the rules of the tree:
// the orgchart service validates a change before it gets here, and the
// constraints (unique employee numbers, foreign keys) are the last line.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/orgchart"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Area is the migration area name.
const Area = "orgchart"

// Migrations returns the embedded migrations, for db.Migrate(ctx, Area, Migrations()).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Store implements orgchart.Store.
type Store struct{ db *sqldb.DB }

var _ orgchart.Store = (*Store)(nil)

// New returns a store on a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateOrg implements orgchart.Store.
func (s *Store) CreateOrg(ctx context.Context, o orgchart.Org) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO orgchart_orgs (id, code, name, version, created_at) VALUES (?, ?, ?, ?, ?)`,
		o.ID, o.Code, o.Name, o.Version, sqldb.Millis(o.CreatedAt))
	if sqldb.IsUniqueViolation(err) {
		return &core.Error{Code: core.EConflict, Field: "code", Message: "an organisation with code " + o.Code + " already exists"}
	}
	return core.Wrap(err, "cannot create the organisation")
}

// Orgs implements orgchart.Store.
func (s *Store) Orgs(ctx context.Context) ([]orgchart.Org, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, code, name, version, created_at FROM orgchart_orgs ORDER BY code`)
	if err != nil {
		return nil, core.Wrap(err, "cannot list organisations")
	}
	defer rows.Close()
	out := []orgchart.Org{}
	for rows.Next() {
		var o orgchart.Org
		var at int64
		if err := rows.Scan(&o.ID, &o.Code, &o.Name, &o.Version, &at); err != nil {
			return nil, core.Wrap(err, "cannot list organisations")
		}
		o.CreatedAt = sqldb.FromMillis(at)
		out = append(out, o)
	}
	return out, core.Wrap(rows.Err(), "cannot list organisations")
}

// LoadOrg implements orgchart.Store.
func (s *Store) LoadOrg(ctx context.Context, orgID string) (*orgchart.OrgData, error) {
	d := &orgchart.OrgData{}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT id, code, name, version, created_at FROM orgchart_orgs WHERE id = ?`, orgID).
		Scan(&d.Org.ID, &d.Org.Code, &d.Org.Name, &d.Org.Version, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "no such organisation")
	}
	if err != nil {
		return nil, core.Wrap(err, "cannot load the organisation")
	}
	d.Org.CreatedAt = sqldb.FromMillis(at)
	if err := s.loadDepartments(ctx, d); err != nil {
		return nil, err
	}
	if err := s.loadStaff(ctx, d); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM orgchart_duty_roles WHERE org_id = ? ORDER BY sort_order, name`, orgID)
	if err != nil {
		return nil, core.Wrap(err, "cannot load duty roles")
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, core.Wrap(err, "cannot load duty roles")
		}
		d.DutyRoles = append(d.DutyRoles, r)
	}
	return d, core.Wrap(rows.Err(), "cannot load duty roles")
}

func (s *Store) loadDepartments(ctx context.Context, d *orgchart.OrgData) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, parent_id, name, sort_order, created_at FROM orgchart_departments WHERE org_id = ?`, d.Org.ID)
	if err != nil {
		return core.Wrap(err, "cannot load departments")
	}
	defer rows.Close()
	for rows.Next() {
		var dep orgchart.Department
		var parent sql.NullString
		var at int64
		if err := rows.Scan(&dep.ID, &parent, &dep.Name, &dep.Order, &at); err != nil {
			return core.Wrap(err, "cannot load departments")
		}
		dep.OrgID, dep.ParentID, dep.CreatedAt = d.Org.ID, parent.String, sqldb.FromMillis(at)
		d.Departments = append(d.Departments, dep)
	}
	return core.Wrap(rows.Err(), "cannot load departments")
}

func (s *Store) loadStaff(ctx context.Context, d *orgchart.OrgData) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, employee_no, name, phone, email, position, title, status, primary_department_id, created_at, updated_at
		FROM orgchart_staff WHERE org_id = ?`, d.Org.ID)
	if err != nil {
		return core.Wrap(err, "cannot load staff")
	}
	idx := map[string]int{}
	for rows.Next() {
		var p orgchart.Staff
		var primary sql.NullString
		var status string
		var c, u int64
		if err := rows.Scan(&p.ID, &p.EmployeeNo, &p.Name, &p.Phone, &p.Email, &p.Position, &p.Title, &status, &primary, &c, &u); err != nil {
			rows.Close()
			return core.Wrap(err, "cannot load staff")
		}
		p.OrgID, p.Status, p.PrimaryDepartmentID = d.Org.ID, orgchart.Status(status), primary.String
		p.CreatedAt, p.UpdatedAt = sqldb.FromMillis(c), sqldb.FromMillis(u)
		p.DepartmentIDs, p.HeadOf, p.DutyRoles = []string{}, []string{}, []string{}
		idx[p.ID] = len(d.Staff)
		d.Staff = append(d.Staff, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return core.Wrap(err, "cannot load staff")
	}
	for _, q := range []struct {
		sql string
		add func(p *orgchart.Staff, v string)
	}{
		{`SELECT sd.user_id, sd.department_id FROM orgchart_staff_departments sd JOIN orgchart_staff s ON s.id = sd.user_id WHERE s.org_id = ? ORDER BY sd.department_id`,
			func(p *orgchart.Staff, v string) { p.DepartmentIDs = append(p.DepartmentIDs, v) }},
		{`SELECT h.user_id, h.department_id FROM orgchart_heads h JOIN orgchart_staff s ON s.id = h.user_id WHERE s.org_id = ? ORDER BY h.department_id`,
			func(p *orgchart.Staff, v string) { p.HeadOf = append(p.HeadOf, v) }},
		{`SELECT r.user_id, r.role FROM orgchart_duty_role_holders r JOIN orgchart_staff s ON s.id = r.user_id WHERE s.org_id = ? ORDER BY r.role`,
			func(p *orgchart.Staff, v string) { p.DutyRoles = append(p.DutyRoles, v) }},
	} {
		rows, err := s.db.QueryContext(ctx, q.sql, d.Org.ID)
		if err != nil {
			return core.Wrap(err, "cannot load staff")
		}
		for rows.Next() {
			var uid, v string
			if err := rows.Scan(&uid, &v); err != nil {
				rows.Close()
				return core.Wrap(err, "cannot load staff")
			}
			if i, ok := idx[uid]; ok {
				q.add(&d.Staff[i], v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return core.Wrap(err, "cannot load staff")
		}
	}
	return nil
}

// Apply implements orgchart.Store.
func (s *Store) Apply(ctx context.Context, c orgchart.Changes, inTx func(ctx context.Context) error) (int64, error) {
	var version int64
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE orgchart_orgs SET version = version + 1 WHERE id = ? AND version = ?`, c.OrgID, c.ExpectVersion)
		if err != nil {
			return core.Wrap(err, "cannot update the organisation")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var v int64
			if err := tx.QueryRowContext(ctx, `SELECT version FROM orgchart_orgs WHERE id = ?`, c.OrgID).Scan(&v); errors.Is(err, sql.ErrNoRows) {
				return core.Errorf(core.ENotFound, "no such organisation")
			}
			return orgchart.ErrStale
		}
		version = c.ExpectVersion + 1
		if c.DutyRoles != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM orgchart_duty_roles WHERE org_id = ?`, c.OrgID); err != nil {
				return core.Wrap(err, "cannot write duty roles")
			}
			for i, r := range c.DutyRoles {
				if _, err := tx.ExecContext(ctx, `INSERT INTO orgchart_duty_roles (org_id, name, sort_order) VALUES (?, ?, ?)`, c.OrgID, r, i); err != nil {
					return core.Wrap(err, "cannot write duty roles")
				}
			}
		}
		for _, d := range c.PutDepartments {
			_, err := tx.ExecContext(ctx, `INSERT INTO orgchart_departments (id, org_id, parent_id, name, sort_order, created_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name, sort_order = excluded.sort_order`,
				d.ID, c.OrgID, nullable(d.ParentID), d.Name, d.Order, sqldb.Millis(d.CreatedAt))
			if sqldb.IsForeignKeyViolation(err) {
				return core.Invalid("parent_id", "no department %s in this organisation", d.ParentID).With("department_id", d.ParentID)
			}
			if err != nil {
				return core.Wrap(err, "cannot write department %s", d.Name)
			}
		}
		for _, p := range c.PutStaff {
			if err := putStaff(ctx, tx, c.OrgID, p); err != nil {
				return err
			}
		}
		for _, id := range c.DeleteDepartments {
			_, err := tx.ExecContext(ctx, `DELETE FROM orgchart_departments WHERE id = ? AND org_id = ?`, id, c.OrgID)
			if sqldb.IsForeignKeyViolation(err) {
				return core.Errorf(core.EConflict, "department %s is still in use", id).With("department_id", id)
			}
			if err != nil {
				return core.Wrap(err, "cannot delete department %s", id)
			}
		}
		if inTx != nil {
			// The side effects (login accounts) write in this transaction.
			return inTx(tx.Context(ctx))
		}
		return nil
	})
	return version, err
}

func putStaff(ctx context.Context, tx *sqldb.Tx, orgID string, p orgchart.Staff) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO orgchart_staff (id, org_id, employee_no, employee_no_key, name, phone, email, position, title, status, primary_department_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET employee_no = excluded.employee_no, employee_no_key = excluded.employee_no_key, name = excluded.name,
			phone = excluded.phone, email = excluded.email, position = excluded.position, title = excluded.title, status = excluded.status,
			primary_department_id = excluded.primary_department_id, updated_at = excluded.updated_at`,
		p.ID, orgID, p.EmployeeNo, strings.ToLower(p.EmployeeNo), p.Name, p.Phone, p.Email, p.Position, p.Title, string(p.Status),
		nullable(p.PrimaryDepartmentID), sqldb.Millis(p.CreatedAt), sqldb.Millis(p.UpdatedAt))
	if sqldb.IsUniqueViolation(err) {
		return (&core.Error{Code: core.EConflict, Field: "employee_no", Message: "employee number " + p.EmployeeNo + " is already used"}).With("employee_no", p.EmployeeNo)
	}
	if sqldb.IsForeignKeyViolation(err) {
		return core.Invalid("primary_department_id", "no department %s in this organisation", p.PrimaryDepartmentID)
	}
	if err != nil {
		return core.Wrap(err, "cannot write staff %s", p.EmployeeNo)
	}
	for _, t := range []struct {
		table, col, field string
		vals              []string
	}{
		{"orgchart_staff_departments", "department_id", "department_ids", p.DepartmentIDs},
		{"orgchart_heads", "department_id", "head_of", p.HeadOf},
		{"orgchart_duty_role_holders", "role", "duty_roles", p.DutyRoles},
	} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE user_id = ?`, p.ID); err != nil {
			return core.Wrap(err, "cannot write staff %s", p.EmployeeNo)
		}
		for _, v := range t.vals {
			_, err := tx.ExecContext(ctx, `INSERT INTO `+t.table+` (user_id, `+t.col+`) VALUES (?, ?)`, p.ID, v)
			if sqldb.IsForeignKeyViolation(err) {
				return core.Invalid(t.field, "no department %s in this organisation", v).With("department_id", v)
			}
			if err != nil {
				return core.Wrap(err, "cannot write staff %s", p.EmployeeNo)
			}
		}
	}
	return nil
}

// PutGroup implements orgchart.Store.
func (s *Store) PutGroup(ctx context.Context, g orgchart.Group) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO orgchart_groups (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
			g.ID, g.Name, sqldb.Millis(g.CreatedAt))
		if err != nil {
			return core.Wrap(err, "cannot write the group")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orgchart_group_members WHERE group_id = ?`, g.ID); err != nil {
			return core.Wrap(err, "cannot write the group")
		}
		for _, m := range g.Members {
			_, err := tx.ExecContext(ctx, `INSERT INTO orgchart_group_members (group_id, org_id, share, department_ids) VALUES (?, ?, ?, ?)`,
				g.ID, m.OrgID, m.Share, strings.Join(m.DepartmentIDs, ","))
			if sqldb.IsForeignKeyViolation(err) {
				return core.Invalid("org_id", "no organisation %s", m.OrgID).With("org_id", m.OrgID)
			}
			if err != nil {
				return core.Wrap(err, "cannot write the group")
			}
		}
		return nil
	})
}

// Groups implements orgchart.Store.
func (s *Store) Groups(ctx context.Context) ([]orgchart.Group, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.name, g.created_at, m.org_id, m.share, m.department_ids
		FROM orgchart_groups g JOIN orgchart_group_members m ON m.group_id = g.id ORDER BY g.name, g.id, m.org_id`)
	if err != nil {
		return nil, core.Wrap(err, "cannot list groups")
	}
	defer rows.Close()
	out := []orgchart.Group{}
	for rows.Next() {
		var g orgchart.Group
		var m orgchart.GroupMember
		var at int64
		var depts string
		if err := rows.Scan(&g.ID, &g.Name, &at, &m.OrgID, &m.Share, &depts); err != nil {
			return nil, core.Wrap(err, "cannot list groups")
		}
		if depts != "" {
			m.DepartmentIDs = strings.Split(depts, ",")
		}
		if n := len(out); n == 0 || out[n-1].ID != g.ID {
			g.CreatedAt = sqldb.FromMillis(at)
			out = append(out, g)
		}
		out[len(out)-1].Members = append(out[len(out)-1].Members, m)
	}
	return out, core.Wrap(rows.Err(), "cannot list groups")
}
