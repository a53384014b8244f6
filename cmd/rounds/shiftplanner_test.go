package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/roster"
)

// TestShiftPlannerAppEndToEnd runs the real 智能排班 app process in a whole
// Rounds node (demo hospital, SQLite, the roster service, chat): the head
// nurse asks for next month's roster of her ward, and the draft the app
// saves has no violation by the roster service's own check, spreads nights
// and weekend shifts within one, keeps a nurse off her approved leave, is not
// published, and the head nurse finds the summary in chat. A nurse of the
// ward may not ask, by command or by the app's route.
func TestShiftPlannerAppEndToEnd(t *testing.T) {
	// The app says min_server_version 0.1.0; this development build
	// (0.1.0-dev) counts as 0.1.0 (plugins.serverMeets).
	f := newDemoFixture(t)
	s := f.s
	ctx := context.Background()
	svc := s.app.areas.roster

	// The hospital works 三班倒; the ward keeps the default rules
	// (白 3, 小 2, 大 2 a day, a senior nurse on every night, at most 3
	// nights in a row, 24 h rest after nights, 44 h a week).
	if code := s.do("POST", "/api/v1/orgs/"+f.org+"/shift-patterns/three_shift", f.admin, nil, nil); code != 200 {
		t.Fatalf("pattern: %d", code)
	}
	members, err := s.app.areas.org.DepartmentMembers(ctx, f.org, f.ward, true)
	if err != nil || len(members) < 20 {
		t.Fatalf("ward members: %d, %v", len(members), err)
	}
	var nurses []string
	for _, m := range members {
		if m != f.headID {
			nurses = append(nurses, m)
		}
	}
	// Half the nurses are senior: enough for a senior on every night with
	// nights spread within one.
	for i, u := range nurses {
		if i%2 == 0 {
			if err := svc.SetProfile(ctx, f.headActor(), f.org, roster.Person{UserID: u, Skills: []string{"senior_nurse"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	onLeave := nurses[3]
	leaveFrom, _ := roster.ParseDate("2026-12-07")
	leaveTo, _ := roster.ParseDate("2026-12-13") // a week, a weekend inside
	if err := svc.RecordLeave(ctx, f.org, onLeave, leaveFrom, leaveTo, "test"); err != nil {
		t.Fatal(err)
	}

	// Install the real app bundle, granted the ward's part of the org
	// chart, as the marketplace would start it.
	installID := startRealApp(t, f, "shift-planner", "shiftplanner", []string{"manifest.json", "ui/plan.html"},
		[]marketplace.Grant{{Scope: sdk.ScopeOrgchartRead, Subtree: f.ward}, {Scope: sdk.ScopeRosterRead, Subtree: f.ward},
			{Scope: sdk.ScopeRosterWrite, Subtree: f.ward}, {Scope: sdk.ScopeIMDirect}, {Scope: sdk.ScopeHTTPRoutes}}, nil)
	depts, err := pluginDirectory{s.app.areas.org}.Departments(ctx, f.org, f.ward)
	if err != nil || len(depts) == 0 {
		t.Fatal(err)
	}
	wardName := depts[0].Name

	// A nurse may not plan her ward: not by command, not by the route.
	nurse := core.Actor{UserID: f.nurseID, OrgID: f.org, Kind: core.ActorUser}
	if _, err := s.app.areas.apps.Command(ctx, nurse, "paiban", wardName+" 2026-12", ""); !core.IsCode(err, core.EForbidden) {
		t.Fatalf("a nurse's /paiban: %v", err)
	}
	var refusal struct{ Code string }
	if code := s.do("POST", "/plugins/shift-planner/plans", f.nurse, map[string]string{"ward": wardName, "month": "2026-12"}, &refusal); code != 403 || refusal.Code != "forbidden" {
		t.Fatalf("a nurse's POST /plans: %d %+v", code, refusal)
	}
	if list, _ := svc.List(ctx, core.SystemActor, f.org, f.ward, mustDate(t, "2026-12-01"), mustDate(t, "2026-12-31")); len(list) != 0 {
		t.Fatal("a refused request left a roster")
	}

	// The head nurse asks in chat.
	head := core.Actor{UserID: f.headID, OrgID: f.org, Kind: core.ActorUser}
	reply, err := s.app.areas.apps.Command(ctx, head, "paiban", wardName+" 2026-12", "")
	if err != nil || !strings.Contains(reply, "硬性违规 0 项") {
		t.Fatalf("/paiban = %q, %v", reply, err)
	}

	// The draft, as the roster service holds and judges it.
	list, err := svc.List(ctx, core.SystemActor, f.org, f.ward, mustDate(t, "2026-12-01"), mustDate(t, "2026-12-31"))
	if err != nil || len(list) != 1 {
		t.Fatalf("rosters: %d, %v", len(list), err)
	}
	got, err := svc.Get(ctx, f.headActor(), list[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Roster.Status != roster.StatusDraft {
		t.Fatalf("status %s: the app must never publish", got.Roster.Status)
	}
	if len(got.Violations) != 0 {
		t.Fatalf("the roster service reports %d violations, first %+v", len(got.Violations), got.Violations[0])
	}
	// Judged again now, by the same code that guards publishing.
	shifts, _ := svc.Shifts(ctx, core.SystemActor, f.org)
	byID := map[string]roster.Shift{}
	for _, sh := range shifts {
		byID[sh.ID] = sh
	}
	people, err := svc.People(ctx, core.SystemActor, f.org, f.ward, got.Roster.From, got.Roster.To)
	if err != nil {
		t.Fatal(err)
	}
	pm := map[string]roster.Person{}
	for _, p := range people {
		pm[p.UserID] = p
	}
	rules, _ := svc.Rules(ctx, core.SystemActor, f.org, f.ward)
	loc, _ := svc.Location(ctx, f.org)
	if err := roster.CheckStructure(got.Roster, byID, pm, loc); err != nil {
		t.Fatal(err)
	}
	if vs := roster.Check(got.Roster, byID, pm, rules, loc); len(vs) != 0 {
		t.Fatalf("roster.Check: %d violations, first %+v", len(vs), vs[0])
	}

	// Fairness, counted from the stored draft over every nurse.
	nights, weekends := map[string]int{}, map[string]int{}
	for _, u := range nurses {
		nights[u], weekends[u] = 0, 0
	}
	for _, a := range got.Roster.Assignments {
		if a.UserID == f.headID {
			t.Fatalf("the head nurse was rostered: %+v", a)
		}
		if a.UserID == onLeave && a.Date >= leaveFrom && a.Date <= leaveTo {
			t.Fatalf("rostered on approved leave: %+v", a)
		}
		if byID[a.ShiftID].Night {
			nights[a.UserID]++
		}
		if wd := a.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekends[a.UserID]++
		}
	}
	for what, counts := range map[string]map[string]int{"nights": nights, "weekend shifts": weekends} {
		lo, hi := 1<<30, 0
		for _, n := range counts {
			lo, hi = min(lo, n), max(hi, n)
		}
		if hi-lo > 1 || hi == 0 {
			t.Fatalf("%s per nurse from %d to %d: %v", what, lo, hi, counts)
		}
	}

	// Nobody was told of a published roster; the head nurse has the
	// summary from the app's bot.
	for _, m := range f.inbox(t, f.nurse) {
		if strings.Contains(m, "排班已发布") || strings.Contains(m, "智能排班") {
			t.Fatalf("the nurse was told: %q", m)
		}
	}
	var summary string
	for _, m := range f.inbox(t, f.head) {
		if strings.Contains(m, "【智能排班】") {
			summary = m
		}
	}
	for _, want := range []string{wardName + " 2026-12 排班草稿已生成，尚未发布", "硬性违规 0 项", "夜班（大夜）每人", "（休假 7 天）", "所有规则均已满足"} {
		if !strings.Contains(summary, want) {
			t.Fatalf("the head nurse's summary lacks %q:\n%s", want, summary)
		}
	}

	// In her chat list the summary comes from 智能排班, the app's name, not
	// from "shift-planner".
	var bot struct {
		DisplayName string `json:"display_name"`
	}
	if code := s.do("GET", "/api/v1/users/"+installID, f.head, nil, &bot); code != 200 || bot.DisplayName != "智能排班" {
		t.Fatalf("the app's bot: %d %+v", code, bot)
	}

	// The app's page is served to her.
	if code := s.do("GET", "/plugins/shift-planner/ui/plan", f.head, nil, nil); code != 200 {
		t.Fatalf("page: %d", code)
	}
}

func mustDate(t *testing.T, s string) roster.Date {
	d, err := roster.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// head is the demo head nurse as an actor.
func (f *demoFixture) headActor() core.Actor {
	return core.Actor{UserID: f.headID, OrgID: f.org, Kind: core.ActorUser}
}
