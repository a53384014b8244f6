package imhttp_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

// raw posts body and returns the response with its whole body.
func (a api) raw(user, method, path, body string) (*http.Response, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestRetentionHTTP(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		admin, doctor, nurse := core.NewID(), core.NewID(), core.NewID()
		log := &imtest.AuditLog{}
		clock := imtest.NewClock(time.Now())
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Clock: clock, Audit: log,
			Authorizer: imtest.Authorizer{Admins: map[string]bool{admin: true}}}, im.Config{ReceiptWindow: time.Hour})
		a := newAPIWith(t, svc)

		var g im.Conversation
		if code := a.do(doctor, "POST", "/api/v1/im/conversations", map[string]any{"kind": "group", "name": "急诊科", "member_ids": []string{nurse}}, &g); code != 201 {
			t.Fatalf("create group: %d", code)
		}
		var msgs []im.Message
		for i, text := range []string{"120 送来胸痛患者", "导管室已准备"} {
			var m im.Message
			if code := a.do([]string{doctor, nurse}[i], "POST", "/api/v1/im/conversations/"+g.ID+"/messages", map[string]any{"client_msg_id": "c" + string(rune('0'+i)), "text": text}, &m); code != 201 {
				t.Fatalf("send: %d", code)
			}
			msgs = append(msgs, m)
		}

		errCases := []struct {
			name, user, method, path string
			body                     any
			status                   int
			code, field              string
		}{
			{"staff reads policy", doctor, "GET", "/api/v1/im/retention", nil, 403, "forbidden", ""},
			{"staff sets policy", doctor, "PUT", "/api/v1/im/retention", map[string]any{"message_days": 1, "file_days": 1}, 403, "forbidden", ""},
			{"staff sets a half policy", doctor, "PUT", "/api/v1/im/retention", map[string]any{"message_days": 1}, 403, "forbidden", ""},
			{"policy without file_days", admin, "PUT", "/api/v1/im/retention", map[string]any{"message_days": 30}, 400, "invalid", "file_days"},
			{"empty policy", admin, "PUT", "/api/v1/im/retention", `{}`, 400, "invalid", "message_days"},
			{"unknown policy field", admin, "PUT", "/api/v1/im/retention", `{"message_days":30,"keep":"all"}`, 400, "invalid", "keep"},
			{"policy days as text", admin, "PUT", "/api/v1/im/retention", `{"message_days":"thirty","file_days":0}`, 400, "invalid", "message_days"},
			{"negative days", admin, "PUT", "/api/v1/im/retention", map[string]any{"message_days": -5, "file_days": 0}, 400, "invalid", "message_days"},
			{"staff lists holds", nurse, "GET", "/api/v1/im/holds", nil, 403, "forbidden", ""},
			{"staff places a hold", nurse, "POST", "/api/v1/im/holds", map[string]any{"conversation_id": g.ID, "reason": "r", "case_number": "c"}, 403, "forbidden", ""},
			{"unknown hold field", admin, "POST", "/api/v1/im/holds", `{"conversation_id":"` + g.ID + `","reason":"r","case_number":"c","until":"never"}`, 400, "invalid", "until"},
			{"hold without a case", admin, "POST", "/api/v1/im/holds", map[string]any{"conversation_id": g.ID, "reason": "r"}, 400, "invalid", "case_number"},
			{"release a missing hold", admin, "POST", "/api/v1/im/holds/" + core.NewID() + "/release", nil, 404, "not_found", ""},
			{"staff exports", doctor, "POST", "/api/v1/im/exports", map[string]any{"conversation_id": g.ID}, 403, "forbidden", ""},
			{"unknown export field", admin, "POST", "/api/v1/im/exports", `{"conversation_id":"` + g.ID + `","names":true}`, 400, "invalid", "names"},
			{"export from as a word", admin, "POST", "/api/v1/im/exports", `{"user_id":"` + nurse + `","from":"yesterday"}`, 400, "invalid", "from"},
			{"export format", admin, "POST", "/api/v1/im/exports", map[string]any{"conversation_id": g.ID, "format": "xlsx"}, 400, "invalid", "format"},
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
		var p im.RetentionPolicy
		if code := a.do(admin, "GET", "/api/v1/im/retention", nil, &p); code != 200 || !p.Forever() {
			t.Fatalf("refused requests changed the policy: %d %+v", code, p)
		}

		t.Run("policy", func(t *testing.T) {
			var p im.RetentionPolicy
			if code := a.do(admin, "PUT", "/api/v1/im/retention", map[string]any{"message_days": 180, "file_days": 30}, &p); code != 200 || p.MessageDays != 180 || p.FileDays != 30 || p.OrgID != "org" {
				t.Fatalf("set: %d %+v", code, p)
			}
			if code := a.do(admin, "GET", "/api/v1/im/retention", nil, &p); code != 200 || p.MessageDays != 180 || p.UpdatedBy != admin {
				t.Fatalf("get: %d %+v", code, p)
			}
		})

		var hold im.LegalHold
		t.Run("holds", func(t *testing.T) {
			if code := a.do(admin, "POST", "/api/v1/im/holds", map[string]any{"user_id": nurse, "reason": "医疗纠纷", "case_number": "2026-042"}, &hold); code != 201 || hold.UserID != nurse || !hold.Active() {
				t.Fatalf("place: %d %+v", code, hold)
			}
			var list httpapi.List[im.LegalHold]
			if code := a.do(admin, "GET", "/api/v1/im/holds", nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].ID != hold.ID {
				t.Fatalf("list: %d %+v", code, list)
			}
			var rel im.LegalHold
			if code := a.do(admin, "POST", "/api/v1/im/holds/"+hold.ID+"/release", nil, &rel); code != 200 || rel.Active() {
				t.Fatalf("release: %d %+v", code, rel)
			}
			var eb httpapi.ErrorBody
			if code := a.do(admin, "POST", "/api/v1/im/holds/"+hold.ID+"/release", nil, &eb); code != 409 || eb.Code != core.EConflict {
				t.Fatalf("release twice: %d %+v", code, eb)
			}
			if code := a.do(admin, "GET", "/api/v1/im/holds", nil, &list); code != 200 || len(list.Items) != 0 {
				t.Fatalf("active after release: %+v", list)
			}
			if code := a.do(admin, "GET", "/api/v1/im/holds?released=1", nil, &list); code != 200 || len(list.Items) != 1 {
				t.Fatalf("all holds: %+v", list)
			}
		})

		t.Run("export JSON lines", func(t *testing.T) {
			resp, body := a.raw(admin, "POST", "/api/v1/im/exports", `{"conversation_id":"`+g.ID+`"}`)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("export: %d %v %s", resp.StatusCode, resp.Header, body)
			}
			sc := bufio.NewScanner(bytes.NewReader(body))
			i := 0
			for sc.Scan() {
				var r im.ExportRecord
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if i >= len(msgs) || r.MessageID != msgs[i].ID || r.Seq != int64(i+1) || r.Text != msgs[i].Text || r.SenderID != msgs[i].SenderID {
					t.Fatalf("line %d: %+v", i+1, r)
				}
				i++
			}
			if i != len(msgs) {
				t.Fatalf("%d lines, want %d", i, len(msgs))
			}
		})

		t.Run("export CSV of a person", func(t *testing.T) {
			resp, body := a.raw(admin, "POST", "/api/v1/im/exports", `{"user_id":"`+nurse+`","format":"csv","from":"2000-01-01T00:00:00Z"}`)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
				t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
			}
			rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil || len(rows) != 3 || rows[1][0] != msgs[0].ID || rows[2][5] != "导管室已准备" || rows[2][3] != nurse {
				t.Fatalf("rows %q err=%v", rows, err)
			}
		})

		t.Run("export of nothing is an empty file", func(t *testing.T) {
			resp, body := a.raw(admin, "POST", "/api/v1/im/exports", `{"user_id":"`+core.NewID()+`"}`)
			if resp.StatusCode != 200 || len(body) != 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
				t.Fatalf("empty export: %d %q", resp.StatusCode, body)
			}
		})

		t.Run("audit trail", func(t *testing.T) {
			want := []struct {
				action, result, actor string
				n                     int
			}{
				{"im.retention.set", audit.ResultDenied, doctor, 1},
				{"im.retention.set", audit.ResultOK, admin, 1},
				{"im.hold.place", audit.ResultDenied, nurse, 1},
				{"im.hold.place", audit.ResultOK, admin, 1},
				{"im.hold.release", audit.ResultOK, admin, 1},
				{"im.export.conversation", audit.ResultDenied, doctor, 1},
				{"im.export.conversation", audit.ResultOK, admin, 1},
				{"im.export.person", audit.ResultOK, admin, 2},
			}
			for _, w := range want {
				n := 0
				for _, e := range log.Entries(w.action) {
					if e.Result == w.result && e.ActorID == w.actor && e.OrgID == "org" {
						n++
					}
				}
				if n != w.n {
					t.Errorf("%s %s by %s: %d entries, want %d", w.action, w.result, w.actor, n, w.n)
				}
			}
			if n := len(log.Entries("")); n != 9 {
				t.Errorf("%d entries in all, want 9: %+v", n, log.Entries(""))
			}
		})
	})
}
