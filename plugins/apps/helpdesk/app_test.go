package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/plugins/sdk/sdktest"
)

// fakeClock is the test's time; tests move it forward.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time                { return c.t }
func (c *fakeClock) add(d time.Duration) time.Time { c.t = c.t.Add(d); return c.t }

func setup(t *testing.T, settings map[string]string, scopes ...string) (*helpdesk, *sdktest.Host, *fakeClock) {
	t.Helper()
	app, host, clock, _ := setupLogged(t, settings, scopes...)
	return app, host, clock
}

// setupLogged also returns what the app logs.
func setupLogged(t *testing.T, settings map[string]string, scopes ...string) (*helpdesk, *sdktest.Host, *fakeClock, *bytes.Buffer) {
	t.Helper()
	if scopes == nil {
		scopes = []string{sdk.ScopeIMSend, sdk.ScopeIMDirect, sdk.ScopeHTTPRoutes}
	}
	host := sdktest.New(scopes...)
	host.Install.Settings = map[string]string{"engineers": "e1, e2,e3", "it_head": "head", "it_conversation": "it-group",
		"sla": "网络=15m/2h;HIS/系统账号=10m/1h"}
	for k, v := range settings {
		host.Install.Settings[k] = v
	}
	host.Members["it-group"] = true
	host.Members["ward5"] = true
	// The organisation's staff, whom direct messages reach.
	for _, u := range []string{"e1", "e2", "e3", "head", "nurse1", "nurse2", "nurse3"} {
		host.People = append(host.People, sdk.Staff{UserID: u, Name: u})
	}
	clock := &fakeClock{time.Date(2026, 11, 26, 9, 0, 0, 0, beijing)}
	app := newApp()
	app.now = clock.now
	logs := &bytes.Buffer{}
	app.log = hclog.New(&hclog.LoggerOptions{Name: "helpdesk", Output: logs, JSONFormat: true})
	if err := host.Activate(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app, host, clock, logs
}

// directTo lists the direct messages the app sent to user.
func directTo(host *sdktest.Host, user string) []string {
	var out []string
	for _, m := range host.Direct {
		if m.UserID == user {
			out = append(out, m.Text)
		}
	}
	return out
}

func sentTo(host *sdktest.Host, conv string) []string {
	var out []string
	for _, m := range host.Sent {
		if m.ConversationID == conv {
			out = append(out, m.Text)
		}
	}
	return out
}

func last(texts []string) string {
	if len(texts) == 0 {
		return ""
	}
	return texts[len(texts)-1]
}

func TestManifestIsValid(t *testing.T) {
	b, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "helpdesk" {
		t.Fatalf("id %q", m.ID)
	}
	if err := m.ValidateSettings(map[string]string{"engineers": "e1,e2", "it_head": "head", "response_minutes": "30"}); err != nil {
		t.Fatal(err)
	}
	if err := m.ValidateSettings(map[string]string{}); !sdk.IsCode(err, sdk.CodeInvalid) {
		t.Fatalf("engineers must be required: %v", err)
	}
	if _, err := os.Stat("ui/" + m.Pages[0].File); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tickets", "/tickets/12/assign", "/tickets/12/status", "/tickets/12/rating", "/categories"} {
		if _, ok := m.MatchRoute("POST", p); !ok {
			if _, ok := m.MatchRoute("GET", p); !ok {
				t.Errorf("no route for %s", p)
			}
		}
	}
}

func TestActivateRefusesBadSettings(t *testing.T) {
	for name, set := range map[string]map[string]string{
		"no engineers": {},
		"sla syntax":   {"engineers": "e1", "sla": "网络=15m"},
		"sla category": {"engineers": "e1", "sla": "手机=15m/1h"},
		"sla order":    {"engineers": "e1", "sla": "网络=2h/15m"},
		"assignment":   {"engineers": "e1", "assignment": "random"},
	} {
		host := sdktest.New()
		host.Install.Settings = set
		if err := host.Activate(context.Background(), newApp()); !sdk.IsCode(err, sdk.CodeInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestOpenByCommand(t *testing.T) {
	app, host, _ := setup(t, nil)
	ctx := context.Background()
	cmd := func(user, args string) (string, error) {
		return app.OnCommand(ctx, sdk.Command{Command: "it", Args: args, ConversationID: "ward5", Actor: sdk.Actor{UserID: user}})
	}
	if reply, err := cmd("nurse1", "  "); err != nil || !strings.HasPrefix(reply, "用法") {
		t.Fatalf("empty: %q %v", reply, err)
	}
	reply, err := cmd("nurse1", "网络 5病区护士站断网")
	if err != nil {
		t.Fatal(err)
	}
	if want := "已受理报修 #1 [网络], 工程师 @e1, 响应时限 09:15, 解决时限 11-26 11:00。查询: /it status 1"; reply != want {
		t.Fatalf("reply = %q\nwant    %q", reply, want)
	}
	tk, err := app.load(ctx, 1)
	if err != nil || tk.Description != "5病区护士站断网" || tk.RequesterID != "nurse1" || tk.ConversationID != "ward5" ||
		tk.Status != StatusAssigned || tk.AssigneeID != "e1" {
		t.Fatalf("stored %+v %v", tk, err)
	}
	if got := last(sentTo(host, "it-group")); !strings.Contains(got, "新报修 #1 [网络]") || !strings.Contains(got, "@e1") {
		t.Fatalf("IT group told %q", got)
	}
	// The requester and the engineer hear of the assignment directly.
	if got := directTo(host, "nurse1"); len(got) != 1 || got[0] != "报修 #1 状态: 已分派，工程师将于 09:15 前响应 — 【网络】5病区护士站断网" {
		t.Fatalf("requester told %q", got)
	}
	if got := directTo(host, "e1"); len(got) != 1 || got[0] != "新派单: 报修 #1【网络】5病区护士站断网 — 应于 09:15 前响应、11-26 11:00 前解决，请在「IT 报修」的工单台接单" {
		t.Fatalf("engineer told %q", got)
	}
	if got := sentTo(host, "ward5"); len(got) != 0 {
		t.Fatalf("posted in the conversation /it was typed in: %q", got)
	}

	// The category is guessed from the text, the catch-all otherwise.
	for args, cat := range map[string]string{"3楼打印机卡纸": "打印机", "his 登录不了": "HIS/系统账号", "忘记系统账号密码": "HIS/系统账号", "鼠标坏了": "其他"} {
		if _, err := cmd("nurse1", args); err != nil {
			t.Fatal(err)
		}
		keys, _ := host.KVKeys(ctx, "t/", 0)
		v, _, _ := host.KVGet(ctx, keys[len(keys)-1])
		var got Ticket
		_ = json.Unmarshal(v, &got)
		if got.Category != cat {
			t.Errorf("%q → %q, want %q", args, got.Category, cat)
		}
	}

	// Status: the requester and IT staff, nobody else.
	if reply, err := cmd("nurse1", "status 1"); err != nil || !strings.Contains(reply, "#1 [网络] 5病区护士站断网 — 已分派, 工程师 @e1") {
		t.Fatalf("status: %q %v", reply, err)
	}
	if _, err := cmd("e3", "status #1"); err != nil {
		t.Fatalf("engineer status: %v", err)
	}
	if _, err := cmd("doctor9", "status 1"); !sdk.IsCode(err, sdk.CodeForbidden) {
		t.Fatalf("stranger status: %v", err)
	}
	if _, err := cmd("nurse1", "status 99"); !sdk.IsCode(err, sdk.CodeNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := cmd("nurse1", "status abc"); !sdk.IsCode(err, sdk.CodeInvalid) {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := cmd("nurse1", strings.Repeat("慢", maxDescription+1)); !sdk.IsCode(err, sdk.CodeTooLarge) {
		t.Fatalf("too long: %v", err)
	}
	if _, err := app.OnCommand(ctx, sdk.Command{Command: "daily", Actor: sdk.Actor{UserID: "x"}}); !sdk.IsCode(err, sdk.CodeNotFound) {
		t.Fatalf("other command: %v", err)
	}
}

func TestRoundRobinAndManualAssignment(t *testing.T) {
	app, host, _ := setup(t, nil)
	ctx := context.Background()
	var got []string
	for i := 0; i < 7; i++ {
		tk, err := app.open(ctx, "nurse1", "电脑", "蓝屏", "ward5")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tk.AssigneeID)
	}
	if s := strings.Join(got, ","); s != "e1,e2,e3,e1,e2,e3,e1" {
		t.Fatalf("round robin = %s", s)
	}
	// Reassigning: to a named engineer, or the next in turn.
	tk, err := app.assign(ctx, "head", 1, "e3")
	if err != nil || tk.AssigneeID != "e3" {
		t.Fatalf("assign = %+v %v", tk, err)
	}
	if got := last(directTo(host, "nurse1")); got != "报修 #1 状态: 已分派，工程师将于 09:30 前响应 — 【电脑】蓝屏" {
		t.Fatalf("requester told %q", got)
	}
	if got := last(directTo(host, "e3")); !strings.HasPrefix(got, "新派单: 报修 #1【电脑】蓝屏") {
		t.Fatalf("engineer told %q", got)
	}
	if tk, err = app.assign(ctx, "e1", 2, ""); err != nil || tk.AssigneeID != "e2" {
		t.Fatalf("next in turn = %+v %v", tk, err)
	}
	if _, err := app.assign(ctx, "nurse1", 1, "e1"); !sdk.IsCode(err, sdk.CodeForbidden) {
		t.Fatalf("non-engineer assigns: %v", err)
	}
	if _, err := app.assign(ctx, "head", 1, "nurse1"); !sdk.IsCode(err, sdk.CodeInvalid) {
		t.Fatalf("assign to a non-engineer: %v", err)
	}

	t.Run("manual", func(t *testing.T) {
		app, _, _ := setup(t, map[string]string{"assignment": "manual"})
		tk, err := app.open(ctx, "nurse1", "", "键盘失灵", "")
		if err != nil || tk.Status != StatusNew || tk.AssigneeID != "" || tk.Category != "其他" {
			t.Fatalf("open = %+v %v", tk, err)
		}
		if _, err := app.setStatus(ctx, "e1", tk.ID, StatusInProgress); !sdk.IsCode(err, sdk.CodeConflict) {
			t.Fatalf("start before assignment: %v", err)
		}
		if tk, err = app.assign(ctx, "e2", tk.ID, ""); err != nil || tk.Status != StatusAssigned || tk.AssigneeID != "e1" {
			t.Fatalf("assign = %+v %v", tk, err)
		}
	})
}

func TestStatusFlowAndRating(t *testing.T) {
	app, host, clock := setup(t, nil)
	ctx := context.Background()
	tk, err := app.open(ctx, "nurse1", "打印机", "打印机卡纸", "ward5")
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(what string, err error, code sdk.Code, msg string) {
		t.Helper()
		if !sdk.IsCode(err, code) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: err = %v, want %s containing %q", what, err, code, msg)
		}
	}
	_, err = app.rate(ctx, "nurse1", tk.ID, 5, "")
	refuse("rating before resolution", err, sdk.CodeConflict, "rate it once it is resolved")
	_, err = app.setStatus(ctx, "e1", tk.ID, StatusClosed)
	refuse("assigned → closed", err, sdk.CodeConflict, "cannot go from assigned to closed")
	_, err = app.setStatus(ctx, "e1", tk.ID, "done")
	refuse("unknown status", err, sdk.CodeInvalid, `unknown status "done"`)
	_, err = app.setStatus(ctx, "nurse1", tk.ID, StatusResolved)
	refuse("requester resolves", err, sdk.CodeForbidden, "only IT engineers")
	_, err = app.setStatus(ctx, "e1", 42, StatusResolved)
	refuse("missing ticket", err, sdk.CodeNotFound, "no ticket #42")

	clock.add(10 * time.Minute)
	if tk, err = app.setStatus(ctx, "e1", tk.ID, StatusInProgress); err != nil || tk.RespondedAt.IsZero() {
		t.Fatalf("start: %+v %v", tk, err)
	}
	if got := last(directTo(host, "nurse1")); got != "报修 #1 状态: 处理中，工程师已接单 — 【打印机】打印机卡纸" {
		t.Fatalf("requester told %q", got)
	}
	_, err = app.setStatus(ctx, "e1", tk.ID, StatusInProgress)
	refuse("in_progress → in_progress", err, sdk.CodeConflict, "cannot go from in_progress to in_progress")
	if tk, err = app.setStatus(ctx, "e1", tk.ID, StatusResolved); err != nil {
		t.Fatal(err)
	}
	if got := last(directTo(host, "nurse1")); got != "报修 #1 状态: 已解决，请评价 (1–5 分) — 【打印机】打印机卡纸" {
		t.Fatalf("requester told %q", got)
	}
	_, err = app.rate(ctx, "e1", tk.ID, 5, "")
	refuse("rating by someone else", err, sdk.CodeForbidden, "only the requester rates")
	_, err = app.rate(ctx, "nurse1", tk.ID, 6, "")
	refuse("rating 6", err, sdk.CodeInvalid, "1 to 5")
	_, err = app.rate(ctx, "nurse1", tk.ID, 0, "")
	refuse("rating 0", err, sdk.CodeInvalid, "1 to 5")

	// The requester may reopen a resolved ticket…
	if tk, err = app.setStatus(ctx, "nurse1", tk.ID, StatusInProgress); err != nil || !tk.ResolvedAt.IsZero() {
		t.Fatalf("reopen: %+v %v", tk, err)
	}
	if got := last(directTo(host, "nurse1")); got != "报修 #1 状态: 处理中（已重新打开） — 【打印机】打印机卡纸" {
		t.Fatalf("requester told %q", got)
	}
	_, err = app.setStatus(ctx, "nurse1", tk.ID, StatusResolved)
	refuse("requester resolves after reopening", err, sdk.CodeForbidden, "only IT engineers")
	if _, err = app.setStatus(ctx, "e1", tk.ID, StatusResolved); err != nil {
		t.Fatal(err)
	}
	// …and rating closes it, once.
	if tk, err = app.rate(ctx, "nurse1", tk.ID, 4, " 很快 "); err != nil || tk.Status != StatusClosed || tk.Rating != 4 || tk.RatingComment != "很快" {
		t.Fatalf("rate: %+v %v", tk, err)
	}
	if got := last(directTo(host, "nurse1")); got != "报修 #1 状态: 已关闭，感谢您的评价 (4 分) — 【打印机】打印机卡纸" {
		t.Fatalf("requester told %q", got)
	}
	if got := last(sentTo(host, "it-group")); got != "@e1 报修 #1 评价 4 分 很快" {
		t.Fatalf("engineer told %q", got)
	}
	_, err = app.rate(ctx, "nurse1", tk.ID, 5, "")
	refuse("second rating", err, sdk.CodeConflict, "already rated")
	_, err = app.setStatus(ctx, "e1", tk.ID, StatusInProgress)
	refuse("closed → in_progress", err, sdk.CodeConflict, "cannot go from closed")
	if keys, _ := host.KVKeys(ctx, "open/", 0); len(keys) != 0 {
		t.Fatalf("closed ticket still indexed as open: %v", keys)
	}
	// A ticket closed without a rating can still be rated once.
	tk2, _ := app.open(ctx, "nurse1", "电脑", "开不了机", "ward5")
	app.setStatus(ctx, tk2.AssigneeID, tk2.ID, StatusResolved)
	app.setStatus(ctx, "nurse1", tk2.ID, StatusClosed)
	if got := last(directTo(host, "nurse1")); got != "报修 #2 状态: 已关闭 — 【电脑】开不了机" {
		t.Fatalf("requester told %q", got)
	}
	n := len(host.Direct)
	if tk2, err = app.rate(ctx, "nurse1", tk2.ID, 3, ""); err != nil || tk2.Rating != 3 {
		t.Fatalf("rate closed: %+v %v", tk2, err)
	}
	if len(host.Direct) != n {
		t.Fatalf("rating a closed ticket changes no status, yet: %+v", host.Direct[n:])
	}
	// Every status change reached the requester, in order.
	want := []string{"已分派", "处理中", "已解决", "处理中", "已解决", "已关闭"}
	var got []string
	for _, m := range directTo(host, "nurse1") {
		if rest, ok := strings.CutPrefix(m, "报修 #1 状态: "); ok {
			got = append(got, string([]rune(rest)[:3])) // every status is three characters
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("statuses told = %v, want %v", got, want)
	}
}

func TestSLABreachReminders(t *testing.T) {
	app, host, clock := setup(t, nil)
	ctx := context.Background()
	net, _ := app.open(ctx, "nurse1", "网络", "5病区断网", "ward5") // e1; respond 09:15, resolve 11:00
	host.Members["ward6"] = true
	pc, _ := app.open(ctx, "nurse2", "电脑", "电脑蓝屏", "ward6") // e2; respond 09:30, resolve 17:00
	job := func() {
		t.Helper()
		if err := app.OnJob(ctx, sdk.Job{Name: "sla", At: clock.now()}); err != nil {
			t.Fatal(err)
		}
	}
	before := len(host.Sent)
	clock.add(14 * time.Minute)
	job()
	if len(host.Sent) != before {
		t.Fatalf("reminded before any deadline: %v", host.Sent[before:])
	}

	clock.add(2 * time.Minute) // 09:16: the network ticket missed its response time
	job()
	job() // once per breach
	got := sentTo(host, "it-group")[2:]
	if len(got) != 1 || got[0] != "@e1 报修 #1 [网络] 已超过响应时限 (09:15), 请尽快处理: 5病区断网" {
		t.Fatalf("reminders = %q", got)
	}

	// The PC engineer responds in time; the network one still has not.
	app.setStatus(ctx, "e2", pc.ID, StatusInProgress)
	clock.t = time.Date(2026, 11, 26, 11, 5, 0, 0, beijing)
	job()
	got = sentTo(host, "it-group")[3:]
	if len(got) != 1 || got[0] != "@e1 报修 #1 [网络] 已超过解决时限 (11-26 11:00), 当前 已分派: 5病区断网 — 已升级至 @head" {
		t.Fatalf("escalation = %q", got)
	}
	job()
	if n := len(sentTo(host, "it-group")); n != 4 {
		t.Fatalf("escalated again: %d messages", n)
	}

	// Resolved in time: no reminder.
	app.setStatus(ctx, "e1", net.ID, StatusResolved)
	app.setStatus(ctx, "e2", pc.ID, StatusResolved)
	clock.t = time.Date(2026, 11, 26, 18, 0, 0, 0, beijing)
	job()
	if n := len(sentTo(host, "it-group")); n != 4 {
		t.Fatalf("reminded about resolved tickets: %q", sentTo(host, "it-group")[4:])
	}

	// Nobody rates them: closed after 72 hours, requesters told.
	clock.add(73 * time.Hour)
	job()
	if got := last(directTo(host, "nurse2")); got != "报修 #2 状态: 已关闭（已解决 72 小时未评价，自动关闭） — 【电脑】电脑蓝屏" {
		t.Fatalf("auto close: %q", got)
	}
	if keys, _ := host.KVKeys(ctx, "open/", 0); len(keys) != 0 {
		t.Fatalf("open index %v", keys)
	}

	t.Run("a reminder that cannot be sent is tried again", func(t *testing.T) {
		app, host, clock := setup(t, nil)
		app.open(ctx, "nurse1", "网络", "断网", "ward5")
		host.Members["it-group"] = false
		clock.add(20 * time.Minute)
		if err := app.OnJob(ctx, sdk.Job{Name: "sla", At: clock.now()}); !sdk.IsCode(err, sdk.CodeForbidden) {
			t.Fatalf("err = %v", err)
		}
		host.Members["it-group"] = true
		if err := app.OnJob(ctx, sdk.Job{Name: "sla", At: clock.now()}); err != nil {
			t.Fatal(err)
		}
		if got := last(sentTo(host, "it-group")); !strings.Contains(got, "已超过响应时限") {
			t.Fatalf("retry: %q", got)
		}
	})
}

func serve(app *helpdesk, method, path, body, user string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if user != "" {
		r = r.WithContext(sdk.WithActor(r.Context(), sdk.Actor{UserID: user, OrgID: "org"}))
	}
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	return w
}

func TestHTTP(t *testing.T) {
	app, host, _ := setup(t, nil)
	cases := []struct {
		name, method, path, body, user string
		status                         int
		contains                       string
	}{
		{"anonymous", "GET", "/tickets", "", "", 401, "sign in"},
		{"categories", "GET", "/categories", "", "nurse1", 200, `{"name":"网络","response_minutes":15,"resolution_minutes":120}`},
		{"create", "POST", "/tickets", `{"category":"打印机","description":"打印机缺墨","conversation_id":"ward5"}`, "nurse1", 201, `"assignee_id":"e1","status":"assigned"`},
		{"create other", "POST", "/tickets", `{"category":"电脑","description":"电脑慢"}`, "nurse2", 201, `"id":2`},
		{"bad category", "POST", "/tickets", `{"category":"手机","description":"x"}`, "nurse1", 400, `"field":"category"`},
		{"empty", "POST", "/tickets", `{"description":" "}`, "nurse1", 400, "describe the problem"},
		{"unknown field", "POST", "/tickets", `{"desc":"x"}`, "nurse1", 400, "bad JSON"},
		{"mine", "GET", "/tickets", "", "nurse1", 200, "打印机缺墨"},
		{"mine only", "GET", "/tickets", "", "nurse3", 200, `{"items":[]}`},
		{"open for engineers", "GET", "/tickets?scope=open", "", "e3", 200, "电脑慢"},
		{"open refused", "GET", "/tickets?scope=open", "", "nurse1", 403, "only IT engineers"},
		{"one", "GET", "/tickets/1", "", "nurse1", 200, `"id":1`},
		{"someone else's", "GET", "/tickets/1", "", "nurse2", 403, "someone else's"},
		{"missing", "GET", "/tickets/9", "", "e1", 404, "no ticket #9"},
		{"assign", "POST", "/tickets/1/assign", `{"assignee":"e2"}`, "head", 200, `"assignee_id":"e2"`},
		{"assign refused", "POST", "/tickets/1/assign", `{}`, "nurse1", 403, "only IT engineers"},
		{"rate early", "POST", "/tickets/1/rating", `{"score":5}`, "nurse1", 409, "once it is resolved"},
		{"start", "POST", "/tickets/1/status", `{"status":"in_progress"}`, "e2", 200, `"status":"in_progress"`},
		{"bad transition", "POST", "/tickets/1/status", `{"status":"closed"}`, "e2", 409, "cannot go from in_progress to closed"},
		{"resolve", "POST", "/tickets/1/status", `{"status":"resolved"}`, "e2", 200, `"status":"resolved"`},
		{"rate by other", "POST", "/tickets/1/rating", `{"score":5}`, "e2", 403, "only the requester"},
		{"rate", "POST", "/tickets/1/rating", `{"score":5,"comment":"谢谢"}`, "nurse1", 200, `"rating":5`},
		{"rate twice", "POST", "/tickets/1/rating", `{"score":1}`, "nurse1", 409, "already rated"},
		{"bad id", "POST", "/tickets/x/status", `{"status":"resolved"}`, "e1", 400, "ticket number"},
		{"unknown action", "POST", "/tickets/1/delete", `{}`, "e1", 404, "no such route"},
		{"unknown route", "GET", "/admin", "", "e1", 404, "no such route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(app, c.method, c.path, c.body, c.user)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
	// The form ticket without a conversation went to the IT group only.
	if got := sentTo(host, ""); len(got) != 0 {
		t.Fatalf("sent to an empty conversation: %q", got)
	}
}

func TestReassignTellsTheEngineer(t *testing.T) {
	app, host, _ := setup(t, nil)
	ctx := context.Background()
	tk, _ := app.open(ctx, "nurse1", "电脑", "蓝屏", "ward5")
	if _, err := app.assign(ctx, "head", tk.ID, "e2"); err != nil {
		t.Fatal(err)
	}
	if got := directTo(host, "e2"); len(got) != 1 || got[0] != "新派单: 报修 #1【电脑】蓝屏 — 应于 09:30 前响应、11-26 17:00 前解决，请在「IT 报修」的工单台接单" {
		t.Fatalf("engineer told %q", got)
	}
}

// A message that cannot go changes nothing of the ticket, and the app logs
// why (hclog JSON on stderr, which the host reads into the server's log).
func TestFailedMessagesAreLogged(t *testing.T) {
	ctx := context.Background()
	t.Run("no im:direct", func(t *testing.T) {
		app, host, _, logs := setupLogged(t, nil, sdk.ScopeIMSend, sdk.ScopeHTTPRoutes)
		tk, err := app.open(ctx, "nurse1", "打印机", "卡纸", "")
		if err != nil || tk.Status != StatusAssigned {
			t.Fatalf("open = %+v %v", tk, err)
		}
		if tk, err = app.setStatus(ctx, "e1", tk.ID, StatusResolved); err != nil || tk.Status != StatusResolved {
			t.Fatalf("resolve = %+v %v", tk, err)
		}
		if len(host.Direct) != 0 {
			t.Fatalf("direct messages without the scope: %+v", host.Direct)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not an hclog JSON line: %q", l)
			}
			lines = append(lines, m)
		}
		// Told the requester (assigned), the engineer, the requester (resolved).
		if len(lines) != 3 {
			t.Fatalf("logged %d lines: %s", len(lines), logs)
		}
		for i, to := range []string{"nurse1", "e1", "nurse1"} {
			l := lines[i]
			if l["@level"] != "warn" || l["@message"] != "cannot send a direct message" || l["to"] != to || l["code"] != "forbidden" || l["ticket"] != float64(1) {
				t.Errorf("line %d = %v", i, l)
			}
		}
	})
	t.Run("bot not in the IT group", func(t *testing.T) {
		app, host, clock, logs := setupLogged(t, nil)
		host.Members["it-group"] = false
		if _, err := app.open(ctx, "nurse1", "网络", "断网", ""); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), `"@message":"cannot post to the IT group"`) || !strings.Contains(logs.String(), `"conversation":"it-group"`) {
			t.Fatalf("logs = %s", logs)
		}
		if len(directTo(host, "nurse1")) != 1 {
			t.Fatalf("the requester is told all the same: %+v", host.Direct)
		}
		clock.add(20 * time.Minute)
		if err := app.OnJob(ctx, sdk.Job{Name: "sla", At: clock.now()}); !sdk.IsCode(err, sdk.CodeForbidden) {
			t.Fatalf("SLA job: %v", err)
		}
		if !strings.Contains(logs.String(), "cannot post an SLA reminder to the IT group") {
			t.Fatalf("logs = %s", logs)
		}
	})
}
