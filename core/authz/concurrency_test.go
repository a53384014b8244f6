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
