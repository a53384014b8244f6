package imhttp

import (
	"net/http"
	"strconv"
	"time"

	"github.com/roundshq/rounds/core"

	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

func (h *Handlers) registerExtra(rt *httpapi.Router) {
	h.registerFiles(rt)
	const m = "/api/v1/im/messages"
	for _, r := range []httpapi.Route{
		{Method: "POST", Path: m + "/{id}/ding/ack", Summary: "Acknowledge an urgent message addressed to me", Response: im.DingRecipient{}, Handler: h.ackDing},
		{Method: "GET", Path: m + "/{id}/ding", Summary: "Who has acknowledged an urgent message, and when", Response: im.Ding{}, Handler: h.dingStatus},
		{Method: "GET", Path: "/api/v1/im/search", Summary: "Search my messages (?q=, sender_id, conversation_id, from, to as RFC 3339, limit, offset)", Response: im.SearchResult{}, Handler: h.search},
	} {
		r.Tag = tag
		r.Access = httpapi.Authenticated
		rt.Handle(r)
	}
}

func (h *Handlers) ackDing(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := h.svc.AckDing(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, rec)
	return nil
}

func (h *Handlers) dingStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.svc.DingStatus(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (h *Handlers) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := im.SearchRequest{Text: q.Get("q"), SenderID: q.Get("sender_id"), ConversationID: q.Get("conversation_id")}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &req.From}, {"to", &req.To}} {
		if s := q.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return core.Invalid(f.name, "%s must be an RFC 3339 time such as 2026-01-02T08:00:00+08:00", f.name)
			}
			*f.dst = t
		}
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"limit", &req.Limit}, {"offset", &req.Offset}} {
		if s := q.Get(f.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return core.Invalid(f.name, "%s must be a whole number, 0 or more", f.name)
			}
			*f.dst = n
		}
	}
	res, err := h.svc.Search(r.Context(), httpapi.Actor(r), req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}
