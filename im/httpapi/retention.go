package imhttp

import (
	"bufio"
	"net/http"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

// RetentionPolicyRequest sets the caller's organisation's retention: days
// to keep messages and files (0 = forever). Both are required, so a client
// cannot switch purging off (or on) by leaving a field out.
type RetentionPolicyRequest struct {
	MessageDays *int `json:"message_days"`
	FileDays    *int `json:"file_days"`
}

// ExportBody selects an export: conversation_id, or user_id for everything
// the person sent or received; from and to (RFC 3339, to exclusive) limit
// the range; format is jsonl (default) or csv.
type ExportBody struct {
	ConversationID string          `json:"conversation_id,omitempty"`
	UserID         string          `json:"user_id,omitempty"`
	From           string          `json:"from,omitempty"`
	To             string          `json:"to,omitempty"`
	Format         im.ExportFormat `json:"format,omitempty"`
}

// ExportForm documents the export response: JSON lines of im.ExportRecord
// (application/x-ndjson) or CSV (text/csv), streamed as an attachment.
type ExportForm struct {
	Records []im.ExportRecord `json:"records"`
}

// registerRetention adds the org-admin routes for retention, legal holds
// and exports. Every route acts in the caller's own organisation.
func (h *Handlers) registerRetention(rt *httpapi.Router) {
	for _, r := range []httpapi.Route{
		{Method: "GET", Path: "/api/v1/im/retention", Summary: "My organisation's chat retention policy (org admins)", Response: im.RetentionPolicy{}, Handler: h.getRetention},
		{Method: "PUT", Path: "/api/v1/im/retention", Summary: "Set how many days chat messages and files are kept, 0 = forever (org admins; audited)", Request: RetentionPolicyRequest{}, Response: im.RetentionPolicy{}, Handler: h.setRetention},
		{Method: "GET", Path: "/api/v1/im/holds", Summary: "Legal holds of my organisation (?released=1 includes released ones; org admins)", Response: httpapi.List[im.LegalHold]{}, Handler: h.holds},
		{Method: "POST", Path: "/api/v1/im/holds", Summary: "Place a legal hold on a conversation or a person: retention will not purge it (org admins; audited)", Request: im.HoldRequest{}, Response: im.LegalHold{}, Status: http.StatusCreated, Handler: h.placeHold},
		{Method: "POST", Path: "/api/v1/im/holds/{id}/release", Summary: "Release a legal hold (org admins; audited)", Response: im.LegalHold{}, Handler: h.releaseHold},
		{Method: "POST", Path: "/api/v1/im/exports", Summary: "Export a conversation, or a person's sent and received messages in a date range, as JSON lines or CSV, streamed (org admins; audited)", Request: ExportBody{}, Response: ExportForm{}, Handler: h.export},
	} {
		r.Tag = tag
		r.Access = httpapi.Authenticated
		rt.Handle(r)
	}
}

func (h *Handlers) getRetention(w http.ResponseWriter, r *http.Request) error {
	a := httpapi.Actor(r)
	p, err := h.svc.RetentionPolicy(r.Context(), a, a.OrgID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *Handlers) setRetention(w http.ResponseWriter, r *http.Request) error {
	var req RetentionPolicyRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	a := httpapi.Actor(r)
	if req.MessageDays == nil || req.FileDays == nil {
		// Authorization first: staff learn nothing about the body's rules.
		if _, err := h.svc.RetentionPolicy(r.Context(), a, a.OrgID); err != nil {
			return err
		}
		if req.MessageDays == nil {
			return core.Invalid("message_days", "message_days is required (0 keeps messages forever)")
		}
		return core.Invalid("file_days", "file_days is required (0 keeps files forever)")
	}
	p, err := h.svc.SetRetentionPolicy(r.Context(), a, a.OrgID, *req.MessageDays, *req.FileDays)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *Handlers) holds(w http.ResponseWriter, r *http.Request) error {
	a := httpapi.Actor(r)
	released := false
	switch r.URL.Query().Get("released") {
	case "", "0", "false":
	case "1", "true":
		released = true
	default:
		return core.Invalid("released", "released must be 1 or 0")
	}
	hs, err := h.svc.Holds(r.Context(), a, a.OrgID, released)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[im.LegalHold]{Items: hs})
	return nil
}

func (h *Handlers) placeHold(w http.ResponseWriter, r *http.Request) error {
	var req im.HoldRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	a := httpapi.Actor(r)
	hold, err := h.svc.PlaceHold(r.Context(), a, a.OrgID, req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, hold)
	return nil
}

func (h *Handlers) releaseHold(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	a := httpapi.Actor(r)
	hold, err := h.svc.ReleaseHold(r.Context(), a, a.OrgID, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, hold)
	return nil
}

// exportWriter sends the download headers with the first byte, so an
// export refused before streaming still answers with the error envelope.
type exportWriter struct {
	w       http.ResponseWriter
	buf     *bufio.Writer
	format  im.ExportFormat
	started bool
}

func (e *exportWriter) Write(p []byte) (int, error) {
	if !e.started {
		e.start()
	}
	return e.buf.Write(p)
}

func (e *exportWriter) start() {
	e.started = true
	ctype, ext := "application/x-ndjson; charset=utf-8", "jsonl"
	if e.format == im.ExportCSV {
		ctype, ext = "text/csv; charset=utf-8", "csv"
	}
	hd := e.w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Disposition", `attachment; filename="rounds-chat-export-`+time.Now().UTC().Format("20060102T150405Z")+`.`+ext+`"`)
	hd.Set("Cache-Control", "no-store")
	e.w.WriteHeader(http.StatusOK)
	e.buf = bufio.NewWriterSize(e.w, 64<<10)
}

func (h *Handlers) export(w http.ResponseWriter, r *http.Request) error {
	var body ExportBody
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	req := im.ExportRequest{ConversationID: body.ConversationID, UserID: body.UserID, Format: body.Format}
	// Times are parsed here so a bad one is reported by its field name.
	for _, f := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", body.From, &req.From}, {"to", body.To, &req.To}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return core.Invalid(f.name, "%s must be an RFC 3339 time such as 2026-01-02T08:00:00+08:00", f.name)
		}
		*f.dst = t
	}
	if req.Format == "" {
		req.Format = im.ExportJSONL
	}
	// A large export outlives the server's write timeout; the client's
	// context still ends it.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	a := httpapi.Actor(r)
	ew := &exportWriter{w: w, format: req.Format}
	_, err := h.svc.Export(r.Context(), a, a.OrgID, req, ew)
	if err != nil && !ew.started {
		return err
	}
	if err == nil && !ew.started {
		ew.start() // an empty export is still a (empty) file
	}
	if err == nil {
		err = ew.buf.Flush()
	}
	if err != nil {
		// Headers are gone: drop the connection so the client sees a
		// broken download rather than a short file that looks complete.
		panic(http.ErrAbortHandler)
	}
	return nil
}
