package imhttp

import (
	"net/http"
	"strconv"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

// Handlers serves /api/v1/im/….
type Handlers struct {
	svc *im.Service
}

// New returns the handlers.
func New(svc *im.Service) *Handlers { return &Handlers{svc: svc} }

const tag = "im"

// CreateConversationRequest opens a direct conversation (kind direct,
// user_id), a group (kind group, name, member_ids) or a department group
// (kind department, name, department_id, subtree; org admins only).
type CreateConversationRequest struct {
	Kind         im.ConversationKind `json:"kind"`
	UserID       string              `json:"user_id,omitempty"`
	Name         string              `json:"name,omitempty"`
	MemberIDs    []string            `json:"member_ids,omitempty"`
	DepartmentID string              `json:"department_id,omitempty"`
	Subtree      bool                `json:"subtree,omitempty"`
}

// UpdateConversationRequest changes a conversation; absent fields stay.
type UpdateConversationRequest struct {
	Name         *string `json:"name,omitempty"`
	Announcement *bool   `json:"announcement,omitempty"`
	ReceiptsOff  *bool   `json:"receipts_off,omitempty"`
}

// UserIDsRequest names people.
type UserIDsRequest struct {
	UserIDs []string `json:"user_ids"`
}

// RoleRequest sets a member's role.
type RoleRequest struct {
	Role im.Role `json:"role"`
}

// PrefsRequest mutes or pins; absent fields stay.
type PrefsRequest struct {
	Muted  *bool `json:"muted,omitempty"`
	Pinned *bool `json:"pinned,omitempty"`
}

// SendMessageRequest posts a message; client_msg_id makes retries safe.
type SendMessageRequest struct {
	ClientMsgID string         `json:"client_msg_id"`
	Kind        im.MessageKind `json:"kind,omitempty"`
	Text        string         `json:"text"`
	Mentions    []string       `json:"mentions,omitempty"`
	MentionAll  bool           `json:"mention_all,omitempty"`
	ReplyToID   string         `json:"reply_to_id,omitempty"`
	FileID      string         `json:"file_id,omitempty"`
	// Ding makes the message urgent: recipients must acknowledge.
	Ding *im.DingRequest `json:"ding,omitempty"`
}

// EditRequest replaces a message's text.
type EditRequest struct {
	Text string `json:"text"`
}

// ReactRequest adds (or with remove, takes back) an emoji.
type ReactRequest struct {
	Emoji  string `json:"emoji"`
	Remove bool   `json:"remove,omitempty"`
}

// ReadRequest moves the read position.
type ReadRequest struct {
	Seq int64 `json:"seq"`
}

// EventsResponse is a page of the caller's event stream.
type EventsResponse struct {
	Events []im.Event `json:"events"`
	// Resync is true when since is older than the log keeps: reload
	// conversations and history instead.
	Resync bool `json:"resync"`
}

// Register adds the routes to rt.
func (h *Handlers) Register(rt *httpapi.Router) {
	const c = "/api/v1/im/conversations"
	const m = "/api/v1/im/messages"
	for _, r := range []httpapi.Route{
		{Method: "GET", Path: c, Summary: "List my conversations with unread counts and last messages", Response: httpapi.List[im.ConversationView]{}, Handler: h.list},
		{Method: "POST", Path: c, Summary: "Open a direct conversation or create a group or department group", Request: CreateConversationRequest{}, Response: im.Conversation{}, Status: http.StatusCreated, Handler: h.create},
		{Method: "GET", Path: c + "/{id}", Summary: "Get a conversation as I see it", Response: im.ConversationView{}, Handler: h.get},
		{Method: "PATCH", Path: c + "/{id}", Summary: "Rename, set announcement mode or turn receipts on or off", Request: UpdateConversationRequest{}, Response: im.Conversation{}, Handler: h.update},
		{Method: "GET", Path: c + "/{id}/members", Summary: "List members (paginated)", Response: httpapi.List[im.Member]{}, Handler: h.members},
		{Method: "POST", Path: c + "/{id}/members", Summary: "Add people (and installed apps' bots) to a group", Request: UserIDsRequest{}, Status: http.StatusNoContent, Handler: h.addMembers},
		{Method: "GET", Path: c + "/{id}/bots", Summary: "The bots of the organisation's installed, enabled apps a group's owner and admins may add, and whether each is in", Response: httpapi.List[im.GroupBot]{}, Handler: h.groupBots},
		{Method: "DELETE", Path: c + "/{id}/members/{user_id}", Summary: "Remove someone from a group", Status: http.StatusNoContent, Handler: h.removeMember},
		{Method: "PUT", Path: c + "/{id}/members/{user_id}/role", Summary: "Make a member admin or member, or hand over ownership", Request: RoleRequest{}, Status: http.StatusNoContent, Handler: h.setRole},
		{Method: "PATCH", Path: c + "/{id}/prefs", Summary: "Mute or pin a conversation for me", Request: PrefsRequest{}, Response: im.Member{}, Handler: h.prefs},
		{Method: "POST", Path: c + "/{id}/leave", Summary: "Leave a group", Status: http.StatusNoContent, Handler: h.leave},
		{Method: "GET", Path: c + "/{id}/messages", Summary: "Message history (?before=seq or ?after=seq, ?limit=)", Response: httpapi.List[im.Message]{}, Handler: h.history},
		{Method: "POST", Path: c + "/{id}/messages", Summary: "Send a message (idempotent by client_msg_id)", Request: SendMessageRequest{}, Response: im.Message{}, Status: http.StatusCreated, Handler: h.send},
		{Method: "POST", Path: c + "/{id}/read", Summary: "Move my read position", Request: ReadRequest{}, Response: im.ReadPosition{}, Handler: h.read},
		{Method: "GET", Path: m + "/{id}", Summary: "Get a message", Response: im.Message{}, Handler: h.message},
		{Method: "PATCH", Path: m + "/{id}", Summary: "Edit my message", Request: EditRequest{}, Response: im.Message{}, Handler: h.edit},
		{Method: "POST", Path: m + "/{id}/recall", Summary: "Recall a message for everyone", Response: im.Message{}, Handler: h.recall},
		{Method: "POST", Path: m + "/{id}/reactions", Summary: "Add or remove my reaction", Request: ReactRequest{}, Status: http.StatusNoContent, Handler: h.react},
		{Method: "GET", Path: m + "/{id}/receipt", Summary: "Who has and has not read a message", Response: im.Receipt{}, Handler: h.receipt},
		{Method: "GET", Path: "/api/v1/im/events", Summary: "My events after a position (?since=, ?limit=), for clients without the WebSocket", Response: EventsResponse{}, Handler: h.events},
	} {
		r.Tag = tag
		r.Access = httpapi.Authenticated
		rt.Handle(r)
	}
	h.registerExtra(rt)
	h.registerRetention(rt)
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.svc.Conversations(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []im.ConversationView{}
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[im.ConversationView]{Items: vs})
	return nil
}

func (h *Handlers) create(w http.ResponseWriter, r *http.Request) error {
	var req CreateConversationRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	a := httpapi.Actor(r)
	var c im.Conversation
	var err error
	switch req.Kind {
	case im.Direct:
		c, err = h.svc.CreateDirect(r.Context(), a, req.UserID)
	case im.Group:
		c, err = h.svc.CreateGroup(r.Context(), a, req.Name, req.MemberIDs)
	case im.Department:
		c, err = h.svc.CreateDepartmentGroup(r.Context(), a, req.Name, req.DepartmentID, req.Subtree)
	default:
		return core.Invalid("kind", "kind must be direct, group or department")
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (h *Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Conversation(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req UpdateConversationRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	c, err := h.svc.UpdateConversation(r.Context(), httpapi.Actor(r), id, im.ConversationUpdate{Name: req.Name, Announcement: req.Announcement, ReceiptsOff: req.ReceiptsOff})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handlers) members(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	ms, next, err := h.svc.Members(r.Context(), httpapi.Actor(r), id, p)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []im.Member{}
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[im.Member]{Items: ms, NextCursor: next})
	return nil
}

func (h *Handlers) addMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req UserIDsRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if err := h.svc.AddMembers(r.Context(), httpapi.Actor(r), id, req.UserIDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) groupBots(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	bs, err := h.svc.GroupBots(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[im.GroupBot]{Items: bs})
	return nil
}

func (h *Handlers) removeMember(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := httpapi.PathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveMember(r.Context(), httpapi.Actor(r), id, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) setRole(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := httpapi.PathID(r, "user_id")
	if err != nil {
		return err
	}
	var req RoleRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if err := h.svc.SetRole(r.Context(), httpapi.Actor(r), id, uid, req.Role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) prefs(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req PrefsRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	m, err := h.svc.SetPrefs(r.Context(), httpapi.Actor(r), id, im.Prefs{Muted: req.Muted, Pinned: req.Pinned})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *Handlers) leave(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.Leave(r.Context(), httpapi.Actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func queryInt(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, core.Invalid(name, "%s must be a whole number, 0 or more", name)
	}
	return n, nil
}

func (h *Handlers) history(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var q im.HistoryQuery
	if q.Before, err = queryInt(r, "before"); err != nil {
		return err
	}
	if q.After, err = queryInt(r, "after"); err != nil {
		return err
	}
	p, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	q.Limit = p.Limit
	ms, err := h.svc.History(r.Context(), httpapi.Actor(r), id, q)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[im.Message]{Items: ms})
	return nil
}

func (h *Handlers) send(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req SendMessageRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	m, err := h.svc.Send(r.Context(), httpapi.Actor(r), im.SendRequest{ConversationID: id, ClientMsgID: req.ClientMsgID, Kind: req.Kind, Text: req.Text,
		Mentions: req.Mentions, MentionAll: req.MentionAll, ReplyToID: req.ReplyToID, FileID: req.FileID, Ding: req.Ding})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, m)
	return nil
}

func (h *Handlers) read(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req ReadRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	rp, err := h.svc.MarkRead(r.Context(), httpapi.Actor(r), id, req.Seq)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, rp)
	return nil
}

func (h *Handlers) message(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.svc.Message(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *Handlers) edit(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req EditRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	m, err := h.svc.Edit(r.Context(), httpapi.Actor(r), id, req.Text)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *Handlers) recall(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.svc.Recall(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *Handlers) react(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req ReactRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if err := h.svc.React(r.Context(), httpapi.Actor(r), id, req.Emoji, !req.Remove); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) receipt(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	rc, err := h.svc.Receipt(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, rc)
	return nil
}

func (h *Handlers) events(w http.ResponseWriter, r *http.Request) error {
	since, err := queryInt(r, "since")
	if err != nil {
		return err
	}
	p, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	evs, resync, err := h.svc.EventsSince(r.Context(), httpapi.Actor(r), since, p.Limit)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []im.Event{}
	}
	httpapi.WriteJSON(w, http.StatusOK, EventsResponse{Events: evs, Resync: resync})
	return nil
}
