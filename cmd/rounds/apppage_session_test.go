package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

// runInstall starts an already laid-out install in s's node the way the
// marketplace does, and stops it when the test ends.
func runInstall(t *testing.T, s *testServer, ra marketplace.RunningApp) {
	t.Helper()
	runner := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runner.Start(ctx, ra); err != nil {
		t.Fatalf("start the app: %v", err)
	}
	t.Cleanup(func() { _ = runner.Stop(context.Background(), ra.InstallID) })
}

// TestAppPagesEndWithTheSessionAcrossARestart runs the real 日报 app in a
// whole Rounds node. A nurse and her head nurse open its pages; the nurse
// signs out; the node restarts, so whatever it heard of the sign-out is
// gone. The restarted node refuses the nurse's page token (identity's
// database says her session ended) and accepts the head nurse's, which
// also renews — and the nurse's does not.
func TestAppPagesEndWithTheSessionAcrossARestart(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s

	// The 日报 app laid out as an installed bundle.
	dir := t.TempDir()
	src := filepath.Join("../../plugins/apps", "dailyreport")
	exe := filepath.Join(dir, "daily-report")
	if out, err := exec.Command("go", "build", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, name := range []string{"manifest.json", "ui/write.html", "ui/team.html"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin, _ := os.ReadFile(exe)
	sum := sha256.Sum256(bin)
	installID := core.NewID()
	ra := marketplace.RunningApp{InstallID: installID, OrgID: f.org, AppID: "daily-report", Version: "0.1.0", BotUserID: installID,
		Dir: dir, Executable: exe, Checksum: hex.EncodeToString(sum[:]),
		Grants:   []marketplace.Grant{{Scope: sdk.ScopeOrgchartRead, Subtree: f.ward}, {Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeHTTPRoutes}},
		Settings: map[string]string{"department": f.ward}}
	runInstall(t, s, ra)

	type answer struct {
		status int
		header http.Header
		body   string
	}
	send := func(s *testServer, method, path, bearer, body string) answer {
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
	code := func(a answer) string {
		var e struct{ Code string }
		_ = json.Unmarshal([]byte(a.body), &e)
		return e.Code
	}
	meta := regexp.MustCompile(`<meta name="rounds-page-token" content="([^"]+)">`)
	pageToken := func(session, page string) string {
		t.Helper()
		a := send(s, "GET", "/plugins/daily-report/ui/"+page, session, "")
		m := meta.FindStringSubmatch(a.body)
		if a.status != 200 || m == nil {
			t.Fatalf("page %s: %d %q", page, a.status, a.body)
		}
		// The helper that keeps the token fresh comes with it, before the
		// page's own script, and renews through this app's own route.
		if !strings.Contains(a.body, `"/plugins/daily-report/@page-token"`) || strings.Index(a.body, "X-Rounds-Page-Token") > strings.Index(a.body, "<h1>") {
			t.Fatalf("page %s without the helper before its content: %q", page, a.body)
		}
		return m[1]
	}
	nurseTok, headTok := pageToken(f.nurse, "write"), pageToken(f.head, "team")
	if a := send(s, "POST", "/plugins/daily-report/reports", nurseTok, `{"text":"交班：5床夜间血压平稳"}`); a.status != 201 {
		t.Fatalf("submit: %d %q", a.status, a.body)
	}
	if a := send(s, "GET", "/plugins/daily-report/reports/team", headTok, ""); a.status != 200 || !strings.Contains(a.body, "5床夜间血压平稳") {
		t.Fatalf("team: %d %q", a.status, a.body)
	}

	// The nurse signs out; then the node restarts.
	if c := s.do("DELETE", "/api/v1/sessions/current", f.nurse, nil, nil); c != 204 {
		t.Fatalf("sign out: %d", c)
	}
	cfg := s.app.cfg
	s.srv.Close()
	if err := s.app.Close(); err != nil {
		t.Fatal(err)
	}
	app, err := Build(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s2 := &testServer{t: t, app: app, srv: httptest.NewServer(app.Handler())}
	t.Cleanup(func() { s2.srv.Close(); app.Close() })
	runInstall(t, s2, ra)

	a := send(s2, "POST", "/plugins/daily-report/reports", nurseTok, `{"text":"x"}`)
	if a.status != 401 || code(a) != "unauthenticated" || !strings.Contains(a.body, "sign in again") || a.header.Get("Access-Control-Allow-Origin") != "null" {
		t.Fatalf("the signed-out nurse's page on the restarted node: %d %q", a.status, a.body)
	}
	if a := send(s2, "GET", "/plugins/daily-report/reports/team", headTok, ""); a.status != 200 || !strings.Contains(a.body, "5床夜间血压平稳") {
		t.Fatalf("the head nurse's page on the restarted node: %d %q", a.status, a.body)
	}

	// Renewal: the head nurse's page gets a fresh token that works; the
	// nurse's gets none.
	a = send(s2, "POST", "/plugins/daily-report"+pluginhttp.PageTokenPath, headTok, "")
	var renewed pluginhttp.Renewal
	if err := json.Unmarshal([]byte(a.body), &renewed); err != nil || a.status != 200 || renewed.Token == "" || renewed.Token == headTok ||
		time.Until(renewed.ExpiresAt) < 59*time.Minute {
		t.Fatalf("renew the head nurse's token: %d %q", a.status, a.body)
	}
	if a := send(s2, "GET", "/plugins/daily-report/reports/team", renewed.Token, ""); a.status != 200 {
		t.Fatalf("the renewed token: %d %q", a.status, a.body)
	}
	a = send(s2, "POST", "/plugins/daily-report"+pluginhttp.PageTokenPath, nurseTok, "")
	if a.status != 401 || code(a) != "unauthenticated" || strings.Contains(a.body, "rpt1.") {
		t.Fatalf("renew the signed-out nurse's token: %d %q", a.status, a.body)
	}
	// A forged one (the nurse's claims, the head nurse's signature) is no better.
	_, sig, _ := strings.Cut(strings.TrimPrefix(headTok, "rpt1."), ".")
	payload, _, _ := strings.Cut(strings.TrimPrefix(nurseTok, "rpt1."), ".")
	forged := "rpt1." + payload + "." + sig
	for _, path := range []string{"/plugins/daily-report/reports/mine", "/plugins/daily-report" + pluginhttp.PageTokenPath} {
		method := "GET"
		if strings.HasSuffix(path, pluginhttp.PageTokenPath) {
			method = "POST"
		}
		if a := send(s2, method, path, forged, ""); a.status != 401 || code(a) != "unauthenticated" || !strings.Contains(a.body, "not valid") {
			t.Fatalf("forged token on %s: %d %q", path, a.status, a.body)
		}
	}
}
