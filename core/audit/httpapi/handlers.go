package audithttp

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/httpapi"
)

// Handlers serves the audit API.
type Handlers struct {
	Log *audit.Log
}

// New returns the handlers over l.
func New(l *audit.Log) *Handlers { return &Handlers{Log: l} }

const tag = "audit"

// Register adds the routes to rt.
func (h *Handlers) Register(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/audit", Tag: tag,
		Summary:  "List audit entries of an organisation, newest first (query: actor_id, action prefix, object_type, object_id, from, to as RFC 3339, cursor, limit; org * for every organisation)",
		Response: httpapi.List[audit.Entry]{}, Handler: h.list})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/audit/export", Tag: tag,
		Summary:  "Export audit entries oldest first as CSV or JSON lines (query: format=csv|jsonl and the list filters); the export is itself audited",
		Response: "", Handler: h.export})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/audit/verify", Tag: tag,
		Summary: "Verify the audit hash chain (system admins)", Response: audit.VerifyReport{}, Handler: h.verify})
}

// filter reads the list filters from the path and query.
func filter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{
		OrgID:      r.PathValue("org"),
		ActorID:    q.Get("actor_id"),
		Action:     q.Get("action"),
		ObjectType: q.Get("object_type"),
		ObjectID:   q.Get("object_id"),
	}
	if f.OrgID == "*" {
		f.OrgID = ""
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, core.Invalid(p.name, "%s must be an RFC 3339 time such as 2026-03-01T08:00:00+08:00", p.name)
			}
			*p.dst = t
		}
	}
	return f, nil
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	page, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	entries, next, err := h.Log.List(r.Context(), httpapi.Actor(r), f, page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[audit.Entry]{Items: entries, NextCursor: next})
	return nil
}

// lazyWriter sends the download headers with the first byte, so a refused
// export still gets the JSON error envelope.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	filename    string
	started     bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", l.contentType)
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", l.filename))
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}

func (h *Handlers) export(w http.ResponseWriter, r *http.Request) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = audit.FormatCSV
	}
	org := f.OrgID
	if org == "" {
		org = "all"
	}
	lw := &lazyWriter{w: w, contentType: "text/csv; charset=utf-8",
		filename: fmt.Sprintf("audit-%s-%s.%s", org, time.Now().UTC().Format("20060102-150405"), format)}
	if format == audit.FormatJSONL {
		lw.contentType = "application/x-ndjson"
	}
	err = h.Log.Export(r.Context(), httpapi.Actor(r), f, lw, format)
	if err != nil && !lw.started {
		return err
	}
	if err != nil {
		// Too late for an envelope. Ending the response normally would pass
		// a cut-short export off as complete, so drop the connection: the
		// client sees an incomplete body. (panic(http.ErrAbortHandler) would
		// be the usual way, but the router recovers panics.)
		slog.ErrorContext(r.Context(), "audit export failed midway", "err", err, "request_id", core.RequestID(r.Context()))
		if conn, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
			_ = conn.Close()
		}
		return nil
	}
	if !lw.started { // nothing matched and no CSV header: still a valid, empty download
		_, _ = lw.Write(nil)
	}
	return nil
}

func (h *Handlers) verify(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.Log.VerifyAs(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, rep)
	return nil
}
