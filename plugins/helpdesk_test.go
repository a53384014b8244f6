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

// TestHelpdeskAppEndToEnd installs the real IT 报修 app bundle and uses it
// through the host: /it in chat, the HTTP routes (assign, status, rating),
// the SLA job posting a reminder in the IT group, each status change reaching
// the requester (and each assignment the engineer) as a direct message, and
// its page.
func TestHelpdeskAppEndToEnd(t *testing.T) {
	dir := buildAppBundle(t, "helpdesk", "helpdesk", "manifest.json", "ui/mine.html")
	e := newEnv(t, nil)
	e.msgs.add("ward5", "bot-it", "nurse1")
	e.msgs.add("it-group", "bot-it", "e1", "e2", "head")
	inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "helpdesk", BotUserID: "bot-it", Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "helpdesk")),
		Grants:   []plugins.Grant{{Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeIMDirect}, {Scope: sdk.ScopeHTTPRoutes}},
		// A network ticket's response time is a millisecond here, so the
		// SLA job finds it late at once.
		Settings: map[string]string{"engineers": "e1,e2", "it_head": "head", "it_conversation": "it-group", "sla": "网络=1ms/1h"}}
	e.start(t, inst)
	ctx := context.Background()
	reply, err := e.host.Command(ctx, core.Actor{UserID: "nurse1", OrgID: "org1"}, "it", "网络 5病区护士站断网", "ward5")
	if err != nil || !strings.HasPrefix(reply, "已受理报修 #1 [网络], 工程师 @e1") {
		t.Fatalf("/it = %q, %v", reply, err)
	}
	srv := httptest.NewServer(pluginhttp.Handler(e.host, headerAuth{}))
	defer srv.Close()
	do := func(method, path, body, user string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-Test-User", user)
		req.Header.Set("X-Test-Org", "org1")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	time.Sleep(5 * time.Millisecond)
	if err := e.host.RunJob(ctx, inst.ID, "sla"); err != nil {
		t.Fatal(err)
	}
	sent := func(prefix string) bool {
		for _, s := range e.msgs.Sent() {
			if strings.HasPrefix(s, prefix) {
				return true
			}
		}
		return false
	}
	if !sent("it-group|bot-it|@e1 报修 #1 [网络] 已超过响应时限") {
		t.Fatalf("no SLA reminder: %q", e.msgs.Sent())
	}
	steps := []struct {
		method, path, body, user string
		status                   int
		contains                 string
	}{
		{"GET", "/plugins/helpdesk/tickets", "", "nurse1", 200, "5病区护士站断网"},
		{"POST", "/plugins/helpdesk/tickets/1/rating", `{"score":5}`, "nurse1", 409, "once it is resolved"},
		{"POST", "/plugins/helpdesk/tickets/1/assign", `{"assignee":"e2"}`, "head", 200, `"assignee_id":"e2"`},
		{"POST", "/plugins/helpdesk/tickets/1/status", `{"status":"in_progress"}`, "e2", 200, `"status":"in_progress"`},
		{"POST", "/plugins/helpdesk/tickets/1/status", `{"status":"resolved"}`, "e2", 200, `"status":"resolved"`},
		{"POST", "/plugins/helpdesk/tickets/1/rating", `{"score":5}`, "e2", 403, "only the requester"},
		{"POST", "/plugins/helpdesk/tickets/1/rating", `{"score":5,"comment":"谢谢"}`, "nurse1", 200, `"status":"closed"`},
		{"DELETE", "/plugins/helpdesk/tickets/1", "", "head", 404, ""},
		{"GET", "/plugins/helpdesk/ui/mine", "", "nurse1", 200, "我的报修"},
	}
	for _, s := range steps {
		if code, body := do(s.method, s.path, s.body, s.user); code != s.status || !strings.Contains(body, s.contains) {
			t.Fatalf("%s %s as %s: %d %s", s.method, s.path, s.user, code, body)
		}
	}
	// The requester heard of every change in her direct conversation with
	// the bot, the engineers of the tickets given to them; nothing went to
	// the ward's group where /it was typed.
	var toNurse []string
	for _, s := range e.msgs.Sent() {
		if rest, ok := strings.CutPrefix(s, "direct:nurse1|bot-it|"); ok {
			toNurse = append(toNurse, rest)
		}
		if strings.HasPrefix(s, "ward5|") {
			t.Errorf("posted in the ward's group: %q", s)
		}
	}
	want := []string{
		"报修 #1 状态: 已分派，工程师将于 ",
		"报修 #1 状态: 已分派，工程师将于 ", // reassigned to e2
		"报修 #1 状态: 处理中，工程师已接单 — 【网络】5病区护士站断网",
		"报修 #1 状态: 已解决，请评价 (1–5 分) — 【网络】5病区护士站断网",
		"报修 #1 状态: 已关闭，感谢您的评价 (5 分) — 【网络】5病区护士站断网",
	}
	if len(toNurse) != len(want) {
		t.Fatalf("the requester was told %q", toNurse)
	}
	for i := range want {
		if !strings.HasPrefix(toNurse[i], want[i]) {
			t.Errorf("message %d = %q, want %q…", i, toNurse[i], want[i])
		}
	}
	if !sent("direct:e1|bot-it|新派单: 报修 #1【网络】5病区护士站断网") || !sent("direct:e2|bot-it|新派单: 报修 #1【网络】5病区护士站断网") {
		t.Fatalf("engineers not told: %q", e.msgs.Sent())
	}
}

// TestHelpdeskLogsWhatItCannotSend runs the real app without im:direct and
// with its bot outside the IT group: tickets still move, and every message
// that could not go is in the server's log under the app's id, at warning
// level, saying why.
func TestHelpdeskLogsWhatItCannotSend(t *testing.T) {
	dir := buildAppBundle(t, "helpdesk", "helpdesk", "manifest.json", "ui/mine.html")
	e := newEnv(t, nil)
	e.msgs.add("it-group", "e1", "head") // the bot was never added
	e.msgs.add("ward5", "nurse1")
	inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: "helpdesk", BotUserID: "bot-it", Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "helpdesk")),
		Grants:   []plugins.Grant{{Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeHTTPRoutes}},
		Settings: map[string]string{"engineers": "e1", "it_conversation": "it-group"}}
	e.start(t, inst)
	reply, err := e.host.Command(context.Background(), core.Actor{UserID: "nurse1", OrgID: "org1"}, "it", "打印机 卡纸", "ward5")
	if err != nil || !strings.HasPrefix(reply, "已受理报修 #1 [打印机]") {
		t.Fatalf("/it = %q, %v", reply, err)
	}
	if got := e.msgs.Sent(); len(got) != 0 {
		t.Fatalf("sent %q", got)
	}
	waitFor(t, "the failures in the log", 5*time.Second, func() bool {
		logs := e.logs.String()
		return strings.Count(logs, "cannot send a direct message") == 2 && strings.Contains(logs, "cannot post to the IT group")
	})
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(line, "cannot ") {
			continue
		}
		if !strings.Contains(line, "app_id=helpdesk") || !strings.Contains(line, "install_id="+inst.ID) || !strings.Contains(line, "level=WARN") || strings.Contains(line, "[WARN]") {
			t.Errorf("log line without the app, the install or the level: %s", line)
		}
		if strings.Contains(line, "direct message") && !strings.Contains(line, "code=forbidden") {
			t.Errorf("log line without the reason: %s", line)
		}
		if strings.Contains(line, "IT group") && !strings.Contains(line, "not a member") {
			t.Errorf("log line without the reason: %s", line)
		}
	}
}
