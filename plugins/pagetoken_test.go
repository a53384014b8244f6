package plugins_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var metaToken = regexp.MustCompile(`<meta name="rounds-page-token" content="([^"]+)">`)

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) code() string {
	var e struct{ Code string }
	_ = json.Unmarshal([]byte(a.body), &e)
	return e.Code
}

// TestPageTokens: a page served to a signed-in person carries a token that
// lets the page — from its sandbox, without cookies — call its own app's
// routes as that person, and nothing else.
func TestPageTokens(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	storage := &memStorage{kv: map[string][]byte{}}
	e := newEnv(t, func(c *plugins.Config) { c.Now = clock.Now; c.Storage = storage })
	web := install(t, "web-app", "org1", "", allGrants()...)
	other := install(t, "other-app", "org1", "", allGrants()...)
	e.start(t, web)
	e.start(t, other)
	srv := httptest.NewServer(pluginhttp.Handler(e.host, headerAuth{}))
	defer srv.Close()

	do := func(method, path, body string, hdr map[string]string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	signedIn := map[string]string{"X-Test-User": "nurse1", "X-Test-Org": "org1"}
	openPage := func(app string) string {
		t.Helper()
		a := do("GET", "/plugins/"+app+"/ui/report", "", signedIn)
		m := metaToken.FindStringSubmatch(a.body)
		if a.status != 200 || m == nil || !strings.Contains(a.body, "<h1>日报</h1>") {
			t.Fatalf("page: %d %q", a.status, a.body)
		}
		if a.header.Get("Cache-Control") != "no-store" || a.header.Get("Content-Security-Policy") != pluginhttp.PageCSP {
			t.Fatalf("page headers: %v", a.header)
		}
		if a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("a page must not be readable cross-origin")
		}
		return m[1]
	}
	tok := openPage("web-app")
	asPage := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Origin": "null", "Content-Type": "application/json"}
	}

	// The page's preflight and call: answered for Origin null, no cookies.
	pre := do("OPTIONS", "/plugins/web-app/echo/7", "", map[string]string{"Origin": "null", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,content-type"})
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "null" ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") || pre.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", pre.status, pre.header)
	}
	ok := do("POST", "/plugins/web-app/echo/7", "交班", asPage(tok))
	if ok.status != 201 || !strings.Contains(ok.body, "POST /echo/7 user=nurse1") || ok.header.Get("Access-Control-Allow-Origin") != "null" ||
		ok.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("call with the page token: %d %q %v", ok.status, ok.body, ok.header)
	}
	// The token speaks for its person only, whatever else the request says.
	hdr := asPage(tok)
	hdr["X-Test-User"], hdr["X-Test-Org"] = "doc", "org1"
	if a := do("POST", "/plugins/web-app/echo/7", "", hdr); a.status != 201 || !strings.Contains(a.body, "user=nurse1") {
		t.Fatalf("token and another user's credentials: %d %q", a.status, a.body)
	}

	refused := func(name string, a answer, contains string) {
		t.Helper()
		if a.status != 401 || a.code() != string(core.EUnauthenticated) || !strings.Contains(a.body, contains) {
			t.Fatalf("%s: %d %q, want 401 unauthenticated containing %q", name, a.status, a.body, contains)
		}
		// The sandboxed page can read why, to tell the person to reload.
		if a.header.Get("Access-Control-Allow-Origin") != "null" {
			t.Fatalf("%s: refusal not readable by the page: %v", name, a.header)
		}
	}
	refused("another app's routes", do("POST", "/plugins/other-app/echo/7", "", asPage(tok)), "another app")
	refused("a page", do("GET", "/plugins/web-app/ui/report", "", asPage(tok)), "opens no pages")
	refused("garbage", do("POST", "/plugins/web-app/echo/7", "", asPage(plugins.PageTokenPrefix+"x.y")), "not valid")
	// A forged token: the claims rewritten to another person, the signature kept.
	payload, sig, _ := strings.Cut(strings.TrimPrefix(tok, plugins.PageTokenPrefix), ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	var claims plugins.PageClaims
	if err := json.Unmarshal(raw, &claims); err != nil || claims.UserID != "nurse1" || claims.InstallID != web.ID || claims.AppID != "web-app" {
		t.Fatalf("claims %+v, %v", claims, err)
	}
	claims.UserID = "doc"
	raw, _ = json.Marshal(claims)
	forged := plugins.PageTokenPrefix + base64.RawURLEncoding.EncodeToString(raw) + "." + sig
	refused("a forged token", do("POST", "/plugins/web-app/echo/7", "", asPage(forged)), "not valid")
	// The other app's own page token works for it, and not for web-app.
	otherTok := openPage("other-app")
	if a := do("POST", "/plugins/other-app/echo/1", "", asPage(otherTok)); a.status != 201 {
		t.Fatalf("other app with its token: %d %q", a.status, a.body)
	}
	refused("other app's token on web-app", do("POST", "/plugins/web-app/echo/1", "", asPage(otherTok)), "another app")

	// Not for another origin's preflight, nor for pages, nor without a token.
	if a := do("OPTIONS", "/plugins/web-app/echo/7", "", map[string]string{"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}); a.status != 403 || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", a.status, a.header)
	}
	if a := do("OPTIONS", "/plugins/web-app/ui/report", "", map[string]string{"Origin": "null", "Access-Control-Request-Method": "GET"}); a.status != 403 || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("page preflight: %d %v", a.status, a.header)
	}
	if a := do("POST", "/plugins/web-app/echo/7", "", map[string]string{"Origin": "null"}); a.status != 401 || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no token: %d %v", a.status, a.header)
	}

	// A second node sharing the storage accepts the token (one key per cluster).
	e2 := newEnv(t, func(c *plugins.Config) { c.Now = clock.Now; c.Storage = storage })
	if _, inst, err := e2.host.PageActor(t.Context(), tok, "web-app"); err != nil || inst != web.ID {
		t.Fatalf("second node: %s %v", inst, err)
	}
	// A node with another key does not.
	e3 := newEnv(t, func(c *plugins.Config) { c.Now = clock.Now })
	if _, _, err := e3.host.PageActor(t.Context(), tok, "web-app"); !core.IsCode(err, core.EUnauthenticated) {
		t.Fatalf("foreign node: %v", err)
	}

	// Reinstalling the app ends the old install's tokens.
	re := web
	re.ID = core.NewID()
	if err := e.host.Stop(web.ID); err != nil {
		t.Fatal(err)
	}
	e.start(t, re)
	refused("token of the previous install", do("POST", "/plugins/web-app/echo/7", "", asPage(tok)), "another install")
	tok = openPage("web-app")

	// Expiry: good for an hour.
	clock.add(plugins.PageTokenTTL - time.Minute)
	if a := do("POST", "/plugins/web-app/echo/7", "", asPage(tok)); a.status != 201 {
		t.Fatalf("before expiry: %d %q", a.status, a.body)
	}
	clock.add(time.Minute)
	refused("expired", do("POST", "/plugins/web-app/echo/7", "", asPage(tok)), "expired")
	// Ending the session ends its tokens: TestPageTokensFollowTheSession.
}

func TestInjectMeta(t *testing.T) {
	for in, want := range map[string]string{
		"<!doctype html>\n<p>x":     "<!doctype html>\n<meta name=\"n\" content=\"c\">\n<p>x",
		"\ufeff <!DOCTYPE html><p>": "\ufeff <!DOCTYPE html>\n<meta name=\"n\" content=\"c\"><p>",
		"<h1>日报</h1>":               "<meta name=\"n\" content=\"c\">\n<h1>日报</h1>",
		"":                          "<meta name=\"n\" content=\"c\">\n",
	} {
		if got := string(pluginhttp.InjectMeta([]byte(in), "n", "c")); got != want {
			t.Errorf("InjectMeta(%q) = %q, want %q", in, got, want)
		}
	}
}
