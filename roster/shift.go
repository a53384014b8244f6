package roster

import (
	"fmt"
	"regexp"
	"time"

	"github.com/roundshq/rounds/core"
)

// ShiftKind says what a shift means for duty and hours.
type ShiftKind string

const (
	KindWork   ShiftKind = "work"    // an ordinary worked shift
	KindOnCall ShiftKind = "on_call" // 值班: the first person called
	KindBackup ShiftKind = "backup"  // 备班: called when on call does not answer
	KindOff    ShiftKind = "off"     // 休: a rostered day off
)

// Shift is a kind of duty an organisation works. Start and End are minutes
// after midnight; End <= Start means the shift ends the next day.
type Shift struct {
	ID           string    `json:"id"`
	OrgID        string    `json:"org_id"`
	Code         string    `json:"code"` // short label on the roster grid: 白, 小, 大, A, P, N, 值, 备, 休
	Name         string    `json:"name"`
	Kind         ShiftKind `json:"kind"`
	Start        int       `json:"start_minute"`
	End          int       `json:"end_minute"`
	BreakMinutes int       `json:"break_minutes"`
	PaidMinutes  int       `json:"paid_minutes"` // 0: length minus breaks
	Night        bool      `json:"night"`        // counts as a night for the night rules
	// Overnight must be set when the shift ends the next day (End <= Start);
	// it guards against a typo making an 8-hour shift 16 hours long.
	Overnight bool   `json:"crosses_midnight"`
	Colour    string `json:"colour"` // #rrggbb
	// Requires lists qualifications a person must hold to work it (e.g. "icu").
	Requires []string `json:"requires,omitempty"`
}

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks a shift definition.
func (s Shift) Validate() error {
	switch {
	case s.Code == "" || len([]rune(s.Code)) > 4:
		return core.Invalid("code", "a shift code has 1 to 4 characters")
	case s.Name == "":
		return core.Invalid("name", "a shift needs a name")
	case s.Kind != KindWork && s.Kind != KindOnCall && s.Kind != KindBackup && s.Kind != KindOff:
		return core.Invalid("kind", "kind must be work, on_call, backup or off")
	case s.Start < 0 || s.Start >= 24*60:
		return core.Invalid("start_minute", "start must be between 00:00 and 23:59")
	case s.End < 0 || s.End > 24*60:
		return core.Invalid("end_minute", "end must be between 00:00 and 24:00")
	case s.Kind != KindOff && s.End <= s.Start && !s.Overnight:
		return core.Invalid("end_minute", "the shift ends (%s) before it starts (%s): set crosses_midnight if it ends the next day", HHMM(s.End), HHMM(s.Start))
	case s.Kind != KindOff && s.End > s.Start && s.Overnight:
		return core.Invalid("crosses_midnight", "the shift ends the same day; crosses_midnight must be false")
	case s.BreakMinutes < 0 || (s.Kind != KindOff && s.BreakMinutes >= s.Length()):
		return core.Invalid("break_minutes", "breaks must be shorter than the shift")
	case s.PaidMinutes < 0 || s.PaidMinutes > s.Length():
		return core.Invalid("paid_minutes", "paid time cannot exceed the shift")
	case s.Colour != "" && !colourRE.MatchString(s.Colour):
		return core.Invalid("colour", "colour must look like #1e88e5")
	}
	return nil
}

// CrossesMidnight reports whether the shift ends the next day.
func (s Shift) CrossesMidnight() bool { return s.Kind != KindOff && s.Overnight }

// Length is the shift's length in minutes (0 for a day off).
func (s Shift) Length() int {
	if s.Kind == KindOff {
		return 0
	}
	if !s.Overnight {
		return s.End - s.Start
	}
	return 24*60 - s.Start + s.End
}

// Paid is the paid time in minutes.
func (s Shift) Paid() int {
	if s.Kind == KindOff {
		return 0
	}
	if s.PaidMinutes > 0 {
		return s.PaidMinutes
	}
	return s.Length() - s.BreakMinutes
}

// Interval returns when the shift worked on date runs, in loc.
func (s Shift) Interval(date Date, loc *time.Location) (time.Time, time.Time) {
	day := date.In(loc)
	start := day.Add(time.Duration(s.Start) * time.Minute)
	return start, start.Add(time.Duration(s.Length()) * time.Minute)
}

// HHMM formats minutes after midnight.
func HHMM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Pattern is a ready-made set of shifts.
type Pattern struct {
	Key    string  `json:"key"`
	Name   string  `json:"name"`
	Shifts []Shift `json:"shifts"`
}

func h(x int) int { return x * 60 }

// Patterns are the shift sets a ward can adopt in one click.
var Patterns = []Pattern{
	{Key: "three_shift", Name: "三班倒 (白班 / 小夜 / 大夜)", Shifts: []Shift{
		{Code: "白", Name: "白班", Kind: KindWork, Start: h(8), End: h(16), BreakMinutes: 30, Colour: "#4caf50"},
		{Code: "小", Name: "小夜", Kind: KindWork, Start: h(16), End: h(24), BreakMinutes: 30, Colour: "#ff9800"},
		{Code: "大", Name: "大夜", Kind: KindWork, Start: 0, End: h(8), BreakMinutes: 30, Night: true, Colour: "#3f51b5"},
	}},
	{Key: "apn", Name: "APN 排班", Shifts: []Shift{
		{Code: "A", Name: "A 班", Kind: KindWork, Start: h(8), End: h(15), BreakMinutes: 30, Colour: "#4caf50"},
		{Code: "P", Name: "P 班", Kind: KindWork, Start: h(15), End: h(22), BreakMinutes: 30, Colour: "#ff9800"},
		{Code: "N", Name: "N 班", Kind: KindWork, Start: h(22), End: h(8), BreakMinutes: 60, Night: true, Overnight: true, Colour: "#3f51b5"},
	}},
	{Key: "on_call", Name: "值班 / 备班", Shifts: []Shift{
		{Code: "值", Name: "值班", Kind: KindOnCall, Start: h(8), End: h(8), Night: true, Overnight: true, Colour: "#e53935"},
		{Code: "备", Name: "备班", Kind: KindBackup, Start: h(8), End: h(8), Overnight: true, Colour: "#8e24aa"},
	}},
	{Key: "day_off", Name: "休息", Shifts: []Shift{
		{Code: "休", Name: "休息", Kind: KindOff, Colour: "#9e9e9e"},
	}},
}
