package marketplacehttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/files/localdisk"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/catalog"
	marketplacehttp "github.com/roundshq/rounds/marketplace/httpapi"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
	"github.com/roundshq/rounds/marketplace/sqlstore"
)

// headerAuth trusts X-User and X-Org: the test stands in for identity.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	u := r.Header.Get("X-User")
	if u == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{Kind: core.ActorUser, UserID: u, OrgID: r.Header.Get("X-Org")}, nil
}

// adminsOf: the user "admin" of each org may do everything there; others
// may open apps of their own organisation.
type adminsOf struct{}

func (adminsOf) Authorize(_ context.Context, a core.Actor, orgID, object, action string) error {
	if a.OrgID == orgID && (a.UserID == "admin" || object == "apps.app" && action == "open") {
		return nil
	}
	return core.Errorf(core.EForbidden, "not allowed")
}

type discard struct{}

func (discard) Record(context.Context, audit.Entry) error { return nil }

type client struct {
	t         *testing.T
	srv       *httptest.Server
	user, org string
}

func (c client) do(method, path string, body any, out any) (int, httpapi.ErrorBody) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	req.Header.Set("X-User", c.user)
	req.Header.Set("X-Org", c.org)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb httpapi.ErrorBody
	if resp.StatusCode >= 400 {
		json.Unmarshal(data, &eb)
	} else if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, eb
}

func TestRoutes(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		pub := mt.NewPublisher(t)
		pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"orgchart:read", "http:routes"}})
		pub.Publish(mt.Version{V: "1.1.0", Scopes: []string{"orgchart:read", "http:routes"}})
		// The catalog is an intranet URL here.
		catSrv := httptest.NewServer(http.FileServer(http.Dir(pub.Dir)))
		defer catSrv.Close()
		cat, err := catalog.Open(catSrv.URL+"/index.json", catSrv.Client())
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := localdisk.New(t.TempDir())
		host := mt.NewHost()
		svc, err := marketplace.New(marketplace.Config{Store: sqlstore.New(db), Files: fs, Catalog: cat, Host: host, Authz: adminsOf{},
			Audit: discard{}, DataDir: t.TempDir(), GOOS: "linux", GOARCH: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		rt := httpapi.NewRouter(mux, headerAuth{}, nil)
		marketplacehttp.Handlers{Svc: svc}.Register(rt)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		org := core.NewID()
		admin := client{t, srv, "admin", org}
		nurse := client{t, srv, core.NewID(), org}
		otherAdmin := client{t, srv, "admin", core.NewID()}
		base := "/api/v1/orgs/" + org + "/marketplace"

		if code, eb := admin.do("POST", base+"/keys", marketplacehttp.KeyRequest{Name: "Acme", PublicKey: pub.Key.Public().String()}, nil); code != 201 {
			t.Fatalf("add key: %d %+v", code, eb)
		}
		if code, eb := admin.do("POST", base+"/keys", `{"name":"x","public_key":"k","colour":1}`, nil); code != 400 || !strings.Contains(eb.Message+eb.Details["field"].(string), "colour") {
			t.Fatalf("unknown field: %d %+v", code, eb)
		}
		var cl struct{ Items []marketplace.CatalogApp }
		if code, _ := admin.do("GET", base+"/catalog?category=office", nil, &cl); code != 200 || len(cl.Items) != 1 || len(cl.Items[0].Versions) != 2 {
			t.Fatalf("catalog: %d %+v", code, cl)
		}
		var app marketplace.CatalogApp
		if code, _ := admin.do("GET", base+"/catalog/daily-report", nil, &app); code != 200 || app.Publisher != "Acme ISV" || len(app.Screenshots) != 1 {
			t.Fatalf("catalog app: %d %+v", code, app)
		}
		ward := core.NewID()
		install := marketplace.InstallRequest{AppID: "daily-report", Version: "1.0.0", Enable: true,
			Grants: []marketplace.Grant{{Scope: "orgchart:read", Subtree: ward}, {Scope: "http:routes"}}, Visibility: marketplace.Visibility{Everyone: true}}
		wider := install
		wider.Grants = append(wider.Grants, marketplace.Grant{Scope: "im:send"})
		if code, eb := admin.do("POST", base+"/installs", wider, nil); code != 400 || eb.Code != "invalid" {
			t.Fatalf("wider grant: %d %+v", code, eb)
		}
		if code, _ := nurse.do("POST", base+"/installs", install, nil); code != 403 {
			t.Fatalf("install by staff: %d", code)
		}
		var in marketplace.Install
		if code, eb := admin.do("POST", base+"/installs", install, &in); code != 201 || in.Current.Version != "1.0.0" {
			t.Fatalf("install: %d %+v", code, eb)
		}
		ib := base + "/installs/" + in.ID
		if code, _ := otherAdmin.do("GET", "/api/v1/orgs/"+otherAdmin.org+"/marketplace/installs/"+in.ID, nil, nil); code != 404 {
			t.Fatalf("another hospital's admin sees the install: %d", code)
		}
		if code, _ := otherAdmin.do("POST", "/api/v1/orgs/"+otherAdmin.org+"/marketplace/installs/"+in.ID+"/disable", nil, nil); code != 404 {
			t.Fatalf("another hospital's admin disables the install: %d", code)
		}
		if code, eb := admin.do("POST", ib+"/upgrade", marketplace.UpgradeRequest{Version: "1.0.0"}, nil); code != 400 || eb.Details["field"] != "version" {
			t.Fatalf("downgrade via upgrade: %d %+v", code, eb)
		}
		if code, eb := admin.do("POST", ib+"/upgrade", marketplace.UpgradeRequest{Version: "1.1.0"}, &in); code != 200 || in.Current.Version != "1.1.0" {
			t.Fatalf("upgrade: %d %+v", code, eb)
		}
		if code, eb := admin.do("POST", ib+"/rollback", nil, &in); code != 200 || in.Current.Version != "1.0.0" {
			t.Fatalf("rollback: %d %+v", code, eb)
		}
		if code, _ := admin.do("PUT", ib+"/settings", marketplacehttp.SettingsRequest{Settings: map[string]string{"nope": "1"}}, nil); code != 400 {
			t.Fatalf("bad settings: %d", code)
		}
		var apps struct{ Items []marketplace.AppEntry }
		if code, _ := nurse.do("GET", "/api/v1/me/apps", nil, &apps); code != 200 || len(apps.Items) != 1 || apps.Items[0].URL != "/plugins/daily-report/ui/write" {
			t.Fatalf("my apps: %d %+v", code, apps)
		}
		if code, _ := admin.do("PUT", ib+"/visibility", marketplace.Visibility{People: []string{core.NewID()}}, &in); code != 200 {
			t.Fatalf("visibility: %d", code)
		}
		if code, _ := nurse.do("GET", "/api/v1/me/apps/"+in.ID, nil, nil); code != 404 {
			t.Fatalf("hidden app opened: %d", code)
		}
		if code, _ := admin.do("POST", ib+"/disable", nil, &in); code != 200 || in.Enabled {
			t.Fatalf("disable: %d", code)
		}
		if code, _ := admin.do("POST", ib+"/enable", nil, &in); code != 200 || !in.Enabled {
			t.Fatalf("enable: %d", code)
		}
		var list struct{ Items []marketplace.Install }
		if code, _ := admin.do("GET", base+"/installs", nil, &list); code != 200 || len(list.Items) != 1 {
			t.Fatalf("installs: %d %+v", code, list)
		}
		if code, _ := admin.do("DELETE", ib+"?keep_data=maybe", nil, nil); code != 400 {
			t.Fatalf("bad keep_data: %d", code)
		}
		if code, _ := admin.do("DELETE", ib+"?keep_data=true", nil, nil); code != 204 || len(host.Deleted()) != 0 || host.Running() != 0 {
			t.Fatalf("uninstall: %d, deleted %v", code, host.Deleted())
		}
		if code, _ := admin.do("GET", ib, nil, nil); code != 404 {
			t.Fatalf("uninstalled install: %d", code)
		}
	})
}

// TestCatalogScreenshots: an admin sees a catalog app's screenshots as the
// images they are; a file that is not an image, a missing one and a path out
// of the catalog are refused, and staff and other hospitals' admins see none.
func TestCatalogScreenshots(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		pub := mt.NewPublisher(t)
		pub.Publish(mt.Version{V: "1.0.0", Scopes: []string{"http:routes"}})
		// A real 1×1 PNG, a page posing as a screenshot, and a path that
		// tries to leave the catalog folder.
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x04\x00\x09\xfb\x03\xfd\xe3U\xf2\x9c\x00\x00\x00\x00IEND\xaeB`\x82")
		if err := os.MkdirAll(filepath.Join(pub.Dir, "daily-report"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string][]byte{"daily-report/1.png": png, "daily-report/2.png": []byte("<html><script>alert(1)</script></html>")} {
			if err := os.WriteFile(filepath.Join(pub.Dir, name), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		pub.Apps[0].Screenshots = []string{"daily-report/1.png", "daily-report/2.png", "../index.json", "daily-report/3.png"}
		pub.Add(mt.Version{V: "1.0.0", Scopes: []string{"http:routes"}}, mustRead(t, filepath.Join(pub.Dir, "daily-report-1.0.0.tgz")))
		cat, err := catalog.Open(pub.Dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := localdisk.New(t.TempDir())
		svc, err := marketplace.New(marketplace.Config{Store: sqlstore.New(db), Files: fs, Catalog: cat, Host: mt.NewHost(), Authz: adminsOf{},
			Audit: discard{}, DataDir: t.TempDir(), GOOS: "linux", GOARCH: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		rt := httpapi.NewRouter(mux, headerAuth{}, nil)
		marketplacehttp.Handlers{Svc: svc}.Register(rt)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		org := core.NewID()
		get := func(user, org, n string) (int, string, []byte) {
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/orgs/"+org+"/marketplace/catalog/daily-report/screenshots/"+n, nil)
			req.Header.Set("X-User", user)
			req.Header.Set("X-Org", org)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), b
		}
		if code, kind, body := get("admin", org, "0"); code != 200 || kind != "image/png" || !bytes.Equal(body, png) {
			t.Fatalf("screenshot 0: %d %s %q", code, kind, body)
		}
		for _, c := range []struct {
			n    string
			code int
		}{{"1", 400}, {"2", 400}, {"3", 404}, {"4", 404}, {"-1", 400}, {"x", 400}} {
			if code, kind, body := get("admin", org, c.n); code != c.code || !strings.HasPrefix(kind, "application/json") {
				t.Errorf("screenshot %s: %d %s %s, want %d", c.n, code, kind, body, c.code)
			}
		}
		if code, _, _ := get(core.NewID(), org, "0"); code != 403 {
			t.Errorf("staff: %d", code)
		}
		if code, _, _ := get("admin", core.NewID(), "0"); code != 200 {
			t.Errorf("an admin of another hospital reading their own catalog: %d", code)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/orgs/"+org+"/marketplace/catalog/daily-report/screenshots/0", nil)
		req.Header.Set("X-User", "admin")
		req.Header.Set("X-Org", core.NewID())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("another hospital's admin through this hospital's path: %d", resp.StatusCode)
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
