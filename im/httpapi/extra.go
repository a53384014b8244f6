package imhttp

import (
	"net/http"

	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

func (h *Handlers) registerExtra(rt *httpapi.Router) {
	const m = "/api/v1/im/messages"
	for _, r := range []httpapi.Route{
		{Method: "POST", Path: m + "/{id}/ding/ack", Summary: "Acknowledge an urgent message addressed to me", Response: im.DingRecipient{}, Handler: h.ackDing},
		{Method: "GET", Path: m + "/{id}/ding", Summary: "Who has acknowledged an urgent message, and when", Response: im.Ding{}, Handler: h.dingStatus},
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
