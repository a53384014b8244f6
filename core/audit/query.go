package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

func (f Filter) validate() error {
	for name, v := range map[string]string{"org_id": f.OrgID, "actor_id": f.ActorID, "action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID} {
		if len(v) > 200 {
			return core.Invalid(name, "%s is longer than 200 characters", name)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return core.Invalid("from", "from must be before to")
	}
	return nil
}

// where builds the SQL condition for f.
func (f Filter) where() (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	eq("org_id", f.OrgID)
	eq("actor_id", f.ActorID)
	eq("object_type", f.ObjectType)
	eq("object_id", f.ObjectID)
	if f.Action != "" {
		// substr rather than LIKE: no wildcard escaping, and the same
		// case-sensitive comparison on SQLite and PostgreSQL.
		conds = append(conds, "substr(action, 1, ?) = ?")
		args = append(args, len(f.Action), f.Action)
	}
	if !f.From.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, sqldb.Millis(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "at < ?")
		args = append(args, sqldb.Millis(f.To))
	}
	return strings.Join(conds, " AND "), args
}

type cursor struct {
	Seq int64 `json:"s"`
}

// List returns entries matching f, newest first, one page at a time. a needs
// "audit.log" "read" in f.OrgID; with no OrgID the whole installation's log
// is read, which needs a system admin.
func (l *Log) List(ctx context.Context, a core.Actor, f Filter, page core.PageRequest) ([]Entry, string, error) {
	if err := f.validate(); err != nil {
		return nil, "", err
	}
	if err := l.authorize(ctx, a, f.OrgID, "read"); err != nil {
		return nil, "", err
	}
	page = page.Normalize(50)
	var c cursor
	if err := core.DecodeCursor(page.Cursor, &c); err != nil {
		return nil, "", err
	}
	where, args := f.where()
	if c.Seq > 0 {
		where += " AND seq < ?"
		args = append(args, c.Seq)
	}
	args = append(args, page.Limit+1)
	rows, err := l.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM audit_entries WHERE `+where+` ORDER BY seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", core.Wrap(err, "could not read the audit log")
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return nil, "", core.Wrap(err, "could not read the audit log")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", core.Wrap(err, "could not read the audit log")
	}
	next := ""
	if len(out) > page.Limit {
		out = out[:page.Limit]
		next = core.EncodeCursor(cursor{Seq: out[len(out)-1].Seq})
	}
	return out, next, nil
}

// CSVHeader is the first line of a CSV export.
var CSVHeader = []string{"seq", "id", "at", "org_id", "actor_id", "actor_kind", "app_id", "ip", "action",
	"object_type", "object_id", "result", "details", "prev_hash", "hash"}

// Export writes every entry matching f to w, oldest first, as CSV (with a
// header line; cells that a spreadsheet would run as formulas start with an
// apostrophe) or JSON lines (values exactly as stored), streaming. a needs "audit.log" "export" in
// f.OrgID (system admin without one). The export is itself audited
// ("audit.export") before the first byte is written, so an export cut short
// is recorded too. Nothing is written to w when the request is refused
// (the refusal is recorded, with result denied).
func (l *Log) Export(ctx context.Context, a core.Actor, f Filter, w io.Writer, format string) error {
	if format != FormatCSV && format != FormatJSONL {
		return core.Invalid("format", "format must be csv or jsonl, not %q", format)
	}
	if err := f.validate(); err != nil {
		return err
	}
	details := map[string]any{"format": format}
	for k, v := range map[string]string{"actor_id": f.ActorID, "action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID} {
		if v != "" {
			details[k] = v
		}
	}
	if !f.From.IsZero() {
		details["from"] = f.From.UTC().Format(time.RFC3339Nano)
	}
	if !f.To.IsZero() {
		details["to"] = f.To.UTC().Format(time.RFC3339Nano)
	}
	rec := Entry{
		OrgID: f.OrgID, ActorID: a.UserID, ActorKind: string(a.Kind), AppID: a.AppID, IP: a.IP,
		Action: "audit.export", ObjectType: "audit.log", ObjectID: f.OrgID, Result: ResultOK, Details: details,
	}
	if err := l.authorize(ctx, a, f.OrgID, "export"); err != nil {
		// A refused export is worth knowing about too.
		rec.Result = ResultDenied
		if rerr := l.Record(ctx, rec); rerr != nil {
			return rerr
		}
		return err
	}
	if err := l.Record(ctx, rec); err != nil {
		return err
	}
	where, args := f.where()
	rows, err := l.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM audit_entries WHERE `+where+` ORDER BY seq`, args...)
	if err != nil {
		return core.Wrap(err, "could not read the audit log")
	}
	defer rows.Close()
	var cw *csv.Writer
	var jw *json.Encoder
	if format == FormatCSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
	} else {
		jw = json.NewEncoder(w)
	}
	for rows.Next() {
		e, details, err := scanEntry(rows)
		if err != nil {
			return core.Wrap(err, "could not read the audit log")
		}
		if cw != nil {
			rec := []string{strconv.FormatInt(e.Seq, 10), e.ID, e.At.Format(time.RFC3339Nano), e.OrgID,
				e.ActorID, e.ActorKind, e.AppID, e.IP, e.Action, e.ObjectType, e.ObjectID, e.Result, details, e.PrevHash, e.Hash}
			for i := range rec {
				rec[i] = inertCell(rec[i])
			}
			err = cw.Write(rec)
		} else {
			err = jw.Encode(e)
		}
		if err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return core.Wrap(err, "could not read the audit log")
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

// inertCell keeps a spreadsheet from running a cell as a formula: auditors
// open CSV exports in Excel or WPS, and fields such as object ids come from
// users. A leading apostrophe is what spreadsheets themselves use to mark
// text (OWASP "CSV injection"). JSON lines carry the values unchanged.
func inertCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
