package roster_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/roster"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func d(s string) roster.Date {
	v, err := roster.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// ward builds the three-shift and on-call patterns with ids = codes.
func ward() map[string]roster.Shift {
	m := map[string]roster.Shift{}
	for _, p := range roster.Patterns {
		for _, s := range p.Shifts {
			s.ID = s.Code
			m[s.ID] = s
		}
	}
	return m
}

func people(n int, seniors ...string) map[string]roster.Person {
	m := map[string]roster.Person{}
	for i := 1; i <= n; i++ {
		m[fmt.Sprintf("n%d", i)] = roster.Person{UserID: fmt.Sprintf("n%d", i)}
	}
	for _, s := range seniors {
		p := m[s]
		p.Skills = []string{"senior_nurse"}
		m[s] = p
	}
	return m
}

func a(user, date, shift string) roster.Assignment {
	return roster.Assignment{UserID: user, Date: d(date), ShiftID: shift}
}

func rules(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestShiftValidation(t *testing.T) {
	for _, p := range roster.Patterns {
		for _, s := range p.Shifts {
			if err := s.Validate(); err != nil {
				t.Errorf("built-in %s: %v", s.Name, err)
			}
		}
	}
	bad := []struct {
		name  string
		s     roster.Shift
		field string
	}{
		{"ends before it starts without crossing midnight", roster.Shift{Code: "X", Name: "x", Kind: roster.KindWork, Start: 16 * 60, End: 8 * 60}, "end_minute"},
		{"crosses midnight flag on a same-day shift", roster.Shift{Code: "X", Name: "x", Kind: roster.KindWork, Start: 8 * 60, End: 16 * 60, Overnight: true}, "crosses_midnight"},
		{"bad colour", roster.Shift{Code: "X", Name: "x", Kind: roster.KindWork, Start: 8 * 60, End: 16 * 60, Colour: "red"}, "colour"},
		{"break longer than shift", roster.Shift{Code: "X", Name: "x", Kind: roster.KindWork, Start: 8 * 60, End: 9 * 60, BreakMinutes: 60}, "break_minutes"},
		{"unknown kind", roster.Shift{Code: "X", Name: "x", Kind: "nap", Start: 8 * 60, End: 9 * 60}, "kind"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.Validate()
			var e *core.Error
			if !core.IsCode(err, core.EInvalid) || !asErr(err, &e) || e.Field != c.field {
				t.Fatalf("want invalid %s, got %v", c.field, err)
			}
		})
	}
	n := ward()["N"]
	s, e := n.Interval(d("2026-01-31"), shanghai)
	if s.Format("01-02 15:04") != "01-31 22:00" || e.Format("01-02 15:04") != "02-01 08:00" {
		t.Fatalf("N across month end: %s – %s", s, e)
	}
	if ward()["值"].Length() != 24*60 {
		t.Fatalf("on call is 24h, got %d", ward()["值"].Length())
	}
}

func asErr(err error, e **core.Error) bool {
	ce, ok := err.(*core.Error)
	if ok {
		*e = ce
	}
	return ok
}

func TestStructureRefusesOverlapsAndStrangers(t *testing.T) {
	sh := ward()
	ppl := people(3)
	base := roster.Roster{From: d("2026-12-01"), To: d("2026-12-07")}
	cases := []struct {
		name string
		as   []roster.Assignment
		want string
	}{
		{"two shifts at once", []roster.Assignment{a("n1", "2026-12-01", "白"), a("n1", "2026-12-01", "A")}, "overlapping"},
		{"night into next day's early shift", []roster.Assignment{a("n1", "2026-12-01", "N"), a("n1", "2026-12-02", "A")}, ""},
		{"24-hour on call overlapping the next night", []roster.Assignment{a("n1", "2026-12-01", "值"), a("n1", "2026-12-02", "大")}, "overlapping"},
		{"off and on duty the same day", []roster.Assignment{a("n1", "2026-12-01", "休"), a("n1", "2026-12-01", "白")}, "both off and on duty"},
		{"outside the period", []roster.Assignment{a("n1", "2026-12-08", "白")}, "outside"},
		{"unknown shift", []roster.Assignment{a("n1", "2026-12-01", "zz")}, "unknown shift"},
		{"not on the ward", []roster.Assignment{a("stranger", "2026-12-01", "白")}, "not on this ward"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base
			r.Assignments = c.as
			err := roster.CheckStructure(r, sh, ppl, shanghai)
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !core.IsCode(err, core.EInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
		})
	}
}

func TestRules(t *testing.T) {
	sh := ward()
	ppl := people(6, "n1")
	p := ppl["n2"]
	p.Leave = []roster.Date{d("2026-12-02")}
	ppl["n2"] = p
	sh["ICU"] = roster.Shift{ID: "ICU", Code: "I", Name: "ICU 白班", Kind: roster.KindWork, Start: 8 * 60, End: 16 * 60, Requires: []string{"icu"}}
	rs := roster.RuleSet{
		SkillMix:          []roster.SkillMix{{Skill: "senior_nurse", Min: 1, Severity: roster.Hard}},
		MaxNights:         &roster.Limit{Value: 3, Severity: roster.Hard},
		MinRestHours:      &roster.Limit{Value: 24, Severity: roster.Hard},
		MaxWeekHours:      &roster.Limit{Value: 44, Severity: roster.Soft},
		LeaveSeverity:     roster.Hard,
		QualificationRule: roster.Hard,
	}
	cases := []struct {
		name  string
		rules roster.RuleSet
		as    []roster.Assignment
		want  map[string]bool // rule names expected; nothing else may appear
		who   string
	}{
		{"clean", rs, []roster.Assignment{a("n1", "2026-12-01", "大"), a("n3", "2026-12-01", "白")}, rules(), ""},
		{"no senior on a night", rs, []roster.Assignment{a("n3", "2026-12-01", "大")}, rules(roster.RuleSkillMix), ""},
		{"four nights in a row", rs, []roster.Assignment{
			a("n1", "2026-12-01", "大"), a("n1", "2026-12-02", "大"), a("n1", "2026-12-03", "大"), a("n1", "2026-12-04", "大")}, rules(roster.RuleMaxNights), "n1"},
		{"three nights, a day off, three more", rs, []roster.Assignment{
			a("n1", "2026-12-01", "大"), a("n1", "2026-12-02", "大"), a("n1", "2026-12-03", "大"),
			a("n1", "2026-12-05", "大"), a("n1", "2026-12-06", "大"), a("n1", "2026-12-07", "大")}, rules(), ""},
		{"day shift right after a night", rs, []roster.Assignment{a("n1", "2026-12-01", "N"), a("n1", "2026-12-02", "P")}, rules(roster.RuleRestAfterNight), "n1"},
		{"rest respected", rs, []roster.Assignment{a("n1", "2026-12-01", "N"), a("n1", "2026-12-03", "A")}, rules(), ""},
		{"on leave", rs, []roster.Assignment{a("n2", "2026-12-02", "白")}, rules(roster.RuleLeave), "n2"},
		{"lacks qualification", rs, []roster.Assignment{a("n3", "2026-12-02", "ICU")}, rules(roster.RuleQualification), "n3"},
		{"six long days in one week", rs, []roster.Assignment{
			a("n4", "2026-11-30", "白"), a("n4", "2026-12-01", "白"), a("n4", "2026-12-02", "白"), a("n4", "2026-12-03", "白"),
			a("n4", "2026-12-04", "白"), a("n4", "2026-12-05", "白"), a("n4", "2026-12-06", "白")}, rules(roster.RuleMaxWeekHours), "n4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := roster.Roster{From: d("2026-11-30"), To: d("2026-12-27"), Assignments: c.as}
			if err := roster.CheckStructure(r, sh, ppl, shanghai); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, v := range roster.Check(r, sh, ppl, c.rules, shanghai) {
				got[v.Rule] = true
				if c.who != "" && v.UserID != c.who {
					t.Errorf("violation for %s, want %s: %+v", v.UserID, c.who, v)
				}
				if v.Message == "" {
					t.Errorf("violation without a message: %+v", v)
				}
			}
			for r := range c.want {
				if !got[r] {
					t.Errorf("missing %s; got %v", r, got)
				}
			}
			for r := range got {
				if !c.want[r] {
					t.Errorf("unexpected %s", r)
				}
			}
		})
	}
}

func TestMinStaffReportsEachShortDay(t *testing.T) {
	sh := ward()
	ppl := people(4, "n1")
	r := roster.Roster{From: d("2026-12-01"), To: d("2026-12-03"), Assignments: []roster.Assignment{
		a("n1", "2026-12-01", "白"), a("n2", "2026-12-01", "白"), a("n3", "2026-12-02", "白"),
	}}
	vs := roster.Check(r, sh, ppl, roster.RuleSet{MinStaff: []roster.MinStaff{{ShiftCode: "白", Min: 2, Severity: roster.Hard}}}, shanghai)
	if len(vs) != 2 || vs[0].Date != d("2026-12-02") || vs[1].Date != d("2026-12-03") || !roster.Blocking(vs) {
		t.Fatalf("%+v", vs)
	}
}

func TestOnDutyAcrossMidnightAndFallback(t *testing.T) {
	sh := ward()
	r := roster.Roster{From: d("2026-12-01"), To: d("2026-12-31"), Assignments: []roster.Assignment{
		a("n1", "2026-12-31", "N"), a("n2", "2026-12-31", "值"), a("n3", "2026-12-31", "备"), a("n4", "2026-12-31", "A"),
	}}
	ix := roster.NewDutyIndex(r, sh, shanghai)
	at := func(s string) roster.Duty {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return ix.At(tm)
	}
	if got := at("2026-12-31 09:00"); len(got.OnDuty) != 1 || got.OnDuty[0] != "n4" || got.OnCall[0] != "n2" {
		t.Fatalf("morning %+v", got)
	}
	// 03:00 on New Year's Day: the night shift and the 24-hour on-call from the 31st.
	got := at("2027-01-01 03:00")
	if len(got.OnDuty) != 1 || got.OnDuty[0] != "n1" || len(got.OnCall) != 1 || len(got.Backup) != 1 {
		t.Fatalf("new year night %+v", got)
	}
	if who, tier := got.Reach([]string{"head"}); tier != "on_call" || who[0] != "n2" {
		t.Fatalf("reach %v %s", who, tier)
	}
	got = at("2027-01-01 08:00") // everything has ended
	if who, tier := got.Reach([]string{"head"}); tier != "head" || who[0] != "head" {
		t.Fatalf("fallback %v %s %+v", who, tier, got)
	}
	if who, tier := (roster.Duty{Backup: []string{"b"}}).Reach(nil); tier != "backup" || who[0] != "b" {
		t.Fatal("backup tier")
	}
}
