package marketplace_test

import (
	"errors"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
)

// A department setting (SDK v0.3.0) stores the id the admin picked; anything
// that is not an id is refused with the setting named, on install and on
// configure, and changes nothing. Its label, description and translations
// reach the admin console in the install's manifest.
func TestDepartmentSetting(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.trust(t, f.pub.Key)
		f.pub.Publish(mt.Version{V: "1.0.0", Settings: `[{"key":"department","label":"写日报的科室","description":"该科室的员工每天写日报","type":"department","required":true,` +
			`"i18n":{"en":{"label":"Department","description":"Its staff write daily reports"}}}]`})
		const ward = "0195f3c2-0000-7000-8000-000000000001"
		req := func(dept string) marketplace.InstallRequest {
			return marketplace.InstallRequest{OrgID: f.org, AppID: "daily-report", Version: "1.0.0", Settings: map[string]string{"department": dept}}
		}
		for _, bad := range []string{"心内科", "0195f3c2", ward + " "} {
			_, err := f.svc.Install(f.ctx, f.admin, req(bad))
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != core.EInvalid || ce.Field != "settings.department" {
				t.Fatalf("department %q: err = %v, want invalid settings.department", bad, err)
			}
		}
		_, err := f.svc.Install(f.ctx, f.admin, req(""))
		wantCode(t, err, core.EInvalid)
		if ins, _ := f.svc.Installs(f.ctx, f.admin, f.org); len(ins) != 0 {
			t.Fatalf("a refused install left %d installs", len(ins))
		}

		in, err := f.svc.Install(f.ctx, f.admin, req(ward))
		if err != nil {
			t.Fatal(err)
		}
		if in.Current.Settings["department"] != ward {
			t.Fatalf("settings %v", in.Current.Settings)
		}
		s := in.Current.Manifest.Settings[0]
		if s.Type != "department" || s.Description != "该科室的员工每天写日报" || s.I18n["en"].Label != "Department" {
			t.Fatalf("manifest setting %+v", s)
		}
		_, err = f.svc.Configure(f.ctx, f.admin, in.ID, map[string]string{"department": "ward 5"})
		wantCode(t, err, core.EInvalid)
		if got, _ := f.svc.GetInstall(f.ctx, f.admin, in.ID); got.Current.Settings["department"] != ward {
			t.Fatalf("a refused change changed the settings: %v", got.Current.Settings)
		}
	})
}
