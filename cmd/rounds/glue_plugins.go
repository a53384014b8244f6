package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/roster"
)

// The host API that apps call, over the real services. The plugin host has
// already checked the install's scopes (and subtree or membership limits)
// before any of these run.

type pluginDirectory struct{ org *orgchart.Service }

func (d pluginDirectory) Departments(ctx context.Context, orgID, rootID string) ([]sdk.Department, error) {
	tree, err := d.org.Tree(ctx, core.SystemActor, orgID)
	if err != nil {
		return nil, err
	}
	var out []sdk.Department
	var walk func(nodes []orgchart.TreeNode, inside bool)
	walk = func(nodes []orgchart.TreeNode, inside bool) {
		for _, n := range nodes {
			in := inside || rootID == "" || n.ID == rootID
			if in {
				out = append(out, sdk.Department{ID: n.ID, ParentID: n.ParentID, Name: n.Name})
			}
			walk(n.Children, in)
		}
	}
	walk(tree, false)
	if rootID != "" && len(out) == 0 {
		return nil, core.Errorf(core.ENotFound, "no department %s", rootID)
	}
	return out, nil
}

func (d pluginDirectory) Staff(ctx context.Context, orgID, departmentID string) ([]sdk.Staff, error) {
	ids, err := d.org.DepartmentMembers(ctx, orgID, departmentID, false)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Staff, 0, len(ids))
	for _, id := range ids {
		p, err := d.org.Person(ctx, orgID, id)
		if err != nil {
			continue
		}
		out = append(out, sdk.Staff{UserID: p.ID, Name: p.Name, DepartmentID: departmentID, Position: p.Position})
	}
	return out, nil
}

func (d pluginDirectory) InSubtree(ctx context.Context, orgID, departmentID, rootID string) (bool, error) {
	return d.org.IsInSubtree(ctx, orgID, rootID, departmentID)
}

type pluginMessenger struct{ im *im.Service }

func (m pluginMessenger) conversationIn(ctx context.Context, orgID, convID string) error {
	c, err := m.im.Store().Conversation(ctx, convID)
	if err != nil {
		return err
	}
	if c.OrgID != orgID {
		return core.Errorf(core.ENotFound, "no such conversation")
	}
	return nil
}

func (m pluginMessenger) IsMember(ctx context.Context, orgID, convID, userID string) (bool, error) {
	if err := m.conversationIn(ctx, orgID, convID); err != nil {
		return false, err
	}
	if _, err := m.im.Store().Member(ctx, convID, userID); err != nil {
		if core.IsCode(err, core.ENotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (m pluginMessenger) Send(ctx context.Context, orgID, botUserID, convID, text string) (string, error) {
	bot := core.Actor{UserID: botUserID, OrgID: orgID, Kind: core.ActorBot}
	msg, err := m.im.Send(ctx, bot, im.SendRequest{ConversationID: convID, ClientMsgID: core.NewID(), Text: text})
	return msg.ID, err
}

// SendDirect opens (or finds) the bot's direct conversation with the person
// and posts there; im refuses anyone who is not current staff of orgID.
func (m pluginMessenger) SendDirect(ctx context.Context, orgID, botUserID, userID, text string) (string, error) {
	bot := core.Actor{UserID: botUserID, OrgID: orgID, Kind: core.ActorBot}
	conv, err := m.im.CreateDirect(ctx, bot, userID)
	if err != nil {
		return "", err
	}
	msg, err := m.im.Send(ctx, bot, im.SendRequest{ConversationID: conv.ID, ClientMsgID: core.NewID(), Text: text})
	return msg.ID, err
}

func (m pluginMessenger) Recent(ctx context.Context, orgID, convID string, limit int) ([]sdk.Message, error) {
	if err := m.conversationIn(ctx, orgID, convID); err != nil {
		return nil, err
	}
	ms, err := m.im.Store().Messages(ctx, convID, im.HistoryQuery{Before: 1 << 62, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Message, 0, len(ms))
	for _, x := range ms {
		if x.Recalled() {
			continue
		}
		out = append(out, sdk.Message{ID: x.ID, ConversationID: x.ConversationID, SenderID: x.SenderID, Text: x.Text, At: x.CreatedAt})
	}
	return out, nil
}

type pluginApprovals struct{ svc *approvals.Service }

func toSDKApproval(r approvals.Request) sdk.Approval {
	form := map[string]string{}
	for k, v := range r.Form {
		switch x := v.(type) {
		case string:
			form[k] = x
		default:
			b, _ := json.Marshal(x)
			form[k] = string(b)
		}
	}
	return sdk.Approval{ID: r.ID, Template: r.TemplateCode, ApplicantID: r.SubmitterID, Status: string(r.Status), Form: form, CreatedAt: r.CreatedAt}
}

func (p pluginApprovals) Get(ctx context.Context, orgID, id string) (sdk.Approval, error) {
	v, err := p.svc.Get(core.WithActor(ctx, core.Actor{Kind: core.ActorSystem, OrgID: orgID}), id)
	if err != nil {
		return sdk.Approval{}, err
	}
	if v.Request.OrgID != orgID {
		return sdk.Approval{}, core.Errorf(core.ENotFound, "no such approval")
	}
	return toSDKApproval(v.Request), nil
}

// Submit files the request as the applicant (the person it is for must be
// staff of the organisation); the timeline names the app's bot in the action
// id so the origin stays visible.
func (p pluginApprovals) Submit(ctx context.Context, orgID, botUserID string, s sdk.ApprovalSubmission) (sdk.Approval, error) {
	form, err := json.Marshal(s.Form)
	if err != nil {
		return sdk.Approval{}, core.Invalid("form", "the form cannot be encoded")
	}
	applicant := core.Actor{UserID: s.ApplicantID, OrgID: orgID, Kind: core.ActorUser}
	out, err := p.svc.Submit(core.WithActor(ctx, applicant), approvals.SubmitInput{ActionID: "app:" + botUserID[:8] + ":" + core.NewID()[:24], TemplateCode: s.Template, Form: form})
	if err != nil {
		return sdk.Approval{}, err
	}
	return p.Get(ctx, orgID, out.RequestID)
}

type pluginRosters struct {
	svc *roster.Service
	org *orgchart.Service
}

func monthRange(month string) (roster.Date, roster.Date, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return 0, 0, core.Invalid("month", "%q is not a month like 2026-12", month)
	}
	from := roster.DateOf(t)
	return from, roster.DateOf(t.AddDate(0, 1, -1)), nil
}

func (p pluginRosters) Get(ctx context.Context, orgID, deptID, month string) (sdk.Roster, error) {
	from, to, err := monthRange(month)
	if err != nil {
		return sdk.Roster{}, err
	}
	list, err := p.svc.List(ctx, core.SystemActor, orgID, deptID, from, to)
	if err != nil {
		return sdk.Roster{}, err
	}
	if len(list) == 0 {
		return sdk.Roster{}, core.Errorf(core.ENotFound, "no roster for %s in %s", deptID, month)
	}
	c, err := p.svc.Get(ctx, core.SystemActor, list[len(list)-1].ID, 0)
	if err != nil {
		return sdk.Roster{}, err
	}
	shifts, err := p.svc.Shifts(ctx, core.SystemActor, orgID)
	if err != nil {
		return sdk.Roster{}, err
	}
	codes := map[string]string{}
	for _, s := range shifts {
		codes[s.ID] = s.Code
	}
	out := sdk.Roster{ID: c.Roster.ID, DepartmentID: deptID, Month: month, Status: string(c.Roster.Status)}
	for _, a := range c.Roster.Assignments {
		out.Assignments = append(out.Assignments, sdk.Assignment{UserID: a.UserID, Date: a.Date.String(), Shift: codes[a.ShiftID]})
	}
	for _, v := range c.Violations {
		out.Violations = append(out.Violations, sdk.RosterViolation{Rule: v.Rule, Severity: string(v.Severity), UserID: v.UserID,
			Date: v.Date.String(), Shift: v.ShiftCode, Message: v.Message})
	}
	return out, nil
}

// Setup hands a planning app what the roster's own check weighs: the
// shifts, the department's rules, its people with skills, qualifications and
// leave in the month, and its heads.
func (p pluginRosters) Setup(ctx context.Context, orgID, deptID, month string) (sdk.RosterSetup, error) {
	from, to, err := monthRange(month)
	if err != nil {
		return sdk.RosterSetup{}, err
	}
	rules, err := p.svc.Rules(ctx, core.SystemActor, orgID, deptID)
	if err != nil {
		return sdk.RosterSetup{}, err
	}
	shifts, err := p.svc.Shifts(ctx, core.SystemActor, orgID)
	if err != nil {
		return sdk.RosterSetup{}, err
	}
	people, err := p.svc.People(ctx, core.SystemActor, orgID, deptID, from, to)
	if err != nil {
		return sdk.RosterSetup{}, err
	}
	heads, err := p.org.HeadsOf(ctx, orgID, deptID)
	if err != nil {
		return sdk.RosterSetup{}, err
	}
	out := sdk.RosterSetup{DepartmentID: deptID, Month: month, Heads: heads}
	for _, sh := range shifts {
		out.Shifts = append(out.Shifts, sdk.ShiftDefinition{Code: sh.Code, Name: sh.Name, Kind: string(sh.Kind), Start: sh.Start, End: sh.End,
			Length: sh.Length(), Paid: sh.Paid(), Night: sh.Night, Requires: sh.Requires})
	}
	for _, ps := range people {
		sp := sdk.RosterPerson{UserID: ps.UserID, Skills: ps.Skills, Qualifications: ps.Qualifications}
		for _, d := range ps.Leave {
			sp.Leave = append(sp.Leave, d.String())
		}
		out.People = append(out.People, sp)
	}
	limit := func(l *roster.Limit) sdk.RuleLimit {
		if l == nil {
			return sdk.RuleLimit{}
		}
		return sdk.RuleLimit{Value: l.Value, Severity: string(l.Severity)}
	}
	for _, m := range rules.MinStaff {
		out.Rules.MinStaff = append(out.Rules.MinStaff, sdk.StaffingRule{ShiftCode: m.ShiftCode, Min: m.Min, Severity: string(m.Severity)})
	}
	for _, m := range rules.SkillMix {
		out.Rules.SkillMix = append(out.Rules.SkillMix, sdk.StaffingRule{ShiftCode: m.ShiftCode, Skill: m.Skill, Min: m.Min, Severity: string(m.Severity)})
	}
	out.Rules.MaxConsecutiveNights = limit(rules.MaxNights)
	out.Rules.MinRestAfterNightHours = limit(rules.MinRestHours)
	out.Rules.MaxHoursPerWeek = limit(rules.MaxWeekHours)
	out.Rules.ApprovedLeave, out.Rules.Qualification = string(rules.LeaveSeverity), string(rules.QualificationRule)
	return out, nil
}

// SaveDraft writes an app's proposed roster as a draft for the head nurse to
// review and publish; it never publishes.
func (p pluginRosters) SaveDraft(ctx context.Context, orgID, botUserID string, r sdk.Roster) (sdk.Roster, error) {
	from, to, err := monthRange(r.Month)
	if err != nil {
		return sdk.Roster{}, err
	}
	shifts, err := p.svc.Shifts(ctx, core.SystemActor, orgID)
	if err != nil {
		return sdk.Roster{}, err
	}
	ids := map[string]string{}
	for _, s := range shifts {
		ids[s.Code] = s.ID
	}
	var as []roster.Assignment
	for i, a := range r.Assignments {
		d, err := roster.ParseDate(a.Date)
		if err != nil {
			return sdk.Roster{}, core.Invalid(fmt.Sprintf("assignments[%d].date", i), "%q is not a date", a.Date)
		}
		id, ok := ids[a.Shift]
		if !ok {
			return sdk.Roster{}, core.Invalid(fmt.Sprintf("assignments[%d].shift", i), "unknown shift code %q", a.Shift)
		}
		as = append(as, roster.Assignment{UserID: a.UserID, Date: d, ShiftID: id})
	}
	list, err := p.svc.List(ctx, core.SystemActor, orgID, r.DepartmentID, from, to)
	if err != nil {
		return sdk.Roster{}, err
	}
	var cur roster.Checked
	if len(list) == 0 {
		if cur, err = p.svc.CreateRoster(ctx, core.SystemActor, orgID, r.DepartmentID, from, to); err != nil {
			return sdk.Roster{}, err
		}
	} else {
		if list[len(list)-1].Status != roster.StatusDraft {
			return sdk.Roster{}, core.Errorf(core.EConflict, "the roster for %s is published; an app may only propose drafts", r.Month)
		}
		if cur, err = p.svc.Get(ctx, core.SystemActor, list[len(list)-1].ID, 0); err != nil {
			return sdk.Roster{}, err
		}
	}
	if _, err := p.svc.Save(ctx, core.SystemActor, cur.Roster.ID, cur.Roster.Version, as, ""); err != nil {
		return sdk.Roster{}, err
	}
	return p.Get(ctx, orgID, r.DepartmentID, r.Month)
}

type pluginAttendance struct {
	svc *attendance.Service
	org *orgchart.Service
}

func (p pluginAttendance) List(ctx context.Context, orgID string, q sdk.AttendanceQuery) ([]sdk.AttendanceRecord, error) {
	from, err := time.Parse("2006-01-02", q.From)
	if err != nil {
		return nil, core.Invalid("from", "%q is not a date", q.From)
	}
	to, err := time.Parse("2006-01-02", q.To)
	if err != nil || to.Before(from) || to.Sub(from) > 62*24*time.Hour {
		return nil, core.Invalid("to", "to must be a date on or after from, at most 62 days later")
	}
	ids, err := p.org.DepartmentMembers(ctx, orgID, q.DepartmentID, true)
	if err != nil {
		return nil, err
	}
	var out []sdk.AttendanceRecord
	for _, id := range ids {
		for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
			month, err := p.svc.MonthOf(ctx, core.SystemActor, orgID, id, m.Format("2006-01"))
			if err != nil {
				return nil, err
			}
			for _, r := range month.Results {
				if r.Duty.Date < q.From || r.Duty.Date > q.To {
					continue
				}
				rec := sdk.AttendanceRecord{UserID: id, Date: r.Duty.Date, Status: sdkStatus(r.Status)}
				if r.In != nil {
					rec.ClockIn = *r.In
				}
				if r.Out != nil {
					rec.ClockOut = *r.Out
				}
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

func sdkStatus(st []string) string {
	for _, s := range st {
		switch s {
		case attendance.StatusOnLeave:
			return "leave"
		case attendance.StatusAbsent:
			return "absent"
		case attendance.StatusLate:
			return "late"
		}
	}
	return "present"
}

// pluginAlerts records a disabled app in the audit log, where the admin
// console shows it.
type pluginAlerts struct{ audit audit.Recorder }

func (p pluginAlerts) AppDisabled(ctx context.Context, inst plugins.Install, reason string) {
	_ = p.audit.Record(ctx, audit.Entry{OrgID: inst.OrgID, ActorKind: string(core.ActorSystem), Action: "plugins.app.disabled",
		ObjectType: "app_install", ObjectID: inst.ID, Result: audit.ResultFailed, Details: map[string]any{"app_id": inst.AppID, "reason": reason}})
}

// appHooks carries events to the apps. Hooks wait for the apps (up to the
// host's deadline), so they run on their own goroutines, never on the path
// of the person who acted.
type appHooks struct {
	host *plugins.Host
	im   *im.Service
	log  *slog.Logger
}

func (h appHooks) subscribe(a *App, b bus.Bus) error {
	deliver := func(name string, fn func(ctx context.Context) error) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := fn(ctx); err != nil {
				h.log.Warn("app hook failed", "hook", name, "err", err)
			}
		}()
	}
	subs := []struct {
		subject string
		fn      func(bus.Event)
	}{
		{approvals.SubjectFinished, func(e bus.Event) {
			var ev approvals.Event
			if json.Unmarshal(e.Data, &ev) != nil {
				return
			}
			deliver("approval finished", func(ctx context.Context) error {
				return h.host.ApprovalFinished(ctx, ev.OrgID, sdk.ApprovalFinished{ApprovalID: ev.RequestID, Template: ev.TemplateCode, ApplicantID: ev.SubmitterID, Outcome: string(ev.Status), At: ev.At})
			})
		}},
		{roster.SubjectPublished, func(e bus.Event) {
			var ev roster.Event
			if json.Unmarshal(e.Data, &ev) != nil {
				return
			}
			month := ev.From.In(time.UTC).Format("2006-01")
			deliver("roster published", func(ctx context.Context) error {
				return h.host.RosterPublished(ctx, ev.OrgID, sdk.RosterPublished{RosterID: ev.RosterID, DepartmentID: ev.DepartmentID, Month: month, At: ev.At})
			})
		}},
		{"orgchart.staff.joined", func(e bus.Event) { h.staff(e, true, deliver) }},
		{"orgchart.staff.left", func(e bus.Event) { h.staff(e, false, deliver) }},
	}
	for _, s := range subs {
		if _, err := b.Subscribe(s.subject, s.fn); err != nil {
			return err
		}
	}
	// Chat messages: follow the durable event log from its head, woken by
	// the bus and by a poll, like the WebSocket hub does.
	pos, err := h.im.Head(context.Background())
	if err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	if _, err := b.Subscribe(im.SubjectEvents, func(bus.Event) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}); err != nil {
		return err
	}
	a.goBackground("app message hooks", func(ctx context.Context) {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-t.C:
			}
			evs, err := h.im.Store().EventsAfter(ctx, pos, 500)
			if err != nil {
				continue
			}
			for _, ev := range evs {
				pos = ev.Pos
				if ev.Type != im.EvMessagePosted || ev.Personal() {
					continue
				}
				var m im.Message
				if json.Unmarshal(ev.Data, &m) != nil || m.Kind == im.KindCard {
					continue
				}
				c, err := h.im.Store().Conversation(ctx, m.ConversationID)
				if err != nil {
					continue
				}
				msg := sdk.Message{ID: m.ID, ConversationID: m.ConversationID, SenderID: m.SenderID, Text: m.Text, At: m.CreatedAt}
				deliver("message posted", func(ctx context.Context) error { return h.host.MessagePosted(ctx, c.OrgID, msg) })
			}
		}
	})
	return nil
}

func (h appHooks) staff(e bus.Event, joined bool, deliver func(string, func(context.Context) error)) {
	var ev orgchart.StaffEvent
	if json.Unmarshal(e.Data, &ev) != nil {
		return
	}
	dept := ev.PrimaryDepartmentID
	if dept == "" && len(ev.PreviousDepartmentIDs) > 0 {
		dept = ev.PreviousDepartmentIDs[0]
	}
	deliver("staff changed", func(ctx context.Context) error {
		return h.host.StaffChanged(ctx, ev.OrgID, sdk.StaffChange{UserID: ev.UserID, DepartmentID: dept, Joined: joined, At: ev.At})
	})
}
