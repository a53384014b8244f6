package authz_test

import (
	"context"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var migrations = []sqldbtest.Migration{{Area: authz.Area, FS: authz.Migrations}, {Area: audit.Area, FS: audit.Migrations}}

const (
	hospA = "hospital-a"
	hospB = "hospital-b"
)

type fixture struct {
	db  *sqldb.DB
	log *audit.Log
	e   *authz.Enforcer
	// people
	sys, adminA, adminB, headA, staffA, guestA, nobody core.Actor
}

func user(org string) core.Actor {
	return core.Actor{UserID: core.NewID(), OrgID: org, Kind: core.ActorUser}
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	log := audit.New(db, audit.Options{})
	e, err := authz.New(ctx, db, authz.Options{Recorder: log})
	if err != nil {
		t.Fatal(err)
	}
	log.SetAuthorizer(e)
	f := &fixture{db: db, log: log, e: e,
		sys: user(""), adminA: user(hospA), adminB: user(hospB), headA: user(hospA),
		staffA: user(hospA), guestA: user(hospA), nobody: user(hospA)}
	sysCtx := core.SystemActor
	for _, g := range []struct {
		a    core.Actor
		org  string
		role string
	}{
		{f.sys, authz.AllOrgs, authz.RoleSystemAdmin},
		{f.adminA, hospA, authz.RoleOrgAdmin},
		{f.adminB, hospB, authz.RoleOrgAdmin},
		{f.headA, hospA, authz.RoleDeptHead},
		{f.staffA, hospA, authz.RoleStaff},
		{f.guestA, hospA, authz.RoleGuest},
	} {
		if err := e.AssignRole(ctx, sysCtx, g.org, g.a.UserID, g.role); err != nil {
			t.Fatalf("assign %s: %v", g.role, err)
		}
	}
	return f
}

func TestBuiltinDecisions(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) { testBuiltinDecisions(t, db) })
}

func testBuiltinDecisions(t *testing.T, db *sqldb.DB) {
	f := newFixture(t, db)
	ctx := context.Background()
	cases := []struct {
		name   string
		who    core.Actor
		org    string
		object string
		action string
		allow  bool
	}{
		{"system admin reads audit in A", f.sys, hospA, "audit.log", "read", true},
		{"system admin anything in B", f.sys, hospB, "roster.roster", "write", true},
		{"system admin across orgs", f.sys, authz.AllOrgs, "audit.log", "verify", true},
		{"system actor always", core.SystemActor, hospB, "identity.user", "write", true},
		{"org admin reads audit", f.adminA, hospA, "audit.log", "read", true},
		{"org admin exports audit", f.adminA, hospA, "audit.log", "export", true},
		{"org admin writes users", f.adminA, hospA, "identity.user", "write", true},
		{"org admin writes roles", f.adminA, hospA, "authz.role", "write", true},
		{"org admin writes org chart", f.adminA, hospA, "orgchart.department", "write", true},
		{"org admin installs apps", f.adminA, hospA, "marketplace.app", "install", true},
		{"org admin of A denied in B", f.adminA, hospB, "audit.log", "read", false},
		{"org admin of B denied in A", f.adminB, hospA, "identity.user", "write", false},
		{"org admin not across orgs", f.adminA, authz.AllOrgs, "audit.log", "read", false},
		{"no organisation means every organisation: system admin", f.sys, "", "orgchart.org", "write", true},
		{"no organisation means every organisation: org admin", f.adminA, "", "orgchart.org", "write", false},
		{"dept head reads subtree approvals", f.headA, hospA, "approvals.request", "read_subtree", true},
		{"dept head writes roster", f.headA, hospA, "roster.roster", "write", true},
		{"dept head reads subtree attendance", f.headA, hospA, "attendance.record", "read_subtree", true},
		{"dept head reads directory", f.headA, hospA, "orgchart.directory", "read", true},
		{"dept head inherits staff chat", f.headA, hospA, "im.message", "use", true},
		{"dept head cannot write org chart", f.headA, hospA, "orgchart.department", "write", false},
		{"dept head cannot read audit", f.headA, hospA, "audit.log", "read", false},
		{"staff reads org chart", f.staffA, hospA, "orgchart.staff", "read", true},
		{"staff chats", f.staffA, hospA, "im.conversation", "use", true},
		{"staff uses approvals", f.staffA, hospA, "approvals.request", "use", true},
		{"staff reads roster", f.staffA, hospA, "roster.roster", "read", true},
		{"staff clocks in", f.staffA, hospA, "attendance.record", "write_own", true},
		{"staff opens apps", f.staffA, hospA, "apps.app", "open", true},
		{"staff cannot write roster", f.staffA, hospA, "roster.roster", "write", false},
		{"staff cannot read subtree", f.staffA, hospA, "approvals.request", "read_subtree", false},
		{"staff cannot read audit", f.staffA, hospA, "audit.log", "read", false},
		{"staff cannot install apps", f.staffA, hospA, "marketplace.app", "install", false},
		{"staff of A nothing in B", f.staffA, hospB, "im.message", "use", false},
		{"guest chats", f.guestA, hospA, "im.message", "use", true},
		{"guest limited directory", f.guestA, hospA, "orgchart.directory", "read_limited", true},
		{"guest no full directory", f.guestA, hospA, "orgchart.directory", "read", false},
		{"guest no approvals", f.guestA, hospA, "approvals.request", "use", false},
		{"guest no apps", f.guestA, hospA, "apps.app", "open", false},
		{"no role nothing", f.nobody, hospA, "im.message", "use", false},
		{"actor without identity", core.Actor{Kind: core.ActorUser}, hospA, "im.message", "use", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.e.Authorize(ctx, c.who, c.org, c.object, c.action)
			if c.allow && err != nil {
				t.Fatalf("want allowed, got %v", err)
			}
			if !c.allow && !core.IsCode(err, core.EForbidden) {
				t.Fatalf("want forbidden, got %v", err)
			}
			if got := f.e.Can(ctx, c.who, c.org, c.object, c.action); got != c.allow {
				t.Fatalf("Can = %v", got)
			}
		})
	}
}
