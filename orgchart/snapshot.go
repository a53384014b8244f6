package orgchart

import (
	"sort"
	"strings"

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
	sortKey   map[string]string   // staff id → sort key (pinyin, then id)
}

type searchEntry struct {
	id, name, full, initials, empNo, phone string
	deptNames                              []string // lower-cased names of the person's departments
}

func buildSnapshot(d *OrgData) *snapshot {
	s := &snapshot{
		org:       d.Org,
		dutyRoles: append([]string(nil), d.DutyRoles...),
		depts:     make(map[string]*Department, len(d.Departments)),
		children:  make(map[string][]string),
		staff:     make(map[string]*Staff, len(d.Staff)),
		byEmpNo:   make(map[string]string, len(d.Staff)),
		members:   make(map[string][]string),
		heads:     make(map[string][]string),
		roles:     make(map[string][]string),
		sortKey:   make(map[string]string, len(d.Staff)),
	}
	for i := range d.Departments {
		dep := d.Departments[i]
		s.depts[dep.ID] = &dep
		s.children[dep.ParentID] = append(s.children[dep.ParentID], dep.ID)
	}
	for p, kids := range s.children {
		sort.Slice(kids, func(i, j int) bool { return s.deptLess(kids[i], kids[j]) })
		s.children[p] = kids
	}
	for i := range d.Staff {
		p := d.Staff[i]
		s.staff[p.ID] = &p
		s.byEmpNo[strings.ToLower(p.EmployeeNo)] = p.ID
		k := PinyinOf(p.Name)
		s.sortKey[p.ID] = k.Full + "\x00" + p.Name + "\x00" + p.ID
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
			for _, r := range p.DutyRoles {
				s.roles[r] = append(s.roles[r], p.ID)
			}
		}
		e := searchEntry{id: p.ID, name: strings.ToLower(p.Name), full: k.Full, initials: k.Initials,
			empNo: strings.ToLower(p.EmployeeNo), phone: p.Phone}
		for _, dep := range p.DepartmentIDs {
			if dd, ok := s.depts[dep]; ok {
				e.deptNames = append(e.deptNames, strings.ToLower(dd.Name))
			}
		}
		s.entries = append(s.entries, e)
	}
	for _, m := range []map[string][]string{s.members, s.heads, s.roles} {
		for k, ids := range m {
			s.sortIDs(ids)
			m[k] = ids
		}
	}
	sort.Slice(s.entries, func(i, j int) bool { return s.sortKey[s.entries[i].id] < s.sortKey[s.entries[j].id] })
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

// data returns the snapshot's contents as OrgData (copies of the rows).
func (s *snapshot) data() *OrgData {
	d := &OrgData{Org: s.org, DutyRoles: append([]string(nil), s.dutyRoles...)}
	for _, dep := range s.depts {
		d.Departments = append(d.Departments, *dep)
	}
	for _, p := range s.staff {
		d.Staff = append(d.Staff, *p)
	}
	return d
}

// with returns a new snapshot with c applied on top of s.
func (s *snapshot) with(c *Changes, version int64) *snapshot {
	d := &OrgData{Org: s.org, DutyRoles: s.dutyRoles}
	d.Org.Version = version
	if c.DutyRoles != nil {
		d.DutyRoles = c.DutyRoles
	}
	del := make(map[string]bool, len(c.DeleteDepartments))
	for _, id := range c.DeleteDepartments {
		del[id] = true
	}
	put := make(map[string]Department, len(c.PutDepartments))
	for _, dep := range c.PutDepartments {
		put[dep.ID] = dep
	}
	for id, dep := range s.depts {
		if del[id] {
			continue
		}
		if n, ok := put[id]; ok {
			d.Departments = append(d.Departments, n)
			delete(put, id)
			continue
		}
		d.Departments = append(d.Departments, *dep)
	}
	for _, dep := range c.PutDepartments {
		if _, ok := put[dep.ID]; ok {
			d.Departments = append(d.Departments, dep)
		}
	}
	ps := make(map[string]Staff, len(c.PutStaff))
	for _, p := range c.PutStaff {
		ps[p.ID] = p
	}
	for id, p := range s.staff {
		if n, ok := ps[id]; ok {
			d.Staff = append(d.Staff, n)
			delete(ps, id)
			continue
		}
		d.Staff = append(d.Staff, *p)
	}
	for _, p := range c.PutStaff {
		if _, ok := ps[p.ID]; ok {
			d.Staff = append(d.Staff, p)
		}
	}
	return buildSnapshot(d)
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
