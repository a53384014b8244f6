package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
	"github.com/roundshq/rounds/core/files/minio/miniotest"
)

const demoPassword = "rounds-demo-2026"

// answerWithin bounds how long any request may take while a part is down:
// a clear error, never a hang.
const answerWithin = 10 * time.Second

func enabled(t *testing.T) {
	t.Helper()
	if os.Getenv("ROUNDS_TEST_FAULTS") != "1" {
		t.Skip("set ROUNDS_TEST_FAULTS=1 to run the fault injection suite (.ci/faults)")
	}
}

// cluster is two nodes sharing the test's own PostgreSQL, NATS and MinIO,
// and the people who use them: a nurse of 心内一病区 signed in on node A
// and her head nurse on node B, in one group chat.
type cluster struct {
	pg       *postgres
	nats     *natsServer
	minio    *minioServer
	a, b     *node
	ca, cb   *client.Client
	nurse    string // bearer tokens
	head     string
	nurseID  string
	headID   string
	conv     string
	nurseEvs *events // the nurse's chat stream on node A
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := buildServer(t)
	c := &cluster{pg: startPostgres(t), nats: startNATS(t)}
	env := []string{
		"ROUNDS_DATABASE_POSTGRES_DSN=" + c.pg.DSN,
		"ROUNDS_BUS_NATS_URL=" + c.nats.URL, "ROUNDS_BUS_SUBJECT_PREFIX=faults",
	}
	if miniotest.Binary() != "" || os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
		c.minio = startMinIO(t)
		env = append(env, c.minio.env()...)
	}
	c.a = startNode(t, bin, "A", "demo", env)
	c.b = startNode(t, bin, "B", "serve", env)
	c.ca, c.cb = client.New(c.a.base()), client.New(c.b.base())
	ctx := context.Background()
	var err error
	var u client.User
	if c.nurse, u, err = c.ca.SignIn(ctx, "jcyy.10067", demoPassword); err != nil {
		t.Fatal(err)
	}
	c.nurseID = u.ID
	if c.head, u, err = c.cb.SignIn(ctx, "jcyy.10065", demoPassword); err != nil {
		t.Fatal(err)
	}
	c.headID = u.ID
	conv, err := c.cb.CreateGroup(ctx, c.head, "故障演练交班群", []string{c.nurseID})
	if err != nil {
		t.Fatal(err)
	}
	c.conv = conv.ID
	c.nurseEvs = &events{}
	sub := &client.Subscriber{URL: client.WSURL(c.a.base()), Token: c.nurse, Since: -1, OnEvent: c.nurseEvs.add}
	sctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go func() { _ = sub.Run(sctx) }()
	select {
	case <-sub.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the nurse's chat socket on node A is not ready")
	}
	return c
}

// TestWhenAPartFails stops and restarts PostgreSQL, NATS and MinIO under a
// running two-node cluster, one at a time; see the package doc.
func TestWhenAPartFails(t *testing.T) {
	enabled(t)
	c := startCluster(t)
	t.Run("postgres", c.postgresDown)
	t.Run("nats", c.natsDown)
	t.Run("minio", c.minioDown)
	c.a.running()
	c.b.running()
}

// ---- PostgreSQL -------------------------------------------------------------

type outcome struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Replayed  bool   `json:"replayed"`
}

func (c *cluster) submitLeave(ctx context.Context, actionID string) (outcome, error) {
	var out outcome
	form := map[string]any{"leave_type": "sick", "period": map[string]string{"start": "2026-12-28", "end": "2026-12-28"}, "reason": "发热"}
	err := c.ca.Do(ctx, c.nurse, "POST", "/api/v1/approvals/requests", map[string]any{"action_id": actionID, "template_code": "leave", "form": form}, &out)
	return out, err
}

func (c *cluster) approve(ctx context.Context, requestID, actionID string) (outcome, error) {
	var out outcome
	err := c.cb.Do(ctx, c.head, "POST", "/api/v1/approvals/requests/"+requestID+"/approve", map[string]any{"action_id": actionID, "comment": "同意"}, &out)
	return out, err
}

// wantUnavailable checks that call answered 503 with code unavailable
// within answerWithin.
func wantUnavailable(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*answerWithin)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	var apiErr *client.APIError
	switch {
	case err == nil:
		t.Errorf("%s: succeeded while the part is down", what)
	case !errors.As(err, &apiErr):
		t.Errorf("%s: no HTTP answer after %s: %v", what, took.Round(time.Millisecond), err)
	case apiErr.Status != 503 || apiErr.Code != "unavailable":
		t.Errorf("%s: want 503 unavailable, got %v", what, err)
	case took > answerWithin:
		t.Errorf("%s: the 503 took %s", what, took.Round(time.Millisecond))
	default:
		t.Logf("%s: %d %s %q in %s", what, apiErr.Status, apiErr.Code, apiErr.Message, took.Round(time.Millisecond))
	}
}

func (c *cluster) postgresDown(t *testing.T) {
	ctx := context.Background()
	// Before: three messages on each node and a leave request pending with
	// the head nurse.
	acked := map[string]string{} // client message id → message id
	send := func(cl *client.Client, token, id string) error {
		m, err := cl.Send(ctx, token, c.conv, id, "数据库演练 "+id)
		if err == nil {
			if prev, ok := acked[id]; ok && prev != m.ID {
				t.Errorf("client id %s answered two messages %s and %s", id, prev, m.ID)
			}
			acked[id] = m.ID
		}
		return err
	}
	for i := 1; i <= 3; i++ {
		if err := send(c.ca, c.nurse, fmt.Sprintf("pg-before-a%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := send(c.cb, c.head, fmt.Sprintf("pg-before-b%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := c.submitLeave(ctx, "pg-leave-1")
	if err != nil {
		t.Fatal(err)
	}

	c.pg.Stop()
	down := time.Now()
	for _, n := range []*node{c.a, c.b} {
		r := n.waitNotReady(t, "database", answerWithin)
		t.Logf("node %s /readyz while PostgreSQL is down: %s", n.name, r)
		if f := r.failing(); len(f) != 1 {
			t.Errorf("node %s: only the database should fail, failing: %v", n.name, f)
		}
	}
	// Sends on both nodes, a submit and an approval: each a clear 503.
	// The client ids are retried after the outage: whatever the server
	// might have stored must come back once.
	for i, n := range []struct {
		cl    *client.Client
		token string
	}{{c.ca, c.nurse}, {c.cb, c.head}} {
		id := fmt.Sprintf("pg-during-%d", i)
		wantUnavailable(t, "send on node "+[]string{"A", "B"}[i], func(ctx context.Context) error {
			_, err := n.cl.Send(ctx, n.token, c.conv, id, "数据库演练 "+id)
			return err
		})
	}
	wantUnavailable(t, "submit a leave request", func(ctx context.Context) error {
		_, err := c.submitLeave(ctx, "pg-leave-2")
		return err
	})
	wantUnavailable(t, "approve", func(ctx context.Context) error {
		_, err := c.approve(ctx, pending.RequestID, "pg-approve-1")
		return err
	})
	wantUnavailable(t, "read the history", func(ctx context.Context) error {
		_, err := c.ca.History(ctx, c.nurse, c.conv)
		return err
	})
	// The nodes stay up and say so.
	for _, n := range []*node{c.a, c.b} {
		if resp, err := http.Get(n.base() + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Errorf("node %s /healthz while PostgreSQL is down: %v %v", n.name, resp, err)
		} else {
			resp.Body.Close()
		}
	}
	time.Sleep(2 * time.Second) // an outage of a few seconds, not a blip

	c.pg.Start()
	t.Logf("PostgreSQL down for %s", time.Since(down).Round(time.Millisecond))
	for _, n := range []*node{c.a, c.b} {
		took := n.waitReady(t, 60*time.Second)
		t.Logf("node %s ready %s after PostgreSQL came back (no restart)", n.name, took.Round(time.Millisecond))
	}
	// After: the retried sends, new ones, the retried submit and approval.
	for i := range 2 {
		cl, tok := c.ca, c.nurse
		if i == 1 {
			cl, tok = c.cb, c.head
		}
		if err := send(cl, tok, fmt.Sprintf("pg-during-%d", i)); err != nil {
			t.Fatalf("retried send: %v", err)
		}
		for j := 1; j <= 3; j++ {
			if err := send(cl, tok, fmt.Sprintf("pg-after-%d-%d", i, j)); err != nil {
				t.Fatalf("send after recovery: %v", err)
			}
		}
	}
	second, err := c.submitLeave(ctx, "pg-leave-2")
	if err != nil {
		t.Fatalf("retried submit: %v", err)
	}
	if second.RequestID == pending.RequestID {
		t.Fatalf("two submits answered one request")
	}
	out, err := c.approve(ctx, pending.RequestID, "pg-approve-1")
	if err != nil || out.Status != "approved" {
		t.Fatalf("retried approval: %+v %v", out, err)
	}

	// Every acknowledged message is stored exactly once, in a gapless seq.
	history, err := c.ca.History(ctx, c.nurse, c.conv)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for i, m := range history {
		if m.Seq != int64(i+1) {
			t.Errorf("message %d has seq %d", i+1, m.Seq)
		}
		stored[m.ClientMsgID]++
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Errorf("acknowledged message %s stored %d times", id, stored[id])
		}
	}
	for id, n := range stored {
		if _, ok := acked[id]; !ok && strings.HasPrefix(id, "pg-") {
			t.Errorf("message %s stored %d times but never acknowledged", id, n)
		}
	}
	// The nurse's own request list holds the two requests once each.
	var mine struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	if err := c.ca.Do(ctx, c.nurse, "GET", "/api/v1/approvals/me/submitted?limit=50", nil, &mine); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, it := range mine.Items {
		if _, dup := seen[it.ID]; dup {
			t.Errorf("request %s listed twice", it.ID)
		}
		seen[it.ID] = it.Status
	}
	if len(seen) != 2 || seen[pending.RequestID] != "approved" || seen[second.RequestID] != "pending" {
		t.Errorf("after the outage the nurse's requests are %v", seen)
	}
	t.Logf("%d acknowledged messages, each stored once in seq 1..%d; 2 requests, 1 approved", len(acked), len(history))
}

// ---- NATS -------------------------------------------------------------------

// events collects one subscriber's chat events.
type events struct {
	mu  sync.Mutex
	all []client.Event
}

func (e *events) add(ev client.Event, _ time.Time) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) posted(text string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		var m struct {
			Text string `json:"text"`
		}
		if ev.Event == "message.posted" && json.Unmarshal(ev.Data, &m) == nil && m.Text == text {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// socket is a raw chat WebSocket: the typing frames the load-tool client
// ignores are what travels only on the bus.
type socket struct {
	c       *websocket.Conn
	mu      sync.Mutex
	typing  map[string]int // user id → typing frames received
	replies chan map[string]any
}

func dialSocket(t *testing.T, base, token string) *socket {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(client.WSURL(base), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	s := &socket{c: c, typing: map[string]int{}, replies: make(chan map[string]any, 64)}
	t.Cleanup(func() { c.Close() })
	go func() {
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			var f map[string]any
			if json.Unmarshal(data, &f) != nil {
				continue
			}
			switch f["type"] {
			case "typing":
				uid, _ := f["user_id"].(string)
				s.mu.Lock()
				s.typing[uid]++
				s.mu.Unlock()
			case "reply":
				select {
				case s.replies <- f:
				default:
				}
			}
		}
	}()
	return s
}

func (s *socket) typed(uid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.typing[uid]
}

// sendTyping sends a typing frame and returns the reply's error code ("" for ok).
func (s *socket) sendTyping(t *testing.T, convID, reqID string) string {
	t.Helper()
	if err := s.c.WriteJSON(map[string]string{"type": "typing", "req_id": reqID, "conversation_id": convID}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case r := <-s.replies:
			if r["req_id"] != reqID {
				continue
			}
			if ok, _ := r["ok"].(bool); ok {
				return ""
			}
			e, _ := r["error"].(map[string]any)
			code, _ := e["code"].(string)
			return code
		case <-time.After(answerWithin):
			t.Fatalf("no reply to typing %s within %s", reqID, answerWithin)
		}
	}
}

func (c *cluster) natsDown(t *testing.T) {
	ctx := context.Background()
	nurseSock := dialSocket(t, c.a.base(), c.nurse) // on A
	headSock := dialSocket(t, c.b.base(), c.head)   // on B
	typingAcross := func(tag string, within time.Duration) time.Duration {
		t.Helper()
		before := nurseSock.typed(c.headID)
		start := time.Now()
		for i := 0; nurseSock.typed(c.headID) == before; i++ {
			if time.Since(start) > within {
				t.Fatalf("%s: the head nurse's typing on B did not reach the nurse on A within %s", tag, within)
			}
			// The server passes on one typing signal per conversation and
			// connection every two seconds.
			if code := headSock.sendTyping(t, c.conv, fmt.Sprintf("%s-%d", tag, i)); code != "" && code != "unavailable" {
				t.Fatalf("%s: typing answered %s", tag, code)
			}
			deadline := time.Now().Add(2100 * time.Millisecond)
			for time.Now().Before(deadline) && nurseSock.typed(c.headID) == before {
				time.Sleep(20 * time.Millisecond)
			}
		}
		return time.Since(start)
	}
	typingAcross("before", 15*time.Second)

	c.nats.Stop()
	down := time.Now()
	for _, n := range []*node{c.a, c.b} {
		r := n.waitNotReady(t, "bus (nats)", answerWithin)
		t.Logf("node %s /readyz while NATS is down: %s", n.name, r)
		if f := r.failing(); len(f) != 1 {
			t.Errorf("node %s: only the bus should fail, failing: %v", n.name, f)
		}
	}
	// Typing cannot travel: the sender is told so, clearly.
	time.Sleep(2100 * time.Millisecond)
	if code := headSock.sendTyping(t, c.conv, "during"); code != "unavailable" {
		t.Errorf("typing while NATS is down answered %q, want unavailable", code)
	}
	// The nodes keep answering: chat is stored, and the nurse on A still
	// gets the head nurse's message from B through the durable log (each
	// node also polls it), just without the bus's nudge.
	start := time.Now()
	if _, err := c.cb.Send(ctx, c.head, c.conv, "nats-during-1", "NATS 停了：3床复查血常规"); err != nil {
		t.Fatalf("send on B while NATS is down: %v", err)
	}
	if took := time.Since(start); took > answerWithin {
		t.Errorf("send while NATS is down took %s", took)
	}
	took := waitFor(t, "the message from B on A while NATS is down", 15*time.Second, func() bool { return c.nurseEvs.posted("NATS 停了：3床复查血常规") })
	t.Logf("while NATS is down a message from B reached A in %s (the log poll)", took.Round(time.Millisecond))
	if _, err := c.ca.History(ctx, c.nurse, c.conv); err != nil {
		t.Errorf("history on A while NATS is down: %v", err)
	}
	time.Sleep(2 * time.Second)

	c.nats.Start()
	t.Logf("NATS down for %s", time.Since(down).Round(time.Millisecond))
	for _, n := range []*node{c.a, c.b} {
		took := n.waitReady(t, 30*time.Second)
		t.Logf("node %s ready %s after NATS came back (no restart)", n.name, took.Round(time.Millisecond))
	}
	// Events flow on the bus again, both ways round.
	took = typingAcross("after", 15*time.Second)
	t.Logf("after NATS came back the head nurse's typing on B reached A in %s", took.Round(time.Millisecond))
	if _, err := c.cb.Send(ctx, c.head, c.conv, "nats-after-1", "NATS 恢复：3床血常规正常"); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "the message from B on A after NATS is back", 15*time.Second, func() bool { return c.nurseEvs.posted("NATS 恢复：3床血常规正常") })
	t.Logf("after NATS came back a message from B reached A in %s", took.Round(time.Millisecond))
}

// ---- MinIO ------------------------------------------------------------------

func (c *cluster) upload(ctx context.Context, cl *client.Client, token, name, content string) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", cl.Base+"/api/v1/im/conversations/"+c.conv+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		e := &client.APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		return "", e
	}
	var f struct {
		ID string `json:"id"`
	}
	return f.ID, json.Unmarshal(data, &f)
}

func (c *cluster) download(ctx context.Context, cl *client.Client, token, id string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", cl.Base+"/api/v1/im/files/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e := &client.APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		return "", e
	}
	return string(data), nil
}

func (c *cluster) minioDown(t *testing.T) {
	if c.minio == nil {
		t.Skip("MinIO server binary not found (go install github.com/minio/minio@latest): the nodes use local disk")
	}
	ctx := context.Background()
	const before = "交班记录（MinIO 停机前）\n5床 血压 130/85\n"
	first, err := c.upload(ctx, c.ca, c.nurse, "before.txt", before)
	if err != nil {
		t.Fatalf("upload before the outage: %v", err)
	}

	c.minio.Stop()
	down := time.Now()
	for _, n := range []*node{c.a, c.b} {
		r := n.waitNotReady(t, "files (minio)", answerWithin)
		t.Logf("node %s /readyz while MinIO is down: %s", n.name, r)
		if f := r.failing(); len(f) != 1 {
			t.Errorf("node %s: only the files check should fail, failing: %v", n.name, f)
		}
	}
	wantUnavailable(t, "upload on node A", func(ctx context.Context) error {
		_, err := c.upload(ctx, c.ca, c.nurse, "during.txt", "交班记录（MinIO 停机中）\n")
		return err
	})
	wantUnavailable(t, "upload on node B", func(ctx context.Context) error {
		_, err := c.upload(ctx, c.cb, c.head, "during.txt", "交班记录（MinIO 停机中）\n")
		return err
	})
	wantUnavailable(t, "download", func(ctx context.Context) error {
		_, err := c.download(ctx, c.cb, c.head, first)
		return err
	})
	// Chat text keeps working, on both nodes, and reaches the other node.
	if _, err := c.cb.Send(ctx, c.head, c.conv, "minio-during-1", "MinIO 停了：文字照常"); err != nil {
		t.Fatalf("chat text while MinIO is down: %v", err)
	}
	waitFor(t, "the text message while MinIO is down", 15*time.Second, func() bool { return c.nurseEvs.posted("MinIO 停了：文字照常") })
	time.Sleep(2 * time.Second)

	c.minio.Start()
	t.Logf("MinIO down for %s", time.Since(down).Round(time.Millisecond))
	for _, n := range []*node{c.a, c.b} {
		took := n.waitReady(t, 30*time.Second)
		t.Logf("node %s ready %s after MinIO came back (no restart)", n.name, took.Round(time.Millisecond))
	}
	const after = "交班记录（MinIO 恢复后）\n5床 血压 125/80\n"
	second, err := c.upload(ctx, c.cb, c.head, "after.txt", after)
	if err != nil {
		t.Fatalf("upload after MinIO came back: %v", err)
	}
	for id, want := range map[string]string{first: before, second: after} {
		got, err := c.download(ctx, c.ca, c.nurse, id)
		if err != nil || got != want {
			t.Errorf("file %s after the outage: %q %v", id, got, err)
		}
	}
}
