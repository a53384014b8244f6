package marketplace_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/bundle"
	"github.com/roundshq/rounds/marketplace/catalog"
	"github.com/roundshq/rounds/marketplace/sqlstore"
)

var migrations = []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}

// version describes one published version of the test app.
type version struct {
	v        string
	scopes   []string
	settings string // JSON array of settings, "" for none
	program  string // the program's bytes
	key      bundle.PrivateKey
	// listScopes, when set, is what the catalog claims instead of scopes.
	listScopes []string
}

// publisher builds a catalog folder with signed bundles of "daily-report".
type publisher struct {
	t    testing.TB
	dir  string
	key  bundle.PrivateKey
	apps []marketplace.CatalogApp
}

func newPublisher(t testing.TB) *publisher {
	_, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &publisher{t: t, dir: t.TempDir(), key: priv}
}

func (p *publisher) manifest(v version) string {
	m := map[string]any{"id": "daily-report", "name": "日报", "version": v.v, "publisher": "Acme ISV",
		"min_server_version": "0.1.0", "executable": "daily", "scopes": v.scopes, "hooks": []string{},
		"pages": []map[string]string{{"path": "/write", "title": "写日报", "file": "write.html"}}}
	if v.scopes == nil {
		m["scopes"] = []string{}
	}
	if !slices.Contains(v.scopes, "http:routes") {
		delete(m, "pages")
	}
	if v.settings != "" {
		m["settings"] = json.RawMessage(v.settings)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// publish signs a version into the catalog and returns the bundle bytes.
func (p *publisher) publish(v version) []byte {
	t := p.t
	app := t.TempDir()
	if v.program == "" {
		v.program = "program " + v.v
	}
	for name, body := range map[string]string{
		"manifest.json":         p.manifest(v),
		"bin/linux-amd64/daily": v.program,
		"bin/linux-arm64/daily": v.program + " arm",
		"web/write.html":        "<form>写日报</form>",
		"screenshots/1.png":     "png",
	} {
		os.MkdirAll(filepath.Join(app, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var unsigned, signed bytes.Buffer
	if err := bundle.Pack(app, &unsigned); err != nil {
		t.Fatal(err)
	}
	key := p.key
	if v.key != nil {
		key = v.key
	}
	if err := bundle.Sign(&unsigned, &signed, key); err != nil {
		t.Fatal(err)
	}
	p.add(v, signed.Bytes())
	return signed.Bytes()
}

// add puts data in the catalog as version v (tests use it for tampered
// bundles too).
func (p *publisher) add(v version, data []byte) {
	name := "daily-report-" + v.v + ".tgz"
	if err := os.WriteFile(filepath.Join(p.dir, name), data, 0o644); err != nil {
		p.t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	scopes := v.scopes
	if v.listScopes != nil {
		scopes = v.listScopes
	}
	if scopes == nil {
		scopes = []string{}
	}
	cv := marketplace.CatalogVersion{Version: v.v, Scopes: scopes, Bundle: name, SHA256: hex.EncodeToString(sum[:])}
	if len(p.apps) == 0 {
		p.apps = []marketplace.CatalogApp{{ID: "daily-report", Name: "日报", Publisher: "Acme ISV", Description: "Daily logs",
			Category: "office", Screenshots: []string{"daily-report/1.png"}}}
	}
	vs := p.apps[0].Versions[:0:0]
	for _, old := range p.apps[0].Versions {
		if old.Version != v.v {
			vs = append(vs, old)
		}
	}
	p.apps[0].Versions = append(vs, cv)
	idx, _ := json.Marshal(marketplace.Index{Apps: p.apps})
	if err := os.WriteFile(filepath.Join(p.dir, catalog.IndexFile), idx, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// fakeHost records what the marketplace asks the app host to do.
type fakeHost struct {
	mu      sync.Mutex
	running map[string]marketplace.RunningApp
	calls   []string
	deleted []string
	failOn  string // version whose Start fails
}

func newHost() *fakeHost { return &fakeHost{running: map[string]marketplace.RunningApp{}} }

func (h *fakeHost) Start(ctx context.Context, a marketplace.RunningApp) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "start "+a.Version)
	if a.Version == h.failOn {
		return core.Errorf(core.EUnavailable, "app %s did not start", a.Version)
	}
	// The host trusts only the checksum it is given; make sure it is the
	// file's.
	if sum, err := bundle.FileSHA256(a.Executable); err != nil || sum != a.Checksum {
		return core.Errorf(core.EInvalid, "checksum mismatch")
	}
	if _, err := os.Stat(filepath.Join(a.Dir, "manifest.json")); err != nil {
		return core.Errorf(core.EInvalid, "no manifest in %s", a.Dir)
	}
	h.running[a.InstallID] = a
	return nil
}

func (h *fakeHost) Stop(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "stop")
	delete(h.running, id)
	return nil
}

func (h *fakeHost) DeleteData(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deleted = append(h.deleted, id)
	return nil
}

func (h *fakeHost) get(id string) (marketplace.RunningApp, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.running[id]
	return a, ok
}

// roles is an Authorizer: user id -> role ("admin" or "staff") per org.
type roles map[string]string

func (r roles) Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	role := r[a.UserID+"@"+orgID]
	switch {
	case role == "admin":
		return nil
	case role == "staff" && object == "apps.app" && action == "open":
		return nil
	}
	return core.Errorf(core.EForbidden, "%s may not %s %s", a.UserID, action, object)
}

// auditLog records entries.
type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (l *auditLog) Record(ctx context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

func (l *auditLog) find(action, result string) []audit.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Entry
	for _, e := range l.entries {
		if e.Action == action && (result == "" || e.Result == result) {
			out = append(out, e)
		}
	}
	return out
}

// staffDirectory places people in departments (no subtrees needed here).
type staffDirectory map[string][]string

func (d staffDirectory) InDepartments(ctx context.Context, orgID, userID string, depts []string) (bool, error) {
	for _, x := range d[userID] {
		if slices.Contains(depts, x) {
			return true, nil
		}
	}
	return false, nil
}

type fixture struct {
	db     *sqldb.DB
	store  *sqlstore.Store
	files  files.Store
	pub    *publisher
	host   *fakeHost
	audit  *auditLog
	roles  roles
	staff  staffDirectory
	svc    *marketplace.Service
	org    string
	admin  core.Actor
	nurse  core.Actor
	doctor core.Actor
	ctx    context.Context
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	fs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, store: sqlstore.New(db), files: fs, pub: newPublisher(t), audit: &auditLog{}, roles: roles{},
		staff: staffDirectory{}, org: core.NewID(), ctx: context.Background()}
	f.admin = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.nurse = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.doctor = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.roles[f.admin.UserID+"@"+f.org] = "admin"
	f.roles[f.nurse.UserID+"@"+f.org] = "staff"
	f.roles[f.doctor.UserID+"@"+f.org] = "staff"
	f.svc, f.host = f.node(t, nil)
	return f
}

// node starts another server node sharing the database and the file store.
func (f *fixture) node(t *testing.T, b bus.Bus) (*marketplace.Service, *fakeHost) {
	cat, err := catalog.Open(f.pub.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHost()
	svc, err := marketplace.New(marketplace.Config{Store: f.store, Files: f.files, Catalog: cat, Host: h, Authz: f.roles,
		Audit: f.audit, Staff: f.staff, Bus: b, DataDir: t.TempDir(), GOOS: "linux", GOARCH: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc, h
}

func (f *fixture) trust(t *testing.T, key bundle.PrivateKey) {
	if _, err := f.svc.AddKey(f.ctx, f.admin, f.org, "Acme ISV", key.Public().String()); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
