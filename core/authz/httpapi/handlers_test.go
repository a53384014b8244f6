package authzhttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	authzhttp "github.com/roundshq/rounds/core/authz/httpapi"
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
	return core.Actor{UserID: id, OrgID: r.Header.Get("X-Test-Org"), Kind: core.ActorUser}, nil
}

type server struct {
	mux *http.ServeMux
	e   *authz.Enforcer
	log *audit.Log
}

func newServer(t *testing.T, db *sqldb.DB) *server {
	t.Helper()
	log := audit.New(db, audit.Options{})
	e, err := authz.New(context.Background(), db, authz.Options{Recorder: log})
	if err != nil {
		t.Fatal(err)
	}
	log.SetAuthorizer(e)
	mux := http.NewServeMux()
	rt := httpapi.NewRouter(mux, headerAuth{}, nil)
	authzhttp.New(e).Register(rt)
	return &server{mux: mux, e: e, log: log}
}

func (s *server) do(t *testing.T, method, path, user, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec.Code, out
}

func TestRolesAPI(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: authz.Area, FS: authz.Migrations}, {Area: audit.Area, FS: audit.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		root, adminA, adminB, nurse, doctor, deputy := core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID()
		for _, g := range [][3]string{{root, "*", "system_admin"}, {adminA, "hosp-a", "org_admin"}, {adminB, "hosp-b", "org_admin"}, {nurse, "hosp-a", "staff"}} {
			if err := s.e.AssignRole(ctx, core.SystemActor, g[1], g[0], g[2]); err != nil {
				t.Fatal(err)
			}
		}
		headNurse := `{"name":"head_nurse","description":"护士长","inherits":"staff","rules":[{"object":"roster.roster","action":"write","effect":"allow"},{"object":"apps.*","action":"*","effect":"deny"}]}`
		steps := []struct {
			name   string
			method string
			path   string
			user   string
			body   string
			status int
			check  func(t *testing.T, body map[string]any)
		}{
			{"unauthenticated", "GET", "/api/v1/orgs/hosp-a/roles", "", "", 401, nil},
			{"staff may not list roles", "GET", "/api/v1/orgs/hosp-a/roles", nurse, "", 403, func(t *testing.T, b map[string]any) {
				if b["code"] != "forbidden" || !strings.Contains(b["message"].(string), "authz.role") {
					t.Fatalf("envelope = %v", b)
				}
			}},
			{"create a custom role", "POST", "/api/v1/orgs/hosp-a/roles", adminA, headNurse, 201, func(t *testing.T, b map[string]any) {
				if b["name"] != "head_nurse" || b["inherits"] != "staff" || len(b["rules"].([]any)) != 2 {
					t.Fatalf("role = %v", b)
				}
			}},
			{"the same name again conflicts", "POST", "/api/v1/orgs/hosp-a/roles", adminA, headNurse, 409, nil},
			{"unknown object is named", "POST", "/api/v1/orgs/hosp-a/roles", adminA,
				`{"name":"x_role","rules":[{"object":"pharmacy.drug","action":"read","effect":"allow"}]}`, 400, func(t *testing.T, b map[string]any) {
					if b["code"] != "invalid" || b["details"].(map[string]any)["field"] != "rules[0].object" {
						t.Fatalf("envelope = %v", b)
					}
				}},
			{"built-in name refused", "POST", "/api/v1/orgs/hosp-a/roles", adminA, `{"name":"org_admin","rules":[]}`, 400, nil},
			{"unknown field refused", "POST", "/api/v1/orgs/hosp-a/roles", adminA, `{"name":"x_role","colour":"red"}`, 400, func(t *testing.T, b map[string]any) {
				if b["details"].(map[string]any)["field"] != "colour" {
					t.Fatalf("envelope = %v", b)
				}
			}},
			{"admin of B may not create in A", "POST", "/api/v1/orgs/hosp-a/roles", adminB, `{"name":"x_role","rules":[]}`, 403, nil},
			{"list shows built-in and custom", "GET", "/api/v1/orgs/hosp-a/roles", adminA, "", 200, func(t *testing.T, b map[string]any) {
				var names []string
				for _, it := range b["items"].([]any) {
					names = append(names, it.(map[string]any)["name"].(string))
				}
				if !slices.Equal(names, []string{"system_admin", "org_admin", "dept_head", "staff", "guest", "head_nurse"}) {
					t.Fatalf("names = %v", names)
				}
			}},
			{"assign the custom role", "PUT", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles/head_nurse", adminA, "", 200, func(t *testing.T, b map[string]any) {
				if b["user_id"] != doctor || len(b["roles"].([]any)) != 1 || b["roles"].([]any)[0] != "head_nurse" {
					t.Fatalf("body = %v", b)
				}
			}},
			{"assigning twice is fine", "PUT", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles/head_nurse", adminA, "", 200, nil},
			{"bad user id", "PUT", "/api/v1/orgs/hosp-a/users/zhangsan/roles/staff", adminA, "", 400, nil},
			{"role of no such name", "PUT", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles/surgeon", adminA, "", 400, nil},
			{"org admin may not make system admins", "PUT", "/api/v1/orgs/*/users/" + adminA + "/roles/system_admin", adminA, "", 403, nil},
			{"system admin may", "PUT", "/api/v1/orgs/*/users/" + deputy + "/roles/system_admin", root, "", 200, nil},
			{"staff may not assign", "PUT", "/api/v1/orgs/hosp-a/users/" + nurse + "/roles/org_admin", nurse, "", 403, nil},
			{"read someone's roles", "GET", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles", adminA, "", 200, func(t *testing.T, b map[string]any) {
				if len(b["roles"].([]any)) != 1 {
					t.Fatalf("body = %v", b)
				}
			}},
			{"staff read their own roles", "GET", "/api/v1/orgs/hosp-a/users/" + nurse + "/roles", nurse, "", 200, nil},
			{"staff may not read others' roles", "GET", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles", nurse, "", 403, nil},
			{"revoke", "DELETE", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles/head_nurse", adminA, "", 204, nil},
			{"revoke again", "DELETE", "/api/v1/orgs/hosp-a/users/" + doctor + "/roles/head_nurse", adminA, "", 404, nil},
			{"admin of B may not delete A's role", "DELETE", "/api/v1/orgs/hosp-a/roles/head_nurse", adminB, "", 403, nil},
			{"delete the role", "DELETE", "/api/v1/orgs/hosp-a/roles/head_nurse", adminA, "", 204, nil},
			{"delete it again", "DELETE", "/api/v1/orgs/hosp-a/roles/head_nurse", adminA, "", 404, nil},
			{"built-in roles stay", "DELETE", "/api/v1/orgs/hosp-a/roles/staff", adminA, "", 400, nil},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				code, body := s.do(t, st.method, st.path, st.user, st.body)
				if code != st.status {
					t.Fatalf("status = %d, want %d; body %v", code, st.status, body)
				}
				if st.check != nil {
					st.check(t, body)
				}
			})
		}
		t.Run("effects are real", func(t *testing.T) {
			if !s.e.Can(ctx, core.Actor{UserID: deputy}, "hosp-a", "audit.log", "read") {
				t.Fatal("the new system admin is not one")
			}
			if slices.Contains(s.e.RolesOf("hosp-a", doctor), "head_nurse") {
				t.Fatal("revoked role still held")
			}
			rep, err := s.log.Verify(ctx)
			if err != nil || !rep.OK {
				t.Fatalf("audit chain: %+v %v", rep, err)
			}
		})
	})
}

func TestRoutesDocumented(t *testing.T) {
	rt := httpapi.NewRouter(http.NewServeMux(), headerAuth{}, nil)
	authzhttp.New(nil).Register(rt)
	if n := len(rt.Routes()); n != 7 {
		t.Fatalf("%d routes", n)
	}
	doc := rt.OpenAPI("test")
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/orgs/{org}/roles", "/api/v1/orgs/{org}/roles/{name}", "/api/v1/orgs/{org}/users/{id}/roles", "/api/v1/orgs/{org}/users/{id}/roles/{role}", "/api/v1/me/capabilities"} {
		if paths[p] == nil {
			t.Errorf("%s missing from OpenAPI", p)
		}
	}
}

func TestMyCapabilities(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: authz.Area, FS: authz.Migrations}, {Area: audit.Area, FS: audit.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		admin, nurse := core.NewID(), core.NewID()
		for _, g := range [][2]string{{admin, "org_admin"}, {nurse, "staff"}} {
			if err := s.e.AssignRole(context.Background(), core.SystemActor, "hosp-a", g[0], g[1]); err != nil {
				t.Fatal(err)
			}
		}
		get := func(user string) (int, authz.Capabilities) {
			req := httptest.NewRequest("GET", "/api/v1/me/capabilities", nil)
			if user != "" {
				req.Header.Set("X-Test-User", user)
				req.Header.Set("X-Test-Org", "hosp-a")
			}
			rec := httptest.NewRecorder()
			s.mux.ServeHTTP(rec, req)
			var c authz.Capabilities
			_ = json.Unmarshal(rec.Body.Bytes(), &c)
			return rec.Code, c
		}
		if code, _ := get(""); code != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", code)
		}
		code, c := get(admin)
		if code != 200 || c.OrgID != "hosp-a" || !slices.Equal(c.Roles, []string{"org_admin"}) || !c.Allows("authz.role", "write") {
			t.Fatalf("admin: %d %+v", code, c)
		}
		code, c = get(nurse)
		if code != 200 || !slices.Equal(c.Roles, []string{"staff"}) || c.Allows("authz.role", "write") || !c.Allows("im.message", "use") {
			t.Fatalf("nurse: %d %+v", code, c)
		}
	})
}
