package imws_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus/bustest"
	natsbus "github.com/roundshq/rounds/core/bus/nats"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
	imws "github.com/roundshq/rounds/im/ws"
)

// TestTwoNodes runs two servers sharing one PostgreSQL schema and a NATS
// server: a user on node A and one on node B exchange messages, see each
// other's receipts, typing and presence.
func TestTwoNodes(t *testing.T) {
	natsURL := bustest.Require(t, "ROUNDS_TEST_NATS")
	dsn := sqldbtest.PostgresDSN(t)
	prefix := "t" + strings.ReplaceAll(core.NewID(), "-", "")
	openDB := func() *sqldb.DB {
		db, err := sqldb.Open(context.Background(), sqldb.Config{PostgresDSN: dsn, MaxOpenConns: 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(context.Background(), sqlstore.Area, sqlstore.Migrations()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	openBus := func() *natsbus.Bus {
		b, err := natsbus.Connect(natsURL, natsbus.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	// A long poll interval proves delivery rides on the NATS notification,
	// not on polling.
	cfg := imws.Config{PollInterval: time.Minute, PresenceInterval: time.Second}
	a := startNode(t, openDB(), openBus(), nil, cfg)
	b := startNode(t, openDB(), openBus(), nil, cfg)

	alice, bob := core.NewID(), core.NewID()
	conv := group(t, a.svc, alice, bob)
	ca := dial(t, a, alice, "")
	cb := dial(t, b, bob, "")
	ca.next("ready", "")
	cb.next("ready", "")

	r := ca.request(map[string]any{"type": "send", "conversation_id": conv.ID, "client_msg_id": "a1", "text": "B节点的鲍勃，你好"})
	if !r.OK {
		t.Fatalf("send on A: %+v", r.Error)
	}
	var sent im.Message
	_ = json.Unmarshal(r.Data, &sent)
	if f := cb.next("event", im.EvMessagePosted); text(t, f) != "B节点的鲍勃，你好" {
		t.Fatalf("bob on B got %q", text(t, f))
	}
	r = cb.request(map[string]any{"type": "send", "conversation_id": conv.ID, "client_msg_id": "b1", "text": "收到"})
	if !r.OK {
		t.Fatalf("send on B: %+v", r.Error)
	}
	if f := ca.next("event", im.EvMessagePosted); text(t, f) != "B节点的鲍勃，你好" {
		t.Fatalf("alice's own message on A: %q", text(t, f))
	}
	if f := ca.next("event", im.EvMessagePosted); text(t, f) != "收到" {
		t.Fatalf("alice on A got %q", text(t, f))
	}
	// Bob reads Alice's message on node B; Alice on node A sees the receipt.
	if r := cb.request(map[string]any{"type": "read", "conversation_id": conv.ID, "seq": sent.Seq}); !r.OK {
		t.Fatalf("read: %+v", r.Error)
	}
	for seen := false; !seen; {
		rc := ca.next("event", im.EvReceipts)
		var change im.ReceiptsChange
		_ = json.Unmarshal(rc.Data, &change)
		for _, r := range change.Readers {
			seen = seen || r.UserID == bob && r.ReadSeq >= sent.Seq
		}
	}
	rcpt, err := a.svc.Receipt(context.Background(), actor(alice), sent.ID)
	if err != nil || rcpt.ReadCount != 1 {
		t.Fatalf("receipt on A: %+v err=%v", rcpt, err)
	}
	// Typing crosses nodes too.
	if r := cb.request(map[string]any{"type": "typing", "conversation_id": conv.ID}); !r.OK {
		t.Fatalf("typing: %+v", r.Error)
	}
	if f := ca.next("typing", ""); f.UserID != bob {
		t.Fatalf("typing on A: %+v", f)
	}
	// Presence: node A knows Bob (connected to B) is online.
	deadline := time.Now().Add(5 * time.Second)
	for !a.hub.IsOnline(bob) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !a.hub.IsOnline(bob) {
		t.Fatal("node A does not see Bob on node B as online")
	}
	last := cb.last
	cb.ws.Close()
	// Bob comes back on the other node: what he missed is replayed there.
	if _, err := a.svc.Send(context.Background(), actor(alice), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "a2", Text: "鲍勃不在时"}); err != nil {
		t.Fatal(err)
	}
	cb2 := dial(t, a, bob, "?since="+strconv.FormatInt(last, 10))
	cb2.last = last
	if f := cb2.next("event", im.EvMessagePosted); text(t, f) != "鲍勃不在时" {
		t.Fatalf("resume on the other node: %q", text(t, f))
	}
	cb2.next("ready", "")
	cb2.ws.Close()
	deadline = time.Now().Add(5 * time.Second)
	for a.hub.IsOnline(bob) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if a.hub.IsOnline(bob) {
		t.Fatal("node A still sees Bob online after he disconnected from B")
	}
}
