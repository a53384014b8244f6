package approvals_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// memDir is a small in-memory org chart: departments with parents and
// heads, people with departments, roles.
type memDir struct {
	mu        sync.Mutex
	parent    map[string]string
	heads     map[string][]string
	depts     map[string][]string // user → departments, primary first
	roles     map[string][]string
	inactive  map[string]bool
	undefined map[string]bool // roles the org does not define
}

func newDir() *memDir {
	return &memDir{parent: map[string]string{}, heads: map[string][]string{}, depts: map[string][]string{}, roles: map[string][]string{}, inactive: map[string]bool{}, undefined: map[string]bool{}}
}

func (d *memDir) ManagerOf(_ context.Context, _, user string, levels int) ([]string, error) {
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
	if dep == "" {
		return nil, nil
	}
	return append([]string(nil), d.heads[dep]...), nil
}

func (d *memDir) HeadsOf(_ context.Context, _, dept string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.heads[dept]...), nil
}

func (d *memDir) RoleHolders(_ context.Context, _, role string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.undefined[role] {
		return nil, core.Invalid("role", "%s is not a duty role of this organisation", role)
	}
	return append([]string(nil), d.roles[role]...), nil
}

func (d *memDir) IsInSubtree(_ context.Context, _, root, dept string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for dep := dept; dep != ""; dep = d.parent[dep] {
		if dep == root {
			return true, nil
		}
	}
	return false, nil
}

func (d *memDir) DepartmentsOf(_ context.Context, _, user string) (string, []string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds, ok := d.depts[user]
	if !ok {
		return "", nil, core.Errorf(core.ENotFound, "no such person")
	}
	if len(ds) == 0 {
		return "", nil, nil
	}
	return ds[0], append([]string(nil), ds...), nil
}

func (d *memDir) IsActive(_ context.Context, _, user string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, known := d.depts[user]
	return known && !d.inactive[user], nil
}

// memAuthz grants "use" to everyone, "read_subtree" to heads and the rest to
// admins.
type memAuthz struct {
	admins map[string]bool
	heads  map[string]bool
}

func (m *memAuthz) Authorize(_ context.Context, a core.Actor, orgID, object, action string) error {
	if a.IsSystem() {
		return nil
	}
	switch action {
	case approvals.ActionUse:
		return nil
	case approvals.ActionReadSubtree:
		if m.heads[a.UserID] {
			return nil
		}
	default:
		if m.admins[a.UserID] {
			return nil
		}
	}
	return core.Errorf(core.EForbidden, "not allowed")
}

type note struct {
	kind, request, reason string
	who                   []string
}

type recNotifier struct {
	mu    sync.Mutex
	notes []note
	down  error // when set, Notify fails with it (chat unavailable)
	ids   map[string]int
}

func (n *recNotifier) Notify(_ context.Context, x approvals.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down != nil {
		return n.down
	}
	if n.ids == nil {
		n.ids = map[string]int{}
	}
	n.ids[x.ID]++
	kind := "update"
	if x.Task {
		kind = "task"
	}
	n.notes = append(n.notes, note{kind, x.RequestID, x.Reason, x.Recipients})
	return nil
}

func (n *recNotifier) find(kind, reason string) []note {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []note
	for _, x := range n.notes {
		if x.kind == kind && x.reason == reason {
			out = append(out, x)
		}
	}
	return out
}

type recAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (r *recAudit) Record(_ context.Context, e audit.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
	return nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const org = "0190b3c0-0000-7000-8000-000000000001"

// The hospital: president ← medical affairs ← cardiology ← ward 5.
var (
	deptHosp    = id(100)
	deptMed     = id(101)
	deptCardio  = id(102)
	deptWard    = id(103)
	deptNursing = id(104)

	president  = id(1)
	medHead    = id(2)
	cardioHead = id(3)
	wardHead   = id(4)
	nurse      = id(5)
	nurse2     = id(6)
	doctor     = id(7)
	doctor2    = id(8)
	hr1        = id(9)
	hr2        = id(10)
	admin      = id(11)
	nursingHd  = id(12)
	finance1   = id(13)
	finance2   = id(14)
)

func id(n int) string {
	return "0190b3c0-0000-7000-8000-" + leftPad(n)
}

func leftPad(n int) string {
	s := "000000000000"
	d := []byte(s)
	for i := len(d) - 1; n > 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return string(d)
}

type env struct {
	t     testing.TB
	db    *sqldb.DB
	store *sqlstore.Store
	svc   *approvals.Service
	dir   *memDir
	authz *memAuthz
	notes *recNotifier
	audit *recAudit
	clock *fakeClock
	bus   *inproc.Bus
	mu    sync.Mutex
	evs   []bus.Event
}

func hospital() *memDir {
	d := newDir()
	d.parent[deptMed] = deptHosp
	d.parent[deptCardio] = deptMed
	d.parent[deptWard] = deptCardio
	d.parent[deptNursing] = deptHosp
	d.heads[deptHosp] = []string{president}
	d.heads[deptMed] = []string{medHead}
	d.heads[deptCardio] = []string{cardioHead}
	d.heads[deptWard] = []string{wardHead}
	d.heads[deptNursing] = []string{nursingHd}
	d.depts[president] = []string{deptHosp}
	d.depts[medHead] = []string{deptMed}
	d.depts[cardioHead] = []string{deptCardio}
	d.depts[wardHead] = []string{deptWard}
	d.depts[nurse] = []string{deptWard, deptNursing}
	d.depts[nurse2] = []string{deptWard}
	d.depts[doctor] = []string{deptCardio}
	d.depts[doctor2] = []string{deptCardio}
	d.depts[hr1] = []string{deptHosp}
	d.depts[hr2] = []string{deptHosp}
	d.depts[admin] = []string{deptHosp}
	d.depts[nursingHd] = []string{deptNursing}
	d.depts[finance1] = []string{deptHosp}
	d.depts[finance2] = []string{deptHosp}
	d.roles["hr"] = []string{hr1, hr2}
	d.roles["finance"] = []string{finance1, finance2}
	return d
}

func newEnvDB(t testing.TB, db *sqldb.DB) *env {
	// With the append-only guard, so every test proves the service never
	// rewrites the timeline.
	if err := sqlstore.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, store: sqlstore.New(db), dir: hospital(),
		authz: &memAuthz{admins: map[string]bool{admin: true}, heads: map[string]bool{president: true, medHead: true, cardioHead: true, wardHead: true, nursingHd: true}},
		notes: &recNotifier{}, audit: &recAudit{}, clock: &fakeClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}, bus: inproc.New()}
	t.Cleanup(func() { e.bus.Close() })
	_, err := e.bus.Subscribe("approvals.>", func(ev bus.Event) {
		e.mu.Lock()
		e.evs = append(e.evs, ev)
		e.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approvals.New(approvals.Options{Store: e.store, Directory: e.dir, Authorizer: e.authz, Notifier: e.notes,
		Bus: e.bus, Audit: e.audit, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// newEnv uses SQLite, or PostgreSQL when ROUNDS_APPROVALS_TEST_DB=postgres
// (to run every service test on PostgreSQL as well; the store contract and
// the concurrency tests run on both databases always).
func newEnv(t testing.TB) *env {
	if os.Getenv("ROUNDS_APPROVALS_TEST_DB") == "postgres" {
		return newEnvDB(t, sqldbtest.OpenPostgres(t, migrations()...))
	}
	return newEnvDB(t, sqldbtest.OpenSQLite(t, migrations()...))
}

func migrations() []sqldbtest.Migration {
	return []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}
}

func as(user string) context.Context {
	return core.WithActor(context.Background(), core.Actor{UserID: user, OrgID: org, Kind: core.ActorUser})
}

func (e *env) template(in approvals.TemplateInput) *approvals.Template {
	e.t.Helper()
	t, err := e.svc.SaveTemplate(as(admin), in)
	if err != nil {
		e.t.Fatalf("save template %s: %v", in.Code, err)
	}
	return t
}

func aid() string { return core.NewID() }

func (e *env) submit(user, code string, form any) string {
	e.t.Helper()
	b, _ := json.Marshal(form)
	out, err := e.svc.Submit(as(user), approvals.SubmitInput{ActionID: aid(), TemplateCode: code, Form: b})
	if err != nil {
		e.t.Fatalf("submit %s: %v", code, err)
	}
	return out.RequestID
}

func (e *env) approve(user, req string) approvals.Outcome {
	e.t.Helper()
	out, err := e.svc.Approve(as(user), req, approvals.ActionInput{ActionID: aid()})
	if err != nil {
		e.t.Fatalf("approve by %s: %v", user, err)
	}
	return out
}

func (e *env) view(req string) *approvals.View {
	e.t.Helper()
	v, err := e.svc.Get(as(admin), req)
	if err != nil {
		e.t.Fatalf("get: %v", err)
	}
	return v
}

// pending returns the current pending assignees of a request, sorted.
func (e *env) pending(req string) []string {
	e.t.Helper()
	v := e.view(req)
	var out []string
	for _, t := range v.Tasks {
		if t.State == approvals.TaskPending {
			out = append(out, t.AssigneeID)
		}
	}
	slices.Sort(out)
	return out
}

func (e *env) status(req string) approvals.Status {
	e.t.Helper()
	return e.view(req).Request.Status
}

func (e *env) actions(req string) []string {
	e.t.Helper()
	var out []string
	for _, x := range e.view(req).Timeline {
		out = append(out, x.Action)
	}
	return out
}

func (e *env) events(subject string) []approvals.Event {
	deadline := time.Now().Add(2 * time.Second)
	for {
		e.mu.Lock()
		var out []approvals.Event
		for _, ev := range e.evs {
			if ev.Subject == subject {
				var x approvals.Event
				_ = json.Unmarshal(ev.Data, &x)
				out = append(out, x)
			}
		}
		e.mu.Unlock()
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantCode(t testing.TB, err error, code core.Code) {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	slices.Sort(out)
	return out
}

// simple is a one-field form.
var simpleSchema = approvals.Schema{Fields: []approvals.Field{
	{Key: "reason", Label: "Reason", Type: approvals.FieldText},
	{Key: "amount", Label: "Amount", Type: approvals.FieldMoney},
	{Key: "period", Label: "Period", Type: approvals.FieldDateRange},
	{Key: "days_off", Label: "Days", Type: approvals.FieldComputed, Formula: "days(period)"},
}}

func flowOf(nodes ...approvals.Node) approvals.Flow {
	all := []approvals.Node{{ID: "start", Kind: approvals.NodeStart}}
	all = append(all, nodes...)
	all = append(all, approvals.Node{ID: "end", Kind: approvals.NodeEnd})
	// chain them in order unless Next is set
	for i := 0; i < len(all)-1; i++ {
		if all[i].Next == "" && all[i].Kind != approvals.NodeBranch {
			all[i].Next = all[i+1].ID
		}
	}
	return approvals.Flow{Nodes: all, Admins: []string{admin}}
}

func bg() context.Context { return context.Background() }
