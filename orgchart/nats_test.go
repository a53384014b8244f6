package orgchart_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus/bustest"
	natsbus "github.com/roundshq/rounds/core/bus/nats"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

// TestTwoNodesOverNATS runs two services, each with its own NATS connection,
// on one database, as two server nodes would.
func TestTwoNodesOverNATS(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		prefix := "t" + strings.ReplaceAll(core.NewID(), "-", "")
		node := func() *orgchart.Service {
			b, err := natsbus.Connect(url, natsbus.Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Bus: b})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { svc.Close() })
			return svc
		}
		a := node()
		h := newHospital(t, a, "rmyy")
		b := node()
		if ok, _ := b.IsActive(ctx, h.org.ID, h.nurse.ID); !ok {
			t.Fatal("node b does not see the nurse")
		}
		must[orgchart.Staff](t)(a.DeactivateStaff(ctx, sys, h.org.ID, h.nurse.ID))
		ward := must[orgchart.Department](t)(a.CreateDepartment(ctx, sys, h.org.ID, orgchart.NewDepartment{Name: "新病区"}))
		deadline := time.Now().Add(5 * time.Second)
		for {
			active, _ := b.IsActive(ctx, h.org.ID, h.nurse.ID)
			_, err := b.HeadsOf(ctx, h.org.ID, ward.ID)
			if !active && err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node b is behind: active=%v heads err=%v", active, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A duty-role change alone also reaches the other node.
		if err := a.SetDutyRoles(ctx, sys, h.org.ID, []string{"院长", "护理部主任", "医务处处长"}); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := b.RoleHolders(ctx, h.org.ID, "医务处处长")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node b does not know the new duty role: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
