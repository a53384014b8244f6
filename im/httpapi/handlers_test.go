package imhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	imhttp "github.com/roundshq/rounds/im/httpapi"
	"github.com/roundshq/rounds/im/sqlstore"
)

type bearer struct{}

func (bearer) Authenticate(r *http.Request) (core.Actor, error) {
	id := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !core.ValidID(id) {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: id, OrgID: "org", Kind: core.ActorUser}, nil
}

type api struct {
	t   *testing.T
	srv *httptest.Server
}

func (a api) do(user, method, path string, body any, out any) int {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func newAPI(t *testing.T, db *sqldb.DB) api {
	return newAPIWith(t, im.NewService(im.Deps{Store: sqlstore.New(db)}, im.Config{}))
}

func newAPIWith(t *testing.T, svc *im.Service) api {
	mux := http.NewServeMux()
	rt := httpapi.NewRouter(mux, bearer{}, nil)
	imhttp.New(svc).Register(rt)
	for _, r := range rt.Routes() {
		if r.Summary == "" || r.Tag != "im" {
			t.Fatalf("route %s %s lacks summary or tag", r.Method, r.Path)
		}
	}
	srv := httptest.NewServer(httpapi.Middleware(mux))
	t.Cleanup(srv.Close)
	return api{t: t, srv: srv}
}

func TestHTTPAPI(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		a := newAPI(t, db)
		_ = context.Background()
		doctor, nurse, outsider := core.NewID(), core.NewID(), core.NewID()

		var g im.Conversation
		if code := a.do(doctor, "POST", "/api/v1/im/conversations", map[string]any{"kind": "group", "name": "心内科", "member_ids": []string{nurse}}, &g); code != 201 {
			t.Fatalf("create group: %d", code)
		}
		var m im.Message
		send := map[string]any{"client_msg_id": "c-1", "text": "请到3床"}
		if code := a.do(doctor, "POST", "/api/v1/im/conversations/"+g.ID+"/messages", send, &m); code != 201 || m.Seq != 1 {
			t.Fatalf("send: %d %+v", code, m)
		}
		var again im.Message
		a.do(doctor, "POST", "/api/v1/im/conversations/"+g.ID+"/messages", send, &again)
		if again.ID != m.ID {
			t.Fatal("a retried HTTP send made a second message")
		}
		var list httpapi.List[im.ConversationView]
		if code := a.do(nurse, "GET", "/api/v1/im/conversations", nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].Unread != 1 || list.Items[0].LastMessage == nil {
			t.Fatalf("list: %d %+v", code, list)
		}
		var rp im.ReadPosition
		if code := a.do(nurse, "POST", "/api/v1/im/conversations/"+g.ID+"/read", map[string]any{"seq": 1}, &rp); code != 200 || rp.Unread != 0 {
			t.Fatalf("read: %d %+v", code, rp)
		}
		var rc im.Receipt
		if code := a.do(doctor, "GET", "/api/v1/im/messages/"+m.ID+"/receipt", nil, &rc); code != 200 || rc.ReadCount != 1 || rc.Read[0] != nurse {
			t.Fatalf("receipt: %d %+v", code, rc)
		}
		var hist httpapi.List[im.Message]
		if code := a.do(nurse, "GET", "/api/v1/im/conversations/"+g.ID+"/messages?after=0&limit=10", nil, &hist); code != 200 || len(hist.Items) != 1 {
			t.Fatalf("history: %d %+v", code, hist)
		}
		var evs imhttp.EventsResponse
		if code := a.do(nurse, "GET", "/api/v1/im/events?since=0", nil, &evs); code != 200 || evs.Resync || len(evs.Events) < 2 {
			t.Fatalf("events: %d %+v", code, evs)
		}

		errCases := []struct {
			name, user, method, path string
			body                     any
			status                   int
			code, field              string
		}{
			{"unauthenticated", "", "GET", "/api/v1/im/conversations", nil, 401, "unauthenticated", ""},
			{"unknown field", doctor, "POST", "/api/v1/im/conversations/" + g.ID + "/messages", `{"client_msg_id":"x","text":"a","colour":"red"}`, 400, "invalid", "colour"},
			{"wrong type", doctor, "POST", "/api/v1/im/conversations/" + g.ID + "/read", `{"seq":"one"}`, 400, "invalid", "seq"},
			{"bad path id", doctor, "GET", "/api/v1/im/conversations/nope", nil, 400, "invalid", "id"},
			{"not a member", outsider, "POST", "/api/v1/im/conversations/" + g.ID + "/messages", map[string]any{"client_msg_id": "o", "text": "hi"}, 403, "forbidden", ""},
			{"edit someone else's", nurse, "PATCH", "/api/v1/im/messages/" + m.ID, map[string]any{"text": "changed"}, 403, "forbidden", ""},
			{"recall someone else's", nurse, "POST", "/api/v1/im/messages/" + m.ID + "/recall", nil, 403, "forbidden", ""},
			{"bad kind", doctor, "POST", "/api/v1/im/conversations", map[string]any{"kind": "party"}, 400, "invalid", "kind"},
			{"bad before", doctor, "GET", "/api/v1/im/conversations/" + g.ID + "/messages?before=-1", nil, 400, "invalid", "before"},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				var body httpapi.ErrorBody
				status := a.do(tc.user, tc.method, tc.path, tc.body, &body)
				if status != tc.status || string(body.Code) != tc.code {
					t.Fatalf("got %d %+v, want %d %s", status, body, tc.status, tc.code)
				}
				if tc.field != "" && body.Details["field"] != tc.field {
					t.Fatalf("field %v, want %s", body.Details["field"], tc.field)
				}
			})
		}
		// Nothing changed by the failed requests.
		var got im.Message
		a.do(doctor, "GET", "/api/v1/im/messages/"+m.ID, nil, &got)
		if got.Text != "请到3床" || got.Recalled() {
			t.Fatalf("message changed by refused requests: %+v", got)
		}
		// Urgent message over HTTP: the nurse acknowledges, the doctor sees when.
		var urgent im.Message
		if code := a.do(doctor, "POST", "/api/v1/im/conversations/"+g.ID+"/messages", map[string]any{"client_msg_id": "ding-1", "text": "速来抢救室", "ding": map[string]any{"user_ids": []string{nurse}}}, &urgent); code != 201 || !urgent.Urgent {
			t.Fatalf("urgent send: %d %+v", code, urgent)
		}
		var rec im.DingRecipient
		if code := a.do(nurse, "POST", "/api/v1/im/messages/"+urgent.ID+"/ding/ack", nil, &rec); code != 200 || rec.AckedAt.IsZero() {
			t.Fatalf("ack: %d %+v", code, rec)
		}
		var st im.Ding
		if code := a.do(doctor, "GET", "/api/v1/im/messages/"+urgent.ID+"/ding", nil, &st); code != 200 || len(st.Recipients) != 1 || st.Recipients[0].AckedAt.IsZero() {
			t.Fatalf("ding status: %d %+v", code, st)
		}
		var eb httpapi.ErrorBody
		if code := a.do(outsider, "POST", "/api/v1/im/messages/"+urgent.ID+"/ding/ack", nil, &eb); code != 404 && code != 403 {
			t.Fatalf("outsider ack: %d %+v", code, eb)
		}
		if code := a.do(nurse, "GET", "/api/v1/im/search?q=抢救", nil, &eb); code != 503 || eb.Code != core.EUnavailable {
			t.Fatalf("search without an index: %d %+v", code, eb)
		}

		var recalled im.Message
		if code := a.do(doctor, "POST", "/api/v1/im/messages/"+m.ID+"/recall", nil, &recalled); code != 200 || !recalled.Recalled() || recalled.Text != "" {
			t.Fatalf("recall: %d %+v", code, recalled)
		}
	})
}
