package plugins

import (
	"strings"
	"sync"

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

// Permissions decides which host-API calls an install may make. Each
// install has its own small casbin enforcer: casbin evaluates the matcher
// against every policy line, so one shared policy of every install's grants
// would make each check cost as much as the number of installs (17 ms with
// a thousand installs, measured) where a per-install policy of at most ten
// lines costs microseconds — and no install's grants can ever match another's
// request.
type Permissions struct {
	mu sync.RWMutex
	m  map[string]*installPolicy // install id -> its policy
}

// installPolicy is one install's enforcer and the decisions it has made.
// Grants never change in place (Set builds a new policy), so a decision
// stays true for the policy's life.
type installPolicy struct {
	e         *casbin.SyncedEnforcer
	decisions sync.Map // "org\x00scope" -> bool
}

// NewPermissions returns an empty policy.
func NewPermissions() (*Permissions, error) {
	if _, err := model.NewModelFromString(permissionModel); err != nil {
		return nil, core.Wrap(err, "permission model")
	}
	return &Permissions{m: map[string]*installPolicy{}}, nil
}

func subject(installID string) string { return "app:" + installID }

// splitScope turns "orgchart:read" into ("orgchart", "read").
func splitScope(scope string) (string, string) {
	obj, act, _ := strings.Cut(scope, ":")
	return obj, act
}

// Set replaces the install's grants in orgID.
func (p *Permissions) Set(installID, orgID string, scopes []string) error {
	m, err := model.NewModelFromString(permissionModel)
	if err != nil {
		return core.Wrap(err, "permission model")
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return core.Wrap(err, "permission enforcer")
	}
	rules := make([][]string, 0, len(scopes))
	for _, s := range scopes {
		obj, act := splitScope(s)
		rules = append(rules, []string{subject(installID), orgID, obj, act})
	}
	if len(rules) > 0 {
		if _, err := e.AddPolicies(rules); err != nil {
			return core.Wrap(err, "grant scopes")
		}
	}
	p.mu.Lock()
	p.m[installID] = &installPolicy{e: e}
	p.mu.Unlock()
	return nil
}

// Revoke removes every grant of the install.
func (p *Permissions) Revoke(installID string) error {
	p.mu.Lock()
	delete(p.m, installID)
	p.mu.Unlock()
	return nil
}

// Allowed reports whether the install may use scope in orgID.
func (p *Permissions) Allowed(installID, orgID, scope string) bool {
	p.mu.RLock()
	ip := p.m[installID]
	p.mu.RUnlock()
	if ip == nil {
		return false
	}
	key := orgID + "\x00" + scope
	if v, ok := ip.decisions.Load(key); ok {
		return v.(bool)
	}
	obj, act := splitScope(scope)
	ok, err := ip.e.Enforce(subject(installID), orgID, obj, act)
	allowed := err == nil && ok
	if err == nil {
		ip.decisions.Store(key, allowed)
	}
	return allowed
}
