package durability_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
	"github.com/roundshq/rounds/core/files/minio/miniotest"
)

// events collects one subscriber's events.
type events struct {
	mu  sync.Mutex
	all []client.Event
}

func (e *events) add(ev client.Event, _ time.Time) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) find(match func(client.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		if match(ev) {
			return true
		}
	}
	return false
}

func (e *events) snapshot() []client.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]client.Event(nil), e.all...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func posted(ev client.Event, text string) bool {
	var m struct {
		Text string `json:"text"`
		Kind string `json:"kind"`
	}
	return ev.Event == "message.posted" && json.Unmarshal(ev.Data, &m) == nil && strings.Contains(m.Text, text)
}

// TestClusterOfTwoNodes runs two real Rounds processes on loopback sharing
// PostgreSQL, NATS and MinIO. A nurse on node A and her head nurse on node
// B chat and see each other's read receipts; the nurse's leave request on A
// reaches the head nurse on B as a card from the approvals assistant; then
// node A is killed and the nurse's client resumes on node B with nothing lost
// or doubled.
func TestClusterOfTwoNodes(t *testing.T) {
	pg, nats := os.Getenv("ROUNDS_TEST_POSTGRES"), os.Getenv("ROUNDS_TEST_NATS")
	if pg == "" || nats == "" {
		if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("the cluster test needs ROUNDS_TEST_POSTGRES and ROUNDS_TEST_NATS")
		}
		t.Skip("set ROUNDS_TEST_POSTGRES, ROUNDS_TEST_NATS and ROUNDS_TEST_MINIO=1 for the two-node cluster test")
	}
	files := miniotest.Start(t)
	bin := buildServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	shared := []string{
		"ROUNDS_DATABASE_POSTGRES_DSN=" + freshPostgres(t, pg),
		"ROUNDS_BUS_NATS_URL=" + nats, "ROUNDS_BUS_SUBJECT_PREFIX=cluster" + hex.EncodeToString(b),
		"ROUNDS_FILES_MINIO_ENDPOINT=" + files.Endpoint, "ROUNDS_FILES_MINIO_ACCESS_KEY=" + files.AccessKey,
		"ROUNDS_FILES_MINIO_SECRET_KEY=" + files.SecretKey, "ROUNDS_FILES_MINIO_BUCKET=" + files.Bucket,
	}
	nodeA := newServer(t, bin, shared...)
	nodeA.start(ctx) // loads the demo hospital group into the shared database
	nodeB := newServer(t, bin, shared...)
	nodeB.starts = 1 // plain serve: the demo is there already
	nodeB.start(ctx)
	ca, cb := client.New(nodeA.base()), client.New(nodeB.base())

	nurseTok, nurse, err := ca.SignIn(ctx, "jcyy.10067", demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	headTok, head, err := cb.SignIn(ctx, "jcyy.10065", demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := cb.CreateGroup(ctx, headTok, "跨节点交班", []string{nurse.ID})
	if err != nil {
		t.Fatal(err)
	}

	nurseEv, headEv := &events{}, &events{}
	subCtx, stopNurse := context.WithCancel(ctx)
	sn := &client.Subscriber{URL: client.WSURL(nodeA.base()), Token: nurseTok, Since: -1, OnEvent: nurseEv.add}
	go func() { _ = sn.Run(subCtx) }()
	sh := &client.Subscriber{URL: client.WSURL(nodeB.base()), Token: headTok, Since: -1, OnEvent: headEv.add}
	go func() { _ = sh.Run(ctx) }()
	<-sn.Ready()
	<-sh.Ready()

	// The head nurse on B writes; the nurse on A receives it.
	m1, err := cb.Send(ctx, headTok, conv.ID, "b-1", "节点B：5床夜间血压偏高")
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the nurse on node A to receive the message from node B", func() bool {
		return nurseEv.find(func(ev client.Event) bool { return posted(ev, "节点B：5床") })
	})
	// The nurse reads on A; the head nurse's client on B sees the receipt.
	if err := ca.Read(ctx, nurseTok, conv.ID, m1.Seq); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the read receipt from node A on node B", func() bool {
		return headEv.find(func(ev client.Event) bool {
			return ev.Event == "receipts" && strings.Contains(string(ev.Data), nurse.ID)
		})
	})
	if r, err := cb.Receipt(ctx, headTok, m1.ID); err != nil || r.ReadCount != 1 {
		t.Fatalf("receipt on node B: %+v %v", r, err)
	}

	// A leave request submitted on A reaches the head nurse on B as a card.
	var out struct {
		RequestID string `json:"request_id"`
	}
	form := map[string]any{"leave_type": "sick", "period": map[string]string{"start": "2026-12-28", "end": "2026-12-28"}, "reason": "发热"}
	if err := ca.Do(ctx, nurseTok, "POST", "/api/v1/approvals/requests", map[string]any{"action_id": "leave-1", "template_code": "leave", "form": form}, &out); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the approval card on node B", func() bool {
		return headEv.find(func(ev client.Event) bool { return posted(ev, out.RequestID) })
	})

	// Node A dies. The nurse's client resumes on node B from its last
	// position, while the head nurse keeps writing.
	stopNurse()
	nodeA.kill()
	last := sn.Pos()
	for i, text := range []string{"节点A宕机后第一条", "第二条", "第三条"} {
		if _, err := cb.Send(ctx, headTok, conv.ID, "b-after-"+string(rune('1'+i)), text); err != nil {
			t.Fatal(err)
		}
	}
	resumed := &events{}
	sn2 := &client.Subscriber{URL: client.WSURL(nodeB.base()), Token: nurseTok, Since: last, OnEvent: resumed.add}
	go func() { _ = sn2.Run(ctx) }()
	<-sn2.Ready()
	waitUntil(t, "the three messages after the failover", func() bool {
		return resumed.find(func(ev client.Event) bool { return posted(ev, "第三条") })
	})
	// Nothing lost, nothing doubled: every message of the conversation was
	// received exactly once across both connections, in seq order.
	history, err := cb.History(ctx, headTok, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var seqs []int64
	for _, e := range [][]client.Event{nurseEv.snapshot(), resumed.snapshot()} {
		for _, ev := range e {
			if ev.Event != "message.posted" || ev.ConversationID != conv.ID {
				continue
			}
			var m client.Message
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				t.Fatal(err)
			}
			seen[m.ID]++
			seqs = append(seqs, m.Seq)
		}
	}
	for _, m := range history {
		if seen[m.ID] != 1 {
			t.Errorf("message seq %d (%q) received %d times", m.Seq, m.Text, seen[m.ID])
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("seq %d followed by %d", seqs[i-1], seqs[i])
		}
	}
	if sn.Repeats.Load()+sn2.Repeats.Load() != 0 || sn2.Resyncs.Load() != 0 {
		t.Fatalf("repeats %d, resyncs %d", sn.Repeats.Load()+sn2.Repeats.Load(), sn2.Resyncs.Load())
	}
	t.Logf("%d messages across the failover, each received once; head nurse %s on B, nurse %s on A then B", len(history), head.Login, nurse.Login)
}
