package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/plugins/sdk"
)

// TestAppPageTokenThroughServer runs the real 日报 app in a whole Rounds
// node: the page a nurse opens carries a page token; with it alone (no
// cookies, Origin null, as from the sandboxed frame) she submits her report
// and her head nurse's team page lists it. The token is refused by /api/v1
// and, once she signs out, by the app's routes too.
func TestAppPageTokenThroughServer(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s

	startRealApp(t, f, "daily-report", "dailyreport", []string{"manifest.json", "ui/write.html", "ui/team.html"},
		[]marketplace.Grant{{Scope: sdk.ScopeOrgchartRead, Subtree: f.ward}, {Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeHTTPRoutes}},
		map[string]string{"department": f.ward})

	type answer struct {
		status int
		header http.Header
		body   string
	}
	send := func(method, path, bearer, body string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Origin", "null")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	meta := regexp.MustCompile(`<meta name="rounds-page-token" content="([^"]+)">`)
	pageToken := func(session, page string) string {
		t.Helper()
		a := send("GET", "/plugins/daily-report/ui/"+page, session, "")
		m := meta.FindStringSubmatch(a.body)
		if a.status != 200 || m == nil {
			t.Fatalf("page %s: %d %q", page, a.status, a.body)
		}
		return m[1]
	}
	nurseTok := pageToken(f.nurse, "write")
	a := send("POST", "/plugins/daily-report/reports", nurseTok, `{"text":"今日查房完成，12床出院"}`)
	if a.status != 201 || !strings.Contains(a.body, f.nurseID) || a.header.Get("Access-Control-Allow-Origin") != "null" {
		t.Fatalf("submit with the page token: %d %q %v", a.status, a.body, a.header)
	}
	if a := send("GET", "/plugins/daily-report/reports/team", pageToken(f.head, "team"), ""); a.status != 200 || !strings.Contains(a.body, "今日查房完成，12床出院") {
		t.Fatalf("the head nurse's team page: %d %q", a.status, a.body)
	}

	// Never the API: the token is not an identity token.
	var refusal struct{ Code string }
	for _, path := range []string{"/api/v1/me", "/api/v1/me/apps"} {
		a := send("GET", path, nurseTok, "")
		_ = json.Unmarshal([]byte(a.body), &refusal)
		if a.status != 401 || refusal.Code != "unauthenticated" || a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("GET %s with a page token: %d %q", path, a.status, a.body)
		}
	}

	// Signing out ends the page tokens of the session's person.
	if code := s.do("DELETE", "/api/v1/sessions/current", f.nurse, nil, nil); code != 204 {
		t.Fatalf("sign out: %d", code)
	}
	a = send("POST", "/plugins/daily-report/reports", nurseTok, `{"text":"x"}`)
	_ = json.Unmarshal([]byte(a.body), &refusal)
	if a.status != 401 || refusal.Code != "unauthenticated" {
		t.Fatalf("after sign-out: %d %q", a.status, a.body)
	}
}
