package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
)

// ActionInput is the body of approve, withdraw, comment and urge.
type ActionInput struct {
	ActionID    string   `json:"action_id"`
	Comment     string   `json:"comment,omitempty"`
	Attachments []string `json:"attachments,omitempty"` // file ids
}

// Reject targets.
const (
	RejectToSubmitter = "submitter" // the request ends rejected; the submitter may resubmit
	RejectToPrevious  = "previous"  // back to the previous approval step
)

// RejectInput rejects the actor's task.
type RejectInput struct {
	ActionInput
	To string `json:"to,omitempty"` // submitter (default) or previous
}

// TransferInput hands the actor's task to someone else.
type TransferInput struct {
	ActionInput
	To string `json:"to"`
}

// Signer positions.
const (
	Before = "before" // the added signer decides first, then the step starts again
	After  = "after"  // the added signer decides after this step
)

// AddSignerInput adds a signer before or after the actor's step.
type AddSignerInput struct {
	ActionInput
	UserID   string `json:"user_id"`
	Position string `json:"position"`
}

// ResubmitInput restarts a rejected or withdrawn request, optionally with a
// corrected form (validated against the same template version).
type ResubmitInput struct {
	ActionID string              `json:"action_id"`
	Form     json.RawMessage     `json:"form,omitempty"`
	Chosen   map[string][]string `json:"chosen,omitempty"`
}

const maxComment = 2000

func (in ActionInput) check(needComment bool) error {
	if err := checkActionID(in.ActionID); err != nil {
		return err
	}
	if len([]rune(in.Comment)) > maxComment {
		return core.Invalid("comment", "a comment is at most %d characters", maxComment)
	}
	if needComment && strings.TrimSpace(in.Comment) == "" {
		return core.Invalid("comment", "say why")
	}
	if len(in.Attachments) > MaxAttachments {
		return core.Invalid("attachments", "at most %d files", MaxAttachments)
	}
	for _, f := range in.Attachments {
		if !core.ValidID(f) {
			return core.Invalid("attachments", "%q is not a file id", f)
		}
	}
	return nil
}

var errAlreadyDecided = core.Errorf(core.EConflict, "this step was already decided")

// act runs fn on a claimed request in a transaction, with idempotency by
// action id and a retry when a concurrent action won the compare-and-swap.
func (s *Service) act(ctx context.Context, requestID, actionID, action string, fn func(x *run, a core.Actor) error) (_ Outcome, err error) {
	defer s.observe(action, time.Now(), &err)
	a, err := s.actor(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
		return Outcome{}, err
	}
	return s.actAs(ctx, a, requestID, actionID, action, fn)
}

func (s *Service) actAs(ctx context.Context, a core.Actor, requestID, actionID, action string, fn func(x *run, a core.Actor) error) (Outcome, error) {
	if !core.ValidID(requestID) {
		return Outcome{}, core.Invalid("id", "not a request id")
	}
	for attempt := 0; ; attempt++ {
		var out Outcome
		var x *run
		// Once an action runs in the transaction it finishes: a client that
		// hangs up must not interrupt statements on a shared writer.
		ctx := context.WithoutCancel(ctx)
		err := s.store.Update(ctx, func(tx Tx) error {
			replayed := func() (bool, error) {
				if actionID == "" {
					return false, nil
				}
				o, err := tx.Outcome(ctx, a.OrgID, a.UserID, actionID)
				if err != nil || o == nil {
					return false, err
				}
				if o.Action != action || o.RequestID != requestID {
					return false, core.Invalid("action_id", "this action_id was used for another action")
				}
				out = *o
				out.Replayed = true
				return true, nil
			}
			if done, err := replayed(); done || err != nil {
				return err
			}
			r, err := tx.ClaimRequest(ctx, a.OrgID, requestID)
			if err != nil {
				return err
			}
			// Claiming waits for a concurrent transaction on the request to
			// end; when that was a retry of this very action (PostgreSQL,
			// read committed), its outcome is visible now.
			if done, err := replayed(); done || err != nil {
				return err
			}
			tasks, err := tx.Tasks(ctx, r.ID)
			if err != nil {
				return err
			}
			ct, err := s.compiled(ctx, r.OrgID, r.TemplateID)
			if err != nil {
				return err
			}
			x = s.newRun(ctx, tx, a.UserID, r, tasks, ct.flow, s.now())
			if err := fn(x, a); err != nil {
				return err
			}
			if err := x.save(); err != nil {
				return err
			}
			out = Outcome{ActionID: actionID, RequestID: r.ID, Action: action, Status: r.Status, Version: r.Version}
			if actionID == "" {
				return nil
			}
			return tx.SaveOutcome(ctx, a.OrgID, a.UserID, out, x.now)
		})
		if errors.Is(err, ErrStale) && attempt < 20 {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		if !out.Replayed {
			s.after(ctx, x)
		}
		return out, nil
	}
}

// pendingTask returns the actor's pending task or a clear error: the request
// is finished, the step was already decided, or the actor is not an assignee.
func (x *run) pendingTask(a core.Actor) (*Task, error) {
	if x.r.Status != StatusPending {
		return nil, core.Errorf(core.EConflict, "the request is already %s", x.r.Status)
	}
	if t := x.myTask(a.UserID); t != nil {
		return t, nil
	}
	for _, t := range x.tasks {
		if t.AssigneeID == a.UserID && t.State == TaskCancelled {
			return nil, errAlreadyDecided
		}
	}
	return nil, core.Errorf(core.EForbidden, "you are not an approver of the current step")
}

// Approve approves the actor's task on the current step.
func (s *Service) Approve(ctx context.Context, requestID string, in ActionInput) (Outcome, error) {
	if err := in.check(false); err != nil {
		return Outcome{}, err
	}
	return s.act(ctx, requestID, in.ActionID, ActApprove, func(x *run, a core.Actor) error {
		t, err := x.pendingTask(a)
		if err != nil {
			return err
		}
		t.State, t.ActedAt, t.Comment, t.DueAt, t.dirty = TaskApproved, x.now, in.Comment, time.Time{}, true
		if err := x.log(ActApprove, t.Node, in.Comment, in.Attachments, onBehalf(t)); err != nil {
			return err
		}
		return x.afterApprove(t)
	})
}

func onBehalf(t *Task) map[string]any {
	if t.OnBehalfOf == "" {
		return nil
	}
	return map[string]any{"on_behalf_of": t.OnBehalfOf}
}

// Reject rejects the actor's task: the request ends rejected (to the
// submitter, who may resubmit) or goes back to the previous approval step.
// In a countersign step one rejection rejects the step.
func (s *Service) Reject(ctx context.Context, requestID string, in RejectInput) (Outcome, error) {
	if err := in.check(true); err != nil {
		return Outcome{}, err
	}
	if in.To == "" {
		in.To = RejectToSubmitter
	}
	if in.To != RejectToSubmitter && in.To != RejectToPrevious {
		return Outcome{}, core.Invalid("to", "to is submitter or previous")
	}
	return s.act(ctx, requestID, in.ActionID, ActReject, func(x *run, a core.Actor) error {
		t, err := x.pendingTask(a)
		if err != nil {
			return err
		}
		prev := -1
		if in.To == RejectToPrevious {
			for i := x.r.Cursor - 1; i >= 0; i-- {
				if _, n := x.stepNode(i); n.Kind == NodeApprove {
					prev = i
					break
				}
			}
			if prev < 0 {
				return core.Invalid("to", "there is no previous approval step; reject to the submitter")
			}
		}
		t.State, t.ActedAt, t.Comment, t.DueAt, t.dirty = TaskRejected, x.now, in.Comment, time.Time{}, true
		if in.To == RejectToSubmitter {
			if err := x.log(ActReject, t.Node, in.Comment, in.Attachments, onBehalf(t)); err != nil {
				return err
			}
			return x.finish(StatusRejected)
		}
		x.cancelOpen()
		if err := x.log(ActReturn, t.Node, in.Comment, in.Attachments, map[string]any{"to_step": prev}); err != nil {
			return err
		}
		x.notifyUpd["returned"] = append(x.notifyUpd["returned"], x.r.SubmitterID)
		x.r.Cursor = prev
		x.r.LastApprovers = nil
		return x.activate()
	})
}

// Transfer hands the actor's task to another active member of staff.
func (s *Service) Transfer(ctx context.Context, requestID string, in TransferInput) (Outcome, error) {
	if err := in.check(false); err != nil {
		return Outcome{}, err
	}
	if !core.ValidID(in.To) {
		return Outcome{}, core.Invalid("to", "name the person by user id")
	}
	return s.act(ctx, requestID, in.ActionID, ActTransfer, func(x *run, a core.Actor) error {
		t, err := x.pendingTask(a)
		if err != nil {
			return err
		}
		if in.To == a.UserID {
			return core.Invalid("to", "you cannot transfer to yourself")
		}
		for _, o := range x.openTasks() {
			if o.AssigneeID == in.To {
				return core.Invalid("to", "that person is already an approver of this step")
			}
		}
		if ok, err := x.s.dir.IsActive(x.ctx, x.r.OrgID, in.To); err != nil || !ok {
			return core.Invalid("to", "that person is not a current member of staff")
		}
		return x.transfer(t, in.To, ActTransfer, in.Comment, in.Attachments)
	})
}

func (x *run) transfer(t *Task, to, action, comment string, attachments []string) error {
	t.State, t.ActedAt, t.DueAt, t.dirty = TaskTransferred, x.now, time.Time{}, true
	nt := &Task{Node: t.Node, StepIndex: t.StepIndex, Activation: t.Activation, Order: t.Order, AssigneeID: to, State: TaskPending}
	x.addTask(nt)
	_, n := x.stepNode(x.r.Cursor)
	x.startTask(nt, n)
	return x.log(action, t.Node, comment, attachments, map[string]any{"from": t.AssigneeID, "to": to})
}

// AddSigner adds a person before the actor's step (they decide first, then
// the step starts again) or after it.
func (s *Service) AddSigner(ctx context.Context, requestID string, in AddSignerInput) (Outcome, error) {
	if err := in.check(false); err != nil {
		return Outcome{}, err
	}
	if !core.ValidID(in.UserID) {
		return Outcome{}, core.Invalid("user_id", "name the person by user id")
	}
	if in.Position != Before && in.Position != After {
		return Outcome{}, core.Invalid("position", "position is before or after")
	}
	return s.act(ctx, requestID, in.ActionID, ActAddSigner, func(x *run, a core.Actor) error {
		t, err := x.pendingTask(a)
		if err != nil {
			return err
		}
		if in.UserID == a.UserID {
			return core.Invalid("user_id", "you are already an approver")
		}
		if len(x.r.Route) >= maxNodes {
			return core.Invalid("user_id", "this request has too many steps")
		}
		if ok, err := x.s.dir.IsActive(x.ctx, x.r.OrgID, in.UserID); err != nil || !ok {
			return core.Invalid("user_id", "that person is not a current member of staff")
		}
		step := Step{Users: []string{in.UserID}, Mode: Sequential, AddedBy: a.UserID}
		if err := x.log(ActAddSigner, t.Node, in.Comment, in.Attachments, map[string]any{"user": in.UserID, "position": in.Position}); err != nil {
			return err
		}
		if in.Position == After {
			x.r.Route = slices.Insert(x.r.Route, x.r.Cursor+1, step)
			return nil
		}
		x.cancelOpen()
		x.r.Route = slices.Insert(x.r.Route, x.r.Cursor, step)
		x.r.LastApprovers = nil
		return x.activate()
	})
}

// Withdraw ends a pending request; only its submitter may.
func (s *Service) Withdraw(ctx context.Context, requestID string, in ActionInput) (Outcome, error) {
	if err := in.check(false); err != nil {
		return Outcome{}, err
	}
	return s.act(ctx, requestID, in.ActionID, ActWithdraw, func(x *run, a core.Actor) error {
		if x.r.SubmitterID != a.UserID {
			return core.Errorf(core.EForbidden, "only the submitter may withdraw a request")
		}
		if x.r.Status != StatusPending {
			return core.Errorf(core.EConflict, "the request is already %s", x.r.Status)
		}
		if err := x.log(ActWithdraw, "", in.Comment, in.Attachments, nil); err != nil {
			return err
		}
		for _, t := range x.openTasks() {
			x.notifyUpd["withdrawn"] = append(x.notifyUpd["withdrawn"], t.AssigneeID)
		}
		return x.finish(StatusWithdrawn)
	})
}

// Comment adds a comment (with attachments) to the timeline; anyone who may
// read the request may comment.
func (s *Service) Comment(ctx context.Context, requestID string, in ActionInput) (Outcome, error) {
	if err := in.check(true); err != nil {
		return Outcome{}, err
	}
	return s.act(ctx, requestID, in.ActionID, ActComment, func(x *run, a core.Actor) error {
		if err := x.s.canRead(x.ctx, a, x.r, x.tasks); err != nil {
			return err
		}
		return x.log(ActComment, "", in.Comment, in.Attachments, nil)
	})
}

// Urge reminds the current approvers (催办); the submitter only, at most once
// per UrgeInterval per request (ERateLimited with retry_after seconds).
func (s *Service) Urge(ctx context.Context, requestID string, in ActionInput) (Outcome, error) {
	if err := in.check(false); err != nil {
		return Outcome{}, err
	}
	return s.act(ctx, requestID, in.ActionID, ActUrge, func(x *run, a core.Actor) error {
		if x.r.SubmitterID != a.UserID {
			return core.Errorf(core.EForbidden, "only the submitter may urge a request")
		}
		if x.r.Status != StatusPending {
			return core.Errorf(core.EConflict, "the request is already %s", x.r.Status)
		}
		if !x.r.UrgedAt.IsZero() && x.now.Sub(x.r.UrgedAt) < x.s.urge {
			wait := x.s.urge - x.now.Sub(x.r.UrgedAt)
			return core.Errorf(core.ERateLimited, "you urged this request a moment ago").With("retry_after", int(wait.Seconds())+1)
		}
		x.r.UrgedAt = x.now
		var who []string
		for _, t := range x.openTasks() {
			if t.State == TaskPending {
				who = append(who, t.AssigneeID)
			}
		}
		x.notifyTasks["urge"] = who
		return x.log(ActUrge, "", in.Comment, nil, map[string]any{"users": who})
	})
}

// Resubmit restarts a rejected or withdrawn request from the first step, on
// the template version it was first submitted with.
func (s *Service) Resubmit(ctx context.Context, requestID string, in ResubmitInput) (Outcome, error) {
	if err := checkActionID(in.ActionID); err != nil {
		return Outcome{}, err
	}
	return s.act(ctx, requestID, in.ActionID, ActResubmit, func(x *run, a core.Actor) error {
		if x.r.SubmitterID != a.UserID {
			return core.Errorf(core.EForbidden, "only the submitter may resubmit a request")
		}
		if x.r.Status != StatusRejected && x.r.Status != StatusWithdrawn {
			return core.Errorf(core.EConflict, "only a rejected or withdrawn request can be resubmitted (this one is %s)", x.r.Status)
		}
		ct, err := x.s.compiled(x.ctx, x.r.OrgID, x.r.TemplateID)
		if err != nil {
			return err
		}
		form := in.Form
		if len(form) == 0 {
			form, _ = json.Marshal(x.r.Form)
		}
		chosen := in.Chosen
		if chosen == nil {
			chosen = x.r.Chosen
		}
		// Keep the department of the first submission while the submitter is
		// still in it; otherwise their primary department now.
		dept := x.r.DeptID
		if _, all, err := x.s.dir.DepartmentsOf(x.ctx, x.r.OrgID, x.r.SubmitterID); err == nil && !slices.Contains(all, dept) {
			dept = ""
		}
		if _, err := x.s.prepare(x.ctx, ct, x.r, form, dept, chosen); err != nil {
			return err
		}
		x.r.Status = StatusPending
		x.r.FinishedAt = time.Time{}
		x.r.Round++
		x.r.LastApprovers = nil
		x.r.UrgedAt = time.Time{}
		if err := x.log(ActResubmit, "", "", nil, map[string]any{"round": x.r.Round}); err != nil {
			return err
		}
		x.events = append(x.events, SubjectSubmitted)
		return x.activate()
	})
}
