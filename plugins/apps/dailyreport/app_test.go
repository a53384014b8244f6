package main

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/plugins/sdk/sdktest"
)

func setup(t *testing.T, scopes ...string) (*dailyReport, *sdktest.Host, *time.Time) {
	t.Helper()
	if scopes == nil {
		scopes = []string{sdk.ScopeOrgchartRead, sdk.ScopeIMSend, sdk.ScopeIMDirect, sdk.ScopeHTTPRoutes}
	}
	host := sdktest.New(scopes...)
	host.Install.Settings = map[string]string{"department": "cardio", "reminder_conversation": "cardio-group", "reminder_hour": "17"}
	host.Members["cardio-group"] = true
	host.People = []sdk.Staff{{UserID: "u1", Name: "张三", DepartmentID: "cardio"}, {UserID: "u2", Name: "李四", DepartmentID: "cardio"},
		{UserID: "u3", Name: "王五", DepartmentID: "cardio"}, {UserID: "x", Name: "外人", DepartmentID: "icu"}}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, beijing)
	app := newApp()
	app.now = func() time.Time { return now }
	if err := host.Activate(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app, host, &now
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
	if err := m.ValidateSettings(map[string]string{"department": "cardio", "reminder_hour": "17"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("ui/" + m.Pages[0].File); err != nil {
		t.Fatal(err)
	}
}

func TestActivateNeedsDepartment(t *testing.T) {
	host := sdktest.New()
	if err := host.Activate(context.Background(), newApp()); !sdk.IsCode(err, sdk.CodeInvalid) {
		t.Fatalf("err = %v", err)
	}
}

func TestCommand(t *testing.T) {
	app, host, _ := setup(t)
	ctx := context.Background()
	cases := []struct {
		args, reply string
		code        sdk.Code
	}{
		{"", "用法: /daily 今天完成了…", ""},
		{"查房 12 床, 完成 2 台 PCI", "已收到 2026-11-26 的日报", ""},
		{strings.Repeat("字", maxReport+1), "", sdk.CodeTooLarge},
	}
	for _, c := range cases {
		reply, err := app.OnCommand(ctx, sdk.Command{Command: "daily", Args: c.args, Actor: sdk.Actor{UserID: "u1"}})
		if reply != c.reply || sdk.ErrorCode(err) != c.code {
			t.Errorf("/daily %.20q = %q, %v", c.args, reply, err)
		}
	}
	v, ok, _ := host.KVGet(ctx, "report/2026-11-26/u1")
	if !ok || !strings.Contains(string(v), "PCI") {
		t.Fatalf("stored %q", v)
	}
}

func serve(app *dailyReport, method, path, body, user string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r = r.WithContext(sdk.WithActor(r.Context(), sdk.Actor{UserID: user, OrgID: "org"}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	return w
}

func TestHTTP(t *testing.T) {
	app, _, _ := setup(t)
	cases := []struct {
		name, method, path, body, user string
		status                         int
		contains                       string
	}{
		{"submit", "POST", "/reports", `{"text":"夜班交接完成"}`, "u2", 201, `"date":"2026-11-26"`},
		{"empty", "POST", "/reports", `{"text":"  "}`, "u2", 400, "write something"},
		{"unknown field", "POST", "/reports", `{"txt":"x"}`, "u2", 400, "invalid"},
		{"mine", "GET", "/reports/mine", "", "u2", 200, "夜班交接完成"},
		{"department day", "GET", "/departments/cardio/reports?date=2026-11-26", "", "u1", 200, `"name":"李四","report"`},
		{"outsider refused", "GET", "/departments/cardio/reports", "", "x", 403, "only staff"},
		{"the app's department", "GET", "/reports/team?date=2026-11-26", "", "u1", 200, `"name":"李四","report"`},
		{"outsider refused the team", "GET", "/reports/team", "", "x", 403, "only staff"},
		{"bad date", "GET", "/departments/cardio/reports?date=26/11", "", "u1", 400, "YYYY-MM-DD"},
		{"unknown route", "GET", "/admin", "", "u1", 404, "no such route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(app, c.method, c.path, c.body, c.user)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}

func TestReminder(t *testing.T) {
	app, host, _ := setup(t)
	ctx := context.Background()
	if _, err := app.submit(ctx, "u1", "done"); err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) sdk.Job {
		return sdk.Job{Name: "reminder", At: time.Date(2026, 11, 26, h, m, 0, 0, beijing)}
	}
	for _, j := range []sdk.Job{at(16, 45), at(17, 0), at(17, 15), at(18, 0)} {
		if err := app.OnJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// Each person who has not written is told, once; the one who has is not.
	want := []sdktest.DirectMessage{
		{UserID: "u2", Text: "李四，您 2026-11-26 的日报还没有提交。请在应用中心「日报」的写日报页面填写，或在聊天里输入 /daily 今天完成的工作。"},
		{UserID: "u3", Text: "王五，您 2026-11-26 的日报还没有提交。请在应用中心「日报」的写日报页面填写，或在聊天里输入 /daily 今天完成的工作。"},
	}
	if len(host.Direct) != len(want) || host.Direct[0] != want[0] || host.Direct[1] != want[1] {
		t.Fatalf("direct = %+v", host.Direct)
	}
	// The group gets the list, once.
	if len(host.Sent) != 1 {
		t.Fatalf("sent %d lists, want exactly one: %+v", len(host.Sent), host.Sent)
	}
	if got := host.Sent[0]; got.ConversationID != "cardio-group" || got.Text != "2026-11-26 日报未交 (2/3): 李四、王五。已逐一私信提醒。" {
		t.Fatalf("list = %+v", got)
	}

	t.Run("without a group only the people are reminded", func(t *testing.T) {
		app, host, _ := setup(t)
		delete(app.inst.Settings, "reminder_conversation")
		if err := app.OnJob(ctx, at(17, 0)); err != nil {
			t.Fatal(err)
		}
		if len(host.Direct) != 3 || len(host.Sent) != 0 {
			t.Fatalf("direct %+v, sent %+v", host.Direct, host.Sent)
		}
	})
	t.Run("a reminder that cannot go fails visibly and is tried again, the others not twice", func(t *testing.T) {
		app, host, _ := setup(t)
		host.Members["cardio-group"] = false // the bot is not in the group (yet)
		err := app.OnJob(ctx, at(17, 0))
		if !sdk.IsCode(err, sdk.CodeForbidden) || !strings.Contains(err.Error(), "reminder conversation cardio-group") {
			t.Fatalf("err = %v", err)
		}
		if len(host.Direct) != 3 {
			t.Fatalf("direct = %+v", host.Direct)
		}
		host.Members["cardio-group"] = true
		if err := app.OnJob(ctx, at(17, 15)); err != nil {
			t.Fatal(err)
		}
		if len(host.Direct) != 3 || len(host.Sent) != 1 {
			t.Fatalf("after the retry: direct %+v, sent %+v", host.Direct, host.Sent)
		}
		if err := app.OnJob(ctx, at(17, 30)); err != nil || len(host.Direct) != 3 || len(host.Sent) != 1 {
			t.Fatalf("a third run sent again: %v %+v %+v", err, host.Direct, host.Sent)
		}
	})
	t.Run("without im:direct the reminder fails visibly", func(t *testing.T) {
		app, host, _ := setup(t, sdk.ScopeOrgchartRead, sdk.ScopeIMSend)
		err := app.OnJob(ctx, at(17, 0))
		if !sdk.IsCode(err, sdk.CodeForbidden) || !strings.Contains(err.Error(), "张三 (u1)") {
			t.Fatalf("err = %v", err)
		}
		if len(host.Sent) != 1 {
			t.Fatalf("the group still gets its list: %+v", host.Sent)
		}
	})
}
