package plugins_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

// pageSecret is in files outside the app bundle that links inside its ui/
// point at: no request may ever be answered with it.
const pageSecret = "SECRET-outside-the-bundle-4711"

// FuzzPluginPages requests arbitrary paths of an installed app whose bundle
// holds links out of itself — a page file that is a symbolic link to a file
// elsewhere and a ui/ subdirectory that links to another directory (as an
// unpacked archive with links would). The host never serves a byte from
// outside the bundle, whatever the path (traversal, encodings, dot
// segments), and never fails with an internal error.
func FuzzPluginPages(f *testing.F) {
	for _, seed := range []string{
		"/plugins/web-app/ui/report",
		"/plugins/web-app/ui/leak",
		"/plugins/web-app/ui/dirleak",
		"/plugins/web-app/ui/../../../../etc/passwd",
		"/plugins/web-app/ui/%2e%2e/%2e%2e/secret.html",
		"/plugins/web-app/ui/report/../leak",
		"/plugins/web-app/ui//leak",
		"/plugins/web-app/ui/leak%00.html",
		"/plugins/web-app/ui/shared/x.html",
		"/plugins/web-app/../web-app/ui/leak",
		"/plugins/web-app/echo/1",
	} {
		f.Add(seed)
	}
	outside := f.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.html"), []byte(pageSecret), 0o644); err != nil {
		f.Fatal(err)
	}
	shared := filepath.Join(outside, "shared")
	_ = os.MkdirAll(shared, 0o755)
	if err := os.WriteFile(filepath.Join(shared, "x.html"), []byte(pageSecret), 0o644); err != nil {
		f.Fatal(err)
	}
	m := baseManifest("web-app")
	m.Pages = append(m.Pages, sdk.Page{Path: "/leak", Title: "Leak", File: "leak.html"}, sdk.Page{Path: "/dirleak", Title: "Dir", File: "shared/x.html"})
	dir := bundle(f, m)
	if err := os.Symlink(filepath.Join(outside, "secret.html"), filepath.Join(dir, "ui", "leak.html")); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(dir, "ui", "shared")); err != nil {
		f.Fatal(err)
	}
	inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "web-app", BotUserID: "bot-web-app", Dir: dir,
		Checksum: checksum(f, filepath.Join(dir, "testapp")), Grants: allGrants()}
	e := newEnv(f, nil)
	e.start(f, inst)
	srv := httptest.NewServer(pluginhttp.Handler(e.host, headerAuth{}))
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, path string) {
		req, err := http.NewRequest("GET", srv.URL+"/"+strings.TrimPrefix(path, "/"), nil)
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("X-Test-User", "nurse1")
		req.Header.Set("X-Test-Org", "org1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), pageSecret) {
			t.Fatalf("GET %s served a file from outside the bundle: %d %q", req.URL.Path, resp.StatusCode, b)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s: %d %s", req.URL.Path, resp.StatusCode, b)
		}
	})
}
