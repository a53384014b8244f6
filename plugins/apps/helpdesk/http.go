package main

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/roundshq/rounds/plugins/sdk"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	status := map[sdk.Code]int{sdk.CodeInvalid: 400, sdk.CodeUnauthenticated: 401, sdk.CodeForbidden: 403,
		sdk.CodeNotFound: 404, sdk.CodeConflict: 409, sdk.CodeTooLarge: 413, sdk.CodeRateLimited: 429,
		sdk.CodeUnavailable: 503}[sdk.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	msg := "internal error"
	e, ok := err.(*sdk.Error)
	if ok {
		msg = e.Message
	}
	body := map[string]string{"code": string(sdk.ErrorCode(err)), "message": msg}
	if ok && e.Field != "" {
		body["field"] = e.Field
	}
	writeJSON(w, status, body)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "body", Message: "bad JSON body: " + err.Error()}
	}
	return nil
}

// ServeHTTP serves the manifest's routes; the host only forwards those.
func (a *helpdesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	actor, _ := sdk.ActorFromRequest(r)
	if actor.UserID == "" {
		writeErr(w, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first"))
		return
	}
	ctx := r.Context()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/categories":
		type cat struct {
			Name              string `json:"name"`
			ResponseMinutes   int    `json:"response_minutes"`
			ResolutionMinutes int    `json:"resolution_minutes"`
		}
		out := make([]cat, 0, len(a.categories))
		for _, c := range a.categories {
			out = append(out, cat{c, int(a.sla[c].Response.Minutes()), int(a.sla[c].Resolution.Minutes())})
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": out})
	case r.Method == http.MethodGet && r.URL.Path == "/tickets":
		prefix := "by/" + actor.UserID + "/"
		if r.URL.Query().Get("scope") == "open" {
			if !a.isStaff(actor.UserID) {
				writeErr(w, sdk.Errorf(sdk.CodeForbidden, "only IT engineers see every open ticket"))
				return
			}
			prefix = "open/"
		}
		keys, err := a.host.KVKeys(ctx, prefix, 5000)
		if err != nil {
			writeErr(w, err)
			return
		}
		// Newest first, at most 200.
		out := []Ticket{}
		for i := len(keys) - 1; i >= 0 && len(out) < 200; i-- {
			id, err := parseID(keys[i][strings.LastIndex(keys[i], "/")+1:])
			if err != nil {
				continue
			}
			t, err := a.load(ctx, id)
			if sdk.IsCode(err, sdk.CodeNotFound) {
				continue
			}
			if err != nil {
				writeErr(w, err)
				return
			}
			out = append(out, t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": out})
	case r.Method == http.MethodPost && r.URL.Path == "/tickets":
		var in struct {
			Category       string `json:"category"`
			Description    string `json:"description"`
			ConversationID string `json:"conversation_id"`
		}
		if err := decode(r, &in); err != nil {
			writeErr(w, err)
			return
		}
		t, err := a.open(ctx, actor.UserID, in.Category, in.Description, in.ConversationID)
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, t)
	case len(parts) == 2 && parts[0] == "tickets" && r.Method == http.MethodGet:
		id, err := parseID(parts[1])
		if err != nil {
			writeErr(w, err)
			return
		}
		t, err := a.load(ctx, id)
		if err == nil && t.RequesterID != actor.UserID && !a.isStaff(actor.UserID) {
			err = sdk.Errorf(sdk.CodeForbidden, "ticket #%d is someone else's", id)
		}
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, t)
	case len(parts) == 3 && parts[0] == "tickets" && r.Method == http.MethodPost:
		id, err := parseID(parts[1])
		if err != nil {
			writeErr(w, err)
			return
		}
		var t Ticket
		switch parts[2] {
		case "assign":
			var in struct {
				Assignee string `json:"assignee"`
			}
			if err = decode(r, &in); err == nil {
				t, err = a.assign(ctx, actor.UserID, id, strings.TrimSpace(in.Assignee))
			}
		case "status":
			var in struct {
				Status string `json:"status"`
			}
			if err = decode(r, &in); err == nil {
				t, err = a.setStatus(ctx, actor.UserID, id, in.Status)
			}
		case "rating":
			var in struct {
				Score   int    `json:"score"`
				Comment string `json:"comment"`
			}
			if err = decode(r, &in); err == nil {
				t, err = a.rate(ctx, actor.UserID, id, in.Score, in.Comment)
			}
		default:
			err = sdk.Errorf(sdk.CodeNotFound, "no such route")
		}
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, t)
	default:
		writeErr(w, sdk.Errorf(sdk.CodeNotFound, "no such route"))
	}
}
