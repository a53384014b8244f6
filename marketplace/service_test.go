package marketplace_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/bundle"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
)

const settingsV1 = `[{"key":"report_hour","label":"Report hour","type":"int","default":"17"},{"key":"title","label":"Title","type":"string"}]`

func TestInstallUpgradeRollbackUninstall(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		scopes := []string{"orgchart:read", "im:send", "http:routes"}
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: scopes, Settings: settingsV1})
		f.pub.Publish(mt.Version{V: "1.1.0", Scopes: scopes, Settings: settingsV1})
		f.pub.Publish(mt.Version{V: "1.2.0", Scopes: append(slices.Clone(scopes), "roster:read"), Settings: settingsV1})
		ward := core.NewID()

		apps, err := f.svc.Catalog(f.ctx, f.admin, f.org, "office")
		if err != nil || len(apps) != 1 || len(apps[0].Versions) != 3 || !slices.Equal(apps[0].Versions[2].Scopes, []string{"orgchart:read", "im:send", "http:routes", "roster:read"}) {
			t.Fatalf("catalog = %+v, %v", apps, err)
		}
		if apps, _ := f.svc.Catalog(f.ctx, f.admin, f.org, "clinical"); len(apps) != 0 {
			t.Fatalf("category filter: %+v", apps)
		}

		// A narrower grant: orgchart:read for one ward only, no im:send.
		in, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
			Grants:     []marketplace.Grant{{Scope: "orgchart:read", Subtree: ward}, {Scope: "http:routes"}},
			Visibility: marketplace.Visibility{Everyone: true}, Settings: map[string]string{"title": "日报"}, Enable: true})
		if err != nil {
			t.Fatal(err)
		}
		run, ok := f.host.Get(in.ID)
		if !ok || run.Version != "1.0.0" || run.Checksum != in.Current.Checksum || run.BotUserID != in.ID {
			t.Fatalf("host runs %+v (ok %v), install %+v", run, ok, in.Current)
		}
		if len(run.Grants) != 2 || run.Grants[0].Subtree != ward || run.Settings["report_hour"] != "17" || run.Settings["title"] != "日报" {
			t.Fatalf("grants %+v settings %v", run.Grants, run.Settings)
		}
		if _, err := f.files.Stat(f.ctx, marketplace.BundleKey("daily-report", "1.0.0")); err != nil {
			t.Fatalf("bundle not in the file store: %v", err)
		}

		// Same scopes: upgrade keeps the grants without asking again.
		in, err = f.svc.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: "1.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		if run, _ := f.host.Get(in.ID); run.Version != "1.1.0" || in.Previous == nil || in.Previous.Version != "1.0.0" || len(run.Grants) != 2 {
			t.Fatalf("after upgrade: host %+v, install %+v", run, in)
		}

		// A new scope needs consent again.
		_, err = f.svc.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: "1.2.0"})
		wantCode(t, err, core.EInvalid)
		if ce := err.(*core.Error); ce.Field != "grants" || !slices.Equal(ce.Details["new_scopes"].([]string), []string{"roster:read"}) {
			t.Fatalf("refusal %+v", ce)
		}
		if run, _ := f.host.Get(in.ID); run.Version != "1.1.0" {
			t.Fatalf("refused upgrade changed the running version to %s", run.Version)
		}
		grants := []marketplace.Grant{{Scope: "orgchart:read", Subtree: ward}, {Scope: "http:routes"}, {Scope: "roster:read", Subtree: ward}}
		in, err = f.svc.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: "1.2.0", Grants: &grants})
		if err != nil {
			t.Fatal(err)
		}
		if run, _ := f.host.Get(in.ID); run.Version != "1.2.0" || len(run.Grants) != 3 {
			t.Fatalf("after consented upgrade: %+v", run)
		}

		// Going back is rollback's job, not upgrade's.
		for _, v := range []string{"1.0.0", "1.2.0", "v2", ""} {
			_, err = f.svc.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: v})
			wantCode(t, err, core.EInvalid)
		}
		in, err = f.svc.Rollback(f.ctx, f.admin, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if run, _ := f.host.Get(in.ID); run.Version != "1.1.0" || len(run.Grants) != 2 || in.Previous.Version != "1.2.0" {
			t.Fatalf("after rollback: host %+v, previous %+v", run, in.Previous)
		}

		// Settings follow the manifest's schema.
		_, err = f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"report_hour": "five"})
		wantCode(t, err, core.EInvalid)
		_, err = f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"colour": "red"})
		wantCode(t, err, core.EInvalid)
		in, err = f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"report_hour": "8"})
		if err != nil {
			t.Fatal(err)
		}
		if run, _ := f.host.Get(in.ID); run.Settings["report_hour"] != "8" {
			t.Fatalf("settings not applied: %v", run.Settings)
		}

		in, err = f.svc.Disable(f.ctx, f.admin, in.ID)
		if err != nil || in.Enabled {
			t.Fatalf("disable: %v %+v", err, in)
		}
		if _, ok := f.host.Get(in.ID); ok {
			t.Fatal("disabled app still runs")
		}
		if in, err = f.svc.Enable(f.ctx, f.admin, in.ID); err != nil {
			t.Fatal(err)
		}
		if run, ok := f.host.Get(in.ID); !ok || run.Version != "1.1.0" {
			t.Fatalf("enabled app: %+v", run)
		}

		if err := f.svc.Uninstall(f.ctx, f.admin, in.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.host.Get(in.ID); ok || !slices.Equal(f.host.Deleted(), []string{in.ID}) {
			t.Fatalf("uninstall: running %v, deleted %v", ok, f.host.Deleted())
		}
		if _, err := f.store.Install(f.ctx, in.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("install record after uninstall: %v", err)
		}

		for _, action := range []string{"marketplace.key.add", "marketplace.install", "marketplace.upgrade", "marketplace.rollback",
			"marketplace.configure", "marketplace.disable", "marketplace.enable", "marketplace.uninstall"} {
			if len(f.audit.find(action, audit.ResultOK)) == 0 {
				t.Errorf("no audit entry for %s", action)
			}
		}
		if d := f.audit.find("marketplace.upgrade", audit.ResultDenied); len(d) == 0 {
			t.Error("the upgrade without consent was not audited")
		}
	})
}

func TestUninstallKeepsData(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
		in, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0", Enable: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Uninstall(f.ctx, f.admin, in.ID, true); err != nil {
			t.Fatal(err)
		}
		if len(f.host.Deleted()) != 0 {
			t.Fatalf("data deleted although kept: %v", f.host.Deleted())
		}
		if !slices.Contains(f.host.Forgotten(), in.ID) {
			t.Fatalf("the host still has the kept install's record: forgotten %v", f.host.Forgotten())
		}
		e := f.audit.find("marketplace.uninstall", audit.ResultOK)
		if len(e) != 1 || e[0].Details["keep_data"] != true {
			t.Fatalf("audit %+v", e)
		}
		// Rollback with nothing to go back to.
		in, err = f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Rollback(f.ctx, f.admin, in.ID)
		wantCode(t, err, core.EConflict)
		if _, ok := f.host.Get(in.ID); ok {
			t.Fatal("an install not enabled runs")
		}
	})
}

// addEntry returns data with one more tar entry (after signing).
func addEntry(t *testing.T, data []byte, h *tar.Header, body string) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(zr)
	for {
		hd, err := tr.Next()
		if err != nil {
			break
		}
		tw.WriteHeader(hd)
		io.Copy(tw, tr)
	}
	h.Size = int64(len(body))
	tw.WriteHeader(h)
	tw.Write([]byte(body))
	tw.Close()
	zw.Close()
	return out.Bytes()
}

func TestRefusedBundles(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		_, stranger, _ := bundle.GenerateKey()
		cases := []struct {
			name    string
			setup   func(f *fixture)
			code    core.Code
			refusal string
		}{
			{"unsigned", func(f *fixture) {
				var b bytes.Buffer
				signed := f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
				// The same archive without SIGNATURES.json.
				zr, _ := gzip.NewReader(bytes.NewReader(signed))
				zw := gzip.NewWriter(&b)
				w := tar.NewWriter(zw)
				r := tar.NewReader(zr)
				for {
					h, err := r.Next()
					if err != nil {
						break
					}
					if h.Name == bundle.SignaturesFile {
						continue
					}
					w.WriteHeader(h)
					io.Copy(w, r)
				}
				w.Close()
				zw.Close()
				f.pub.Add(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}}, b.Bytes())
			}, core.EInvalid, "signatures"},
			{"untrusted publisher", func(f *fixture) {
				f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}, Key: stranger})
			}, core.EForbidden, "key_id"},
			{"tampered after signing", func(f *fixture) {
				signed := f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
				f.pub.Add(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}}, addEntry(t, signed, &tar.Header{Name: "web/evil.js", Typeflag: tar.TypeReg, Mode: 0o644}, "steal()"))
			}, core.EInvalid, "checksum"},
			{"symlink", func(f *fixture) {
				signed := f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
				f.pub.Add(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}}, addEntry(t, signed, &tar.Header{Name: "web/passwd", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, ""))
			}, core.EInvalid, "path"},
			{"path escaping the folder", func(f *fixture) {
				signed := f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
				f.pub.Add(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}}, addEntry(t, signed, &tar.Header{Name: "web/../../../tmp/x", Typeflag: tar.TypeReg, Mode: 0o644}, "x"))
			}, core.EInvalid, "path"},
			{"catalog checksum differs", func(f *fixture) {
				f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
				f.pub.Apps[0].Versions[0].SHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
				f.pub.Add(mt.Version{V: "0.9.0"}, []byte("x")) // rewrites the index
			}, core.EInvalid, "catalog_sha256"},
			{"catalog hides a scope", func(f *fixture) {
				f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send", "im:read"}, ListScopes: []string{"im:send"}})
			}, core.EInvalid, "scopes"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newFixture(t, db)
				f.trust(t, f.pub.Key)
				c.setup(f)
				_, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
					Grants: []marketplace.Grant{{Scope: "im:send"}}, Enable: true})
				wantCode(t, err, c.code)
				refused := f.audit.find("marketplace.bundle.refused", audit.ResultDenied)
				if len(refused) != 1 || refused[0].Details["refusal"] != c.refusal || refused[0].ActorID != f.admin.UserID {
					t.Fatalf("audit %+v, want refusal %q", refused, c.refusal)
				}
				if ins, _ := f.store.Installs(f.ctx, f.org); len(ins) != 0 {
					t.Fatalf("refused bundle installed: %+v", ins)
				}
				if stored, _ := f.files.List(f.ctx, "marketplace/"); len(stored) != 0 {
					t.Fatalf("refused bundle stored: %+v", stored)
				}
				if len(f.host.Calls()) != 0 {
					t.Fatalf("host called: %v", f.host.Calls())
				}
			})
		}
	})
}

func TestBadInstallRequests(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"orgchart:read", "im:send"}})
		f.pub.Publish(mt.Version{V: "2.0.0", Scopes: []string{"im:send"}})
		req := func(mod func(r *marketplace.InstallRequest)) marketplace.InstallRequest {
			r := marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
				Grants: []marketplace.Grant{{Scope: "orgchart:read"}}, Enable: true}
			mod(&r)
			return r
		}
		cases := []struct {
			name  string
			actor core.Actor
			req   marketplace.InstallRequest
			code  core.Code
			field string
		}{
			{"staff cannot install", f.nurse, req(func(r *marketplace.InstallRequest) {}), core.EForbidden, ""},
			{"grant wider than requested", f.admin, req(func(r *marketplace.InstallRequest) {
				r.Grants = append(r.Grants, marketplace.Grant{Scope: "roster:write"})
			}), core.EInvalid, "grants[1].scope"},
			{"scope granted twice", f.admin, req(func(r *marketplace.InstallRequest) {
				r.Grants = append(r.Grants, marketplace.Grant{Scope: "orgchart:read"})
			}), core.EInvalid, "grants[1].scope"},
			{"subtree on a scope without departments", f.admin, req(func(r *marketplace.InstallRequest) {
				r.Grants = []marketplace.Grant{{Scope: "im:send", Subtree: core.NewID()}}
			}), core.EInvalid, "grants[0].subtree"},
			{"subtree not a department id", f.admin, req(func(r *marketplace.InstallRequest) {
				r.Grants = []marketplace.Grant{{Scope: "orgchart:read", Subtree: "../x"}}
			}), core.EInvalid, "grants[0].subtree"},
			{"unknown version", f.admin, req(func(r *marketplace.InstallRequest) { r.Version = "9.9.9" }), core.ENotFound, ""},
			{"unknown setting", f.admin, req(func(r *marketplace.InstallRequest) { r.Settings = map[string]string{"x": "1"} }), core.EInvalid, ""},
			{"bad visibility", f.admin, req(func(r *marketplace.InstallRequest) { r.Visibility.People = []string{"nobody"} }), core.EInvalid, "visibility.people[0]"},
			{"no app", f.admin, req(func(r *marketplace.InstallRequest) { r.AppID = "" }), core.EInvalid, "app_id"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Install(f.ctx, c.actor, c.req)
				wantCode(t, err, c.code)
				if c.field != "" && err.(*core.Error).Field != c.field {
					t.Fatalf("field %q, want %q", err.(*core.Error).Field, c.field)
				}
				if ins, _ := f.store.Installs(f.ctx, f.org); len(ins) != 0 {
					t.Fatalf("refused request installed: %+v", ins)
				}
				if len(f.host.Calls()) != 0 {
					t.Fatalf("host called: %v", f.host.Calls())
				}
			})
		}
		if len(f.audit.find("marketplace.install", audit.ResultDenied)) < 2 {
			t.Error("refused installs (non-admin, wider grant) are not audited")
		}

		t.Run("app that cannot start leaves nothing installed", func(t *testing.T) {
			f.host.FailOn("1.0.0")
			_, err := f.svc.Install(f.ctx, f.admin, req(func(r *marketplace.InstallRequest) {}))
			wantCode(t, err, core.EUnavailable)
			if ins, _ := f.store.Installs(f.ctx, f.org); len(ins) != 0 {
				t.Fatalf("half-installed: %+v", ins)
			}
			if len(f.audit.find("marketplace.install", audit.ResultFailed)) != 1 {
				t.Fatal("failed install not audited")
			}
			f.host.FailOn("")
		})
		t.Run("failed upgrade keeps the running version", func(t *testing.T) {
			in, err := f.svc.Install(f.ctx, f.admin, req(func(r *marketplace.InstallRequest) {}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.Install(f.ctx, f.admin, req(func(r *marketplace.InstallRequest) {}))
			wantCode(t, err, core.EConflict)
			f.host.FailOn("2.0.0")
			_, err = f.svc.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: "2.0.0", Grants: &[]marketplace.Grant{}})
			wantCode(t, err, core.EUnavailable)
			got, _ := f.store.Install(f.ctx, in.ID)
			if run, ok := f.host.Get(in.ID); !ok || run.Version != "1.0.0" || got.Current.Version != "1.0.0" || got.Previous != nil {
				t.Fatalf("after failed upgrade: host %+v, record %+v", run, got.Current.Version)
			}
			f.host.FailOn("")
			_, err = f.svc.Upgrade(f.ctx, f.nurse, in.ID, marketplace.UpgradeRequest{Version: "2.0.0", Grants: &[]marketplace.Grant{}})
			wantCode(t, err, core.EForbidden)
			err = f.svc.Uninstall(f.ctx, f.nurse, in.ID, false)
			wantCode(t, err, core.EForbidden)
		})
	})
}

func TestTwoNodesRunTheSameVersion(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		b := inproc.New()
		t.Cleanup(func() { b.Close() })
		a, hostA := f.node(t, b)
		nodeB, hostB := f.node(t, b)
		_ = nodeB
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"im:send"}})
		f.pub.Publish(mt.Version{V: "1.1.0", Scopes: []string{"im:send"}})
		in, err := a.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
			Grants: []marketplace.Grant{{Scope: "im:send"}}, Enable: true})
		if err != nil {
			t.Fatal(err)
		}
		same := func(v string) func() bool {
			return func() bool {
				ra, okA := hostA.Get(in.ID)
				rb, okB := hostB.Get(in.ID)
				return okA && okB && ra.Version == v && rb.Version == v && ra.Checksum == rb.Checksum && ra.Dir != rb.Dir
			}
		}
		eventually(t, same("1.0.0"))
		if _, err := a.Upgrade(f.ctx, f.admin, in.ID, marketplace.UpgradeRequest{Version: "1.1.0"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, same("1.1.0"))
		// A node's own event does not restart its app a second time.
		starts := 0
		for _, c := range hostA.Calls() {
			if c == "start 1.1.0" {
				starts++
			}
		}
		if starts != 1 {
			t.Fatalf("node A started 1.1.0 %d times", starts)
		}
		if _, err := a.Disable(f.ctx, f.admin, in.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() bool { _, okB := hostB.Get(in.ID); return !okB })
		if _, err := a.Enable(f.ctx, f.admin, in.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, same("1.1.0"))
		if err := a.Uninstall(f.ctx, f.admin, in.ID, true); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() bool { _, okB := hostB.Get(in.ID); return !okB })

		// A node started later catches up from the database.
		if _, err := a.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.1.0", Enable: true}); err != nil {
			t.Fatal(err)
		}
		_, hostC := f.node(t, nil)
		if hostC.Running() != 1 {
			t.Fatalf("late node runs %d apps", hostC.Running())
		}
	})
}

func TestAppCenter(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"http:routes"}})
		ward := core.NewID()
		f.staff[f.nurse.UserID] = []string{ward}
		other := core.Actor{UserID: core.NewID(), OrgID: f.org}
		f.roles[other.UserID+"@"+f.org] = "staff"
		guest := core.Actor{UserID: core.NewID(), OrgID: f.org}
		in, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
			Grants: []marketplace.Grant{{Scope: "http:routes"}}, Enable: true,
			Visibility: marketplace.Visibility{Departments: []string{ward}, People: []string{f.doctor.UserID}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			who  core.Actor
			sees bool
		}{{"nurse of the ward", f.nurse, true}, {"doctor named", f.doctor, true}, {"other staff", other, false}} {
			t.Run(c.name, func(t *testing.T) {
				apps, err := f.svc.MyApps(f.ctx, c.who)
				if err != nil {
					t.Fatal(err)
				}
				if (len(apps) == 1) != c.sees {
					t.Fatalf("apps %+v", apps)
				}
				app, err := f.svc.OpenApp(f.ctx, c.who, in.ID)
				if !c.sees {
					wantCode(t, err, core.ENotFound)
					return
				}
				if err != nil || app.URL != "/plugins/daily-report/ui/write" || app.Name != "日报" {
					t.Fatalf("open: %+v %v", app, err)
				}
			})
		}
		_, err = f.svc.MyApps(f.ctx, guest)
		wantCode(t, err, core.EForbidden)
		if _, err := f.svc.Disable(f.ctx, f.admin, in.ID); err != nil {
			t.Fatal(err)
		}
		if apps, _ := f.svc.MyApps(f.ctx, f.nurse); len(apps) != 0 {
			t.Fatalf("disabled app listed: %+v", apps)
		}
		// Another hospital's staff never see it.
		stranger := core.Actor{UserID: core.NewID(), OrgID: core.NewID()}
		f.roles[stranger.UserID+"@"+stranger.OrgID] = "staff"
		_, err = f.svc.OpenApp(f.ctx, stranger, in.ID)
		wantCode(t, err, core.ENotFound)
	})
}

func TestTrustedKeys(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		k, err := f.svc.AddKey(f.ctx, f.admin, f.org, "Acme ISV", f.pub.Key.Public().String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AddKey(f.ctx, f.admin, f.org, "Acme again", f.pub.Key.Public().String())
		wantCode(t, err, core.EConflict)
		_, err = f.svc.AddKey(f.ctx, f.admin, f.org, "bad", "ed25519-pub:nope")
		wantCode(t, err, core.EInvalid)
		_, err = f.svc.AddKey(f.ctx, f.nurse, f.org, "mine", f.pub.Key.Public().String())
		wantCode(t, err, core.EForbidden)
		keys, err := f.svc.Keys(f.ctx, f.admin, f.org)
		if err != nil || len(keys) != 1 || keys[0].KeyID != f.pub.Key.Public().ID() {
			t.Fatalf("keys %+v %v", keys, err)
		}
		// Removing the key refuses new installs of its bundles.
		if err := f.svc.RemoveKey(f.ctx, f.admin, f.org, k.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.RemoveKey(f.ctx, f.admin, f.org, k.ID), core.ENotFound)
		f.pub.Publish(mt.Version{V: "1.0.0"})
		_, err = f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0"})
		wantCode(t, err, core.EForbidden)
		if len(f.audit.find("marketplace.key.add", audit.ResultOK)) != 1 || len(f.audit.find("marketplace.key.remove", audit.ResultOK)) != 1 ||
			len(f.audit.find("marketplace.key.add", audit.ResultDenied)) != 1 {
			t.Fatal("key changes not audited")
		}
	})
}

func TestSecretSettings(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Settings: `[{"key":"his_token","label":"HIS token","type":"secret","required":true},{"key":"ward","label":"Ward","type":"string"}]`})
		in, err := f.svc.Install(f.ctx, f.admin, marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0", Enable: true,
			Settings: map[string]string{"his_token": "s3cret", "ward": "5"}})
		if err != nil {
			t.Fatal(err)
		}
		shown := marketplace.Redacted(in)
		if shown.Current.Settings["his_token"] != marketplace.SecretMask || shown.Current.Settings["ward"] != "5" || in.Current.Settings["his_token"] != "s3cret" {
			t.Fatalf("redacted %v, stored %v", shown.Current.Settings, in.Current.Settings)
		}
		// Sending back what was shown keeps the secret.
		if _, err := f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"his_token": marketplace.SecretMask, "ward": "6"}); err != nil {
			t.Fatal(err)
		}
		if run, _ := f.host.Get(in.ID); run.Settings["his_token"] != "s3cret" || run.Settings["ward"] != "6" {
			t.Fatalf("running with %v", run.Settings)
		}
		for _, e := range f.audit.find("marketplace.configure", "") {
			if strings.Contains(fmt.Sprint(e.Details), "s3cret") {
				t.Fatalf("secret in the audit log: %v", e.Details)
			}
		}
		for _, e := range f.audit.find("marketplace.install", "") {
			if strings.Contains(fmt.Sprint(e.Details), "s3cret") {
				t.Fatalf("secret in the audit log: %v", e.Details)
			}
		}
		// A required secret cannot be dropped.
		_, err = f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"ward": "6"})
		wantCode(t, err, core.EInvalid)
	})
}
