package im_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/search"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

// indexed lists the ids the index finds for text in conv, waiting up to 5 s
// for want of them (the indexer follows the log in the background).
func indexed(t *testing.T, ix search.Index, conv, text string, want int) []string {
	t.Helper()
	var ids []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := ix.Search(ctx, search.Query{Kind: "message", OrgID: "org", Scopes: []string{conv}, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, h := range r.Hits {
			ids = append(ids, h.ID)
		}
		if len(ids) == want || time.Now().After(deadline) {
			return ids
		}
	}
}

func TestIndexFollowsTheLog(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		b := inproc.New()
		defer b.Close()
		ix := openIndex(t)
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Index: ix, Bus: b}, im.Config{})
		doc, nurse := core.NewID(), core.NewID()
		g, err := svc.CreateGroup(ctx, core.Actor{UserID: doc, OrgID: "org", Kind: core.ActorUser}, "心内科", []string{nurse})
		if err != nil {
			t.Fatal(err)
		}
		cur := search.FileCursor{Path: filepath.Join(t.TempDir(), "search.cursor")}
		follow := func() (stop func()) {
			fctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := svc.FollowIndex(fctx, cur, 50*time.Millisecond); err != nil {
					t.Error(err)
				}
			}()
			return func() { cancel(); <-done }
		}
		stop := follow()
		// Wait until the follower has taken over (it saves the head first).
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, ok, _ := cur.Load(ctx); ok {
				break
			}
		}

		m1 := send(t, svc, doc, g.ID, "3床患者血压下降")
		m2 := send(t, svc, nurse, g.ID, "血压已复测")
		if got := indexed(t, ix, g.ID, "血压", 2); len(got) != 2 {
			t.Fatalf("posted messages not indexed: %v", got)
		}
		// An edit replaces the text, a recall removes the message.
		if _, err := svc.Edit(ctx, actor(nurse), m2.ID, "心率已复测"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Recall(ctx, actor(doc), m1.ID); err != nil {
			t.Fatal(err)
		}
		if got := indexed(t, ix, g.ID, "血压", 0); len(got) != 0 {
			t.Fatalf("edited and recalled messages still found by their old text: %v", got)
		}
		if got := indexed(t, ix, g.ID, "心率", 1); len(got) != 1 || got[0] != m2.ID {
			t.Fatalf("edited text not indexed: %v", got)
		}

		// While the follower is down nothing is indexed; when it comes back it
		// catches up from its cursor, a post and its recall in one batch
		// leaving nothing behind.
		stop()
		m3 := send(t, svc, doc, g.ID, "交班：5床术后")
		m4 := send(t, svc, doc, g.ID, "交班：错发")
		if _, err := svc.Recall(ctx, actor(doc), m4.ID); err != nil {
			t.Fatal(err)
		}
		if got := indexed(t, ix, g.ID, "交班", 0); len(got) != 0 {
			t.Fatalf("indexed with the follower stopped: %v", got)
		}
		stop = follow()
		if got := indexed(t, ix, g.ID, "交班", 1); len(got) != 1 || got[0] != m3.ID {
			t.Fatalf("after catching up: %v, want only %s", got, m3.ID)
		}
		stop()

		// A cursor past the log's head (a restored, older database) is
		// brought back to the head instead of skipping new messages.
		head, err := svc.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.Save(ctx, head+1000); err != nil {
			t.Fatal(err)
		}
		stop = follow()
		defer stop()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if p, _, _ := cur.Load(ctx); p == head {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("cursor %d not brought back to head %d", p, head)
			}
		}
		m5 := send(t, svc, doc, g.ID, "新入院患者")
		if got := indexed(t, ix, g.ID, "入院", 1); len(got) != 1 || got[0] != m5.ID {
			t.Fatalf("after a cursor reset: %v", got)
		}
	})
}

func TestFileCursor(t *testing.T) {
	c := search.FileCursor{Path: filepath.Join(t.TempDir(), "c")}
	if _, ok, err := c.Load(ctx); ok || err != nil {
		t.Fatalf("fresh: ok=%v err=%v", ok, err)
	}
	if err := c.Save(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := c.Load(ctx); p != 42 || !ok || err != nil {
		t.Fatalf("got %d %v %v", p, ok, err)
	}
	bad := search.FileCursor{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "c")}
	if err := bad.Save(ctx, 1); !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("unwritable: %v", err)
	}
}
