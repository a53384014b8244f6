package identityhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/identity"
	identityhttp "github.com/roundshq/rounds/core/identity/httpapi"
	"github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// grants is a real, tiny Authorizer allowing exactly the listed tuples.
type grants struct {
	mu      sync.Mutex
	allowed map[string]bool
}

func (g *grants) allow(userID, orgID, object, action string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.allowed[userID+"|"+orgID+"|"+object+"|"+action] = true
}

func (g *grants) Authorize(_ context.Context, a core.Actor, orgID, object, action string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.allowed[a.UserID+"|"+orgID+"|"+object+"|"+action] {
		return nil
	}
	return core.Errorf(core.EForbidden, "you may not %s %s", action, object)
}

type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (l *auditLog) Record(_ context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

type server struct {
	*httptest.Server
	svc   *identity.Service
	rt    *httpapi.Router
	audit *auditLog
	org   string
	admin identity.User
	staff identity.User
}

const (
	adminPW = "it-centre-admin-1"
	staffPW = "cardiology-ward-3"
)

// newServer serves the identity routes; with limit, behind the per-user
// request limit as cmd/rounds wires it.
func newServer(t *testing.T, cfg identityhttp.Config, limit ...identityhttp.UserRate) *server {
	t.Helper()
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()})
	g := &grants{allowed: map[string]bool{}}
	rec := &auditLog{}
	svc := identity.New(sqlstore.New(db), identity.Config{Argon2: identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}},
		g, rec, core.SystemClock{})
	mux := http.NewServeMux()
	var auth httpapi.Authenticator = identityhttp.NewAuthenticator(svc, cfg)
	for _, l := range limit {
		auth = identityhttp.LimitPerUser(auth, l)
	}
	rt := httpapi.NewRouter(mux, auth, nil)
	identityhttp.Handlers{Service: svc, Config: cfg}.Register(rt)
	s := &server{Server: httptest.NewServer(httpapi.Middleware(mux)), svc: svc, rt: rt, audit: rec, org: core.NewID()}
	t.Cleanup(s.Close)
	ctx := context.Background()
	var err error
	if s.admin, err = svc.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: s.org, Login: "it.admin", Password: adminPW}); err != nil {
		t.Fatal(err)
	}
	if s.staff, err = svc.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: s.org, Login: "dr.li", DisplayName: "李医生", Password: staffPW}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{identity.ObjectUser, identity.ObjectBot} {
		g.allow(s.admin.ID, s.org, o, identity.ActionRead)
		g.allow(s.admin.ID, s.org, o, identity.ActionWrite)
	}
	return s
}

// req describes one request: auth is "" (none), "bearer:<token>" or a
// *signin whose cookies are sent.
type req struct {
	method, path, body string
	bearer             string
	cookies            *signin
	csrf               string
	header             map[string]string
}

type resp struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    map[string]any
	raw     string
}

func (s *server) do(t *testing.T, q req) resp {
	t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, s.URL+q.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+q.bearer)
	}
	if q.cookies != nil {
		r.AddCookie(q.cookies.session)
		r.AddCookie(q.cookies.csrf)
	}
	if q.csrf != "" {
		r.Header.Set(identityhttp.CSRFHeader, q.csrf)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	res, err := s.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, cookies: res.Cookies(), raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("response is not JSON: %s", raw)
		}
	}
	return out
}

func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func (r resp) wantError(t *testing.T, status int, code core.Code, field string) resp {
	t.Helper()
	r.want(t, status)
	if r.body["code"] != string(code) {
		t.Fatalf("code = %v, want %s: %s", r.body["code"], code, r.raw)
	}
	if field != "" {
		d, _ := r.body["details"].(map[string]any)
		if d["field"] != field {
			t.Fatalf("field = %v, want %s: %s", d["field"], field, r.raw)
		}
	}
	return r
}

func (r resp) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

type signin struct {
	token   string
	session *http.Cookie
	csrf    *http.Cookie
	resp    resp
}

func (s *server) login(t *testing.T, login, password string, header map[string]string) signin {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	r := s.do(t, req{method: "POST", path: "/api/v1/sessions", body: string(body), header: header}).want(t, http.StatusCreated)
	sc, cc := r.cookie(identityhttp.SessionCookie), r.cookie(identityhttp.CSRFCookie)
	if sc == nil || cc == nil {
		t.Fatalf("sign-in set cookies %v", r.cookies)
	}
	tok, _ := r.body["token"].(string)
	return signin{token: tok, session: sc, csrf: cc, resp: r}
}

func TestLoginSetsCookies(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	in := s.login(t, "DR.LI", staffPW, nil)
	user, _ := in.resp.body["user"].(map[string]any)
	if in.token == "" || user["login"] != "dr.li" || user["display_name"] != "李医生" || user["id"] != s.staff.ID {
		t.Fatalf("body = %s", in.resp.raw)
	}
	exp, err := time.Parse(time.RFC3339, in.resp.body["expires_at"].(string))
	if err != nil || time.Until(exp) < 29*24*time.Hour {
		t.Fatalf("expires_at = %v %v", in.resp.body["expires_at"], err)
	}
	if _, ok := user["password_hash"]; ok {
		t.Fatal("the user in the response carries a password hash")
	}
	sc, cc := in.session, in.csrf
	if sc.Value != in.token || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure {
		t.Fatalf("session cookie = %+v", sc)
	}
	if cc.HttpOnly || cc.Value == "" || cc.Value == sc.Value || cc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("csrf cookie = %+v", cc)
	}
}

func TestCookieSessionNeedsCSRFOnUnsafeRequests(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	in := s.login(t, "dr.li", staffPW, nil)
	tokenBody := `{"name":"ward script"}`

	s.do(t, req{method: "GET", path: "/api/v1/me", cookies: &in}).want(t, http.StatusOK)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		csrf   string
	}{
		{"POST without header", "POST", "/api/v1/me/tokens", tokenBody, ""},
		{"POST with a wrong header", "POST", "/api/v1/me/tokens", tokenBody, "not-the-cookie"},
		{"PUT without header", "PUT", "/api/v1/me/password", `{"old_password":"x","new_password":"y"}`, ""},
		{"DELETE without header", "DELETE", "/api/v1/sessions/current", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.do(t, req{method: tc.method, path: tc.path, body: tc.body, cookies: &in, csrf: tc.csrf}).
				wantError(t, http.StatusForbidden, core.EForbidden, "")
		})
	}
	// Nothing changed: no token was created and the session is alive.
	r := s.do(t, req{method: "GET", path: "/api/v1/me/tokens", cookies: &in}).want(t, http.StatusOK)
	if items := r.body["items"].([]any); len(items) != 0 {
		t.Fatalf("a refused request created %v", items)
	}
	s.do(t, req{method: "POST", path: "/api/v1/me/tokens", body: tokenBody, cookies: &in, csrf: in.csrf.Value}).want(t, http.StatusCreated)

	// Logging out clears the cookies and ends the session.
	out := s.do(t, req{method: "DELETE", path: "/api/v1/sessions/current", cookies: &in, csrf: in.csrf.Value}).want(t, http.StatusNoContent)
	if c := out.cookie(identityhttp.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout did not clear the session cookie: %v", out.cookies)
	}
	s.do(t, req{method: "GET", path: "/api/v1/me", cookies: &in}).wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")
}

func TestBearerTokens(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	in := s.login(t, "dr.li", staffPW, nil)

	me := s.do(t, req{method: "GET", path: "/api/v1/me", bearer: in.token}).want(t, http.StatusOK)
	if me.body["id"] != s.staff.ID {
		t.Fatalf("me = %s", me.raw)
	}
	// A bearer request needs no CSRF header: browsers never add it on their own.
	created := s.do(t, req{method: "POST", path: "/api/v1/me/tokens", bearer: in.token,
		body: `{"name":"pharmacy sync","expires_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`}).want(t, http.StatusCreated)
	secret, _ := created.body["secret"].(string)
	if !strings.HasPrefix(secret, "rpat_") {
		t.Fatalf("created = %s", created.raw)
	}
	tokID := created.body["token"].(map[string]any)["id"].(string)

	list := s.do(t, req{method: "GET", path: "/api/v1/me/tokens", bearer: secret}).want(t, http.StatusOK)
	if strings.Contains(list.raw, secret) || !strings.Contains(list.raw, "pharmacy sync") {
		t.Fatalf("token list = %s", list.raw)
	}
	s.do(t, req{method: "DELETE", path: "/api/v1/me/tokens/" + tokID, bearer: in.token}).want(t, http.StatusNoContent)
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: secret}).wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")

	for _, h := range []string{"Basic ZHI6bGk=", "Bearer", "Bearer    ", "Bearer nonsense"} {
		s.do(t, req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": h}}).
			wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")
	}
	s.do(t, req{method: "GET", path: "/api/v1/me"}).wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")
	s.do(t, req{method: "POST", path: "/api/v1/me/tokens", bearer: in.token, body: `{"name":"x","expires_at":"tomorrow"}`}).
		wantError(t, http.StatusBadRequest, core.EInvalid, "expires_at")
}

func TestLoginErrors(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	tests := []struct {
		name   string
		body   string
		status int
		code   core.Code
		field  string
	}{
		{"unknown field", `{"login":"dr.li","password":"x","remember":true}`, 400, core.EInvalid, "remember"},
		{"wrong type", `{"login":5,"password":"x"}`, 400, core.EInvalid, "login"},
		{"malformed JSON", `{"login":`, 400, core.EInvalid, "body"},
		{"empty body", ``, 400, core.EInvalid, "body"},
		{"missing password", `{"login":"dr.li"}`, 400, core.EInvalid, "password"},
		{"wrong password", `{"login":"dr.li","password":"cardiology-ward-4"}`, 401, core.EUnauthenticated, ""},
		{"unknown login", `{"login":"dr.nobody","password":"cardiology-ward-3"}`, 401, core.EUnauthenticated, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, req{method: "POST", path: "/api/v1/sessions", body: tc.body}).wantError(t, tc.status, tc.code, tc.field)
			if r.cookie(identityhttp.SessionCookie) != nil {
				t.Fatal("a failed sign-in set a session cookie")
			}
		})
	}
}

func TestLockedLoginAnswers429(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	wrong := `{"login":"dr.li","password":"guess-guess-guess"}`
	for range 5 {
		s.do(t, req{method: "POST", path: "/api/v1/sessions", body: wrong}).wantError(t, 401, core.EUnauthenticated, "")
	}
	r := s.do(t, req{method: "POST", path: "/api/v1/sessions", body: `{"login":"dr.li","password":"` + staffPW + `"}`}).
		wantError(t, http.StatusTooManyRequests, core.ERateLimited, "")
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 890 || ra > 900 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if d, _ := r.body["details"].(map[string]any); d["retry_after"] != float64(ra) {
		t.Fatalf("details = %v", r.body["details"])
	}
}

func TestAdminRoutes(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	admin := s.login(t, "it.admin", adminPW, nil)
	staff := s.login(t, "dr.li", staffPW, nil)
	orgUsers := "/api/v1/orgs/" + s.org + "/users"

	created := s.do(t, req{method: "POST", path: orgUsers, bearer: admin.token,
		body: `{"login":"nurse.wang","display_name":"王护士","password":"night-shift-ward-5"}`}).want(t, http.StatusCreated)
	newID := created.body["id"].(string)
	s.do(t, req{method: "POST", path: orgUsers, bearer: admin.token, body: `{"login":"NURSE.WANG"}`}).
		wantError(t, http.StatusConflict, core.EConflict, "login")
	s.do(t, req{method: "POST", path: orgUsers, bearer: admin.token, body: `{"login":"x y"}`}).
		wantError(t, http.StatusBadRequest, core.EInvalid, "login")
	s.do(t, req{method: "POST", path: orgUsers, bearer: staff.token, body: `{"login":"by.staff"}`}).
		wantError(t, http.StatusForbidden, core.EForbidden, "")
	s.do(t, req{method: "POST", path: "/api/v1/orgs/not-an-id/users", bearer: admin.token, body: `{"login":"abc"}`}).
		wantError(t, http.StatusBadRequest, core.EInvalid, "org")

	list := s.do(t, req{method: "GET", path: orgUsers + "?limit=2", bearer: admin.token}).want(t, http.StatusOK)
	if items := list.body["items"].([]any); len(items) != 2 || list.body["next_cursor"] == nil {
		t.Fatalf("page 1 = %s", list.raw)
	}
	page2 := s.do(t, req{method: "GET", path: orgUsers + "?limit=2&cursor=" + list.body["next_cursor"].(string), bearer: admin.token}).want(t, http.StatusOK)
	if items := page2.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["login"] != "nurse.wang" {
		t.Fatalf("page 2 = %s", page2.raw)
	}
	s.do(t, req{method: "GET", path: orgUsers, bearer: staff.token}).wantError(t, http.StatusForbidden, core.EForbidden, "")

	got := s.do(t, req{method: "GET", path: "/api/v1/users/" + newID, bearer: admin.token}).want(t, http.StatusOK)
	if got.body["login"] != "nurse.wang" || got.body["display_name"] != "王护士" {
		t.Fatalf("user = %s", got.raw)
	}
	s.do(t, req{method: "GET", path: "/api/v1/users/" + newID, bearer: staff.token}).wantError(t, http.StatusNotFound, core.ENotFound, "")
	s.do(t, req{method: "GET", path: "/api/v1/users/" + s.staff.ID, bearer: staff.token}).want(t, http.StatusOK)

	nurse := s.login(t, "nurse.wang", "night-shift-ward-5", nil)
	s.do(t, req{method: "PUT", path: "/api/v1/users/" + newID + "/password", bearer: admin.token, body: `{"password":"short"}`}).
		wantError(t, http.StatusBadRequest, core.EInvalid, "password")
	s.do(t, req{method: "PUT", path: "/api/v1/users/" + newID + "/password", bearer: admin.token, body: `{"password":"reset-by-it-2026"}`}).
		want(t, http.StatusNoContent)
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: nurse.token}).wantError(t, 401, core.EUnauthenticated, "")
	nurse = s.login(t, "nurse.wang", "reset-by-it-2026", nil)

	s.do(t, req{method: "POST", path: "/api/v1/users/" + newID + "/deactivate", bearer: staff.token}).
		wantError(t, http.StatusForbidden, core.EForbidden, "")
	s.do(t, req{method: "POST", path: "/api/v1/users/" + newID + "/deactivate", bearer: admin.token}).want(t, http.StatusNoContent)
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: nurse.token}).wantError(t, 401, core.EUnauthenticated, "")
	s.do(t, req{method: "POST", path: "/api/v1/sessions", body: `{"login":"nurse.wang","password":"reset-by-it-2026"}`}).
		wantError(t, 401, core.EUnauthenticated, "")
	s.do(t, req{method: "POST", path: "/api/v1/users/" + newID + "/reactivate", bearer: admin.token}).want(t, http.StatusNoContent)
	s.login(t, "nurse.wang", "reset-by-it-2026", nil)
	s.do(t, req{method: "POST", path: "/api/v1/users/" + core.NewID() + "/deactivate", bearer: admin.token}).
		wantError(t, http.StatusNotFound, core.ENotFound, "")
}

func TestBotRoute(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	admin := s.login(t, "it.admin", adminPW, nil)
	staff := s.login(t, "dr.li", staffPW, nil)
	path := "/api/v1/orgs/" + s.org + "/bots"
	s.do(t, req{method: "POST", path: path, bearer: staff.token, body: `{"login":"lab-results-bot"}`}).
		wantError(t, http.StatusForbidden, core.EForbidden, "")
	r := s.do(t, req{method: "POST", path: path, bearer: admin.token, body: `{"login":"lab-results-bot","display_name":"检验结果"}`}).
		want(t, http.StatusCreated)
	secret, _ := r.body["secret"].(string)
	user, _ := r.body["user"].(map[string]any)
	if !strings.HasPrefix(secret, "rbot_") || user["kind"] != "bot" || user["org_id"] != s.org {
		t.Fatalf("bot = %s", r.raw)
	}
	me := s.do(t, req{method: "GET", path: "/api/v1/me", bearer: secret}).want(t, http.StatusOK)
	if me.body["login"] != "lab-results-bot" {
		t.Fatalf("bot me = %s", me.raw)
	}
	s.do(t, req{method: "POST", path: "/api/v1/me/tokens", bearer: secret, body: `{"name":"more"}`}).
		wantError(t, http.StatusForbidden, core.EForbidden, "")

	rotate := "/api/v1/bots/" + user["id"].(string) + "/token"
	s.do(t, req{method: "POST", path: rotate, bearer: staff.token}).wantError(t, http.StatusForbidden, core.EForbidden, "")
	r = s.do(t, req{method: "POST", path: rotate, bearer: admin.token}).want(t, http.StatusCreated)
	fresh, _ := r.body["secret"].(string)
	if !strings.HasPrefix(fresh, "rbot_") || fresh == secret {
		t.Fatalf("rotated = %s", r.raw)
	}
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: secret}).wantError(t, 401, core.EUnauthenticated, "")
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: fresh}).want(t, http.StatusOK)
}

func TestSessionsAndPasswordChange(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	a := s.login(t, "dr.li", staffPW, nil)
	b := s.login(t, "dr.li", staffPW, nil)
	list := s.do(t, req{method: "GET", path: "/api/v1/sessions", cookies: &a}).want(t, http.StatusOK)
	items := list.body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("sessions = %s", list.raw)
	}
	var bID string
	for _, it := range items {
		m := it.(map[string]any)
		if m["current"] == false {
			bID = m["id"].(string)
		}
	}
	if bID == "" {
		t.Fatalf("no session marked current: %s", list.raw)
	}
	s.do(t, req{method: "DELETE", path: "/api/v1/sessions/not-an-id", cookies: &a, csrf: a.csrf.Value}).
		wantError(t, http.StatusBadRequest, core.EInvalid, "id")
	s.do(t, req{method: "DELETE", path: "/api/v1/sessions/" + bID, cookies: &a, csrf: a.csrf.Value}).want(t, http.StatusNoContent)
	s.do(t, req{method: "GET", path: "/api/v1/me", bearer: b.token}).wantError(t, 401, core.EUnauthenticated, "")

	s.do(t, req{method: "PUT", path: "/api/v1/me/password", cookies: &a, csrf: a.csrf.Value,
		body: `{"old_password":"wrong-wrong-wrong","new_password":"cardiology-ward-9"}`}).wantError(t, 400, core.EInvalid, "old_password")
	r := s.do(t, req{method: "PUT", path: "/api/v1/me/password", cookies: &a, csrf: a.csrf.Value,
		body: `{"old_password":"` + staffPW + `","new_password":"cardiology-ward-9"}`}).want(t, http.StatusNoContent)
	if c := r.cookie(identityhttp.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("cookies not cleared after password change: %v", r.cookies)
	}
	s.do(t, req{method: "GET", path: "/api/v1/me", cookies: &a}).wantError(t, 401, core.EUnauthenticated, "")
	s.login(t, "dr.li", "cardiology-ward-9", nil)
}

func TestSecureCookies(t *testing.T) {
	proxies, err := identityhttp.ParseTrustedProxies([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    identityhttp.Config
		header map[string]string
		secure bool
	}{
		{"plain HTTP", identityhttp.Config{}, nil, false},
		{"forced by config", identityhttp.Config{SecureCookies: true}, nil, true},
		{"TLS at a trusted proxy", identityhttp.Config{TrustedProxies: proxies}, map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"proto header from an untrusted peer", identityhttp.Config{}, map[string]string{"X-Forwarded-Proto": "https"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.cfg)
			in := s.login(t, "dr.li", staffPW, tc.header)
			if in.session.Secure != tc.secure || in.csrf.Secure != tc.secure {
				t.Fatalf("secure = %v/%v, want %v", in.session.Secure, in.csrf.Secure, tc.secure)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := identityhttp.ParseTrustedProxies([]string{"10.0.0.0/8", "192.168.1.1", " "})
	if err != nil {
		t.Fatal(err)
	}
	cfg := identityhttp.Config{TrustedProxies: proxies}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct client", "172.16.5.5:5000", nil, "172.16.5.5"},
		{"forged header from an untrusted peer", "172.16.5.5:5000", []string{"1.2.3.4"}, "172.16.5.5"},
		{"one trusted proxy", "192.168.1.1:443", []string{"172.16.9.9"}, "172.16.9.9"},
		{"client forges a left-most entry", "192.168.1.1:443", []string{"6.6.6.6, 172.16.9.9"}, "172.16.9.9"},
		{"chain of trusted proxies", "10.1.1.1:443", []string{"172.16.9.9, 10.2.2.2", "10.3.3.3"}, "172.16.9.9"},
		{"trusted proxy without header", "10.1.1.1:443", nil, "10.1.1.1"},
		{"mangled header", "10.1.1.1:443", []string{"172.16.9.9, garbage"}, "10.1.1.1"},
		{"IPv6 peer", "[fd00::1]:443", nil, "fd00::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := cfg.ClientIP(r); got != tc.want {
				t.Fatalf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := identityhttp.ParseTrustedProxies([]string{"not-an-address"}); !core.IsCode(err, core.EInvalid) {
		t.Fatalf("bad proxy entry: %v", err)
	}
	if p := netip.MustParsePrefix("10.0.0.0/8"); proxies[0] != p {
		t.Fatalf("prefix = %v", proxies[0])
	}
}

func TestLoginIsAuditedWithClientAddress(t *testing.T) {
	proxies, _ := identityhttp.ParseTrustedProxies([]string{"127.0.0.1"})
	s := newServer(t, identityhttp.Config{TrustedProxies: proxies})
	s.login(t, "dr.li", staffPW, map[string]string{"X-Forwarded-For": "172.16.20.20"})
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	for _, e := range s.audit.entries {
		if e.Action == "session.login" && e.Result == audit.ResultOK {
			if e.IP != "172.16.20.20" || e.ActorID != s.staff.ID {
				t.Fatalf("audit entry = %+v", e)
			}
			return
		}
	}
	t.Fatal("sign-in not audited")
}

func TestRoutesDocumented(t *testing.T) {
	s := newServer(t, identityhttp.Config{})
	doc := s.rt.OpenAPI("test")
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/sessions", "/api/v1/sessions/current", "/api/v1/sessions/{id}", "/api/v1/me", "/api/v1/me/password",
		"/api/v1/me/tokens", "/api/v1/me/tokens/{id}", "/api/v1/orgs/{org}/users", "/api/v1/users/{id}", "/api/v1/users/{id}/deactivate",
		"/api/v1/users/{id}/reactivate", "/api/v1/users/{id}/password", "/api/v1/orgs/{org}/bots", "/api/v1/bots/{id}/token"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
	for _, r := range s.rt.Routes() {
		if r.Access == httpapi.Public && r.Path != "/api/v1/sessions" {
			t.Errorf("%s %s is public", r.Method, r.Path)
		}
	}
}
