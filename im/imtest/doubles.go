package imtest

import (
	"context"
	"sync"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
)

// Clock is a clock tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Directory is an in-memory org chart: departments with members (subtrees
// by parent links) and who is active.
type Directory struct {
	mu      sync.Mutex
	members map[string][]string // dept → users
	parent  map[string]string   // dept → parent dept
	active  map[string]bool
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{members: map[string][]string{}, parent: map[string]string{}, active: map[string]bool{}}
}

// SetParent places dept under parent.
func (d *Directory) SetParent(dept, parent string) {
	d.mu.Lock()
	d.parent[dept] = parent
	d.mu.Unlock()
}

// Place puts a user in departments (replacing their previous ones) and marks
// them active.
func (d *Directory) Place(userID string, depts ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remove(userID)
	for _, dep := range depts {
		d.members[dep] = append(d.members[dep], userID)
	}
	d.active[userID] = true
}

// Leave removes the user from every department and marks them inactive.
func (d *Directory) Leave(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remove(userID)
	d.active[userID] = false
}

func (d *Directory) remove(userID string) {
	for dep, ms := range d.members {
		out := ms[:0]
		for _, m := range ms {
			if m != userID {
				out = append(out, m)
			}
		}
		d.members[dep] = out
	}
}

// DepartmentMembers implements im.Directory.
func (d *Directory) DepartmentMembers(_ context.Context, _ string, deptID string, subtree bool) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for dep, ms := range d.members {
		if dep != deptID && !(subtree && d.under(dep, deptID)) {
			continue
		}
		for _, m := range ms {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func (d *Directory) under(dep, root string) bool {
	for p := d.parent[dep]; p != ""; p = d.parent[p] {
		if p == root {
			return true
		}
	}
	return false
}

// IsActive implements im.Directory; unknown users are active (tests that
// care place or remove them).
func (d *Directory) IsActive(_ context.Context, _ string, userID string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.active[userID]
	return a || !ok, nil
}

// Authorizer is the role part in tests: everyone may "use" chat except the
// Denied; any other action is for the listed org Admins only.
type Authorizer struct {
	Admins map[string]bool
	Denied map[string]bool
}

// Authorize implements im.Authorizer.
func (z Authorizer) Authorize(_ context.Context, a core.Actor, _ string, _, action string) error {
	if a.IsSystem() || z.Admins[a.UserID] {
		return nil
	}
	if action == "use" && !z.Denied[a.UserID] {
		return nil
	}
	return core.Errorf(core.EForbidden, "not allowed")
}

// Bots is an im.AppBots double: the installed, enabled apps' bots of each
// organisation.
type Bots struct {
	mu    sync.Mutex
	ByOrg map[string][]im.AppBot
}

// NewBots returns an empty double.
func NewBots() *Bots { return &Bots{ByOrg: map[string][]im.AppBot{}} }

// Install gives orgID an app whose bot is userID; Remove takes it away (the
// app disabled or uninstalled).
func (b *Bots) Install(orgID, userID, appID, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ByOrg[orgID] = append(b.ByOrg[orgID], im.AppBot{UserID: userID, AppID: appID, Name: name})
}

// Remove takes userID's app away from every organisation.
func (b *Bots) Remove(userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for org, bs := range b.ByOrg {
		out := bs[:0]
		for _, x := range bs {
			if x.UserID != userID {
				out = append(out, x)
			}
		}
		b.ByOrg[org] = out
	}
}

// AppBots implements im.AppBots.
func (b *Bots) AppBots(_ context.Context, orgID string) ([]im.AppBot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]im.AppBot(nil), b.ByOrg[orgID]...), nil
}

// AppBot implements im.AppBots.
func (b *Bots) AppBot(_ context.Context, orgID, userID string) (im.AppBot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.ByOrg[orgID] {
		if x.UserID == userID {
			return x, nil
		}
	}
	return im.AppBot{}, core.Errorf(core.ENotFound, "no app bot %s", userID)
}
