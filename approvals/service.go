package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
)

// Authorization objects and actions.
const (
	ObjRequest  = "approvals.request"
	ObjTemplate = "approvals.template"
	ObjFlow     = "approvals.flow"

	ActionUse         = "use"
	ActionReadSubtree = "read_subtree"
	ActionAdmin       = "admin"
	ActionExport      = "export"
)

// DefaultUrgeInterval is how often a submitter may urge one request.
const DefaultUrgeInterval = 10 * time.Minute

// Options are the dependencies of the service. Notifier, Bus and Audit may be
// nil (then nobody is told).
type Options struct {
	Store        Store
	Directory    Directory
	Authorizer   Authorizer
	Notifier     Notifier
	Finisher     Finisher
	Bus          bus.Bus
	Audit        audit.Recorder
	Clock        core.Clock
	UrgeInterval time.Duration
	Logger       *slog.Logger
	// Observer hears what happened, for the node's metrics (optional).
	Observer Observer
	// NoticeRetryAfter is how old an unposted notice must be before
	// SweepNotices posts it again (DefaultNoticeRetryAfter when zero). The
	// node that wrote it normally posts it at once; a younger one may still
	// be in flight there.
	NoticeRetryAfter time.Duration
}

// DefaultNoticeRetryAfter: see Options.NoticeRetryAfter.
const DefaultNoticeRetryAfter = time.Minute

// Observer hears what the service did, counted where it happens rather
// than from bus events (which may be dropped). Calls must be quick.
type Observer interface {
	// Acted reports one action (submit, approve, reject …) with how long it
	// took and its error code ("" when it was carried out or replayed).
	Acted(action string, took time.Duration, code core.Code)
	// Happened reports a committed event of a request (SubjectSubmitted,
	// SubjectFinished …) with its template and status.
	Happened(subject, templateCode string, status Status)
}

// Service is the approvals service. Every transport calls it with the actor
// in the context; it authorizes each call itself.
type Service struct {
	store    Store
	dir      Directory
	authz    Authorizer
	notifier Notifier
	finisher Finisher
	bus      bus.Bus
	audit    audit.Recorder
	clock    core.Clock
	urge     time.Duration
	log      *slog.Logger
	observer Observer

	flows sync.Map // template version id → *compiledTemplate (versions never change)

	noticeRetry time.Duration
	posted      postedNotices
	finishing   finishQueue
}

type compiledTemplate struct {
	t    *Template
	flow *CompiledFlow
}

// New returns the service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Directory == nil || o.Authorizer == nil {
		return nil, errors.New("approvals: Store, Directory and Authorizer are required")
	}
	s := &Service{store: o.Store, dir: o.Directory, authz: o.Authorizer, notifier: o.Notifier, finisher: o.Finisher, bus: o.Bus,
		audit: o.Audit, clock: o.Clock, urge: o.UrgeInterval, log: o.Logger, observer: o.Observer, noticeRetry: o.NoticeRetryAfter}
	if s.noticeRetry <= 0 {
		s.noticeRetry = DefaultNoticeRetryAfter
	}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	if s.urge == 0 {
		s.urge = DefaultUrgeInterval
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) actor(ctx context.Context) (core.Actor, error) {
	a, err := core.MustActor(ctx)
	if err != nil {
		return a, err
	}
	if a.OrgID == "" {
		return a, core.Errorf(core.EForbidden, "choose an organisation first")
	}
	return a, nil
}

func (s *Service) compiled(ctx context.Context, orgID, templateID string) (*compiledTemplate, error) {
	if c, ok := s.flows.Load(templateID); ok {
		ct := c.(*compiledTemplate)
		if ct.t.OrgID == orgID {
			return ct, nil
		}
	}
	t, err := s.store.Template(ctx, orgID, templateID)
	if err != nil {
		return nil, err
	}
	cf, err := t.Flow.Compile(t.Schema)
	if err != nil {
		return nil, core.Wrap(err, "stored flow of template %s does not compile", t.ID)
	}
	ct := &compiledTemplate{t: t, flow: cf}
	s.flows.Store(templateID, ct)
	return ct, nil
}

// ---- Templates ----

// TemplateInput creates a template or a new version of one.
type TemplateInput struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Category    string `json:"category,omitempty"`
	Schema      Schema `json:"schema"`
	Flow        Flow   `json:"flow"`
}

var codeRE = keyRE

// Validate checks the template input: schema, then the flow against it.
func (in TemplateInput) Validate() error {
	if !codeRE.MatchString(in.Code) {
		return core.Invalid("code", "a code is 1-40 lower-case letters, digits or _, starting with a letter")
	}
	if strings.TrimSpace(in.Name) == "" || len([]rune(in.Name)) > 100 {
		return core.Invalid("name", "a name is 1-100 characters")
	}
	if len([]rune(in.Description)) > 1000 {
		return core.Invalid("description", "a description is at most 1000 characters")
	}
	if err := in.Schema.Validate(); err != nil {
		return err
	}
	_, err := in.Flow.Compile(in.Schema)
	return err
}

// SaveTemplate stores a new version of a template (version 1 for a new
// code). Org admins only; audited.
func (s *Service) SaveTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjTemplate, ActionAdmin); err != nil {
		s.record(ctx, a, "approvals.template.save", "approval_template", in.Code, audit.ResultDenied, nil)
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.checkDirectory(ctx, a.OrgID, in.Flow); err != nil {
		return nil, err
	}
	return s.saveTemplate(ctx, a, a.OrgID, in)
}

func (s *Service) saveTemplate(ctx context.Context, a core.Actor, orgID string, in TemplateInput) (*Template, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	t := &Template{ID: core.NewID(), OrgID: orgID, Code: in.Code, Name: strings.TrimSpace(in.Name), Description: in.Description,
		Category: in.Category, Schema: in.Schema, Flow: in.Flow, CreatedBy: a.UserID, CreatedAt: s.now()}
	if err := s.store.CreateTemplate(ctx, t); err != nil {
		return nil, err
	}
	s.record(ctx, a, "approvals.template.save", "approval_template", t.ID, audit.ResultOK, map[string]any{"code": t.Code, "version": t.Version})
	return t, nil
}

// SaveFlow stores a new version of a template with the same form and a new
// flow. Org admins only; audited.
func (s *Service) SaveFlow(ctx context.Context, code string, flow Flow) (*Template, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjFlow, ActionAdmin); err != nil {
		s.record(ctx, a, "approvals.flow.save", "approval_template", code, audit.ResultDenied, nil)
		return nil, err
	}
	cur, err := s.store.LatestTemplate(ctx, a.OrgID, code)
	if err != nil {
		return nil, err
	}
	if _, err := flow.Compile(cur.Schema); err != nil {
		return nil, err
	}
	if err := s.checkDirectory(ctx, a.OrgID, flow); err != nil {
		return nil, err
	}
	return s.saveTemplate(ctx, a, a.OrgID, TemplateInput{Code: cur.Code, Name: cur.Name, Description: cur.Description,
		Category: cur.Category, Schema: cur.Schema, Flow: flow})
}

// checkDirectory refuses a flow naming a role, department or person the
// org chart does not know, when an admin saves it. (Built-in templates are
// installed without this check: they name roles an org may define later,
// and a role nobody holds is an empty slot.)
func (s *Service) checkDirectory(ctx context.Context, orgID string, f Flow) error {
	for i, n := range f.Nodes {
		path := fmt.Sprintf("flow.nodes[%d]", i)
		var err error
		field := ""
		switch n.Approver {
		case ApproverRole:
			_, err = s.dir.RoleHolders(ctx, orgID, n.Role)
			field = path + ".role"
		case ApproverDeptHead:
			_, err = s.dir.HeadsOf(ctx, orgID, n.DeptID)
			field = path + ".dept_id"
		case ApproverUsers:
			for _, u := range n.UserIDs {
				if ok, e := s.dir.IsActive(ctx, orgID, u); e != nil {
					err = e
				} else if !ok {
					return core.Invalid(path+".user_ids", "%s is not a current member of staff", u)
				}
			}
			field = path + ".user_ids"
		}
		if gone(err) {
			return core.Invalid(field, "the org chart does not know this: %s", core.ErrorMessage(err))
		}
		if err != nil {
			return dirErr(err)
		}
	}
	for _, u := range f.Admins {
		if ok, err := s.dir.IsActive(ctx, orgID, u); err != nil {
			return dirErr(err)
		} else if !ok {
			return core.Invalid("flow.admins", "%s is not a current member of staff", u)
		}
	}
	return nil
}

// InstallTemplates stores each template whose code the org does not have
// yet (built-in templates at org creation). Runs as the system.
func (s *Service) InstallTemplates(ctx context.Context, orgID string, ins []TemplateInput) (int, error) {
	n := 0
	for _, in := range ins {
		if _, err := s.store.LatestTemplate(ctx, orgID, in.Code); err == nil {
			continue
		} else if !core.IsCode(err, core.ENotFound) {
			return n, err
		}
		if _, err := s.saveTemplate(ctx, core.SystemActor, orgID, in); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Templates lists the newest version of every template of the actor's org.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
		return nil, err
	}
	return s.store.Templates(ctx, a.OrgID)
}

// TemplateVersions returns every version of a template, newest first (org
// admins: the history of a form and its flows).
func (s *Service) TemplateVersions(ctx context.Context, code string) ([]Template, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjTemplate, ActionAdmin); err != nil {
		return nil, err
	}
	return s.store.TemplateVersions(ctx, a.OrgID, code)
}

// Template returns the newest version of a template, or version v when v > 0.
func (s *Service) Template(ctx context.Context, code string, v int) (*Template, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
		return nil, err
	}
	if v <= 0 {
		return s.store.LatestTemplate(ctx, a.OrgID, code)
	}
	all, err := s.store.TemplateVersions(ctx, a.OrgID, code)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Version == v {
			return &all[i], nil
		}
	}
	return nil, core.Errorf(core.ENotFound, "template %s has no version %d", code, v)
}

// ---- Submitting ----

// SubmitInput submits a request on the newest version of a template.
type SubmitInput struct {
	ActionID     string              `json:"action_id"`
	TemplateCode string              `json:"template_code"`
	Form         json.RawMessage     `json:"form"`
	DeptID       string              `json:"dept_id,omitempty"` // which of the submitter's departments; primary by default
	Chosen       map[string][]string `json:"chosen,omitempty"`  // node id → approvers, for nodes where the submitter chooses
}

func checkActionID(id string) error {
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
		return core.Invalid("action_id", "send an action_id of 1-64 characters (a retry sends the same one)")
	}
	return nil
}

// Submit creates and starts a request. Retrying with the same action id
// returns the first outcome.
func (s *Service) Submit(ctx context.Context, in SubmitInput) (out Outcome, err error) {
	defer s.observe(ActSubmit, time.Now(), &err)
	a, err := s.actor(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if err := checkActionID(in.ActionID); err != nil {
		return Outcome{}, err
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
		return Outcome{}, err
	}
	// A retry is answered before the form is looked at again: the template
	// or the org chart may have changed since the first try.
	if o, err := s.store.Outcome(ctx, a.OrgID, a.UserID, in.ActionID); err != nil {
		return Outcome{}, err
	} else if o != nil {
		if o.Action != ActSubmit {
			return Outcome{}, core.Invalid("action_id", "this action_id was used for another action")
		}
		o.Replayed = true
		return *o, nil
	}
	t, err := s.store.LatestTemplate(ctx, a.OrgID, in.TemplateCode)
	if err != nil {
		if core.IsCode(err, core.ENotFound) {
			return Outcome{}, core.Invalid("template_code", "there is no template %q", in.TemplateCode)
		}
		return Outcome{}, err
	}
	if t.Disabled {
		return Outcome{}, core.Invalid("template_code", "template %q is disabled", in.TemplateCode)
	}
	ct, err := s.compiled(ctx, a.OrgID, t.ID)
	if err != nil {
		return Outcome{}, err
	}
	now := s.now()
	r := &Request{ID: core.NewID(), OrgID: a.OrgID, TemplateID: t.ID, TemplateCode: t.Code, TemplateVersion: t.Version,
		Title: t.Name, SubmitterID: a.UserID, Status: StatusPending, CreatedAt: now, Round: 1, Version: 1}
	if _, err := s.prepare(ctx, ct, r, in.Form, in.DeptID, in.Chosen); err != nil {
		return Outcome{}, err
	}
	var x *run
	for attempt := 0; attempt < 3; attempt++ {
		out, x, err = s.submitOnce(ctx, a, in, r, ct, now)
		// ErrStale here means the same action id raced with itself; the
		// next attempt replays the winner's outcome.
		if !errors.Is(err, ErrStale) {
			break
		}
	}
	if err != nil {
		return Outcome{}, err
	}
	if !out.Replayed {
		s.after(ctx, x)
	}
	return out, nil
}

func (s *Service) submitOnce(ctx context.Context, a core.Actor, in SubmitInput, r *Request, ct *compiledTemplate, now time.Time) (Outcome, *run, error) {
	var out Outcome
	var x *run
	rc := *r
	r = &rc
	ctx = context.WithoutCancel(ctx) // see actAs
	err := s.store.Update(ctx, func(tx Tx) error {
		if o, err := tx.Outcome(ctx, a.OrgID, a.UserID, in.ActionID); err != nil || o != nil {
			if o != nil {
				out = *o
				out.Replayed = true
				if o.Action != ActSubmit {
					return core.Invalid("action_id", "this action_id was used for another action")
				}
			}
			return err
		}
		if err := tx.InsertRequest(ctx, r); err != nil {
			return err
		}
		x = s.newRun(ctx, tx, a.UserID, r, nil, ct.flow, now)
		if err := x.log(ActSubmit, "", "", nil, map[string]any{"template_version": r.TemplateVersion}); err != nil {
			return err
		}
		x.events = append(x.events, SubjectSubmitted)
		if err := x.activate(); err != nil {
			return err
		}
		if err := x.save(); err != nil {
			return err
		}
		out = Outcome{ActionID: in.ActionID, RequestID: r.ID, Action: ActSubmit, Status: r.Status, Version: r.Version}
		return tx.SaveOutcome(ctx, a.OrgID, a.UserID, out, now)
	})
	return out, x, err
}

// prepare validates the form and the submitter's choices and computes the
// route (branches are decided by the form, which does not change until a
// resubmission).
func (s *Service) prepare(ctx context.Context, ct *compiledTemplate, r *Request, form json.RawMessage, deptID string, chosen map[string][]string) ([]string, error) {
	vals, err := ct.t.Schema.ValidateValues(form)
	if err != nil {
		return nil, err
	}
	for _, f := range ct.t.Schema.Fields {
		if f.Type != FieldPerson {
			continue
		}
		if v, ok := vals[f.Key].(string); ok {
			if act, err := s.dir.IsActive(ctx, r.OrgID, v); err != nil || !act {
				return nil, core.Invalid("form."+f.Key, "%s is not a current member of staff", f.Label)
			}
		}
	}
	primary, all, err := s.dir.DepartmentsOf(ctx, r.OrgID, r.SubmitterID)
	if gone(err) {
		return nil, core.Errorf(core.EForbidden, "you are not in this organisation's directory")
	}
	if err != nil {
		return nil, dirErr(err)
	}
	r.DeptID = primary
	if deptID != "" {
		if !slices.Contains(all, deptID) {
			return nil, core.Invalid("dept_id", "you are not in that department")
		}
		r.DeptID = deptID
	}
	want := ct.flow.ChosenNodes()
	for node := range chosen {
		if !slices.Contains(want, node) {
			return nil, core.Invalid("chosen."+node, "node %q does not let the submitter choose", node)
		}
	}
	r.Chosen = map[string][]string{}
	for _, node := range want {
		people := chosen[node]
		if len(people) > 20 {
			return nil, core.Invalid("chosen."+node, "choose at most 20 people")
		}
		for _, p := range people {
			if !core.ValidID(p) {
				return nil, core.Invalid("chosen."+node, "%q is not a user id", p)
			}
			if act, err := s.dir.IsActive(ctx, r.OrgID, p); err != nil || !act {
				return nil, core.Invalid("chosen."+node, "%s is not a current member of staff", p)
			}
		}
		if len(people) > 0 {
			r.Chosen[node] = people
		}
	}
	r.Form = vals
	route, err := ct.flow.Route(conditionEnv(ct.t.Schema, r, all))
	if err != nil {
		return nil, err
	}
	for _, id := range route {
		n := ct.flow.Node(id)
		if n.Approver == ApproverSubmitter && n.Kind == NodeApprove && len(r.Chosen[id]) == 0 && n.Empty != EmptyAutoApprove && n.Empty != EmptySkip {
			return nil, core.Invalid("chosen."+id, "choose the approvers of %q", n.Name)
		}
	}
	r.Route = make([]Step, 0, len(route))
	for _, id := range route {
		r.Route = append(r.Route, Step{Node: id})
	}
	r.Cursor = 0
	return all, nil
}

func (s *Service) newRun(ctx context.Context, tx Tx, actor string, r *Request, tasks []Task, flow *CompiledFlow, now time.Time) *run {
	x := &run{s: s, tx: tx, ctx: ctx, now: now, actor: actor, r: r, flow: flow,
		notifyTasks: map[string][]string{}, notifyUpd: map[string][]string{}}
	for i := range tasks {
		x.tasks = append(x.tasks, &tasks[i])
	}
	return x
}

// after publishes events and tells people, once the transaction committed.
func (s *Service) after(ctx context.Context, x *run) {
	if x == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	// The notices of one action (the submitter's update, the CC) go out
	// together: each is its own chat transaction, and on SQLite concurrent
	// ones share a commit instead of waiting for each other's.
	var wg sync.WaitGroup
	for _, n := range x.notices {
		if n.Reason == ReasonFinished {
			// The person who acted does not wait for the roster or
			// attendance; the outbox holds the call until it is done.
			s.finishLater(n, x.event(SubjectFinished))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.notifier.Notify(ctx, n); err != nil {
				s.log.WarnContext(ctx, "approvals: not done yet; it is retried", "request", x.r.ID, "reason", n.Reason, "err", err)
				return
			}
			s.posted.add(n.ID)
		}()
	}
	wg.Wait()
	if s.observer != nil {
		for _, subj := range x.events {
			s.observer.Happened(subj, x.r.TemplateCode, x.r.Status)
		}
	}
	if s.bus != nil {
		for _, subj := range x.events {
			data, _ := json.Marshal(x.event(subj))
			if err := s.bus.Publish(ctx, subj, data); err != nil {
				s.log.WarnContext(ctx, "approvals: publish", "subject", subj, "err", err)
			}
		}
	}
}

// observe reports an action to the observer when there is one.
func (s *Service) observe(action string, start time.Time, err *error) {
	if s.observer != nil {
		s.observer.Acted(action, time.Since(start), core.ErrorCode(*err))
	}
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) record(ctx context.Context, a core.Actor, action, objType, objID, result string, details map[string]any) {
	if s.audit == nil {
		return
	}
	e := audit.Entry{OrgID: a.OrgID, ActorID: a.UserID, ActorKind: string(a.Kind), AppID: a.AppID, IP: a.IP,
		Action: action, ObjectType: objType, ObjectID: objID, Result: result, Details: details}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.WarnContext(ctx, "approvals: audit", "action", action, "err", err)
	}
}
