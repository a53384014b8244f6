package authz_test

import (
	"context"
	"slices"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func TestCapabilitiesOf(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		caps := func(a core.Actor) authz.Capabilities {
			t.Helper()
			c, err := f.e.CapabilitiesOf(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		admin := caps(f.adminA)
		if !slices.Equal(admin.Roles, []string{authz.RoleOrgAdmin}) || admin.OrgID != hospA {
			t.Fatalf("org admin roles %+v", admin)
		}
		for _, p := range [][2]string{{"authz.role", "write"}, {"audit.log", "read"}, {"roster.settings", "write"}, {"im.message", "export"}} {
			if !admin.Allows(p[0], p[1]) {
				t.Errorf("org admin may %s %s: %v", p[1], p[0], admin.Allowed)
			}
		}

		head := caps(f.headA)
		if !head.Allows("roster.roster", "write") || head.Allows("roster.settings", "write") || head.Allows("authz.role", "write") {
			t.Errorf("head: %v", head.Allowed)
		}
		staff := caps(f.staffA)
		if staff.Allows("roster.roster", "write") || !staff.Allows("roster.roster", "read") || staff.Allows("audit.log", "read") {
			t.Errorf("staff: %v", staff.Allowed)
		}
		// What is listed is exactly what Authorize allows, pair by pair.
		for _, a := range []core.Actor{f.adminA, f.headA, f.staffA, f.guestA, f.nobody} {
			c := caps(a)
			for _, o := range authz.Catalogue {
				for _, act := range o.Actions {
					if c.Allows(o.Name, act) != f.e.Can(ctx, a, a.OrgID, o.Name, act) {
						t.Errorf("%v %s:%s listed %v", c.Roles, o.Name, act, c.Allows(o.Name, act))
					}
				}
			}
		}
		if n := caps(f.nobody); len(n.Roles) != 0 || len(n.Allowed) != 0 {
			t.Errorf("someone without roles may nothing: %+v", n)
		}

		// A custom role's deny shows at once: an admin-made role taking apps away from staff.
		if _, err := f.e.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{Name: "no_apps", Inherits: authz.RoleStaff,
			Rules: []authz.Rule{{Object: "apps.app", Action: "*", Effect: authz.Deny}}}); err != nil {
			t.Fatal(err)
		}
		if err := f.e.AssignRole(ctx, f.adminA, hospA, f.staffA.UserID, "no_apps"); err != nil {
			t.Fatal(err)
		}
		staff = caps(f.staffA)
		if staff.Allows("apps.app", "open") || !slices.Contains(staff.Roles, "no_apps") {
			t.Errorf("after deny: %+v", staff)
		}

		// Roles held in another hospital do not count here.
		if err := f.e.AssignRole(ctx, f.adminB, hospB, f.adminB.UserID, authz.RoleStaff); err != nil {
			t.Fatal(err)
		}
		other := caps(core.Actor{UserID: f.adminB.UserID, OrgID: hospA, Kind: core.ActorUser})
		if len(other.Roles) != 0 || len(other.Allowed) != 0 {
			t.Errorf("hospital B's admin acting in A: %+v", other)
		}

		sys := caps(f.sys)
		if !slices.Equal(sys.Roles, []string{authz.RoleSystemAdmin}) || !sys.Allows("audit.log", "verify") {
			t.Errorf("system admin: %+v", sys)
		}
	})
}
