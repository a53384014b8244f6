package main

import (
	"context"
	"time"

	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/roster"
)

// onDuty lets an urgent message reach "whoever is on call for Ward 5 now":
// on call, else backup, else the ward's head (nurse).
type onDuty struct{ r *roster.Service }

var _ im.OnDutyResolver = onDuty{}

func (o onDuty) OnDuty(ctx context.Context, orgID, target string, at time.Time) ([]string, error) {
	who, _, err := o.r.Reach(ctx, orgID, target, at)
	if err != nil {
		return nil, err
	}
	if len(who) == 0 {
		return nil, core.Errorf(core.ENotFound, "nobody is on call, on backup or heads department %s", target)
	}
	return who, nil
}

// rosterSchedule lets attendance read duties and leave from rostering.
type rosterSchedule struct{ svc *roster.Service }

var _ attendance.Schedule = rosterSchedule{}

func (s rosterSchedule) Location(ctx context.Context, orgID string) (*time.Location, error) {
	return s.svc.Location(ctx, orgID)
}

func (s rosterSchedule) Duties(ctx context.Context, orgID, userID string, from, to time.Time) ([]attendance.Duty, error) {
	loc, err := s.svc.Location(ctx, orgID)
	if err != nil {
		return nil, err
	}
	shifts, err := s.svc.ScheduleOf(ctx, orgID, userID, roster.DateOf(from.In(loc)), roster.DateOf(to.In(loc)))
	if err != nil {
		return nil, err
	}
	out := make([]attendance.Duty, 0, len(shifts))
	for _, sh := range shifts {
		if sh.Start.Before(from) || !sh.Start.Before(to) || sh.Kind == roster.KindBackup {
			continue // backup (备班) is availability, not presence
		}
		out = append(out, attendance.Duty{Date: sh.Date.String(), Name: sh.ShiftName, Start: sh.Start, End: sh.End})
	}
	return out, nil
}

func (s rosterSchedule) LeaveDates(ctx context.Context, orgID, userID string, from, to time.Time) ([]string, error) {
	loc, err := s.svc.Location(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ds, err := s.svc.LeaveDates(ctx, orgID, userID, roster.DateOf(from.In(loc)), roster.DateOf(to.Add(-time.Nanosecond).In(loc)))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out, nil
}
