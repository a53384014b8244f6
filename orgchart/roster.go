package orgchart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// Roster is the directory as an outside source — a CSV file, LDAP, the demo
// generator — says it should be. Import turns it into a plan (adds, updates,
// moves, leavers) and applies the plan in one transaction.
//
// People are matched to existing staff by employee number. Departments are
// named by path from the top of the tree ("内科/心内科/心内一病区") and created
// when missing; departments absent from the roster are left alone. Status
// empty means active for a new person and "still here" for an existing one
// (a leaver listed again comes back; someone on leave stays on leave).
type Roster struct {
	People []RosterPerson
	// Departments lists paths to create even when nobody is in them yet, and
	// the sibling order to give them.
	Departments []RosterDepartment
	// Full says the roster lists every current member of staff: anyone
	// current who is not in it is a leaver. Without Full, absent people are
	// left alone.
	Full bool
	// Source names the roster in the audit log ("csv", "ldap", "demo").
	Source string
}

// RosterDepartment is a department path with its sibling order.
type RosterDepartment struct {
	Path  []string
	Order int
}

// RosterPerson is one person of a roster. Line (CSV line number) or Ref
// (LDAP DN) locate them in error reports.
type RosterPerson struct {
	Line             int
	Ref              string
	EmployeeNo       string
	Name             string
	Phone            string
	Email            string
	Position         string
	Title            string
	Status           Status
	Department       []string   // primary department path
	OtherDepartments [][]string // further department paths
	HeadOf           [][]string // paths of the departments this person heads
	DutyRoles        []string
}

// ImportPlan is what an import does (or, on a dry run, would do).
type ImportPlan struct {
	NewDepartments []string    `json:"new_departments"` // paths
	Adds           []PlanEntry `json:"adds"`
	Updates        []PlanEntry `json:"updates"`
	Moves          []PlanEntry `json:"moves"`
	Leavers        []PlanEntry `json:"leavers"`
	Unchanged      int         `json:"unchanged"`
	Errors         []LineError `json:"errors"`
	Applied        bool        `json:"applied"`
	Version        int64       `json:"version,omitempty"`
}

// PlanEntry is one person in a plan.
type PlanEntry struct {
	Line       int      `json:"line,omitempty"`
	Ref        string   `json:"ref,omitempty"`
	UserID     string   `json:"user_id"`
	EmployeeNo string   `json:"employee_no"`
	Name       string   `json:"name"`
	Fields     []string `json:"fields,omitempty"` // what changes, for updates
	From       []string `json:"from,omitempty"`   // department paths before, for moves and leavers
	To         []string `json:"to,omitempty"`     // department paths after, for adds and moves
}

// LineError is one problem in a roster, located by line (or Ref) and column.
type LineError struct {
	Line       int    `json:"line,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Column     string `json:"column"`
	EmployeeNo string `json:"employee_no,omitempty"`
	Message    string `json:"message"`
}

func (e LineError) String() string {
	loc := e.Ref
	if e.Line > 0 {
		loc = fmt.Sprintf("line %d", e.Line)
	}
	return fmt.Sprintf("%s, column %s: %s", loc, e.Column, e.Message)
}

// Changed reports whether applying the plan changes anything.
func (p *ImportPlan) Changed() bool {
	return len(p.NewDepartments)+len(p.Adds)+len(p.Updates)+len(p.Moves)+len(p.Leavers) > 0
}

// errorOf is the error returned with a plan that has line errors.
func (p *ImportPlan) errorOf() error {
	msgs := make([]string, 0, 3)
	for i, e := range p.Errors {
		if i == 3 {
			msgs = append(msgs, "…")
			break
		}
		msgs = append(msgs, e.String())
	}
	return (&core.Error{Code: core.EInvalid, Field: "file", Message: fmt.Sprintf("%d problems; nothing was changed: %s", len(p.Errors), strings.Join(msgs, "; "))}).With("errors", p.Errors)
}

// fieldColumn maps service field names to roster column names.
var fieldColumn = map[string]string{
	"primary_department_id": "department",
	"department_ids":        "departments",
}

// Import plans the roster against the organisation's directory and, unless
// dryRun, applies it in one transaction: all or nothing. With line errors
// nothing is applied and the plan comes back with its Errors and an EInvalid
// error listing them (Details["errors"]). Re-importing the same roster
// changes nothing.
func (s *Service) Import(ctx context.Context, a core.Actor, orgID string, r Roster, dryRun bool) (*ImportPlan, error) {
	if err := s.CanImport(ctx, a, orgID); err != nil {
		return nil, err
	}
	if dryRun {
		sn, err := s.snap(ctx, orgID)
		if err != nil {
			return nil, err
		}
		plan, _ := s.planRoster(sn, r)
		if len(plan.Errors) > 0 {
			return plan, plan.errorOf()
		}
		return plan, nil
	}
	var out *ImportPlan
	next, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		ip, p := s.planRoster(sn, r)
		out = ip
		if len(ip.Errors) > 0 {
			return nil, ip.errorOf()
		}
		return p, nil
	})
	if err != nil {
		var ce *core.Error
		if out != nil && len(out.Errors) > 0 && errors.As(err, &ce) {
			return out, err
		}
		return nil, err
	}
	out.Applied = out.Changed()
	out.Version = next.org.Version
	return out, nil
}

// CanImport reports (nil or EForbidden) whether the actor may import into
// the organisation, so a sync can refuse before it reaches out to LDAP.
func (s *Service) CanImport(ctx context.Context, a core.Actor, orgID string) error {
	if err := s.authorize(ctx, a, orgID, ObjStaff, ActWrite); err != nil {
		return err
	}
	return s.authorize(ctx, a, orgID, ObjDepartment, ActWrite)
}

// planRoster works out the import plan and the change that applies it.
func (s *Service) planRoster(sn *snapshot, r Roster) (*ImportPlan, *plan) {
	ip := &ImportPlan{NewDepartments: []string{}, Adds: []PlanEntry{}, Updates: []PlanEntry{}, Moves: []PlanEntry{}, Leavers: []PlanEntry{}, Errors: []LineError{}}
	p := &plan{}
	now := s.now()
	orgID := sn.org.ID

	// Departments first: every path named anywhere in the roster.
	created := map[string]string{} // joined path → new id
	reordered := map[string]bool{}
	order := map[string]int{}
	for _, d := range r.Departments {
		order[strings.Join(d.Path, "/")] = d.Order
	}
	resolve := func(path []string, line int, ref, col, empNo string) (string, bool) {
		if len(path) == 0 {
			return "", true
		}
		parent := ""
		for i, name := range path {
			if _, err := checkDeptName(name); err != nil {
				ip.Errors = append(ip.Errors, LineError{Line: line, Ref: ref, Column: col, EmployeeNo: empNo, Message: fmt.Sprintf("%q: %s", strings.Join(path, "/"), core.ErrorMessage(err))})
				return "", false
			}
			key := strings.Join(path[:i+1], "/")
			if id, ok := sn.childNamed(parent, name); ok {
				parent = id
				if o, ok := order[key]; ok && sn.depts[id].Order != o && !reordered[id] {
					reordered[id] = true
					d := *sn.depts[id]
					d.Order = o
					p.changes.PutDepartments = append(p.changes.PutDepartments, d)
				}
				continue
			}
			if id, ok := created[key]; ok {
				parent = id
				continue
			}
			d := Department{ID: core.NewID(), OrgID: orgID, ParentID: parent, Name: name, Order: order[key], CreatedAt: now}
			created[key] = d.ID
			p.changes.PutDepartments = append(p.changes.PutDepartments, d)
			p.events = append(p.events, pendingEvent{subject: SubjectDeptCreated, dept: &DepartmentEvent{DepartmentID: d.ID, Name: d.Name, ParentID: parent}})
			ip.NewDepartments = append(ip.NewDepartments, key)
			parent = d.ID
		}
		return parent, true
	}
	for _, d := range r.Departments {
		resolve(d.Path, 0, "", "department", "")
	}
	type row struct {
		rp      *RosterPerson
		primary string
		others  []string
		heads   []string
	}
	rows := make([]row, len(r.People))
	for i := range r.People {
		rp := &r.People[i]
		rw := row{rp: rp}
		var ok bool
		if len(rp.Department) == 0 && rp.Status != Left {
			ip.Errors = append(ip.Errors, LineError{Line: rp.Line, Ref: rp.Ref, Column: "department", EmployeeNo: rp.EmployeeNo, Message: "a department is required"})
			continue
		}
		if rw.primary, ok = resolve(rp.Department, rp.Line, rp.Ref, "department", rp.EmployeeNo); !ok {
			continue
		}
		for _, path := range rp.OtherDepartments {
			if id, ok := resolve(path, rp.Line, rp.Ref, "departments", rp.EmployeeNo); ok && id != "" {
				rw.others = append(rw.others, id)
			}
		}
		for _, path := range rp.HeadOf {
			if id, ok := resolve(path, rp.Line, rp.Ref, "head_of", rp.EmployeeNo); ok && id != "" {
				rw.heads = append(rw.heads, id)
			}
		}
		rows[i] = rw
	}
	// Validate people against the tree as it will be.
	future := sn
	if len(p.changes.PutDepartments) > 0 {
		future = sn.with(&Changes{PutDepartments: p.changes.PutDepartments}, sn.org.Version)
	}
	seen := map[string]int{} // employee number → line
	var newRoles []string
	var ops []accountOp
	for _, rw := range rows {
		rp := rw.rp
		if rp == nil {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(rp.EmployeeNo))
		if line, dup := seen[key]; dup && key != "" {
			ip.Errors = append(ip.Errors, LineError{Line: rp.Line, Ref: rp.Ref, Column: "employee_no", EmployeeNo: rp.EmployeeNo, Message: fmt.Sprintf("employee number %s is also on line %d", rp.EmployeeNo, line)})
			continue
		}
		seen[key] = rp.Line
		var old *Staff
		st := Staff{ID: core.NewID(), OrgID: orgID, CreatedAt: now, Status: Active}
		if id, ok := sn.byEmpNo[key]; ok && key != "" {
			old = sn.staff[id]
			st = cloneStaff(old)
			if st.Status == Left {
				st.Status = Active
			}
		}
		st.EmployeeNo, st.Name, st.Phone, st.Email, st.Position, st.Title = rp.EmployeeNo, rp.Name, rp.Phone, rp.Email, rp.Position, rp.Title
		if rp.Status != "" {
			st.Status = rp.Status
		}
		st.PrimaryDepartmentID = rw.primary
		st.DepartmentIDs = rw.others
		st.HeadOf = rw.heads
		st.DutyRoles = append([]string(nil), rp.DutyRoles...)
		if st.Status == Left {
			st.HeadOf, st.DutyRoles = nil, nil
			if st.PrimaryDepartmentID == "" && old != nil {
				st.PrimaryDepartmentID, st.DepartmentIDs = old.PrimaryDepartmentID, old.DepartmentIDs
			}
		}
		st.UpdatedAt = now
		if err := future.normalizeStaff(&st, &newRoles); err != nil {
			var ce *core.Error
			errors.As(err, &ce)
			col := ce.Field
			if c, ok := fieldColumn[col]; ok {
				col = c
			}
			ip.Errors = append(ip.Errors, LineError{Line: rp.Line, Ref: rp.Ref, Column: col, EmployeeNo: rp.EmployeeNo, Message: ce.Message})
			continue
		}
		entry := PlanEntry{Line: rp.Line, Ref: rp.Ref, UserID: st.ID, EmployeeNo: st.EmployeeNo, Name: st.Name}
		if old != nil && staffEqual(old, &st) {
			ip.Unchanged++
			continue
		}
		if old == nil {
			entry.To = future.paths(st.DepartmentIDs)
			if st.Status.Current() {
				ip.Adds = append(ip.Adds, entry)
			}
		} else {
			st.CreatedAt = old.CreatedAt
			switch {
			case old.Status.Current() && st.Status == Left:
				entry.From = sn.paths(old.DepartmentIDs)
				ip.Leavers = append(ip.Leavers, entry)
			case !old.Status.Current() && st.Status.Current():
				entry.To = future.paths(st.DepartmentIDs)
				ip.Adds = append(ip.Adds, entry)
			default:
				if old.PrimaryDepartmentID != st.PrimaryDepartmentID || !slices.Equal(old.DepartmentIDs, st.DepartmentIDs) {
					m := entry
					m.From, m.To = sn.paths(old.DepartmentIDs), future.paths(st.DepartmentIDs)
					ip.Moves = append(ip.Moves, m)
				}
				if f := changedFields(old, &st); len(f) > 0 {
					u := entry
					u.Fields = f
					ip.Updates = append(ip.Updates, u)
				}
			}
		}
		events, acct := staffChange(old, st)
		p.events = append(p.events, events...)
		if acct != "" {
			ops = append(ops, accountOp{acct, st})
		}
		p.changes.PutStaff = append(p.changes.PutStaff, st)
	}
	if r.Full {
		for _, id := range sortedKeys(sn.staff) {
			old := sn.staff[id]
			if !old.Status.Current() {
				continue
			}
			if _, listed := seen[strings.ToLower(old.EmployeeNo)]; listed {
				continue
			}
			st := cloneStaff(old)
			st.Status, st.HeadOf, st.DutyRoles, st.UpdatedAt = Left, []string{}, []string{}, now
			ip.Leavers = append(ip.Leavers, PlanEntry{UserID: st.ID, EmployeeNo: st.EmployeeNo, Name: st.Name, From: sn.paths(old.DepartmentIDs)})
			events, acct := staffChange(old, st)
			p.events = append(p.events, events...)
			ops = append(ops, accountOp{acct, st})
			p.changes.PutStaff = append(p.changes.PutStaff, st)
		}
	}
	if len(newRoles) > 0 {
		p.changes.DutyRoles = append(append([]string(nil), sn.dutyRoles...), newRoles...)
	}
	p.inTx = s.accountEffects(sn.org.Code, ops)
	source := r.Source
	if source == "" {
		source = "roster"
	}
	if ip.Changed() {
		p.audits = []audit.Entry{{Action: "orgchart.import.apply", ObjectType: "org", ObjectID: orgID, Details: map[string]any{
			"source": source, "full": r.Full, "new_departments": len(ip.NewDepartments), "adds": len(ip.Adds), "updates": len(ip.Updates),
			"moves": len(ip.Moves), "leavers": len(ip.Leavers), "employee_nos": planEmployeeNos(ip)}}}
	}
	return ip, p
}

func planEmployeeNos(ip *ImportPlan) []string {
	var out []string
	for _, list := range [][]PlanEntry{ip.Adds, ip.Updates, ip.Moves, ip.Leavers} {
		for _, e := range list {
			if !slices.Contains(out, e.EmployeeNo) {
				out = append(out, e.EmployeeNo)
			}
		}
	}
	return out
}

func changedFields(a, b *Staff) []string {
	var f []string
	add := func(c bool, name string) {
		if c {
			f = append(f, name)
		}
	}
	add(a.Name != b.Name, "name")
	add(a.Phone != b.Phone, "phone")
	add(a.Email != b.Email, "email")
	add(a.Position != b.Position, "position")
	add(a.Title != b.Title, "title")
	add(a.Status != b.Status, "status")
	add(a.EmployeeNo != b.EmployeeNo, "employee_no")
	add(!slices.Equal(a.HeadOf, b.HeadOf), "head_of")
	add(!slices.Equal(a.DutyRoles, b.DutyRoles), "duty_roles")
	return f
}

func (sn *snapshot) paths(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, sn.pathString(id))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
