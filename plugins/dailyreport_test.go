package plugins_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

// TestDailyReportAppEndToEnd installs the real 日报 app bundle and uses it
// through the host: a slash command, its HTTP route and its page.
func TestDailyReportAppEndToEnd(t *testing.T) {
	dir := buildAppBundle(t, "dailyreport", "daily-report", "manifest.json", "ui/write.html")
	e := newEnv(t, nil)
	inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "daily-report", BotUserID: "bot-daily", Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "daily-report")),
		Grants:   []plugins.Grant{{Scope: sdk.ScopeOrgchartRead, Subtree: "med"}, {Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeHTTPRoutes}},
		Settings: map[string]string{"department": "cardio", "reminder_conversation": "cardio-group"}}
	e.start(t, inst)
	reply, err := e.host.Command(context.Background(), core.Actor{UserID: "u-cardio", OrgID: "org1"}, "daily", "查房完成", "c")
	if err != nil || !strings.HasPrefix(reply, "已收到 ") {
		t.Fatalf("/daily = %q, %v", reply, err)
	}
	srv := httptest.NewServer(pluginhttp.Handler(e.host, headerAuth{}))
	defer srv.Close()
	get := func(path, user string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Org", "org1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	date := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if code, body := get("/plugins/daily-report/departments/cardio/reports?date="+date, "u-cardio"); code != 200 || !strings.Contains(body, "查房完成") {
		t.Fatalf("%d %s", code, body)
	}
	// The grant stops at the medicine subtree: the app cannot read ICU staff.
	if code, body := get("/plugins/daily-report/departments/icu/reports", "u-icu"); code != 403 || !strings.Contains(body, "outside") {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := get("/plugins/daily-report/ui/write", "u-cardio"); code != 200 || !strings.Contains(body, "写日报") {
		t.Fatalf("%d %s", code, body)
	}
}
