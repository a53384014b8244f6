package marketplace_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
	"github.com/roundshq/rounds/plugins"
)

// The folder handed to the host is what the plugin host loads: manifest,
// program and ui/ side by side (only this test knows about plugins).
func TestUnpackedLayoutLoadsInThePluginHost(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t, migrations...))
	f.trust(t, f.pub.Key)
	f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"http:routes"}})
	in, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
		Grants: []marketplace.Grant{{Scope: "http:routes"}}, Enable: true})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := f.host.Get(in.ID)
	b, err := plugins.LoadBundle(run.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.ID != "daily-report" || b.Executable != run.Executable {
		t.Fatalf("plugin host sees %+v, marketplace gave %s", b, run.Executable)
	}
	if _, err := os.Stat(filepath.Join(run.Dir, "ui", "write.html")); err != nil {
		t.Fatalf("page file: %v", err)
	}
	if st, err := os.Stat(run.Executable); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Fatalf("program not executable: %v %v", st, err)
	}

	// A program changed on this node's disk is noticed and unpacked again
	// from the file store before the next start.
	if err := os.WriteFile(run.Executable, []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Disable(f.ctx, f.admin, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Enable(f.ctx, f.admin, in.ID); err != nil {
		t.Fatal(err) // the recording host refuses a program that does not match
	}
	if data, _ := os.ReadFile(run.Executable); string(data) == "tampered" {
		t.Fatal("tampered program kept")
	}
}
