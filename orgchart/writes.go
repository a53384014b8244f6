package orgchart

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
)

var (
	orgCodeRe    = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}$`)
	employeeNoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
	phoneRe      = regexp.MustCompile(`^\+?[0-9][0-9 -]{2,19}$`)
)

// CreateOrg adds an organisation. Only actors allowed to write orgchart.org
// in the "*" domain (system admins) may.
func (s *Service) CreateOrg(ctx context.Context, a core.Actor, code, name string) (Org, error) {
	if err := s.authorize(ctx, a, authz.AllOrgs, ObjOrg, ActWrite); err != nil {
		return Org{}, err
	}
	code = strings.TrimSpace(code)
	name = strings.TrimSpace(name)
	if !orgCodeRe.MatchString(code) {
		return Org{}, core.Invalid("code", "the organisation code must be 2 to 16 lower-case letters or digits, starting with a letter")
	}
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Org{}, core.Invalid("name", "the organisation name must be 1 to 100 characters")
	}
	o := Org{ID: core.NewID(), Code: code, Name: name, CreatedAt: s.now()}
	if err := s.cfg.Store.CreateOrg(ctx, o); err != nil {
		return Org{}, err
	}
	s.install(o.ID, buildSnapshot(&OrgData{Org: o}))
	s.record(ctx, a, o.ID, audit.Entry{Action: "orgchart.org.create", ObjectType: "org", ObjectID: o.ID, Details: map[string]any{"code": code, "name": name}})
	return o, nil
}

// NewDepartment is the input of CreateDepartment.
type NewDepartment struct {
	ParentID string `json:"parent_id,omitempty"`
	Name     string `json:"name"`
	Order    int    `json:"order,omitempty"`
}

// DepartmentPatch renames or reorders a department; nil fields stay.
type DepartmentPatch struct {
	Name  *string `json:"name,omitempty"`
	Order *int    `json:"order,omitempty"`
}

func checkDeptName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "", core.Invalid("name", "a department name must be 1 to 64 characters")
	}
	if strings.Contains(name, "/") {
		return "", core.Invalid("name", "a department name cannot contain '/' (it separates levels in import paths)")
	}
	return name, nil
}

func (sn *snapshot) checkSiblingName(parent, name, self string) error {
	if id, ok := sn.childNamed(parent, name); ok && id != self {
		return (&core.Error{Code: core.EConflict, Field: "name", Message: "a department named " + name + " already exists there"}).With("department_id", id)
	}
	return nil
}

func (sn *snapshot) dept(field, id string) (*Department, error) {
	d, ok := sn.depts[id]
	if !ok {
		return nil, core.Invalid(field, "no department %s in this organisation", id).With("department_id", id)
	}
	return d, nil
}

// CreateDepartment adds a department under ParentID (top level when empty).
func (s *Service) CreateDepartment(ctx context.Context, a core.Actor, orgID string, in NewDepartment) (Department, error) {
	if err := s.authorize(ctx, a, orgID, ObjDepartment, ActWrite); err != nil {
		return Department{}, err
	}
	var out Department
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		name, err := checkDeptName(in.Name)
		if err != nil {
			return nil, err
		}
		if in.ParentID != "" {
			if _, err := sn.dept("parent_id", in.ParentID); err != nil {
				return nil, err
			}
		}
		if err := sn.checkSiblingName(in.ParentID, name, ""); err != nil {
			return nil, err
		}
		out = Department{ID: core.NewID(), OrgID: orgID, ParentID: in.ParentID, Name: name, Order: in.Order, CreatedAt: s.now()}
		return &plan{
			changes: Changes{PutDepartments: []Department{out}},
			events:  []pendingEvent{{subject: SubjectDeptCreated, dept: &DepartmentEvent{DepartmentID: out.ID, Name: name, ParentID: out.ParentID}}},
			audits:  []audit.Entry{{Action: "orgchart.department.create", ObjectType: "department", ObjectID: out.ID, Details: map[string]any{"name": name, "parent_id": in.ParentID}}},
		}, nil
	})
	return out, err
}

// UpdateDepartment renames or reorders a department.
func (s *Service) UpdateDepartment(ctx context.Context, a core.Actor, orgID, deptID string, in DepartmentPatch) (Department, error) {
	if err := s.authorize(ctx, a, orgID, ObjDepartment, ActWrite); err != nil {
		return Department{}, err
	}
	var out Department
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		d, ok := sn.depts[deptID]
		if !ok {
			return nil, core.Errorf(core.ENotFound, "no department %s in this organisation", deptID)
		}
		out = *d
		if in.Name != nil {
			name, err := checkDeptName(*in.Name)
			if err != nil {
				return nil, err
			}
			if err := sn.checkSiblingName(d.ParentID, name, d.ID); err != nil {
				return nil, err
			}
			out.Name = name
		}
		if in.Order != nil {
			out.Order = *in.Order
		}
		if out == *d {
			return &plan{}, nil
		}
		return &plan{
			changes: Changes{PutDepartments: []Department{out}},
			events:  []pendingEvent{{subject: SubjectDeptRenamed, dept: &DepartmentEvent{DepartmentID: out.ID, Name: out.Name, ParentID: out.ParentID}}},
			audits: []audit.Entry{{Action: "orgchart.department.update", ObjectType: "department", ObjectID: out.ID,
				Details: map[string]any{"old_name": d.Name, "name": out.Name, "old_order": d.Order, "order": out.Order}}},
		}, nil
	})
	return out, err
}

// MoveDepartment moves a department and its whole subtree under newParentID
// (top level when empty). A move into the department's own subtree is
// refused.
func (s *Service) MoveDepartment(ctx context.Context, a core.Actor, orgID, deptID, newParentID string) (Department, error) {
	if err := s.authorize(ctx, a, orgID, ObjDepartment, ActWrite); err != nil {
		return Department{}, err
	}
	var out Department
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		d, ok := sn.depts[deptID]
		if !ok {
			return nil, core.Errorf(core.ENotFound, "no department %s in this organisation", deptID)
		}
		if newParentID != "" {
			if _, err := sn.dept("parent_id", newParentID); err != nil {
				return nil, err
			}
			if sn.isUnder(deptID, newParentID) {
				return nil, core.Invalid("parent_id", "cannot move %s into its own subtree (%s)", d.Name, sn.pathString(newParentID)).With("department_id", newParentID)
			}
		}
		if d.ParentID == newParentID {
			out = *d
			return &plan{}, nil
		}
		if err := sn.checkSiblingName(newParentID, d.Name, d.ID); err != nil {
			return nil, err
		}
		out = *d
		out.ParentID = newParentID
		return &plan{
			changes: Changes{PutDepartments: []Department{out}},
			events: []pendingEvent{{subject: SubjectDeptMoved, dept: &DepartmentEvent{DepartmentID: out.ID, Name: out.Name,
				ParentID: newParentID, PreviousParentID: d.ParentID}}},
			audits: []audit.Entry{{Action: "orgchart.department.move", ObjectType: "department", ObjectID: out.ID,
				Details: map[string]any{"old_parent_id": d.ParentID, "parent_id": newParentID}}},
		}, nil
	})
	return out, err
}

// DeleteDepartment deletes an empty department: no sub-departments and no
// current staff. Leavers who were in it lose it from their history, and
// headships of it end.
func (s *Service) DeleteDepartment(ctx context.Context, a core.Actor, orgID, deptID string) error {
	if err := s.authorize(ctx, a, orgID, ObjDepartment, ActWrite); err != nil {
		return err
	}
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		d, ok := sn.depts[deptID]
		if !ok {
			return nil, core.Errorf(core.ENotFound, "no department %s in this organisation", deptID)
		}
		if n := len(sn.children[deptID]); n > 0 {
			return nil, core.Errorf(core.EConflict, "%s still has %d sub-departments; move or delete them first", d.Name, n).With("department_id", deptID)
		}
		if n := len(sn.members[deptID]); n > 0 {
			return nil, core.Errorf(core.EConflict, "%s still has %d members of staff; move them first", d.Name, n).With("department_id", deptID)
		}
		p := &plan{changes: Changes{DeleteDepartments: []string{deptID}}}
		for _, st := range sn.staff {
			if !contains(st.DepartmentIDs, deptID) && !contains(st.HeadOf, deptID) {
				continue
			}
			n := cloneStaff(st)
			n.DepartmentIDs = slices.DeleteFunc(n.DepartmentIDs, func(x string) bool { return x == deptID })
			n.HeadOf = slices.DeleteFunc(n.HeadOf, func(x string) bool { return x == deptID })
			if n.PrimaryDepartmentID == deptID {
				n.PrimaryDepartmentID = ""
			}
			n.UpdatedAt = s.now()
			p.changes.PutStaff = append(p.changes.PutStaff, n)
		}
		p.events = []pendingEvent{{subject: SubjectDeptDeleted, dept: &DepartmentEvent{DepartmentID: deptID, Name: d.Name, ParentID: d.ParentID}}}
		p.audits = []audit.Entry{{Action: "orgchart.department.delete", ObjectType: "department", ObjectID: deptID, Details: map[string]any{"name": d.Name, "path": sn.pathString(deptID)}}}
		return p, nil
	})
	return err
}

// StaffInput describes a member of staff to create. Status defaults to
// active; DepartmentIDs need not repeat the primary department.
type StaffInput struct {
	EmployeeNo          string   `json:"employee_no"`
	Name                string   `json:"name"`
	Phone               string   `json:"phone,omitempty"`
	Email               string   `json:"email,omitempty"`
	Position            string   `json:"position,omitempty"`
	Title               string   `json:"title,omitempty"`
	Status              Status   `json:"status,omitempty"`
	PrimaryDepartmentID string   `json:"primary_department_id"`
	DepartmentIDs       []string `json:"department_ids,omitempty"`
	HeadOf              []string `json:"head_of,omitempty"`
	DutyRoles           []string `json:"duty_roles,omitempty"`
}

// StaffPatch changes a member of staff; nil fields stay.
type StaffPatch struct {
	EmployeeNo          *string   `json:"employee_no,omitempty"`
	Name                *string   `json:"name,omitempty"`
	Phone               *string   `json:"phone,omitempty"`
	Email               *string   `json:"email,omitempty"`
	Position            *string   `json:"position,omitempty"`
	Title               *string   `json:"title,omitempty"`
	Status              *Status   `json:"status,omitempty"`
	PrimaryDepartmentID *string   `json:"primary_department_id,omitempty"`
	DepartmentIDs       *[]string `json:"department_ids,omitempty"`
	HeadOf              *[]string `json:"head_of,omitempty"`
	DutyRoles           *[]string `json:"duty_roles,omitempty"`
}

func cloneStaff(p *Staff) Staff {
	n := *p
	n.DepartmentIDs = append([]string(nil), p.DepartmentIDs...)
	n.HeadOf = append([]string(nil), p.HeadOf...)
	n.DutyRoles = append([]string(nil), p.DutyRoles...)
	return n
}

func dedupeSorted(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// normalizeStaff checks p against the snapshot and puts its lists in
// canonical form. newRoles collects duty roles the organisation does not
// define yet (they are added with the change).
func (sn *snapshot) normalizeStaff(p *Staff, newRoles *[]string) error {
	p.EmployeeNo = strings.TrimSpace(p.EmployeeNo)
	p.Name = strings.TrimSpace(p.Name)
	p.Phone = strings.TrimSpace(p.Phone)
	p.Email = strings.TrimSpace(p.Email)
	p.Position = strings.TrimSpace(p.Position)
	p.Title = strings.TrimSpace(p.Title)
	if !employeeNoRe.MatchString(p.EmployeeNo) {
		return core.Invalid("employee_no", "the employee number must be 1 to 32 letters, digits, '-' or '_'")
	}
	if id, ok := sn.byEmpNo[strings.ToLower(p.EmployeeNo)]; ok && id != p.ID {
		return (&core.Error{Code: core.EConflict, Field: "employee_no", Message: "employee number " + p.EmployeeNo + " is already used by " + sn.staff[id].Name}).With("user_id", id)
	}
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 64 {
		return core.Invalid("name", "the name must be 1 to 64 characters")
	}
	if p.Phone != "" && !phoneRe.MatchString(p.Phone) {
		return core.Invalid("phone", "%q is not a phone number", p.Phone)
	}
	if p.Email != "" && (!strings.Contains(p.Email, "@") || len(p.Email) > 254 || strings.ContainsAny(p.Email, " \t<>")) {
		return core.Invalid("email", "%q is not an email address", p.Email)
	}
	if utf8.RuneCountInString(p.Position) > 64 || utf8.RuneCountInString(p.Title) > 64 {
		return core.Invalid("position", "position and title must be at most 64 characters")
	}
	if p.Status == "" {
		p.Status = Active
	}
	if !p.Status.Valid() {
		return core.Invalid("status", "status must be active, on_leave or left")
	}
	if p.PrimaryDepartmentID == "" && p.Status.Current() {
		return core.Invalid("primary_department_id", "a current member of staff needs a primary department")
	}
	if p.PrimaryDepartmentID != "" {
		if _, err := sn.dept("primary_department_id", p.PrimaryDepartmentID); err != nil {
			return err
		}
		p.DepartmentIDs = append(p.DepartmentIDs, p.PrimaryDepartmentID)
	}
	p.DepartmentIDs = dedupeSorted(p.DepartmentIDs)
	for _, d := range p.DepartmentIDs {
		if _, err := sn.dept("department_ids", d); err != nil {
			return err
		}
	}
	p.HeadOf = dedupeSorted(p.HeadOf)
	for _, d := range p.HeadOf {
		if _, err := sn.dept("head_of", d); err != nil {
			return err
		}
	}
	p.DutyRoles = dedupeSorted(p.DutyRoles)
	for _, r := range p.DutyRoles {
		if utf8.RuneCountInString(r) > 32 {
			return core.Invalid("duty_roles", "duty role %q is longer than 32 characters", r)
		}
		if !contains(sn.dutyRoles, r) && !contains(*newRoles, r) {
			*newRoles = append(*newRoles, r)
		}
	}
	return nil
}

// staffChange works out the events and account side effects of replacing old
// (nil for a new person) with n.
func staffChange(old *Staff, n Staff) (events []pendingEvent, account string) {
	ev := func(subject string) pendingEvent {
		e := &StaffEvent{UserID: n.ID, Status: n.Status, PrimaryDepartmentID: n.PrimaryDepartmentID, DepartmentIDs: n.DepartmentIDs}
		if old != nil {
			e.PreviousDepartmentIDs = old.DepartmentIDs
		}
		return pendingEvent{subject: subject, staff: e}
	}
	switch {
	case old == nil:
		if n.Status.Current() {
			return []pendingEvent{ev(SubjectStaffJoined)}, "create"
		}
		return nil, "create-disabled"
	case old.Status.Current() && !n.Status.Current():
		return []pendingEvent{ev(SubjectStaffLeft)}, "disable"
	case !old.Status.Current() && n.Status.Current():
		return []pendingEvent{ev(SubjectStaffJoined)}, "enable"
	}
	if !n.Status.Current() {
		if !staffEqual(old, &n) {
			return []pendingEvent{ev(SubjectStaffUpdated)}, ""
		}
		return nil, ""
	}
	if old.PrimaryDepartmentID != n.PrimaryDepartmentID || !slices.Equal(old.DepartmentIDs, n.DepartmentIDs) {
		events = append(events, ev(SubjectStaffMoved))
	}
	o := cloneStaff(old)
	o.PrimaryDepartmentID, o.DepartmentIDs = n.PrimaryDepartmentID, n.DepartmentIDs
	if !staffEqual(&o, &n) {
		events = append(events, ev(SubjectStaffUpdated))
	}
	return events, ""
}

// staffEqual compares everything but the timestamps.
func staffEqual(a, b *Staff) bool {
	return a.EmployeeNo == b.EmployeeNo && a.Name == b.Name && a.Phone == b.Phone && a.Email == b.Email &&
		a.Position == b.Position && a.Title == b.Title && a.Status == b.Status &&
		a.PrimaryDepartmentID == b.PrimaryDepartmentID && slices.Equal(a.DepartmentIDs, b.DepartmentIDs) &&
		slices.Equal(a.HeadOf, b.HeadOf) && slices.Equal(a.DutyRoles, b.DutyRoles)
}

// accountEffects returns the in-transaction calls to Accounts for a batch of
// staff changes, so a failure to create or disable an account rolls the
// directory change back, and a failed directory change takes the accounts
// with it.
func (s *Service) accountEffects(orgCode string, ops []accountOp) func(ctx context.Context) error {
	if s.cfg.Accounts == nil || len(ops) == 0 {
		return nil
	}
	return func(ctx context.Context) error {
		for _, op := range ops {
			var err error
			switch op.kind {
			case "create", "create-disabled":
				err = s.cfg.Accounts.CreateAccount(ctx, op.staff.OrgID, op.staff.ID, Login(orgCode, op.staff.EmployeeNo), op.staff.Name)
				if err == nil && op.kind == "create-disabled" {
					err = s.cfg.Accounts.DisableAccount(ctx, op.staff.ID)
				}
			case "disable":
				err = s.cfg.Accounts.DisableAccount(ctx, op.staff.ID)
			case "enable":
				err = s.cfg.Accounts.EnableAccount(ctx, op.staff.ID)
			}
			if err != nil {
				return core.Wrap(err, "cannot update the login account of %s", op.staff.EmployeeNo)
			}
		}
		return nil
	}
}

type accountOp struct {
	kind  string
	staff Staff
}

func staffAudit(action string, old *Staff, n Staff) audit.Entry {
	d := map[string]any{"employee_no": n.EmployeeNo, "name": n.Name, "status": string(n.Status), "department_ids": n.DepartmentIDs}
	if old != nil {
		changed := []string{}
		if old.Name != n.Name {
			changed = append(changed, "name")
		}
		if old.EmployeeNo != n.EmployeeNo {
			changed = append(changed, "employee_no")
		}
		if old.Phone != n.Phone {
			changed = append(changed, "phone")
		}
		if old.Email != n.Email {
			changed = append(changed, "email")
		}
		if old.Position != n.Position || old.Title != n.Title {
			changed = append(changed, "position")
		}
		if old.Status != n.Status {
			changed = append(changed, "status")
			d["old_status"] = string(old.Status)
		}
		if old.PrimaryDepartmentID != n.PrimaryDepartmentID || !slices.Equal(old.DepartmentIDs, n.DepartmentIDs) {
			changed = append(changed, "departments")
			d["old_department_ids"] = old.DepartmentIDs
		}
		if !slices.Equal(old.HeadOf, n.HeadOf) {
			changed = append(changed, "head_of")
		}
		if !slices.Equal(old.DutyRoles, n.DutyRoles) {
			changed = append(changed, "duty_roles")
		}
		d["changed"] = changed
	}
	return audit.Entry{Action: action, ObjectType: "staff", ObjectID: n.ID, Details: d}
}

// CreateStaff adds a member of staff and creates their login account
// (login: org code + "." + employee number).
func (s *Service) CreateStaff(ctx context.Context, a core.Actor, orgID string, in StaffInput) (Staff, error) {
	if err := s.authorize(ctx, a, orgID, ObjStaff, ActWrite); err != nil {
		return Staff{}, err
	}
	var out Staff
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		now := s.now()
		p := Staff{ID: core.NewID(), OrgID: orgID, EmployeeNo: in.EmployeeNo, Name: in.Name, Phone: in.Phone, Email: in.Email,
			Position: in.Position, Title: in.Title, Status: in.Status, PrimaryDepartmentID: in.PrimaryDepartmentID,
			DepartmentIDs: append([]string(nil), in.DepartmentIDs...), HeadOf: append([]string(nil), in.HeadOf...),
			DutyRoles: append([]string(nil), in.DutyRoles...), CreatedAt: now, UpdatedAt: now}
		return s.staffPlan(sn, nil, p, "orgchart.staff.create", &out)
	})
	return out, err
}

func (s *Service) staffPlan(sn *snapshot, old *Staff, p Staff, action string, out *Staff) (*plan, error) {
	var newRoles []string
	if err := sn.normalizeStaff(&p, &newRoles); err != nil {
		return nil, err
	}
	*out = p
	if old != nil && staffEqual(old, &p) {
		*out = *old
		return &plan{}, nil
	}
	events, acct := staffChange(old, p)
	pl := &plan{changes: Changes{PutStaff: []Staff{p}}, events: events, audits: []audit.Entry{staffAudit(action, old, p)}}
	if len(newRoles) > 0 {
		pl.changes.DutyRoles = append(append([]string(nil), sn.dutyRoles...), newRoles...)
	}
	if acct != "" {
		pl.inTx = s.accountEffects(sn.org.Code, []accountOp{{acct, p}})
	}
	return pl, nil
}

// UpdateStaff changes a member of staff. Setting status to left is the same
// as DeactivateStaff; setting a leaver back to active re-enables the account.
func (s *Service) UpdateStaff(ctx context.Context, a core.Actor, orgID, userID string, in StaffPatch) (Staff, error) {
	if err := s.authorize(ctx, a, orgID, ObjStaff, ActWrite); err != nil {
		return Staff{}, err
	}
	var out Staff
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		old, ok := sn.staff[userID]
		if !ok {
			return nil, core.Errorf(core.ENotFound, "no such person in this organisation")
		}
		p := cloneStaff(old)
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.EmployeeNo, in.EmployeeNo)
		set(&p.Name, in.Name)
		set(&p.Phone, in.Phone)
		set(&p.Email, in.Email)
		set(&p.Position, in.Position)
		set(&p.Title, in.Title)
		if in.Status != nil {
			p.Status = *in.Status
		}
		if in.DepartmentIDs != nil {
			p.DepartmentIDs = append([]string(nil), (*in.DepartmentIDs)...)
		} else if in.PrimaryDepartmentID != nil {
			// A new primary department replaces the old one among the
			// departments unless the caller lists them.
			p.DepartmentIDs = slices.DeleteFunc(p.DepartmentIDs, func(x string) bool { return x == old.PrimaryDepartmentID })
		}
		set(&p.PrimaryDepartmentID, in.PrimaryDepartmentID)
		if in.HeadOf != nil {
			p.HeadOf = append([]string(nil), (*in.HeadOf)...)
		}
		if in.DutyRoles != nil {
			p.DutyRoles = append([]string(nil), (*in.DutyRoles)...)
		}
		p.UpdatedAt = s.now()
		action := "orgchart.staff.update"
		if old.Status.Current() && p.Status == Left {
			action = "orgchart.staff.deactivate"
		}
		return s.staffPlan(sn, old, p, action, &out)
	})
	return out, err
}

// DeactivateStaff marks a person as having left: their account is disabled
// and every session revoked before the change commits, and
// orgchart.staff.left tells IM to remove them from department groups and
// approvals to hand over their pending tasks. Their headships and duty roles
// end.
func (s *Service) DeactivateStaff(ctx context.Context, a core.Actor, orgID, userID string) (Staff, error) {
	left := Left
	empty := []string{}
	return s.UpdateStaff(ctx, a, orgID, userID, StaffPatch{Status: &left, HeadOf: &empty, DutyRoles: &empty})
}

// SetDutyRoles replaces the organisation's list of duty roles (院长,
// 副院长, 护理部主任 …), in display order. A role still held cannot be
// removed.
func (s *Service) SetDutyRoles(ctx context.Context, a core.Actor, orgID string, roles []string) error {
	if err := s.authorize(ctx, a, orgID, ObjOrg, ActWrite); err != nil {
		return err
	}
	_, err := s.write(ctx, a, orgID, func(sn *snapshot) (*plan, error) {
		clean := []string{}
		for _, r := range roles {
			r = strings.TrimSpace(r)
			if r == "" || utf8.RuneCountInString(r) > 32 {
				return nil, core.Invalid("duty_roles", "a duty role must be 1 to 32 characters")
			}
			if !contains(clean, r) {
				clean = append(clean, r)
			}
		}
		for r, holders := range sn.roles {
			if len(holders) > 0 && !contains(clean, r) {
				return nil, core.Errorf(core.EConflict, "duty role %s is still held by %d people", r, len(holders)).With("role", r)
			}
		}
		if slices.Equal(clean, sn.dutyRoles) {
			return &plan{}, nil
		}
		return &plan{changes: Changes{DutyRoles: clean},
			events: []pendingEvent{{subject: SubjectOrgChanged, org: &OrgEvent{}}},
			audits: []audit.Entry{{Action: "orgchart.org.duty_roles", ObjectType: "org", ObjectID: orgID, Details: map[string]any{"duty_roles": clean, "old": sn.dutyRoles}}}}, nil
	})
	return err
}
