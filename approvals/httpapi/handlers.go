package approvalshttp

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
)

// Handlers serves the approvals API.
type Handlers struct{ svc *approvals.Service }

// New returns the handlers for svc.
func New(svc *approvals.Service) *Handlers { return &Handlers{svc: svc} }

const tag = "approvals"

// Register mounts every approvals route on rt.
func (h *Handlers) Register(rt *httpapi.Router) {
	route := func(method, path, summary string, req, resp any, status int, fn httpapi.HandlerFunc) {
		rt.Handle(httpapi.Route{Method: method, Path: path, Summary: summary, Tag: tag, Access: httpapi.Authenticated,
			Request: req, Response: resp, Status: status, Handler: fn})
	}
	route("GET", "/api/v1/approvals/templates", "List the newest version of every approval template", nil, httpapi.List[approvals.Template]{}, 0, h.listTemplates)
	route("POST", "/api/v1/approvals/templates", "Create a template or a new version of one (admins)", approvals.TemplateInput{}, approvals.Template{}, http.StatusCreated, h.saveTemplate)
	route("GET", "/api/v1/approvals/templates/{code}", "Get a template (newest version, or ?version=N)", nil, approvals.Template{}, 0, h.getTemplate)
	route("GET", "/api/v1/approvals/templates/{code}/versions", "List every version of a template, newest first (admins)", nil, httpapi.List[approvals.Template]{}, 0, h.templateVersions)
	route("PUT", "/api/v1/approvals/templates/{code}/flow", "Save a new flow for a template as a new version (admins)", approvals.Flow{}, approvals.Template{}, 0, h.saveFlow)

	route("POST", "/api/v1/approvals/requests", "Submit an approval request", approvals.SubmitInput{}, approvals.Outcome{}, http.StatusCreated, h.submit)
	route("GET", "/api/v1/approvals/requests/{id}/card", "The chat card of a request as the reader sees it (their actions included)", nil, approvals.Card{}, 0, h.card)
	route("GET", "/api/v1/approvals/requests", "List the organisation's requests (admins; department heads see their subtree)", nil, httpapi.List[approvals.ListItem]{}, 0, h.list(approvals.ListOrg))
	route("GET", "/api/v1/approvals/requests/{id}", "Get a request with its tasks, timeline and CC list", nil, approvals.View{}, 0, h.get)
	route("POST", "/api/v1/approvals/requests/{id}/approve", "Approve my task on the request", approvals.ActionInput{}, approvals.Outcome{}, 0, h.approve)
	route("POST", "/api/v1/approvals/requests/{id}/reject", "Reject my task, to the submitter or the previous step", approvals.RejectInput{}, approvals.Outcome{}, 0, h.reject)
	route("POST", "/api/v1/approvals/requests/{id}/transfer", "Hand my task to someone else", approvals.TransferInput{}, approvals.Outcome{}, 0, h.transfer)
	route("POST", "/api/v1/approvals/requests/{id}/add-signer", "Add a signer before or after my step", approvals.AddSignerInput{}, approvals.Outcome{}, 0, h.addSigner)
	route("POST", "/api/v1/approvals/requests/{id}/withdraw", "Withdraw my pending request", approvals.ActionInput{}, approvals.Outcome{}, 0, h.withdraw)
	route("POST", "/api/v1/approvals/requests/{id}/comment", "Comment on a request, with attachments", approvals.ActionInput{}, approvals.Outcome{}, 0, h.comment)
	route("POST", "/api/v1/approvals/requests/{id}/urge", "Urge the current approvers (rate-limited)", approvals.ActionInput{}, approvals.Outcome{}, 0, h.urge)
	route("POST", "/api/v1/approvals/requests/{id}/resubmit", "Resubmit a rejected or withdrawn request", approvals.ResubmitInput{}, approvals.Outcome{}, 0, h.resubmit)

	route("GET", "/api/v1/approvals/me/pending", "Requests waiting for my decision", nil, httpapi.List[approvals.ListItem]{}, 0, h.list(approvals.ListPending))
	route("GET", "/api/v1/approvals/me/done", "Requests I have decided", nil, httpapi.List[approvals.ListItem]{}, 0, h.list(approvals.ListDone))
	route("GET", "/api/v1/approvals/me/submitted", "Requests I submitted", nil, httpapi.List[approvals.ListItem]{}, 0, h.list(approvals.ListSubmitted))
	route("GET", "/api/v1/approvals/me/cc", "Requests copied to me", nil, httpapi.List[approvals.ListItem]{}, 0, h.list(approvals.ListCC))

	route("GET", "/api/v1/approvals/export", "Export the organisation's requests as CSV or XLSX (?format=csv|xlsx; admins)", nil, nil, 0, h.export)

	route("GET", "/api/v1/approvals/delegations", "List my delegations", nil, httpapi.List[approvals.Delegation]{}, 0, h.delegations)
	route("POST", "/api/v1/approvals/delegations", "Send my new tasks to a delegate for a period", approvals.DelegationInput{}, approvals.Delegation{}, http.StatusCreated, h.setDelegation)
	route("DELETE", "/api/v1/approvals/delegations/{id}", "End one of my delegations", nil, nil, http.StatusNoContent, h.deleteDelegation)
}

func (h *Handlers) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.svc.Templates(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[approvals.Template]{Items: ts})
	return nil
}

func (h *Handlers) saveTemplate(w http.ResponseWriter, r *http.Request) error {
	var in approvals.TemplateInput
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	t, err := h.svc.SaveTemplate(r.Context(), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, t)
	return nil
}

func (h *Handlers) getTemplate(w http.ResponseWriter, r *http.Request) error {
	v := 0
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return core.Invalid("version", "version is a whole number from 1")
		}
		v = n
	}
	t, err := h.svc.Template(r.Context(), r.PathValue("code"), v)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (h *Handlers) templateVersions(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.svc.TemplateVersions(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[approvals.Template]{Items: ts})
	return nil
}

func (h *Handlers) saveFlow(w http.ResponseWriter, r *http.Request) error {
	var in approvals.Flow
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	t, err := h.svc.SaveFlow(r.Context(), r.PathValue("code"), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (h *Handlers) submit(w http.ResponseWriter, r *http.Request) error {
	var in approvals.SubmitInput
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	out, err := h.svc.Submit(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if out.Replayed {
		status = http.StatusOK
	}
	httpapi.WriteJSON(w, status, out)
	return nil
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

// card is what the chat client shows for an approvals-bot message: read
// permission is the request's, the actions are the reader's own.
func (h *Handlers) card(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	c, err := h.svc.CardFor(r.Context(), v.Request.OrgID, id, httpapi.Actor(r).UserID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, c)
	return nil
}

// action decodes the body into T and runs fn on the request in the path.
func action[T any](fn func(r *http.Request, id string, in T) (approvals.Outcome, error)) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := httpapi.PathID(r, "id")
		if err != nil {
			return err
		}
		var in T
		if err := httpapi.Decode(r, &in); err != nil {
			return err
		}
		out, err := fn(r, id, in)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

func (h *Handlers) approve(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.ActionInput) (approvals.Outcome, error) {
		return h.svc.Approve(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) reject(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.RejectInput) (approvals.Outcome, error) {
		return h.svc.Reject(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) transfer(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.TransferInput) (approvals.Outcome, error) {
		return h.svc.Transfer(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) addSigner(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.AddSignerInput) (approvals.Outcome, error) {
		return h.svc.AddSigner(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) withdraw(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.ActionInput) (approvals.Outcome, error) {
		return h.svc.Withdraw(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) comment(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.ActionInput) (approvals.Outcome, error) {
		return h.svc.Comment(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) urge(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.ActionInput) (approvals.Outcome, error) {
		return h.svc.Urge(r.Context(), id, in)
	})(w, r)
}

func (h *Handlers) resubmit(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id string, in approvals.ResubmitInput) (approvals.Outcome, error) {
		return h.svc.Resubmit(r.Context(), id, in)
	})(w, r)
}

// filter reads ?status= &template= &q= &from= &to= &dept= (dates as
// 2026-03-01 or RFC 3339; dept may repeat).
func filter(r *http.Request) (approvals.Filter, error) {
	q := r.URL.Query()
	f := approvals.Filter{Status: approvals.Status(q.Get("status")), TemplateCode: q.Get("template"), Query: q.Get("q")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.Parse(time.DateOnly, s)
		}
		if err != nil {
			return f, core.Invalid(p.name, "%s is a date like 2026-03-01 or an RFC 3339 time", p.name)
		}
		*p.dst = t
	}
	for _, d := range q["dept"] {
		if !core.ValidID(d) {
			return f, core.Invalid("dept", "dept is a department id")
		}
		f.DeptIDs = append(f.DeptIDs, d)
	}
	if len(f.DeptIDs) > 50 {
		return f, core.Invalid("dept", "at most 50 departments")
	}
	return f, nil
}

func (h *Handlers) list(kind approvals.ListKind) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := httpapi.Page(r)
		if err != nil {
			return err
		}
		f, err := filter(r)
		if err != nil {
			return err
		}
		items, next, err := h.svc.List(r.Context(), kind, f, p)
		if err != nil {
			return err
		}
		if items == nil {
			items = []approvals.ListItem{}
		}
		httpapi.WriteJSON(w, http.StatusOK, httpapi.List[approvals.ListItem]{Items: items, NextCursor: next})
		return nil
	}
}

func (h *Handlers) export(w http.ResponseWriter, r *http.Request) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	// Buffer so an error can still become the error envelope.
	var buf bytes.Buffer
	if err := h.svc.Export(r.Context(), f, format, &buf); err != nil {
		return err
	}
	ct := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="approvals.`+format+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (h *Handlers) delegations(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.svc.Delegations(r.Context())
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[approvals.Delegation]{Items: ds})
	return nil
}

func (h *Handlers) setDelegation(w http.ResponseWriter, r *http.Request) error {
	var in approvals.DelegationInput
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	d, err := h.svc.SetDelegation(r.Context(), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

func (h *Handlers) deleteDelegation(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteDelegation(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
