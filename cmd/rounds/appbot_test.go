package main

import (
	"context"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/marketplace"
)

// Two installs of one app made within the same minute (their UUIDv7 ids
// share the time at their head) each get their own bot account, in one
// hospital or in two: the bots' logins used to be cut from that head, so the
// second install found the first one's login taken and failed to start with
// "no such account in this organisation".
func TestAppBotsOfInstallsMadeTogether(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s
	ctx := context.Background()
	runner := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	// The second hospital (qsxy), through its admin's sign-in.
	logins, err := s.app.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var other struct {
		User struct {
			OrgID string `json:"org_id"`
		} `json:"user"`
	}
	if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": logins[5].Login, "password": demoPassword}, &other); code != 201 || other.User.OrgID == f.org {
		t.Fatalf("sign in %s: %d, org %s", logins[5].Login, code, other.User.OrgID)
	}
	installs := []marketplace.RunningApp{
		{InstallID: "01a21a47-45f4-73c5-bc31-29a7737f199b", OrgID: f.org, AppID: "daily-report"},
		{InstallID: "01a21a47-9598-7b60-9a21-294931d46fb4", OrgID: other.User.OrgID, AppID: "daily-report"},
		{InstallID: "01a21a47-a0c1-7d22-8e0f-5b6c7d8e9f01", OrgID: f.org, AppID: "daily-report"},
	}
	seen := map[string]bool{}
	for _, in := range installs {
		in.BotUserID = in.InstallID
		if err := runner.ensureBot(ctx, in); err != nil {
			t.Fatalf("bot of %s: %v", in.InstallID, err)
		}
		u, err := s.app.core.identity.GetUser(ctx, core.SystemActor, in.BotUserID)
		if err != nil {
			t.Fatal(err)
		}
		if u.OrgID != in.OrgID || seen[u.Login] {
			t.Fatalf("bot %+v: org %s, logins so far %v", u, in.OrgID, seen)
		}
		seen[u.Login] = true
		if roles := s.app.core.authz.RolesOf(in.OrgID, in.BotUserID); len(roles) != 1 || roles[0] != authz.RoleStaff {
			t.Fatalf("roles of the bot: %v", roles)
		}
		// Starting the same install again finds its bot.
		if err := runner.ensureBot(ctx, in); err != nil {
			t.Fatalf("bot of %s again: %v", in.InstallID, err)
		}
	}
}
