// Package orgcharttest holds the contract suite every orgchart.Store must
// pass, and small fakes of the interfaces the org chart consumes (accounts,
// audit) for tests.
package orgcharttest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/orgchart"
)

// StoreSuite runs the contract against a fresh, empty store from newStore.
func StoreSuite(t *testing.T, newStore func(t *testing.T) orgchart.Store) {
	ctx := context.Background()
	at := time.UnixMilli(1_790_000_000_000).UTC()

	seed := func(t *testing.T) (orgchart.Store, orgchart.Org, []orgchart.Department) {
		st := newStore(t)
		o := orgchart.Org{ID: core.NewID(), Code: "rmyy", Name: "人民医院", CreatedAt: at}
		if err := st.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		inner := orgchart.Department{ID: core.NewID(), OrgID: o.ID, Name: "内科", Order: 1, CreatedAt: at}
		cardio := orgchart.Department{ID: core.NewID(), OrgID: o.ID, ParentID: inner.ID, Name: "心内科", Order: 2, CreatedAt: at}
		v, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, PutDepartments: []orgchart.Department{inner, cardio}, DutyRoles: []string{"院长", "护理部主任"}}, nil)
		if err != nil || v != 1 {
			t.Fatalf("apply: v=%d err=%v", v, err)
		}
		o.Version = 1
		return st, o, []orgchart.Department{inner, cardio}
	}
	person := func(o orgchart.Org, no, name string, d ...string) orgchart.Staff {
		return orgchart.Staff{ID: core.NewID(), OrgID: o.ID, EmployeeNo: no, Name: name, Phone: "13800000000", Email: no + "@h.test",
			Position: "主治医师", Title: "", Status: orgchart.Active, PrimaryDepartmentID: d[0], DepartmentIDs: d,
			HeadOf: []string{}, DutyRoles: []string{}, CreatedAt: at, UpdatedAt: at}
	}

	t.Run("org code is unique", func(t *testing.T) {
		st, o, _ := seed(t)
		err := st.CreateOrg(ctx, orgchart.Org{ID: core.NewID(), Code: o.Code, Name: "x", CreatedAt: at})
		if !core.IsCode(err, core.EConflict) {
			t.Fatalf("want conflict, got %v", err)
		}
		orgs, err := st.Orgs(ctx)
		if err != nil || len(orgs) != 1 || orgs[0].Code != "rmyy" || orgs[0].Version != 1 {
			t.Fatalf("orgs = %+v, %v", orgs, err)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		st, o, ds := seed(t)
		p := person(o, "10023", "张三", ds[1].ID, ds[0].ID)
		sort.Strings(p.DepartmentIDs)
		p.PrimaryDepartmentID = ds[1].ID
		p.HeadOf = []string{ds[1].ID}
		p.DutyRoles = []string{"院长"}
		v, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutStaff: []orgchart.Staff{p}}, nil)
		if err != nil || v != 2 {
			t.Fatalf("v=%d err=%v", v, err)
		}
		d, err := st.LoadOrg(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Org.Version != 2 || len(d.Departments) != 2 || len(d.Staff) != 1 || !slices.Equal(d.DutyRoles, []string{"院长", "护理部主任"}) {
			t.Fatalf("loaded %+v", d)
		}
		got := d.Staff[0]
		if got.EmployeeNo != "10023" || got.Name != "张三" || got.PrimaryDepartmentID != ds[1].ID || !slices.Equal(got.DepartmentIDs, p.DepartmentIDs) ||
			!slices.Equal(got.HeadOf, p.HeadOf) || !slices.Equal(got.DutyRoles, p.DutyRoles) || !got.CreatedAt.Equal(at) || got.Email != "10023@h.test" {
			t.Fatalf("staff = %+v", got)
		}
		for _, dep := range d.Departments {
			if dep.ID == ds[1].ID && (dep.ParentID != ds[0].ID || dep.Name != "心内科" || dep.Order != 2) {
				t.Fatalf("department = %+v", dep)
			}
		}
	})
	t.Run("stale version is refused", func(t *testing.T) {
		st, o, ds := seed(t)
		_, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 0, PutStaff: []orgchart.Staff{person(o, "1", "李四", ds[0].ID)}}, nil)
		if !errors.Is(err, orgchart.ErrStale) {
			t.Fatalf("want ErrStale, got %v", err)
		}
		_, err = st.Apply(ctx, orgchart.Changes{OrgID: core.NewID(), DutyRoles: []string{}}, nil)
		if !core.IsCode(err, core.ENotFound) {
			t.Fatalf("unknown org: want not found, got %v", err)
		}
	})
	t.Run("duplicate employee number changes nothing", func(t *testing.T) {
		st, o, ds := seed(t)
		a := person(o, "A7", "甲", ds[0].ID)
		b := person(o, "a7", "乙", ds[0].ID) // employee numbers compare case-insensitively
		newDept := orgchart.Department{ID: core.NewID(), OrgID: o.ID, Name: "外科", CreatedAt: at}
		_, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutDepartments: []orgchart.Department{newDept}, PutStaff: []orgchart.Staff{a, b}}, nil)
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != core.EConflict || ce.Field != "employee_no" {
			t.Fatalf("want conflict on employee_no, got %v", err)
		}
		d, _ := st.LoadOrg(ctx, o.ID)
		if d.Org.Version != 1 || len(d.Staff) != 0 || len(d.Departments) != 2 {
			t.Fatalf("something was written: %+v", d)
		}
	})
	t.Run("unknown department is refused", func(t *testing.T) {
		st, o, _ := seed(t)
		p := person(o, "9", "丙", core.NewID())
		if _, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutStaff: []orgchart.Staff{p}}, nil); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("want invalid, got %v", err)
		}
		dangling := orgchart.Department{ID: core.NewID(), OrgID: o.ID, ParentID: core.NewID(), Name: "孤儿", CreatedAt: at}
		if _, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutDepartments: []orgchart.Department{dangling}}, nil); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("dangling parent: want invalid, got %v", err)
		}
	})
	t.Run("failing side effect rolls back", func(t *testing.T) {
		st, o, ds := seed(t)
		boom := errors.New("account service down")
		_, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutStaff: []orgchart.Staff{person(o, "5", "丁", ds[0].ID)}},
			func(context.Context) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		d, _ := st.LoadOrg(ctx, o.ID)
		if d.Org.Version != 1 || len(d.Staff) != 0 {
			t.Fatalf("written anyway: %+v", d)
		}
	})
	t.Run("update, move and delete", func(t *testing.T) {
		st, o, ds := seed(t)
		p := person(o, "7", "戊", ds[1].ID)
		if _, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 1, PutStaff: []orgchart.Staff{p}}, nil); err != nil {
			t.Fatal(err)
		}
		// Deleting a department someone is in fails on the foreign key.
		if _, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 2, DeleteDepartments: []string{ds[1].ID}}, nil); err == nil {
			t.Fatal("deleted a department in use")
		}
		p.PrimaryDepartmentID, p.DepartmentIDs, p.Status = ds[0].ID, []string{ds[0].ID}, orgchart.Left
		moved := ds[1]
		moved.ParentID, moved.Name = "", "心血管内科"
		v, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 2, PutStaff: []orgchart.Staff{p}, PutDepartments: []orgchart.Department{moved}}, nil)
		if err != nil || v != 3 {
			t.Fatalf("v=%d err=%v", v, err)
		}
		if _, err := st.Apply(ctx, orgchart.Changes{OrgID: o.ID, ExpectVersion: 3, DeleteDepartments: []string{ds[1].ID}}, nil); err != nil {
			t.Fatal(err)
		}
		d, _ := st.LoadOrg(ctx, o.ID)
		if len(d.Departments) != 1 || d.Staff[0].Status != orgchart.Left || !slices.Equal(d.Staff[0].DepartmentIDs, []string{ds[0].ID}) {
			t.Fatalf("loaded %+v", d)
		}
	})
	t.Run("groups", func(t *testing.T) {
		st, o, ds := seed(t)
		o2 := orgchart.Org{ID: core.NewID(), Code: "qsxy", Name: "青山县人民医院", CreatedAt: at}
		if err := st.CreateOrg(ctx, o2); err != nil {
			t.Fatal(err)
		}
		g := orgchart.Group{ID: core.NewID(), Name: "江城医联体", CreatedAt: at, Members: []orgchart.GroupMember{
			{OrgID: o.ID, Share: orgchart.ShareSubtrees, DepartmentIDs: []string{ds[0].ID, ds[1].ID}},
			{OrgID: o2.ID, Share: orgchart.ShareWhole},
		}}
		if err := st.PutGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		g.Members[1].Share = orgchart.ShareNone
		if err := st.PutGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		gs, err := st.Groups(ctx)
		if err != nil || len(gs) != 1 || len(gs[0].Members) != 2 {
			t.Fatalf("groups = %+v, %v", gs, err)
		}
		for _, m := range gs[0].Members {
			want := g.Members[0]
			if m.OrgID == o2.ID {
				want = g.Members[1]
			}
			if m.Share != want.Share || !slices.Equal(m.DepartmentIDs, want.DepartmentIDs) {
				t.Fatalf("member %+v, want %+v", m, want)
			}
		}
		bad := orgchart.Group{ID: core.NewID(), Name: "x", CreatedAt: at, Members: []orgchart.GroupMember{{OrgID: core.NewID(), Share: orgchart.ShareNone}}}
		if err := st.PutGroup(ctx, bad); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("unknown org: want invalid, got %v", err)
		}
	})
}

// Accounts records the calls the org chart makes to identity. Fail, when
// set, is returned by every call.
type Accounts struct {
	mu       sync.Mutex
	Created  map[string]string // user id → login
	Disabled map[string]bool
	Fail     error
}

// NewAccounts returns an empty fake.
func NewAccounts() *Accounts {
	return &Accounts{Created: map[string]string{}, Disabled: map[string]bool{}}
}

// CreateAccount implements orgchart.Accounts.
func (a *Accounts) CreateAccount(_ context.Context, _, userID, login, _ string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		return a.Fail
	}
	a.Created[userID] = login
	return nil
}

// DisableAccount implements orgchart.Accounts.
func (a *Accounts) DisableAccount(_ context.Context, userID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		return a.Fail
	}
	a.Disabled[userID] = true
	return nil
}

// EnableAccount implements orgchart.Accounts.
func (a *Accounts) EnableAccount(_ context.Context, userID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		return a.Fail
	}
	delete(a.Disabled, userID)
	return nil
}

// IsDisabled reports whether DisableAccount was the last call for userID.
func (a *Accounts) IsDisabled(userID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Disabled[userID]
}

// LoginOf returns the login created for userID.
func (a *Accounts) LoginOf(userID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Created[userID]
}

// Audit keeps audit entries in memory.
type Audit struct {
	mu      sync.Mutex
	Entries []audit.Entry
}

// Record implements audit.Recorder.
func (a *Audit) Record(_ context.Context, e audit.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Entries = append(a.Entries, e)
	return nil
}

// Actions returns the recorded actions in order.
func (a *Audit) Actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.Entries {
		out = append(out, e.Action)
	}
	return out
}
