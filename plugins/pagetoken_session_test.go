package plugins_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
	identityhttp "github.com/roundshq/rounds/core/identity/httpapi"
	identitystore "github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
)

// node is one Rounds node as far as app pages go: its own identity service
// (and authentication cache) over the shared database, its own app host over
// the shared storage, and the /plugins/ handler in front of them. Nodes are
// not joined by a bus: none hears of another's revocations.
type node struct {
	id  *identity.Service
	env *env
	srv *httptest.Server
}

type cluster struct {
	t       *testing.T
	clock   *testClock
	storage *memStorage
	open    func() *identity.Service
	org     string
	web     plugins.Install
}

func newCluster(t *testing.T) *cluster {
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: identitystore.Area, FS: identitystore.Migrations()})
	clock := &testClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	org := core.NewID()
	c := &cluster{t: t, clock: clock, storage: &memStorage{kv: map[string][]byte{}}, org: org,
		web: install(t, "web-app", org, "", allGrants()...)}
	c.open = func() *identity.Service {
		return identity.New(identitystore.New(db), identity.Config{AuthCacheTTL: time.Minute,
			Argon2: identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}}, nil, nil, clock)
	}
	return c
}

// node starts a node running the web-app install.
func (c *cluster) node() *node {
	n := &node{id: c.open()}
	n.env = newEnv(c.t, func(cfg *plugins.Config) { cfg.Now = c.clock.Now; cfg.Storage = c.storage })
	n.env.host.UseSessions(n.id)
	n.env.start(c.t, c.web)
	n.srv = httptest.NewServer(pluginhttp.Handler(n.env.host, identityhttp.NewAuthenticator(n.id, identityhttp.Config{})))
	c.t.Cleanup(n.srv.Close)
	return n
}

func (n *node) do(t *testing.T, method, path, bearer string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, n.srv.URL+path, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Origin", "null")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// openPage opens web-app's page with a session token and returns its page
// token.
func (n *node) openPage(t *testing.T, session string) string {
	t.Helper()
	a := n.do(t, "GET", "/plugins/web-app/ui/report", session)
	m := metaToken.FindStringSubmatch(a.body)
	if a.status != 200 || m == nil {
		t.Fatalf("page: %d %q", a.status, a.body)
	}
	return m[1]
}

func (n *node) call(t *testing.T, tok string) answer {
	t.Helper()
	return n.do(t, "POST", "/plugins/web-app/echo/7", tok)
}

func wantRefused(t *testing.T, what string, a answer, contains string) {
	t.Helper()
	if a.status != 401 || a.code() != string(core.EUnauthenticated) || !strings.Contains(a.body, contains) {
		t.Fatalf("%s: %d %q, want 401 unauthenticated containing %q", what, a.status, a.body, contains)
	}
	if a.header.Get(pluginhttp.PageTokenHeader) != "" {
		t.Fatalf("%s: a refused call was handed a token", what)
	}
}

func wantOK(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != 201 || !strings.Contains(a.body, "POST /echo/7 user=") {
		t.Fatalf("%s: %d %q", what, a.status, a.body)
	}
}

func (c *cluster) signIn(t *testing.T, n *node, login string) (identity.Session, string) {
	t.Helper()
	s, tok, err := n.id.Login(context.Background(), login, "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	return s, tok
}

// TestPageTokensFollowTheSession: a page token is accepted only while the
// session it was issued under is active, as identity decides from the
// shared database — so a node that never heard of a sign-out (another node,
// a restarted one) refuses the signed-out session's tokens, and signing out
// one device leaves the other's pages working.
func TestPageTokensFollowTheSession(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	ctx := context.Background()
	nurse, err := a.id.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: c.org, Login: "nurse.li", Password: "ward-five-nights"})
	if err != nil {
		t.Fatal(err)
	}
	_, desk := c.signIn(t, a, "nurse.li")
	_, phone := c.signIn(t, a, "nurse.li")
	deskTok, phoneTok := a.openPage(t, desk), a.openPage(t, phone)
	wantOK(t, "desk page on node a", a.call(t, deskTok))
	wantOK(t, "phone page on node a", a.call(t, phoneTok))

	// The desk signs out on node a.
	deskActor, err := a.id.Authenticate(ctx, desk)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.id.Logout(ctx, deskActor); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "signed-out desk on node a", a.call(t, deskTok), "sign in again")
	wantOK(t, "the phone on node a", a.call(t, phoneTok))
	// Node b heard nothing and never saw the desk's token: the database says no.
	wantRefused(t, "signed-out desk on node b", b.call(t, deskTok), "sign in again")
	wantOK(t, "the phone on node b", b.call(t, phoneTok))
	// A node started after the sign-out (a restart) knows nothing either.
	wantRefused(t, "signed-out desk on a restarted node", c.node().call(t, deskTok), "sign in again")

	// Node b has the phone cached as active now. Told nothing, it trusts
	// that for the authentication cache's TTL at most, as for any bearer
	// token (the bus, in production, makes it forget at once).
	phoneActor, err := a.id.Authenticate(ctx, phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.id.Logout(ctx, phoneActor); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "signed-out phone on node a", a.call(t, phoneTok), "sign in again")
	c.clock.add(time.Minute)
	wantRefused(t, "signed-out phone on node b after the cache TTL", b.call(t, phoneTok), "sign in again")

	// Deactivation ends every page of the person.
	_, again := c.signIn(t, a, "nurse.li")
	tok := a.openPage(t, again)
	wantOK(t, "signed in again", b.call(t, tok))
	c.clock.add(time.Minute) // past node b's cached answer
	if err := a.id.Deactivate(ctx, core.SystemActor, nurse.ID); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "deactivated, on node b", b.call(t, tok), "sign in again")

	// Where sessions are checked, a page opens only in a session, and a
	// token naming none (from a host that checks none, sharing the key) is
	// refused.
	if _, err := a.env.host.IssuePageToken(ctx, core.Actor{UserID: nurse.ID, OrgID: c.org, Kind: core.ActorUser},
		plugins.Route{InstallID: c.web.ID, AppID: "web-app"}); !core.IsCode(err, core.EUnauthenticated) {
		t.Fatalf("a page token without a session: %v", err)
	}
	unchecked := newEnv(t, func(cfg *plugins.Config) { cfg.Now = c.clock.Now; cfg.Storage = c.storage })
	noSession, err := unchecked.host.IssuePageToken(ctx, core.Actor{UserID: nurse.ID, OrgID: c.org, Kind: core.ActorUser},
		plugins.Route{InstallID: c.web.ID, AppID: "web-app"})
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "a token naming no session", a.call(t, noSession), "names no session")
}

// TestPageTokenRenewal: a page in use gets a fresh token on the answer to a
// call made past half its token's life, an idle page renews through
// /@page-token; both only while the session lives. The old token keeps
// working until its own expiry; bad and forged tokens are refused with the
// same stable code.
func TestPageTokenRenewal(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	ctx := context.Background()
	if _, err := a.id.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: c.org, Login: "nurse.li", Password: "ward-five-nights"}); err != nil {
		t.Fatal(err)
	}
	_, session := c.signIn(t, a, "nurse.li")
	tok1 := a.openPage(t, session)

	// Before half its life: no renewal.
	c.clock.add(29 * time.Minute)
	r := a.call(t, tok1)
	wantOK(t, "at 29 minutes", r)
	if r.header.Get(pluginhttp.PageTokenHeader) != "" {
		t.Fatal("renewed before half the token's life")
	}
	// Past it: the answer carries a fresh token the sandboxed page may read.
	c.clock.add(2 * time.Minute)
	r = b.call(t, tok1)
	wantOK(t, "at 31 minutes", r)
	tok2 := r.header.Get(pluginhttp.PageTokenHeader)
	if !strings.HasPrefix(tok2, plugins.PageTokenPrefix) || tok2 == tok1 {
		t.Fatalf("no fresh token at 31 minutes: %v", r.header)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "null" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), pluginhttp.PageTokenHeader) {
		t.Fatalf("the page cannot read the fresh token: %v", r.header)
	}
	c1, c2 := decodeClaims(t, tok1), decodeClaims(t, tok2)
	if c2.UserID != c1.UserID || c2.SessionID != c1.SessionID || c2.InstallID != c1.InstallID || c2.AppID != c1.AppID ||
		c2.ExpiresAt != c.clock.Now().Add(plugins.PageTokenTTL).UnixMilli() {
		t.Fatalf("renewed claims %+v from %+v", c2, c1)
	}
	// Both work until the old one's expiry; then the new one alone.
	wantOK(t, "the renewed token", a.call(t, tok2))
	c.clock.add(28 * time.Minute) // 59 minutes
	wantOK(t, "the old token before its expiry", a.call(t, tok1))
	c.clock.add(time.Minute) // 60 minutes
	wantRefused(t, "the old token at its expiry", a.call(t, tok1), "expired")
	wantOK(t, "the renewed token after the old one expired", b.call(t, tok2))

	// An idle page renews explicitly, from the sandbox.
	req, _ := http.NewRequest("OPTIONS", a.srv.URL+"/plugins/web-app"+pluginhttp.PageTokenPath, nil)
	req.Header.Set("Origin", "null")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "null" {
		t.Fatalf("renewal preflight: %d %v", resp.StatusCode, resp.Header)
	}
	renew := func(n *node, method, tok string) (answer, pluginhttp.Renewal) {
		t.Helper()
		r := n.do(t, method, "/plugins/web-app"+pluginhttp.PageTokenPath, tok)
		var out pluginhttp.Renewal
		_ = json.Unmarshal([]byte(r.body), &out)
		return r, out
	}
	r, got := renew(b, "POST", tok2)
	if r.status != 200 || !strings.HasPrefix(got.Token, plugins.PageTokenPrefix) || r.header.Get("Access-Control-Allow-Origin") != "null" ||
		!got.ExpiresAt.Equal(c.clock.Now().Add(plugins.PageTokenTTL)) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("renew: %d %q %v", r.status, r.body, r.header)
	}
	tok3 := got.Token
	wantOK(t, "the explicitly renewed token", a.call(t, tok3))
	wantOK(t, "the token it replaced", a.call(t, tok2))

	// Bad renewals change nothing and say why, with stable codes.
	if r, _ := renew(a, "GET", tok3); r.status != 400 || r.code() != string(core.EInvalid) {
		t.Fatalf("renew with GET: %d %q", r.status, r.body)
	}
	if r, _ := renew(a, "POST", session); r.status != 401 || r.code() != string(core.EUnauthenticated) || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("renew with a session token: %d %q", r.status, r.body)
	}
	for name, bad := range map[string]string{
		"garbage":  plugins.PageTokenPrefix + "x.y",
		"no dot":   plugins.PageTokenPrefix + "xyz",
		"forged":   forge(t, tok3, func(c *plugins.PageClaims) { c.UserID = core.NewID() }),
		"extended": forge(t, tok3, func(c *plugins.PageClaims) { c.ExpiresAt += int64(24 * time.Hour / time.Millisecond) }),
	} {
		r, got := renew(a, "POST", bad)
		if got.Token != "" {
			t.Fatalf("%s: renewed", name)
		}
		wantRefused(t, name+" renewal", r, "not valid")
		wantRefused(t, name+" call", a.call(t, bad), "not valid")
	}
	// Another app's token renews nothing of this one.
	other := install(t, "other-app", c.org, "", allGrants()...)
	a.env.start(t, other)
	otherTok := a.do(t, "GET", "/plugins/other-app/ui/report", session)
	m := metaToken.FindStringSubmatch(otherTok.body)
	if m == nil {
		t.Fatalf("other app's page: %q", otherTok.body)
	}
	if r, _ := renew(a, "POST", m[1]); r.status != 401 || !strings.Contains(r.body, "another app") {
		t.Fatalf("renew another app's token: %d %q", r.status, r.body)
	}

	// Once the session ends, nothing is renewed — neither on a call nor
	// explicitly, nor from claims checked just before the sign-out.
	checked, err := a.env.host.CheckPageToken(ctx, tok3, "web-app")
	if err != nil {
		t.Fatal(err)
	}
	c.clock.add(31 * time.Minute) // tok3 is due
	actor, err := a.id.Authenticate(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.id.Logout(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if tok, _, err := a.env.host.RenewPageToken(ctx, checked); !core.IsCode(err, core.EUnauthenticated) || tok != "" {
		t.Fatalf("renewed from claims of an ended session: %q %v", tok, err)
	}
	wantRefused(t, "due call after sign-out", b.call(t, tok3), "sign in again")
	r, got = renew(b, "POST", tok3)
	if got.Token != "" {
		t.Fatal("renewed after sign-out")
	}
	wantRefused(t, "renewal after sign-out", r, "sign in again")

	// Nor for an install that no longer runs (the app was reinstalled).
	_, s2 := c.signIn(t, a, "nurse.li")
	live, err := a.env.host.CheckPageToken(ctx, a.openPage(t, s2), "web-app")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.env.host.Stop(c.web.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.env.host.RenewPageToken(ctx, live); !core.IsCode(err, core.EUnauthenticated) {
		t.Fatalf("renewed for a stopped install: %v", err)
	}
}

func decodeClaims(t *testing.T, tok string) plugins.PageClaims {
	t.Helper()
	payload, _, _ := strings.Cut(strings.TrimPrefix(tok, plugins.PageTokenPrefix), ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var c plugins.PageClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("claims of %q: %v", tok, err)
	}
	return c
}

// forge rewrites a token's claims and keeps its signature.
func forge(t *testing.T, tok string, change func(*plugins.PageClaims)) string {
	t.Helper()
	c := decodeClaims(t, tok)
	change(&c)
	_, sig, _ := strings.Cut(strings.TrimPrefix(tok, plugins.PageTokenPrefix), ".")
	raw, _ := json.Marshal(c)
	return plugins.PageTokenPrefix + base64.RawURLEncoding.EncodeToString(raw) + "." + sig
}
