package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
)

// TestMetricsAreCountedWhereThingsHappen: a message sent to a connected
// colleague and an overtime request approved show in /metrics — sends by
// kind (a retried send is not counted twice), the delivery latency of the
// frame the colleague received, submissions and decisions by template, and
// the time each action took.
func TestMetricsAreCountedWhereThingsHappen(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s

	h := http.Header{}
	h.Set("Authorization", "Bearer "+f.head)
	ws, code, err := wsDial(s, h)
	if err != nil {
		t.Fatalf("dial: %d %v", code, err)
	}
	defer ws.Close()
	var conv struct{ ID string }
	if code := s.do("POST", "/api/v1/im/conversations", f.nurse, map[string]any{"kind": "direct", "user_id": f.headID}, &conv); code != 201 && code != 200 {
		t.Fatalf("direct conversation: %d", code)
	}
	// Wait until the head nurse's socket is live before sending.
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var fr struct{ Type string }
		if err := ws.ReadJSON(&fr); err != nil {
			t.Fatal(err)
		}
		if fr.Type == "ready" {
			break
		}
	}
	msg := map[string]any{"client_msg_id": "metrics-1", "text": "3床今晚加班"}
	for range 2 { // the retry is answered with the original
		if code := s.do("POST", "/api/v1/im/conversations/"+conv.ID+"/messages", f.nurse, msg, nil); code != 201 && code != 200 {
			t.Fatalf("send: %d", code)
		}
	}
	for {
		var fr struct{ Type, Event string }
		if err := ws.ReadJSON(&fr); err != nil {
			t.Fatal(err)
		}
		if fr.Event == "message.posted" {
			break
		}
	}

	form := map[string]any{"day": "2026-11-26", "from": "18:00", "to": "20:00", "hours": 2, "compensation": "pay", "reason": "抢救加班"}
	var out struct {
		RequestID string `json:"request_id"`
	}
	if code := s.do("POST", "/api/v1/approvals/requests", f.nurse, map[string]any{"action_id": core.NewID(), "template_code": "overtime", "form": form}, &out); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	if code := s.do("POST", "/api/v1/approvals/requests/"+out.RequestID+"/approve", f.nurse, map[string]any{"action_id": core.NewID()}, nil); code != 403 {
		t.Fatalf("the submitter approving her own request: %d, want 403", code)
	}
	if code := s.do("POST", "/api/v1/approvals/requests/"+out.RequestID+"/approve", f.head, map[string]any{"action_id": core.NewID()}, nil); code != 200 {
		t.Fatalf("approve: %d", code)
	}

	resp, err := http.Get(s.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`rounds_im_messages_sent_total{kind="text"} 1`,
		`rounds_approvals_submitted_total{template="overtime"} 1`,
		`rounds_approvals_decided_total{outcome="approved",template="overtime"} 1`,
		`rounds_approvals_action_duration_seconds_count{action="submit",code="ok"} 1`,
		`rounds_approvals_action_duration_seconds_count{action="approve",code="ok"} 1`,
		`rounds_approvals_action_duration_seconds_count{action="approve",code="forbidden"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(body, "rounds_im_delivery_latency_seconds_count") || strings.Contains(body, "rounds_im_delivery_latency_seconds_count 0") {
		t.Errorf("no delivery observed:\n%s", grepLines(body, "rounds_im_delivery"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
