package main

import (
	"context"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
)

// An app uninstalled with its data kept can be installed again: the host's
// record of the old install is gone, its storage is not. (The record's
// unique (org, app) once answered every later install 409.)
func TestReinstallAfterUninstallKeepingData(t *testing.T) {
	f := newDemoFixture(t)
	grants := []marketplace.Grant{{Scope: "http:routes"}, {Scope: "orgchart:read"}}
	old := startRealApp(t, f, "daily-report", "dailyreport", []string{"manifest.json"}, grants, map[string]string{"department": f.ward})
	s := f.s
	runner := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.app.areas.appStore.Set(ctx, old, "report:kept", []byte("写过的日报")); err != nil {
		t.Fatal(err)
	}
	// What marketplace.Uninstall(keepData=true) asks of the host.
	if err := runner.Stop(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := runner.Forget(ctx, old); err != nil {
		t.Fatal(err)
	}
	again := startRealApp(t, f, "daily-report", "dailyreport", []string{"manifest.json"}, grants, map[string]string{"department": f.ward})
	if again == old {
		t.Fatal("the same install id twice")
	}
	if _, err := s.app.areas.appStore.GetInstall(ctx, again); err != nil {
		t.Fatalf("the new install: %v", err)
	}
	v, ok, err := s.app.areas.appStore.Get(ctx, old, "report:kept")
	if err != nil || !ok || string(v) != "写过的日报" {
		t.Fatalf("the kept data: %q %v %v", v, ok, err)
	}
	// Forgetting twice (another node, a retry) is not an error.
	if err := runner.Forget(ctx, old); err != nil {
		t.Fatal(err)
	}
}

// The marketplace asks the real org chart whether a department an admin
// names belongs to the organisation.
func TestAppDepartmentsAreTheOrganisations(t *testing.T) {
	f := newDemoFixture(t)
	v := appVisibility{f.s.app.areas.org}
	ctx := context.Background()
	orgs, err := f.s.app.areas.org.VisibleOrgs(ctx, core.SystemActor)
	if err != nil || len(orgs) < 2 {
		t.Fatalf("orgs %v %v", orgs, err)
	}
	other := orgs[0].ID
	if other == f.org {
		other = orgs[1].ID
	}
	if ok, err := v.IsDepartment(ctx, f.org, f.ward); err != nil || !ok {
		t.Fatalf("own ward: %v %v", ok, err)
	}
	for _, c := range []struct{ org, dept string }{{other, f.ward}, {f.org, core.NewID()}, {core.NewID(), f.ward}} {
		if ok, err := v.IsDepartment(ctx, c.org, c.dept); err != nil || ok {
			t.Fatalf("%s in %s: %v %v", c.dept, c.org, ok, err)
		}
	}
}
