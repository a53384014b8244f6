package approvals

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// MaxExportRows caps one export.
const MaxExportRows = 100000

var exportHeader = []string{"id", "template", "version", "title", "submitter_id", "dept_id", "status", "submitted_at", "finished_at", "form"}

// Export writes the org's requests matching f as CSV or XLSX ("csv",
// "xlsx"). Org admins with the export permission only; audited.
func (s *Service) Export(ctx context.Context, f Filter, format string, w io.Writer) error {
	a, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if format != "csv" && format != "xlsx" {
		return core.Invalid("format", "format is csv or xlsx")
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionExport); err != nil {
		s.record(ctx, a, "approvals.request.export", "approval_request", "", audit.ResultDenied, nil)
		return err
	}
	var rows [][]string
	cursor := ""
	for len(rows) < MaxExportRows {
		items, next, err := s.store.List(ctx, a.OrgID, "", ListOrg, f, core.PageRequest{Cursor: cursor, Limit: core.MaxPageLimit})
		if err != nil {
			return err
		}
		for _, it := range items {
			form, _ := json.Marshal(it.Form)
			fin := ""
			if !it.FinishedAt.IsZero() {
				fin = it.FinishedAt.Format(time.RFC3339)
			}
			rows = append(rows, []string{it.ID, it.TemplateCode, itoa(it.TemplateVersion), it.Title, it.SubmitterID, it.DeptID,
				string(it.Status), it.CreatedAt.Format(time.RFC3339), fin, string(form)})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	s.record(ctx, a, "approvals.request.export", "approval_request", "", audit.ResultOK, map[string]any{"format": format, "rows": len(rows)})
	if format == "csv" {
		cw := csv.NewWriter(w)
		if err := cw.Write(exportHeader); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(safeCells(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	x := excelize.NewFile()
	defer x.Close()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		return core.Wrap(err, "xlsx")
	}
	write := func(i int, r []string) error {
		cells := make([]any, len(r))
		for j, c := range r {
			cells[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i)
		return sw.SetRow(cell, cells)
	}
	if err := write(1, exportHeader); err != nil {
		return core.Wrap(err, "xlsx")
	}
	for i, r := range rows {
		if err := write(i+2, r); err != nil {
			return core.Wrap(err, "xlsx")
		}
	}
	if err := sw.Flush(); err != nil {
		return core.Wrap(err, "xlsx")
	}
	_, err = x.WriteTo(w)
	return err
}

// safeCells defuses spreadsheet formulas in user-written text (CSV
// injection): a cell starting with = + - @ gets a leading apostrophe.
func safeCells(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@') {
			c = "'" + c
		}
		out[i] = c
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
