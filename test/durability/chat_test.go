package durability_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

const demoPassword = "rounds-demo-2026"

// The demo's five accounts of 江城市第一人民医院 (printed by rounds demo).
var demoLogins = []string{"jcyy.10020", "jcyy.10001", "jcyy.10065", "jcyy.10002", "jcyy.10067"}

// killCycles lets the clients work for a random 0.3–1.5 s, kills the
// server with SIGKILL and restarts it, cycles times.
func killCycles(ctx context.Context, t *testing.T, srv *server, cycles int, done func() int) {
	t.Helper()
	for cycle := 1; cycle <= cycles; cycle++ {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		n := done()
		srv.kill()
		t0 := time.Now()
		srv.start(ctx)
		if cycle%5 == 0 || cycle == cycles {
			t.Logf("cycle %d: %d acknowledged so far, restart took %s", cycle, n, time.Since(t0).Round(time.Millisecond))
		}
	}
}

func enabled(t *testing.T) int {
	t.Helper()
	if os.Getenv("ROUNDS_TEST_DURABILITY") != "1" {
		t.Skip("set ROUNDS_TEST_DURABILITY=1 to build the server and kill it repeatedly (.ci/durability)")
	}
	cycles := 20
	if s := os.Getenv("ROUNDS_DURABILITY_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ROUNDS_DURABILITY_CYCLES=%q: want a whole number from 1", s)
		}
		cycles = n
	}
	return cycles
}

// backends are SQLite (synchronous full, the default) and, when
// ROUNDS_TEST_POSTGRES is set, a fresh PostgreSQL database.
func backends(t *testing.T) map[string]func(t *testing.T) []string {
	out := map[string]func(t *testing.T) []string{
		"sqlite": func(*testing.T) []string { return []string{"ROUNDS_DATABASE_SQLITE_SYNCHRONOUS=full"} },
	}
	if dsn := os.Getenv("ROUNDS_TEST_POSTGRES"); dsn != "" {
		out["postgres"] = func(t *testing.T) []string {
			return []string{"ROUNDS_DATABASE_POSTGRES_DSN=" + freshPostgres(t, dsn)}
		}
	}
	return out
}

func TestChatSurvivesSIGKILL(t *testing.T) {
	cycles := enabled(t)
	bin := buildServer(t)
	for _, name := range []string{"sqlite", "postgres"} {
		env, ok := backends(t)[name]
		t.Run(name, func(t *testing.T) {
			if !ok {
				t.Skip("ROUNDS_TEST_POSTGRES is not set")
			}
			chatDurability(t, newServer(t, bin, env(t)...), cycles)
		})
	}
}

type sentMsg struct {
	conv string
	seq  int64
	id   string
}

// chatSubscriber records what one user's WebSocket delivered.
type chatSubscriber struct {
	sub  *client.Subscriber
	mu   sync.Mutex
	seqs map[string][]int64 // conversation → seqs in arrival order
}

func chatDurability(t *testing.T, srv *server, cycles int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	srv.start(ctx)
	c := client.New(srv.base())

	// Sign in the five demo accounts; sessions live in the database and
	// must survive every kill.
	tokens := make([]string, len(demoLogins))
	ids := make([]string, len(demoLogins))
	for i, l := range demoLogins {
		tok, u, err := c.SignIn(ctx, l, demoPassword)
		if err != nil {
			t.Fatalf("sign in %s: %v", l, err)
		}
		tokens[i], ids[i] = tok, u.ID
	}
	// Eight groups of three to five of them: sends to one conversation
	// queue behind each other for its next seq, so spreading the senders
	// lets the offered 1,000/s through.
	type conv struct {
		id      string
		members []int
	}
	var convs []conv
	for _, members := range [][]int{{0, 1, 2, 3, 4}, {0, 1, 2}, {2, 3, 4}, {1, 3, 4}, {0, 2, 4}, {3, 0, 1}, {4, 1, 2}, {1, 2, 3, 4}} {
		var others []string
		for _, m := range members[1:] {
			others = append(others, ids[m])
		}
		cv, err := c.CreateGroup(ctx, tokens[members[0]], fmt.Sprintf("急诊交班 %d", len(convs)), others)
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, conv{cv.ID, members})
	}

	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	var subWG sync.WaitGroup
	subs := make([]*chatSubscriber, len(tokens))
	for i, tok := range tokens {
		cs := &chatSubscriber{seqs: map[string][]int64{}}
		cs.sub = &client.Subscriber{URL: client.WSURL(srv.base()), Token: tok, Since: -1}
		cs.sub.OnEvent = func(ev client.Event, _ time.Time) {
			if ev.Event != "message.posted" {
				return
			}
			var m client.Message
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				return
			}
			cs.mu.Lock()
			cs.seqs[m.ConversationID] = append(cs.seqs[m.ConversationID], m.Seq)
			cs.mu.Unlock()
		}
		if err := cs.sub.Dial(ctx); err != nil {
			t.Fatal(err)
		}
		subWG.Add(1)
		go func() { defer subWG.Done(); _ = cs.sub.Run(subCtx) }()
		<-cs.sub.Ready()
		subs[i] = cs
	}

	// Senders: 50 loops at 20 messages a second each (1,000/s offered). A send that fails
	// (the server is down, or died mid-request) is retried with the same
	// client id until the server acknowledges it.
	const senders, perSender = 50, 20
	var mu sync.Mutex
	acked := map[string]sentMsg{} // client id → what the server answered
	var attempts, retried atomic.Int64
	stopSend := make(chan struct{})
	var sendWG sync.WaitGroup
	for s := 0; s < senders; s++ {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			cv := convs[s%len(convs)]
			user := cv.members[s%len(cv.members)]
			tick := time.NewTicker(time.Second / perSender)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stopSend:
					return
				case <-tick.C:
				}
				cid := fmt.Sprintf("dur-%d-%d", s, n)
				for try := 0; ; try++ {
					attempts.Add(1)
					sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
					m, err := c.Send(sctx, tokens[user], cv.id, cid, fmt.Sprintf("交班记录 %s", cid))
					scancel()
					if err == nil {
						if m.ClientMsgID != cid || m.ConversationID != cv.id {
							t.Errorf("send %s answered %+v", cid, m)
						}
						mu.Lock()
						acked[cid] = sentMsg{cv.id, m.Seq, m.ID}
						mu.Unlock()
						break
					}
					var apiErr *client.APIError
					if errors.As(err, &apiErr) && apiErr.Status < 500 && apiErr.Status != 429 {
						t.Errorf("send %s: %v", cid, err)
						break
					}
					if ctx.Err() != nil {
						return
					}
					retried.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	start := time.Now()
	killCycles(ctx, t, srv, cycles, func() int { mu.Lock(); defer mu.Unlock(); return len(acked) })
	time.Sleep(time.Second)
	close(stopSend)
	sendWG.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}

	// Every acknowledged message is stored exactly once, seqs are gapless,
	// and the stored set is exactly the acknowledged set.
	want := map[string]int64{} // conversation → highest seq
	for _, cv := range convs {
		hist, err := c.History(ctx, tokens[cv.members[0]], cv.id)
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		seen := map[string]bool{}
		for i, m := range hist {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %s: message %d has seq %d (gap or duplicate)", cv.id, i+1, m.Seq)
			}
			if seen[m.ClientMsgID] {
				t.Errorf("conversation %s: client id %s stored twice", cv.id, m.ClientMsgID)
			}
			seen[m.ClientMsgID] = true
			a, ok := acked[m.ClientMsgID]
			if !ok {
				t.Errorf("conversation %s: seq %d (%s) stored but never acknowledged", cv.id, m.Seq, m.ClientMsgID)
			} else if a.seq != m.Seq || a.id != m.ID || a.conv != cv.id {
				t.Errorf("%s acknowledged as %+v, stored as seq %d id %s", m.ClientMsgID, a, m.Seq, m.ID)
			}
		}
		want[cv.id] = int64(len(hist))
	}
	stored := 0
	for _, v := range want {
		stored += int(v)
	}
	if stored != len(acked) {
		t.Errorf("%d messages acknowledged, %d stored", len(acked), stored)
	}

	// Every subscriber catches up and saw each seq of its conversations
	// exactly once, in order.
	deadline := time.Now().Add(60 * time.Second)
	for i, cs := range subs {
		for _, cv := range convs {
			member := false
			for _, m := range cv.members {
				member = member || m == i
			}
			if !member {
				continue
			}
			for {
				cs.mu.Lock()
				got := append([]int64(nil), cs.seqs[cv.id]...)
				cs.mu.Unlock()
				if int64(len(got)) >= want[cv.id] || time.Now().After(deadline) {
					for k, s := range got {
						if s != int64(k+1) {
							t.Fatalf("subscriber %d, conversation %s: event %d carries seq %d (gap or duplicate)", i, cv.id, k+1, s)
						}
					}
					if int64(len(got)) != want[cv.id] {
						t.Errorf("subscriber %d, conversation %s: received %d of %d messages", i, cv.id, len(got), want[cv.id])
					}
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if r := cs.sub.Repeats.Load(); r > 0 {
			t.Errorf("subscriber %d: %d events at or below a position already received", i, r)
		}
		if r := cs.sub.Resyncs.Load(); r > 0 {
			t.Errorf("subscriber %d: %d resyncs", i, r)
		}
	}
	stopSubs()
	subWG.Wait()
	t.Logf("%d kills in %s: %d messages acknowledged (%.0f/s), %d send attempts, %d retries after errors",
		cycles, elapsed.Round(time.Millisecond), len(acked), float64(len(acked))/elapsed.Seconds(), attempts.Load(), retried.Load())
}
