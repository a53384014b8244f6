package builtin

import (
	"encoding/json"
	"math"

	"github.com/roundshq/rounds/approvals"
)

// The functions below read an approvals.request.finished event of a built-in
// template, so the composition root can hand approved leave, overtime and
// make-up clock-ins to attendance without knowing the form's keys. Each
// reports ok=false for another template, a status other than approved, or a
// form edited so it no longer has the fields.

// LeaveOf reads an approved leave request: its type and dates (inclusive).
func LeaveOf(ev approvals.Event) (leaveType, start, end string, days float64, ok bool) {
	var f struct {
		Type   string              `json:"leave_type"`
		Period approvals.DateRange `json:"period"`
		Days   float64             `json:"leave_days"`
	}
	if !approvedForm(ev, Leave, &f) || f.Period.Start == "" || f.Period.End == "" {
		return "", "", "", 0, false
	}
	return f.Type, f.Period.Start, f.Period.End, f.Days, true
}

// OvertimeOf reads an approved overtime request: the date and whole minutes.
func OvertimeOf(ev approvals.Event) (date string, minutes int, ok bool) {
	var f struct {
		Day   string  `json:"day"`
		Hours float64 `json:"hours"`
	}
	if !approvedForm(ev, Overtime, &f) || f.Day == "" || f.Hours <= 0 {
		return "", 0, false
	}
	return f.Day, int(math.Round(f.Hours * 60)), true
}

// MakeUpOf reads an approved make-up clock-in: "in" or "out", the date and
// the wall-clock time (in the organisation's time zone).
func MakeUpOf(ev approvals.Event) (kind, date, clock string, ok bool) {
	var f struct {
		Day  string `json:"day"`
		At   string `json:"at"`
		Kind string `json:"kind"`
	}
	if !approvedForm(ev, MakeUp, &f) || f.Day == "" || f.At == "" || f.Kind == "" {
		return "", "", "", false
	}
	return f.Kind, f.Day, f.At, true
}

func approvedForm(ev approvals.Event, code string, v any) bool {
	if ev.TemplateCode != code || ev.Status != approvals.StatusApproved || len(ev.Form) == 0 {
		return false
	}
	return json.Unmarshal(ev.Form, v) == nil
}
