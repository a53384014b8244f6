package roster

import (
	"sort"
	"time"
)

// Duty is who is on duty for a department at one moment.
type Duty struct {
	At     time.Time `json:"at"`
	OnDuty []string  `json:"on_duty"` // on a worked shift now
	OnCall []string  `json:"on_call"` // 值班
	Backup []string  `json:"backup"`  // 备班
}

// DutyIndex answers "who is on duty now" for one department's published
// roster without scanning it: assignments are bucketed by date, and a moment
// looks at its own date and the day before (for shifts crossing midnight).
type DutyIndex struct {
	loc    *time.Location
	shifts map[string]Shift
	byDate map[Date][]Assignment
}

// NewDutyIndex indexes a published roster.
func NewDutyIndex(r Roster, shifts map[string]Shift, loc *time.Location) *DutyIndex {
	ix := &DutyIndex{loc: loc, shifts: shifts, byDate: make(map[Date][]Assignment, int(r.To-r.From)+1)}
	for _, a := range r.Assignments {
		ix.byDate[a.Date] = append(ix.byDate[a.Date], a)
	}
	return ix
}

// At returns who is on duty at t.
func (ix *DutyIndex) At(t time.Time) Duty {
	d := Duty{At: t}
	local := t.In(ix.loc)
	today := DateOf(local)
	for _, date := range []Date{today - 1, today} {
		for _, a := range ix.byDate[date] {
			sh := ix.shifts[a.ShiftID]
			if sh.Kind == KindOff {
				continue
			}
			s, e := sh.Interval(date, ix.loc)
			if t.Before(s) || !t.Before(e) {
				continue
			}
			switch sh.Kind {
			case KindWork:
				d.OnDuty = append(d.OnDuty, a.UserID)
			case KindOnCall:
				d.OnCall = append(d.OnCall, a.UserID)
			case KindBackup:
				d.Backup = append(d.Backup, a.UserID)
			}
		}
	}
	sort.Strings(d.OnDuty)
	sort.Strings(d.OnCall)
	sort.Strings(d.Backup)
	return d
}

// Reach is who an urgent message for the department should reach at t: the
// people on call, else the backup, else the fallback (the head nurse, given by
// the caller from the org chart).
func (d Duty) Reach(fallback []string) (who []string, tier string) {
	switch {
	case len(d.OnCall) > 0:
		return d.OnCall, "on_call"
	case len(d.Backup) > 0:
		return d.Backup, "backup"
	default:
		return fallback, "head"
	}
}
