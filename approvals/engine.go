package approvals

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/roundshq/rounds/core"
)

// run is one action on one request inside a transaction: the request, its
// tasks, the flow, and what must happen after commit.
type run struct {
	s     *Service
	tx    Tx
	ctx   context.Context
	now   time.Time
	actor string // user id acting, "" for Rounds itself
	r     *Request
	tasks []*Task
	flow  *CompiledFlow

	entries []Entry // timeline entries to append on save

	notifyTasks  map[string][]string // reason → assignees
	notifyUpd    map[string][]string // reason → recipients
	notices      []Notice            // written to the outbox on save
	finishQueued bool
	events       []string // subjects
	assigned     []string
}

func (x *run) log(action, node, comment string, attachments []string, details map[string]any) error {
	x.r.Seq++
	// Entries are written together when the run saves.
	x.entries = append(x.entries, Entry{
		ID: core.NewID(), RequestID: x.r.ID, Seq: x.r.Seq, At: x.now, ActorID: x.actor,
		Action: action, Node: node, Comment: comment, Attachments: attachments, Details: details,
	})
	return nil
}

func (x *run) sysLog(action, node string, details map[string]any) error {
	a := x.actor
	x.actor = ""
	err := x.log(action, node, "", nil, details)
	x.actor = a
	return err
}

// openTasks returns the pending and waiting tasks of the active step.
func (x *run) openTasks() []*Task {
	var out []*Task
	for _, t := range x.tasks {
		if t.Activation == x.r.Activation && (t.State == TaskPending || t.State == TaskWaiting) {
			out = append(out, t)
		}
	}
	return out
}

// myTask returns the actor's pending task in the active step.
func (x *run) myTask(user string) *Task {
	for _, t := range x.tasks {
		if t.Activation == x.r.Activation && t.State == TaskPending && t.AssigneeID == user {
			return t
		}
	}
	return nil
}

func (x *run) cancelOpen() {
	for _, t := range x.openTasks() {
		t.State = TaskCancelled
		t.DueAt = time.Time{}
		t.dirty = true
	}
}

func (x *run) addTask(t *Task) {
	t.ID = core.NewID()
	t.OrgID = x.r.OrgID
	t.RequestID = x.r.ID
	t.CreatedAt = x.now
	t.isNew = true
	x.tasks = append(x.tasks, t)
}

func (x *run) stepNode(i int) (Step, *Node) {
	st := x.r.Route[i]
	if st.Node == "" {
		return st, &Node{Kind: NodeApprove, Approver: ApproverUsers, UserIDs: st.Users, Mode: st.Mode, Empty: EmptySkip}
	}
	return st, x.flow.Node(st.Node)
}

func (x *run) stepID(i int) string {
	if st := x.r.Route[i]; st.Node != "" {
		return st.Node
	}
	return "added"
}

// activate starts the step at the cursor, passing over CC steps, empty
// steps and steps whose approvers just approved, until a step needs people
// or the route ends.
func (x *run) activate() error {
	for x.r.Cursor < len(x.r.Route) {
		st, n := x.stepNode(x.r.Cursor)
		id := x.stepID(x.r.Cursor)
		people, err := x.s.resolve(x.ctx, x.r, st, n, x.flow)
		if err != nil {
			return err
		}
		if n.Kind == NodeCC {
			if len(people) > 0 {
				if err := x.tx.AddCC(x.ctx, x.r.OrgID, x.r.ID, people, x.now); err != nil {
					return err
				}
				x.notifyUpd["cc"] = append(x.notifyUpd["cc"], people...)
				if err := x.sysLog(ActCC, id, map[string]any{"users": people}); err != nil {
					return err
				}
			}
			x.r.Cursor++
			continue
		}
		// The same approver twice in a row approves once.
		if len(x.r.LastApprovers) > 0 && len(people) > 0 {
			var rest []string
			for _, p := range people {
				if !slices.Contains(x.r.LastApprovers, p) {
					rest = append(rest, p)
				}
			}
			if len(rest) == 0 || (n.Mode == OrSign && len(rest) < len(people)) {
				if err := x.sysLog(ActDedupApprove, id, map[string]any{"users": people}); err != nil {
					return err
				}
				x.r.Cursor++
				continue
			}
			people = rest
		}
		if len(people) == 0 {
			switch n.Empty {
			case EmptyAutoApprove:
				if err := x.sysLog(ActAutoApprove, id, map[string]any{"reason": "no approver"}); err != nil {
					return err
				}
				x.r.Cursor++
				continue
			case EmptyToAdmin:
				people = x.s.active(x.ctx, x.r.OrgID, x.flow.Admins)
			}
			if len(people) == 0 {
				if err := x.sysLog(ActSkip, id, map[string]any{"reason": "no approver"}); err != nil {
					return err
				}
				x.r.Cursor++
				continue
			}
		}
		x.r.Activation++
		var assigned []string
		for _, p := range people {
			t := &Task{Node: id, StepIndex: x.r.Cursor, Activation: x.r.Activation, Order: len(assigned), AssigneeID: p, State: TaskPending}
			if n.Mode == Sequential && len(assigned) > 0 {
				t.State = TaskWaiting
			}
			if err := x.delegate(t); err != nil {
				return err
			}
			// A delegate who is already an approver of this step decides once.
			if slices.Contains(assigned, t.AssigneeID) {
				continue
			}
			assigned = append(assigned, t.AssigneeID)
			x.addTask(t)
			if t.State == TaskPending {
				x.startTask(t, n)
			}
		}
		return nil
	}
	return x.finish(StatusApproved)
}

// startTask makes t the assignee's current work: time limit, notification.
func (x *run) startTask(t *Task, n *Node) {
	t.State = TaskPending
	t.dirty = true
	if n != nil && n.TimeLimitMins > 0 {
		t.DueAt = x.now.Add(time.Duration(n.TimeLimitMins) * time.Minute)
	}
	x.notifyTasks["assigned"] = append(x.notifyTasks["assigned"], t.AssigneeID)
	x.assigned = append(x.assigned, t.AssigneeID)
	if !slices.Contains(x.events, SubjectAssigned) {
		x.events = append(x.events, SubjectAssigned)
	}
}

// delegate sends the task to the assignee's delegate while one is set.
func (x *run) delegate(t *Task) error {
	d, err := x.tx.ActiveDelegate(x.ctx, x.r.OrgID, t.AssigneeID, x.now)
	if err != nil || d == "" || d == t.AssigneeID {
		return err
	}
	if ok, _ := x.s.dir.IsActive(x.ctx, x.r.OrgID, d); !ok {
		return nil
	}
	if err := x.sysLog(ActDelegate, t.Node, map[string]any{"from": t.AssigneeID, "to": d}); err != nil {
		return err
	}
	t.OnBehalfOf = t.AssigneeID
	t.AssigneeID = d
	return nil
}

// stepDone moves past the active step after approvals.
func (x *run) stepDone(approvers []string) error {
	x.r.LastApprovers = approvers
	x.r.Cursor++
	return x.activate()
}

func (x *run) finish(st Status) error {
	x.cancelOpen()
	x.r.Status = st
	x.r.FinishedAt = x.now
	if err := x.sysLog(ActFinish, "", map[string]any{"status": string(st)}); err != nil {
		return err
	}
	x.events = append(x.events, SubjectFinished)
	x.notifyUpd[string(st)] = append(x.notifyUpd[string(st)], x.r.SubmitterID)
	return nil
}

// afterApprove decides whether the active step is complete once t was
// approved, by the node's sign mode.
func (x *run) afterApprove(t *Task) error {
	_, n := x.stepNode(x.r.Cursor)
	switch n.Mode {
	case OrSign:
		x.cancelOpen()
		return x.stepDone([]string{t.AssigneeID})
	case Sequential:
		var next *Task
		for _, o := range x.openTasks() {
			if o.State == TaskWaiting && (next == nil || o.Order < next.Order) {
				next = o
			}
		}
		if next != nil {
			x.startTask(next, n)
			return nil
		}
	default:
		if len(x.openTasks()) > 0 {
			return nil
		}
	}
	var approvers []string
	for _, o := range x.tasks {
		if o.Activation == x.r.Activation && o.State == TaskApproved {
			approvers = append(approvers, o.AssigneeID)
		}
	}
	return x.stepDone(approvers)
}

func (x *run) save() error {
	for _, t := range x.tasks {
		switch {
		case t.isNew:
			if err := x.tx.InsertTask(x.ctx, t); err != nil {
				return err
			}
		case t.dirty:
			if err := x.tx.UpdateTask(x.ctx, t); err != nil {
				return err
			}
		}
		t.isNew, t.dirty = false, false
	}
	if len(x.entries) > 0 {
		if err := x.tx.AppendTimeline(x.ctx, x.entries...); err != nil {
			return err
		}
		x.entries = nil
	}
	if err := x.queueNotices(); err != nil {
		return err
	}
	x.r.UpdatedAt = x.now
	return x.tx.SaveRequest(x.ctx, x.r)
}

// queueNotices turns who is to be told into notices in the outbox, so they
// commit (or not) with the action; after posts them.
func (x *run) queueNotices() error {
	var ns []Notice
	add := func(task bool, byReason map[string][]string) {
		reasons := make([]string, 0, len(byReason))
		for r := range byReason {
			reasons = append(reasons, r)
		}
		slices.Sort(reasons)
		for _, r := range reasons {
			ns = append(ns, Notice{ID: core.NewID(), OrgID: x.r.OrgID, RequestID: x.r.ID, Task: task, Reason: r,
				Recipients: dedupe(byReason[r]), CreatedAt: x.now})
		}
		clear(byReason)
	}
	add(true, x.notifyTasks)
	add(false, x.notifyUpd)
	if x.s.notifier == nil {
		ns = nil
	}
	if x.s.finisher != nil && slices.Contains(x.events, SubjectFinished) && !x.finishQueued {
		ns = append(ns, Notice{ID: core.NewID(), OrgID: x.r.OrgID, RequestID: x.r.ID, Reason: ReasonFinished, CreatedAt: x.now})
		x.finishQueued = true
	}
	if len(ns) == 0 {
		return nil
	}
	if err := x.tx.AddNotices(x.ctx, ns...); err != nil {
		return err
	}
	x.notices = append(x.notices, ns...)
	return nil
}

// resolve finds the people of a step, active ones only, without duplicates,
// in a stable order.
func (s *Service) resolve(ctx context.Context, r *Request, st Step, n *Node, flow *CompiledFlow) ([]string, error) {
	var ids []string
	var err error
	switch {
	case st.Node == "":
		ids = st.Users
	case n.Approver == ApproverUsers:
		ids = n.UserIDs
	case n.Approver == ApproverManager:
		ids, err = s.dir.ManagerOf(ctx, r.OrgID, r.SubmitterID, n.Levels)
	case n.Approver == ApproverDeptHead:
		ids, err = s.dir.HeadsOf(ctx, r.OrgID, n.DeptID)
	case n.Approver == ApproverRole:
		ids, err = s.dir.RoleHolders(ctx, r.OrgID, n.Role)
	case n.Approver == ApproverSubmitter:
		ids = r.Chosen[n.ID]
	case n.Approver == ApproverFormField:
		v, _ := r.Form[n.Field].(string)
		if v != "" {
			ids = []string{v}
			if flow.types[n.Field] == FieldDepartment {
				ids, err = s.dir.HeadsOf(ctx, r.OrgID, v)
			}
		}
	}
	if gone(err) {
		// A role the org no longer defines or a deleted department finds
		// nobody: the node's empty-slot rule decides, and the timeline says so.
		s.log.WarnContext(ctx, "approvals: approver source not found", "request", r.ID, "node", n.ID, "err", err)
		ids, err = nil, nil
	}
	if err != nil {
		return nil, dirErr(err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return s.active(ctx, r.OrgID, out), nil
}

func (s *Service) active(ctx context.Context, orgID string, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if ok, err := s.dir.IsActive(ctx, orgID, id); err == nil && ok {
			out = append(out, id)
		}
	}
	return out
}

// conditionEnv is what branch conditions see: every field (zero when
// empty), the submitter and their departments.
func conditionEnv(sch Schema, r *Request, depts []string) map[string]any {
	env := sch.Env()
	for k, v := range r.Form {
		env[k] = v
	}
	env["submitter"] = r.SubmitterID
	env["submitter_department"] = r.DeptID
	if depts == nil {
		depts = []string{}
	}
	env["submitter_departments"] = depts
	return env
}

func (x *run) event(subject string) Event {
	ev := eventOf(x.r, x.now)
	if subject == SubjectAssigned {
		ev.Assignees = x.assigned
	}
	return ev
}

func eventOf(r *Request, at time.Time) Event {
	form, _ := json.Marshal(r.Form)
	return Event{RequestID: r.ID, OrgID: r.OrgID, TemplateCode: r.TemplateCode, TemplateVersion: r.TemplateVersion,
		SubmitterID: r.SubmitterID, DeptID: r.DeptID, Status: r.Status, Form: form, At: at}
}

// gone reports a directory answer meaning "that role, department or person
// does not exist (any more)".
func gone(err error) bool {
	return core.IsCode(err, core.ENotFound) || core.IsCode(err, core.EInvalid)
}

// dirErr reports a directory failure as unavailable: the org chart is
// another part of Rounds, and a failure there is not the caller's fault.
func dirErr(err error) error {
	if core.IsCode(err, core.EUnavailable) {
		return err
	}
	return &core.Error{Code: core.EUnavailable, Message: "the org chart could not be read; try again", Err: err}
}
