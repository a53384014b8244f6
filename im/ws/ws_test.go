package imws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
	imws "github.com/roundshq/rounds/im/ws"
)

// bearer authenticates "Authorization: Bearer <user id>" — enough for
// tests; the real authenticator is core/identity's.
type bearer struct{}

func (bearer) Authenticate(r *http.Request) (core.Actor, error) {
	id := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !core.ValidID(id) {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: id, OrgID: "org", Kind: core.ActorUser}, nil
}

type node struct {
	db  *sqldb.DB
	svc *im.Service
	hub *imws.Hub
	srv *httptest.Server
}

func startNode(t testing.TB, db *sqldb.DB, b bus.Bus, clock core.Clock, cfg imws.Config) *node {
	t.Helper()
	return startNodeWith(t, db, im.Deps{Store: sqlstore.New(db), Bus: b, Clock: clock}, im.Config{ReceiptWindow: 20 * time.Millisecond}, cfg)
}

func startNodeWith(t testing.TB, db *sqldb.DB, deps im.Deps, icfg im.Config, cfg imws.Config) *node {
	t.Helper()
	b := deps.Bus
	svc := im.NewService(deps, icfg)
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	hub := imws.NewHub(svc, b, bearer{}, cfg)
	if err := hub.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub)
	n := &node{db: db, svc: svc, hub: hub, srv: srv}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	n.srv.CloseClientConnections()
	n.srv.Close()
	n.hub.Close()
	n.svc.Close(context.Background())
}

func migrations() []sqldbtest.Migration {
	return []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}
}

type client struct {
	t    testing.TB
	ws   *websocket.Conn
	user string
	last int64
}

func dial(t testing.TB, n *node, user string, query string) *client {
	t.Helper()
	return dialWith(t, websocket.DefaultDialer, n, user, query)
}

func dialWith(t testing.TB, d *websocket.Dialer, n *node, user string, query string) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(n.srv.URL, "http") + imws.Path + query
	h := http.Header{"Authorization": {"Bearer " + user}}
	ws, resp, err := d.Dial(u, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	c := &client{t: t, ws: ws, user: user}
	t.Cleanup(func() { ws.Close() })
	return c
}

type frame struct {
	Type           string          `json:"type"`
	Pos            int64           `json:"pos"`
	Event          string          `json:"event"`
	ConversationID string          `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
	ReqID          string          `json:"req_id"`
	OK             bool            `json:"ok"`
	Error          *struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
	UserID string          `json:"user_id"`
	Online map[string]bool `json:"online"`
}

func (c *client) read(timeout time.Duration) (frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
	var f frame
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("bad frame %s: %v", b, err)
	}
	if f.Type == "event" {
		if f.Pos <= c.last {
			c.t.Fatalf("%s: position went back or repeated: %d after %d", c.user[:8], f.Pos, c.last)
		}
		c.last = f.Pos
	}
	return f, nil
}

// next reads until a frame of the wanted type (and event type) arrives.
func (c *client) next(typ, event string) frame {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("%s waiting for %s %s: %v", c.user[:8], typ, event, err)
		}
		if f.Type == typ && (event == "" || f.Event == event) {
			return f
		}
	}
	c.t.Fatalf("%s: no %s %s frame", c.user[:8], typ, event)
	return frame{}
}

func (c *client) write(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) request(v map[string]any) frame {
	c.t.Helper()
	id := core.RandomToken(6)
	v["req_id"] = id
	c.write(v)
	for {
		f := c.next("reply", "")
		if f.ReqID == id {
			return f
		}
	}
}

func actor(u string) core.Actor { return core.Actor{UserID: u, OrgID: "org", Kind: core.ActorUser} }

func group(t testing.TB, svc *im.Service, owner string, members ...string) im.Conversation {
	t.Helper()
	c, err := svc.CreateGroup(context.Background(), actor(owner), "Ward 5 nurses", members)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func text(t testing.TB, f frame) string {
	var m im.Message
	if err := json.Unmarshal(f.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Text
}

func TestLiveDeliveryAndReceipts(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		n := startNode(t, db, inproc.New(), nil, imws.Config{})
		alice, bob := core.NewID(), core.NewID()
		conv := group(t, n.svc, alice, bob)
		ca := dial(t, n, alice, "")
		cb := dial(t, n, bob, "")
		ca.next("ready", "")
		cb.next("ready", "")

		r := ca.request(map[string]any{"type": "send", "conversation_id": conv.ID, "client_msg_id": "m1", "text": "你好，5床需要会诊"})
		if !r.OK {
			t.Fatalf("send failed: %+v", r.Error)
		}
		var sent im.Message
		_ = json.Unmarshal(r.Data, &sent)
		got := cb.next("event", im.EvMessagePosted)
		if text(t, got) != "你好，5床需要会诊" || got.ConversationID != conv.ID || got.Pos == 0 {
			t.Fatalf("bob got %+v", got)
		}
		// A retried send returns the same message and posts nothing new.
		r2 := ca.request(map[string]any{"type": "send", "conversation_id": conv.ID, "client_msg_id": "m1", "text": "你好，5床需要会诊"})
		var again im.Message
		_ = json.Unmarshal(r2.Data, &again)
		if again.ID != sent.ID || again.Seq != sent.Seq {
			t.Fatalf("retry made a new message: %+v vs %+v", again, sent)
		}
		// Bob reads; Alice sees the receipt live.
		if r := cb.request(map[string]any{"type": "read", "conversation_id": conv.ID, "seq": sent.Seq}); !r.OK {
			t.Fatalf("read: %+v", r.Error)
		}
		bobRead := func(c *client) {
			t.Helper()
			for {
				rc := c.next("event", im.EvReceipts)
				var change im.ReceiptsChange
				_ = json.Unmarshal(rc.Data, &change)
				for _, r := range change.Readers {
					if r.UserID == bob && r.ReadSeq == sent.Seq {
						return
					}
				}
			}
		}
		bobRead(ca)
		// Typing is ephemeral and reaches the others only.
		if r := ca.request(map[string]any{"type": "typing", "conversation_id": conv.ID}); !r.OK {
			t.Fatalf("typing: %+v", r.Error)
		}
		ty := cb.next("typing", "")
		if ty.UserID != alice || ty.ConversationID != conv.ID {
			t.Fatalf("typing frame %+v", ty)
		}
		// Presence: Bob asks about Alice.
		p := cb.request(map[string]any{"type": "presence", "user_ids": []string{alice, core.NewID()}})
		var pf struct {
			Online map[string]bool `json:"online"`
		}
		_ = json.Unmarshal(p.Data, &pf)
		if !pf.Online[alice] || len(pf.Online) != 2 {
			t.Fatalf("presence %+v", pf)
		}
		ca.ws.Close()
		off := cb.next("presence", "")
		if off.Online[alice] {
			t.Fatalf("alice still online after closing: %+v", off)
		}
	})
}

func TestBadFramesKeepTheConnection(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	n := startNode(t, db, inproc.New(), nil, imws.Config{})
	alice, bob, carol := core.NewID(), core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob)
	other := group(t, n.svc, carol)
	m, err := n.svc.Send(context.Background(), actor(bob), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "b1", Text: "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	ca := dial(t, n, alice, "")
	ca.next("ready", "")
	cases := []struct {
		name  string
		raw   string
		v     map[string]any
		code  string
		field string
	}{
		{name: "malformed JSON", raw: `{"type":"send",`, code: "invalid", field: "body"},
		{name: "unknown field", raw: `{"type":"ping","bogus":1}`, code: "invalid", field: "bogus"},
		{name: "wrong type", raw: `{"type":"read","req_id":"x","seq":"ten"}`, code: "invalid", field: "seq"},
		{name: "oversized frame", raw: `{"type":"send","text":"` + strings.Repeat("床", 30000) + `"}`, code: "too_large"},
		{name: "unknown operation", v: map[string]any{"type": "dance"}, code: "invalid", field: "type"},
		{name: "send to a conversation one is not in", v: map[string]any{"type": "send", "conversation_id": other.ID, "client_msg_id": "x", "text": "hi"}, code: "forbidden"},
		{name: "edit someone else's message", v: map[string]any{"type": "edit", "message_id": m.ID, "text": "mine now"}, code: "forbidden"},
		{name: "empty text", v: map[string]any{"type": "send", "conversation_id": conv.ID, "client_msg_id": "y", "text": "  "}, code: "invalid", field: "text"},
		{name: "missing client id", v: map[string]any{"type": "send", "conversation_id": conv.ID, "text": "hi"}, code: "invalid", field: "client_msg_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f frame
			if tc.raw != "" {
				if err := ca.ws.WriteMessage(websocket.TextMessage, []byte(tc.raw)); err != nil {
					t.Fatal(err)
				}
				f = ca.next("error", "")
			} else {
				f = ca.request(tc.v)
				if f.OK {
					t.Fatalf("accepted: %+v", f)
				}
			}
			if f.Error == nil || f.Error.Code != tc.code {
				t.Fatalf("want %s, got %+v", tc.code, f.Error)
			}
			if tc.field != "" && f.Error.Details["field"] != tc.field {
				t.Fatalf("want field %s, got %+v", tc.field, f.Error.Details)
			}
			// The connection is still usable.
			ca.write(map[string]any{"type": "ping", "req_id": "p"})
			ca.next("pong", "")
		})
	}
	// Nothing changed: bob's message is intact and no message was added.
	got, err := n.svc.History(context.Background(), actor(alice), conv.ID, im.HistoryQuery{})
	if err != nil || len(got) != 1 || got[0].Text != "bob's" {
		t.Fatalf("history after bad frames: %+v err=%v", got, err)
	}
}

func TestResumeAfterDisconnectAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rounds.db")
	open := func() *sqldb.DB {
		db, err := sqldb.Open(context.Background(), sqldb.Config{SQLitePath: path, Synchronous: "normal"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(context.Background(), sqlstore.Area, sqlstore.Migrations()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	ctx := context.Background()
	db := open()
	t.Cleanup(func() { db.Close() })
	n := startNode(t, db, inproc.New(), nil, imws.Config{})
	alice, bob := core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob)
	cb := dial(t, n, bob, "?since=0")
	joined := cb.next("event", im.EvJoined)
	cb.next("ready", "")
	send := func(svc *im.Service, i int) {
		if _, err := svc.Send(ctx, actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "m" + strconv.Itoa(i), Text: "msg " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	send(n.svc, 1)
	first := cb.next("event", im.EvMessagePosted)
	if first.Pos <= joined.Pos {
		t.Fatalf("positions not increasing: %d then %d", joined.Pos, first.Pos)
	}
	cb.ws.Close()

	// Missed while away.
	for i := 2; i <= 4; i++ {
		send(n.svc, i)
	}
	cb2 := dial(t, n, bob, "?since="+strconv.FormatInt(first.Pos, 10))
	cb2.last = first.Pos
	for i := 2; i <= 4; i++ {
		f := cb2.next("event", im.EvMessagePosted)
		if text(t, f) != "msg "+strconv.Itoa(i) {
			t.Fatalf("replay %d got %q", i, text(t, f))
		}
	}
	ready := cb2.next("ready", "")
	if ready.Pos != cb2.last {
		t.Fatalf("ready at %d, last event %d", ready.Pos, cb2.last)
	}
	// Live after replay, no duplicate (read() fails on a repeated position).
	send(n.svc, 5)
	if f := cb2.next("event", im.EvMessagePosted); text(t, f) != "msg 5" {
		t.Fatalf("live after replay: %q", text(t, f))
	}
	last := cb2.last
	cb2.ws.Close()

	// "Restart": everything closed and reopened from the same file.
	n.stop()
	db.Close()
	db = open()
	t.Cleanup(func() { db.Close() })
	n2 := startNode(t, db, inproc.New(), nil, imws.Config{})
	for i := 6; i <= 7; i++ {
		send(n2.svc, i)
	}
	cb3 := dial(t, n2, bob, "?since="+strconv.FormatInt(last, 10))
	cb3.last = last
	for i := 6; i <= 7; i++ {
		if f := cb3.next("event", im.EvMessagePosted); text(t, f) != "msg "+strconv.Itoa(i) {
			t.Fatalf("after restart %d got %q", i, text(t, f))
		}
	}
	cb3.next("ready", "")
}

func TestResyncWhenTooOld(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	clock := imtest.NewClock(time.Now().Add(-30 * 24 * time.Hour))
	n := startNode(t, db, inproc.New(), clock, imws.Config{})
	alice, bob := core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob)
	for i := 0; i < 3; i++ {
		if _, err := n.svc.Send(context.Background(), actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: core.NewID(), Text: "old"}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(30 * 24 * time.Hour) // events are written with the DB's time, which is now: prune with the moved clock
	if _, err := n.svc.Store().PruneEvents(context.Background(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	cb := dial(t, n, bob, "?since=1")
	cb.next("resync", "")
	cb.next("ready", "")
	// A position from the future (a restored database) also resyncs.
	cf := dial(t, n, bob, "?since=999999")
	cf.next("resync", "")
}

func TestSlowConsumerIsDisconnectedOthersUnaffected(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	n := startNode(t, db, inproc.New(), nil, imws.Config{QueueSize: 16})
	alice, bob, slow := core.NewID(), core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob, slow)
	// The slow client never reads, and its socket buffer is tiny so the
	// kernel does not hide that for megabytes.
	tiny := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	cs := dialWith(t, tiny, n, slow, "")
	cb := dial(t, n, bob, "")
	cb.next("ready", "")
	big := strings.Repeat("检查结果", 1000) // 12 KB per message
	// Bob keeps up (each message is read before the next is sent); the
	// slow client never reads, so its queue and socket buffers fill.
	// Socket buffers absorb a few MB before the queue fills; keep going
	// until the slow client is cut off, then 20 more for Bob.
	extra := -1
	for i := 0; i < 3000 && extra != 0; i++ {
		if _, err := n.svc.Send(context.Background(), actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: core.NewID(), Text: big}); err != nil {
			t.Fatal(err)
		}
		if f := cb.next("event", im.EvMessagePosted); text(t, f) != big {
			t.Fatalf("bob's message %d is wrong", i)
		}
		switch {
		case extra > 0:
			extra--
		case extra < 0 && n.hub.SlowClosed.Load() > 0:
			extra = 20
		}
	}
	if n.hub.SlowClosed.Load() != 1 {
		t.Fatalf("slow consumers closed: %d, want 1", n.hub.SlowClosed.Load())
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.hub.Connections() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := n.hub.Connections(); c != 1 {
		t.Fatalf("connections after the slow one was cut: %d, want 1 (bob)", c)
	}
	cs.ws.Close()
}

func TestUnauthenticatedUpgradeRefused(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	n := startNode(t, db, inproc.New(), nil, imws.Config{})
	u := "ws" + strings.TrimPrefix(n.srv.URL, "http") + imws.Path
	_, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("want 401, got %v %v", resp, err)
	}
	// Cookie-style request (no bearer) from a foreign origin is refused.
	_, resp, err = websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"http://evil.example"}, "Authorization": {"Basic x"}})
	if err == nil {
		t.Fatal("foreign origin accepted")
	}
	_ = resp
}

// TestThroughTheAPIRouter mounts the endpoint as a registered route: the
// router authenticates and the upgrade still works.
func TestThroughTheAPIRouter(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	n := startNode(t, db, inproc.New(), nil, imws.Config{})
	mux := http.NewServeMux()
	rt := httpapi.NewRouter(mux, bearer{}, nil)
	rt.Handle(n.hub.Route())
	srv := httptest.NewServer(httpapi.Middleware(mux))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	alice, bob := core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob)
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + imws.Path
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {"Bearer " + bob}})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws, user: bob}
	t.Cleanup(func() { ws.Close() })
	c.next("ready", "")
	send := func() {
		if _, err := n.svc.Send(context.Background(), actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: core.NewID(), Text: "经由路由"}); err != nil {
			t.Fatal(err)
		}
	}
	send()
	if f := c.next("event", im.EvMessagePosted); text(t, f) != "经由路由" {
		t.Fatalf("got %q", text(t, f))
	}
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated through the router: %v", err)
	}
}

// TestLeaverIsCutOffAtOnce: an org-chart "staff left" event removes the
// person from their department groups and closes their live connections.
func TestLeaverIsCutOffAtOnce(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	b := inproc.New()
	dir := imtest.NewDirectory()
	admin, stays, leaves := core.NewID(), core.NewID(), core.NewID()
	dir.Place(stays, "ward5")
	dir.Place(leaves, "ward5")
	n := startNodeWith(t, db, im.Deps{Store: sqlstore.New(db), Bus: b, Directory: dir, Authorizer: imtest.Authorizer{Admins: map[string]bool{admin: true}}},
		im.Config{}, imws.Config{})
	subs, err := n.svc.FollowOrgChart(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range subs {
			_ = s.Stop()
		}
	})
	g, err := n.svc.CreateDepartmentGroup(context.Background(), actor(admin), "5病区", "ward5", false)
	if err != nil {
		t.Fatal(err)
	}
	cs := dial(t, n, stays, "")
	cl := dial(t, n, leaves, "")
	cs.next("ready", "")
	cl.next("ready", "")
	dir.Leave(leaves)
	if err := b.Publish(context.Background(), im.SubjectStaffLeft, []byte(`{"org_id":"org","user_id":"`+leaves+`"}`)); err != nil {
		t.Fatal(err)
	}
	removed := cs.next("event", im.EvMembersRemoved)
	var mc im.MembersChange
	_ = json.Unmarshal(removed.Data, &mc)
	if len(mc.UserIDs) != 1 || mc.UserIDs[0] != leaves || mc.ConversationID != g.ID {
		t.Fatalf("members.removed %+v", mc)
	}
	for {
		_, err := cl.read(5 * time.Second)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != imws.CloseKicked {
				t.Fatalf("close code %d, want %d", ce.Code, imws.CloseKicked)
			}
			break
		}
		if err != nil {
			t.Fatalf("leaver's connection: %v", err)
		}
	}
	if ids, _ := n.svc.Store().MemberIDs(context.Background(), g.ID); len(ids) != 1 || ids[0] != stays {
		t.Fatalf("members after leaving: %v", ids)
	}
}

// TestResumeWithinTheMinimumWindow: with the shortest retention (10
// minutes) a client away for 9 minutes resumes; one away for longer than
// the window is told to resync.
func TestResumeWithinTheMinimumWindow(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	clock := imtest.NewClock(time.Now())
	n := startNodeWith(t, db, im.Deps{Store: sqlstore.New(db), Bus: inproc.New(), Clock: clock}, im.Config{EventRetention: time.Minute}, imws.Config{})
	if got := n.svc.Config().EventRetention; got != 10*time.Minute {
		t.Fatalf("retention %v, want the 10 minute minimum", got)
	}
	alice, bob := core.NewID(), core.NewID()
	conv := group(t, n.svc, alice, bob)
	head, _ := n.svc.Head(context.Background())
	if _, err := n.svc.Send(context.Background(), actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "m", Text: "你不在时发的"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Minute)
	if _, err := n.svc.PruneEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := dial(t, n, bob, "?since="+strconv.FormatInt(head, 10))
	if f := c.next("event", im.EvMessagePosted); text(t, f) != "你不在时发的" {
		t.Fatalf("after 9 minutes: %q", text(t, f))
	}
	c.ws.Close()
	clock.Advance(2 * time.Minute)
	if _, err := n.svc.PruneEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	c = dial(t, n, bob, "?since="+strconv.FormatInt(head, 10))
	c.next("resync", "")
}
