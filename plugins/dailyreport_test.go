package plugins_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	"github.com/roundshq/rounds/plugins/sdk"
)

// TestDailyReportAppEndToEnd installs the real 日报 app bundle and uses it
// through the host: the reminder job telling who has not written directly
// (and the department's group), a slash command, its HTTP route and its page.
func TestDailyReportAppEndToEnd(t *testing.T) {
	dir := buildAppBundle(t, "dailyreport", "daily-report", "manifest.json", "ui/write.html")
	e := newEnv(t, nil)
	e.msgs.add("cardio-group", "bot-daily", "u-cardio")
	beijing := time.FixedZone("CST", 8*3600)
	inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "daily-report", BotUserID: "bot-daily", Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "daily-report")),
		Grants:   []plugins.Grant{{Scope: sdk.ScopeOrgchartRead, Subtree: "med"}, {Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeIMDirect}, {Scope: sdk.ScopeHTTPRoutes}},
		// The reminder is due this hour, so the job run below sends it.
		Settings: map[string]string{"department": "cardio", "reminder_conversation": "cardio-group", "reminder_hour": strconv.Itoa(time.Now().In(beijing).Hour())}}
	e.start(t, inst)
	if err := e.host.RunJob(context.Background(), inst.ID, "reminder"); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(beijing).Format("2006-01-02")
	if got := e.msgs.Sent(); len(got) != 2 ||
		got[0] != "direct:u-cardio|bot-daily|张三，您 "+today+" 的日报还没有提交。请在应用中心「日报」的写日报页面填写，或在聊天里输入 /daily 今天完成的工作。" ||
		got[1] != "cardio-group|bot-daily|"+today+" 日报未交 (1/1): 张三。已逐一私信提醒。" {
		t.Fatalf("reminders = %q", got)
	}
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
