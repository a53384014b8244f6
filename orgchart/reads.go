package orgchart

import (
	"context"
	"sort"
	"strings"

	"github.com/roundshq/rounds/core"
)

// view is what one organisation's directory shows a viewer: everything, or
// only some departments (and the people in them).
type view struct {
	all   bool
	depts map[string]bool
}

func (v view) seesDept(id string) bool { return v.all || v.depts[id] }

func (v view) seesStaff(p *Staff) bool {
	if v.all {
		return true
	}
	for _, d := range p.DepartmentIDs {
		if v.depts[d] {
			return true
		}
	}
	return false
}

// viewOf says what viewerOrg may see of orgID's directory: all of its own,
// and of another organisation the union of what that organisation shares in
// every hospital group both belong to. ok is false when nothing is shared.
func (s *Service) viewOf(sn *snapshot, viewerOrg string) (v view, ok bool) {
	if viewerOrg == "" || viewerOrg == sn.org.ID {
		return view{all: true}, true
	}
	for _, g := range s.allGroups() {
		var viewerIn bool
		var share *GroupMember
		for i := range g.Members {
			m := &g.Members[i]
			if m.OrgID == viewerOrg {
				viewerIn = true
			}
			if m.OrgID == sn.org.ID {
				share = m
			}
		}
		if !viewerIn || share == nil {
			continue
		}
		switch share.Share {
		case ShareWhole:
			return view{all: true}, true
		case ShareSubtrees:
			for _, root := range share.DepartmentIDs {
				if _, exists := sn.depts[root]; !exists {
					continue
				}
				if v.depts == nil {
					v.depts = map[string]bool{}
				}
				for _, d := range sn.subtree(root) {
					v.depts[d] = true
				}
				ok = true
			}
		}
	}
	return v, ok
}

// readable checks that the actor may read the directory and returns what it
// may see of orgID. An organisation the actor cannot see at all is
// ENotFound, as if it did not exist.
func (s *Service) readable(ctx context.Context, a core.Actor, orgID string) (*snapshot, view, error) {
	authOrg := a.OrgID
	if authOrg == "" {
		authOrg = orgID
	}
	if err := s.authorize(ctx, a, authOrg, ObjDirectory, ActRead); err != nil {
		return nil, view{}, err
	}
	sn, err := s.snap(ctx, orgID)
	if err != nil {
		return nil, view{}, err
	}
	v, ok := s.viewOf(sn, a.OrgID)
	if !ok {
		return nil, view{}, core.Errorf(core.ENotFound, "no such organisation")
	}
	return sn, v, nil
}

// VisibleOrgs lists the organisations whose directory the actor can see (at
// least in part): their own and the group partners that share with them.
func (s *Service) VisibleOrgs(ctx context.Context, a core.Actor) ([]Org, error) {
	orgs, err := s.cfg.Store.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	out := []Org{}
	for _, o := range orgs {
		if _, _, err := s.readable(ctx, a, o.ID); err == nil {
			if sn := s.current(o.ID); sn != nil {
				o.Version = sn.org.Version
			}
			out = append(out, o)
		} else if !core.IsCode(err, core.ENotFound) && !core.IsCode(err, core.EForbidden) {
			return nil, err
		}
	}
	return out, nil
}

// Org returns one organisation the actor can see.
func (s *Service) Org(ctx context.Context, a core.Actor, orgID string) (Org, error) {
	sn, _, err := s.readable(ctx, a, orgID)
	if err != nil {
		return Org{}, err
	}
	return sn.org, nil
}

// DutyRoles returns the organisation's defined duty roles.
func (s *Service) DutyRoles(ctx context.Context, a core.Actor, orgID string) ([]string, error) {
	sn, _, err := s.readable(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	return append([]string{}, sn.dutyRoles...), nil
}

// TreeNode is a department with its member count and children, for the
// directory tree.
type TreeNode struct {
	Department
	Path        string     `json:"path"`
	MemberCount int        `json:"member_count"` // current staff directly in it
	Children    []TreeNode `json:"children,omitempty"`
}

// Tree returns the department tree the actor can see, ordered. For a group
// partner it holds the shared subtrees only.
func (s *Service) Tree(ctx context.Context, a core.Actor, orgID string) ([]TreeNode, error) {
	sn, v, err := s.readable(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	var build func(id string) TreeNode
	build = func(id string) TreeNode {
		n := TreeNode{Department: *sn.depts[id], Path: sn.pathString(id), MemberCount: len(sn.members[id])}
		for _, c := range sn.children[id] {
			n.Children = append(n.Children, build(c))
		}
		return n
	}
	out := []TreeNode{}
	var walk func(parent string)
	walk = func(parent string) {
		for _, id := range sn.children[parent] {
			if v.seesDept(id) {
				out = append(out, build(id))
				continue
			}
			walk(id)
		}
	}
	walk("")
	return out, nil
}

// Department returns one department the actor can see.
func (s *Service) Department(ctx context.Context, a core.Actor, orgID, deptID string) (Department, error) {
	sn, v, err := s.readable(ctx, a, orgID)
	if err != nil {
		return Department{}, err
	}
	d, ok := sn.depts[deptID]
	if !ok || !v.seesDept(deptID) {
		return Department{}, core.Errorf(core.ENotFound, "no such department")
	}
	return *d, nil
}

// Members lists current staff of a department (and its subtree when asked),
// sorted by name pinyin, one page at a time.
func (s *Service) Members(ctx context.Context, a core.Actor, orgID, deptID string, subtree bool, page core.PageRequest) ([]Staff, string, error) {
	sn, v, err := s.readable(ctx, a, orgID)
	if err != nil {
		return nil, "", err
	}
	if _, ok := sn.depts[deptID]; !ok || !v.seesDept(deptID) {
		return nil, "", core.Errorf(core.ENotFound, "no such department")
	}
	return sn.pageOf(sn.memberIDs(deptID, subtree), page)
}

// ListStaff lists the organisation's staff the actor can see, current staff
// only unless includeLeft, sorted by name pinyin.
func (s *Service) ListStaff(ctx context.Context, a core.Actor, orgID string, includeLeft bool, page core.PageRequest) ([]Staff, string, error) {
	sn, v, err := s.readable(ctx, a, orgID)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(sn.order))
	for _, id := range sn.order {
		if p := sn.staff[id]; (includeLeft || p.Status.Current()) && v.seesStaff(p) {
			ids = append(ids, id)
		}
	}
	return sn.pageOf(ids, page)
}

func (sn *snapshot) memberIDs(deptID string, subtree bool) []string {
	if !subtree {
		return sn.members[deptID]
	}
	seen := map[string]bool{}
	var ids []string
	for _, d := range sn.subtree(deptID) {
		for _, id := range sn.members[d] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sn.sortIDs(ids)
	return ids
}

// pageOf cuts a sorted id list into a page; the cursor is the sort key of
// the last item, so pages stay stable while people join or leave.
func (sn *snapshot) pageOf(ids []string, page core.PageRequest) ([]Staff, string, error) {
	page = page.Normalize(50)
	var after string
	if err := core.DecodeCursor(page.Cursor, &after); err != nil {
		return nil, "", err
	}
	i := 0
	if after != "" {
		i = sort.Search(len(ids), func(k int) bool { return sn.sortKey[ids[k]] > after })
	}
	out := []Staff{}
	for ; i < len(ids) && len(out) < page.Limit; i++ {
		out = append(out, cloneStaff(sn.staff[ids[i]]))
	}
	next := ""
	if i < len(ids) && len(out) > 0 {
		next = core.EncodeCursor(sn.sortKey[out[len(out)-1].ID])
	}
	return out, next, nil
}

// DeptRef names a department with its path.
type DeptRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// PersonRef names a person.
type PersonRef struct {
	ID       string `json:"id"`
	OrgID    string `json:"org_id"`
	Name     string `json:"name"`
	Position string `json:"position,omitempty"`
	Title    string `json:"title,omitempty"`
}

// Card is the person card: who someone is, where they work and who their
// manager is.
type Card struct {
	Staff
	Login             string      `json:"login"`
	PrimaryDepartment *DeptRef    `json:"primary_department,omitempty"`
	Departments       []DeptRef   `json:"departments"`
	Heads             []DeptRef   `json:"heads,omitempty"`
	Managers          []PersonRef `json:"managers"`
}

// Card returns the person card of userID in orgID as the actor may see it.
func (s *Service) Card(ctx context.Context, a core.Actor, orgID, userID string) (Card, error) {
	sn, v, err := s.readable(ctx, a, orgID)
	if err != nil {
		return Card{}, err
	}
	p, ok := sn.staff[userID]
	if !ok || !v.seesStaff(p) {
		return Card{}, core.Errorf(core.ENotFound, "no such person")
	}
	return sn.card(p, v), nil
}

func (sn *snapshot) ref(id string) DeptRef {
	return DeptRef{ID: id, Name: sn.depts[id].Name, Path: sn.pathString(id)}
}

func (sn *snapshot) card(p *Staff, v view) Card {
	c := Card{Staff: cloneStaff(p), Login: Login(sn.org.Code, p.EmployeeNo), Departments: []DeptRef{}, Managers: []PersonRef{}}
	if p.PrimaryDepartmentID != "" {
		r := sn.ref(p.PrimaryDepartmentID)
		c.PrimaryDepartment = &r
	}
	for _, d := range p.DepartmentIDs {
		c.Departments = append(c.Departments, sn.ref(d))
	}
	for _, d := range p.HeadOf {
		c.Heads = append(c.Heads, sn.ref(d))
	}
	if p.Status.Current() {
		ms, _ := sn.managerOf(p.ID, 1)
		for _, m := range ms {
			q := sn.staff[m]
			if !v.seesStaff(q) {
				continue // a partner hospital sees only what is shared
			}
			c.Managers = append(c.Managers, PersonRef{ID: q.ID, OrgID: q.OrgID, Name: q.Name, Position: q.Position, Title: q.Title})
		}
	}
	return c
}

// The methods below are for other areas (approvals, IM, authorization,
// attendance). They trust their caller — the area has already decided the
// actor may act — and answer from the snapshot without touching the
// database once the organisation is loaded.

func (s *Service) known(ctx context.Context, orgID string) (*snapshot, error) {
	sn, err := s.snap(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return sn, nil
}

// DepartmentMembers returns the user ids of current staff (active or on
// leave) of a department, or of its whole subtree. ENotFound for an unknown
// department.
func (s *Service) DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if _, ok := sn.depts[deptID]; !ok {
		return nil, core.Errorf(core.ENotFound, "no department %s", deptID)
	}
	return append([]string{}, sn.memberIDs(deptID, subtree)...), nil
}

// ManagerOf returns the user ids of a person's manager levelsUp levels up
// (1 = direct manager). The rule, as approval chains need it:
//
//   - Level 1 is found by walking up from the person's primary department:
//     the first department that has at least one active head who is not the
//     person themself gives the manager(s). A head of a department therefore
//     reports to the head of the department above.
//   - Level N+1 is found the same way, starting from the parent of the
//     department that gave level N.
//   - An empty level (no head, only heads on leave or gone, or the person
//     heads it themself) is skipped, never returned empty; when the top of
//     the tree is reached first the result is an empty list and no error
//     (the president has no manager). Approvals decide what an empty list
//     means (skip the step, or send it to the org admin).
//   - Several co-heads are all returned, sorted by name.
//
// ENotFound when the person is unknown; EInvalid when levelsUp < 1.
func (s *Service) ManagerOf(ctx context.Context, orgID, userID string, levelsUp int) ([]string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ms, err := sn.managerOf(userID, levelsUp)
	if ms == nil && err == nil {
		ms = []string{}
	}
	return ms, err
}

// HeadsOf returns the active heads of exactly this department (empty when
// it has none; no walking up). ENotFound for an unknown department.
func (s *Service) HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if _, ok := sn.depts[deptID]; !ok {
		return nil, core.Errorf(core.ENotFound, "no department %s", deptID)
	}
	return append([]string{}, sn.heads[deptID]...), nil
}

// HeadsOfNamed returns the active heads of the department with the given
// path ("医务处" or "内科/心内科"), for approval chains written with names.
func (s *Service) HeadsOfNamed(ctx context.Context, orgID, path string) ([]string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	id, ok := sn.deptByPath(splitPath(path))
	if !ok {
		return nil, core.Errorf(core.ENotFound, "no department %s", path)
	}
	return append([]string{}, sn.heads[id]...), nil
}

// RoleHolders returns the active holders of a duty role (院长, 护理部主任 …).
// An unknown role is EInvalid; a defined role nobody holds is an empty list.
func (s *Service) RoleHolders(ctx context.Context, orgID, role string) ([]string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if !contains(sn.dutyRoles, role) {
		return nil, core.Invalid("role", "%s is not a duty role of this organisation", role)
	}
	return append([]string{}, sn.roles[role]...), nil
}

// IsInSubtree reports whether deptID is rootDeptID or lies below it.
// ENotFound when either is unknown.
func (s *Service) IsInSubtree(ctx context.Context, orgID, rootDeptID, deptID string) (bool, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, id := range []string{rootDeptID, deptID} {
		if _, ok := sn.depts[id]; !ok {
			return false, core.Errorf(core.ENotFound, "no department %s", id)
		}
	}
	return sn.isUnder(rootDeptID, deptID), nil
}

// DepartmentsOf returns a person's primary department and all their
// departments (primary included). ENotFound for an unknown person.
func (s *Service) DepartmentsOf(ctx context.Context, orgID, userID string) (string, []string, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return "", nil, err
	}
	p, ok := sn.staff[userID]
	if !ok {
		return "", nil, core.Errorf(core.ENotFound, "no such person")
	}
	return p.PrimaryDepartmentID, append([]string{}, p.DepartmentIDs...), nil
}

// Person returns a member of staff, leavers included. ENotFound when unknown.
func (s *Service) Person(ctx context.Context, orgID, userID string) (Staff, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return Staff{}, err
	}
	p, ok := sn.staff[userID]
	if !ok {
		return Staff{}, core.Errorf(core.ENotFound, "no such person")
	}
	return cloneStaff(p), nil
}

// IsActive reports whether the person is current staff (active or on
// leave). Unknown people are not active (no error).
func (s *Service) IsActive(ctx context.Context, orgID, userID string) (bool, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return false, err
	}
	p, ok := sn.staff[userID]
	return ok && p.Status.Current(), nil
}

// Visible reports whether staff of viewerOrgID may see userID of orgID in
// the directory: always within one organisation, across organisations only
// through what a hospital group shares. IM asks this before putting people
// of two hospitals in one conversation. ENotFound when the person is unknown.
func (s *Service) Visible(ctx context.Context, viewerOrgID, orgID, userID string) (bool, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return false, err
	}
	p, ok := sn.staff[userID]
	if !ok {
		return false, core.Errorf(core.ENotFound, "no such person")
	}
	v, ok := s.viewOf(sn, viewerOrgID)
	return ok && v.seesStaff(p), nil
}

// AllStaff returns every member of staff of the organisation, leavers
// included, sorted by name pinyin: for reconciling jobs (role sync after a
// large import, whose per-person events a bounded bus queue may drop).
func (s *Service) AllStaff(ctx context.Context, orgID string) ([]Staff, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]Staff, 0, len(sn.order))
	for _, id := range sn.order {
		out = append(out, cloneStaff(sn.staff[id]))
	}
	return out, nil
}

// PersonByEmployeeNo finds a member of staff by employee number.
func (s *Service) PersonByEmployeeNo(ctx context.Context, orgID, employeeNo string) (Staff, error) {
	sn, err := s.known(ctx, orgID)
	if err != nil {
		return Staff{}, err
	}
	id, ok := sn.byEmpNo[strings.ToLower(strings.TrimSpace(employeeNo))]
	if !ok {
		return Staff{}, core.Errorf(core.ENotFound, "no employee number %s", employeeNo)
	}
	return cloneStaff(sn.staff[id]), nil
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "/") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (sn *snapshot) deptByPath(names []string) (string, bool) {
	if len(names) == 0 {
		return "", false
	}
	cur := ""
	for _, n := range names {
		id, ok := sn.childNamed(cur, n)
		if !ok {
			return "", false
		}
		cur = id
	}
	return cur, true
}
