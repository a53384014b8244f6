package orgchart

import (
	"sort"
	"strings"
	"sync"

	"github.com/roundshq/rounds/core"
)

// snapshot is an immutable view of one organisation's directory with the
// indexes that manager resolution and search need. A write builds a new
// snapshot and swaps it in, so readers never lock.
type snapshot struct {
	org       Org
	dutyRoles []string
	depts     map[string]*Department
	children  map[string][]string // parent id ("" for top level) → child ids, sorted
	staff     map[string]*Staff
	byEmpNo   map[string]string   // lower-cased employee number → id (every status)
	members   map[string][]string // department → current staff, sorted
	heads     map[string][]string // department → active heads, sorted
	roles     map[string][]string // duty role → active holders, sorted
	entries   []searchEntry       // current staff, sorted by sort key
	sortKey   map[string]string   // staff id → sort key (pinyin, name, id)
	order     []string            // every staff id, sorted by sort key
	deptLower map[string]string   // department id → lower-cased name, for search

	indexOnce sync.Once
	searchIx  *searchIndex
}

type searchEntry struct {
	id, name, full, initials, empNo, phone string
	depts                                  []string // the person's departments
}

func buildSnapshot(d *OrgData) *snapshot {
	depts := make([]*Department, len(d.Departments))
	for i := range d.Departments {
		depts[i] = &d.Departments[i]
	}
	staff := make([]*Staff, len(d.Staff))
	for i := range d.Staff {
		staff[i] = &d.Staff[i]
	}
	return build(d.Org, d.DutyRoles, depts, staff, nil)
}

// build makes a snapshot from rows that are never modified afterwards
// (snapshots share them). prev, when not nil, lends the sort keys of the
// people it shares, so a small change does not recompute 10,000 of them.
func build(org Org, dutyRoles []string, depts []*Department, staff []*Staff, prev *snapshot) *snapshot {
	s := &snapshot{
		org:       org,
		dutyRoles: append([]string(nil), dutyRoles...),
		depts:     make(map[string]*Department, len(depts)),
		children:  make(map[string][]string),
		staff:     make(map[string]*Staff, len(staff)),
		byEmpNo:   make(map[string]string, len(staff)),
		members:   make(map[string][]string, len(depts)),
		heads:     make(map[string][]string),
		roles:     make(map[string][]string),
		sortKey:   make(map[string]string, len(staff)),
	}
	s.deptLower = make(map[string]string, len(depts))
	for _, dep := range depts {
		s.depts[dep.ID] = dep
		s.deptLower[dep.ID] = strings.ToLower(dep.Name)
		s.children[dep.ParentID] = append(s.children[dep.ParentID], dep.ID)
	}
	for p, kids := range s.children {
		sort.Slice(kids, func(i, j int) bool { return s.deptLess(kids[i], kids[j]) })
		s.children[p] = kids
	}
	// Sort everyone once by pinyin; walking them in that order fills every
	// per-department, per-role and search list already sorted.
	type rec struct {
		p   *Staff
		key string
	}
	recs := make([]rec, len(staff))
	for i, p := range staff {
		if prev != nil && prev.staff[p.ID] == p {
			recs[i] = rec{p: p, key: prev.sortKey[p.ID]}
			continue
		}
		recs[i] = rec{p: p, key: PinyinOf(p.Name).Full + "\x00" + p.Name + "\x00" + p.ID}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].key < recs[j].key })
	s.order = make([]string, 0, len(recs))
	for _, r := range recs {
		p := r.p
		s.staff[p.ID] = p
		s.byEmpNo[strings.ToLower(p.EmployeeNo)] = p.ID
		s.sortKey[p.ID] = r.key
		s.order = append(s.order, p.ID)
		if !p.Status.Current() {
			continue
		}
		for _, dep := range p.DepartmentIDs {
			s.members[dep] = append(s.members[dep], p.ID)
		}
		if p.Status == Active {
			for _, dep := range p.HeadOf {
				s.heads[dep] = append(s.heads[dep], p.ID)
			}
			for _, role := range p.DutyRoles {
				s.roles[role] = append(s.roles[role], p.ID)
			}
		}
		if s.entries == nil {
			s.entries = make([]searchEntry, 0, len(recs))
		}
		k := PinyinOf(p.Name)
		s.entries = append(s.entries, searchEntry{id: p.ID, name: strings.ToLower(p.Name), full: k.Full, initials: k.Initials,
			empNo: strings.ToLower(p.EmployeeNo), phone: p.Phone, depts: p.DepartmentIDs})
	}
	return s
}

func (s *snapshot) deptLess(a, b string) bool {
	da, db := s.depts[a], s.depts[b]
	if da.Order != db.Order {
		return da.Order < db.Order
	}
	if da.Name != db.Name {
		return da.Name < db.Name
	}
	return a < b
}

func (s *snapshot) sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool { return s.sortKey[ids[i]] < s.sortKey[ids[j]] })
}

// with returns a new snapshot with c applied on top of s. Unchanged rows
// are shared with s.
func (s *snapshot) with(c *Changes, version int64) *snapshot {
	org := s.org
	org.Version = version
	roles := s.dutyRoles
	if c.DutyRoles != nil {
		roles = c.DutyRoles
	}
	del := make(map[string]bool, len(c.DeleteDepartments))
	for _, id := range c.DeleteDepartments {
		del[id] = true
	}
	put := make(map[string]*Department, len(c.PutDepartments))
	for i := range c.PutDepartments {
		dep := c.PutDepartments[i]
		put[dep.ID] = &dep
	}
	depts := make([]*Department, 0, len(s.depts)+len(put))
	for id, dep := range s.depts {
		if del[id] {
			continue
		}
		if n, ok := put[id]; ok {
			depts = append(depts, n)
			delete(put, id)
			continue
		}
		depts = append(depts, dep)
	}
	for _, dep := range c.PutDepartments {
		if n, ok := put[dep.ID]; ok {
			depts = append(depts, n)
		}
	}
	ps := make(map[string]*Staff, len(c.PutStaff))
	for i := range c.PutStaff {
		p := c.PutStaff[i]
		ps[p.ID] = &p
	}
	staff := make([]*Staff, 0, len(s.staff)+len(ps))
	for _, id := range s.order {
		if n, ok := ps[id]; ok {
			staff = append(staff, n)
			delete(ps, id)
			continue
		}
		staff = append(staff, s.staff[id])
	}
	for _, p := range c.PutStaff {
		if n, ok := ps[p.ID]; ok {
			staff = append(staff, n)
		}
	}
	return build(org, roles, depts, staff, s)
}

// isUnder reports whether dept is root or lies below it.
func (s *snapshot) isUnder(root, dept string) bool {
	for d := dept; d != ""; {
		if d == root {
			return true
		}
		dd, ok := s.depts[d]
		if !ok {
			return false
		}
		d = dd.ParentID
	}
	return false
}

// subtree returns root and every department below it, in tree order.
func (s *snapshot) subtree(root string) []string {
	out := []string{root}
	for i := 0; i < len(out); i++ {
		out = append(out, s.children[out[i]]...)
	}
	return out
}

// path returns the names from the top of the tree down to dept.
func (s *snapshot) path(dept string) []string {
	var names []string
	for d := dept; d != ""; {
		dd, ok := s.depts[d]
		if !ok {
			break
		}
		names = append(names, dd.Name)
		d = dd.ParentID
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return names
}

// pathString joins a department's path with "/".
func (s *snapshot) pathString(dept string) string { return strings.Join(s.path(dept), "/") }

// childNamed finds a child of parent by name.
func (s *snapshot) childNamed(parent, name string) (string, bool) {
	for _, id := range s.children[parent] {
		if s.depts[id].Name == name {
			return id, true
		}
	}
	return "", false
}

// managerOf implements the documented rule (see Service.ManagerOf).
func (s *snapshot) managerOf(userID string, levels int) ([]string, error) {
	p, ok := s.staff[userID]
	if !ok {
		return nil, core.Errorf(core.ENotFound, "no such person in this organisation").With("user_id", userID)
	}
	if levels < 1 {
		return nil, core.Invalid("levels_up", "levels up must be 1 or more")
	}
	d := p.PrimaryDepartmentID
	for level := 1; ; level++ {
		found := ""
		for ; d != ""; d = s.parentOf(d) {
			hs := s.heads[d]
			if len(hs) > 0 && !contains(hs, userID) {
				found = d
				break
			}
		}
		if found == "" {
			return nil, nil
		}
		if level == levels {
			return append([]string(nil), s.heads[found]...), nil
		}
		d = s.parentOf(found)
	}
}

func (s *snapshot) parentOf(d string) string {
	if dd, ok := s.depts[d]; ok {
		return dd.ParentID
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
