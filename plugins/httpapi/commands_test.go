package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	corehttp "github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

// The real app programs the tests run: plugins/testdata/testapp (its
// "mode" setting makes it hang) and the IT 报修 app, built once.
var testApp, helpdeskApp string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugins-httpapi-test")
	if err != nil {
		panic(err)
	}
	testApp = filepath.Join(dir, "testapp")
	helpdeskApp = filepath.Join(dir, "helpdesk")
	for out, src := range map[string]string{testApp: "../testdata/testapp", helpdeskApp: "../apps/helpdesk"} {
		cmd := exec.Command("go", "build", "-o", out, src)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// headerAuth takes the user and organisation from test headers.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: u, OrgID: r.Header.Get("X-Test-Org"), Kind: core.ActorUser}, nil
}

// chat is the conversations and their members; it refuses as im does.
type chat struct{ members map[string][]string }

func (c chat) CheckMember(_ context.Context, a core.Actor, conv string) error {
	if !core.ValidID(conv) {
		return core.Invalid("conversation_id", "conversation_id is not a valid id")
	}
	users, ok := c.members[conv]
	if !ok {
		return core.Errorf(core.ENotFound, "no such conversation")
	}
	if !slices.Contains(users, a.UserID) {
		return core.Errorf(core.EForbidden, "you are not a member of this conversation")
	}
	return nil
}

// appCenter shows each person the installs listed for them.
type appCenter struct{ visible map[string][]string }

func (c appCenter) VisibleInstalls(_ context.Context, a core.Actor) ([]string, error) {
	if a.UserID == "guest" {
		return nil, core.Errorf(core.EForbidden, "guests have no app center")
	}
	return c.visible[a.UserID], nil
}

type installs struct {
	mu   sync.Mutex
	recs map[string]plugins.InstallRecord
}

func (s *installs) SaveInstall(_ context.Context, inst plugins.Install, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs[inst.ID] = plugins.InstallRecord{Install: inst, Dir: inst.Dir, Enabled: enabled}
	return nil
}

func (s *installs) GetInstall(_ context.Context, id string) (plugins.InstallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[id]
	if !ok {
		return r, core.Errorf(core.ENotFound, "no install %s", id)
	}
	return r, nil
}

func (s *installs) ListInstalls(_ context.Context, org string) ([]plugins.InstallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []plugins.InstallRecord
	for _, r := range s.recs {
		if org == "" || r.OrgID == org {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *installs) SetEnabled(context.Context, string, bool) error { return nil }
func (s *installs) DeleteInstall(context.Context, string) error    { return nil }
func (s *installs) ForgetInstall(context.Context, string) error    { return nil }

// messenger records what apps post; it reports every bot a member.
type messenger struct {
	mu   sync.Mutex
	sent []string
}

func (m *messenger) IsMember(context.Context, string, string, string) (bool, error) { return true, nil }
func (m *messenger) Send(_ context.Context, _, bot, conv, text string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, conv+"|"+bot+"|"+text)
	return core.NewID(), nil
}
func (m *messenger) SendDirect(context.Context, string, string, string, string) (string, error) {
	return "", core.Errorf(core.EForbidden, "not in this test")
}
func (m *messenger) Recent(context.Context, string, string, int) ([]sdk.Message, error) {
	return nil, nil
}
func (m *messenger) Sent() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

type kv struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *kv) Get(_ context.Context, inst, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[inst+"\x00"+key]
	return v, ok, nil
}
func (s *kv) Set(_ context.Context, inst, key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[inst+"\x00"+key] = v
	return nil
}
func (s *kv) Delete(_ context.Context, inst, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, inst+"\x00"+key)
	return nil
}
func (s *kv) Keys(_ context.Context, inst, prefix string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.m {
		if key, ok := strings.CutPrefix(k, inst+"\x00"); ok && strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out[:min(limit, len(out))], nil
}

type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (a *auditLog) Record(_ context.Context, e audit.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditLog) All() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Entry(nil), a.entries...)
}

// bundle lays out an installed bundle: the manifest and a copy of exe.
func bundle(t *testing.T, m sdk.Manifest, exe string, files map[string]string) (dir, sum string) {
	t.Helper()
	dir = t.TempDir()
	data, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, sdk.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, m.Executable), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := sha256.Sum256(bin)
	return dir, hex.EncodeToString(s[:])
}

// testManifest is the test app offering commands.
func testManifest(id, name string, commands ...sdk.SlashCommand) sdk.Manifest {
	return sdk.Manifest{ID: id, Name: name, Version: "1.0.0", Publisher: "Rounds tests", MinServerVersion: "0.1.0",
		Executable: "testapp", Scopes: []string{sdk.ScopeIMSend}, Hooks: []string{sdk.HookCommands},
		SlashCommands: commands, Settings: []sdk.Setting{{Key: "mode", Label: "Mode", Type: "string"}}}
}

type fixture struct {
	t      *testing.T
	host   *plugins.Host
	store  *installs
	msgs   *messenger
	audit  *auditLog
	reg    *prometheus.Registry
	srv    *httptest.Server
	router *corehttp.Router
}

func (f *fixture) start(inst plugins.Install) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.host.Start(ctx, inst); err != nil {
		f.t.Fatalf("start %s: %v", inst.AppID, err)
	}
	if err := f.store.SaveInstall(ctx, inst, true); err != nil {
		f.t.Fatal(err)
	}
}

// install starts the test app under appID in org with settings.
func (f *fixture) install(appID, name, org string, settings map[string]string, commands ...sdk.SlashCommand) plugins.Install {
	dir, sum := bundle(f.t, testManifest(appID, name, commands...), testApp, nil)
	inst := plugins.Install{ID: core.NewID(), OrgID: org, AppID: appID, BotUserID: "bot-" + appID, Dir: dir, Checksum: sum,
		Grants: []plugins.Grant{{Scope: sdk.ScopeIMSend}}, Settings: settings}
	f.start(inst)
	return inst
}

type answer struct {
	status int
	body   string
	Code   string
	Msg    string `json:"message"`
	Detail struct {
		Reason string `json:"reason"`
		AppID  string `json:"app_id"`
		Field  string `json:"field"`
	} `json:"details"`
	pluginhttp.CommandReply
	Items []pluginhttp.SlashCommand `json:"items"`
}

func (f *fixture) do(method, path, user, body string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if user != "" {
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Org", "org1")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b)}
	_ = json.Unmarshal(b, &a)
	return a
}

func (f *fixture) run(user, conv, command, args string) answer {
	f.t.Helper()
	body, _ := json.Marshal(pluginhttp.RunCommandRequest{ConversationID: conv, Command: command, Args: args})
	return f.do("POST", "/api/v1/plugins/commands/run", user, string(body))
}

// requests counts the API requests of a route with a status class (the
// router's metrics, as for every route).
func (f *fixture) requests(route, class string) float64 {
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "rounds_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == class {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestSlashCommands runs the command routes against real app processes:
// the test app (echo, a hanging app, a hidden one, two apps offering the
// same command, one of another hospital) and the real IT 报修 app, which
// files a ticket from "/it 打印机卡纸".
func TestSlashCommands(t *testing.T) {
	f := &fixture{t: t, store: &installs{recs: map[string]plugins.InstallRecord{}}, msgs: &messenger{}, audit: &auditLog{},
		reg: prometheus.NewRegistry()}
	host, err := plugins.New(plugins.Config{ServerVersion: "0.1.0", Messenger: f.msgs, Storage: &kv{m: map[string][]byte{}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HookTimeout: 2 * time.Second,
		HealthInterval: time.Second, BackoffMin: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.host = host
	t.Cleanup(func() { host.Close() })

	echo := f.install("echo-app", "回声", "org1", nil, sdk.SlashCommand{Name: "echo", Description: "回声测试: /echo ping"})
	hang := f.install("hang-app", "卡住的应用", "org1", map[string]string{"mode": "hang"}, sdk.SlashCommand{Name: "slow"})
	hidden := f.install("hidden-app", "不给护士看", "org1", nil, sdk.SlashCommand{Name: "secret"})
	dupA := f.install("dup-a", "甲", "org1", nil, sdk.SlashCommand{Name: "dup"})
	dupB := f.install("dup-b", "乙", "org1", nil, sdk.SlashCommand{Name: "dup"})
	gone := f.install("gone-app", "已停", "org1", nil, sdk.SlashCommand{Name: "gone"})
	other := f.install("other-org", "别的医院", "org2", nil, sdk.SlashCommand{Name: "echo"}, sdk.SlashCommand{Name: "theirs"})

	hdDir, hdSum := bundle(t, func() sdk.Manifest {
		data, err := os.ReadFile("../apps/helpdesk/manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		m, err := sdk.ParseManifest(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}(), helpdeskApp, map[string]string{"ui/mine.html": "../apps/helpdesk/ui/mine.html"})
	helpdesk := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "helpdesk", BotUserID: "bot-it", Dir: hdDir, Checksum: hdSum,
		Grants: []plugins.Grant{{Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeHTTPRoutes}}, Settings: map[string]string{"engineers": "eng1"}}
	f.start(helpdesk)
	// An install that stopped running here (its process gone) but that the
	// app center still shows.
	if err := host.Stop(gone.ID); err != nil {
		t.Fatal(err)
	}

	ward, it, strangers := core.NewID(), core.NewID(), core.NewID()
	nurseSees := []string{echo.ID, hang.ID, dupA.ID, dupB.ID, gone.ID, helpdesk.ID, other.ID}
	cmds := pluginhttp.Commands{Host: host, Installs: f.store, Audit: f.audit,
		Chat: chat{members: map[string][]string{ward: {"nurse1", "head1"}, it: {"eng1"}, strangers: {"eng1"}}},
		// other.ID is another hospital's install: it must stay out even if
		// the app center were to list it.
		Apps: appCenter{visible: map[string][]string{"nurse1": nurseSees, "head1": {hidden.ID}}}}
	mux := http.NewServeMux()
	f.router = corehttp.NewRouter(mux, headerAuth{}, f.reg)
	cmds.Register(f.router)
	f.srv = httptest.NewServer(corehttp.Middleware(mux))
	defer f.srv.Close()

	t.Run("the list: commands of the apps shown to me, with their app and description", func(t *testing.T) {
		a := f.do("GET", "/api/v1/plugins/commands", "nurse1", "")
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		var got []string
		for _, c := range a.Items {
			got = append(got, c.Command+" "+c.AppID+" "+c.AppName+" "+c.Description)
		}
		want := []string{"dup dup-b 乙 ", "dup dup-a 甲 ", "echo echo-app 回声 回声测试: /echo ping", "gone gone-app 已停 ",
			"it helpdesk IT 报修 IT 报修: /it [分类] 描述 ; /it status 编号", "slow hang-app 卡住的应用 "}
		if !slices.Equal(got, want) {
			t.Fatalf("list:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if a := f.do("GET", "/api/v1/plugins/commands", "head1", ""); a.status != 200 || len(a.Items) != 1 || a.Items[0].Command != "secret" {
			t.Fatalf("head1's list: %d %s", a.status, a.body)
		}
		if a := f.do("GET", "/api/v1/plugins/commands", "nobody", ""); a.status != 200 || a.body != "{\"items\":[]}\n" {
			t.Fatalf("no apps: %d %q", a.status, a.body)
		}
		if a := f.do("GET", "/api/v1/plugins/commands", "guest", ""); a.status != 403 {
			t.Fatalf("guest: %d %s", a.status, a.body)
		}
		if a := f.do("GET", "/api/v1/plugins/commands", "", ""); a.status != 401 {
			t.Fatalf("anonymous: %d %s", a.status, a.body)
		}
	})

	t.Run("a command reaches its app as the person who typed it; the reply is hers", func(t *testing.T) {
		a := f.run("nurse1", ward, "echo", "  ping  ")
		if a.status != 200 || a.Reply != "pong nurse1" || a.Command != "echo" || a.AppID != "echo-app" || a.AppName != "回声" {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})

	t.Run("/it 打印机卡纸 files a ticket in the real IT 报修 app", func(t *testing.T) {
		a := f.run("nurse1", ward, "it", "打印机卡纸")
		if a.status != 200 || !strings.HasPrefix(a.Reply, "已受理报修 #1 [打印机], 工程师 @eng1") {
			t.Fatalf("%d %s", a.status, a.body)
		}
		// The ticket is hers, as the app's own route shows.
		resp, err := host.ForwardHTTP(context.Background(), helpdesk.ID, core.Actor{UserID: "nurse1", OrgID: "org1"},
			sdk.HTTPRequest{Method: "GET", Path: "/tickets"})
		if err != nil || !bytes.Contains(resp.Body, []byte("打印机卡纸")) || !bytes.Contains(resp.Body, []byte(ward)) {
			t.Fatalf("her tickets: %v %s", err, resp.Body)
		}
		if a := f.run("nurse1", ward, "it", "status 1"); a.status != 200 || !strings.Contains(a.Reply, "#1") {
			t.Fatalf("/it status 1: %d %s", a.status, a.body)
		}
	})

	cases := []struct {
		name, user, conv, command, args string
		status                          int
		code, reason, field             string
	}{
		{"no command", "nurse1", ward, "", "x", 400, "invalid", "", "command"},
		{"the command with its slash", "nurse1", ward, "/echo", "ping", 400, "invalid", "", "command"},
		{"not a command name", "nurse1", ward, "Echo!", "ping", 400, "invalid", "", "command"},
		{"no conversation id", "nurse1", "", "echo", "ping", 400, "invalid", "", "conversation_id"},
		{"a malformed conversation id", "nurse1", "ward-5", "echo", "ping", 400, "invalid", "", "conversation_id"},
		{"args too long", "nurse1", ward, "echo", strings.Repeat("长", pluginhttp.MaxCommandArgs+1), 400, "invalid", "", "args"},
		{"a conversation I am not in", "nurse1", it, "echo", "ping", 403, "forbidden", "", ""},
		{"no such conversation", "nurse1", core.NewID(), "echo", "ping", 404, "not_found", "", ""},
		{"a command no app offers", "nurse1", ward, "foo", "bar", 404, "not_found", pluginhttp.ReasonCommandUnknown, ""},
		{"an app not shown to me", "nurse1", ward, "secret", "ping", 404, "not_found", pluginhttp.ReasonCommandUnknown, ""},
		{"another hospital's app", "nurse1", ward, "theirs", "ping", 404, "not_found", pluginhttp.ReasonCommandUnknown, ""},
		{"two apps offer it", "nurse1", ward, "dup", "ping", 409, "conflict", pluginhttp.ReasonCommandAmbiguous, ""},
		{"the app is not running", "nurse1", ward, "gone", "ping", 503, "unavailable", pluginhttp.ReasonAppUnavailable, ""},
		{"the app refuses (no text)", "nurse1", ward, "echo", "", 400, "invalid", pluginhttp.ReasonAppRefused, ""},
		{"the app refuses (its own not found)", "nurse1", ward, "echo", "nosuch", 404, "not_found", pluginhttp.ReasonAppRefused, ""},
		{"the app refuses (a bad ticket number)", "nurse1", ward, "it", "status 第一张", 400, "invalid", pluginhttp.ReasonAppRefused, "id"},
		{"not signed in", "", ward, "echo", "ping", 401, "unauthenticated", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.audit.All())
			a := f.run(c.user, c.conv, c.command, c.args)
			if a.status != c.status || a.Code != c.code || a.Detail.Reason != c.reason || a.Detail.Field != c.field {
				t.Fatalf("%d %s, want %d %s reason %q field %q", a.status, a.body, c.status, c.code, c.reason, c.field)
			}
			if a.Reply != "" {
				t.Fatalf("a refusal carries a reply: %s", a.body)
			}
			// Only commands that reached an app are audited.
			reached := c.reason == pluginhttp.ReasonAppRefused
			if got := len(f.audit.All()) - before; (got == 1) != reached || got > 1 {
				t.Fatalf("%d audit entries", got)
			}
		})
	}

	t.Run("malformed bodies", func(t *testing.T) {
		for _, body := range []string{`{"conversation_id":"` + ward + `","command":"echo","args":"ping","extra":1}`, `{"command":5}`, `[]`, ``} {
			if a := f.do("POST", "/api/v1/plugins/commands/run", "nurse1", body); a.status != 400 || a.Code != "invalid" {
				t.Fatalf("%q: %d %s", body, a.status, a.body)
			}
		}
	})

	t.Run("an app that does not answer in time: 504, and the host restarts it", func(t *testing.T) {
		restarts := func() int { st, _ := host.Status(hang.ID); return st.Restarts }
		r0 := restarts()
		start := time.Now()
		a := f.run("nurse1", ward, "slow", "misbehave")
		if a.status != 504 || a.Code != "timeout" || a.Detail.Reason != pluginhttp.ReasonAppTimeout || a.Detail.AppID != "hang-app" {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("took %v", took)
		}
		deadline := time.Now().Add(20 * time.Second)
		for restarts() == r0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if restarts() == r0 {
			t.Fatal("the hung app was not restarted")
		}
		// The echo app is untouched.
		if a := f.run("nurse1", ward, "echo", "ping"); a.status != 200 || a.Reply != "pong nurse1" {
			t.Fatalf("echo after the hang: %d %s", a.status, a.body)
		}
	})

	t.Run("the route posts nothing; an app posts only through its own grant", func(t *testing.T) {
		if sent := f.msgs.Sent(); len(sent) != 0 {
			t.Fatalf("messages posted: %q", sent)
		}
		a := f.run("nurse1", ward, "echo", "send "+ward+" 大家好")
		if a.status != 200 || a.Reply != "ok" {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if sent := f.msgs.Sent(); !slices.Equal(sent, []string{ward + "|bot-echo-app|大家好"}) {
			t.Fatalf("messages posted: %q", sent)
		}
	})

	t.Run("audited: who ran which command of which install, where, and how it went; not what was typed", func(t *testing.T) {
		var ok, failed int
		for _, e := range f.audit.All() {
			if e.Action != "plugins.command" || e.OrgID != "org1" || e.ActorID != "nurse1" || e.ObjectType != "app_install" || e.Details["conversation_id"] != ward {
				t.Fatalf("entry %+v", e)
			}
			b, _ := json.Marshal(e.Details)
			if bytes.Contains(b, []byte("打印机卡纸")) {
				t.Fatalf("the typed text is in the audit log: %s", b)
			}
			switch e.Result {
			case audit.ResultOK:
				ok++
			case audit.ResultFailed:
				failed++
			}
			if e.Details["command"] == "slow" && (e.Result != audit.ResultFailed || e.ObjectID != hang.ID || e.Details["error"] != "timeout") {
				t.Fatalf("the timeout's entry %+v", e)
			}
		}
		// ok: echo ping ×2, /it, /it status, send; failed: three refusals and the timeout.
		if ok != 5 || failed != 4 {
			t.Fatalf("%d ok and %d failed entries", ok, failed)
		}
	})

	t.Run("metrics and the OpenAPI listing, as for every route", func(t *testing.T) {
		if n := f.requests("POST /api/v1/plugins/commands/run", "2xx"); n != 5 {
			t.Fatalf("%v successful runs counted", n)
		}
		if n := f.requests("POST /api/v1/plugins/commands/run", "5xx"); n != 2 {
			t.Fatalf("%v failed runs counted", n)
		}
		doc := f.router.OpenAPI("test")
		paths, _ := doc["paths"].(map[string]any)
		for _, p := range []string{"/api/v1/plugins/commands", "/api/v1/plugins/commands/run"} {
			if _, ok := paths[p]; !ok {
				t.Fatalf("%s not in the OpenAPI document", p)
			}
		}
	})

	_ = other
}
