package sdk_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roundshq/rounds/plugins/sdk"
)

func good() sdk.Manifest {
	return sdk.Manifest{ID: "daily-report", Name: "日报", Version: "1.2.0", Publisher: "ISV", MinServerVersion: "0.1.0",
		Executable: "app", Scopes: []string{sdk.ScopeIMSend, sdk.ScopeHTTPRoutes}, Hooks: []string{sdk.HookHTTP, sdk.HookJobs},
		Routes: []sdk.Route{{Method: "POST", Path: "/reports/{id}"}}, Pages: []sdk.Page{{Path: "/write", Title: "写日报", File: "write.html"}},
		Jobs: []sdk.JobSpec{{Name: "digest", Every: "24h"}}, Settings: []sdk.Setting{{Key: "hour", Label: "Hour", Type: "int"}}}
}

func TestManifestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*sdk.Manifest)
		field string
	}{
		{"valid", func(*sdk.Manifest) {}, ""},
		{"bad id", func(m *sdk.Manifest) { m.ID = "Daily Report" }, "id"},
		{"bad version", func(m *sdk.Manifest) { m.Version = "v1.2" }, "version"},
		{"bad min server version", func(m *sdk.Manifest) { m.MinServerVersion = "latest" }, "min_server_version"},
		{"unknown scope", func(m *sdk.Manifest) { m.Scopes = append(m.Scopes, "patients:read") }, "scopes[2]"},
		{"duplicate scope", func(m *sdk.Manifest) { m.Scopes = append(m.Scopes, sdk.ScopeIMSend) }, "scopes[2]"},
		{"unknown hook", func(m *sdk.Manifest) { m.Hooks = append(m.Hooks, "on_everything") }, "hooks[2]"},
		{"routes without http scope", func(m *sdk.Manifest) { m.Scopes = []string{sdk.ScopeIMSend} }, "routes"},
		{"route with ..", func(m *sdk.Manifest) { m.Routes[0].Path = "/a/../b" }, "routes[0].path"},
		{"route without slash", func(m *sdk.Manifest) { m.Routes[0].Path = "reports" }, "routes[0].path"},
		{"route method", func(m *sdk.Manifest) { m.Routes[0].Method = "TRACE" }, "routes[0].method"},
		{"page escaping ui", func(m *sdk.Manifest) { m.Pages[0].File = "../app" }, "pages[0].file"},
		{"job too frequent", func(m *sdk.Manifest) { m.Jobs[0].Every = "1s" }, "jobs[0].every"},
		{"setting type", func(m *sdk.Manifest) { m.Settings[0].Type = "float" }, "settings[0].type"},
		{"department setting", func(m *sdk.Manifest) {
			m.Settings = append(m.Settings, sdk.Setting{Key: "ward", Label: "病区", Description: "该病区的员工写日报", Type: "department", Required: true,
				I18n: map[string]sdk.SettingText{"en": {Label: "Ward", Description: "Staff of this ward write reports"}, "zh-CN": {Label: "病区"}}})
		}, ""},
		{"department setting with a default", func(m *sdk.Manifest) {
			m.Settings[0] = sdk.Setting{Key: "ward", Label: "Ward", Type: "department", Default: "0195f3c2-0000-7000-8000-000000000001"}
		}, "settings[0].default"},
		{"setting description too long", func(m *sdk.Manifest) { m.Settings[0].Description = strings.Repeat("长", 501) }, "settings[0].description"},
		{"setting language tag", func(m *sdk.Manifest) { m.Settings[0].I18n = map[string]sdk.SettingText{"English": {Label: "Hour"}} }, "settings[0].i18n.English"},
		{"setting translation empty", func(m *sdk.Manifest) { m.Settings[0].I18n = map[string]sdk.SettingText{"en": {Label: " "}} }, "settings[0].i18n.en"},
		{"setting translation too long", func(m *sdk.Manifest) {
			m.Settings[0].I18n = map[string]sdk.SettingText{"en": {Label: strings.Repeat("h", 101)}}
		}, "settings[0].i18n.en.label"},
		{"executable path", func(m *sdk.Manifest) { m.Executable = "../../bin/sh" }, "executable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.edit(&m)
			err := m.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*sdk.Error)
			if !ok || e.Code != sdk.CodeInvalid || e.Field != c.field {
				t.Fatalf("err = %v, want invalid %s", err, c.field)
			}
		})
	}
	t.Run("unknown JSON field", func(t *testing.T) {
		b, _ := json.Marshal(good())
		b = append(b[:len(b)-1], []byte(`,"root":true}`)...)
		if _, err := sdk.ParseManifest(b); !sdk.IsCode(err, sdk.CodeInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("route matching", func(t *testing.T) {
		m := good()
		if _, ok := m.MatchRoute("POST", "/reports/7"); !ok {
			t.Fatal("no match")
		}
		for _, p := range []string{"/reports", "/reports/", "/reports/7/x"} {
			if _, ok := m.MatchRoute("POST", p); ok {
				t.Fatalf("%s matched", p)
			}
		}
	})
}

// A department setting is filled like a string: required means an id must be
// given (the server checks that it names a department).
func TestValidateSettingsDepartment(t *testing.T) {
	m := good()
	m.Settings = append(m.Settings, sdk.Setting{Key: "ward", Label: "病区", Type: "department", Required: true})
	if err := m.ValidateSettings(map[string]string{"hour": "8"}); err == nil || err.(*sdk.Error).Field != "settings.ward" {
		t.Fatalf("missing department: err = %v", err)
	}
	if err := m.ValidateSettings(map[string]string{"ward": "0195f3c2-0000-7000-8000-000000000001"}); err != nil {
		t.Fatal(err)
	}
}

// The schema's texts survive the manifest's JSON both ways.
func TestSettingTextsJSON(t *testing.T) {
	m := good()
	m.Settings = []sdk.Setting{{Key: "ward", Label: "病区", Description: "写日报的病区", Type: "department",
		I18n: map[string]sdk.SettingText{"en": {Label: "Ward", Description: "The ward whose staff write reports"}}}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sdk.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Settings[0]; s.Description != "写日报的病区" || s.I18n["en"].Label != "Ward" || s.I18n["en"].Description != "The ward whose staff write reports" {
		t.Fatalf("settings %+v", got.Settings)
	}
}
