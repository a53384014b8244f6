package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/plugins/sdk/sdktest"
	"github.com/roundshq/rounds/roster"
)

// The app itself imports only the SDK. Its tests judge its plans with the
// roster service's own rule check (roster.Check, the code the server runs
// on every save), fed the same shifts, rules and people the host would hand
// the app — so "zero violations" here means what it means on the server.

// ward is a test ward: shifts from a roster pattern, rules, people.
type ward struct {
	shifts map[string]roster.Shift // by code (the id is the code here)
	rules  roster.RuleSet
	people map[string]roster.Person
	heads  []string
	month  string
}

func newWard(month string, patterns []string, rules roster.RuleSet) *ward {
	w := &ward{shifts: map[string]roster.Shift{}, rules: rules, people: map[string]roster.Person{}, month: month}
	for _, key := range patterns {
		for _, p := range roster.Patterns {
			if p.Key == key {
				for _, sh := range p.Shifts {
					sh.ID = sh.Code
					w.shifts[sh.Code] = sh
				}
			}
		}
	}
	return w
}

func (w *ward) add(id string, skills, quals []string, leave ...string) {
	p := roster.Person{UserID: id, Skills: skills, Qualifications: quals}
	for _, l := range leave {
		d, err := roster.ParseDate(l)
		if err != nil {
			panic(err)
		}
		p.Leave = append(p.Leave, d)
	}
	w.people[id] = p
}

// setup is what the host's RosterSetup answers for this ward (the same
// mapping as cmd/rounds' glue).
func (w *ward) setup(dept string) sdk.RosterSetup {
	s := sdk.RosterSetup{DepartmentID: dept, Month: w.month, Heads: w.heads}
	for _, sh := range w.shifts {
		s.Shifts = append(s.Shifts, sdk.ShiftDefinition{Code: sh.Code, Name: sh.Name, Kind: string(sh.Kind), Start: sh.Start, End: sh.End,
			Length: sh.Length(), Paid: sh.Paid(), Night: sh.Night, Requires: sh.Requires})
	}
	ids := make([]string, 0, len(w.people))
	for id := range w.people {
		ids = append(ids, id)
	}
	sort.Strings(ids) // the host lists people by user id
	for _, id := range ids {
		p := w.people[id]
		sp := sdk.RosterPerson{UserID: p.UserID, Skills: p.Skills, Qualifications: p.Qualifications}
		for _, d := range p.Leave {
			sp.Leave = append(sp.Leave, d.String())
		}
		s.People = append(s.People, sp)
	}
	lim := func(l *roster.Limit) sdk.RuleLimit {
		if l == nil {
			return sdk.RuleLimit{}
		}
		return sdk.RuleLimit{Value: l.Value, Severity: string(l.Severity)}
	}
	for _, m := range w.rules.MinStaff {
		s.Rules.MinStaff = append(s.Rules.MinStaff, sdk.StaffingRule{ShiftCode: m.ShiftCode, Min: m.Min, Severity: string(m.Severity)})
	}
	for _, m := range w.rules.SkillMix {
		s.Rules.SkillMix = append(s.Rules.SkillMix, sdk.StaffingRule{ShiftCode: m.ShiftCode, Skill: m.Skill, Min: m.Min, Severity: string(m.Severity)})
	}
	s.Rules.MaxConsecutiveNights, s.Rules.MinRestAfterNightHours, s.Rules.MaxHoursPerWeek = lim(w.rules.MaxNights), lim(w.rules.MinRestHours), lim(w.rules.MaxWeekHours)
	s.Rules.ApprovedLeave, s.Rules.Qualification = string(w.rules.LeaveSeverity), string(w.rules.QualificationRule)
	return s
}

// check runs the roster service's structure and rule checks on assignments.
func (w *ward) check(t *testing.T, as []sdk.Assignment) []roster.Violation {
	t.Helper()
	first, _ := time.Parse("2006-01", w.month)
	r := roster.Roster{From: roster.DateOf(first), To: roster.DateOf(first.AddDate(0, 1, -1))}
	for _, a := range as {
		d, err := roster.ParseDate(a.Date)
		if err != nil {
			t.Fatal(err)
		}
		r.Assignments = append(r.Assignments, roster.Assignment{UserID: a.UserID, Date: d, ShiftID: a.Shift})
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if err := roster.CheckStructure(r, w.shifts, w.people, loc); err != nil {
		t.Fatalf("the roster service would refuse the plan: %v", err)
	}
	return roster.Check(r, w.shifts, w.people, w.rules, loc)
}

func (w *ward) sdkViolations(t *testing.T) func(sdk.Roster) []sdk.RosterViolation {
	return func(r sdk.Roster) []sdk.RosterViolation {
		var out []sdk.RosterViolation
		for _, v := range w.check(t, r.Assignments) {
			out = append(out, sdk.RosterViolation{Rule: v.Rule, Severity: string(v.Severity), UserID: v.UserID, Date: v.Date.String(), Shift: v.ShiftCode, Message: v.Message})
		}
		return out
	}
}

// threeShiftWard is a 30-bed ward: 28 nurses (12 senior) and the head
// nurse, on 三班倒 with the default rules, two nurses with approved leave.
// Fourteen are senior: enough for the night skill mix with nights spread
// within one (with twelve it cannot be, see TestPlanSaysWhatItCannotMeet).
func threeShiftWard() *ward {
	w := newWard("2026-12", []string{"three_shift"}, roster.DefaultRules())
	for i := 1; i <= 28; i++ {
		var skills []string
		if i <= 14 {
			skills = []string{"senior_nurse"}
		}
		id := fmt.Sprintf("n%02d", i)
		switch i {
		case 3:
			w.add(id, skills, nil, "2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09")
		case 20:
			w.add(id, skills, nil, "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-27")
		default:
			w.add(id, skills, nil)
		}
	}
	w.add("head", []string{"senior_nurse"}, nil)
	w.heads = []string{"head"}
	return w
}

func TestPlanMeetsEveryRuleAndIsFair(t *testing.T) {
	apnRules := roster.DefaultRules()
	apnRules.MinStaff = []roster.MinStaff{{ShiftCode: "A", Min: 4, Severity: roster.Hard}, {ShiftCode: "P", Min: 3, Severity: roster.Hard}, {ShiftCode: "N", Min: 2, Severity: roster.Hard}}
	apnRules.MaxNights = &roster.Limit{Value: 2, Severity: roster.Hard}
	apnRules.MaxWeekHours = &roster.Limit{Value: 40, Severity: roster.Hard}
	apn := newWard("2027-02", []string{"apn"}, apnRules)
	n := apn.shifts["N"]
	n.Requires = []string{"icu"} // N needs the ICU qualification
	apn.shifts["N"] = n
	for i := 1; i <= 22; i++ {
		var quals []string
		if i%3 != 0 {
			quals = []string{"icu"}
		}
		apn.add(fmt.Sprintf("p%02d", i), []string{"senior_nurse"}[:boolInt(i <= 10)], quals)
	}
	for _, c := range []struct {
		name string
		w    *ward
	}{{"三班倒 with default rules and leave", threeShiftWard()}, {"APN with a qualified night shift", apn}} {
		t.Run(c.name, func(t *testing.T) {
			exclude := map[string]bool{}
			for _, h := range c.w.heads {
				exclude[h] = true
			}
			start := time.Now()
			pl, err := MakePlan(c.w.setup("ward"), Options{MinGapHours: 8, Exclude: exclude})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("planning took %v; the command's deadline is a few seconds", d)
			}
			if vs := c.w.check(t, pl.Assignments); len(vs) != 0 {
				t.Fatalf("%d violations, first %+v", len(vs), vs[0])
			}
			if len(pl.Unfilled) != 0 {
				t.Fatalf("unfilled: %q", pl.Unfilled)
			}
			if !pl.Nights.Fair() || !pl.Weekends.Fair() {
				t.Fatalf("nights %+v weekends %+v: %q", pl.Nights, pl.Weekends, pl.Notes)
			}
			for _, a := range pl.Assignments {
				if exclude[a.UserID] {
					t.Fatalf("the head nurse was rostered: %+v", a)
				}
			}
			if pl.Nights.Max == 0 {
				t.Fatal("nobody works nights")
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPlanSaysWhatItCannotMeet(t *testing.T) {
	t.Run("too few people for the minimum staffing", func(t *testing.T) {
		w := newWard("2026-12", []string{"three_shift"}, roster.DefaultRules())
		for i := 1; i <= 6; i++ {
			w.add(fmt.Sprintf("n%d", i), []string{"senior_nurse"}, nil)
		}
		pl, err := MakePlan(w.setup("ward"), Options{MinGapHours: 8})
		if err != nil {
			t.Fatal(err)
		}
		if len(pl.Unfilled) == 0 || !strings.Contains(pl.Unfilled[0], "只排到") {
			t.Fatalf("unfilled = %q", pl.Unfilled)
		}
		// What it did place breaks no hard rule about people: only seats
		// are short (with six people, some weeks go past 44 hours, a soft
		// rule the plan reports).
		for _, v := range w.check(t, pl.Assignments) {
			if v.Rule != roster.RuleMinStaff && v.Severity == roster.Hard {
				t.Fatalf("violation beyond short staffing: %+v", v)
			}
		}
	})
	t.Run("too few senior nurses for fair nights", func(t *testing.T) {
		w := newWard("2026-12", []string{"three_shift"}, roster.DefaultRules())
		for i := 1; i <= 28; i++ {
			var skills []string
			if i <= 4 {
				skills = []string{"senior_nurse"}
			}
			w.add(fmt.Sprintf("n%02d", i), skills, nil)
		}
		pl, err := MakePlan(w.setup("ward"), Options{MinGapHours: 8})
		if err != nil {
			t.Fatal(err)
		}
		if vs := w.check(t, pl.Assignments); len(vs) != 0 {
			t.Fatalf("violations: %+v", vs[0])
		}
		if pl.Nights.Fair() || len(pl.Notes) == 0 || !strings.Contains(pl.Notes[0], "senior_nurse") {
			t.Fatalf("nights %+v notes %q", pl.Nights, pl.Notes)
		}
	})
	t.Run("a month that is not one", func(t *testing.T) {
		if _, err := MakePlan(sdk.RosterSetup{Month: "2026-13"}, Options{}); !sdk.IsCode(err, sdk.CodeInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
}

// harness is the app activated against the SDK's in-memory host.
func harness(t *testing.T, w *ward, settings map[string]string) (*app, *sdktest.Host) {
	h := sdktest.New(sdk.ScopeOrgchartRead, sdk.ScopeRosterRead, sdk.ScopeRosterWrite, sdk.ScopeIMDirect, sdk.ScopeHTTPRoutes)
	h.Install.Settings = settings
	h.Depts = []sdk.Department{{ID: "d-cardio", Name: "心内科"}, {ID: "d-ward", ParentID: "d-cardio", Name: "心内一病区"},
		{ID: "d-a", Name: "同名病区"}, {ID: "d-b", Name: "同名病区"}}
	for id := range w.people {
		h.People = append(h.People, sdk.Staff{UserID: id, Name: "护士" + id, DepartmentID: "d-ward"})
	}
	h.People = append(h.People, sdk.Staff{UserID: "nurse-elsewhere", Name: "王五", DepartmentID: "d-cardio"})
	h.Setups["d-ward|"+w.month] = w.setup("d-ward")
	h.CheckRoster = w.sdkViolations(t)
	a := newApp()
	a.now = func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, beijing) }
	if err := h.Activate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a, h
}

func TestPaibanCommand(t *testing.T) {
	ctx := context.Background()
	w := threeShiftWard()
	a, h := harness(t, w, map[string]string{"planners": "nurse-elsewhere"})
	cmd := func(user, args string) (string, error) {
		return a.OnCommand(ctx, sdk.Command{Command: "paiban", Args: args, ConversationID: "c1", Actor: sdk.Actor{UserID: user, OrgID: "test-org"}})
	}
	refusals := []struct {
		name, user, args string
		code             sdk.Code
	}{
		{"a nurse may not plan her ward", "n05", "心内一病区 2026-12", sdk.CodeForbidden},
		{"an unknown ward", "head", "心外一病区 2026-12", sdk.CodeNotFound},
		{"two wards of one name", "head", "同名病区 2026-12", sdk.CodeInvalid},
		{"not a month", "head", "心内一病区 2026-13", sdk.CodeInvalid},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			if _, err := cmd(r.user, r.args); !sdk.IsCode(err, r.code) {
				t.Fatalf("err = %v, want %s", err, r.code)
			}
			if len(h.Rosters) != 0 || len(h.Direct) != 0 {
				t.Fatal("a refused command changed something")
			}
		})
	}
	if reply, _ := cmd("head", ""); !strings.HasPrefix(reply, "用法") {
		t.Fatalf("usage = %q", reply)
	}
	reply, err := cmd("head", "心内一病区") // next month: 2026-12
	if err != nil || !strings.Contains(reply, "2026-12") || !strings.Contains(reply, "硬性违规 0 项") {
		t.Fatalf("reply = %q, %v", reply, err)
	}
	saved := h.Rosters["d-ward|2026-12"]
	if saved.Status != "draft" || len(saved.Assignments) == 0 || len(saved.Violations) != 0 {
		t.Fatalf("saved = status %q, %d assignments, violations %+v", saved.Status, len(saved.Assignments), saved.Violations)
	}
	if len(h.Direct) != 1 || h.Direct[0].UserID != "head" {
		t.Fatalf("direct = %+v", h.Direct)
	}
	msg := h.Direct[0].Text
	for _, want := range []string{"心内一病区 2026-12 排班草稿已生成，尚未发布", "硬性违规 0 项", "夜班（大夜）每人", "护士n03", "（休假 5 天）", "所有规则均已满足"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("summary lacks %q:\n%s", want, msg)
		}
	}
	t.Run("a planner named in settings may plan, and the head nurse is told too", func(t *testing.T) {
		if _, err := cmd("nurse-elsewhere", "d-ward 2026-12"); err != nil {
			t.Fatal(err)
		}
		if len(h.Direct) != 3 || h.Direct[1].UserID != "nurse-elsewhere" || h.Direct[2].UserID != "head" {
			t.Fatalf("direct = %+v", h.Direct)
		}
	})
	t.Run("a published roster is never touched", func(t *testing.T) {
		r := h.Rosters["d-ward|2026-12"]
		r.Status = "published"
		h.Rosters["d-ward|2026-12"] = r
		if _, err := cmd("head", "心内一病区 2026-12"); !sdk.IsCode(err, sdk.CodeConflict) {
			t.Fatalf("err = %v", err)
		}
		if h.Rosters["d-ward|2026-12"].Status != "published" || len(h.Direct) != 3 {
			t.Fatal("the published roster or the messages changed")
		}
	})
	t.Run("without roster:write nothing is saved", func(t *testing.T) {
		h2 := sdktest.New(sdk.ScopeOrgchartRead, sdk.ScopeRosterRead, sdk.ScopeIMDirect)
		h2.Depts, h2.Setups = h.Depts, h.Setups
		a2 := newApp()
		_ = h2.Activate(ctx, a2)
		if _, err := a2.OnCommand(ctx, sdk.Command{Command: "paiban", Args: "心内一病区 2026-12", Actor: sdk.Actor{UserID: "head"}}); !sdk.IsCode(err, sdk.CodeForbidden) {
			t.Fatalf("err = %v", err)
		}
		if len(h2.Rosters) != 0 || len(h2.Direct) != 0 {
			t.Fatal("something was saved or sent")
		}
	})
}

func TestPlanRoutes(t *testing.T) {
	w := threeShiftWard()
	a, h := harness(t, w, nil)
	do := func(method, path, body, user string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req = req.WithContext(sdk.WithActor(req.Context(), sdk.Actor{UserID: user, OrgID: "test-org"}))
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	if code, out := do("GET", "/wards", "", "head"); code != 200 || out["next_month"] != "2026-12" || len(out["items"].([]any)) != 4 {
		t.Fatalf("wards: %d %v", code, out)
	}
	for _, bad := range []string{``, `{}`, `{"ward":"心内一病区","month":"2026-12","publish":true}`, `{"ward":1}`} {
		if code, out := do("POST", "/plans", bad, "head"); code != 400 || out["code"] != "invalid" {
			t.Fatalf("%s: %d %v", bad, code, out)
		}
	}
	if code, out := do("POST", "/plans", `{"ward":"心内一病区","month":"2026-12"}`, "n07"); code != 403 {
		t.Fatalf("a nurse planning: %d %v", code, out)
	}
	if len(h.Rosters) != 0 {
		t.Fatal("a refused request saved a roster")
	}
	code, out := do("POST", "/plans", `{"ward":"心内一病区","month":"2026-12"}`, "head")
	if code != 201 || out["status"] != "draft" || out["hard_violations"] != 0.0 || len(out["people"].([]any)) != 28 {
		t.Fatalf("plan: %d %v", code, out)
	}
	if code, _ := do("DELETE", "/plans", "", "head"); code != 404 {
		t.Fatalf("unknown route: %d", code)
	}
}
