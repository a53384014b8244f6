package authz_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// Role changes while other transactions authorize inside themselves (a chat
// send checks its sender in its transaction): neither may wait for the
// other. A change once held the policy's write lock while waiting for the
// database, and a transaction holding the database waited for that lock.
func TestRoleChangesDoNotDeadlockWithTransactionsThatAuthorize(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		done := make(chan struct{})
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					err := db.InTx(ctx, func(tx *sqldb.Tx) error {
						return f.e.Authorize(ctx, f.staffA, hospA, "im.message", "use")
					})
					if err != nil && !core.IsCode(err, core.EForbidden) {
						t.Error(err)
					}
				}()
				go func() {
					defer wg.Done()
					u := user(hospA)
					role := authz.RoleStaff
					if i%2 == 0 {
						role = authz.RoleGuest
					}
					if err := f.e.AssignRole(ctx, core.SystemActor, hospA, u.UserID, role); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("role changes and authorizing transactions deadlocked")
		}
	})
}
