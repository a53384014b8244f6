package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// A stand-in server that speaks the frames of im/ws/PROTOCOL.md: the first
// connection gets positions 1–3, the third twice, and is then dropped; the
// second must come back with ?since=3 and gets 4.
func TestSubscriberResumesAndCountsRepeats(t *testing.T) {
	var mu sync.Mutex
	var sinces []string
	var auth []string
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sinces = append(sinces, r.URL.Query().Get("since"))
		auth = append(auth, r.Header.Get("Authorization"))
		n := len(sinces)
		mu.Unlock()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		send := func(s string) { _ = c.WriteMessage(websocket.TextMessage, []byte(s)) }
		ev := func(pos int64) string {
			return fmt.Sprintf(`{"type":"event","pos":%d,"event":"message.posted","conversation_id":"c1","data":{"seq":%d,"conversation_id":"c1"},"at":1}`, pos, pos)
		}
		if n == 1 {
			send(`{"type":"ready","pos":0}`)
			send(ev(1))
			send(ev(2))
			send(ev(3))
			send(ev(3)) // a duplicate the subscriber must refuse
			return      // drop the connection
		}
		send(ev(4))
		send(`{"type":"ready","pos":4}`)
		time.Sleep(time.Second)
	}))
	defer srv.Close()

	var got []int64
	var gotMu sync.Mutex
	done := make(chan struct{})
	s := &client.Subscriber{URL: client.WSURL(srv.URL), Token: "tok", Since: -1}
	s.OnEvent = func(ev client.Event, _ time.Time) {
		if ev.Event != "message.posted" || ev.ConversationID != "c1" || !strings.Contains(string(ev.Data), `"seq"`) {
			t.Errorf("event %+v", ev)
		}
		gotMu.Lock()
		got = append(got, ev.Pos)
		if len(got) == 4 {
			close(done)
		}
		gotMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("timed out")
	}
	gotMu.Lock()
	defer gotMu.Unlock()
	if fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("events %v, want [1 2 3 4]", got)
	}
	if s.Repeats.Load() != 1 {
		t.Fatalf("repeats %d, want 1", s.Repeats.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sinces) < 2 || sinces[0] != "" || sinces[1] != "3" {
		t.Fatalf("since parameters %q, want first none then 3", sinces)
	}
	if auth[0] != "Bearer tok" {
		t.Fatalf("authorization %q", auth[0])
	}
	if s.Reconnects.Load() < 1 {
		t.Fatalf("reconnects %d", s.Reconnects.Load())
	}
}

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":   "ws://127.0.0.1:8080/api/v1/ws",
		"https://rounds.example/": "wss://rounds.example/api/v1/ws",
	} {
		if got := client.WSURL(in); got != want {
			t.Errorf("WSURL(%q) = %q, want %q", in, got, want)
		}
	}
}
