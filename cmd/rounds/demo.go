package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/orgchart/demo"
)

// demoPassword is the shared password of the demo accounts printed at start.
// The demo is for trying Rounds, never for production data.
const demoPassword = "rounds-demo-2026"

// demoSeed keeps the demo hospital group the same on every machine.
const demoSeed = 20261126

type demoLogin struct {
	Login string
	Role  string
}

// LoadDemo loads the demo hospital group (a no-op when it is already there),
// gives every person their built-in roles, makes each hospital's IT head its
// organisation admin, and sets the demo password on a handful of accounts —
// an admin, heads and staff in each hospital — which it returns for printing.
func (a *App) LoadDemo(ctx context.Context) ([]demoLogin, error) {
	loaded, err := demo.Load(ctx, a.areas.org, demo.Generate(demoSeed))
	if err != nil {
		return nil, err
	}
	if err := a.roles.reconcile(ctx); err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	if err := a.installTemplates(ctx); err != nil {
		return nil, err
	}
	for _, acc := range loaded.Accounts {
		if acc.SuggestedRole == authz.RoleOrgAdmin {
			if err := a.grant(ctx, acc.OrgID, acc.UserID, authz.RoleOrgAdmin); err != nil {
				return nil, err
			}
		}
	}
	var out []demoLogin
	for _, acc := range pickDemoAccounts(loaded.Accounts) {
		if err := a.core.identity.SetPassword(ctx, core.SystemActor, acc.UserID, demoPassword); err != nil {
			return nil, fmt.Errorf("password of %s: %w", acc.Login, err)
		}
		out = append(out, demoLogin{Login: acc.Login, Role: describeDemo(acc)})
	}
	return out, nil
}

func (a *App) grant(ctx context.Context, orgID, userID, role string) error {
	for _, r := range a.core.authz.RolesOf(orgID, userID) {
		if r == role {
			return nil
		}
	}
	if err := a.core.authz.AssignRole(ctx, core.SystemActor, orgID, userID, role); err != nil && !core.IsCode(err, core.EConflict) {
		return err
	}
	return nil
}

// pickDemoAccounts chooses, per hospital, the admin, the president, a head
// nurse, a doctor and a nurse — enough to try chat, approvals and rosters
// from every side.
func pickDemoAccounts(all []demo.Account) []demo.Account {
	byOrg := map[string][]demo.Account{}
	var orgs []string
	for _, a := range all {
		if _, ok := byOrg[a.OrgCode]; !ok {
			orgs = append(orgs, a.OrgCode)
		}
		byOrg[a.OrgCode] = append(byOrg[a.OrgCode], a)
	}
	sort.Strings(orgs)
	var out []demo.Account
	for _, o := range orgs {
		accs := byOrg[o]
		sort.Slice(accs, func(i, j int) bool { return accs[i].Login < accs[j].Login })
		picks := []func(demo.Account) bool{
			func(a demo.Account) bool { return a.SuggestedRole == authz.RoleOrgAdmin },
			func(a demo.Account) bool { return has(a.DutyRoles, "院长") },
			func(a demo.Account) bool { return a.Title == "护士长" },
			func(a demo.Account) bool {
				return a.SuggestedRole == authz.RoleStaff && strings.Contains(a.Position, "医师")
			},
			func(a demo.Account) bool {
				return a.SuggestedRole == authz.RoleStaff && strings.Contains(a.Position, "护士")
			},
		}
		taken := map[string]bool{}
		for _, p := range picks {
			for _, a := range accs {
				if !taken[a.UserID] && p(a) {
					taken[a.UserID] = true
					out = append(out, a)
					break
				}
			}
		}
	}
	return out
}

func describeDemo(a demo.Account) string {
	var parts []string
	parts = append(parts, a.Name)
	if a.Department != "" {
		parts = append(parts, a.Department)
	}
	if a.Title != "" {
		parts = append(parts, a.Title)
	} else if a.Position != "" {
		parts = append(parts, a.Position)
	}
	if len(a.DutyRoles) > 0 {
		parts = append(parts, strings.Join(a.DutyRoles, "/"))
	}
	parts = append(parts, "("+a.SuggestedRole+")")
	return strings.Join(parts, " · ")
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
