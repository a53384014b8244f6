package im_test

import (
	"encoding/json"
	"sync"
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

// TestReceiptsAreBatched: 1,000 members reading the same message at once
// become a handful of receipts events (one per conversation per window),
// not one per reader — and not members × readers deliveries.
func TestReceiptsAreBatched(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	svc := im.NewService(im.Deps{Store: sqlstore.New(db)}, im.Config{ReceiptWindow: 200 * time.Millisecond})
	t.Cleanup(func() { svc.Close(ctx) })
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = core.NewID()
	}
	g, err := svc.CreateGroup(ctx, actor(ids[0]), "全科", ids[1:])
	if err != nil {
		t.Fatal(err)
	}
	m := send(t, svc, ids[0], g.ID, "请全体阅读")
	svc.FlushReceipts(ctx)
	head, _ := svc.Head(ctx)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1 + w; i < len(ids); i += 8 {
				if _, err := svc.MarkRead(ctx, actor(ids[i]), g.ID, m.Seq); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	svc.FlushReceipts(ctx)
	evs, err := svc.Store().EventsAfter(ctx, head, 100000)
	if err != nil {
		t.Fatal(err)
	}
	batches, readers := 0, map[string]bool{}
	for _, e := range evs {
		if e.Type != im.EvReceipts {
			continue
		}
		batches++
		var rc im.ReceiptsChange
		if err := json.Unmarshal(e.Data, &rc); err != nil {
			t.Fatal(err)
		}
		for _, r := range rc.Readers {
			readers[r.UserID] = true
		}
	}
	// At most one event per window while the reads went on (plus the
	// final flush): on a fast machine that is a handful.
	limit := int(elapsed/(200*time.Millisecond)) + 2
	t.Logf("1000 readers in %v → %d receipts events (limit %d)", elapsed, batches, limit)
	if len(readers) != 1000 || batches > limit {
		t.Fatalf("%d readers in %d receipts events, want at most %d", len(readers), batches, limit)
	}
	rc, err := svc.Receipt(ctx, actor(ids[0]), m.ID)
	if err != nil || rc.ReadCount != 1000 || len(rc.Unread) != 0 {
		t.Fatalf("receipt %d read, %d unread, err=%v", rc.ReadCount, len(rc.Unread), err)
	}
}
