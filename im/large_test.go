package im_test

import (
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

// TestLargeGroup creates a group of the maximum size and checks that a
// message's receipt lists and the member pages work at that size, and that
// one more member is refused.
func TestLargeGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("large group skipped in -short")
	}
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		svc := im.NewService(im.Deps{Store: sqlstore.New(db)}, im.Config{ReceiptWindow: time.Hour})
		ids := make([]string, im.MaxGroupMembers)
		for i := range ids {
			ids[i] = core.NewID()
		}
		start := time.Now()
		g, err := svc.CreateGroup(ctx, actor(ids[0]), "全院通知", ids[1:])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("created a %d-member group in %v", len(ids), time.Since(start))
		if g.MemberCount != im.MaxGroupMembers {
			t.Fatalf("member count %d", g.MemberCount)
		}
		wantCode(t, svc.AddMembers(ctx, actor(ids[0]), g.ID, []string{core.NewID()}), core.EInvalid)
		m := send(t, svc, ids[0], g.ID, "全院消防演练")
		for _, u := range ids[1:1001] {
			if _, err := svc.MarkRead(ctx, actor(u), g.ID, m.Seq); err != nil {
				t.Fatal(err)
			}
		}
		start = time.Now()
		rc, err := svc.Receipt(ctx, actor(ids[0]), m.ID)
		if err != nil || rc.ReadCount != 1000 || len(rc.Unread) != im.MaxGroupMembers-1001 {
			t.Fatalf("receipt: read %d unread %d err=%v", rc.ReadCount, len(rc.Unread), err)
		}
		t.Logf("receipt lists for %d members in %v", im.MaxGroupMembers, time.Since(start))
		page, next, err := svc.Members(ctx, actor(ids[1]), g.ID, core.PageRequest{Limit: 200})
		if err != nil || len(page) != 200 || next == "" {
			t.Fatalf("members page %d next %q err=%v", len(page), next, err)
		}
	})
}
