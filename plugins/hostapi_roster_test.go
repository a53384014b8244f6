package plugins_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// rosters is a fake rostering area: one setup, for any department the
// directory knows.
type rosters struct{ setup sdk.RosterSetup }

func (r rosters) Get(context.Context, string, string, string) (sdk.Roster, error) {
	return sdk.Roster{}, core.Errorf(core.ENotFound, "no roster")
}

func (r rosters) SaveDraft(_ context.Context, _, _ string, ro sdk.Roster) (sdk.Roster, error) {
	return ro, nil
}

func (r rosters) Setup(_ context.Context, _, dept, month string) (sdk.RosterSetup, error) {
	if _, ok := parents[dept]; !ok {
		return sdk.RosterSetup{}, core.Errorf(core.ENotFound, "no department %s", dept)
	}
	s := r.setup
	s.DepartmentID, s.Month = dept, month
	return s, nil
}

var wardSetup = sdk.RosterSetup{
	Shifts: []sdk.ShiftDefinition{
		{Code: "白", Name: "白班", Kind: "work", Start: 480, End: 960, Length: 480, Paid: 450},
		{Code: "N", Name: "N 班", Kind: "work", Start: 1320, End: 480, Length: 600, Paid: 540, Night: true, Requires: []string{"icu"}},
	},
	Rules: sdk.RosterRules{
		MinStaff:               []sdk.StaffingRule{{ShiftCode: "白", Min: 3, Severity: sdk.SeverityHard}},
		SkillMix:               []sdk.StaffingRule{{Skill: "senior_nurse", Min: 1, Severity: sdk.SeveritySoft}},
		MaxConsecutiveNights:   sdk.RuleLimit{Value: 3, Severity: sdk.SeverityHard},
		MinRestAfterNightHours: sdk.RuleLimit{Value: 24, Severity: sdk.SeverityHard},
		MaxHoursPerWeek:        sdk.RuleLimit{Value: 44, Severity: sdk.SeveritySoft},
		ApprovedLeave:          sdk.SeverityHard, Qualification: sdk.SeverityHard,
	},
	People: []sdk.RosterPerson{{UserID: "n1", Skills: []string{"senior_nurse"}, Qualifications: []string{"icu"}, Leave: []string{"2026-12-24", "2026-12-25"}},
		{UserID: "n2"}},
	Heads: []string{"head"},
}

// TestHostAPIRosterSetupAndDirectMessages: the calls of SDK v0.2.0 cross
// the wire whole, and the host applies their scopes (im:direct,
// roster:read with its subtree) with casbin, auditing refusals.
func TestHostAPIRosterSetupAndDirectMessages(t *testing.T) {
	e := newEnv(t, func(c *plugins.Config) { c.Rosters = rosters{setup: wardSetup} })
	e.msgs.add("ward5", "n1", "head")
	mk := func(appID string, grants ...plugins.Grant) plugins.Install {
		m := baseManifest(appID)
		m.Scopes = append(m.Scopes, sdk.ScopeIMDirect)
		dir := bundle(t, m)
		inst := plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: appID, BotUserID: "bot-" + appID, Dir: dir,
			Checksum: checksum(t, filepath.Join(dir, "testapp")), Grants: grants}
		e.start(t, inst)
		return inst
	}
	planner := mk("planner", plugins.Grant{Scope: sdk.ScopeIMDirect}, plugins.Grant{Scope: sdk.ScopeRosterRead})
	medOnly := mk("med-planner", plugins.Grant{Scope: sdk.ScopeRosterRead, Subtree: "med"})
	cases := []struct {
		name    string
		inst    plugins.Install
		cmd     string
		want    string
		denials int
	}{
		{"direct message to staff", planner, "dm head 排班草稿已生成", "ok", 0},
		{"direct message to someone who is not staff", planner, "dm stranger hi", "not_found", 0},
		{"direct message to the bot itself", planner, "dm bot-planner hi", "invalid", 0},
		{"empty direct message", planner, "dm head", "invalid", 0},
		{"oversized direct message", planner, "dm head " + strings.Repeat("x", sdk.MaxMessageText+1), "too_large", 0},
		{"direct message without im:direct is refused and audited", medOnly, "dm head hi", "forbidden", 1},
		{"roster setup without a department", planner, "setup", "invalid", 0},
		{"roster setup of an unknown department", planner, "setup nowhere 2026-12", "not_found", 0},
		{"roster setup inside the subtree grant", medOnly, "setup cardio 2026-12", "ok", 0},
		{"roster setup outside the subtree grant is refused and audited", medOnly, "setup icu 2026-12", "forbidden", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.audit.Denied())
			got := e.command(t, c.inst, c.cmd)
			if got != c.want && !strings.HasPrefix(got, c.want+" ") {
				t.Fatalf("%.60s = %.200q, want %q", c.cmd, got, c.want)
			}
			if d := len(e.audit.Denied()) - before; d != c.denials {
				t.Fatalf("audit denials = %d, want %d", d, c.denials)
			}
		})
	}
	t.Run("the direct message reached the person as the app's bot", func(t *testing.T) {
		sent := e.msgs.Sent()
		if len(sent) != 1 || sent[0] != "direct:head|bot-planner|排班草稿已生成" {
			t.Fatalf("sent = %q", sent)
		}
	})
	t.Run("every field of the setup crosses the wire", func(t *testing.T) {
		got := e.command(t, planner, "setup cardio 2026-12")
		var s sdk.RosterSetup
		if err := json.Unmarshal([]byte(strings.TrimPrefix(got, "ok ")), &s); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		want := wardSetup
		want.DepartmentID, want.Month = "cardio", "2026-12"
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("setup =\n%+v\nwant\n%+v", s, want)
		}
	})
	t.Run("denials name the scope", func(t *testing.T) {
		d := e.audit.Denied()
		if d[0].Details["scope"] != sdk.ScopeIMDirect || d[1].Details["scope"] != sdk.ScopeRosterRead || d[1].Details["object"] != "icu" {
			t.Fatalf("denials = %+v", d)
		}
	})
}
