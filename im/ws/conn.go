package imws

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

// frame is one outgoing message, encoded once and shared by every receiver.
type frame struct {
	pos    int64 // log position; 0 for frames outside the log
	pm     *websocket.PreparedMessage
	stored time.Time // a live new message: when it was stored (delivery latency)
}

func newFrame(pos int64, b []byte) *frame {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		panic(err) // only fails for invalid message types
	}
	return &frame{pos: pos, pm: pm}
}

type conn struct {
	hub    *Hub
	ws     *websocket.Conn
	actor  core.Actor
	userID string
	send   chan *frame

	typedAt map[string]time.Time // conversation → last typing signal passed on (reader goroutine only)

	mu        sync.Mutex
	replaying bool
	pending   []*frame
	lastPos   int64
	closed    bool

	done      chan struct{}
	closeOnce sync.Once
}

// deliver queues f without ever blocking: a full queue marks the client a
// slow consumer and closes it. Log frames at or below the position already
// sent are dropped, which is what makes replay-then-live gapless and free
// of duplicates.
func (c *conn) deliver(f *frame) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.replaying {
		if len(c.pending) >= 4*cap(c.send) {
			c.mu.Unlock()
			c.hub.SlowClosed.Add(1)
			c.closeWith(CloseSlowConsumer, "slow consumer")
			return
		}
		c.pending = append(c.pending, f)
		c.mu.Unlock()
		return
	}
	ok := c.enqueueLocked(f)
	c.mu.Unlock()
	if !ok {
		c.hub.SlowClosed.Add(1)
		c.closeWith(CloseSlowConsumer, "slow consumer")
	}
}

func (c *conn) enqueueLocked(f *frame) bool {
	if f.pos > 0 {
		if f.pos <= c.lastPos {
			return true
		}
		c.lastPos = f.pos
	}
	select {
	case c.send <- f:
		c.hub.Delivered.Add(1)
		return true
	default:
		return false
	}
}

// sendDirect queues a frame for this connection only (replies, replay),
// waiting for room rather than failing: only this client's own reading
// speed is at stake.
func (c *conn) sendDirect(f *frame) bool {
	t := time.NewTimer(c.hub.cfg.WriteWait)
	defer t.Stop()
	c.mu.Lock()
	if f.pos > 0 {
		if f.pos <= c.lastPos {
			c.mu.Unlock()
			return true
		}
		c.lastPos = f.pos
	}
	c.mu.Unlock()
	select {
	case c.send <- f:
		return true
	case <-c.done:
		return false
	case <-t.C:
		c.hub.SlowClosed.Add(1)
		c.closeWith(CloseSlowConsumer, "slow consumer")
		return false
	}
}

func (c *conn) sendJSON(v any) bool {
	b, _ := json.Marshal(v)
	return c.sendDirect(newFrame(0, b))
}

func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		close(c.done)
		_ = c.ws.Close()
	})
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	// A bearer token cannot be sent by a page the user merely visits, so
	// only cookie-authenticated upgrades need the Origin check.
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Route registers the endpoint with the API router (rt.Handle(hub.Route())):
// the router authenticates, and the route appears in the OpenAPI document.
// Mount either this route or the Hub itself at Path, not both.
func (h *Hub) Route() httpapi.Route {
	return httpapi.Route{Method: http.MethodGet, Path: Path, Summary: "Open the chat WebSocket (resume with ?since=<last pos>); protocol in im/ws/PROTOCOL.md", Tag: "im",
		Access: httpapi.Authenticated, Status: http.StatusSwitchingProtocols,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(hijacker{w}, r)
			return nil
		}}
}

// hijacker lets gorilla hijack through the router's wrapped writer (which
// offers Unwrap for http.ResponseController, not http.Hijacker itself).
type hijacker struct{ http.ResponseWriter }

func (w hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w hijacker) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Path is where the endpoint is mounted.
const Path = "/api/v1/ws"

// ServeHTTP authenticates and upgrades the request, replays missed events
// when ?since= is given, and serves the connection until it closes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := core.ActorFrom(r.Context())
	if !ok {
		if h.auth == nil {
			httpapi.WriteError(w, r, core.Errorf(core.EUnauthenticated, "sign in first"))
			return
		}
		var err error
		if a, err = h.auth.Authenticate(r); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
	}
	if a.UserID == "" {
		httpapi.WriteError(w, r, core.Errorf(core.EUnauthenticated, "sign in first"))
		return
	}
	since := int64(-1)
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			httpapi.WriteError(w, r, core.Invalid("since", "since must be the last position you received (a whole number)"))
			return
		}
		since = n
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{hub: h, ws: ws, actor: a, userID: a.UserID, send: make(chan *frame, h.cfg.QueueSize), replaying: true, done: make(chan struct{})}
	go c.writeLoop()
	ctx := core.WithActor(context.WithoutCancel(r.Context()), a)
	first, err := h.register(ctx, c)
	if err != nil {
		c.sendJSON(errorFrame{Type: "error", Error: errBody(err)})
		c.closeWith(websocket.CloseTryAgainLater, "try again")
		return
	}
	// A session revoked between the upgrade and the registration above was
	// announced before this connection could be kicked: check it again now
	// that any later kick will find the connection.
	if h.auth != nil {
		if _, err := h.auth.Authenticate(r); err != nil {
			c.closeWith(CloseKicked, "session ended")
			h.unregister(c) // presence was not announced yet
			return
		}
	}
	if first {
		h.presence.localChange(a.UserID, true)
	}
	if !c.start(ctx, since) {
		c.end()
		return
	}
	// The connection lives on in a fresh goroutine and this one returns:
	// authenticating, registering and replaying grew this goroutine's stack
	// (database calls run deep), and an idle connection should not keep
	// that stack for hours. The HTTP server let go of the connection at the
	// hijack.
	go func() {
		c.readLoop(ctx)
		c.end()
	}()
}

// end closes the connection and takes it out of the hub.
func (c *conn) end() {
	h := c.hub
	c.closeWith(websocket.CloseNormalClosure, "")
	h.presence.forget(c)
	if h.unregister(c) {
		h.presence.localChange(c.userID, false)
	}
}

// start replays the log after since (when given) while live events are
// buffered, then flushes the buffer without duplicates and goes live.
func (c *conn) start(ctx context.Context, since int64) bool {
	last := int64(0)
	if since >= 0 {
		last = since
		for {
			evs, resync, err := c.hub.svc.EventsSince(ctx, c.actor, last, 500)
			if err != nil {
				c.sendJSON(errorFrame{Type: "error", Error: errBody(err)})
				return false
			}
			if resync {
				c.sendJSON(simpleFrame{Type: "resync"})
				break
			}
			for _, e := range evs {
				if !c.sendDirect(newFrame(e.Pos, encodeEvent(e))) {
					return false
				}
				last = e.Pos
			}
			if len(evs) < 500 {
				break
			}
		}
	}
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.replaying = false
	for _, f := range pending {
		if !c.enqueueLocked(f) {
			c.mu.Unlock()
			c.hub.SlowClosed.Add(1)
			c.closeWith(CloseSlowConsumer, "slow consumer")
			return false
		}
	}
	head := c.lastPos
	c.mu.Unlock()
	if head < since {
		head = since
	}
	if head == 0 || since < 0 {
		head = c.hub.Cursor()
	}
	return c.sendJSON(simpleFrame{Type: "ready", Pos: head})
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(c.hub.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case f := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteWait))
			if err := c.ws.WritePreparedMessage(f.pm); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
			if obs := c.hub.cfg.ObserveDelivery; obs != nil && !f.stored.IsZero() {
				obs(time.Since(f.stored))
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.cfg.WriteWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		}
	}
}

func (c *conn) readLoop(ctx context.Context) {
	cfg := c.hub.cfg
	c.ws.SetReadLimit(cfg.HardLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait)) })
	for {
		typ, rd, err := c.ws.NextReader()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		body, err := io.ReadAll(io.LimitReader(rd, cfg.MaxFrameBytes+1))
		if err != nil {
			return
		}
		if int64(len(body)) > cfg.MaxFrameBytes {
			// Drain the rest (bounded by the hard limit) so the stream stays
			// in step, answer, and keep the connection.
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return
			}
			c.sendJSON(errorFrame{Type: "error", Error: errBody((&core.Error{Code: core.ETooLarge, Message: "the frame is too large"}).With("limit", cfg.MaxFrameBytes))})
			continue
		}
		if typ != websocket.TextMessage {
			c.sendJSON(errorFrame{Type: "error", Error: errBody(core.Invalid("frame", "send JSON text frames"))})
			continue
		}
		var f clientFrame
		if err := httpapi.DecodeBytes(body, &f); err != nil {
			c.sendJSON(errorFrame{Type: "error", Error: errBody(err)})
			continue
		}
		c.handle(ctx, f)
	}
}

func (c *conn) handle(ctx context.Context, f clientFrame) {
	if f.Type == "ping" {
		c.sendJSON(struct {
			Type  string `json:"type"`
			ReqID string `json:"req_id,omitempty"`
		}{"pong", f.ReqID})
		return
	}
	if f.ReqID == "" || len(f.ReqID) > 64 {
		c.sendJSON(errorFrame{Type: "error", Error: errBody(core.Invalid("req_id", "every request needs a req_id of at most 64 characters"))})
		return
	}
	data, err := c.op(ctx, f)
	if err != nil {
		c.sendJSON(replyFrame{Type: "reply", ReqID: f.ReqID, Error: errBody(err)})
		return
	}
	c.sendJSON(replyFrame{Type: "reply", ReqID: f.ReqID, OK: true, Data: data})
}

func (c *conn) op(ctx context.Context, f clientFrame) (any, error) {
	svc, a := c.hub.svc, c.actor
	switch f.Type {
	case "send":
		return svc.Send(ctx, a, im.SendRequest{ConversationID: f.ConversationID, ClientMsgID: f.ClientMsgID, Kind: f.Kind, Text: f.Text,
			Mentions: f.Mentions, MentionAll: f.MentionAll, ReplyToID: f.ReplyToID, FileID: f.FileID, Ding: f.Ding})
	case "edit":
		return svc.Edit(ctx, a, f.MessageID, f.Text)
	case "recall":
		return svc.Recall(ctx, a, f.MessageID)
	case "react":
		return nil, svc.React(ctx, a, f.MessageID, f.Emoji, !f.Remove)
	case "read":
		return svc.MarkRead(ctx, a, f.ConversationID, f.Seq)
	case "ack_ding":
		return svc.AckDing(ctx, a, f.MessageID)
	case "typing":
		// A keystroke stream becomes at most one signal per conversation
		// every two seconds.
		if last, ok := c.typedAt[f.ConversationID]; ok && time.Since(last) < 2*time.Second {
			return nil, nil
		}
		if err := svc.Typing(ctx, a, f.ConversationID); err != nil {
			return nil, err
		}
		if c.typedAt == nil || len(c.typedAt) > 1000 {
			c.typedAt = map[string]time.Time{}
		}
		c.typedAt[f.ConversationID] = time.Now()
		return nil, nil
	case "presence":
		if len(f.UserIDs) > 500 {
			return nil, core.Invalid("user_ids", "ask for at most 500 people")
		}
		return presenceFrame{Type: "presence", Online: c.hub.presence.watch(c, f.UserIDs)}, nil
	case "":
		return nil, core.Invalid("type", "the frame needs a type")
	}
	return nil, core.Invalid("type", "unknown frame type %q", f.Type)
}
