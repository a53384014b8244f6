package authz_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// Decisions keep flowing, and stay right, while roles change underneath
// (run with -race).
func TestDecisionsDuringChanges(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 8)
		for r := 0; r < 4; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					// Unchanged throughout: staff chat, staff never read the audit log.
					if !f.e.Can(ctx, f.staffA, hospA, "im.message", "use") || f.e.Can(ctx, f.staffA, hospA, "audit.log", "read") {
						errs <- fmt.Errorf("a decision changed that no change touched")
						return
					}
				}
			}()
		}
		for i := 0; i < 20; i++ {
			u := core.NewID()
			name := fmt.Sprintf("ward_%d", i)
			if _, err := f.e.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{Name: name, Inherits: authz.RoleStaff,
				Rules: []authz.Rule{{Object: "roster.roster", Action: "write", Effect: authz.Allow}}}); err != nil {
				t.Fatal(err)
			}
			if err := f.e.AssignRole(ctx, f.adminA, hospA, u, name); err != nil {
				t.Fatal(err)
			}
			if !f.e.Can(ctx, core.Actor{UserID: u}, hospA, "roster.roster", "write") {
				t.Fatal("new assignment not in force at once")
			}
			if i%5 == 0 {
				if err := f.e.Reload(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.e.DeleteRole(ctx, f.adminA, hospA, name); err != nil {
				t.Fatal(err)
			}
			if f.e.Can(ctx, core.Actor{UserID: u}, hospA, "roster.roster", "write") {
				t.Fatal("deleted role still in force")
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// OnChange fires once per committed change, never for refusals or no-ops,
// and may call Reload at once (as a synchronous in-process bus would).
func TestOnChange(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations...)
	ctx := context.Background()
	f := newFixture(t, db)
	var e2 *authz.Enforcer
	calls := 0
	e2, err := authz.New(ctx, db, authz.Options{Recorder: f.log, OnChange: func(ctx context.Context) {
		calls++
		if err := e2.Reload(ctx); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	u := core.NewID()
	steps := []struct {
		name  string
		do    func() error
		calls int
	}{
		{"assign", func() error { return e2.AssignRole(ctx, f.adminA, hospA, u, authz.RoleStaff) }, 1},
		{"assign again changes nothing", func() error { return e2.AssignRole(ctx, f.adminA, hospA, u, authz.RoleStaff) }, 1},
		{"refused", func() error {
			if err := e2.AssignRole(ctx, f.staffA, hospA, u, authz.RoleOrgAdmin); !core.IsCode(err, core.EForbidden) {
				return fmt.Errorf("want forbidden, got %v", err)
			}
			return nil
		}, 1},
		{"create role", func() error {
			_, err := e2.CreateRole(ctx, f.adminA, hospA, authz.RoleDef{Name: "pharmacist", Inherits: authz.RoleStaff})
			return err
		}, 2},
		{"remove user", func() error { return e2.RemoveUser(ctx, u) }, 3},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if calls != s.calls {
			t.Fatalf("%s: %d calls, want %d", s.name, calls, s.calls)
		}
	}
}
