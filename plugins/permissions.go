package plugins

import (
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/roundshq/rounds/core"
)

// The model is deliberately flat: a subject ("app:<installID>") holds
// (object, action) pairs in a domain (the organisation). No roles, no
// wildcards, no deny rules: an app has exactly what the admin granted and a
// grant in one hospital means nothing in another.
const permissionModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// Permissions decides which host-API calls an install may make.
type Permissions struct {
	e *casbin.SyncedEnforcer
}

// NewPermissions returns an empty policy.
func NewPermissions() (*Permissions, error) {
	m, err := model.NewModelFromString(permissionModel)
	if err != nil {
		return nil, core.Wrap(err, "permission model")
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, core.Wrap(err, "permission enforcer")
	}
	return &Permissions{e: e}, nil
}

func subject(installID string) string { return "app:" + installID }

// splitScope turns "orgchart:read" into ("orgchart", "read").
func splitScope(scope string) (string, string) {
	obj, act, _ := strings.Cut(scope, ":")
	return obj, act
}

// Set replaces the install's grants in orgID.
func (p *Permissions) Set(installID, orgID string, scopes []string) error {
	if _, err := p.e.RemoveFilteredPolicy(0, subject(installID)); err != nil {
		return core.Wrap(err, "revoke grants")
	}
	rules := make([][]string, 0, len(scopes))
	for _, s := range scopes {
		obj, act := splitScope(s)
		rules = append(rules, []string{subject(installID), orgID, obj, act})
	}
	if len(rules) == 0 {
		return nil
	}
	if _, err := p.e.AddPolicies(rules); err != nil {
		return core.Wrap(err, "grant scopes")
	}
	return nil
}

// Revoke removes every grant of the install.
func (p *Permissions) Revoke(installID string) error {
	_, err := p.e.RemoveFilteredPolicy(0, subject(installID))
	return core.Wrap(err, "revoke grants")
}

// Allowed reports whether the install may use scope in orgID.
func (p *Permissions) Allowed(installID, orgID, scope string) bool {
	obj, act := splitScope(scope)
	ok, err := p.e.Enforce(subject(installID), orgID, obj, act)
	return err == nil && ok
}
