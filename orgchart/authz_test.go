package orgchart_test

import (
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

// TestWithRealAuthorization wires the service to the real casbin enforcer
// and the real hash-chained audit log, as cmd/rounds does.
func TestWithRealAuthorization(t *testing.T) {
	migs := []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}, {Area: authz.Area, FS: authz.Migrations}, {Area: audit.Area, FS: audit.Migrations}}
	sqldbtest.Each(t, migs, func(t *testing.T, db *sqldb.DB) {
		log := audit.New(db, audit.Options{})
		enf, err := authz.New(ctx, db, authz.Options{Recorder: log})
		if err != nil {
			t.Fatal(err)
		}
		log.SetAuthorizer(enf)
		svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Authorizer: enf, Audit: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		a := newHospital(t, svc, "jcyy")
		b := newHospital(t, svc, "qsxy")
		user := func(id, org string) core.Actor { return core.Actor{Kind: core.ActorUser, UserID: id, OrgID: org} }
		admin := user(core.NewID(), a.org.ID)
		for _, as := range []struct{ org, user, role string }{
			{a.org.ID, admin.UserID, authz.RoleOrgAdmin},
			{a.org.ID, a.nurse.ID, authz.RoleStaff},
			{a.org.ID, a.innerHead.ID, authz.RoleDeptHead},
			{b.org.ID, b.nurse.ID, authz.RoleStaff},
		} {
			if err := enf.AssignRole(ctx, sys, as.org, as.user, as.role); err != nil {
				t.Fatal(err)
			}
		}
		nurse, head, outsider := user(a.nurse.ID, a.org.ID), user(a.innerHead.ID, a.org.ID), user(b.nurse.ID, b.org.ID)
		rename := "心血管内科"
		cases := []struct {
			name string
			do   func() error
			want core.Code
		}{
			{"admin renames a department", func() error {
				_, err := svc.UpdateDepartment(ctx, admin, a.org.ID, a.cardio.ID, orgchart.DepartmentPatch{Name: &rename})
				return err
			}, ""},
			{"staff reads the tree", func() error { _, err := svc.Tree(ctx, nurse, a.org.ID); return err }, ""},
			{"staff searches", func() error { _, err := svc.Search(ctx, nurse, "zs", 10); return err }, ""},
			{"staff cannot add staff", func() error {
				_, err := svc.CreateStaff(ctx, nurse, a.org.ID, orgchart.StaffInput{EmployeeNo: "x1", Name: "某", PrimaryDepartmentID: a.ward.ID})
				return err
			}, core.EForbidden},
			{"a dept head cannot edit the org chart", func() error { _, err := svc.DeactivateStaff(ctx, head, a.org.ID, a.nurse.ID); return err }, core.EForbidden},
			{"another hospital's staff cannot write here", func() error {
				_, err := svc.CreateDepartment(ctx, outsider, a.org.ID, orgchart.NewDepartment{Name: "x"})
				return err
			}, core.EForbidden},
			{"another hospital is invisible without a group", func() error { _, err := svc.Tree(ctx, outsider, a.org.ID); return err }, core.ENotFound},
			{"an org admin cannot create organisations", func() error { _, err := svc.CreateOrg(ctx, admin, "newh", "新医院"); return err }, core.EForbidden},
			{"an org admin cannot create hospital groups", func() error {
				_, err := svc.CreateGroup(ctx, admin, "g", []orgchart.GroupMember{{OrgID: a.org.ID}, {OrgID: b.org.ID}})
				return err
			}, core.EForbidden},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if err := c.do(); core.ErrorCode(err) != c.want {
					t.Fatalf("got %v, want %q", err, c.want)
				}
			})
		}
		t.Run("changes and refusals are in the audit log, chain intact", func(t *testing.T) {
			entries, _, err := log.List(ctx, sys, audit.Filter{OrgID: a.org.ID}, core.PageRequest{Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			var updated, refused bool
			for _, e := range entries {
				updated = updated || (e.Action == "orgchart.department.update" && e.ActorID == admin.UserID && e.Result == audit.ResultOK)
				refused = refused || (e.ActorID == nurse.UserID && e.Result == audit.ResultDenied)
			}
			if !updated || !refused {
				t.Fatalf("update %v refusal %v in %d entries", updated, refused, len(entries))
			}
			rep, err := log.Verify(ctx)
			if err != nil || !rep.OK {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	})
}
