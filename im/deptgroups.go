package im

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
)

// Org-chart subjects department groups follow.
const (
	SubjectStaffJoined  = "orgchart.staff.joined"
	SubjectStaffLeft    = "orgchart.staff.left"
	SubjectStaffMoved   = "orgchart.staff.moved"
	SubjectStaffUpdated = "orgchart.staff.updated"
	SubjectDeptMoved    = "orgchart.department.moved"
)

// DepartmentChange is how im reads orgchart.department.moved.
type DepartmentChange struct {
	OrgID        string `json:"org_id"`
	DepartmentID string `json:"department_id"`
}

// HandleDepartmentMoved reconciles the groups a moved department can affect:
// every subtree group of the organisation (the department may have left or
// entered its subtree) and the groups bound to the department itself.
func (s *Service) HandleDepartmentMoved(ctx context.Context, ch DepartmentChange) error {
	if ch.OrgID == "" {
		return core.Invalid("org_id", "a department event needs org_id")
	}
	gs, err := s.store.DepartmentGroups(ctx, ch.OrgID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.Subtree || g.DepartmentID == ch.DepartmentID {
			if err := s.Reconcile(ctx, g.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// StaffChange is how im reads the org chart's staff events (its own
// decoding struct: im does not import orgchart).
type StaffChange struct {
	OrgID                 string   `json:"org_id"`
	UserID                string   `json:"user_id"`
	DepartmentIDs         []string `json:"department_ids"`
	PreviousDepartmentIDs []string `json:"previous_department_ids"`
}

// CreateDepartmentGroup creates a group bound to a department (and its
// subtree when subtree is true) whose members are its current staff. Only
// org admins may (Authorizer: im.department_group admin).
func (s *Service) CreateDepartmentGroup(ctx context.Context, a core.Actor, name, deptID string, subtree bool) (Conversation, error) {
	if s.dir == nil {
		return Conversation{}, core.Errorf(core.EUnavailable, "department groups need the org chart, which is not configured")
	}
	if s.authz == nil {
		return Conversation{}, core.Errorf(core.EForbidden, "only org admins create department groups")
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, "im.department_group", "admin"); err != nil {
		return Conversation{}, err
	}
	name, err := validName(name)
	if err != nil {
		return Conversation{}, err
	}
	if strings.TrimSpace(deptID) == "" || len(deptID) > 64 {
		return Conversation{}, core.Invalid("department_id", "name the department")
	}
	ids, err := s.dir.DepartmentMembers(ctx, a.OrgID, deptID, subtree)
	if err != nil {
		return Conversation{}, err
	}
	if len(ids) > MaxGroupMembers {
		return Conversation{}, core.Invalid("department_id", "the department has more than %d staff", MaxGroupMembers)
	}
	now := s.clock.Now()
	c := Conversation{ID: core.NewID(), OrgID: a.OrgID, Kind: Department, Name: name, DepartmentID: deptID, Subtree: subtree,
		ReceiptsOff: s.cfg.ReceiptsOffByDefault, CreatedAt: now, UpdatedAt: now}
	return s.create(ctx, c, "", ids, nil)
}

// Reconcile recomputes a department group's members from the directory:
// current staff who are missing are added, anyone else is removed. It runs
// at start-up (ReconcileAll) and on every org-chart staff event.
func (s *Service) Reconcile(ctx context.Context, convID string) error {
	if s.dir == nil {
		return nil
	}
	c, err := s.store.Conversation(ctx, convID)
	if err != nil {
		return err
	}
	if c.Kind != Department {
		return core.Invalid("conversation_id", "only department groups follow the org chart")
	}
	want, err := s.dir.DepartmentMembers(ctx, c.OrgID, c.DepartmentID, c.Subtree)
	if err != nil {
		return err
	}
	have, err := s.store.MemberIDs(ctx, convID)
	if err != nil {
		return err
	}
	wantSet := make(map[string]bool, len(want))
	for _, u := range want {
		wantSet[u] = true
	}
	haveSet := make(map[string]bool, len(have))
	var gone []string
	for _, u := range have {
		haveSet[u] = true
		if !wantSet[u] {
			gone = append(gone, u)
		}
	}
	var add []string
	for _, u := range want {
		if !haveSet[u] {
			add = append(add, u)
		}
	}
	if len(gone) > 0 {
		if err := s.removeMembers(ctx, convID, gone, "", "staff_left"); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if err := s.addMembers(ctx, convID, add, nil, ""); err != nil {
			return err
		}
	}
	return nil
}

// ReconcileAll reconciles every department group of an organisation, or of
// every organisation when orgID is "" (at start-up, to repair whatever
// org-chart events were missed while Rounds was down).
func (s *Service) ReconcileAll(ctx context.Context, orgID string) error {
	gs, err := s.store.DepartmentGroups(ctx, orgID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if err := s.Reconcile(ctx, g.ID); err != nil {
			return err
		}
	}
	return nil
}

// HandleStaffChange applies one org-chart staff event. A leaver is removed
// from every department group at once and their live connections are cut
// on every node; otherwise the groups that can be affected are reconciled.
func (s *Service) HandleStaffChange(ctx context.Context, subject string, ch StaffChange) error {
	if ch.OrgID == "" || ch.UserID == "" {
		return core.Invalid("user_id", "a staff event needs org_id and user_id")
	}
	gs, err := s.store.DepartmentGroups(ctx, ch.OrgID)
	if err != nil {
		return err
	}
	if subject == SubjectStaffLeft {
		for _, g := range gs {
			if err := s.removeMembers(ctx, g.ID, []string{ch.UserID}, "", "staff_left"); err != nil {
				return err
			}
		}
		return s.Kick(ctx, ch.UserID)
	}
	touched := map[string]bool{}
	for _, d := range append(append([]string{}, ch.DepartmentIDs...), ch.PreviousDepartmentIDs...) {
		touched[d] = true
	}
	for _, g := range gs {
		// A subtree group may be affected by a department below it, which
		// im cannot see; reconcile those always.
		if g.Subtree || touched[g.DepartmentID] {
			if err := s.Reconcile(ctx, g.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// FollowOrgChart subscribes to the org chart's staff events and department
// moves on b. Stop the
// returned subscriptions on shutdown.
func (s *Service) FollowOrgChart(b bus.Bus) ([]bus.Subscription, error) {
	var subs []bus.Subscription
	for _, subj := range []string{SubjectStaffJoined, SubjectStaffLeft, SubjectStaffMoved, SubjectStaffUpdated} {
		subj := subj
		sub, err := b.Subscribe(subj, func(ev bus.Event) {
			var ch StaffChange
			if err := json.Unmarshal(ev.Data, &ch); err != nil {
				s.log.Warn("im: unreadable org-chart event", "subject", ev.Subject, "err", err)
				return
			}
			if err := s.HandleStaffChange(context.Background(), ev.Subject, ch); err != nil {
				s.log.Warn("im: following the org chart failed; the start-up reconcile repairs it", "subject", ev.Subject, "user_id", ch.UserID, "err", err)
			}
		})
		if err != nil {
			for _, x := range subs {
				_ = x.Stop()
			}
			return nil, err
		}
		subs = append(subs, sub)
	}
	sub, err := b.Subscribe(SubjectDeptMoved, func(ev bus.Event) {
		var ch DepartmentChange
		if err := json.Unmarshal(ev.Data, &ch); err != nil {
			s.log.Warn("im: unreadable org-chart event", "subject", ev.Subject, "err", err)
			return
		}
		if err := s.HandleDepartmentMoved(context.Background(), ch); err != nil {
			s.log.Warn("im: following a department move failed; the start-up reconcile repairs it", "department_id", ch.DepartmentID, "err", err)
		}
	})
	if err != nil {
		for _, x := range subs {
			_ = x.Stop()
		}
		return nil, err
	}
	return append(subs, sub), nil
}
