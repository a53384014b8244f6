package plugins_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// testApp is the testdata/testapp binary, built once.
var testApp string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugins-test")
	if err != nil {
		panic(err)
	}
	testApp = filepath.Join(dir, "testapp")
	cmd := exec.Command("go", "build", "-o", testApp, "./testdata/testapp")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func checksum(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func baseManifest(id string) sdk.Manifest {
	return sdk.Manifest{ID: id, Name: "Test " + id, Version: "1.0.0", Publisher: "Rounds tests", MinServerVersion: "0.1.0",
		Executable: "testapp", Scopes: []string{sdk.ScopeOrgchartRead, sdk.ScopeIMSend, sdk.ScopeIMRead, sdk.ScopeHTTPRoutes, sdk.ScopeApprovalsRead, sdk.ScopeRosterRead},
		Hooks: []string{sdk.HookMessagePosted, sdk.HookCommands, sdk.HookHTTP, sdk.HookJobs,
			sdk.HookApprovalFinished, sdk.HookRosterPublished, sdk.HookStaffChanged},
		SlashCommands: []sdk.SlashCommand{{Name: "t-" + id}},
		Routes:        []sdk.Route{{Method: "POST", Path: "/echo/{id}"}},
		Pages:         []sdk.Page{{Path: "/report", Title: "Report", File: "report.html"}},
		Settings:      []sdk.Setting{{Key: "mode", Label: "Mode", Type: "string"}}}
}

// bundle writes an app bundle (manifest, binary copy, ui page) and returns
// its dir.
func bundle(t testing.TB, m sdk.Manifest) string {
	dir := t.TempDir()
	data, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, sdk.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(testApp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "testapp"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(dir, "ui"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "ui", "report.html"), []byte("<h1>日报</h1>"), 0o644)
	return dir
}

func install(t testing.TB, appID, orgID, mode string, grants ...plugins.Grant) plugins.Install {
	dir := bundle(t, baseManifest(appID))
	settings := map[string]string{}
	if mode != "" {
		settings["mode"] = mode
	}
	return plugins.Install{ID: core.NewID(), OrgID: orgID, AppID: appID, BotUserID: "bot-" + appID, Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "testapp")), Grants: grants, Settings: settings}
}

func allGrants() []plugins.Grant {
	return []plugins.Grant{{Scope: sdk.ScopeOrgchartRead}, {Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeIMRead}, {Scope: sdk.ScopeHTTPRoutes}}
}

// fakes

type directory struct{}

// The org: root → med → cardio; root → icu.
var parents = map[string]string{"root": "", "med": "root", "cardio": "med", "icu": "root"}

func (directory) Departments(_ context.Context, _ string, rootID string) ([]sdk.Department, error) {
	var out []sdk.Department
	for id, p := range parents {
		if ok, _ := (directory{}).InSubtree(context.Background(), "", id, rootID); ok || rootID == "" {
			out = append(out, sdk.Department{ID: id, ParentID: p, Name: id})
		}
	}
	return out, nil
}

func (directory) Staff(_ context.Context, _ string, dept string) ([]sdk.Staff, error) {
	if _, ok := parents[dept]; !ok {
		return nil, core.Errorf(core.ENotFound, "no department %s", dept)
	}
	return []sdk.Staff{{UserID: "u-" + dept, Name: "张三", DepartmentID: dept}}, nil
}

func (directory) InSubtree(_ context.Context, _ string, dept, root string) (bool, error) {
	for d := dept; d != ""; d = parents[d] {
		if d == root {
			return true, nil
		}
	}
	return false, nil
}

type messenger struct {
	mu      sync.Mutex
	members map[string][]string // conversation -> users
	sent    []string            // "conv|sender|text"
}

func newMessenger() *messenger { return &messenger{members: map[string][]string{}} }

func (m *messenger) add(conv string, users ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[conv] = append(m.members[conv], users...)
}

func (m *messenger) IsMember(_ context.Context, _, conv, user string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.members[conv] {
		if u == user {
			return true, nil
		}
	}
	return false, nil
}

func (m *messenger) Send(_ context.Context, _, bot, conv, text string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, conv+"|"+bot+"|"+text)
	return core.NewID(), nil
}

// SendDirect reaches anyone who is a member of some conversation (the
// fake's idea of the organisation's staff) and records "direct:<user>".
func (m *messenger) SendDirect(_ context.Context, _, bot, user, text string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	known := false
	for _, us := range m.members {
		for _, u := range us {
			known = known || u == user
		}
	}
	if !known {
		return "", core.Errorf(core.ENotFound, "no member of staff %s", user)
	}
	m.sent = append(m.sent, "direct:"+user+"|"+bot+"|"+text)
	return core.NewID(), nil
}

func (m *messenger) Recent(context.Context, string, string, int) ([]sdk.Message, error) {
	return nil, nil
}

func (m *messenger) Sent() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
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

func (a *auditLog) Denied() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Entry
	for _, e := range a.entries {
		if e.Result == audit.ResultDenied {
			out = append(out, e)
		}
	}
	return out
}

type alerts struct {
	mu       sync.Mutex
	disabled []string
}

func (a *alerts) AppDisabled(_ context.Context, inst plugins.Install, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.disabled = append(a.disabled, inst.AppID+": "+reason)
}

func (a *alerts) Disabled() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.disabled...)
}

type memStorage struct {
	mu sync.Mutex
	kv map[string][]byte
}

func (s *memStorage) Get(_ context.Context, inst, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kv[inst+"\x00"+key]
	return v, ok, nil
}

func (s *memStorage) Set(_ context.Context, inst, key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv[inst+"\x00"+key] = v
	return nil
}

func (s *memStorage) Delete(_ context.Context, inst, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.kv, inst+"\x00"+key)
	return nil
}

func (s *memStorage) Keys(_ context.Context, inst, prefix string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.kv {
		if key, ok := strings.CutPrefix(k, inst+"\x00"); ok && strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

type env struct {
	host   *plugins.Host
	msgs   *messenger
	audit  *auditLog
	alerts *alerts
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, tune func(*plugins.Config)) *env {
	e := &env{msgs: newMessenger(), audit: &auditLog{}, alerts: &alerts{}, logs: &syncBuffer{}}
	cfg := plugins.Config{ServerVersion: "0.1.0", Directory: directory{}, Messenger: e.msgs, Storage: &memStorage{kv: map[string][]byte{}},
		Audit: e.audit, Alerts: e.alerts, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		HookTimeout: 2 * time.Second, HealthInterval: 200 * time.Millisecond, BackoffMin: 50 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	h, err := plugins.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.host = h
	t.Cleanup(func() { h.Close() })
	return e
}

func (e *env) start(t testing.TB, inst plugins.Install) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.host.Start(ctx, inst); err != nil {
		t.Fatalf("start %s: %v", inst.AppID, err)
	}
}

func (e *env) command(t testing.TB, inst plugins.Install, args string) string {
	t.Helper()
	name, rest, _ := cutSpace(args)
	reply, err := e.host.Command(context.Background(), core.Actor{UserID: "u1", OrgID: inst.OrgID, Kind: core.ActorUser}, "t-"+inst.AppID, name+" "+rest, "conv")
	if err != nil {
		t.Fatalf("command %q: %v", args, err)
	}
	return reply
}

func cutSpace(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

var _ = fmt.Sprint

// buildAppBundle builds the app in apps/<src> into a temp folder laid out as
// an installed bundle: the executable named exe plus the listed files.
func buildAppBundle(t *testing.T, src, exe string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, exe), "./apps/"+src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("apps", src, f))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
