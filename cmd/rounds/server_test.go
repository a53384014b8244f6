package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/config"
)

// testServer is a whole Rounds node on embedded defaults in a temp dir.
type testServer struct {
	t   *testing.T
	app *App
	srv *httptest.Server
}

func startServer(t *testing.T, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Database.SQLiteSynchronous = "normal"
	for _, m := range mutate {
		m(&cfg)
	}
	app, err := Build(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	return &testServer{t: t, app: app, srv: srv}
}

// do sends a request with an optional JSON body and bearer token and decodes
// the JSON answer into out (when not nil). It returns the status.
func (s *testServer) do(method, path, token string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

func TestHealthAndReadiness(t *testing.T) {
	s := startServer(t)
	var rep ReadyReport
	if code := s.do("GET", "/readyz", "", nil, &rep); code != 200 || rep.Status != "ready" {
		t.Fatalf("readyz %d %+v", code, rep)
	}
	for _, want := range []string{"database"} {
		if rep.Checks[want] != "ok" {
			t.Errorf("check %s = %q", want, rep.Checks[want])
		}
	}
	if code := s.do("GET", "/healthz", "", nil, nil); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	resp, err := http.Get(s.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"go_goroutines", "go_sql_open_connections", "rounds_ws_connections 0", "rounds_ws_disconnects_total{reason=\"slow_consumer\"} 0", "rounds_bus_dropped_total 0"} {
		if !strings.Contains(string(b), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

func TestUnknownAPIRouteIsEnvelope(t *testing.T) {
	s := startServer(t)
	var e struct{ Code, Message string }
	if code := s.do("GET", "/api/v1/no-such-thing", "", nil, &e); code != 404 || e.Code != string(core.ENotFound) {
		t.Fatalf("%d %+v", code, e)
	}
}

var placeholder = regexp.MustCompile(`\{[a-zA-Z_]+(\.\.\.)?\}`)

// TestOpenAPIListsExactlyTheRoutes fails when a registered route is missing
// from /api/v1/openapi.json, when the document lists a path no route serves,
// or when a registered route is not actually mounted.
func TestOpenAPIListsExactlyTheRoutes(t *testing.T) {
	s := startServer(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if code := s.do("GET", "/api/v1/openapi.json", "", nil, &doc); code != 200 {
		t.Fatalf("openapi %d", code)
	}
	registered := map[string]bool{}
	for _, r := range s.app.router.Routes() {
		key := strings.ToLower(r.Method) + " " + r.Path
		registered[key] = true
		if _, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s missing from the OpenAPI document", key)
		}
		// Mounted: the mux must route it to a handler, not to the API 404.
		path := placeholder.ReplaceAllString(r.Path, core.NewID())
		req, _ := http.NewRequest(r.Method, s.srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 404 && strings.Contains(string(b), "no API route") {
			t.Errorf("route %s is registered but not mounted", key)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+p] {
				t.Errorf("OpenAPI lists %s %s but no route serves it", m, p)
			}
		}
	}
}

func TestConfigCheckNamesBadKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rounds.yaml")
	os.WriteFile(p, []byte("server:\n  listen: nowhere\nlog:\n  level: loud\n"), 0o600)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"config", "check", "-config", p}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "server.listen") || !strings.Contains(errb.String(), "log.level") {
		t.Fatalf("code %d stderr %s", code, errb.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "rounds ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}
