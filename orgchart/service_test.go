package orgchart_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

var mig = []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}

var ctx = context.Background()

var sys = core.SystemActor

// events collects what the service publishes.
type events struct {
	mu  sync.Mutex
	got []bus.Event
}

func (e *events) handle(ev bus.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

// wait returns the payloads published on subject once n have arrived.
func (e *events) wait(t *testing.T, subject string, n int) []orgchart.StaffEvent {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var out []orgchart.StaffEvent
		e.mu.Lock()
		for _, ev := range e.got {
			if ev.Subject == subject {
				var se orgchart.StaffEvent
				if err := json.Unmarshal(ev.Data, &se); err != nil {
					t.Fatal(err)
				}
				out = append(out, se)
			}
		}
		e.mu.Unlock()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events on %s, want %d", len(out), subject, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *events) subjects() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, ev := range e.got {
		s = append(s, ev.Subject)
	}
	return s
}

type fixture struct {
	svc      *orgchart.Service
	store    *sqlstore.Store
	bus      *inproc.Bus
	accounts *orgcharttest.Accounts
	audit    *orgcharttest.Audit
	events   *events
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	f := &fixture{store: sqlstore.New(db), bus: inproc.New(), accounts: orgcharttest.NewAccounts(), audit: &orgcharttest.Audit{}, events: &events{}}
	t.Cleanup(func() { f.bus.Close() })
	if _, err := f.bus.Subscribe(orgchart.SubjectAll, f.events.handle); err != nil {
		t.Fatal(err)
	}
	f.svc = f.node(t)
	return f
}

// node starts another service on the same database and bus, as a second
// server would.
func (f *fixture) node(t *testing.T) *orgchart.Service {
	svc, err := orgchart.New(orgchart.Config{Store: f.store, Accounts: f.accounts, Audit: f.audit, Bus: f.bus})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, err error, code core.Code, field string) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != code || (field != "" && ce.Field != field) {
		t.Fatalf("want %s on %q, got %v", code, field, err)
	}
}

func TestDepartmentTree(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s := f.svc
		org := must[orgchart.Org](t)(s.CreateOrg(ctx, sys, "rmyy", "人民医院"))
		md := must[orgchart.Department](t)
		inner := md(s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{Name: "内科", Order: 2}))
		surg := md(s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{Name: "外科", Order: 1}))
		cardio := md(s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{ParentID: inner.ID, Name: "心内科"}))
		ward := md(s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{ParentID: cardio.ID, Name: "心内一病区"}))

		t.Run("tree is ordered and nested", func(t *testing.T) {
			tree := must[[]orgchart.TreeNode](t)(s.Tree(ctx, sys, org.ID))
			if len(tree) != 2 || tree[0].Name != "外科" || tree[1].Name != "内科" || tree[1].Children[0].Children[0].Path != "内科/心内科/心内一病区" {
				t.Fatalf("tree = %+v", tree)
			}
		})
		t.Run("bad input names the item and changes nothing", func(t *testing.T) {
			cases := []struct {
				name  string
				err   error
				code  core.Code
				field string
			}{
				{"move into own subtree", func() error { _, err := s.MoveDepartment(ctx, sys, org.ID, inner.ID, ward.ID); return err }(), core.EInvalid, "parent_id"},
				{"move under itself", func() error { _, err := s.MoveDepartment(ctx, sys, org.ID, inner.ID, inner.ID); return err }(), core.EInvalid, "parent_id"},
				{"unknown parent", func() error {
					_, err := s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{ParentID: core.NewID(), Name: "x"})
					return err
				}(), core.EInvalid, "parent_id"},
				{"duplicate sibling name", func() error {
					_, err := s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{ParentID: inner.ID, Name: "心内科"})
					return err
				}(), core.EConflict, "name"},
				{"empty name", func() error {
					_, err := s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{Name: " "})
					return err
				}(), core.EInvalid, "name"},
				{"slash in name", func() error {
					_, err := s.CreateDepartment(ctx, sys, org.ID, orgchart.NewDepartment{Name: "a/b"})
					return err
				}(), core.EInvalid, "name"},
				{"delete with children", s.DeleteDepartment(ctx, sys, org.ID, inner.ID), core.EConflict, ""},
				{"delete unknown", s.DeleteDepartment(ctx, sys, org.ID, core.NewID()), core.ENotFound, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { wantCode(t, c.err, c.code, c.field) })
			}
			in, _ := s.IsInSubtree(ctx, org.ID, inner.ID, ward.ID)
			if !in {
				t.Fatal("the tree changed")
			}
		})
		t.Run("rename, move and delete publish events", func(t *testing.T) {
			name := "心血管内科"
			md(s.UpdateDepartment(ctx, sys, org.ID, cardio.ID, orgchart.DepartmentPatch{Name: &name}))
			md(s.MoveDepartment(ctx, sys, org.ID, cardio.ID, surg.ID))
			if in, _ := s.IsInSubtree(ctx, org.ID, surg.ID, ward.ID); !in {
				t.Fatal("subtree did not move")
			}
			if err := s.DeleteDepartment(ctx, sys, org.ID, ward.ID); err != nil {
				t.Fatal(err)
			}
			_, err := s.IsInSubtree(ctx, org.ID, surg.ID, ward.ID)
			wantCode(t, err, core.ENotFound, "")
			deadline := time.Now().Add(2 * time.Second)
			want := []string{orgchart.SubjectDeptCreated, orgchart.SubjectDeptCreated, orgchart.SubjectDeptCreated, orgchart.SubjectDeptCreated,
				orgchart.SubjectDeptRenamed, orgchart.SubjectDeptMoved, orgchart.SubjectDeptDeleted}
			for !slices.Equal(f.events.subjects(), want) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := f.events.subjects(); !slices.Equal(got, want) {
				t.Fatalf("events = %v", got)
			}
			acts := f.audit.Actions()
			if acts[len(acts)-1] != "orgchart.department.delete" || acts[len(acts)-2] != "orgchart.department.move" {
				t.Fatalf("audit = %v", acts)
			}
		})
		t.Run("reloaded from the database it is the same", func(t *testing.T) {
			other := f.node(t)
			a := must[[]orgchart.TreeNode](t)(s.Tree(ctx, sys, org.ID))
			b := must[[]orgchart.TreeNode](t)(other.Tree(ctx, sys, org.ID))
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("memory %s\ndatabase %s", ja, jb)
			}
		})
	})
}

// hospital builds a small hospital:
//
//	院领导 (head: 院长)
//	├── 内科 (head: 内科主任)
//	│   └── 心内科 (no head)
//	│       └── 心内一病区 (head: 护士长, also a nurse there)
//	└── 医务处 (head on leave)
type hospital struct {
	org                                 orgchart.Org
	lead, inner, cardio, ward, medical  orgchart.Department
	president, innerHead, headNurse     orgchart.Staff
	nurse, doctor, onLeaveHead, officer orgchart.Staff
}

func newHospital(t *testing.T, s *orgchart.Service, code string) *hospital {
	h := &hospital{}
	h.org = must[orgchart.Org](t)(s.CreateOrg(ctx, sys, code, code+"医院"))
	md := must[orgchart.Department](t)
	h.lead = md(s.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{Name: "院领导"}))
	h.inner = md(s.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{ParentID: h.lead.ID, Name: "内科"}))
	h.cardio = md(s.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{ParentID: h.inner.ID, Name: "心内科"}))
	h.ward = md(s.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{ParentID: h.cardio.ID, Name: "心内一病区"}))
	h.medical = md(s.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{ParentID: h.lead.ID, Name: "医务处"}))
	ms := must[orgchart.Staff](t)
	h.president = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "1", Name: "王院长", PrimaryDepartmentID: h.lead.ID, HeadOf: []string{h.lead.ID}, DutyRoles: []string{"院长"}, Position: "主任医师"}))
	h.innerHead = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "2", Name: "单国强", PrimaryDepartmentID: h.inner.ID, HeadOf: []string{h.inner.ID}, Phone: "13911112222"}))
	h.headNurse = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "3", Name: "曾丽", PrimaryDepartmentID: h.ward.ID, HeadOf: []string{h.ward.ID}, DutyRoles: []string{"护理部主任"}, Title: "护士长"}))
	h.nurse = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "N100", Name: "张三", PrimaryDepartmentID: h.ward.ID, Position: "护士", Phone: "13800138000"}))
	h.doctor = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "D200", Name: "张三丰", PrimaryDepartmentID: h.cardio.ID, DepartmentIDs: []string{h.medical.ID}, Position: "主治医师"}))
	h.onLeaveHead = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "4", Name: "解放", PrimaryDepartmentID: h.medical.ID, HeadOf: []string{h.medical.ID}, Status: orgchart.OnLeave}))
	h.officer = ms(s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "5", Name: "查理", PrimaryDepartmentID: h.medical.ID}))
	return h
}

func TestManagerResolution(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		s := newFixture(t, db).svc
		h := newHospital(t, s, "rmyy")
		cases := []struct {
			name   string
			person orgchart.Staff
			levels int
			want   []string
		}{
			{"nurse: head nurse of the ward", h.nurse, 1, []string{h.headNurse.ID}},
			{"nurse two up: the empty 心内科 is skipped", h.nurse, 2, []string{h.innerHead.ID}},
			{"nurse three up: the president", h.nurse, 3, []string{h.president.ID}},
			{"nurse four up: nobody", h.nurse, 4, []string{}},
			{"head nurse reports above her own ward", h.headNurse, 1, []string{h.innerHead.ID}},
			{"doctor in a headless department", h.doctor, 1, []string{h.innerHead.ID}},
			{"head of 内科 reports to the president", h.innerHead, 1, []string{h.president.ID}},
			{"the president has no manager", h.president, 1, []string{}},
			{"a head on leave is skipped", h.officer, 1, []string{h.president.ID}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ManagerOf(ctx, h.org.ID, c.person.ID, c.levels)
				if err != nil || !slices.Equal(got, c.want) {
					t.Fatalf("ManagerOf = %v, %v; want %v", got, err, c.want)
				}
			})
		}
		t.Run("errors", func(t *testing.T) {
			_, err := s.ManagerOf(ctx, h.org.ID, core.NewID(), 1)
			wantCode(t, err, core.ENotFound, "")
			_, err = s.ManagerOf(ctx, h.org.ID, h.nurse.ID, 0)
			wantCode(t, err, core.EInvalid, "levels_up")
			_, err = s.RoleHolders(ctx, h.org.ID, "厨师长")
			wantCode(t, err, core.EInvalid, "role")
		})
		t.Run("heads, roles, members, departments", func(t *testing.T) {
			if got, _ := s.HeadsOf(ctx, h.org.ID, h.cardio.ID); len(got) != 0 {
				t.Fatalf("HeadsOf(心内科) = %v", got)
			}
			if got, _ := s.HeadsOfNamed(ctx, h.org.ID, "院领导/内科/心内科/心内一病区"); !slices.Equal(got, []string{h.headNurse.ID}) {
				t.Fatalf("HeadsOfNamed = %v", got)
			}
			if got, _ := s.RoleHolders(ctx, h.org.ID, "院长"); !slices.Equal(got, []string{h.president.ID}) {
				t.Fatalf("RoleHolders(院长) = %v", got)
			}
			direct, _ := s.DepartmentMembers(ctx, h.org.ID, h.ward.ID, false)
			sub, _ := s.DepartmentMembers(ctx, h.org.ID, h.inner.ID, true)
			if len(direct) != 2 || len(sub) != 4 {
				t.Fatalf("members: ward %v, 内科 subtree %v", direct, sub)
			}
			if all, _ := s.AllStaff(ctx, h.org.ID); len(all) != 7 || all[0].Name != "单国强" {
				t.Fatalf("AllStaff = %d, first %s", len(all), all[0].Name)
			}
			primary, all, _ := s.DepartmentsOf(ctx, h.org.ID, h.doctor.ID)
			if primary != h.cardio.ID || len(all) != 2 || !slices.Contains(all, h.medical.ID) {
				t.Fatalf("DepartmentsOf = %s %v", primary, all)
			}
			card := must[orgchart.Card](t)(s.Card(ctx, sys, h.org.ID, h.nurse.ID))
			if card.Login != "rmyy.n100" || card.PrimaryDepartment.Path != "院领导/内科/心内科/心内一病区" || len(card.Managers) != 1 || card.Managers[0].Name != "曾丽" {
				t.Fatalf("card = %+v", card)
			}
		})
	})
}

func TestStaffLifecycle(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s := f.svc
		h := newHospital(t, s, "rmyy")
		t.Run("creating staff creates the account", func(t *testing.T) {
			if got := f.accounts.LoginOf(h.nurse.ID); got != "rmyy.n100" {
				t.Fatalf("login = %q", got)
			}
			if f.accounts.IsDisabled(h.nurse.ID) {
				t.Fatal("a new account is disabled")
			}
		})
		t.Run("duplicate employee number is refused, nothing changed", func(t *testing.T) {
			_, err := s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "n100", Name: "李四", PrimaryDepartmentID: h.ward.ID})
			wantCode(t, err, core.EConflict, "employee_no")
			members, _ := s.DepartmentMembers(ctx, h.org.ID, h.ward.ID, false)
			if len(members) != 2 {
				t.Fatalf("members = %v", members)
			}
		})
		t.Run("bad fields", func(t *testing.T) {
			for _, c := range []struct {
				in    orgchart.StaffInput
				field string
			}{
				{orgchart.StaffInput{EmployeeNo: "", Name: "x", PrimaryDepartmentID: h.ward.ID}, "employee_no"},
				{orgchart.StaffInput{EmployeeNo: "9 9", Name: "x", PrimaryDepartmentID: h.ward.ID}, "employee_no"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "", PrimaryDepartmentID: h.ward.ID}, "name"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x", PrimaryDepartmentID: core.NewID()}, "primary_department_id"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x"}, "primary_department_id"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x", PrimaryDepartmentID: h.ward.ID, HeadOf: []string{"nope"}}, "head_of"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x", PrimaryDepartmentID: h.ward.ID, Phone: "call me"}, "phone"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x", PrimaryDepartmentID: h.ward.ID, Email: "nope"}, "email"},
				{orgchart.StaffInput{EmployeeNo: "99", Name: "x", PrimaryDepartmentID: h.ward.ID, Status: "retired"}, "status"},
			} {
				_, err := s.CreateStaff(ctx, sys, h.org.ID, c.in)
				wantCode(t, err, core.EInvalid, c.field)
			}
		})
		t.Run("a failing account service rolls the change back", func(t *testing.T) {
			f.accounts.Fail = errors.New("identity down")
			defer func() { f.accounts.Fail = nil }()
			_, err := s.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: "77", Name: "赵六", PrimaryDepartmentID: h.ward.ID})
			if err == nil {
				t.Fatal("created without an account")
			}
			if _, err := s.PersonByEmployeeNo(ctx, h.org.ID, "77"); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("person exists: %v", err)
			}
			if _, err := f.node(t).PersonByEmployeeNo(ctx, h.org.ID, "77"); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("person stored: %v", err)
			}
		})
		t.Run("moving publishes old and new departments", func(t *testing.T) {
			depts := []string{h.medical.ID}
			p := must[orgchart.Staff](t)(s.UpdateStaff(ctx, sys, h.org.ID, h.nurse.ID, orgchart.StaffPatch{PrimaryDepartmentID: &h.cardio.ID, DepartmentIDs: &depts}))
			if p.PrimaryDepartmentID != h.cardio.ID || len(p.DepartmentIDs) != 2 {
				t.Fatalf("staff = %+v", p)
			}
			ev := f.events.wait(t, orgchart.SubjectStaffMoved, 1)[0]
			if ev.UserID != h.nurse.ID || !slices.Equal(ev.PreviousDepartmentIDs, []string{h.ward.ID}) || len(ev.DepartmentIDs) != 2 || ev.Version == 0 {
				t.Fatalf("moved event = %+v", ev)
			}
		})
		t.Run("deactivating revokes the account and announces the leaver", func(t *testing.T) {
			p := must[orgchart.Staff](t)(s.DeactivateStaff(ctx, sys, h.org.ID, h.headNurse.ID))
			if p.Status != orgchart.Left || len(p.HeadOf) != 0 || len(p.DutyRoles) != 0 {
				t.Fatalf("staff = %+v", p)
			}
			if !f.accounts.IsDisabled(h.headNurse.ID) {
				t.Fatal("account still enabled")
			}
			ev := f.events.wait(t, orgchart.SubjectStaffLeft, 1)[0]
			if ev.UserID != h.headNurse.ID || !slices.Equal(ev.DepartmentIDs, []string{h.ward.ID}) {
				t.Fatalf("left event = %+v", ev)
			}
			if ok, _ := s.IsActive(ctx, h.org.ID, h.headNurse.ID); ok {
				t.Fatal("still active")
			}
			if m, _ := s.DepartmentMembers(ctx, h.org.ID, h.ward.ID, false); len(m) != 0 {
				t.Fatalf("ward members = %v", m)
			}
			if holders, _ := s.RoleHolders(ctx, h.org.ID, "护理部主任"); len(holders) != 0 {
				t.Fatalf("holders = %v", holders)
			}
			if !slices.Contains(f.audit.Actions(), "orgchart.staff.deactivate") {
				t.Fatalf("audit = %v", f.audit.Actions())
			}
			// Coming back re-enables the account.
			active := orgchart.Active
			must[orgchart.Staff](t)(s.UpdateStaff(ctx, sys, h.org.ID, h.headNurse.ID, orgchart.StaffPatch{Status: &active}))
			if f.accounts.IsDisabled(h.headNurse.ID) {
				t.Fatal("account still disabled")
			}
			f.events.wait(t, orgchart.SubjectStaffJoined, 8)
		})
		t.Run("an empty department can be deleted once its staff moved", func(t *testing.T) {
			err := s.DeleteDepartment(ctx, sys, h.org.ID, h.ward.ID)
			wantCode(t, err, core.EConflict, "")
			depts := []string{}
			must[orgchart.Staff](t)(s.UpdateStaff(ctx, sys, h.org.ID, h.headNurse.ID, orgchart.StaffPatch{PrimaryDepartmentID: &h.cardio.ID, DepartmentIDs: &depts}))
			if err := s.DeleteDepartment(ctx, sys, h.org.ID, h.ward.ID); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestOtherNodesFollow(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		a := f.svc
		h := newHospital(t, a, "rmyy")
		b := f.node(t)
		t.Run("a change on one node reaches the other", func(t *testing.T) {
			must[orgchart.Staff](t)(a.DeactivateStaff(ctx, sys, h.org.ID, h.nurse.ID))
			deadline := time.Now().Add(3 * time.Second)
			for {
				ok, err := b.IsActive(ctx, h.org.ID, h.nurse.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("node b still sees the leaver as active")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		t.Run("concurrent writes on two nodes all land", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := 0; i < 20; i++ {
				node := a
				if i%2 == 1 {
					node = b
				}
				wg.Add(1)
				go func(i int, node *orgchart.Service) {
					defer wg.Done()
					_, err := node.CreateStaff(ctx, sys, h.org.ID, orgchart.StaffInput{EmployeeNo: fmt.Sprintf("C%02d", i), Name: "并发", PrimaryDepartmentID: h.ward.ID})
					errs <- err
				}(i, node)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				ma, _ := a.DepartmentMembers(ctx, h.org.ID, h.ward.ID, false)
				mb, _ := b.DepartmentMembers(ctx, h.org.ID, h.ward.ID, false)
				if len(ma) == 21 && slices.Equal(ma, mb) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node a sees %d, node b %d", len(ma), len(mb))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		t.Run("a node that missed an event retries its write on fresh data", func(t *testing.T) {
			// c starts now, then a writes without c hearing of it (c is not
			// subscribed: no bus).
			c, err := orgchart.New(orgchart.Config{Store: f.store})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			must[orgchart.Department](t)(a.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{Name: "急诊科"}))
			_, err = c.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{Name: "急诊科"})
			wantCode(t, err, core.EConflict, "name")
			must[orgchart.Department](t)(c.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{Name: "儿科"}))
		})
	})
}
