package im_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
)

// TestConcurrentMixedOperations runs sends, reads, reactions, preference
// changes, role changes and members leaving and rejoining at the same time:
// none may fail (no deadlock surfaces), every message keeps a unique seq,
// and the event log stays gapless.
func TestConcurrentMixedOperations(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		svc := e.svc
		owner, a, b, c := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		g, err := svc.CreateGroup(ctx, actor(owner), "并发", []string{a, b, c})
		if err != nil {
			t.Fatal(err)
		}
		first := send(t, svc, owner, g.ID, "first")
		var wg sync.WaitGroup
		run := func(name string, fn func(i int) error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					if err := fn(i); err != nil {
						t.Errorf("%s %d: %v", name, i, err)
						return
					}
				}
			}()
		}
		for _, u := range []string{owner, a, b} {
			run("send "+u[:8], func(i int) error {
				_, err := svc.Send(ctx, actor(u), im.SendRequest{ConversationID: g.ID, ClientMsgID: "c" + strconv.Itoa(i), Text: "x"})
				return err
			})
		}
		run("read", func(i int) error { _, err := svc.MarkRead(ctx, actor(a), g.ID, int64(i+1)); return err })
		run("react", func(i int) error { return svc.React(ctx, actor(b), first.ID, "👍", i%2 == 0) })
		yes, no := true, false
		run("prefs", func(i int) error {
			p := im.Prefs{Muted: &yes}
			if i%2 == 1 {
				p.Muted = &no
			}
			_, err := svc.SetPrefs(ctx, actor(owner), g.ID, p)
			return err
		})
		run("roles", func(i int) error {
			r := im.RoleAdmin
			if i%2 == 1 {
				r = im.RoleMember
			}
			return svc.SetRole(ctx, actor(owner), g.ID, b, r)
		})
		run("leave and rejoin", func(i int) error {
			if i%2 == 0 {
				return svc.Leave(ctx, actor(c), g.ID)
			}
			return svc.AddMembers(ctx, actor(owner), g.ID, []string{c})
		})
		wg.Wait()
		hist, err := svc.History(ctx, actor(owner), g.ID, im.HistoryQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 46 || hist[0].Seq != 46 || hist[len(hist)-1].Seq != 1 {
			t.Fatalf("history: %d messages, seqs %d..%d", len(hist), hist[len(hist)-1].Seq, hist[0].Seq)
		}
		evs, err := svc.Store().EventsAfter(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range evs {
			if ev.Pos != int64(i+1) {
				t.Fatalf("event log has a gap at %d: position %d", i+1, ev.Pos)
			}
		}
	})
}
