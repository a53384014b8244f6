// Package marketplacetest helps test code that uses the marketplace: a
// publisher that signs bundles of a small app into a catalog folder, and a
// Host that records what it is asked to run.
package marketplacetest

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

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/bundle"
	"github.com/roundshq/rounds/marketplace/catalog"
)

var _ marketplace.Host = (*Host)(nil)

// Version describes one published version of the test app.
type Version struct {
	V        string
	Scopes   []string
	Settings string // JSON array of settings, "" for none
	Program  string // the program's bytes
	Key      bundle.PrivateKey
	// ListScopes, when set, is what the catalog claims instead of scopes.
	ListScopes []string
}

// Publisher builds a catalog folder with signed bundles of "daily-report".
type Publisher struct {
	t    testing.TB
	Dir  string
	Key  bundle.PrivateKey
	Apps []marketplace.CatalogApp
}

// NewPublisher makes a publisher with a fresh key and an empty catalog folder.
func NewPublisher(t testing.TB) *Publisher {
	_, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &Publisher{t: t, Dir: t.TempDir(), Key: priv}
}

func (p *Publisher) manifest(v Version) string {
	m := map[string]any{"id": "daily-report", "name": "日报", "version": v.V, "publisher": "Acme ISV",
		"min_server_version": "0.1.0", "executable": "daily", "scopes": v.Scopes, "hooks": []string{},
		"pages": []map[string]string{{"path": "/write", "title": "写日报", "file": "write.html"}}}
	if v.Scopes == nil {
		m["scopes"] = []string{}
	}
	if !slices.Contains(v.Scopes, "http:routes") {
		delete(m, "pages")
	}
	if v.Settings != "" {
		m["settings"] = json.RawMessage(v.Settings)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Publish signs a version into the catalog and returns the bundle bytes.
func (p *Publisher) Publish(v Version) []byte {
	t := p.t
	app := t.TempDir()
	if v.Program == "" {
		v.Program = "program " + v.V
	}
	for name, body := range map[string]string{
		"manifest.json":         p.manifest(v),
		"bin/linux-amd64/daily": v.Program,
		"bin/linux-arm64/daily": v.Program + " arm",
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
	key := p.Key
	if v.Key != nil {
		key = v.Key
	}
	if err := bundle.Sign(&unsigned, &signed, key); err != nil {
		t.Fatal(err)
	}
	p.Add(v, signed.Bytes())
	return signed.Bytes()
}

// Add puts data in the catalog as version v (tests use it for tampered
// bundles too).
func (p *Publisher) Add(v Version, data []byte) {
	name := "daily-report-" + v.V + ".tgz"
	if err := os.WriteFile(filepath.Join(p.Dir, name), data, 0o644); err != nil {
		p.t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	scopes := v.Scopes
	if v.ListScopes != nil {
		scopes = v.ListScopes
	}
	if scopes == nil {
		scopes = []string{}
	}
	cv := marketplace.CatalogVersion{Version: v.V, Scopes: scopes, Bundle: name, SHA256: hex.EncodeToString(sum[:])}
	if len(p.Apps) == 0 {
		p.Apps = []marketplace.CatalogApp{{ID: "daily-report", Name: "日报", Publisher: "Acme ISV", Description: "Daily logs",
			Category: "office", Screenshots: []string{"daily-report/1.png"}}}
	}
	vs := p.Apps[0].Versions[:0:0]
	for _, old := range p.Apps[0].Versions {
		if old.Version != v.V {
			vs = append(vs, old)
		}
	}
	p.Apps[0].Versions = append(vs, cv)
	idx, _ := json.Marshal(marketplace.Index{Apps: p.Apps})
	if err := os.WriteFile(filepath.Join(p.Dir, catalog.IndexFile), idx, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// Host records what the marketplace asks the app host to do.
type Host struct {
	mu        sync.Mutex
	running   map[string]marketplace.RunningApp
	calls     []string
	deleted   []string
	forgotten []string
	failOn    string
}

// NewHost returns a host running nothing.
func NewHost() *Host { return &Host{running: map[string]marketplace.RunningApp{}} }

// Start checks the program against the checksum, as go-plugin would, and
// records the app as running.
func (h *Host) Start(ctx context.Context, a marketplace.RunningApp) error {
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

// Stop records the app as stopped.
func (h *Host) Stop(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "stop")
	delete(h.running, id)
	return nil
}

// Forget records that the host forgot the install.
func (h *Host) Forget(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forgotten = append(h.forgotten, id)
	return nil
}

// Forgotten lists the installs forgotten, in order.
func (h *Host) Forgotten() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.forgotten...)
}

// DeleteData records the deletion.
func (h *Host) DeleteData(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deleted = append(h.deleted, id)
	return nil
}

// Get returns what runs for an install.
func (h *Host) Get(id string) (marketplace.RunningApp, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.running[id]
	return a, ok
}

// FailOn makes Start of version v fail ("" for none).
func (h *Host) FailOn(v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failOn = v
}

// Calls lists "start <version>" and "stop" in order.
func (h *Host) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// Deleted lists installs whose data was deleted.
func (h *Host) Deleted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.deleted)
}

// Running counts running installs.
func (h *Host) Running() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.running)
}
