package plugins_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	corehttp "github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

type headerAuth struct{}

// Authenticate takes the user and organisation from test headers.
func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: u, OrgID: r.Header.Get("X-Test-Org"), Kind: core.ActorUser}, nil
}

var _ corehttp.Authenticator = headerAuth{}

func TestHTTPRoutesAndPages(t *testing.T) {
	e := newEnv(t, nil)
	web := install(t, "web-app", "org1", "", allGrants()...)
	noRoutes := install(t, "no-routes", "org1", "", plugins.Grant{Scope: sdk.ScopeIMSend})
	e.start(t, web)
	e.start(t, noRoutes)
	srv := httptest.NewServer(pluginhttp.Handler(e.host, headerAuth{}))
	defer srv.Close()
	do := func(method, path, body, user, org string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if user != "" {
			req.Header.Set("X-Test-User", user)
			req.Header.Set("X-Test-Org", org)
		}
		req.Header.Set("Cookie", "rounds_session=secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	cases := []struct {
		name, method, path, body, user, org string
		status                              int
		contains                            string
	}{
		{"route forwarded as the signed-in user, cookies dropped", "POST", "/plugins/web-app/echo/42", "交班", "nurse1", "org1", 201, `POST /echo/42 user=nurse1 cookie="" body=交班`},
		{"undeclared route", "GET", "/plugins/web-app/admin", "", "nurse1", "org1", 404, "no route"},
		{"undeclared method", "GET", "/plugins/web-app/echo/42", "", "nurse1", "org1", 404, "no route"},
		{"not signed in", "POST", "/plugins/web-app/echo/42", "", "", "", 401, "sign in"},
		{"app of another organisation", "POST", "/plugins/web-app/echo/42", "", "doc", "org2", 404, "no app"},
		{"install without http:routes", "POST", "/plugins/no-routes/echo/1", "", "nurse1", "org1", 403, "http:routes"},
		{"malformed path", "GET", "/plugins/web-app//x", "", "nurse1", "org1", 400, "malformed"},
		{"oversized body", "POST", "/plugins/web-app/echo/1", strings.Repeat("x", sdk.MaxHTTPBody+1), "nurse1", "org1", 413, "larger"},
		{"page served in a sandbox", "GET", "/plugins/web-app/ui/report", "", "nurse1", "org1", 200, "<h1>日报</h1>"},
		{"unknown page", "GET", "/plugins/web-app/ui/secret", "", "nurse1", "org1", 404, "no page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(c.method, c.path, c.body, c.user, c.org)
			if resp.StatusCode != c.status || !strings.Contains(body, c.contains) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body, c.status, c.contains)
			}
			if c.status < 300 && resp.Header.Get("Content-Security-Policy") != pluginhttp.PageCSP {
				t.Fatalf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
	if got := e.command(t, web, "ping"); got != "pong u1" {
		t.Fatalf("app broken after bad requests: %q", got)
	}
}
