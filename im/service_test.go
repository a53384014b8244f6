package im_test

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

var ctx = context.Background()

func migrations() []sqldbtest.Migration {
	return []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}
}

func actor(u string) core.Actor { return core.Actor{UserID: u, OrgID: "org", Kind: core.ActorUser} }

type env struct {
	svc   *im.Service
	clock *imtest.Clock
	dir   *imtest.Directory
	admin string
}

func newEnv(t *testing.T, db *sqldb.DB) *env {
	e := &env{clock: imtest.NewClock(time.Now()), dir: imtest.NewDirectory(), admin: core.NewID()}
	e.svc = im.NewService(im.Deps{Store: sqlstore.New(db), Clock: e.clock, Directory: e.dir,
		Authorizer: imtest.Authorizer{Admins: map[string]bool{e.admin: true}}}, im.Config{ReceiptWindow: time.Hour})
	return e
}

func send(t *testing.T, svc *im.Service, u, conv, text string) im.Message {
	t.Helper()
	m, err := svc.Send(ctx, actor(u), im.SendRequest{ConversationID: conv, ClientMsgID: core.NewID(), Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestMessaging(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		svc := e.svc
		owner, admin, nurse, outsider := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		g, err := svc.CreateGroup(ctx, actor(owner), "5病区护士", []string{admin, nurse})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetRole(ctx, actor(owner), g.ID, admin, im.RoleAdmin); err != nil {
			t.Fatal(err)
		}

		t.Run("idempotent send", func(t *testing.T) {
			req := im.SendRequest{ConversationID: g.ID, ClientMsgID: "retry-1", Text: "请查看5床"}
			m1, err := svc.Send(ctx, actor(nurse), req)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := svc.Send(ctx, actor(nurse), req)
			if err != nil || m2.ID != m1.ID || m2.Seq != m1.Seq {
				t.Fatalf("retry: %+v vs %+v err=%v", m2, m1, err)
			}
			hist, _ := svc.History(ctx, actor(owner), g.ID, im.HistoryQuery{})
			if len(hist) != 1 {
				t.Fatalf("history has %d messages after a retried send", len(hist))
			}
		})

		t.Run("gapless seq under concurrent senders", func(t *testing.T) {
			c, err := svc.CreateGroup(ctx, actor(owner), "busy", []string{admin, nurse})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			seqOf := map[string]int64{} // message id → seq
			for _, u := range []string{owner, admin, nurse} {
				for w := 0; w < 2; w++ {
					wg.Add(1)
					go func(u string, w int) {
						defer wg.Done()
						for i := 0; i < 10; i++ {
							// Two goroutines per sender send the same client ids:
							// every send races its own retry.
							req := im.SendRequest{ConversationID: c.ID, ClientMsgID: "m-" + strconv.Itoa(i), Text: "x"}
							m, err := svc.Send(ctx, actor(u), req)
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							if s, ok := seqOf[m.ID]; ok && s != m.Seq {
								t.Errorf("one message, two seqs: %d and %d", s, m.Seq)
							}
							seqOf[m.ID] = m.Seq
							mu.Unlock()
						}
					}(u, w)
				}
			}
			wg.Wait()
			var seqs []int64
			for _, s := range seqOf {
				seqs = append(seqs, s)
			}
			sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
			for i, s := range seqs {
				if s != int64(i+1) {
					t.Fatalf("seqs not gapless: %v", seqs)
				}
			}
			hist, _ := svc.History(ctx, actor(owner), c.ID, im.HistoryQuery{Limit: 200})
			if len(seqs) != 30 || len(hist) != 30 || hist[0].Seq != 30 {
				t.Fatalf("history %d messages, newest seq %d", len(hist), hist[0].Seq)
			}
		})

		t.Run("authorization and bad input", func(t *testing.T) {
			m := send(t, svc, nurse, g.ID, "mine")
			_, err := svc.Send(ctx, actor(outsider), im.SendRequest{ConversationID: g.ID, ClientMsgID: "a", Text: "hi"})
			wantCode(t, err, core.EForbidden)
			_, err = svc.Edit(ctx, actor(admin), m.ID, "not yours")
			wantCode(t, err, core.EForbidden)
			_, err = svc.History(ctx, actor(outsider), g.ID, im.HistoryQuery{})
			wantCode(t, err, core.EForbidden)
			_, err = svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: "big", Text: string(make([]byte, 17<<10))})
			wantCode(t, err, core.ETooLarge)
			_, err = svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: "men", Text: "@x", Mentions: []string{outsider}})
			wantCode(t, err, core.EInvalid)
			_, err = svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: "nope", ClientMsgID: "a", Text: "hi"})
			wantCode(t, err, core.EInvalid)
			got, _ := svc.Message(ctx, actor(nurse), m.ID)
			if got.Text != "mine" {
				t.Fatalf("a refused edit changed the message: %q", got.Text)
			}
		})

		t.Run("the role part: chat switched off for someone", func(t *testing.T) {
			denied := im.NewService(im.Deps{Store: sqlstore.New(db), Authorizer: imtest.Authorizer{Denied: map[string]bool{nurse: true}}}, im.Config{})
			_, err := denied.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: "denied", Text: "hi"})
			wantCode(t, err, core.EForbidden)
			_, err = denied.CreateGroup(ctx, actor(nurse), "x", nil)
			wantCode(t, err, core.EForbidden)
			if _, err := denied.Send(ctx, actor(admin), im.SendRequest{ConversationID: g.ID, ClientMsgID: "allowed", Text: "hi"}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("announcement mode", func(t *testing.T) {
			on := true
			_, err := svc.UpdateConversation(ctx, actor(nurse), g.ID, im.ConversationUpdate{Announcement: &on})
			wantCode(t, err, core.EForbidden)
			if _, err := svc.UpdateConversation(ctx, actor(admin), g.ID, im.ConversationUpdate{Announcement: &on}); err != nil {
				t.Fatal(err)
			}
			_, err = svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: "ann", Text: "hi"})
			wantCode(t, err, core.EForbidden)
			send(t, svc, admin, g.ID, "通知：明天检查")
			off := false
			if _, err := svc.UpdateConversation(ctx, actor(owner), g.ID, im.ConversationUpdate{Announcement: &off}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("mentions, replies, edit, reactions", func(t *testing.T) {
			q := send(t, svc, owner, g.ID, "原始消息")
			r, err := svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: core.NewID(), Text: "收到", ReplyToID: q.ID, Mentions: []string{owner}, MentionAll: true})
			if err != nil || r.ReplyQuote != "原始消息" || len(r.Mentions) != 1 || !r.MentionAll {
				t.Fatalf("reply %+v err=%v", r, err)
			}
			ed, err := svc.Edit(ctx, actor(nurse), r.ID, "收到，马上到")
			if err != nil || ed.Text != "收到，马上到" || ed.EditedAt.IsZero() {
				t.Fatalf("edit %+v err=%v", ed, err)
			}
			if err := svc.React(ctx, actor(admin), q.ID, "👍", true); err != nil {
				t.Fatal(err)
			}
			wantCode(t, svc.React(ctx, actor(admin), q.ID, "bad emoji", true), core.EInvalid)
			got, _ := svc.Message(ctx, actor(owner), q.ID)
			if len(got.Reactions) != 1 || got.Reactions[0].UserIDs[0] != admin {
				t.Fatalf("reactions %+v", got.Reactions)
			}
			// Recalling the quoted message blanks the quote in the reply.
			if _, err := svc.Recall(ctx, actor(owner), q.ID); err != nil {
				t.Fatal(err)
			}
			got, _ = svc.Message(ctx, actor(owner), r.ID)
			if got.ReplyQuote != "" {
				t.Fatalf("quote of a recalled message survived: %q", got.ReplyQuote)
			}
			got, _ = svc.Message(ctx, actor(owner), q.ID)
			if got.Text != "" || len(got.Reactions) != 0 || !got.Recalled() {
				t.Fatalf("recalled message kept content: %+v", got)
			}
		})

		t.Run("recall window", func(t *testing.T) {
			mine := send(t, svc, nurse, g.ID, "oops")
			_, err := svc.Recall(ctx, actor(admin), mine.ID) // admins any time
			if err != nil {
				t.Fatal(err)
			}
			old := send(t, svc, nurse, g.ID, "old")
			fresh := send(t, svc, admin, g.ID, "admin's own")
			_, err = svc.Recall(ctx, actor(nurse), fresh.ID)
			wantCode(t, err, core.EForbidden) // not the sender, not a manager
			e.clock.Advance(25 * time.Hour)
			_, err = svc.Recall(ctx, actor(nurse), old.ID)
			wantCode(t, err, core.EForbidden) // past the window
			if _, err := svc.Recall(ctx, actor(owner), old.ID); err != nil {
				t.Fatalf("owner recall after the window: %v", err)
			}
		})

		t.Run("read receipts and unread counts", func(t *testing.T) {
			c, err := svc.CreateGroup(ctx, actor(owner), "receipts", []string{admin, nurse})
			if err != nil {
				t.Fatal(err)
			}
			m1 := send(t, svc, owner, c.ID, "one")
			m2 := send(t, svc, owner, c.ID, "two")
			v, _ := svc.Conversation(ctx, actor(nurse), c.ID)
			if v.Unread != 2 {
				t.Fatalf("unread %d", v.Unread)
			}
			rp, err := svc.MarkRead(ctx, actor(nurse), c.ID, m1.Seq)
			if err != nil || rp.Unread != 1 || rp.ReadSeq != m1.Seq {
				t.Fatalf("mark read %+v err=%v", rp, err)
			}
			if _, err := svc.MarkRead(ctx, actor(admin), c.ID, 99); err != nil { // clamped to the last seq
				t.Fatal(err)
			}
			rc, err := svc.Receipt(ctx, actor(owner), m2.ID)
			if err != nil || rc.ReadCount != 1 || len(rc.Read) != 1 || rc.Read[0] != admin || len(rc.Unread) != 1 || rc.Unread[0] != nurse {
				t.Fatalf("receipt m2 %+v err=%v", rc, err)
			}
			rc, _ = svc.Receipt(ctx, actor(owner), m1.ID)
			if rc.ReadCount != 2 || len(rc.Unread) != 0 {
				t.Fatalf("receipt m1 %+v", rc)
			}
			// Batched: every read-position change of the window (the two
			// readers and the sender, whose own sends moved theirs) leaves
			// in one receipts event.
			head, _ := svc.Head(ctx)
			svc.FlushReceipts(ctx)
			evs, _, _ := svc.EventsSince(ctx, actor(owner), head, 100)
			var batches []im.ReceiptsChange
			for _, ev := range evs {
				if ev.Type == im.EvReceipts && ev.ConversationID == c.ID {
					var rc im.ReceiptsChange
					_ = json.Unmarshal(ev.Data, &rc)
					batches = append(batches, rc)
				}
			}
			if len(batches) != 1 || len(batches[0].Readers) != 3 {
				t.Fatalf("receipt batches %+v", batches)
			}
			yes := true
			if _, err := svc.UpdateConversation(ctx, actor(owner), c.ID, im.ConversationUpdate{ReceiptsOff: &yes}); err != nil {
				t.Fatal(err)
			}
			_, err = svc.Receipt(ctx, actor(owner), m1.ID)
			wantCode(t, err, core.EForbidden)
		})

		t.Run("members, roles, leave", func(t *testing.T) {
			c, err := svc.CreateGroup(ctx, actor(owner), "roles", []string{admin, nurse})
			if err != nil {
				t.Fatal(err)
			}
			extra := []string{core.NewID(), core.NewID(), core.NewID()}
			wantCode(t, svc.AddMembers(ctx, actor(nurse), c.ID, extra), core.EForbidden)
			if err := svc.AddMembers(ctx, actor(owner), c.ID, extra); err != nil {
				t.Fatal(err)
			}
			var all []im.Member
			cursor := ""
			for {
				page, next, err := svc.Members(ctx, actor(nurse), c.ID, core.PageRequest{Cursor: cursor, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(all) != 6 {
				t.Fatalf("paged members: %d", len(all))
			}
			wantCode(t, svc.RemoveMember(ctx, actor(nurse), c.ID, extra[0]), core.EForbidden)
			if err := svc.RemoveMember(ctx, actor(owner), c.ID, extra[0]); err != nil {
				t.Fatal(err)
			}
			if err := svc.Leave(ctx, actor(owner), c.ID); err != nil {
				t.Fatal(err)
			}
			v, err := svc.Conversation(ctx, actor(nurse), c.ID)
			if err != nil || v.OwnerID != admin {
				t.Fatalf("ownership after the owner left: %q err=%v (want the admin)", v.OwnerID, err)
			}
			yes := true
			m, err := svc.SetPrefs(ctx, actor(nurse), c.ID, im.Prefs{Muted: &yes, Pinned: &yes})
			if err != nil || !m.Muted || !m.Pinned {
				t.Fatalf("prefs %+v err=%v", m, err)
			}
			list, _ := svc.Conversations(ctx, actor(nurse))
			if len(list) == 0 || list[0].ID != c.ID {
				t.Fatal("a pinned conversation is not listed first")
			}
		})

		t.Run("direct conversations", func(t *testing.T) {
			d1, err := svc.CreateDirect(ctx, actor(owner), nurse)
			if err != nil {
				t.Fatal(err)
			}
			d2, err := svc.CreateDirect(ctx, actor(nurse), owner)
			if err != nil || d2.ID != d1.ID {
				t.Fatalf("second direct %v err=%v", d2.ID, err)
			}
			_, err = svc.CreateDirect(ctx, actor(owner), owner)
			wantCode(t, err, core.EInvalid)
			wantCode(t, svc.Leave(ctx, actor(owner), d1.ID), core.EInvalid)
		})
	})
}

func TestDepartmentGroupsFollowTheOrgChart(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		svc := e.svc
		a, b, c := core.NewID(), core.NewID(), core.NewID()
		e.dir.SetParent("ward5", "nursing")
		e.dir.Place(a, "ward5")
		e.dir.Place(b, "nursing")

		_, err := svc.CreateDepartmentGroup(ctx, actor(a), "护理部", "nursing", true)
		wantCode(t, err, core.EForbidden) // only org admins
		g, err := svc.CreateDepartmentGroup(ctx, actor(e.admin), "护理部", "nursing", true)
		if err != nil {
			t.Fatal(err)
		}
		ward, err := svc.CreateDepartmentGroup(ctx, actor(e.admin), "5病区", "ward5", false)
		if err != nil {
			t.Fatal(err)
		}
		ids := func(id string) []string {
			out, _ := svc.Store().MemberIDs(ctx, id)
			sort.Strings(out)
			return out
		}
		want := func(id string, us ...string) {
			t.Helper()
			sort.Strings(us)
			got := ids(id)
			if len(got) != len(us) {
				t.Fatalf("members %v, want %v", got, us)
			}
			for i := range us {
				if got[i] != us[i] {
					t.Fatalf("members %v, want %v", got, us)
				}
			}
		}
		want(g.ID, a, b)
		want(ward.ID, a)

		// c joins ward 5: both groups get them.
		e.dir.Place(c, "ward5")
		if err := svc.HandleStaffChange(ctx, im.SubjectStaffJoined, im.StaffChange{OrgID: "org", UserID: c, DepartmentIDs: []string{"ward5"}}); err != nil {
			t.Fatal(err)
		}
		want(g.ID, a, b, c)
		want(ward.ID, a, c)
		// a moves to nursing: leaves the ward group, stays in the subtree group.
		e.dir.Place(a, "nursing")
		if err := svc.HandleStaffChange(ctx, im.SubjectStaffMoved, im.StaffChange{OrgID: "org", UserID: a, DepartmentIDs: []string{"nursing"}, PreviousDepartmentIDs: []string{"ward5"}}); err != nil {
			t.Fatal(err)
		}
		want(ward.ID, c)
		want(g.ID, a, b, c)
		// c leaves the hospital: out of every department group at once.
		e.dir.Leave(c)
		if err := svc.HandleStaffChange(ctx, im.SubjectStaffLeft, im.StaffChange{OrgID: "org", UserID: c}); err != nil {
			t.Fatal(err)
		}
		want(ward.ID)
		want(g.ID, a, b)
		_, err = svc.Send(ctx, actor(c), im.SendRequest{ConversationID: g.ID, ClientMsgID: "x", Text: "still here?"})
		wantCode(t, err, core.EForbidden)
		// Nobody edits department group membership by hand.
		wantCode(t, svc.AddMembers(ctx, actor(e.admin), g.ID, []string{c}), core.EForbidden)
		// Reconcile repairs drift (e.g. events missed while down).
		e.dir.Place(c, "ward5")
		if err := svc.ReconcileAll(ctx, ""); err != nil {
			t.Fatal(err)
		}
		want(ward.ID, c)
		want(g.ID, a, b, c)
		// Ward 5 moves out of nursing: the subtree group loses its staff.
		e.dir.SetParent("ward5", "surgery")
		if err := svc.HandleDepartmentMoved(ctx, im.DepartmentChange{OrgID: "org", DepartmentID: "ward5"}); err != nil {
			t.Fatal(err)
		}
		want(g.ID, a, b)
		want(ward.ID, c)
		// c got a personal conversation.left for each group they left: two
		// when leaving the hospital, one when ward 5 left the nursing subtree.
		evs, _, err := svc.EventsSince(ctx, actor(c), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, ev := range evs {
			if ev.Type == im.EvLeft {
				left++
			}
		}
		if left != 3 {
			t.Fatalf("conversation.left events for the leaver: %d, want 3", left)
		}
	})
}
