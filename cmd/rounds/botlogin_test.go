package main

import (
	"context"
	"slices"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/marketplace"
)

// TestBotAccountsOfOneAppInTwoHospitals: install ids made within a minute of
// each other share their head (UUIDv7 starts with the time), so two
// hospitals installing one app at once must still get a bot each. Before,
// the second bot's login was the first's; the clash passed for "already
// there" and the install failed with "no such account in this organisation".
func TestBotAccountsOfOneAppInTwoHospitals(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	if _, err := s.app.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	orgs, err := s.app.areas.org.VisibleOrgs(ctx, core.SystemActor)
	if err != nil || len(orgs) < 2 {
		t.Fatalf("orgs %v %d", err, len(orgs))
	}
	r := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	ids := []string{"01a21a5b-1be6-7494-831a-d0661c13e517", "01a21a5b-2c01-7abc-9def-0123456789ab"}
	for round := 0; round < 2; round++ { // a restart finds the accounts there
		for i, id := range ids {
			if err := r.ensureBot(ctx, marketplace.RunningApp{InstallID: id, OrgID: orgs[i].ID, AppID: "helpdesk", BotUserID: id}); err != nil {
				t.Fatalf("round %d, bot of %s: %v", round, orgs[i].Code, err)
			}
		}
	}
	for i, id := range ids {
		u, err := s.app.core.identity.GetUser(ctx, core.SystemActor, id)
		if err != nil || u.OrgID != orgs[i].ID || u.Kind != identity.KindBot || u.Login != botLogin("helpdesk", id) {
			t.Fatalf("bot %s: %+v %v", id, u, err)
		}
		if !slices.Contains(s.app.core.authz.RolesOf(orgs[i].ID, id), authz.RoleStaff) {
			t.Fatalf("bot %s has roles %v", id, s.app.core.authz.RolesOf(orgs[i].ID, id))
		}
	}
	if a, b := botLogin("helpdesk", ids[0]), botLogin("helpdesk", ids[1]); a != "app.helpdesk.1c13e517" || b != "app.helpdesk.456789ab" {
		t.Fatalf("logins %q %q", a, b)
	}

	// A login someone else holds is an error, not an account that is there.
	third := "01a21a5b-3d02-7abc-9def-00000000beef"
	if _, err := s.app.core.identity.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: orgs[0].ID, Login: botLogin("helpdesk", third), DisplayName: "占用者", Password: "occupier password 2026"}); err != nil {
		t.Fatal(err)
	}
	if err := r.ensureBot(ctx, marketplace.RunningApp{InstallID: third, OrgID: orgs[0].ID, AppID: "helpdesk", BotUserID: third}); !core.IsCode(err, core.EConflict) {
		t.Fatalf("clashing login: %v", err)
	}
}
