package attendance

import (
	"sort"
	"time"
)

// Duty is one stretch a person was expected at work: a rostered shift or the
// office hours of a day. Date is the civil date it belongs to ("2026-12-31"
// for a night starting that evening).
type Duty struct {
	Date  string    `json:"date"`
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Outcome of one duty.
const (
	StatusNormal     = "normal"
	StatusLate       = "late"
	StatusEarly      = "early_leave"
	StatusAbsent     = "absent"
	StatusMissingIn  = "missing_in"
	StatusMissingOut = "missing_out"
	StatusOnLeave    = "on_leave"
	StatusPending    = "pending" // the duty has not ended yet
)

// Result is how one duty went.
type Result struct {
	Duty         Duty       `json:"duty"`
	In           *time.Time `json:"in,omitempty"`
	Out          *time.Time `json:"out,omitempty"`
	Status       []string   `json:"status"`
	LateMinutes  int        `json:"late_minutes"`
	EarlyMinutes int        `json:"early_minutes"`
	WorkedMin    int        `json:"worked_minutes"`
}

// Match pairs punches with duties. For each duty, in time order, the clock-in
// is the earliest unused "in" within [start−window, end) and the clock-out
// the latest unused "out" within (start, end+window]. A duty on a leave date
// is on leave whatever the punches. A duty that has not ended by now is
// pending unless it already has both punches.
func Match(duties []Duty, punches []Punch, leave map[string]bool, r Rules, now time.Time) []Result {
	sort.Slice(duties, func(i, j int) bool { return duties[i].Start.Before(duties[j].Start) })
	ps := append([]Punch(nil), punches...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].At.Before(ps[j].At) })
	used := make([]bool, len(ps))
	window := time.Duration(r.Window) * time.Minute
	out := make([]Result, 0, len(duties))
	for _, d := range duties {
		res := Result{Duty: d}
		if leave[d.Date] {
			res.Status = []string{StatusOnLeave}
			out = append(out, res)
			continue
		}
		inIdx, outIdx := -1, -1
		for i, p := range ps {
			if used[i] || p.Kind != "in" {
				continue
			}
			if !p.At.Before(d.Start.Add(-window)) && p.At.Before(d.End) {
				inIdx = i
				break
			}
		}
		for i := len(ps) - 1; i >= 0; i-- {
			p := ps[i]
			if used[i] || p.Kind != "out" || i == inIdx {
				continue
			}
			if p.At.After(d.Start) && !p.At.After(d.End.Add(window)) && (inIdx < 0 || p.At.After(ps[inIdx].At)) {
				outIdx = i
				break
			}
		}
		if inIdx >= 0 {
			used[inIdx] = true
			t := ps[inIdx].At
			res.In = &t
		}
		if outIdx >= 0 {
			used[outIdx] = true
			t := ps[outIdx].At
			res.Out = &t
		}
		ended := !now.Before(d.End.Add(window))
		switch {
		case res.In == nil && res.Out == nil && ended:
			res.Status = append(res.Status, StatusAbsent)
		case res.In == nil && res.Out == nil:
			res.Status = append(res.Status, StatusPending)
		default:
			if res.In == nil {
				res.Status = append(res.Status, StatusMissingIn)
			} else if late := res.In.Sub(d.Start); late > time.Duration(r.LateGrace)*time.Minute {
				res.LateMinutes = int(late.Minutes())
				res.Status = append(res.Status, StatusLate)
			}
			if res.Out == nil {
				if ended {
					res.Status = append(res.Status, StatusMissingOut)
				} else {
					res.Status = append(res.Status, StatusPending)
				}
			} else if early := d.End.Sub(*res.Out); early > time.Duration(r.EarlyGrace)*time.Minute {
				res.EarlyMinutes = int(early.Minutes())
				res.Status = append(res.Status, StatusEarly)
			}
			if res.In != nil && res.Out != nil {
				from, to := *res.In, *res.Out
				if from.Before(d.Start) {
					from = d.Start
				}
				if to.After(d.End) {
					to = d.End
				}
				if to.After(from) {
					res.WorkedMin = int(to.Sub(from).Minutes())
				}
			}
			if len(res.Status) == 0 {
				res.Status = []string{StatusNormal}
			}
		}
		out = append(out, res)
	}
	return out
}

// Summary counts a person's month.
type Summary struct {
	UserID          string `json:"user_id"`
	Month           string `json:"month"` // 2026-12
	Duties          int    `json:"duties"`
	Normal          int    `json:"normal"`
	Late            int    `json:"late"`
	LateMinutes     int    `json:"late_minutes"`
	EarlyLeave      int    `json:"early_leave"`
	Absent          int    `json:"absent"`
	MissingPunches  int    `json:"missing_punches"`
	OnLeave         int    `json:"on_leave"`
	WorkedMinutes   int    `json:"worked_minutes"`
	OvertimeMinutes int    `json:"overtime_minutes"`
}

// Summarize counts results (and approved overtime) into a month summary.
func Summarize(userID, month string, results []Result, overtimeMinutes int) Summary {
	s := Summary{UserID: userID, Month: month, OvertimeMinutes: overtimeMinutes}
	for _, r := range results {
		s.Duties++
		s.WorkedMinutes += r.WorkedMin
		s.LateMinutes += r.LateMinutes
		for _, st := range r.Status {
			switch st {
			case StatusNormal:
				s.Normal++
			case StatusLate:
				s.Late++
			case StatusEarly:
				s.EarlyLeave++
			case StatusAbsent:
				s.Absent++
			case StatusMissingIn, StatusMissingOut:
				s.MissingPunches++
			case StatusOnLeave:
				s.OnLeave++
			}
		}
	}
	return s
}

// OfficeDuties are the fixed-schedule duties of the dates [from, to] (civil
// dates in loc) for staff who are not rostered.
func OfficeDuties(o Office, from, to time.Time, loc *time.Location) []Duty {
	var out []Duty
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc); !d.After(to); d = d.AddDate(0, 0, 1) {
		work := false
		for _, w := range o.Weekdays {
			if d.Weekday() == w {
				work = true
			}
		}
		if !work {
			continue
		}
		out = append(out, Duty{Date: d.Format("2006-01-02"), Name: "office",
			Start: d.Add(time.Duration(o.Start) * time.Minute), End: d.Add(time.Duration(o.End) * time.Minute)})
	}
	return out
}
