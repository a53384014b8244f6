package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/config"
	"github.com/roundshq/rounds/core/tracing/tracingtest"
)

const (
	proxyTraceID = "0af7651916cd43dd8448eb211c80319c"
	proxySpanID  = "b7ad6b7169203331"
)

// TestTracesOfARealNode: a whole node on SQLite sends its spans to a real
// OTLP/HTTP receiver. A chat message sent behind a proxy that started a
// trace continues that trace, named after its route, with the message's
// transaction as a child span; the chat socket's upgrade and an approval
// refused by the service are traced too; no span carries a message, a
// person's id or a filled-in path; closing the node flushes every span.
func TestTracesOfARealNode(t *testing.T) {
	rc := tracingtest.Start(t)
	f := newDemoFixture(t, func(c *config.Config) {
		c.Tracing.OTLPEndpoint = rc.URL()
		c.Tracing.SampleRatio = 1
		c.Tracing.ServiceName = "rounds-jcyy"
	})
	s := f.s

	h := http.Header{}
	h.Set("Authorization", "Bearer "+f.head)
	ws, code, err := wsDial(s, h)
	if err != nil {
		t.Fatalf("dial: %d %v", code, err)
	}
	var conv struct{ ID string }
	if code := s.do("POST", "/api/v1/im/conversations", f.nurse, map[string]any{"kind": "direct", "user_id": f.headID}, &conv); code != 201 && code != 200 {
		t.Fatalf("direct conversation: %d", code)
	}
	const text = "3床今晚加班-保密"
	body, _ := json.Marshal(map[string]any{"client_msg_id": "trace-1", "text": text})
	resp, out := s.raw("POST", "/api/v1/im/conversations/"+conv.ID+"/messages", f.nurse, string(body),
		map[string]string{"traceparent": "00-" + proxyTraceID + "-" + proxySpanID + "-01"})
	if resp.StatusCode != 201 {
		t.Fatalf("send: %d %s", resp.StatusCode, out)
	}
	requestID := resp.Header.Get("X-Request-ID")

	form := map[string]any{"day": "2026-11-26", "from": "18:00", "to": "20:00", "hours": 2, "compensation": "pay", "reason": "抢救加班"}
	var req struct {
		RequestID string `json:"request_id"`
	}
	if code := s.do("POST", "/api/v1/approvals/requests", f.nurse, map[string]any{"action_id": core.NewID(), "template_code": "overtime", "form": form}, &req); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	if code := s.do("POST", "/api/v1/approvals/requests/"+req.RequestID+"/approve", f.nurse, map[string]any{"action_id": core.NewID()}, nil); code != 403 {
		t.Fatalf("the submitter approving her own request: %d, want 403", code)
	}
	ws.Close()
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if resp, _ := s.raw("GET", p, "", "", nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}

	// Closing the node flushes the exporter (its batch would wait 5s).
	s.srv.Close()
	if err := s.app.Close(); err != nil {
		t.Fatal(err)
	}

	sends := rc.Named("POST /api/v1/im/conversations/{id}/messages")
	if len(sends) != 1 {
		t.Fatalf("send spans: %+v", sends)
	}
	send := sends[0]
	if send.TraceID != proxyTraceID || send.ParentSpanID != proxySpanID {
		t.Errorf("the proxy's trace must continue: trace %s parent %s", send.TraceID, send.ParentSpanID)
	}
	for k, want := range map[string]any{"http.route": "/api/v1/im/conversations/{id}/messages", "http.response.status_code": int64(201),
		"rounds.org_id": f.org, "rounds.actor_kind": "user", "rounds.request_id": requestID} {
		if send.Attrs[k] != want {
			t.Errorf("send span %s = %v, want %v", k, send.Attrs[k], want)
		}
	}
	if send.Resource["service.name"] != "rounds-jcyy" || send.Resource["service.version"] != Version {
		t.Errorf("resource %v", send.Resource)
	}
	var txs []string
	for _, c := range rc.ChildrenOf(send) {
		if c.Name == "sqldb.InTx" {
			txs = append(txs, c.Attrs["code.function.name"].(string))
		}
	}
	if len(txs) != 1 || txs[0] != "github.com/roundshq/rounds/im.(*Service).Send" {
		t.Errorf("the message's transaction must be a child span of the request, got %v", txs)
	}

	upgrades := rc.Named("GET /api/v1/ws")
	if len(upgrades) != 1 || upgrades[0].Attrs["http.response.status_code"] != int64(101) || upgrades[0].Attrs["rounds.org_id"] != f.org {
		t.Errorf("chat socket upgrade spans: %+v", upgrades)
	}
	refused := rc.Named("POST /api/v1/approvals/requests/{id}/approve")
	if len(refused) != 1 || refused[0].Attrs["rounds.error_code"] != "forbidden" || refused[0].Attrs["http.response.status_code"] != int64(403) || refused[0].Error {
		t.Errorf("refused approval spans (a 403 is the client's error, not the server's): %+v", refused)
	}
	if len(rc.Named("POST /api/v1/approvals/requests")) != 1 {
		t.Errorf("approval submission not traced")
	}
	if n := len(rc.Named("GET /healthz")) + len(rc.Named("GET /readyz")) + len(rc.Named("GET /metrics")); n != 0 {
		t.Errorf("probes and scrapes must not be traced: %d spans", n)
	}

	for _, sp := range rc.Spans() {
		for k, v := range sp.Attrs {
			str, ok := v.(string)
			if ok && (strings.Contains(str, text) || strings.Contains(str, f.nurseID) || strings.Contains(str, f.headID) ||
				strings.Contains(str, conv.ID) || strings.Contains(str, req.RequestID) || strings.Contains(str, demoPassword)) {
				t.Errorf("span %s attribute %s=%q carries personal or request data", sp.Name, k, str)
			}
		}
	}
}

// TestUnreachableCollectorChangesNothing: with a collector that accepts
// connections and never answers, a node starts, answers sign-in, API and
// readiness as ever and promptly, and still stops within its bound.
func TestUnreachableCollectorChangesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	s := startServer(t, func(c *config.Config) {
		c.Tracing.OTLPEndpoint = "http://" + ln.Addr().String()
		c.Tracing.SampleRatio = 1
	})
	if _, err := plainAccount(context.Background(), s, "trace.nurse", "护士", "a long enough secret"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 10 {
		token, _ := signIn(t, s, "trace.nurse", "a long enough secret")
		var me map[string]any
		if code := s.do("GET", "/api/v1/me", token, nil, &me); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
		var rep ReadyReport
		if code := s.do("GET", "/readyz", "", nil, &rep); code != 200 || rep.Status != "ready" {
			t.Fatalf("readiness with an unreachable collector: %d %+v", code, rep)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("30 requests took %s with an unreachable collector", d)
	}
	s.srv.Close()
	start = time.Now()
	if err := s.app.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > tracingShutdownTimeout+3*time.Second {
		t.Errorf("closing took %s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(held) == 0 {
		t.Error("the node never tried the collector: the test proves nothing")
	}
}
