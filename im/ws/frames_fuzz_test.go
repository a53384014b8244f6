package imws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	imws "github.com/roundshq/rounds/im/ws"
)

// FuzzFrames sends arbitrary client frames over one live connection to a
// real hub. The server never panics or hangs; every frame it sends back is
// JSON with a type, every error carries a code; and a bad frame never costs
// the connection: a ping after each input is answered. CONV and MSG in an
// input stand for a real conversation and message, so the fuzzer reaches
// past id validation into the operations.
func FuzzFrames(f *testing.F) {
	for _, seed := range []string{
		`{"type":"ping","req_id":"1"}`,
		`{"type":"send","req_id":"2","conversation_id":"CONV","client_msg_id":"c1","text":"@王护士 3床血压 180/110","mentions":["MEMBER"]}`,
		`{"type":"send","req_id":"3","conversation_id":"CONV","client_msg_id":"c2","text":"全体注意","mention_all":true}`,
		`{"type":"send","req_id":"4","conversation_id":"CONV","client_msg_id":"c3","kind":"ding","text":"急","ding":{"user_ids":["MEMBER"]}}`,
		`{"type":"edit","req_id":"5","message_id":"MSG","text":"改"}`,
		`{"type":"recall","req_id":"6","message_id":"MSG"}`,
		`{"type":"react","req_id":"7","message_id":"MSG","emoji":"👍"}`,
		`{"type":"read","req_id":"8","conversation_id":"CONV","seq":9223372036854775807}`,
		`{"type":"read","req_id":"8","conversation_id":"CONV","seq":-1}`,
		`{"type":"typing","req_id":"9","conversation_id":"CONV"}`,
		`{"type":"presence","req_id":"10","user_ids":["MEMBER","x"]}`,
		`{"type":"ack_ding","req_id":"11","message_id":"MSG"}`,
		`{"type":"send","req_id":"12","conversation_id":"CONV","client_msg_id":"c4","reply_to_id":"MSG","text":"回复"}`,
		`{"type":"send","req_id":"13","conversation_id":"CONV","client_msg_id":"c5","kind":"file","file_id":"MSG"}`,
		`{"type":"send","req_id":"","text":"x"}`,
		`{"type":"send",`,
		`[{"type":"ping"}]`,
		`{"type":"ping","bogus":1}`,
		`{"type":"ping","req_id":"` + strings.Repeat("x", 65) + `"}`,
		"\x00\xff",
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte(`{"type":"ping","req_id":"b"}`), true)

	db := sqldbtest.OpenSQLite(f, migrations()...)
	n := startNode(f, db, inproc.New(), nil, imws.Config{})
	me, member := core.NewID(), core.NewID()
	conv := group(f, n.svc, me, member)
	msg, err := n.svc.Send(context.Background(), actor(member), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "m0", Text: "seed"})
	if err != nil {
		f.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(n.srv.URL, "http") + imws.Path
	var ws *websocket.Conn
	connect := func(t *testing.T) {
		c, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {"Bearer " + me}})
		if err != nil {
			t.Fatal(err)
		}
		ws = c
	}
	f.Cleanup(func() {
		if ws != nil {
			ws.Close()
		}
	})
	seq := 0
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		if ws == nil {
			connect(t)
		}
		data = []byte(strings.NewReplacer("CONV", conv.ID, "MSG", msg.ID, "MEMBER", member).Replace(string(data)))
		typ := websocket.TextMessage
		if binary {
			typ = websocket.BinaryMessage
		}
		if err := ws.WriteMessage(typ, data); err != nil {
			t.Fatalf("write: %v", err)
		}
		seq++
		probe := "probe-" + core.RandomToken(6)
		if err := ws.WriteJSON(map[string]string{"type": "ping", "req_id": probe}); err != nil {
			t.Fatalf("the connection was lost after %q: %v", data, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_ = ws.SetReadDeadline(deadline)
			_, b, err := ws.ReadMessage()
			if err != nil {
				ws.Close()
				ws = nil
				t.Fatalf("the connection was lost or hung after %q: %v", data, err)
			}
			var fr struct {
				Type  string `json:"type"`
				ReqID string `json:"req_id"`
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &fr); err != nil || fr.Type == "" {
				t.Fatalf("the server sent a frame that is not typed JSON: %q", b)
			}
			if fr.Error != nil && (fr.Error.Code == "" || fr.Error.Message == "") {
				t.Fatalf("an error without code or message: %s", b)
			}
			if fr.Error != nil && fr.Error.Code == string(core.EInternal) {
				t.Fatalf("an internal error for %q: %s", data, b)
			}
			if fr.Type == "pong" && fr.ReqID == probe {
				return
			}
		}
	})
}
