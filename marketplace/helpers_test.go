package marketplace_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/bundle"
	"github.com/roundshq/rounds/marketplace/catalog"
	mt "github.com/roundshq/rounds/marketplace/marketplacetest"
	"github.com/roundshq/rounds/marketplace/sqlstore"
)

var migrations = []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}

// roles is an Authorizer: user id -> role ("admin" or "staff") per org.
type roles map[string]string

func (r roles) Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	role := r[a.UserID+"@"+orgID]
	switch {
	case role == "admin":
		return nil
	case role == "staff" && object == "apps.app" && action == "open":
		return nil
	}
	return core.Errorf(core.EForbidden, "%s may not %s %s", a.UserID, action, object)
}

// auditLog records entries.
type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (l *auditLog) Record(ctx context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

func (l *auditLog) find(action, result string) []audit.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Entry
	for _, e := range l.entries {
		if e.Action == action && (result == "" || e.Result == result) {
			out = append(out, e)
		}
	}
	return out
}

// staffDirectory places people in departments (no subtrees needed here).
type staffDirectory map[string][]string

func (d staffDirectory) InDepartments(ctx context.Context, orgID, userID string, depts []string) (bool, error) {
	for _, x := range d[userID] {
		if slices.Contains(depts, x) {
			return true, nil
		}
	}
	return false, nil
}

type fixture struct {
	db     *sqldb.DB
	store  *sqlstore.Store
	files  files.Store
	pub    *mt.Publisher
	host   *mt.Host
	audit  *auditLog
	roles  roles
	staff  staffDirectory
	svc    *marketplace.Service
	org    string
	admin  core.Actor
	nurse  core.Actor
	doctor core.Actor
	ctx    context.Context
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	fs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, store: sqlstore.New(db), files: fs, pub: mt.NewPublisher(t), audit: &auditLog{}, roles: roles{},
		staff: staffDirectory{}, org: core.NewID(), ctx: context.Background()}
	f.admin = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.nurse = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.doctor = core.Actor{UserID: core.NewID(), OrgID: f.org, Kind: core.ActorUser}
	f.roles[f.admin.UserID+"@"+f.org] = "admin"
	f.roles[f.nurse.UserID+"@"+f.org] = "staff"
	f.roles[f.doctor.UserID+"@"+f.org] = "staff"
	f.svc, f.host = f.node(t, nil)
	return f
}

// node starts another server node sharing the database and the file store.
func (f *fixture) node(t *testing.T, b bus.Bus) (*marketplace.Service, *mt.Host) {
	cat, err := catalog.Open(f.pub.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := mt.NewHost()
	svc, err := marketplace.New(marketplace.Config{Store: f.store, Files: f.files, Catalog: cat, Host: h, Authz: f.roles,
		Audit: f.audit, Staff: f.staff, Bus: b, DataDir: t.TempDir(), GOOS: "linux", GOARCH: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc, h
}

func (f *fixture) trust(t *testing.T, key bundle.PrivateKey) {
	if _, err := f.svc.AddKey(f.ctx, f.admin, f.org, "Acme ISV", key.Public().String()); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
