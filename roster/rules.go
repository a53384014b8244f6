package roster

import (
	"fmt"
	"sort"
	"time"

	"github.com/roundshq/rounds/core"
)

// Severity of a rule: a hard violation blocks publishing, a soft one is shown
// to the head nurse and may be accepted.
type Severity string

const (
	Hard Severity = "hard"
	Soft Severity = "soft"
)

// Rule names, stable in the API.
const (
	RuleMinStaff       = "min_staff"
	RuleSkillMix       = "skill_mix"
	RuleMaxNights      = "max_consecutive_nights"
	RuleRestAfterNight = "min_rest_after_night"
	RuleMaxWeekHours   = "max_hours_per_week"
	RuleLeave          = "approved_leave"
	RuleQualification  = "qualification"
)

// RuleSet is a ward's configured rules. A zero field turns its rule off.
type RuleSet struct {
	MinStaff          []MinStaff `json:"min_staff,omitempty"`
	SkillMix          []SkillMix `json:"skill_mix,omitempty"`
	MaxNights         *Limit     `json:"max_consecutive_nights,omitempty"`
	MinRestHours      *Limit     `json:"min_rest_after_night_hours,omitempty"`
	MaxWeekHours      *Limit     `json:"max_hours_per_week,omitempty"`
	LeaveSeverity     Severity   `json:"approved_leave,omitempty"`
	QualificationRule Severity   `json:"qualification,omitempty"`
}

// MinStaff asks for at least Min people on a shift every day.
type MinStaff struct {
	ShiftCode string   `json:"shift_code"`
	Min       int      `json:"min"`
	Severity  Severity `json:"severity"`
}

// SkillMix asks for at least Min people holding Skill on a shift (ShiftCode)
// or on every night shift (ShiftCode empty), every day it is staffed.
type SkillMix struct {
	ShiftCode string   `json:"shift_code,omitempty"`
	Skill     string   `json:"skill"`
	Min       int      `json:"min"`
	Severity  Severity `json:"severity"`
}

// Limit is a numeric bound with a severity.
type Limit struct {
	Value    int      `json:"value"`
	Severity Severity `json:"severity"`
}

// DefaultRules are sensible rules for a nursing ward on three shifts.
func DefaultRules() RuleSet {
	return RuleSet{
		MinStaff: []MinStaff{
			{ShiftCode: "白", Min: 3, Severity: Hard}, {ShiftCode: "小", Min: 2, Severity: Hard}, {ShiftCode: "大", Min: 2, Severity: Hard},
		},
		SkillMix:          []SkillMix{{Skill: "senior_nurse", Min: 1, Severity: Hard}},
		MaxNights:         &Limit{Value: 3, Severity: Hard},
		MinRestHours:      &Limit{Value: 24, Severity: Hard},
		MaxWeekHours:      &Limit{Value: 44, Severity: Soft},
		LeaveSeverity:     Hard,
		QualificationRule: Hard,
	}
}

// Validate checks a rule set before it is stored.
func (rs RuleSet) Validate() error {
	sev := func(field string, s Severity) error {
		if s != Hard && s != Soft {
			return core.Invalid(field, "severity must be hard or soft")
		}
		return nil
	}
	for i, m := range rs.MinStaff {
		if m.ShiftCode == "" || m.Min < 1 {
			return core.Invalid(fmt.Sprintf("min_staff[%d]", i), "needs a shift_code and a min of at least 1")
		}
		if err := sev(fmt.Sprintf("min_staff[%d].severity", i), m.Severity); err != nil {
			return err
		}
	}
	for i, m := range rs.SkillMix {
		if m.Skill == "" || m.Min < 1 {
			return core.Invalid(fmt.Sprintf("skill_mix[%d]", i), "needs a skill and a min of at least 1")
		}
		if err := sev(fmt.Sprintf("skill_mix[%d].severity", i), m.Severity); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		f string
		l *Limit
	}{{"max_consecutive_nights", rs.MaxNights}, {"min_rest_after_night_hours", rs.MinRestHours}, {"max_hours_per_week", rs.MaxWeekHours}} {
		if l.l == nil {
			continue
		}
		if l.l.Value < 1 {
			return core.Invalid(l.f, "value must be at least 1")
		}
		if err := sev(l.f+".severity", l.l.Severity); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		f string
		s Severity
	}{{"approved_leave", rs.LeaveSeverity}, {"qualification", rs.QualificationRule}} {
		if s.s != "" {
			if err := sev(s.f, s.s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Violation is one broken rule, by rule, person and day.
type Violation struct {
	Rule      string   `json:"rule"`
	Severity  Severity `json:"severity"`
	UserID    string   `json:"user_id,omitempty"` // empty for rules about a whole shift
	Date      Date     `json:"date"`
	ShiftCode string   `json:"shift_code,omitempty"`
	Message   string   `json:"message"`
}

// CheckStructure finds what can never be saved: unknown shifts, dates outside
// the period, people not on the ward, and one person on two overlapping
// shifts. The error names the first offending assignment.
func CheckStructure(r Roster, shifts map[string]Shift, people map[string]Person, loc *time.Location) error {
	if r.To < r.From {
		return core.Invalid("to", "the period ends (%s) before it starts (%s)", r.To, r.From)
	}
	if r.To-r.From > 62 {
		return core.Invalid("to", "a roster covers at most 63 days")
	}
	type iv struct {
		s, e time.Time
		a    Assignment
	}
	byPerson := map[string][]iv{}
	for i, a := range r.Assignments {
		field := fmt.Sprintf("assignments[%d]", i)
		sh, ok := shifts[a.ShiftID]
		if !ok {
			return core.Invalid(field+".shift_id", "unknown shift %q", a.ShiftID)
		}
		if a.Date < r.From || a.Date > r.To {
			return core.Invalid(field+".date", "%s is outside the roster period %s – %s", a.Date, r.From, r.To)
		}
		if _, ok := people[a.UserID]; !ok {
			return core.Invalid(field+".user_id", "%s is not on this ward's staff", a.UserID)
		}
		if sh.Kind == KindOff {
			byPerson[a.UserID] = append(byPerson[a.UserID], iv{a.Date.In(loc), a.Date.In(loc), a})
			continue
		}
		s, e := sh.Interval(a.Date, loc)
		byPerson[a.UserID] = append(byPerson[a.UserID], iv{s, e, a})
	}
	for user, ivs := range byPerson {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].s.Before(ivs[j].s) })
		for i := 1; i < len(ivs); i++ {
			p, c := ivs[i-1], ivs[i]
			offP, offC := shifts[p.a.ShiftID].Kind == KindOff, shifts[c.a.ShiftID].Kind == KindOff
			if (offP || offC) && p.a.Date == c.a.Date {
				return core.Invalid("assignments", "%s is both off and on duty on %s", user, c.a.Date).With("user_id", user).With("date", c.a.Date.String())
			}
			if offP || offC {
				continue
			}
			if c.s.Before(p.e) {
				return core.Invalid("assignments", "%s has overlapping shifts %s on %s and %s on %s",
					user, shifts[p.a.ShiftID].Name, p.a.Date, shifts[c.a.ShiftID].Name, c.a.Date).With("user_id", user).With("date", c.a.Date.String())
			}
		}
	}
	return nil
}

// Check reports every rule violation of a structurally valid roster, sorted by
// date, rule and person.
func Check(r Roster, shifts map[string]Shift, people map[string]Person, rs RuleSet, loc *time.Location) []Violation {
	var out []Violation
	days := int(r.To-r.From) + 1
	// index: per date, per shift code, the people on it.
	type slot struct{ users []string }
	grid := make([]map[string]*slot, days)
	for i := range grid {
		grid[i] = map[string]*slot{}
	}
	perPerson := map[string][]Assignment{}
	for _, a := range r.Assignments {
		sh := shifts[a.ShiftID]
		d := int(a.Date - r.From)
		sl := grid[d][sh.Code]
		if sl == nil {
			sl = &slot{}
			grid[d][sh.Code] = sl
		}
		sl.users = append(sl.users, a.UserID)
		perPerson[a.UserID] = append(perPerson[a.UserID], a)
	}
	nightCodes := map[string]bool{}
	for _, sh := range shifts {
		if sh.Night && sh.Kind != KindOff && sh.Kind != KindBackup {
			nightCodes[sh.Code] = true
		}
	}
	for d := 0; d < days; d++ {
		date := r.From + Date(d)
		for _, m := range rs.MinStaff {
			n := 0
			if sl := grid[d][m.ShiftCode]; sl != nil {
				n = len(sl.users)
			}
			if n < m.Min {
				out = append(out, Violation{Rule: RuleMinStaff, Severity: m.Severity, Date: date, ShiftCode: m.ShiftCode,
					Message: fmt.Sprintf("%s on %s has %d of at least %d staff", m.ShiftCode, date, n, m.Min)})
			}
		}
		for _, m := range rs.SkillMix {
			codes := []string{m.ShiftCode}
			if m.ShiftCode == "" {
				codes = codes[:0]
				for c := range nightCodes {
					codes = append(codes, c)
				}
				sort.Strings(codes)
			}
			for _, c := range codes {
				sl := grid[d][c]
				if sl == nil || len(sl.users) == 0 {
					continue // an empty shift is min_staff's business
				}
				n := 0
				for _, u := range sl.users {
					if has(people[u].Skills, m.Skill) {
						n++
					}
				}
				if n < m.Min {
					out = append(out, Violation{Rule: RuleSkillMix, Severity: m.Severity, Date: date, ShiftCode: c,
						Message: fmt.Sprintf("%s on %s has %d with %s, needs %d", c, date, n, m.Skill, m.Min)})
				}
			}
		}
	}
	users := make([]string, 0, len(perPerson))
	for u := range perPerson {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		as := perPerson[u]
		sort.Slice(as, func(i, j int) bool {
			if as[i].Date != as[j].Date {
				return as[i].Date < as[j].Date
			}
			return shifts[as[i].ShiftID].Start < shifts[as[j].ShiftID].Start
		})
		p := people[u]
		out = append(out, checkPerson(u, p, as, shifts, rs, loc)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].UserID < out[j].UserID
	})
	return out
}

func checkPerson(u string, p Person, as []Assignment, shifts map[string]Shift, rs RuleSet, loc *time.Location) []Violation {
	var out []Violation
	leave := map[Date]bool{}
	for _, d := range p.Leave {
		leave[d] = true
	}
	var lastNightEnd time.Time
	run, prevNight := 0, Date(-1<<30)
	weekMinutes := map[Date]int{}
	for _, a := range as {
		sh := shifts[a.ShiftID]
		if sh.Kind == KindOff {
			continue
		}
		if rs.LeaveSeverity != "" && leave[a.Date] {
			out = append(out, Violation{Rule: RuleLeave, Severity: rs.LeaveSeverity, UserID: u, Date: a.Date, ShiftCode: sh.Code,
				Message: fmt.Sprintf("on approved leave on %s but rostered for %s", a.Date, sh.Name)})
		}
		if rs.QualificationRule != "" {
			for _, q := range sh.Requires {
				if !has(p.Qualifications, q) {
					out = append(out, Violation{Rule: RuleQualification, Severity: rs.QualificationRule, UserID: u, Date: a.Date, ShiftCode: sh.Code,
						Message: fmt.Sprintf("%s needs qualification %s", sh.Name, q)})
				}
			}
		}
		start, end := sh.Interval(a.Date, loc)
		// Rest is owed after the last night of a run, before the next
		// day or evening shift; consecutive nights are max_nights' business.
		if !sh.Night && sh.Kind != KindBackup && !lastNightEnd.IsZero() {
			if rest := start.Sub(lastNightEnd); rs.MinRestHours != nil && rest < time.Duration(rs.MinRestHours.Value)*time.Hour {
				out = append(out, Violation{Rule: RuleRestAfterNight, Severity: rs.MinRestHours.Severity, UserID: u, Date: a.Date, ShiftCode: sh.Code,
					Message: fmt.Sprintf("only %.0f h rest after the night shift ending %s (at least %d h)", rest.Hours(), lastNightEnd.Format("01-02 15:04"), rs.MinRestHours.Value)})
			}
			lastNightEnd = time.Time{}
		}
		if sh.Night && sh.Kind != KindBackup {
			if a.Date == prevNight+1 {
				run++
			} else if a.Date != prevNight {
				run = 1
			}
			prevNight = a.Date
			if rs.MaxNights != nil && run > rs.MaxNights.Value {
				out = append(out, Violation{Rule: RuleMaxNights, Severity: rs.MaxNights.Severity, UserID: u, Date: a.Date, ShiftCode: sh.Code,
					Message: fmt.Sprintf("%d nights in a row (at most %d)", run, rs.MaxNights.Value)})
			}
			lastNightEnd = end
		} else if sh.Kind != KindBackup {
			// A day worked after the night resets nothing but the rest rule
			// already judged it; only night runs matter for max nights.
			if a.Date > prevNight {
				run = 0
			}
		}
		weekMinutes[a.Date.ISOWeekStart()] += sh.Paid()
	}
	if rs.MaxWeekHours != nil {
		weeks := make([]Date, 0, len(weekMinutes))
		for w := range weekMinutes {
			weeks = append(weeks, w)
		}
		sort.Slice(weeks, func(i, j int) bool { return weeks[i] < weeks[j] })
		for _, w := range weeks {
			if m := weekMinutes[w]; m > rs.MaxWeekHours.Value*60 {
				out = append(out, Violation{Rule: RuleMaxWeekHours, Severity: rs.MaxWeekHours.Severity, UserID: u, Date: w,
					Message: fmt.Sprintf("%.1f h in the week of %s (at most %d h)", float64(m)/60, w, rs.MaxWeekHours.Value)})
			}
		}
	}
	return out
}

// Blocking reports whether any violation is hard.
func Blocking(vs []Violation) bool {
	for _, v := range vs {
		if v.Severity == Hard {
			return true
		}
	}
	return false
}
