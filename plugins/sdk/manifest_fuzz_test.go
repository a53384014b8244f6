package sdk_test

import (
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/roundshq/rounds/plugins/sdk"
)

// FuzzParseManifest: any manifest file parses or is refused without a
// panic; an accepted one names an executable that is a plain file of the
// bundle and page files that stay inside ui/, and matching any request path
// against its routes never panics.
func FuzzParseManifest(f *testing.F) {
	b, _ := json.Marshal(good())
	f.Add(b, "/reports/42")
	for _, seed := range []string{
		`{"id":"x","executable":"../../bin/sh"}`,
		`{"id":"daily-report","name":"日报","version":"1.2.0","publisher":"ISV","min_server_version":"0.1.0","executable":"app","pages":[{"path":"/w","title":"W","file":"../secret"}]}`,
		`{"id":"daily-report","name":"日报","version":"1.2.0","publisher":"ISV","min_server_version":"0.1.0","executable":"/bin/sh"}`,
		`{"id":"daily-report","name":"日报","version":"1.2.0","publisher":"ISV","min_server_version":"0.1.0","executable":"app","pages":[{"path":"/w","title":"W","file":"a\\..\\..\\b"}]}`,
		`{"id":"a","unknown":1}`,
		`{} {}`,
		`null`,
	} {
		f.Add([]byte(seed), "/w")
	}
	f.Fuzz(func(t *testing.T, data []byte, reqPath string) {
		m, err := sdk.ParseManifest(data)
		if err != nil {
			return
		}
		if strings.ContainsAny(m.Executable, `/\`) || m.Executable == "." || m.Executable == ".." || m.Executable == "" {
			t.Fatalf("accepted executable %q", m.Executable)
		}
		for _, p := range m.Pages {
			if p.File == "" || path.IsAbs(p.File) || strings.HasPrefix(path.Clean(p.File), "..") || strings.Contains(p.File, `\`) {
				t.Fatalf("accepted page file %q", p.File)
			}
		}
		for _, method := range []string{"GET", "POST", "DELETE"} {
			_, _ = m.MatchRoute(method, reqPath)
		}
	})
}
