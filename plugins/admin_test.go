package plugins_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	corehttp "github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sqlstore"
)

type adminOnly struct{}

func (adminOnly) Authorize(_ context.Context, a core.Actor, orgID, object, action string) error {
	if a.OrgID == orgID && (a.UserID == "admin" && object == "marketplace.app" || object == "apps.app" && action == "open") {
		return nil
	}
	return core.Errorf(core.EForbidden, "not an admin")
}

func TestAdminRoutes(t *testing.T) {
	e := newEnv(t, nil)
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations})
	store := sqlstore.New(db)
	ctx := context.Background()
	good := install(t, "admin-app", "org1", "", allGrants()...)
	broken := install(t, "broken-app", "org1", "")
	broken.Checksum = strings.Repeat("00", 32)
	foreign := install(t, "foreign-app", "org2", "")
	for _, i := range []plugins.Install{good, broken, foreign} {
		if err := store.SaveInstall(ctx, i, false); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	rt := corehttp.NewRouter(mux, headerAuth{}, nil)
	pluginhttp.Register(rt, e.host, store, adminOnly{})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, user string) (int, pluginhttp.Install, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Org", "org1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		var out pluginhttp.Install
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out, string(raw)
	}
	t.Run("enable starts and records", func(t *testing.T) {
		code, got, raw := do("POST", "/api/v1/plugins/installs/"+good.ID+"/enable", "admin")
		if code != 200 || !got.Enabled || got.Health == nil || got.Health.State != plugins.StateRunning {
			t.Fatalf("%d %s", code, raw)
		}
		if rec, _ := store.GetInstall(ctx, good.ID); !rec.Enabled {
			t.Fatal("not recorded")
		}
	})
	t.Run("a refused enable changes nothing", func(t *testing.T) {
		code, _, raw := do("POST", "/api/v1/plugins/installs/"+broken.ID+"/enable", "admin")
		if code < 400 {
			t.Fatalf("%d %s", code, raw)
		}
		if rec, _ := store.GetInstall(ctx, broken.ID); rec.Enabled {
			t.Fatal("recorded enabled")
		}
		if _, err := e.host.Status(broken.ID); err == nil {
			t.Fatal("left running")
		}
	})
	t.Run("list shows my organisation only", func(t *testing.T) {
		code, _, raw := do("GET", "/api/v1/plugins/installs", "admin")
		if code != 200 || !strings.Contains(raw, good.ID) || strings.Contains(raw, foreign.ID) || !strings.Contains(raw, `"state":"running"`) {
			t.Fatalf("%d %s", code, raw)
		}
	})
	t.Run("pages of running apps for the web client", func(t *testing.T) {
		code, _, raw := do("GET", "/api/v1/plugins/pages", "nurse1")
		if code != 200 || !strings.Contains(raw, `"url":"/plugins/admin-app/ui/report"`) || strings.Contains(raw, "broken-app") {
			t.Fatalf("%d %s", code, raw)
		}
	})
	t.Run("another organisation's install is not found", func(t *testing.T) {
		if code, _, raw := do("POST", "/api/v1/plugins/installs/"+foreign.ID+"/enable", "admin"); code != 404 {
			t.Fatalf("%d %s", code, raw)
		}
	})
	t.Run("staff may not disable", func(t *testing.T) {
		if code, _, raw := do("POST", "/api/v1/plugins/installs/"+good.ID+"/disable", "nurse1"); code != 403 {
			t.Fatalf("%d %s", code, raw)
		}
	})
	t.Run("disable stops and records", func(t *testing.T) {
		code, got, raw := do("POST", "/api/v1/plugins/installs/"+good.ID+"/disable", "admin")
		if code != 200 || got.Enabled || got.Health != nil {
			t.Fatalf("%d %s", code, raw)
		}
		if rec, _ := store.GetInstall(ctx, good.ID); rec.Enabled {
			t.Fatal("still recorded enabled")
		}
	})
	t.Run("restore starts the enabled installs", func(t *testing.T) {
		_ = store.SetEnabled(ctx, good.ID, true)
		if err := e.host.Restore(ctx, store); err != nil {
			t.Fatal(err)
		}
		if s, err := e.host.Status(good.ID); err != nil || s.State != plugins.StateRunning {
			t.Fatalf("%+v %v", s, err)
		}
	})
}
