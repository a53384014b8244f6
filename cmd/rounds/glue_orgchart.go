package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/orgchart"
)

// orgAccounts gives the org chart login accounts: a person's id is their
// account's id.
type orgAccounts struct{ id *identity.Service }

var _ orgchart.Accounts = orgAccounts{}

func (a orgAccounts) CreateAccount(ctx context.Context, orgID, userID, login, name string) error {
	_, err := a.id.CreateUser(ctx, core.SystemActor, identity.NewUser{ID: userID, OrgID: orgID, Login: login, DisplayName: name})
	return err
}

func (a orgAccounts) DisableAccount(ctx context.Context, userID string) error {
	return a.id.Deactivate(ctx, core.SystemActor, userID)
}

func (a orgAccounts) EnableAccount(ctx context.Context, userID string) error {
	return a.id.Reactivate(ctx, core.SystemActor, userID)
}

// roleSync keeps the built-in roles in step with the org chart: every
// current member of staff holds "staff" in their organisation, every
// department head "dept_head"; a leaver holds neither. Changes arrive as
// org-chart events on every node; the first node to act writes, the others
// find the role already in place.
type roleSync struct {
	org   *orgchart.Service
	authz *authz.Enforcer
	log   *slog.Logger
}

func (r roleSync) subscribe(b bus.Bus) (bus.Subscription, error) {
	return b.Subscribe("orgchart.staff.>", func(e bus.Event) {
		var ev orgchart.StaffEvent
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return
		}
		if err := r.sync(context.Background(), ev.OrgID, ev.UserID); err != nil {
			r.log.Error("role sync failed", "org", ev.OrgID, "user", ev.UserID, "err", err)
		}
	})
}

// reconcile brings every person's built-in roles in line with the org
// chart: at start-up, and after anything whose per-person events a bounded bus
// queue may have dropped.
func (r roleSync) reconcile(ctx context.Context) error {
	orgs, err := r.org.VisibleOrgs(ctx, core.SystemActor)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		staff, err := r.org.AllStaff(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, p := range staff {
			if err := r.apply(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r roleSync) sync(ctx context.Context, orgID, userID string) error {
	p, err := r.org.Person(ctx, orgID, userID)
	if err != nil {
		return err
	}
	return r.apply(ctx, p)
}

func (r roleSync) apply(ctx context.Context, p orgchart.Staff) error {
	orgID, userID := p.OrgID, p.ID
	held := map[string]bool{}
	for _, role := range r.authz.RolesOf(orgID, userID) {
		held[role] = true
	}
	want := map[string]bool{
		authz.RoleStaff:    p.Status != orgchart.Left,
		authz.RoleDeptHead: p.Status != orgchart.Left && len(p.HeadOf) > 0,
	}
	for _, role := range []string{authz.RoleStaff, authz.RoleDeptHead} {
		switch {
		case want[role] && !held[role]:
			if err := r.authz.AssignRole(ctx, core.SystemActor, orgID, userID, role); err != nil && !core.IsCode(err, core.EConflict) {
				return err
			}
		case !want[role] && held[role]:
			if err := r.authz.RevokeRole(ctx, core.SystemActor, orgID, userID, role); err != nil && !core.IsCode(err, core.ENotFound) {
				return err
			}
		}
	}
	return nil
}
