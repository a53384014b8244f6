package plugins_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

func TestStartRefusesBadInstalls(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name  string
		edit  func(*plugins.Install)
		code  core.Code
		field string
	}{
		{"checksum of another binary", func(i *plugins.Install) { i.Checksum = strings.Repeat("ab", 32) }, core.EUnavailable, ""},
		{"checksum not hex", func(i *plugins.Install) { i.Checksum = "nope" }, core.EInvalid, "checksum"},
		{"unknown scope granted", func(i *plugins.Install) { i.Grants = []plugins.Grant{{Scope: "im:delete"}} }, core.EInvalid, "grants[0].scope"},
		{"scope the app did not request", func(i *plugins.Install) { i.Grants = []plugins.Grant{{Scope: sdk.ScopeRosterWrite}} }, core.EInvalid, "grants[0].scope"},
		{"subtree on a scope without departments", func(i *plugins.Install) { i.Grants = []plugins.Grant{{Scope: sdk.ScopeIMSend, Subtree: "med"}} }, core.EInvalid, "grants[0].subtree"},
		{"unknown setting", func(i *plugins.Install) { i.Settings = map[string]string{"colour": "red"} }, core.EInvalid, "settings.colour"},
		{"app id differs from the bundle", func(i *plugins.Install) { i.AppID = "other" }, core.EInvalid, "app_id"},
		{"no bundle", func(i *plugins.Install) { i.Dir = t.TempDir() }, core.EInvalid, "manifest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := install(t, "bad-app", "org1", "")
			c.edit(&inst)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := e.host.Start(ctx, inst)
			if !core.IsCode(err, c.code) {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			var ce *core.Error
			if c.field != "" && (!asCore(err, &ce) || ce.Field != c.field) {
				t.Fatalf("err = %v, want field %s", err, c.field)
			}
			if c.code == core.EInvalid && len(e.host.Statuses("")) != 0 {
				t.Fatalf("an invalid install left a runner: %+v", e.host.Statuses(""))
			}
			_ = e.host.Stop(inst.ID)
		})
	}
	t.Run("newer server required", func(t *testing.T) {
		m := baseManifest("future-app")
		m.MinServerVersion = "9.0.0"
		inst := install(t, "future-app", "org1", "")
		inst.Dir = bundle(t, m)
		err := e.host.Start(context.Background(), inst)
		if !core.IsCode(err, core.EInvalid) || !strings.Contains(err.Error(), "9.0.0") {
			t.Fatalf("err = %v", err)
		}
	})
}

func asCore(err error, out **core.Error) bool {
	ce, ok := err.(*core.Error)
	*out = ce
	return ok
}

func TestHostAPIPermissions(t *testing.T) {
	e := newEnv(t, nil)
	full := install(t, "full-app", "org1", "", allGrants()...)
	limited := install(t, "limited-app", "org1", "", plugins.Grant{Scope: sdk.ScopeOrgchartRead, Subtree: "med"})
	other := install(t, "other-org-app", "org2", "", allGrants()...)
	for _, i := range []plugins.Install{full, limited, other} {
		e.start(t, i)
	}
	e.msgs.add("ward5", "bot-full-app")
	cases := []struct {
		name    string
		inst    plugins.Install
		cmd     string
		want    string
		denials int // audit entries added
	}{
		{"granted orgchart read", full, "staff icu", "ok 1", 0},
		{"subtree grant inside", limited, "staff cardio", "ok 1", 0},
		{"subtree grant outside is refused and audited", limited, "staff icu", "forbidden 0", 1},
		{"subtree grant lists only its subtree", limited, "depts", "ok 2", 0},
		{"subtree grant cannot list another root", limited, "depts root", "forbidden 0", 1},
		{"scope not granted is refused and audited", limited, "send ward5 hi", "forbidden", 1},
		{"send where the bot is a member", full, "send ward5 交班提醒", "ok", 0},
		{"send where the bot is not a member", full, "send icu-group hi", "forbidden", 1},
		{"oversized message", full, "sendbig ward5 20000", "too_large", 0},
		{"oversized storage value", full, "kvbig 70000", "too_large", 0},
		{"storage value at the limit", full, "kvbig 65536", "ok", 0},
		{"payload beyond the wire limit", full, "kvbig 3000000", "too_large", 0},
		{"approvals not granted", full, "approval a1", "forbidden", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.audit.Denied())
			if got := e.command(t, c.inst, c.cmd); got != c.want {
				t.Fatalf("%s = %q, want %q", c.cmd, got, c.want)
			}
			if d := len(e.audit.Denied()) - before; d != c.denials {
				t.Fatalf("audit denials = %d, want %d", d, c.denials)
			}
		})
	}
	t.Run("denial entries name the app and scope", func(t *testing.T) {
		d := e.audit.Denied()[0]
		if d.AppID != "limited-app" || d.OrgID != "org1" || d.ObjectID != limited.ID || d.Details["scope"] != sdk.ScopeOrgchartRead {
			t.Fatalf("entry = %+v", d)
		}
	})
	t.Run("storage is per install", func(t *testing.T) {
		if got := e.command(t, full, "kvset secret 42"); got != "ok" {
			t.Fatal(got)
		}
		if got := e.command(t, full, "kvget secret"); got != "ok true 42" {
			t.Fatalf("own read = %q", got)
		}
		for _, i := range []plugins.Install{limited, other} {
			if got := e.command(t, i, "kvget secret"); got != "ok false " {
				t.Fatalf("%s read another install's key: %q", i.AppID, got)
			}
		}
	})
	t.Run("grants of one organisation mean nothing in another", func(t *testing.T) {
		if e.host.Permissions().Allowed(full.ID, "org2", sdk.ScopeOrgchartRead) {
			t.Fatal("grant leaked across organisations")
		}
	})
	t.Run("commands stay inside the actor's organisation", func(t *testing.T) {
		_, err := e.host.Command(context.Background(), core.Actor{UserID: "u", OrgID: "org2"}, "t-full-app", "ping", "c")
		if !core.IsCode(err, core.ENotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHooks(t *testing.T) {
	e := newEnv(t, nil)
	a := install(t, "echo-app", "org1", "", allGrants()...)
	noRead := install(t, "mute-app", "org1", "", plugins.Grant{Scope: sdk.ScopeIMSend})
	e.start(t, a)
	e.start(t, noRead)
	e.msgs.add("ward5", "bot-echo-app", "bot-mute-app", "nurse1")
	ctx := context.Background()
	if err := e.host.MessagePosted(ctx, "org1", sdk.Message{ID: "m1", ConversationID: "ward5", SenderID: "nurse1", Text: "5床血压高"}); err != nil {
		t.Fatal(err)
	}
	if err := e.host.MessagePosted(ctx, "org1", sdk.Message{ID: "m2", ConversationID: "icu", SenderID: "nurse1", Text: "not for the bot"}); err != nil {
		t.Fatal(err)
	}
	if err := e.host.MessagePosted(ctx, "org2", sdk.Message{ID: "m3", ConversationID: "ward5", SenderID: "nurse1", Text: "other hospital"}); err != nil {
		t.Fatal(err)
	}
	sent := e.msgs.Sent()
	if len(sent) != 1 || sent[0] != "ward5|bot-echo-app|echo: 5床血压高" {
		t.Fatalf("sent = %q (only the member bot with im:read hears, once)", sent)
	}
	t.Run("app output lands in the logs with the app id", func(t *testing.T) {
		waitFor(t, "activation line", 5*time.Second, func() bool {
			return strings.Contains(e.logs.String(), "app_id=echo-app") && strings.Contains(e.logs.String(), "activated echo-app")
		})
	})
	t.Run("scheduled job on demand", func(t *testing.T) {
		if err := e.host.RunJob(ctx, a.ID, "digest"); err != nil {
			t.Fatal(err)
		}
		if got := e.command(t, a, "kvget job/digest"); !strings.HasPrefix(got, "ok true ") {
			t.Fatalf("job did not write: %q", got)
		}
	})
}

func TestEventHooksFollowGrants(t *testing.T) {
	e := newEnv(t, nil)
	granted := install(t, "granted-app", "org1", "", plugins.Grant{Scope: sdk.ScopeApprovalsRead}, plugins.Grant{Scope: sdk.ScopeRosterRead},
		plugins.Grant{Scope: sdk.ScopeOrgchartRead})
	bare := install(t, "bare-app", "org1", "")
	elsewhere := install(t, "elsewhere-app", "org2", "", plugins.Grant{Scope: sdk.ScopeApprovalsRead}, plugins.Grant{Scope: sdk.ScopeRosterRead},
		plugins.Grant{Scope: sdk.ScopeOrgchartRead})
	for _, i := range []plugins.Install{granted, bare, elsewhere} {
		e.start(t, i)
	}
	ctx := context.Background()
	now := time.Now()
	if err := e.host.ApprovalFinished(ctx, "org1", sdk.ApprovalFinished{ApprovalID: "a1", Template: "leave", Outcome: "approved", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.host.RosterPublished(ctx, "org1", sdk.RosterPublished{RosterID: "r1", DepartmentID: "cardio", Month: "2026-12", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.host.StaffChanged(ctx, "org1", sdk.StaffChange{UserID: "u9", DepartmentID: "cardio", Joined: true, At: now}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"approval": "ok true a1 approved", "roster": "ok true cardio 2026-12", "staff": "ok true u9 cardio true"}
	for kind, w := range want {
		if got := e.command(t, granted, "kvget event/"+kind); got != w {
			t.Errorf("granted %s: %q, want %q", kind, got, w)
		}
		for _, i := range []plugins.Install{bare, elsewhere} {
			if got := e.command(t, i, "kvget event/"+kind); got != "ok false " {
				t.Errorf("%s got the %s event: %q", i.AppID, kind, got)
			}
		}
	}
}
