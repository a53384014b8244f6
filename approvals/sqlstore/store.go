package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

//go:embed migrations/*.sql guard/sqlite/*.sql guard/postgres/*.sql
var migrations embed.FS

// Area is the migration area of the approvals tables (portable SQL).
const Area = "approvals"

// GuardArea is the migration area of the database-specific guards (the
// triggers that keep the timeline append-only), which cannot be written in
// SQL both databases accept.
const GuardArea = "approvals_guard"

// Migrations returns the embedded migrations for db.Migrate(ctx, Area, …).
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// GuardMigrations returns the guard migrations for a dialect, for
// db.Migrate(ctx, GuardArea, …) after Area.
func GuardMigrations(d sqldb.Dialect) fs.FS {
	dir := "guard/sqlite"
	if d == sqldb.Postgres {
		dir = "guard/postgres"
	}
	sub, _ := fs.Sub(migrations, dir)
	return sub
}

// Migrate applies both areas in order; it is what cmd/rounds calls.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	if err := db.Migrate(ctx, Area, Migrations()); err != nil {
		return err
	}
	return db.Migrate(ctx, GuardArea, GuardMigrations(db.Dialect))
}

// Store implements approvals.Store on a *sqldb.DB.
type Store struct {
	db *sqldb.DB
}

var _ approvals.Store = (*Store)(nil)

// New returns the store. The caller migrates first. On SQLite, concurrent
// actions share commits (sqldb's group commit); on PostgreSQL each action is
// its own transaction.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

func ms(t time.Time) int64 { return sqldb.Millis(t) }

func tm(v int64) time.Time { return sqldb.FromMillis(v) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are marshalled
	}
	return string(b)
}

// ---- templates ----

const templateCols = `id, org_id, code, version, name, description, category, schema_json, flow_json, created_by, created_at, disabled`

func scanTemplate(sc interface{ Scan(...any) error }) (*approvals.Template, error) {
	var t approvals.Template
	var sch, flow string
	var at int64
	if err := sc.Scan(&t.ID, &t.OrgID, &t.Code, &t.Version, &t.Name, &t.Description, &t.Category, &sch, &flow, &t.CreatedBy, &at, &t.Disabled); err != nil {
		return nil, err
	}
	t.CreatedAt = tm(at)
	if err := json.Unmarshal([]byte(sch), &t.Schema); err != nil {
		return nil, core.Wrap(err, "template %s: bad schema", t.ID)
	}
	if err := json.Unmarshal([]byte(flow), &t.Flow); err != nil {
		return nil, core.Wrap(err, "template %s: bad flow", t.ID)
	}
	return &t, nil
}

func (s *Store) CreateTemplate(ctx context.Context, t *approvals.Template) error {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM approval_templates WHERE org_id = ? AND code = ?`, t.OrgID, t.Code).Scan(&v); err != nil {
			return err
		}
		t.Version = v + 1
		_, err := tx.ExecContext(ctx, `INSERT INTO approval_templates (`+templateCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.OrgID, t.Code, t.Version, t.Name, t.Description, t.Category, mustJSON(t.Schema), mustJSON(t.Flow), t.CreatedBy, ms(t.CreatedAt), t.Disabled)
		return err
	})
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "template %s was saved by someone else at the same moment; try again", t.Code)
	}
	return core.Wrap(err, "save template")
}

func (s *Store) Template(ctx context.Context, orgID, id string) (*approvals.Template, error) {
	t, err := scanTemplate(s.db.QueryRowContext(ctx, `SELECT `+templateCols+` FROM approval_templates WHERE org_id = ? AND id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "no such template")
	}
	return t, core.Wrap(err, "read template")
}

func (s *Store) LatestTemplate(ctx context.Context, orgID, code string) (*approvals.Template, error) {
	t, err := scanTemplate(s.db.QueryRowContext(ctx, `SELECT `+templateCols+` FROM approval_templates WHERE org_id = ? AND code = ? ORDER BY version DESC LIMIT 1`, orgID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "no template %q", code)
	}
	return t, core.Wrap(err, "read template")
}

func (s *Store) templates(ctx context.Context, q string, args ...any) ([]approvals.Template, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, core.Wrap(err, "list templates")
	}
	defer rows.Close()
	out := []approvals.Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, core.Wrap(err, "list templates")
		}
		out = append(out, *t)
	}
	return out, core.Wrap(rows.Err(), "list templates")
}

func (s *Store) Templates(ctx context.Context, orgID string) ([]approvals.Template, error) {
	return s.templates(ctx, `SELECT `+templateCols+` FROM approval_templates t WHERE org_id = ?
		AND version = (SELECT MAX(version) FROM approval_templates m WHERE m.org_id = t.org_id AND m.code = t.code) ORDER BY code`, orgID)
}

func (s *Store) TemplateVersions(ctx context.Context, orgID, code string) ([]approvals.Template, error) {
	out, err := s.templates(ctx, `SELECT `+templateCols+` FROM approval_templates WHERE org_id = ? AND code = ? ORDER BY version DESC`, orgID, code)
	if err == nil && len(out) == 0 {
		return nil, core.Errorf(core.ENotFound, "no template %q", code)
	}
	return out, err
}

// ---- requests ----

const requestCols = `r.id, r.org_id, r.template_id, r.template_code, r.template_version, r.title, r.submitter_id, r.dept_id, r.status,
	r.form_json, r.chosen_json, r.route_json, r.cursor_pos, r.round, r.activation, r.last_approvers, r.urged_at, r.seq, r.version,
	r.created_at, r.updated_at, r.finished_at`

func scanRequest(sc interface{ Scan(...any) error }, extra ...any) (*approvals.Request, error) {
	var r approvals.Request
	var form, chosen, route, last string
	var urged, created, updated, finished int64
	dst := []any{&r.ID, &r.OrgID, &r.TemplateID, &r.TemplateCode, &r.TemplateVersion, &r.Title, &r.SubmitterID, &r.DeptID, &r.Status,
		&form, &chosen, &route, &r.Cursor, &r.Round, &r.Activation, &last, &urged, &r.Seq, &r.Version, &created, &updated, &finished}
	if err := sc.Scan(append(dst, extra...)...); err != nil {
		return nil, err
	}
	r.UrgedAt, r.CreatedAt, r.UpdatedAt, r.FinishedAt = tm(urged), tm(created), tm(updated), tm(finished)
	for _, p := range []struct {
		s string
		v any
	}{{form, &r.Form}, {chosen, &r.Chosen}, {route, &r.Route}, {last, &r.LastApprovers}} {
		if err := json.Unmarshal([]byte(p.s), p.v); err != nil {
			return nil, core.Wrap(err, "request %s: bad stored JSON", r.ID)
		}
	}
	return &r, nil
}

// searchText is what the list search matches: the title and every text
// value of the form, lower-cased.
func searchText(r *approvals.Request) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Title))
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteByte(' ')
			b.WriteString(strings.ToLower(x))
		case []string:
			for _, s := range x {
				walk(s)
			}
		case []any:
			for _, s := range x {
				walk(s)
			}
		case []map[string]any:
			for _, m := range x {
				walk(m)
			}
		case map[string]any:
			for _, s := range x {
				walk(s)
			}
		}
	}
	for _, v := range r.Form {
		walk(v)
	}
	s := b.String()
	if len(s) > 4000 {
		s = s[:4000]
	}
	return strings.ToValidUTF8(s, "")
}

func (s *Store) Request(ctx context.Context, orgID, id string) (*approvals.Request, error) {
	return getRequest(ctx, s.db, orgID, id)
}

func getRequest(ctx context.Context, q sqldb.Querier, orgID, id string) (*approvals.Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM approval_requests r WHERE r.org_id = ? AND r.id = ?`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "no such request")
	}
	return r, core.Wrap(err, "read request")
}

const taskCols = `id, org_id, request_id, node, step_index, activation, ord, assignee_id, on_behalf_of, state, comment, created_at, due_at, acted_at, reminded_at, escalated`

func scanTasks(rows *sql.Rows, err error) ([]approvals.Task, error) {
	if err != nil {
		return nil, core.Wrap(err, "read tasks")
	}
	defer rows.Close()
	out := []approvals.Task{}
	for rows.Next() {
		var t approvals.Task
		var c, d, a, r int64
		if err := rows.Scan(&t.ID, &t.OrgID, &t.RequestID, &t.Node, &t.StepIndex, &t.Activation, &t.Order, &t.AssigneeID, &t.OnBehalfOf,
			&t.State, &t.Comment, &c, &d, &a, &r, &t.Escalated); err != nil {
			return nil, core.Wrap(err, "read tasks")
		}
		t.CreatedAt, t.DueAt, t.ActedAt, t.RemindedAt = tm(c), tm(d), tm(a), tm(r)
		out = append(out, t)
	}
	return out, core.Wrap(rows.Err(), "read tasks")
}

func (s *Store) Tasks(ctx context.Context, requestID string) ([]approvals.Task, error) {
	return scanTasks(s.db.QueryContext(ctx, `SELECT `+taskCols+` FROM approval_tasks WHERE request_id = ? ORDER BY activation, ord, created_at, id`, requestID))
}

func (s *Store) Timeline(ctx context.Context, requestID string) ([]approvals.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, request_id, seq, at, actor_id, action, node, comment, attachments, details_json
		FROM approval_timeline WHERE request_id = ? ORDER BY seq`, requestID)
	if err != nil {
		return nil, core.Wrap(err, "read timeline")
	}
	defer rows.Close()
	out := []approvals.Entry{}
	for rows.Next() {
		var e approvals.Entry
		var at int64
		var att, det string
		if err := rows.Scan(&e.ID, &e.RequestID, &e.Seq, &at, &e.ActorID, &e.Action, &e.Node, &e.Comment, &att, &det); err != nil {
			return nil, core.Wrap(err, "read timeline")
		}
		e.At = tm(at)
		_ = json.Unmarshal([]byte(att), &e.Attachments)
		_ = json.Unmarshal([]byte(det), &e.Details)
		out = append(out, e)
	}
	return out, core.Wrap(rows.Err(), "read timeline")
}

func (s *Store) CCs(ctx context.Context, requestID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id FROM approval_cc WHERE request_id = ? ORDER BY created_at, user_id`, requestID)
	if err != nil {
		return nil, core.Wrap(err, "read cc")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, core.Wrap(err, "read cc")
		}
		out = append(out, u)
	}
	return out, core.Wrap(rows.Err(), "read cc")
}

func (s *Store) List(ctx context.Context, orgID, userID string, kind approvals.ListKind, f approvals.Filter, p core.PageRequest) ([]approvals.ListItem, string, error) {
	p = p.Normalize(20)
	var q strings.Builder
	args := []any{}
	taskCol := "''"
	from := "approval_requests r"
	var where []string
	where = append(where, "r.org_id = ?")
	args = append(args, orgID)
	switch kind {
	case approvals.ListPending:
		taskCol = "t.id"
		from = "approval_tasks t JOIN approval_requests r ON r.id = t.request_id"
		where = append(where, "t.assignee_id = ?", "t.state = 'pending'")
		args = append(args, userID)
	case approvals.ListDone:
		where = append(where, "EXISTS (SELECT 1 FROM approval_tasks d WHERE d.request_id = r.id AND d.assignee_id = ? AND d.state IN ('approved','rejected','transferred'))")
		args = append(args, userID)
	case approvals.ListSubmitted:
		where = append(where, "r.submitter_id = ?")
		args = append(args, userID)
	case approvals.ListCC:
		from = "approval_cc c JOIN approval_requests r ON r.id = c.request_id"
		where = append(where, "c.user_id = ?")
		args = append(args, userID)
	case approvals.ListOrg:
	default:
		return nil, "", core.Invalid("list", "unknown list %q", kind)
	}
	if f.Status != "" {
		where = append(where, "r.status = ?")
		args = append(args, string(f.Status))
	}
	if f.TemplateCode != "" {
		where = append(where, "r.template_code = ?")
		args = append(args, f.TemplateCode)
	}
	if !f.From.IsZero() {
		where = append(where, "r.created_at >= ?")
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "r.created_at < ?")
		args = append(args, ms(f.To))
	}
	if len(f.DeptIDs) > 0 {
		where = append(where, "r.dept_id IN (?"+strings.Repeat(", ?", len(f.DeptIDs)-1)+")")
		for _, d := range f.DeptIDs {
			args = append(args, d)
		}
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(qs))
		where = append(where, `r.search_text LIKE ? ESCAPE '\'`)
		args = append(args, "%"+esc+"%")
	}
	if p.Cursor != "" {
		at, id, err := approvals.DecodeListCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(r.created_at < ? OR (r.created_at = ? AND r.id < ?))")
		args = append(args, at, at, id)
	}
	q.WriteString("SELECT " + requestCols + ", " + taskCol + " FROM " + from + " WHERE " + strings.Join(where, " AND "))
	q.WriteString(" ORDER BY r.created_at DESC, r.id DESC LIMIT ?")
	args = append(args, p.Limit+1)
	rows, err := s.db.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, "", core.Wrap(err, "list requests")
	}
	defer rows.Close()
	out := []approvals.ListItem{}
	for rows.Next() {
		var task string
		r, err := scanRequest(rows, &task)
		if err != nil {
			return nil, "", core.Wrap(err, "list requests")
		}
		out = append(out, approvals.ListItem{Request: *r, TaskID: task})
	}
	if err := rows.Err(); err != nil {
		return nil, "", core.Wrap(err, "list requests")
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		last := out[len(out)-1]
		next = approvals.ListCursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

func (s *Store) DueTasks(ctx context.Context, now time.Time, limit int) ([]approvals.Task, error) {
	return scanTasks(s.db.QueryContext(ctx, `SELECT `+taskCols+` FROM approval_tasks WHERE state = 'pending' AND due_at > 0 AND due_at <= ? ORDER BY due_at, id LIMIT ?`, ms(now), limit))
}

func (s *Store) OpenTasksOf(ctx context.Context, orgID, userID string) ([]approvals.Task, error) {
	return scanTasks(s.db.QueryContext(ctx, `SELECT `+taskCols+` FROM approval_tasks WHERE org_id = ? AND assignee_id = ? AND state IN ('pending', 'waiting') ORDER BY created_at, id`, orgID, userID))
}

// ---- delegations ----

func (s *Store) PutDelegation(ctx context.Context, d approvals.Delegation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO approval_delegations (id, org_id, user_id, delegate_id, starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.OrgID, d.UserID, d.DelegateID, ms(d.Start), ms(d.End), ms(d.CreatedAt))
	return core.Wrap(err, "save delegation")
}

func (s *Store) DeleteDelegation(ctx context.Context, orgID, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM approval_delegations WHERE org_id = ? AND user_id = ? AND id = ?`, orgID, userID, id)
	if err != nil {
		return core.Wrap(err, "delete delegation")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "no such delegation")
	}
	return nil
}

func (s *Store) Delegations(ctx context.Context, orgID, userID string) ([]approvals.Delegation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, user_id, delegate_id, starts_at, ends_at, created_at FROM approval_delegations
		WHERE org_id = ? AND user_id = ? ORDER BY starts_at, id`, orgID, userID)
	if err != nil {
		return nil, core.Wrap(err, "list delegations")
	}
	defer rows.Close()
	out := []approvals.Delegation{}
	for rows.Next() {
		var d approvals.Delegation
		var st, en, c int64
		if err := rows.Scan(&d.ID, &d.OrgID, &d.UserID, &d.DelegateID, &st, &en, &c); err != nil {
			return nil, core.Wrap(err, "list delegations")
		}
		d.Start, d.End, d.CreatedAt = tm(st), tm(en), tm(c)
		out = append(out, d)
	}
	return out, core.Wrap(rows.Err(), "list delegations")
}

// ---- transactions ----

func (s *Store) Update(ctx context.Context, fn func(tx approvals.Tx) error) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error { return fn(&storeTx{tx: tx}) })
}

type storeTx struct{ tx *sqldb.Tx }

func (t *storeTx) ClaimRequest(ctx context.Context, orgID, id string) (*approvals.Request, error) {
	r, err := getRequest(ctx, t.tx, orgID, id)
	if err != nil {
		return nil, err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE approval_requests SET version = version + 1 WHERE id = ? AND version = ?`, id, r.Version)
	if err != nil {
		return nil, core.Wrap(err, "claim request")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, approvals.ErrStale
	}
	r.Version++
	return r, nil
}

func (t *storeTx) InsertRequest(ctx context.Context, r *approvals.Request) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO approval_requests (id, org_id, template_id, template_code, template_version, title, submitter_id, dept_id, status,
		form_json, chosen_json, route_json, cursor_pos, round, activation, last_approvers, urged_at, seq, version, search_text, created_at, updated_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.TemplateID, r.TemplateCode, r.TemplateVersion, r.Title, r.SubmitterID, r.DeptID, string(r.Status),
		mustJSON(r.Form), mustJSON(r.Chosen), mustJSON(r.Route), r.Cursor, r.Round, r.Activation, mustJSON(r.LastApprovers), ms(r.UrgedAt), r.Seq, r.Version,
		searchText(r), ms(r.CreatedAt), ms(r.UpdatedAt), ms(r.FinishedAt))
	return core.Wrap(err, "insert request")
}

func (t *storeTx) SaveRequest(ctx context.Context, r *approvals.Request) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE approval_requests SET dept_id = ?, status = ?, form_json = ?, chosen_json = ?, route_json = ?, cursor_pos = ?, round = ?,
		activation = ?, last_approvers = ?, urged_at = ?, seq = ?, search_text = ?, updated_at = ?, finished_at = ? WHERE id = ? AND version = ?`,
		r.DeptID, string(r.Status), mustJSON(r.Form), mustJSON(r.Chosen), mustJSON(r.Route), r.Cursor, r.Round, r.Activation, mustJSON(r.LastApprovers),
		ms(r.UrgedAt), r.Seq, searchText(r), ms(r.UpdatedAt), ms(r.FinishedAt), r.ID, r.Version)
	return core.Wrap(err, "save request")
}

func (t *storeTx) Tasks(ctx context.Context, requestID string) ([]approvals.Task, error) {
	return scanTasks(t.tx.QueryContext(ctx, `SELECT `+taskCols+` FROM approval_tasks WHERE request_id = ? ORDER BY activation, ord, created_at, id`, requestID))
}

func (t *storeTx) InsertTask(ctx context.Context, k *approvals.Task) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO approval_tasks (`+taskCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.RequestID, k.Node, k.StepIndex, k.Activation, k.Order, k.AssigneeID, k.OnBehalfOf, string(k.State), k.Comment,
		ms(k.CreatedAt), ms(k.DueAt), ms(k.ActedAt), ms(k.RemindedAt), k.Escalated)
	return core.Wrap(err, "insert task")
}

func (t *storeTx) UpdateTask(ctx context.Context, k *approvals.Task) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE approval_tasks SET state = ?, comment = ?, due_at = ?, acted_at = ?, reminded_at = ?, escalated = ?, assignee_id = ?, on_behalf_of = ?
		WHERE id = ?`, string(k.State), k.Comment, ms(k.DueAt), ms(k.ActedAt), ms(k.RemindedAt), k.Escalated, k.AssigneeID, k.OnBehalfOf, k.ID)
	return core.Wrap(err, "update task")
}

func (t *storeTx) AppendTimeline(ctx context.Context, entries ...approvals.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO approval_timeline (id, request_id, seq, at, actor_id, action, node, comment, attachments, details_json) VALUES `)
	args := make([]any, 0, len(entries)*10)
	for i, e := range entries {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		att := "[]"
		if len(e.Attachments) > 0 {
			att = mustJSON(e.Attachments)
		}
		det := "{}"
		if len(e.Details) > 0 {
			det = mustJSON(e.Details)
		}
		args = append(args, e.ID, e.RequestID, e.Seq, ms(e.At), e.ActorID, e.Action, e.Node, e.Comment, att, det)
	}
	_, err := t.tx.ExecContext(ctx, q.String(), args...)
	if sqldb.IsUniqueViolation(err) {
		return approvals.ErrStale
	}
	return core.Wrap(err, "append timeline")
}

func (t *storeTx) AddCC(ctx context.Context, orgID, requestID string, users []string, at time.Time) error {
	if len(users) == 0 {
		return nil
	}
	args := make([]any, 0, len(users)*4)
	for _, u := range users {
		args = append(args, requestID, u, orgID, ms(at))
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO approval_cc (request_id, user_id, org_id, created_at) VALUES (?, ?, ?, ?)`+
		strings.Repeat(", (?, ?, ?, ?)", len(users)-1)+` ON CONFLICT (request_id, user_id) DO NOTHING`, args...)
	return core.Wrap(err, "add cc")
}

func (s *Store) Outcome(ctx context.Context, orgID, actorID, actionID string) (*approvals.Outcome, error) {
	return readOutcome(ctx, s.db, orgID, actorID, actionID)
}

func (t *storeTx) Outcome(ctx context.Context, orgID, actorID, actionID string) (*approvals.Outcome, error) {
	return readOutcome(ctx, t.tx, orgID, actorID, actionID)
}

func readOutcome(ctx context.Context, q sqldb.Querier, orgID, actorID, actionID string) (*approvals.Outcome, error) {
	var s string
	err := q.QueryRowContext(ctx, `SELECT outcome_json FROM approval_outcomes WHERE org_id = ? AND actor_id = ? AND action_id = ?`, orgID, actorID, actionID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Wrap(err, "read outcome")
	}
	var o approvals.Outcome
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, core.Wrap(err, "read outcome")
	}
	return &o, nil
}

func (t *storeTx) SaveOutcome(ctx context.Context, orgID, actorID string, o approvals.Outcome, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO approval_outcomes (org_id, actor_id, action_id, outcome_json, created_at) VALUES (?, ?, ?, ?, ?)`,
		orgID, actorID, o.ActionID, mustJSON(o), ms(at))
	if sqldb.IsUniqueViolation(err) {
		// The same action id raced with itself (a retry sent while the first
		// try was still running): let the service retry and replay.
		return approvals.ErrStale
	}
	return core.Wrap(err, "save outcome")
}

func (t *storeTx) ActiveDelegate(ctx context.Context, orgID, userID string, at time.Time) (string, error) {
	var d string
	err := t.tx.QueryRowContext(ctx, `SELECT delegate_id FROM approval_delegations WHERE org_id = ? AND user_id = ? AND starts_at <= ? AND ends_at > ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, orgID, userID, ms(at), ms(at)).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return d, core.Wrap(err, "read delegation")
}

// ---- the notice outbox ----

func (t *storeTx) AddNotices(ctx context.Context, ns ...approvals.Notice) error {
	for _, n := range ns {
		task := 0
		if n.Task {
			task = 1
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO approval_notices (id, org_id, request_id, task, reason, recipients, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.OrgID, n.RequestID, task, n.Reason, mustJSON(n.Recipients), ms(n.CreatedAt)); err != nil {
			return core.Wrap(err, "queue notice")
		}
	}
	return nil
}

func (s *Store) Notices(ctx context.Context, before time.Time, limit int) ([]approvals.Notice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, request_id, task, reason, recipients, created_at FROM approval_notices
		WHERE created_at < ? ORDER BY created_at, id LIMIT ?`, ms(before), limit)
	if err != nil {
		return nil, core.Wrap(err, "notices")
	}
	defer rows.Close()
	var out []approvals.Notice
	for rows.Next() {
		var n approvals.Notice
		var task int
		var recipients string
		var at int64
		if err := rows.Scan(&n.ID, &n.OrgID, &n.RequestID, &task, &n.Reason, &recipients, &at); err != nil {
			return nil, core.Wrap(err, "notices")
		}
		if err := json.Unmarshal([]byte(recipients), &n.Recipients); err != nil {
			return nil, core.Wrap(err, "notice recipients")
		}
		n.Task, n.CreatedAt = task == 1, tm(at)
		out = append(out, n)
	}
	return out, core.Wrap(rows.Err(), "notices")
}

// DeleteNotices deletes in chunks of 256, 128 … 1 ids, each one statement,
// so a few statement texts serve every count (prepared statements are kept
// per text).
func (s *Store) DeleteNotices(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		n := 256
		for n > len(ids) {
			n /= 2
		}
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM approval_notices WHERE id IN (`+sqldb.Marks(n)+`)`, args...); err != nil {
			return core.Wrap(err, "delete notices")
		}
		ids = ids[n:]
	}
	return nil
}
