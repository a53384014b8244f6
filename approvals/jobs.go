package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
)

// DelegationInput sets a delegate for a period (e.g. while on leave).
type DelegationInput struct {
	DelegateID string    `json:"delegate_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// SetDelegation sends the actor's new tasks to a delegate between Start and
// End. Tasks already assigned stay (the delegate sees them through transfer).
func (s *Service) SetDelegation(ctx context.Context, in DelegationInput) (*Delegation, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
		return nil, err
	}
	if !core.ValidID(in.DelegateID) || in.DelegateID == a.UserID {
		return nil, core.Invalid("delegate_id", "name someone else by user id")
	}
	if in.Start.IsZero() || in.End.IsZero() || !in.End.After(in.Start) {
		return nil, core.Invalid("end", "a delegation needs a start and a later end")
	}
	if in.End.Sub(in.Start) > 366*24*time.Hour {
		return nil, core.Invalid("end", "a delegation lasts at most a year")
	}
	if ok, err := s.dir.IsActive(ctx, a.OrgID, in.DelegateID); err != nil || !ok {
		return nil, core.Invalid("delegate_id", "that person is not a current member of staff")
	}
	d := Delegation{ID: core.NewID(), OrgID: a.OrgID, UserID: a.UserID, DelegateID: in.DelegateID,
		Start: in.Start.UTC().Truncate(time.Millisecond), End: in.End.UTC().Truncate(time.Millisecond), CreatedAt: s.now()}
	if err := s.store.PutDelegation(ctx, d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Delegations lists the actor's delegations.
func (s *Service) Delegations(ctx context.Context) ([]Delegation, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.Delegations(ctx, a.OrgID, a.UserID)
}

// DeleteDelegation ends one of the actor's delegations.
func (s *Service) DeleteDelegation(ctx context.Context, id string) error {
	a, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if !core.ValidID(id) {
		return core.Invalid("id", "not a delegation id")
	}
	return s.store.DeleteDelegation(ctx, a.OrgID, a.UserID, id)
}

// HandOver gives a leaver's open tasks to their direct manager (the lead
// subscribes it to orgchart.staff.left). Tasks whose leaver has no active
// manager go to the flow's admins; when there are none either they stay and
// the request is reported in the returned error. Running it twice is
// harmless: the second run finds no open tasks.
func (s *Service) HandOver(ctx context.Context, orgID, leaverID string) (int, error) {
	tasks, err := s.store.OpenTasksOf(ctx, orgID, leaverID)
	if err != nil {
		return 0, err
	}
	managers, err := s.dir.ManagerOf(ctx, orgID, leaverID, 1)
	if gone(err) {
		managers, err = nil, nil // the flow's admins take over
	}
	if err != nil {
		return 0, dirErr(err)
	}
	managers = s.active(ctx, orgID, managers)
	sys := core.Actor{Kind: core.ActorSystem, OrgID: orgID}
	moved := 0
	var errs []error
	seen := map[string]bool{}
	for _, t := range tasks {
		if seen[t.RequestID] {
			continue
		}
		seen[t.RequestID] = true
		_, err := s.actAs(ctx, sys, t.RequestID, "", ActHandOver, func(x *run, _ core.Actor) error {
			for _, ot := range x.openTasks() {
				if ot.AssigneeID != leaverID {
					continue
				}
				to := ""
				for _, m := range append(append([]string{}, managers...), s.active(ctx, orgID, x.flow.Admins)...) {
					if m == leaverID || x.holds(m) {
						continue
					}
					to = m
					break
				}
				if to == "" {
					return core.Errorf(core.EConflict, "request %s: nobody to hand %s's task to", x.r.ID, leaverID)
				}
				if ot.State == TaskWaiting {
					ot.State, ot.dirty = TaskTransferred, true
					x.addTask(&Task{Node: ot.Node, StepIndex: ot.StepIndex, Activation: ot.Activation, Order: ot.Order, AssigneeID: to, OnBehalfOf: leaverID, State: TaskWaiting})
					if err := x.log(ActHandOver, ot.Node, "", nil, map[string]any{"from": leaverID, "to": to}); err != nil {
						return err
					}
				} else if err := x.transfer(ot, to, ActHandOver, "", nil); err != nil {
					return err
				}
				moved++
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return moved, errors.Join(errs...)
}

// holds reports whether user has an open task in the active step.
func (x *run) holds(user string) bool {
	for _, t := range x.openTasks() {
		if t.AssigneeID == user {
			return true
		}
	}
	return false
}

// Tick reminds assignees whose task passed its node's time limit and, for
// nodes with on_timeout "escalate", hands a task still untouched after a
// second time limit to the assignee's manager. The lead runs it on a ticker;
// it returns how many tasks it handled.
func (s *Service) Tick(ctx context.Context, now time.Time) (int, error) {
	due, err := s.store.DueTasks(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, dt := range due {
		sys := core.Actor{Kind: core.ActorSystem, OrgID: dt.OrgID}
		_, err := s.actAs(ctx, sys, dt.RequestID, "", ActRemind, func(x *run, _ core.Actor) error {
			x.now = now.UTC().Truncate(time.Millisecond)
			var t *Task
			for _, o := range x.tasks {
				if o.ID == dt.ID {
					t = o
				}
			}
			if t == nil || t.State != TaskPending || t.Activation != x.r.Activation || t.DueAt.IsZero() || t.DueAt.After(x.now) {
				return nil // acted on meanwhile
			}
			_, node := x.stepNode(x.r.Cursor)
			limit := time.Duration(node.TimeLimitMins) * time.Minute
			if t.RemindedAt.IsZero() || node.OnTimeout != TimeoutEscalate {
				t.RemindedAt, t.dirty = x.now, true
				t.DueAt = time.Time{}
				if node.OnTimeout == TimeoutEscalate && limit > 0 {
					t.DueAt = x.now.Add(limit)
				}
				x.notifyTasks["remind"] = append(x.notifyTasks["remind"], t.AssigneeID)
				n++
				return x.sysLog(ActRemind, t.Node, map[string]any{"user": t.AssigneeID})
			}
			mgrs, err := x.s.dir.ManagerOf(x.ctx, x.r.OrgID, t.AssigneeID, 1)
			if gone(err) {
				mgrs, err = nil, nil
			}
			if err != nil {
				return dirErr(err)
			}
			for _, m := range x.s.active(x.ctx, x.r.OrgID, mgrs) {
				if m != t.AssigneeID && !x.holds(m) {
					x.actor = ""
					if err := x.transfer(t, m, ActEscalate, "", nil); err != nil {
						return err
					}
					x.tasks[len(x.tasks)-1].Escalated = true
					n++
					return nil
				}
			}
			t.DueAt, t.Escalated, t.dirty = time.Time{}, true, true // nobody above: stop looking
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// OnStaffLeft is a bus handler for orgchart.staff.left: it reads org_id and
// user_id from the event and hands the leaver's open tasks over. Subscribe
// it with bus.Subscribe("orgchart.staff.left", svc.OnStaffLeft). Events are
// at most once, so the lead should also run HandOver for leavers found at
// start-up if that matters; a second HandOver is harmless.
func (s *Service) OnStaffLeft(ev bus.Event) {
	var p struct {
		OrgID  string `json:"org_id"`
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(ev.Data, &p); err != nil || p.OrgID == "" || p.UserID == "" {
		s.log.Warn("approvals: unreadable staff-left event", "subject", ev.Subject, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := s.HandOver(ctx, p.OrgID, p.UserID); err != nil {
		s.log.Error("approvals: hand over a leaver's tasks", "user", p.UserID, "moved", n, "err", err)
	}
}
