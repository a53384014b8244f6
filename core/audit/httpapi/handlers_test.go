package audithttp_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	audithttp "github.com/roundshq/rounds/core/audit/httpapi"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// headerAuth is a tiny Authenticator: the actor is whoever X-Test-User names.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	id := r.Header.Get("X-Test-User")
	if id == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: id, Kind: core.ActorUser, IP: "10.0.0.9"}, nil
}

type server struct {
	mux *http.ServeMux
	log *audit.Log
}

func (s *server) get(t *testing.T, path, user string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
}

func TestAuditAPI(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: audit.Area, FS: audit.Migrations}, {Area: authz.Area, FS: authz.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		log := audit.New(db, audit.Options{})
		e, err := authz.New(ctx, db, authz.Options{Recorder: log})
		if err != nil {
			t.Fatal(err)
		}
		log.SetAuthorizer(e)
		mux := http.NewServeMux()
		rt := httpapi.NewRouter(mux, headerAuth{}, nil)
		audithttp.New(log).Register(rt)
		s := &server{mux: mux, log: log}

		root, admin, nurse := core.NewID(), core.NewID(), core.NewID()
		for _, g := range [][3]string{{root, "*", "system_admin"}, {admin, "hosp-a", "org_admin"}, {nurse, "hosp-a", "staff"}} {
			if err := e.AssignRole(ctx, core.SystemActor, g[1], g[0], g[2]); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 5; i++ {
			if err := log.Record(ctx, audit.Entry{OrgID: "hosp-a", ActorID: nurse, Action: "session.login", ObjectType: "user", ObjectID: nurse}); err != nil {
				t.Fatal(err)
			}
		}
		if err := log.Record(ctx, audit.Entry{OrgID: "hosp-b", Action: "session.login"}); err != nil {
			t.Fatal(err)
		}

		t.Run("list with filters and pages", func(t *testing.T) {
			var got []int64
			path := "/api/v1/orgs/hosp-a/audit?action=session.&limit=2"
			for i := 0; i < 5; i++ {
				rec := s.get(t, path, admin)
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				var page httpapi.List[audit.Entry]
				decode(t, rec, &page)
				for _, en := range page.Items {
					if en.OrgID != "hosp-a" || en.Action != "session.login" {
						t.Fatalf("entry %+v", en)
					}
					got = append(got, en.Seq)
				}
				if page.NextCursor == "" {
					break
				}
				path = "/api/v1/orgs/hosp-a/audit?action=session.&limit=2&cursor=" + url.QueryEscape(page.NextCursor)
			}
			if len(got) != 5 || got[0] != 8 || got[4] != 4 {
				t.Fatalf("seqs = %v", got)
			}
		})
		t.Run("time filters", func(t *testing.T) {
			future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
			rec := s.get(t, "/api/v1/orgs/hosp-a/audit?from="+future, admin)
			var page httpapi.List[audit.Entry]
			decode(t, rec, &page)
			if rec.Code != 200 || len(page.Items) != 0 {
				t.Fatalf("status %d, %d items", rec.Code, len(page.Items))
			}
			rec = s.get(t, "/api/v1/orgs/hosp-a/audit?to=yesterday", admin)
			var env httpapi.ErrorBody
			decode(t, rec, &env)
			if rec.Code != 400 || env.Details["field"] != "to" {
				t.Fatalf("status %d, %+v", rec.Code, env)
			}
		})
		t.Run("refusals", func(t *testing.T) {
			for _, c := range []struct {
				name, path, user string
				status           int
			}{
				{"unauthenticated", "/api/v1/orgs/hosp-a/audit", "", 401},
				{"staff list", "/api/v1/orgs/hosp-a/audit", nurse, 403},
				{"admin of A lists B", "/api/v1/orgs/hosp-b/audit", admin, 403},
				{"admin lists every org", "/api/v1/orgs/*/audit", admin, 403},
				{"staff export", "/api/v1/orgs/hosp-a/audit/export", nurse, 403},
				{"admin verifies", "/api/v1/audit/verify", admin, 403},
				{"bad format", "/api/v1/orgs/hosp-a/audit/export?format=pdf", admin, 400},
				{"bad limit", "/api/v1/orgs/hosp-a/audit?limit=0", admin, 400},
			} {
				t.Run(c.name, func(t *testing.T) {
					rec := s.get(t, c.path, c.user)
					var env httpapi.ErrorBody
					decode(t, rec, &env)
					if rec.Code != c.status || env.Code == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
						t.Fatalf("status %d (%s), envelope %+v", rec.Code, rec.Header().Get("Content-Type"), env)
					}
				})
			}
		})
		t.Run("system admin lists every organisation", func(t *testing.T) {
			rec := s.get(t, "/api/v1/orgs/*/audit?action=session.", root)
			var page httpapi.List[audit.Entry]
			decode(t, rec, &page)
			if rec.Code != 200 || len(page.Items) != 6 {
				t.Fatalf("status %d, %d items", rec.Code, len(page.Items))
			}
		})
		t.Run("csv export streams", func(t *testing.T) {
			rec := s.get(t, "/api/v1/orgs/hosp-a/audit/export?format=csv&action=session.", admin)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.Contains(rec.Header().Get("Content-Disposition"), `attachment; filename="audit-hosp-a-`) {
				t.Fatalf("status %d headers %v", rec.Code, rec.Header())
			}
			recs, err := csv.NewReader(rec.Body).ReadAll()
			if err != nil || len(recs) != 6 || recs[0][0] != "seq" || recs[1][0] != "4" || recs[5][8] != "session.login" {
				t.Fatalf("csv %v %v", recs, err)
			}
		})
		t.Run("jsonl export", func(t *testing.T) {
			rec := s.get(t, "/api/v1/orgs/hosp-a/audit/export?format=jsonl&action=session.&object_id="+nurse, admin)
			lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" || len(lines) != 5 {
				t.Fatalf("status %d, %d lines: %s", rec.Code, len(lines), rec.Body)
			}
			var en audit.Entry
			if err := json.Unmarshal([]byte(lines[0]), &en); err != nil || en.ObjectID != nurse || en.Hash == "" {
				t.Fatalf("line %q: %v", lines[0], err)
			}
			// Nothing matched: an empty download, not an error.
			rec = s.get(t, "/api/v1/orgs/hosp-a/audit/export?format=jsonl&object_id=nobody", admin)
			if rec.Code != 200 || rec.Body.Len() != 0 {
				t.Fatalf("empty export: %d %q", rec.Code, rec.Body)
			}
		})
		t.Run("exports were audited with the actor", func(t *testing.T) {
			es, _, err := log.List(ctx, core.Actor{UserID: root}, audit.Filter{Action: "audit.export"}, core.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			ok, denied := 0, 0
			for _, en := range es {
				switch {
				case en.Result == audit.ResultOK && en.ActorID == admin && en.IP == "10.0.0.9":
					ok++
				case en.Result == audit.ResultDenied && en.ActorID == nurse:
					denied++
				}
			}
			if ok != 3 || denied != 1 {
				t.Fatalf("ok=%d denied=%d in %+v", ok, denied, es)
			}
		})
		t.Run("verify", func(t *testing.T) {
			var rep audit.VerifyReport
			rec := s.get(t, "/api/v1/audit/verify", root)
			decode(t, rec, &rep)
			if rec.Code != 200 || !rep.OK || rep.Checked != rep.LastSeq {
				t.Fatalf("status %d report %+v", rec.Code, rep)
			}
			if _, err := db.ExecContext(ctx, `UPDATE audit_entries SET actor_id = 'someone-else' WHERE seq = 5`); err != nil {
				t.Fatal(err)
			}
			rec = s.get(t, "/api/v1/audit/verify", root)
			decode(t, rec, &rep)
			if rec.Code != 200 || rep.OK || rep.BrokenSeq != 5 {
				t.Fatalf("after tampering: status %d report %+v", rec.Code, rep)
			}
		})
	})
}
