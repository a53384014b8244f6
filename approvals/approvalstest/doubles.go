package approvalstest

import (
	"context"
	"slices"
	"sync"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

// Directory is a small in-memory org chart for tests of code that uses
// approvals: departments with parents and heads, people in departments
// (primary first), role holders. Safe for concurrent use.
type Directory struct {
	mu       sync.Mutex
	parent   map[string]string
	heads    map[string][]string
	depts    map[string][]string
	roles    map[string][]string
	inactive map[string]bool
}

var _ approvals.Directory = (*Directory)(nil)

// NewDirectory returns an empty org chart.
func NewDirectory() *Directory {
	return &Directory{parent: map[string]string{}, heads: map[string][]string{}, depts: map[string][]string{}, roles: map[string][]string{}, inactive: map[string]bool{}}
}

// Department adds a department under parent ("" for the root) with heads.
func (d *Directory) Department(id, parent string, heads ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parent[id] = parent
	d.heads[id] = heads
}

// Person places a person in departments, the primary first.
func (d *Directory) Person(user string, depts ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.depts[user] = depts
}

// Role sets the holders of a role.
func (d *Directory) Role(role string, holders ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roles[role] = holders
}

// Leave marks a person as no longer active.
func (d *Directory) Leave(user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inactive[user] = true
}

func (d *Directory) ManagerOf(_ context.Context, _, user string, levels int) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds := d.depts[user]
	if len(ds) == 0 {
		return nil, nil
	}
	dep := ds[0]
	if slices.Contains(d.heads[dep], user) {
		dep = d.parent[dep]
	}
	for i := 1; i < levels && dep != ""; i++ {
		dep = d.parent[dep]
	}
	return slices.Clone(d.heads[dep]), nil
}

func (d *Directory) HeadsOf(_ context.Context, _, dept string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.heads[dept]), nil
}

func (d *Directory) RoleHolders(_ context.Context, _, role string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.roles[role]), nil
}

func (d *Directory) IsInSubtree(_ context.Context, _, root, dept string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for dep, n := dept, 0; dep != "" && n < 100; dep, n = d.parent[dep], n+1 {
		if dep == root {
			return true, nil
		}
	}
	return false, nil
}

func (d *Directory) DepartmentsOf(_ context.Context, _, user string) (string, []string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds, ok := d.depts[user]
	if !ok {
		return "", nil, core.Errorf(core.ENotFound, "no such person")
	}
	if len(ds) == 0 {
		return "", nil, nil
	}
	return ds[0], slices.Clone(ds), nil
}

func (d *Directory) IsActive(_ context.Context, _, user string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.depts[user]
	return ok && !d.inactive[user], nil
}

// Authorizer grants "use" to everyone, "read_subtree" to Heads and every
// other action to Admins.
type Authorizer struct {
	Admins map[string]bool
	Heads  map[string]bool
}

var _ approvals.Authorizer = (*Authorizer)(nil)

func (a *Authorizer) Authorize(_ context.Context, act core.Actor, _, _, action string) error {
	switch {
	case act.IsSystem(), action == approvals.ActionUse,
		action == approvals.ActionReadSubtree && a.Heads[act.UserID],
		a.Admins[act.UserID]:
		return nil
	}
	return core.Errorf(core.EForbidden, "not allowed")
}
