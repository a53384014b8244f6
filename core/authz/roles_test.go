package authz_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func auditActions(t *testing.T, f *fixture, org string) []string {
	t.Helper()
	entries, _, err := f.log.List(context.Background(), f.sys, audit.Filter{OrgID: org, Action: "authz."}, core.PageRequest{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+":"+e.Result)
	}
	return out
}

func TestCustomRoles(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nurse := user(hospA)

		t.Run("custom role with inherit and deny", func(t *testing.T) {
			_, err := f.e.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{
				Name: "head_nurse", Description: "护士长", Inherits: authz.RoleStaff,
				Rules: []authz.Rule{
					{Object: "roster.roster", Action: "write", Effect: authz.Allow},
					{Object: "im.message", Action: "export", Effect: authz.Allow},
					{Object: "apps.app", Action: "*", Effect: authz.Deny},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, hospA, nurse.UserID, "head_nurse"); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				obj, act string
				allow    bool
			}{
				{"roster.roster", "write", true},      // own rule
				{"im.message", "export", true},        // own rule
				{"orgchart.staff", "read", true},      // inherited from staff
				{"apps.app", "open", false},           // deny overrides staff's allow
				{"audit.log", "read", false},          // never granted
				{"roster.roster", "read", true},       // inherited
				{"attendance.record", "write", false}, // staff has write_own only
			} {
				if got := f.e.Can(ctx, nurse, hospA, c.obj, c.act); got != c.allow {
					t.Errorf("%s %s: got %v want %v", c.act, c.obj, got, c.allow)
				}
			}
			if f.e.Can(ctx, nurse, hospB, "roster.roster", "write") {
				t.Error("custom role of A applies in B")
			}
		})

		t.Run("deny overrides allow from another role", func(t *testing.T) {
			// The nurse is also dept_head: the deny still wins.
			if err := f.e.AssignRole(ctx, f.adminA, hospA, nurse.UserID, authz.RoleDeptHead); err != nil {
				t.Fatal(err)
			}
			if f.e.Can(ctx, nurse, hospA, "apps.app", "open") {
				t.Fatal("deny did not override")
			}
			if got := f.e.RolesOf(hospA, nurse.UserID); !reflect.DeepEqual(got, []string{"dept_head", "head_nurse"}) {
				t.Fatalf("RolesOf = %v", got)
			}
			if got := f.e.UsersWithRole(hospA, "head_nurse"); !reflect.DeepEqual(got, []string{nurse.UserID}) {
				t.Fatalf("UsersWithRole = %v", got)
			}
		})

		t.Run("same role name in another organisation is separate", func(t *testing.T) {
			if _, err := f.e.CreateRole(ctx, f.adminB, hospB, authz.RoleDef{Name: "head_nurse",
				Rules: []authz.Rule{{Object: "audit.log", Action: "read", Effect: authz.Allow}}}); err != nil {
				t.Fatal(err)
			}
			if f.e.Can(ctx, nurse, hospA, "audit.log", "read") {
				t.Fatal("B's rule leaked into A")
			}
		})

		t.Run("validation", func(t *testing.T) {
			ok := []authz.Rule{{Object: "im.*", Action: "use", Effect: authz.Allow}}
			cases := []struct {
				name  string
				org   string
				def   authz.RoleDef
				field string
			}{
				{"named like a built-in", hospA, authz.RoleDef{Name: "staff", Rules: ok}, "name"},
				{"bad name", hospA, authz.RoleDef{Name: "Head Nurse", Rules: ok}, "name"},
				{"unknown object", hospA, authz.RoleDef{Name: "x_role", Rules: []authz.Rule{{Object: "pharmacy.drug", Action: "read", Effect: authz.Allow}}}, "rules[0].object"},
				{"unknown area wildcard", hospA, authz.RoleDef{Name: "x_role", Rules: []authz.Rule{{Object: "pharmacy.*", Action: "read", Effect: authz.Allow}}}, "rules[0].object"},
				{"unknown action", hospA, authz.RoleDef{Name: "x_role", Rules: []authz.Rule{ok[0], {Object: "roster.roster", Action: "delete", Effect: authz.Allow}}}, "rules[1].action"},
				{"bad effect", hospA, authz.RoleDef{Name: "x_role", Rules: []authz.Rule{{Object: "im.*", Action: "use", Effect: "maybe"}}}, "rules[0].effect"},
				{"inherits system admin", hospA, authz.RoleDef{Name: "x_role", Inherits: authz.RoleSystemAdmin}, "inherits"},
				{"inherits unknown", hospA, authz.RoleDef{Name: "x_role", Inherits: "head_nurse"}, "inherits"},
				{"granting in every org", authz.AllOrgs, authz.RoleDef{Name: "x_role", Rules: ok}, "org"},
				{"bad org", "a,b", authz.RoleDef{Name: "x_role", Rules: ok}, "org"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := f.e.CreateRole(ctx, f.adminA, c.org, c.def)
					var ce *core.Error
					if !core.IsCode(err, core.EInvalid) || !asErr(err, &ce) || ce.Field != c.field {
						t.Fatalf("want invalid %s, got %v", c.field, err)
					}
				})
			}
			for _, c := range []struct {
				name, org, role, field string
			}{
				{"system_admin in one org", hospA, authz.RoleSystemAdmin, "role"},
				{"org role in every org", authz.AllOrgs, authz.RoleStaff, "org"},
				{"custom role of another org", hospA, "nobody_role", "role"},
			} {
				t.Run(c.name, func(t *testing.T) {
					err := f.e.AssignRole(ctx, f.sys, c.org, nurse.UserID, c.role)
					var ce *core.Error
					if !core.IsCode(err, core.EInvalid) || !asErr(err, &ce) || ce.Field != c.field {
						t.Fatalf("want invalid %s, got %v", c.field, err)
					}
				})
			}
		})

		t.Run("duplicate name conflicts and changes nothing", func(t *testing.T) {
			_, err := f.e.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{Name: "head_nurse",
				Rules: []authz.Rule{{Object: "audit.log", Action: "read", Effect: authz.Allow}}})
			if !core.IsCode(err, core.EConflict) {
				t.Fatalf("want conflict, got %v", err)
			}
			if f.e.Can(ctx, nurse, hospA, "audit.log", "read") {
				t.Fatal("a refused role changed decisions")
			}
		})

		t.Run("no escalation", func(t *testing.T) {
			// A role manager who may write roles but not read the audit log.
			if _, err := f.e.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{Name: "role_clerk", Inherits: authz.RoleStaff,
				Rules: []authz.Rule{{Object: "authz.role", Action: "*", Effect: authz.Allow}}}); err != nil {
				t.Fatal(err)
			}
			clerk := user(hospA)
			if err := f.e.AssignRole(ctx, f.adminA, hospA, clerk.UserID, "role_clerk"); err != nil {
				t.Fatal(err)
			}
			_, err := f.e.CreateRole(ctx, clerk, hospA, authz.RoleDef{Name: "auditor",
				Rules: []authz.Rule{{Object: "audit.log", Action: "read", Effect: authz.Allow}}})
			if !core.IsCode(err, core.EForbidden) {
				t.Fatalf("create beyond own rights: want forbidden, got %v", err)
			}
			// The refused role left nothing behind, in memory or stored.
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM authz_rules WHERE v0 = 'auditor'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("refused role stored %d rules (%v)", n, err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, hospA, clerk.UserID, "auditor"); !core.IsCode(err, core.EInvalid) {
				t.Fatalf("refused role can be assigned: %v", err)
			}
			if err := f.e.AssignRole(ctx, clerk, hospA, clerk.UserID, authz.RoleOrgAdmin); !core.IsCode(err, core.EForbidden) {
				t.Fatalf("self-promotion: want forbidden, got %v", err)
			}
			if err := f.e.AssignRole(ctx, clerk, hospA, nurse.UserID, authz.RoleGuest); err != nil {
				t.Fatalf("granting less than one holds: %v", err)
			}
			if _, err := f.e.CreateRole(ctx, clerk, hospA, authz.RoleDef{Name: "no_apps",
				Rules: []authz.Rule{{Object: "apps.*", Action: "*", Effect: authz.Deny}}}); err != nil {
				t.Fatalf("deny-only role: %v", err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, hospB, nurse.UserID, authz.RoleStaff); !core.IsCode(err, core.EForbidden) {
				t.Fatalf("admin of A granting in B: want forbidden, got %v", err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, authz.AllOrgs, f.adminA.UserID, authz.RoleSystemAdmin); !core.IsCode(err, core.EForbidden) {
				t.Fatalf("org admin making a system admin: want forbidden, got %v", err)
			}
			if _, err := f.e.ListRoles(ctx, f.staffA, hospA); !core.IsCode(err, core.EForbidden) {
				t.Fatalf("staff listing roles: want forbidden, got %v", err)
			}
			if _, err := f.e.UserRoles(ctx, f.staffA, hospA, nurse.UserID); !core.IsCode(err, core.EForbidden) {
				t.Fatalf("staff reading another's roles: want forbidden, got %v", err)
			}
			if got, err := f.e.UserRoles(ctx, f.staffA, hospA, f.staffA.UserID); err != nil || !reflect.DeepEqual(got, []string{"staff"}) {
				t.Fatalf("own roles = %v, %v", got, err)
			}
			if acts := auditActions(t, f, hospA); !slices.Contains(acts, "authz.role.create:denied") || !slices.Contains(acts, "authz.role.assign:denied") {
				t.Fatalf("refusals not audited: %v", acts)
			}
		})

		t.Run("list roles", func(t *testing.T) {
			roles, err := f.e.ListRoles(ctx, f.adminA, hospA)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range roles {
				names = append(names, r.Name)
				if r.Name == "head_nurse" && (len(r.Rules) != 3 || r.Inherits != "staff" || r.Description != "护士长" || r.Builtin) {
					t.Fatalf("head_nurse listed as %+v", r)
				}
				if r.Name == authz.RoleDeptHead && (!r.Builtin || r.Inherits != authz.RoleStaff ||
					!slices.Contains(r.Rules, authz.Rule{Object: "roster.roster", Action: "write", Effect: authz.Allow})) {
					t.Fatalf("dept_head listed as %+v", r)
				}
			}
			want := []string{"system_admin", "org_admin", "dept_head", "staff", "guest", "head_nurse", "no_apps", "role_clerk"}
			if !reflect.DeepEqual(names, want) {
				t.Fatalf("roles = %v", names)
			}
		})

		t.Run("persisted across a new enforcer on the same database", func(t *testing.T) {
			e2, err := authz.New(ctx, db, authz.Options{Recorder: f.log})
			if err != nil {
				t.Fatal(err)
			}
			if !e2.Can(ctx, nurse, hospA, "roster.roster", "write") || e2.Can(ctx, nurse, hospA, "apps.app", "open") {
				t.Fatal("custom role not reloaded")
			}
			if !e2.Can(ctx, f.sys, hospB, "audit.log", "export") || !e2.Can(ctx, f.adminA, hospA, "audit.log", "read") {
				t.Fatal("assignments not reloaded")
			}
			if got := e2.RolesOf(hospA, nurse.UserID); !reflect.DeepEqual(got, []string{"dept_head", "guest", "head_nurse"}) {
				t.Fatalf("RolesOf after reload = %v", got)
			}
			// A change made by another node shows after Reload.
			if err := e2.RevokeRole(ctx, f.adminA, hospA, nurse.UserID, "head_nurse"); err != nil {
				t.Fatal(err)
			}
			if !f.e.Can(ctx, nurse, hospA, "im.message", "export") {
				t.Fatal("first node changed before reload?")
			}
			if err := f.e.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if f.e.Can(ctx, nurse, hospA, "im.message", "export") {
				t.Fatal("revocation not seen after Reload")
			}
		})

		t.Run("revoke and delete", func(t *testing.T) {
			if err := f.e.RevokeRole(ctx, f.adminA, hospA, nurse.UserID, "head_nurse"); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("revoking twice: want not found, got %v", err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, hospA, nurse.UserID, "head_nurse"); err != nil {
				t.Fatal(err)
			}
			if err := f.e.DeleteRole(ctx, f.adminA, hospA, "head_nurse"); err != nil {
				t.Fatal(err)
			}
			if f.e.Can(ctx, nurse, hospA, "im.message", "export") || slices.Contains(f.e.RolesOf(hospA, nurse.UserID), "head_nurse") {
				t.Fatal("deleted role still applies")
			}
			if err := f.e.DeleteRole(ctx, f.adminA, hospA, "head_nurse"); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("deleting twice: want not found, got %v", err)
			}
			if err := f.e.DeleteRole(ctx, f.adminA, hospA, authz.RoleStaff); !core.IsCode(err, core.EInvalid) {
				t.Fatalf("deleting a built-in: want invalid, got %v", err)
			}
			// B's role of the same name is untouched.
			roles, err := f.e.ListRoles(ctx, f.adminB, hospB)
			if err != nil || !slices.ContainsFunc(roles, func(r authz.Role) bool { return r.Name == "head_nurse" }) {
				t.Fatalf("B's roles = %v, %v", roles, err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM authz_rules WHERE v0 = 'head_nurse' OR v1 = 'head_nurse'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("stored head_nurse rules left = %d (%v), want B's one", n, err)
			}
		})

		t.Run("remove user on deactivation", func(t *testing.T) {
			if err := f.e.RemoveUser(ctx, nurse.UserID); err != nil {
				t.Fatal(err)
			}
			if got := f.e.RolesOf(hospA, nurse.UserID); len(got) != 0 {
				t.Fatalf("roles after removal: %v", got)
			}
			if f.e.Can(ctx, nurse, hospA, "im.message", "use") {
				t.Fatal("removed user still chats")
			}
		})

		t.Run("changes are audited and the chain holds", func(t *testing.T) {
			acts := auditActions(t, f, hospA)
			for _, want := range []string{"authz.role.create:ok", "authz.role.assign:ok", "authz.role.revoke:ok", "authz.role.delete:ok"} {
				if !slices.Contains(acts, want) {
					t.Errorf("missing %s in %v", want, acts)
				}
			}
			rep, err := f.log.Verify(ctx)
			if err != nil || !rep.OK {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	})
}

// Two nodes on one database: a node that has not reloaded yet still writes
// correctly (idempotent adds, complete removal on deactivation).
func TestTwoNodes(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		other, err := authz.New(ctx, db, authz.Options{Recorder: f.log})
		if err != nil {
			t.Fatal(err)
		}
		u := core.NewID()
		// Node 2 grants; node 1 has not heard of it and grants the same.
		if err := other.AssignRole(ctx, f.adminA, hospA, u, authz.RoleDeptHead); err != nil {
			t.Fatal(err)
		}
		if err := other.AssignRole(ctx, f.adminB, hospB, u, authz.RoleGuest); err != nil {
			t.Fatal(err)
		}
		if err := f.e.AssignRole(ctx, f.adminA, hospA, u, authz.RoleDeptHead); err != nil {
			t.Fatalf("stale node granting a stored role: %v", err)
		}
		// Node 1 deactivates the user: every stored role goes, also the one
		// granted in B that node 1 never saw.
		if err := f.e.RemoveUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM authz_rules WHERE v0 = ?`, "user:"+u).Scan(&n); err != nil || n != 0 {
			t.Fatalf("stored assignments left: %d (%v)", n, err)
		}
		if err := other.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := other.RolesOf(hospB, u); len(got) != 0 {
			t.Fatalf("roles on node 2 after reload: %v", got)
		}
		revokes, _, err := f.log.List(ctx, f.sys, audit.Filter{ObjectID: u, Action: "authz.role.revoke"}, core.PageRequest{})
		if err != nil || len(revokes) != 2 {
			t.Fatalf("deactivation audited as %d revocations (%v)", len(revokes), err)
		}
	})
}
