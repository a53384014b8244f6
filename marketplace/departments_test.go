package marketplace_test

import (
	"context"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/catalog"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
)

// knownDepartments: org → its departments.
type knownDepartments map[string][]string

func (k knownDepartments) IsDepartment(_ context.Context, orgID, deptID string) (bool, error) {
	for _, d := range k[orgID] {
		if d == deptID {
			return true, nil
		}
	}
	return false, nil
}

// A department an admin names — a grant's subtree, a department setting,
// visibility — must be one of the organisation's; another hospital's is
// refused and nothing changes.
func TestDepartmentsMustBeTheOrganisations(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"orgchart:read", "http:routes"},
			Settings: `[{"key":"department","label":"科室","type":"department"}]`})
		mine, theirs := core.NewID(), core.NewID()
		deps := knownDepartments{f.org: {mine}, core.NewID(): {theirs}}
		cat, err := catalog.Open(f.pub.Dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := marketplace.New(marketplace.Config{Store: f.store, Files: f.files, Catalog: cat, Host: mt.NewHost(), Authz: f.roles,
			Audit: f.audit, Staff: f.staff, Departments: deps, DataDir: t.TempDir(), GOOS: "linux", GOARCH: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(f.ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })

		req := func(subtree, setting, visible string) marketplace.InstallRequest {
			return marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0",
				Grants:     []marketplace.Grant{{Scope: "orgchart:read", Subtree: subtree}, {Scope: "http:routes"}},
				Visibility: marketplace.Visibility{Departments: []string{visible}}, Settings: map[string]string{"department": setting}}
		}
		for _, c := range []struct {
			name, field string
			r           marketplace.InstallRequest
		}{
			{"grant subtree", "grants[0].subtree", req(theirs, mine, mine)},
			{"department setting", "settings.department", req(mine, theirs, mine)},
			{"visibility", "visibility.departments[0]", req(mine, mine, theirs)},
		} {
			_, err := svc.Install(f.ctx, f.admin, c.r)
			wantCode(t, err, core.EInvalid)
			if ce := err.(*core.Error); ce.Field != c.field {
				t.Fatalf("%s: field %q, want %q", c.name, ce.Field, c.field)
			}
		}
		if ins, err := svc.Installs(f.ctx, f.admin, f.org); err != nil || len(ins) != 0 {
			t.Fatalf("refused installs left %d installs, %v", len(ins), err)
		}
		in, err := svc.Install(f.ctx, f.admin, req(mine, mine, mine))
		if err != nil {
			t.Fatal(err)
		}
		// Later changes are checked too.
		_, err = svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"department": theirs})
		wantCode(t, err, core.EInvalid)
		_, err = svc.SetVisibility(f.ctx, f.admin, in.ID, marketplace.Visibility{Departments: []string{theirs}})
		wantCode(t, err, core.EInvalid)
	})
}
