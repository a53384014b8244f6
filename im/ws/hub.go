package imws

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/im"
)

// Authenticator identifies the actor of the upgrade request by the same
// session cookie or bearer token as the HTTP API (core/httpapi.Authenticator).
type Authenticator interface {
	Authenticate(r *http.Request) (core.Actor, error)
}

// Close codes the server uses besides the standard ones.
const (
	CloseSlowConsumer = 4008 // the client did not read fast enough; reconnect with ?since=
	CloseKicked       = 4003 // the person may no longer use chat (left the organisation)
)

// Config tunes the hub. Zero values take the defaults.
type Config struct {
	QueueSize     int           // frames queued per connection (default 256)
	MaxFrameBytes int64         // largest client frame answered with an error and kept (default 64 KiB)
	HardLimit     int64         // largest client frame at all; beyond it the connection closes (default 1 MiB)
	PingInterval  time.Duration // server pings (default 25 s)
	PongWait      time.Duration // a connection silent this long is closed (default 60 s)
	WriteWait     time.Duration // a write that takes longer closes the connection (default 10 s)
	PollInterval  time.Duration // the tailer reads the log at least this often (default 1 s)
	Shards        int           // hub shards by user id (default 16)
	// AllowedOrigins are extra origins allowed for cookie-authenticated
	// upgrades (same host is always allowed).
	AllowedOrigins []string
	// PresenceInterval is how often a node re-announces its online users;
	// others forget them after three intervals (default 30 s).
	PresenceInterval time.Duration
	// NodeID names this node in presence announcements (default random).
	NodeID string
	Logger *slog.Logger
	// ObserveDelivery, when set, hears for every live message frame written
	// to a connection how long after the message was stored it left
	// (the node's delivery-latency metric). It must be quick.
	ObserveDelivery func(time.Duration)
}

func (c Config) withDefaults() Config {
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.HardLimit < c.MaxFrameBytes {
		c.HardLimit = 1 << 20
		if c.HardLimit < c.MaxFrameBytes {
			c.HardLimit = c.MaxFrameBytes
		}
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongWait <= 0 {
		c.PongWait = 60 * time.Second
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Shards <= 0 {
		c.Shards = 16
	}
	if c.PresenceInterval <= 0 {
		c.PresenceInterval = 30 * time.Second
	}
	if c.NodeID == "" {
		c.NodeID = core.RandomToken(6)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Hub holds this node's WebSocket connections and delivers events to them.
type Hub struct {
	svc  *im.Service
	bus  bus.Bus
	auth Authenticator
	cfg  Config
	log  *slog.Logger

	upgrader websocket.Upgrader
	shards   []*shard

	cursor atomic.Int64 // last log position dispatched
	wake   chan struct{}
	subs   []bus.Subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup

	presence *presence

	// Delivered counts frames queued to connections (for tests and metrics).
	Delivered atomic.Int64
	// SlowClosed counts connections closed as slow consumers.
	SlowClosed atomic.Int64
}

type shard struct {
	// setup serialises a connection's registration (loading its
	// conversations) with membership events for users of this shard, so a
	// join or leave is never lost between the load and the registration.
	// Deliveries do not take it.
	setup sync.Mutex
	mu    sync.RWMutex
	users map[string]map[*conn]struct{}
	convs map[string]map[*conn]struct{}
}

// NewHub returns a hub; call Start before serving.
func NewHub(svc *im.Service, b bus.Bus, auth Authenticator, cfg Config) *Hub {
	cfg = cfg.withDefaults()
	h := &Hub{svc: svc, bus: b, auth: auth, cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	// Idle connections are most connections: the read buffer is the one the
	// HTTP server already allocated (size 0 reuses it), and write buffers
	// come from a pool shared by all connections, held only while a frame
	// is written (prepared messages need none at all).
	h.upgrader = websocket.Upgrader{WriteBufferPool: &sync.Pool{}, CheckOrigin: h.checkOrigin}
	h.shards = make([]*shard, cfg.Shards)
	for i := range h.shards {
		h.shards[i] = &shard{users: map[string]map[*conn]struct{}{}, convs: map[string]map[*conn]struct{}{}}
	}
	h.presence = newPresence(h)
	return h
}

func (h *Hub) shardOf(userID string) *shard {
	f := fnv.New32a()
	_, _ = f.Write([]byte(userID))
	return h.shards[f.Sum32()%uint32(len(h.shards))]
}

// Start subscribes to the bus and starts the tailer from the current end of
// the log. It returns when the hub is ready to serve.
func (h *Hub) Start(ctx context.Context) error {
	head, err := h.svc.Head(ctx)
	if err != nil {
		return err
	}
	h.cursor.Store(head)
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if h.bus != nil {
		for pattern, fn := range map[string]bus.Handler{
			im.SubjectEvents:   h.onNotify,
			im.SubjectKick:     h.onKick,
			im.SubjectTyping:   h.onTyping,
			im.SubjectPresence: h.presence.onEvent,
		} {
			sub, err := h.bus.Subscribe(pattern, fn)
			if err != nil {
				h.Close()
				return err
			}
			h.subs = append(h.subs, sub)
		}
	}
	h.wg.Add(2)
	go func() { defer h.wg.Done(); h.tail(ctx) }()
	go func() { defer h.wg.Done(); h.presence.run(ctx) }()
	return nil
}

// Close stops the tailer and closes every connection.
func (h *Hub) Close() {
	for _, s := range h.subs {
		_ = s.Stop()
	}
	h.subs = nil
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	for _, s := range h.shards {
		s.mu.RLock()
		var all []*conn
		for _, cs := range s.users {
			for c := range cs {
				all = append(all, c)
			}
		}
		s.mu.RUnlock()
		for _, c := range all {
			c.closeWith(websocket.CloseGoingAway, "server shutting down")
		}
	}
}

func (h *Hub) onNotify(ev bus.Event) {
	var n struct {
		Pos int64 `json:"pos"`
	}
	if json.Unmarshal(ev.Data, &n) != nil || n.Pos <= h.cursor.Load() {
		return
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// tail reads the log in position order and dispatches each event once.
func (h *Hub) tail(ctx context.Context) {
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-t.C:
		}
		for ctx.Err() == nil {
			evs, err := h.svc.Store().EventsAfter(ctx, h.cursor.Load(), 500)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("imws: reading the event log failed", "err", err)
				}
				break
			}
			for _, e := range evs {
				h.dispatch(e)
				h.cursor.Store(e.Pos)
			}
			if len(evs) < 500 {
				break
			}
		}
	}
}

// Cursor returns the last log position this node has dispatched.
func (h *Hub) Cursor() int64 { return h.cursor.Load() }

// dispatch delivers one log event to the local connections that should see
// it, keeping the conversation map in step with membership events.
func (h *Hub) dispatch(e im.Event) {
	frame := newFrame(e.Pos, encodeEvent(e))
	if e.Type == im.EvMessagePosted {
		frame.stored = e.At
	}
	if e.Personal() {
		switch e.Type {
		case im.EvJoined:
			h.follow(e.UserID, e.ConversationID)
		}
		h.toUser(e.UserID, frame)
		if e.Type == im.EvLeft {
			h.unfollow(e.UserID, e.ConversationID)
		}
		return
	}
	var mc im.MembersChange
	if e.Type == im.EvMembersAdded || e.Type == im.EvMembersRemoved {
		_ = json.Unmarshal(e.Data, &mc)
	}
	if e.Type == im.EvMembersAdded {
		for _, u := range mc.UserIDs {
			h.follow(u, e.ConversationID)
		}
	}
	h.toConversation(e.ConversationID, frame, "")
	if e.Type == im.EvMembersRemoved {
		for _, u := range mc.UserIDs {
			h.unfollow(u, e.ConversationID)
		}
	}
}

func (h *Hub) toConversation(convID string, f *frame, exceptUser string) {
	for _, s := range h.shards {
		s.mu.RLock()
		for c := range s.convs[convID] {
			if c.userID != exceptUser {
				c.deliver(f)
			}
		}
		s.mu.RUnlock()
	}
}

func (h *Hub) toUser(userID string, f *frame) {
	s := h.shardOf(userID)
	s.mu.RLock()
	for c := range s.users[userID] {
		c.deliver(f)
	}
	s.mu.RUnlock()
}

func (h *Hub) follow(userID, convID string) {
	s := h.shardOf(userID)
	s.setup.Lock()
	defer s.setup.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.users[userID] {
		set := s.convs[convID]
		if set == nil {
			set = map[*conn]struct{}{}
			s.convs[convID] = set
		}
		set[c] = struct{}{}
	}
}

func (h *Hub) unfollow(userID, convID string) {
	s := h.shardOf(userID)
	s.setup.Lock()
	defer s.setup.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.convs[convID]
	for c := range s.users[userID] {
		delete(set, c)
	}
	if len(set) == 0 {
		delete(s.convs, convID)
	}
}

// register loads the user's conversations and adds the connection, under
// the shard's setup lock (see shard.setup).
func (h *Hub) register(ctx context.Context, c *conn) (first bool, err error) {
	s := h.shardOf(c.userID)
	s.setup.Lock()
	defer s.setup.Unlock()
	convIDs, err := h.svc.ConversationIDs(ctx, c.userID)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.users[c.userID]
	if set == nil {
		set = map[*conn]struct{}{}
		s.users[c.userID] = set
	}
	first = len(set) == 0
	set[c] = struct{}{}
	for _, id := range convIDs {
		cs := s.convs[id]
		if cs == nil {
			cs = map[*conn]struct{}{}
			s.convs[id] = cs
		}
		cs[c] = struct{}{}
	}
	return first, nil
}

func (h *Hub) unregister(c *conn) (last bool) {
	s := h.shardOf(c.userID)
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.users[c.userID]
	if _, ok := set[c]; !ok {
		return false
	}
	delete(set, c)
	if len(set) == 0 {
		delete(s.users, c.userID)
		last = true
	}
	for id, cs := range s.convs {
		delete(cs, c)
		if len(cs) == 0 {
			delete(s.convs, id)
		}
	}
	return last
}

// Connections returns how many connections this node holds.
func (h *Hub) Connections() int {
	n := 0
	for _, s := range h.shards {
		s.mu.RLock()
		for _, cs := range s.users {
			n += len(cs)
		}
		s.mu.RUnlock()
	}
	return n
}

func (h *Hub) onKick(ev bus.Event) {
	var k struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(ev.Data, &k) != nil || k.UserID == "" {
		return
	}
	s := h.shardOf(k.UserID)
	s.mu.RLock()
	var cs []*conn
	for c := range s.users[k.UserID] {
		cs = append(cs, c)
	}
	s.mu.RUnlock()
	for _, c := range cs {
		c.closeWith(CloseKicked, "no longer allowed")
	}
}

func (h *Hub) onTyping(ev bus.Event) {
	var t im.TypingSignal
	if json.Unmarshal(ev.Data, &t) != nil || t.ConversationID == "" {
		return
	}
	b, _ := json.Marshal(typingFrame{Type: "typing", ConversationID: t.ConversationID, UserID: t.UserID})
	h.toConversation(t.ConversationID, newFrame(0, b), t.UserID)
}
