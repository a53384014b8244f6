package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/builtin"
	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/roster"
)

// approvalEffects applies what a finished, approved request means elsewhere:
// leave goes on the roster (and so into attendance), overtime and make-up
// clock-ins into attendance, an approved shift swap changes the roster. It
// is the approvals service's Finisher: called once per finished request by
// the node that finished it, again from the outbox if that node died first,
// so every effect is idempotent per request (leave and attendance records
// are keyed by it; a swap checks the roster's versions for its reason).
type approvalEffects struct {
	roster     *roster.Service
	attendance *attendance.Service
}

var _ approvals.Finisher = approvalEffects{}

func (e approvalEffects) RequestFinished(ctx context.Context, ev approvals.Event) error {
	source := "approval:" + ev.RequestID
	if _, start, end, _, ok := builtin.LeaveOf(ev); ok {
		from, err1 := roster.ParseDate(start)
		to, err2 := roster.ParseDate(end)
		if err1 != nil || err2 != nil {
			return err1
		}
		return e.roster.RecordLeave(ctx, ev.OrgID, ev.SubmitterID, from, to, source)
	}
	if date, minutes, ok := builtin.OvertimeOf(ev); ok {
		return e.attendance.RecordOvertime(ctx, ev.OrgID, ev.SubmitterID, date, minutes, ev.RequestID)
	}
	if kind, date, clock, ok := builtin.MakeUpOf(ev); ok {
		loc, err := e.roster.Location(ctx, ev.OrgID)
		if err != nil {
			return err
		}
		at, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
		if err != nil {
			return err
		}
		return e.attendance.MakeUp(ctx, ev.OrgID, ev.SubmitterID, kind, at, ev.RequestID)
	}
	if sw, ok := swapOf(ev); ok {
		mine, err1 := roster.ParseDate(sw.MyDate)
		theirs, err2 := roster.ParseDate(sw.TheirDate)
		if err1 != nil || err2 != nil {
			return err1
		}
		_, err := e.roster.Swap(ctx, ev.OrgID, ev.DeptID, ev.SubmitterID, mine, sw.With, theirs, "调班审批 "+ev.RequestID)
		return err
	}
	return nil
}

type swap struct {
	With      string `json:"swap_with"`
	MyDate    string `json:"my_shift_date"`
	TheirDate string `json:"their_shift_date"`
}

// swapOf reads an approved shift-swap request.
func swapOf(ev approvals.Event) (swap, bool) {
	var s swap
	if ev.TemplateCode != builtin.ShiftSwap || ev.Status != approvals.StatusApproved || json.Unmarshal(ev.Form, &s) != nil {
		return s, false
	}
	return s, s.With != "" && s.MyDate != "" && s.TheirDate != ""
}
