package main

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/roundshq/rounds/plugins/sdk"
)

// The planner is pure: it turns a ward's setup into assignments and a
// report, and knows nothing of the host. Its rule check mirrors the roster
// service's (roster.Check) so that it can avoid every violation; the
// server's own check of the saved draft remains the judge.

const minutesPerDay = 24 * 60

// Options tune a plan.
type Options struct {
	// MinGapHours is the app's own preference: at least this long between
	// any two of a person's shifts (a 小夜 ending at midnight is not
	// followed by a 大夜 starting then). Dropped for a seat that cannot be
	// filled otherwise.
	MinGapHours int
	// Exclude lists people never rostered (the ward's heads by default).
	Exclude map[string]bool
	// Names are people's names for the report (user ids otherwise).
	Names map[string]string
}

// Plan is a month's proposed roster with what the head nurse needs to judge it.
type Plan struct {
	Month       string
	Assignments []sdk.Assignment
	People      []PersonStats // in the order of the setup's people
	Unfilled    []string      // seats and rules the planner could not meet, and why
	Nights      Spread        // night shifts per person, among those who may work nights
	Weekends    Spread        // shifts on Saturdays and Sundays per person
	Shifts      Spread        // shifts per person
	Notes       []string      // why a spread is wider than one, where the planner can tell
}

// PersonStats is one person's share of the plan.
type PersonStats struct {
	UserID     string
	Shifts     int
	Nights     int
	Weekends   int
	LeaveDays  int
	NightsOK   bool // may work some night shift (qualifications)
	PaidHours  float64
	ShiftCodes map[string]int
}

// Spread is the lowest and highest count among the people it covers.
type Spread struct{ Min, Max int }

// Fair reports whether counts differ by at most one.
func (s Spread) Fair() bool { return s.Max-s.Min <= 1 }

type person struct {
	id        string
	skills    map[string]bool
	quals     map[string]bool
	leave     []bool   // by day index
	on        []string // shift code by day index, "" free
	nightsOK  bool
	skillSeat map[string]bool // holds a skill some skill-mix rule asks for
}

type planner struct {
	setup     sdk.RosterSetup
	opt       Options
	first     time.Time
	days      int
	shifts    map[string]sdk.ShiftDefinition
	night     map[string]bool // codes the night rules count
	people    []*person
	weekend   []bool
	isoWeek   []int // day index of the Monday of each day's ISO week (may be negative)
	skillRule map[string]bool
}

// level says how hard the planner tries to keep its preferences.
type level int

const (
	strict   level = iota // every rule (hard and soft) and the gap preference
	noGap                 // every rule, no gap preference
	hardOnly              // hard rules only
)

// MakePlan plans setup's month.
func MakePlan(setup sdk.RosterSetup, opt Options) (Plan, error) {
	first, err := time.Parse("2006-01", setup.Month)
	if err != nil {
		return Plan{}, sdk.Errorf(sdk.CodeInvalid, "%q is not a month like 2026-12", setup.Month)
	}
	p := &planner{setup: setup, opt: opt, first: first, days: first.AddDate(0, 1, -1).Day(),
		shifts: map[string]sdk.ShiftDefinition{}, night: map[string]bool{}, skillRule: map[string]bool{}}
	for _, sh := range setup.Shifts {
		p.shifts[sh.Code] = sh
		if sh.Night && sh.Kind != "off" && sh.Kind != "backup" {
			p.night[sh.Code] = true
		}
	}
	for _, r := range setup.Rules.SkillMix {
		p.skillRule[r.Skill] = true
	}
	for d := 0; d < p.days; d++ {
		t := first.AddDate(0, 0, d)
		wd := t.Weekday()
		p.weekend = append(p.weekend, wd == time.Saturday || wd == time.Sunday)
		back := (int(wd) + 6) % 7 // days since Monday
		p.isoWeek = append(p.isoWeek, d-back)
	}
	for _, sp := range setup.People {
		if opt.Exclude[sp.UserID] {
			continue
		}
		x := &person{id: sp.UserID, skills: set(sp.Skills), quals: set(sp.Qualifications), leave: make([]bool, p.days),
			on: make([]string, p.days), skillSeat: map[string]bool{}}
		for _, l := range sp.Leave {
			if t, err := time.Parse("2006-01-02", l); err == nil {
				if d := int(t.Sub(first).Hours() / 24); d >= 0 && d < p.days {
					x.leave[d] = true
				}
			}
		}
		for code := range p.night {
			if p.qualified(x, p.shifts[code]) {
				x.nightsOK = true
			}
		}
		for s := range x.skills {
			if p.skillRule[s] {
				x.skillSeat[s] = true
			}
		}
		p.people = append(p.people, x)
	}
	var unfilled []string
	for _, m := range setup.Rules.MinStaff {
		if _, ok := p.shifts[m.ShiftCode]; !ok {
			unfilled = append(unfilled, fmt.Sprintf("规则要求班次 %s 每天至少 %d 人，但医院没有这个班次", m.ShiftCode, m.Min))
		}
	}
	for d := 0; d < p.days; d++ {
		unfilled = append(unfilled, p.fillDay(d)...)
	}
	p.balance()
	return p.report(unfilled), nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

func (p *planner) qualified(x *person, sh sdk.ShiftDefinition) bool {
	for _, q := range sh.Requires {
		if !x.quals[q] {
			return false
		}
	}
	return true
}

func (p *planner) name(id string) string {
	if n := p.opt.Names[id]; n != "" {
		return n
	}
	return id
}

func (p *planner) date(d int) string { return p.first.AddDate(0, 0, d).Format("2006-01-02") }

// codesOfDay lists the shifts the rules staff, night shifts first (the
// hardest to fill), then by start.
func (p *planner) codesOfDay() []sdk.StaffingRule {
	var rules []sdk.StaffingRule
	for _, m := range p.setup.Rules.MinStaff {
		if _, ok := p.shifts[m.ShiftCode]; ok && m.Min > 0 {
			rules = append(rules, m)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := p.shifts[rules[i].ShiftCode], p.shifts[rules[j].ShiftCode]
		if p.night[a.Code] != p.night[b.Code] {
			return p.night[a.Code]
		}
		return a.Start < b.Start
	})
	return rules
}

// skillNeeds are the skill-mix minimums that apply to code.
func (p *planner) skillNeeds(code string) []sdk.StaffingRule {
	var out []sdk.StaffingRule
	for _, r := range p.setup.Rules.SkillMix {
		if r.ShiftCode == code || (r.ShiftCode == "" && p.night[code]) {
			out = append(out, r)
		}
	}
	return out
}

func (p *planner) onShift(d int, code string) []*person {
	var out []*person
	for _, x := range p.people {
		if x.on[d] == code {
			out = append(out, x)
		}
	}
	return out
}

func countSkill(xs []*person, skill string) int {
	n := 0
	for _, x := range xs {
		if x.skills[skill] {
			n++
		}
	}
	return n
}

// fillDay staffs every shift of day d to its minimum, skill seats first.
func (p *planner) fillDay(d int) []string {
	var unfilled []string
	for _, m := range p.codesOfDay() {
		code := m.ShiftCode
		for _, need := range p.skillNeeds(code) {
			for countSkill(p.onShift(d, code), need.Skill) < need.Min && len(p.onShift(d, code)) < max(m.Min, need.Min) {
				if !p.seat(d, code, need.Skill) {
					unfilled = append(unfilled, fmt.Sprintf("%s %s 需要 %d 名具备 %s 的人员，只排到 %d 名（其余人员休假、缺少技能或受夜班规则限制）",
						p.date(d), p.shifts[code].Name, need.Min, need.Skill, countSkill(p.onShift(d, code), need.Skill)))
					break
				}
			}
		}
		for len(p.onShift(d, code)) < m.Min {
			if !p.seat(d, code, "") {
				unfilled = append(unfilled, fmt.Sprintf("%s %s 需要 %d 人，只排到 %d 人（其余人员休假、缺少资质或受夜班、工时规则限制）",
					p.date(d), p.shifts[code].Name, m.Min, len(p.onShift(d, code))))
				break
			}
		}
	}
	return unfilled
}

// seat puts the fairest person who may work it on code on day d; skill, when
// set, must be held. It relaxes the planner's preferences, never a hard rule.
func (p *planner) seat(d int, code, skill string) bool {
	for lv := strict; lv <= hardOnly; lv++ {
		var best *person
		var bestKey []int
		for _, x := range p.people {
			if skill != "" && !x.skills[skill] {
				continue
			}
			if !p.canTake(x, d, code, lv) {
				continue
			}
			k := p.key(x, d, code, skill)
			if best == nil || less(k, bestKey) {
				best, bestKey = x, k
			}
		}
		if best != nil {
			best.on[d] = code
			return true
		}
	}
	return false
}

func less(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// key orders candidates for a seat: fewest nights for a night seat, fewest
// weekend shifts on a weekend, fewest shifts; people a skill seat needs are
// kept for those seats; a hash of person and day breaks ties so the same
// person is not always first.
func (p *planner) key(x *person, d int, code, skill string) []int {
	st := p.stats(x)
	scarce := 0
	if skill == "" && len(x.skillSeat) > 0 {
		scarce = 1
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s|%d", x.id, d)
	tie := int(h.Sum32() & 0xffff)
	wk := 0
	if p.weekend[d] {
		wk = st.Weekends
	}
	if p.night[code] {
		return []int{st.Nights, wk, scarce, st.Shifts, tie}
	}
	return []int{wk, st.Shifts, scarce, st.Nights, tie}
}

func (p *planner) stats(x *person) PersonStats {
	s := PersonStats{UserID: x.id, NightsOK: x.nightsOK, ShiftCodes: map[string]int{}}
	for d, c := range x.on {
		if x.leave[d] {
			s.LeaveDays++
		}
		if c == "" {
			continue
		}
		sh := p.shifts[c]
		s.ShiftCodes[c]++
		if sh.Kind == "off" {
			continue
		}
		s.Shifts++
		s.PaidHours += float64(sh.Paid) / 60
		if p.night[c] {
			s.Nights++
		}
		if p.weekend[d] {
			s.Weekends++
		}
	}
	return s
}

// canTake reports whether x may work code on day d at level lv: free that
// day, the shift overlapping neither neighbour, and the person's rules
// (and, strictly, the gap preference) still met.
func (p *planner) canTake(x *person, d int, code string, lv level) bool {
	if x.on[d] != "" || x.leave[d] {
		return false
	}
	sh := p.shifts[code]
	if !p.qualified(x, sh) {
		return false
	}
	s, e := p.interval(d, code)
	for _, n := range []int{d - 1, d + 1} {
		if n < 0 || n >= p.days || x.on[n] == "" || p.shifts[x.on[n]].Kind == "off" || sh.Kind == "off" {
			continue
		}
		ns, ne := p.interval(n, x.on[n])
		if s < ne && ns < e {
			return false
		}
		if lv == strict {
			gap := p.opt.MinGapHours * 60
			if (n < d && s-ne < gap) || (n > d && ns-e < gap) {
				return false
			}
		}
	}
	x.on[d] = code
	ok := p.personOK(x, lv == hardOnly)
	x.on[d] = ""
	return ok
}

func (p *planner) interval(d int, code string) (int, int) {
	sh := p.shifts[code]
	s := d*minutesPerDay + sh.Start
	return s, s + sh.Length
}

// violation is one rule a person's month breaks, as the roster service
// would report it.
type violation struct {
	rule, severity string
	day            int
	message        string
}

// personOK reports whether x's month breaks none of the person rules
// (hard ones only when hardOnly).
func (p *planner) personOK(x *person, hardOnly bool) bool {
	for _, v := range p.personViolations(x) {
		if !hardOnly || v.severity == sdk.SeverityHard {
			return false
		}
	}
	return true
}

// personViolations mirrors the roster service's per-person rules: approved
// leave, qualifications, rest after the last night of a run, consecutive
// nights, paid hours per ISO week.
func (p *planner) personViolations(x *person) []violation {
	r := p.setup.Rules
	var out []violation
	lastNightEnd, restOwed := 0, false
	run, prevNight := 0, -1<<30
	week := map[int]int{}
	for d, code := range x.on {
		if code == "" {
			continue
		}
		sh := p.shifts[code]
		if sh.Kind == "off" {
			continue
		}
		if r.ApprovedLeave != "" && x.leave[d] {
			out = append(out, violation{"approved_leave", r.ApprovedLeave, d, "休假日被排班"})
		}
		if r.Qualification != "" && !p.qualified(x, sh) {
			out = append(out, violation{"qualification", r.Qualification, d, "缺少资质"})
		}
		start, end := p.interval(d, code)
		backup := sh.Kind == "backup"
		if !sh.Night && !backup && restOwed {
			if r.MinRestAfterNightHours.Value > 0 && start-lastNightEnd < r.MinRestAfterNightHours.Value*60 {
				out = append(out, violation{"min_rest_after_night", r.MinRestAfterNightHours.Severity, d, "夜班后休息不足"})
			}
			restOwed = false
		}
		if sh.Night && !backup {
			if d == prevNight+1 {
				run++
			} else if d != prevNight {
				run = 1
			}
			prevNight = d
			if r.MaxConsecutiveNights.Value > 0 && run > r.MaxConsecutiveNights.Value {
				out = append(out, violation{"max_consecutive_nights", r.MaxConsecutiveNights.Severity, d, "连续夜班过多"})
			}
			lastNightEnd, restOwed = end, true
		} else if !backup && d > prevNight {
			run = 0
		}
		week[p.isoWeek[d]] += sh.Paid
	}
	if r.MaxHoursPerWeek.Value > 0 {
		for w, m := range week {
			if m > r.MaxHoursPerWeek.Value*60 {
				out = append(out, violation{"max_hours_per_week", r.MaxHoursPerWeek.Severity, w, "周工时超限"})
			}
		}
	}
	return out
}

// slotOK reports whether code on day d still meets its skill mix.
func (p *planner) slotOK(d int, code string) bool {
	on := p.onShift(d, code)
	if len(on) == 0 {
		return true
	}
	for _, need := range p.skillNeeds(code) {
		if countSkill(on, need.Skill) < need.Min {
			return false
		}
	}
	return true
}

// balance improves fairness by moving a shift from one person to another
// on the same day, or swapping two people's shifts of a day, while every
// rule and preference still holds. Fairness is judged lexicographically:
// nights first, then weekend shifts, then shifts; each as a sum of squares,
// which a move from someone with more to someone with at least two fewer
// lowers.
func (p *planner) balance() {
	deadline := time.Now().Add(1500 * time.Millisecond)
	for pass := 0; pass < 60 && time.Now().Before(deadline); pass++ {
		improved := false
		for d := 0; d < p.days; d++ {
			for _, a := range p.people {
				if a.on[d] == "" {
					continue
				}
				for _, b := range p.people {
					if a == b {
						continue
					}
					if p.tryMove(a, b, d) {
						improved = true
						break
					}
				}
			}
		}
		if !improved {
			return
		}
	}
}

// tryMove gives a's shift on day d to b (swapping with b's shift that day,
// if any) when that is fairer and breaks nothing.
func (p *planner) tryMove(a, b *person, d int) bool {
	ca, cb := a.on[d], b.on[d]
	if ca == cb {
		return false
	}
	if !p.fairer(a, b, d, ca, cb) {
		return false
	}
	a.on[d], b.on[d] = "", ""
	okB := p.canTake(b, d, ca, strict)
	okA := cb == "" || p.canTake(a, d, cb, strict)
	if okB && okA {
		b.on[d], a.on[d] = ca, cb
		if p.slotOK(d, ca) && (cb == "" || p.slotOK(d, cb)) && p.personOK(a, false) {
			return true
		}
	}
	a.on[d], b.on[d] = ca, cb
	return false
}

// fairer reports whether a giving ca to b (and taking cb, maybe none) on day
// d lowers the lexicographic unfairness.
func (p *planner) fairer(a, b *person, d int, ca, cb string) bool {
	sa, sb := p.stats(a), p.stats(b)
	val := func(c string) (n, w, s int) {
		if c == "" || p.shifts[c].Kind == "off" {
			return 0, 0, 0
		}
		if p.night[c] {
			n = 1
		}
		if p.weekend[d] {
			w = 1
		}
		return n, w, 1
	}
	na, wa, ta := val(ca)
	nb, wb, tb := val(cb)
	// a's counts change by (b's value - a's value), b's the other way.
	delta := func(xa, xb, va, vb int) int {
		da := vb - va
		return (xa+da)*(xa+da) + (xb-da)*(xb-da) - xa*xa - xb*xb
	}
	dn := 0
	if a.nightsOK && b.nightsOK {
		dn = delta(sa.Nights, sb.Nights, na, nb)
	} else if na != nb {
		return false
	}
	for _, dv := range []int{dn, delta(sa.Weekends, sb.Weekends, wa, wb), delta(sa.Shifts, sb.Shifts, ta, tb)} {
		if dv != 0 {
			return dv < 0
		}
	}
	return false
}

func (p *planner) report(unfilled []string) Plan {
	pl := Plan{Month: p.setup.Month, Unfilled: unfilled}
	for d := 0; d < p.days; d++ {
		for _, x := range p.people {
			if x.on[d] != "" {
				pl.Assignments = append(pl.Assignments, sdk.Assignment{UserID: x.id, Date: p.date(d), Shift: x.on[d]})
			}
		}
	}
	first := map[string]bool{}
	for _, x := range p.people {
		st := p.stats(x)
		pl.People = append(pl.People, st)
		widen := func(s *Spread, v int, key string) {
			if !first[key] {
				*s, first[key] = Spread{v, v}, true
				return
			}
			s.Min, s.Max = min(s.Min, v), max(s.Max, v)
		}
		if x.nightsOK {
			widen(&pl.Nights, st.Nights, "n")
		}
		widen(&pl.Weekends, st.Weekends, "w")
		widen(&pl.Shifts, st.Shifts, "s")
	}
	for _, x := range p.people {
		for _, v := range p.personViolations(x) {
			pl.Unfilled = append(pl.Unfilled, fmt.Sprintf("%s %s: %s（%s）", p.date(v.day), p.name(x.id), v.message, v.rule))
		}
	}
	pl.Notes = p.explain(pl)
	return pl
}

// explain says, where it can, why nights or weekends are not spread within
// one.
func (p *planner) explain(pl Plan) []string {
	var notes []string
	if !pl.Nights.Fair() {
		// With nights spread within one, everyone works L or L+1 of them
		// and k people work L+1; the holders of a skill the night seats
		// need can then cover at most min(holders,k)·(L+1) +
		// (holders-k)·L seats.
		eligible, total := 0, 0
		for _, st := range pl.People {
			if st.NightsOK {
				eligible++
				total += st.Nights
			}
		}
		for _, r := range p.setup.Rules.SkillMix {
			holders, seats := 0, 0
			for _, x := range p.people {
				if x.skills[r.Skill] && x.nightsOK {
					holders++
				}
			}
			for code := range p.night {
				if r.ShiftCode == code || r.ShiftCode == "" {
					seats += r.Min * p.days
				}
			}
			if eligible == 0 || holders == 0 {
				continue
			}
			l := total / eligible
			k := total - l*eligible
			if seats > min(holders, k)*(l+1)+max(0, holders-k)*l {
				notes = append(notes, fmt.Sprintf("夜班每天需要 %s：本月 %d 个这样的夜班席位只有 %d 人能上，这些人员的夜班不可能与其他人相差不超过 1", r.Skill, seats, holders))
			}
		}
		notes = append(notes, "夜班差距超过 1："+p.extremes(pl, func(s PersonStats) int { return s.Nights }, pl.Nights, true))
	}
	if !pl.Weekends.Fair() {
		notes = append(notes, "周末班差距超过 1："+p.extremes(pl, func(s PersonStats) int { return s.Weekends }, pl.Weekends, false))
	}
	return notes
}

func (p *planner) extremes(pl Plan, f func(PersonStats) int, s Spread, nightsOnly bool) string {
	var lows []string
	for _, st := range pl.People {
		if nightsOnly && !st.NightsOK {
			continue
		}
		if f(st) == s.Min {
			w := p.name(st.UserID)
			if st.LeaveDays > 0 {
				w += fmt.Sprintf("（休假 %d 天）", st.LeaveDays)
			}
			lows = append(lows, w)
		}
	}
	return fmt.Sprintf("最少 %d 个的是 %s；其余人员受休假、技能要求或连续夜班、夜班后休息、周工时规则限制", s.Min, strings.Join(lows, "、"))
}
