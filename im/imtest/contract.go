package imtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
)

// Run is the contract suite for an im.Store. newStore returns an empty,
// migrated store.
func Run(t *testing.T, newStore func(t *testing.T) im.Store) {
	ctx := context.Background()
	u1, u2, u3 := core.NewID(), core.NewID(), core.NewID()

	setup := func(t *testing.T) (im.Store, im.Conversation) {
		s := newStore(t)
		c := im.Conversation{ID: core.NewID(), OrgID: "org", Kind: im.Group, Name: "Ward 5", OwnerID: u1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		err := s.InTx(ctx, func(tx im.Tx) error {
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			for _, u := range []string{u1, u2} {
				if _, err := tx.AddMember(ctx, im.Member{ConversationID: c.ID, UserID: u, Role: im.RoleMember}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	send := func(t *testing.T, s im.Store, convID, sender, clientID, text string) (im.Message, error) {
		var m im.Message
		err := s.InTx(ctx, func(tx im.Tx) error {
			seq, err := tx.NextSeq(ctx, convID)
			if err != nil {
				return err
			}
			m = im.Message{ID: core.NewID(), ConversationID: convID, Seq: seq, SenderID: sender, ClientMsgID: clientID, Kind: im.KindText, Text: text, Mentions: []string{u2}, CreatedAt: tx.Now()}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			_, err = tx.Append(ctx, im.Event{Type: im.EvMessagePosted, ConversationID: convID, Data: json.RawMessage(`{"seq":1}`)})
			return err
		})
		return m, err
	}

	t.Run("conversation round trip and member count", func(t *testing.T) {
		s, c := setup(t)
		got, err := s.Conversation(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ward 5" || got.MemberCount != 2 || got.Kind != im.Group {
			t.Fatalf("got %+v", got)
		}
		if _, err := s.Conversation(ctx, core.NewID()); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("missing conversation: %v", err)
		}
		ids, err := s.ConversationIDsOf(ctx, u2)
		if err != nil || len(ids) != 1 || ids[0] != c.ID {
			t.Fatalf("ids=%v err=%v", ids, err)
		}
	})

	t.Run("direct key is unique", func(t *testing.T) {
		s := newStore(t)
		mk := func() error {
			return s.InTx(ctx, func(tx im.Tx) error {
				return tx.CreateConversation(ctx, im.Conversation{ID: core.NewID(), OrgID: "org", Kind: im.Direct, DirectKey: "org:a:b", CreatedAt: time.Now(), UpdatedAt: time.Now()})
			})
		}
		if err := mk(); err != nil {
			t.Fatal(err)
		}
		if err := mk(); !core.IsCode(err, core.EConflict) {
			t.Fatalf("second direct: %v", err)
		}
		if _, err := s.DirectConversation(ctx, "org:a:b"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("seq is gapless and client ids are unique", func(t *testing.T) {
		s, c := setup(t)
		for i := 1; i <= 3; i++ {
			m, err := send(t, s, c.ID, u1, "c"+string(rune('0'+i)), "hello")
			if err != nil {
				t.Fatal(err)
			}
			if m.Seq != int64(i) {
				t.Fatalf("seq = %d, want %d", m.Seq, i)
			}
		}
		if _, err := send(t, s, c.ID, u1, "c1", "again"); !core.IsCode(err, core.EConflict) {
			t.Fatalf("duplicate client id: %v", err)
		}
		// The failed send rolled its seq back: the next one is 4.
		m, err := send(t, s, c.ID, u2, "c1", "other sender, same client id")
		if err != nil || m.Seq != 4 {
			t.Fatalf("seq=%d err=%v", m.Seq, err)
		}
		got, err := s.MessageByClientID(ctx, c.ID, u1, "c1")
		if err != nil || got.Seq != 1 || len(got.Mentions) != 1 || got.Mentions[0] != u2 {
			t.Fatalf("got %+v err=%v", got, err)
		}
		page, err := s.Messages(ctx, c.ID, im.HistoryQuery{Before: 4, Limit: 2})
		if err != nil || len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 2 {
			t.Fatalf("before page %+v err=%v", page, err)
		}
		page, err = s.Messages(ctx, c.ID, im.HistoryQuery{After: 2, Limit: 10})
		if err != nil || len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
			t.Fatalf("after page %+v err=%v", page, err)
		}
	})

	t.Run("reactions, recall fields and quotes", func(t *testing.T) {
		s, c := setup(t)
		m, err := send(t, s, c.ID, u1, "x", "hello")
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx im.Tx) error {
			for _, u := range []string{u1, u2} {
				if ch, err := tx.SetReaction(ctx, m.ID, u, "👍", true); err != nil || !ch {
					t.Errorf("react: changed=%v err=%v", ch, err)
				}
			}
			if ch, _ := tx.SetReaction(ctx, m.ID, u1, "👍", true); ch {
				t.Error("a repeated reaction reported a change")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Message(ctx, m.ID)
		if len(got.Reactions) != 1 || len(got.Reactions[0].UserIDs) != 2 {
			t.Fatalf("reactions %+v", got.Reactions)
		}
		err = s.InTx(ctx, func(tx im.Tx) error {
			got.Text, got.RecalledAt, got.RecalledBy, got.Mentions = "", tx.Now(), u1, nil
			if err := tx.UpdateMessage(ctx, got); err != nil {
				return err
			}
			return tx.DeleteReactions(ctx, m.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.Message(ctx, m.ID)
		if !got.Recalled() || got.Text != "" || len(got.Reactions) != 0 || len(got.Mentions) != 0 {
			t.Fatalf("after recall %+v", got)
		}
	})

	t.Run("read states and unread", func(t *testing.T) {
		s, c := setup(t)
		for i := 0; i < 3; i++ {
			if _, err := send(t, s, c.ID, u1, core.NewID(), "m"); err != nil {
				t.Fatal(err)
			}
		}
		err := s.InTx(ctx, func(tx im.Tx) error {
			if ch, err := tx.AdvanceRead(ctx, c.ID, u2, 2); err != nil || !ch {
				t.Errorf("advance: %v %v", ch, err)
			}
			if ch, _ := tx.AdvanceRead(ctx, c.ID, u2, 1); ch {
				t.Error("read position went back")
			}
			_, err := tx.AddMember(ctx, im.Member{ConversationID: c.ID, UserID: u3, Role: im.RoleMember})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		read, unread, err := s.ReadStates(ctx, c.ID, 2, u1)
		if err != nil || len(read) != 1 || read[0] != u2 || len(unread) != 0 {
			t.Fatalf("seq 2: read=%v unread=%v err=%v", read, unread, err)
		}
		read, unread, _ = s.ReadStates(ctx, c.ID, 3, u1)
		if len(read) != 0 || len(unread) != 1 || unread[0] != u2 {
			t.Fatalf("seq 3: read=%v unread=%v (u3 joined later and must be in neither)", read, unread)
		}
		n, err := s.Unread(ctx, c.ID, u2)
		if err != nil || n != 1 {
			t.Fatalf("unread=%d err=%v", n, err)
		}
		m3, _ := s.Member(ctx, c.ID, u3)
		if m3.JoinedSeq != 3 || m3.ReadSeq != 3 {
			t.Fatalf("joiner %+v", m3)
		}
		views, err := s.ConversationsOf(ctx, u2)
		if err != nil || len(views) != 1 || views[0].Unread != 1 || views[0].LastMessage == nil || views[0].LastMessage.Seq != 3 {
			t.Fatalf("views %+v err=%v", views, err)
		}
	})

	t.Run("a bot is no reader", func(t *testing.T) {
		s, c := setup(t)
		bot := core.NewID()
		err := s.InTx(ctx, func(tx im.Tx) error {
			_, err := tx.AddMember(ctx, im.Member{ConversationID: c.ID, UserID: bot, Role: im.RoleBot})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := s.Member(ctx, c.ID, bot); err != nil || m.Role != im.RoleBot {
			t.Fatalf("bot member %+v %v", m, err)
		}
		if _, err := send(t, s, c.ID, u1, core.NewID(), "m"); err != nil {
			t.Fatal(err)
		}
		read, unread, err := s.ReadStates(ctx, c.ID, 1, u1)
		if err != nil || len(read) != 0 || len(unread) != 1 || unread[0] != u2 {
			t.Fatalf("read=%v unread=%v err=%v (the bot must be in neither)", read, unread, err)
		}
		// Its own message is not counted out either.
		if _, err := send(t, s, c.ID, bot, core.NewID(), "报修 #1 状态: 已解决"); err != nil {
			t.Fatal(err)
		}
		read, unread, _ = s.ReadStates(ctx, c.ID, 2, bot)
		if len(read) != 0 || len(unread) != 2 {
			t.Fatalf("bot's message: read=%v unread=%v", read, unread)
		}
	})

	t.Run("event log: positions, visibility, prune", func(t *testing.T) {
		s, c := setup(t)
		var all []im.Event
		err := s.InTx(ctx, func(tx im.Tx) error {
			evs, err := tx.Append(ctx,
				im.Event{Type: "a", ConversationID: c.ID},
				im.Event{Type: "p", ConversationID: c.ID, UserID: u1},
				im.Event{Type: "p", ConversationID: c.ID, UserID: u2})
			all = evs
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if all[0].Pos+1 != all[1].Pos || all[1].Pos+1 != all[2].Pos {
			t.Fatalf("positions %d %d %d", all[0].Pos, all[1].Pos, all[2].Pos)
		}
		// u3 joins after those events: they must not see them.
		err = s.InTx(ctx, func(tx im.Tx) error {
			if _, err := tx.AddMember(ctx, im.Member{ConversationID: c.ID, UserID: u3, Role: im.RoleMember}); err != nil {
				return err
			}
			_, err := tx.Append(ctx, im.Event{Type: "b", ConversationID: c.ID})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		types := func(evs []im.Event) string {
			s := ""
			for _, e := range evs {
				s += e.Type
			}
			return s
		}
		for _, tc := range []struct {
			user string
			want string
		}{{u1, "apb"}, {u2, "apb"}, {u3, "b"}} {
			evs, err := s.UserEventsAfter(ctx, tc.user, 0, 100)
			if err != nil || types(evs) != tc.want {
				t.Fatalf("user events %q err=%v, want %q", types(evs), err, tc.want)
			}
		}
		evs, _ := s.UserEventsAfter(ctx, u1, all[1].Pos, 100)
		if types(evs) != "b" {
			t.Fatalf("after pos: %q", types(evs))
		}
		evs, _ = s.EventsAfter(ctx, 0, 2)
		if types(evs) != "ap" {
			t.Fatalf("tailer view %q", types(evs))
		}
		head, pruned, err := s.StreamState(ctx)
		if err != nil || head != all[2].Pos+1 || pruned != 0 {
			t.Fatalf("head=%d pruned=%d err=%v", head, pruned, err)
		}
		n, err := s.PruneEvents(ctx, time.Now().Add(time.Hour))
		if err != nil || n != 4 {
			t.Fatalf("pruned %d err=%v", n, err)
		}
		head2, pruned, _ := s.StreamState(ctx)
		if head2 != head || pruned != head {
			t.Fatalf("after prune head=%d pruned=%d", head2, pruned)
		}
	})

	t.Run("remove member", func(t *testing.T) {
		s, c := setup(t)
		err := s.InTx(ctx, func(tx im.Tx) error { return tx.RemoveMember(ctx, c.ID, u2) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Member(ctx, c.ID, u2); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("removed member: %v", err)
		}
		err = s.InTx(ctx, func(tx im.Tx) error { return tx.RemoveMember(ctx, c.ID, u2) })
		if !core.IsCode(err, core.ENotFound) {
			t.Fatalf("second removal: %v", err)
		}
		got, _ := s.Conversation(ctx, c.ID)
		if got.MemberCount != 1 {
			t.Fatalf("member count %d", got.MemberCount)
		}
	})

	t.Run("dings: recipients, acks, claimed steps", func(t *testing.T) {
		s, c := setup(t)
		m, err := send(t, s, c.ID, u1, "d", "urgent")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Truncate(time.Millisecond)
		d := im.Ding{MessageID: m.ID, ConversationID: c.ID, OrgID: "org", SenderID: u1, CreatedAt: now, NextRemindAt: now.Add(time.Minute),
			Recipients: []im.DingRecipient{{UserID: u2}, {UserID: u3, Via: "on_duty:ward5"}}}
		if err := s.InTx(ctx, func(tx im.Tx) error { return tx.InsertDing(ctx, d) }); err != nil {
			t.Fatal(err)
		}
		if due, err := s.DueDings(ctx, now, 10); err != nil || len(due) != 0 {
			t.Fatalf("due early: %v %v", due, err)
		}
		due, err := s.DueDings(ctx, now.Add(time.Minute), 10)
		if err != nil || len(due) != 1 || len(due[0].Recipients) != 2 {
			t.Fatalf("due: %+v err=%v", due, err)
		}
		if err := s.InTx(ctx, func(tx im.Tx) error { return tx.AckDing(ctx, m.ID, u2, now) }); err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx im.Tx) error { return tx.AckDing(ctx, m.ID, u2, now) })
		if !core.IsCode(err, core.ENotFound) {
			t.Fatalf("second ack: %v", err)
		}
		next := due[0]
		next.Reminders, next.NextRemindAt = 1, now.Add(2*time.Minute)
		for i, want := range []bool{true, false} {
			var claimed bool
			err := s.InTx(ctx, func(tx im.Tx) error {
				var err error
				claimed, err = tx.ClaimDingStep(ctx, due[0], next)
				return err
			})
			if err != nil || claimed != want {
				t.Fatalf("claim %d: %v err=%v", i, claimed, err)
			}
		}
		got, err := s.Ding(ctx, m.ID)
		if err != nil || got.Reminders != 1 || !got.NextRemindAt.Equal(now.Add(2*time.Minute)) || got.Recipients[0].AckedAt.IsZero() && got.Recipients[1].AckedAt.IsZero() {
			t.Fatalf("ding %+v err=%v", got, err)
		}
		if _, err := s.Ding(ctx, core.NewID()); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("missing ding: %v", err)
		}
	})

	t.Run("files: record, usage, delete", func(t *testing.T) {
		s, c := setup(t)
		f := im.File{ID: core.NewID(), ConversationID: c.ID, OrgID: "org", UploaderID: u1, Name: "报告.pdf", ContentType: "application/pdf",
			Size: 1234, SHA256: "ab", Width: 0, HasThumb: false, CreatedAt: time.Now().Truncate(time.Millisecond)}
		img := im.File{ID: core.NewID(), ConversationID: c.ID, OrgID: "org", UploaderID: u1, Name: "x.png", ContentType: "image/png",
			Size: 100, SHA256: "cd", Width: 640, Height: 320, HasThumb: true, CreatedAt: time.Now().Truncate(time.Millisecond)}
		err := s.InTx(ctx, func(tx im.Tx) error {
			if err := tx.InsertFile(ctx, f); err != nil {
				return err
			}
			return tx.InsertFile(ctx, img)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.File(ctx, img.ID)
		if err != nil || got.Name != "x.png" || got.Width != 640 || !got.HasThumb || !got.CreatedAt.Equal(img.CreatedAt) {
			t.Fatalf("file %+v err=%v", got, err)
		}
		if n, err := s.UsedBytes(ctx, u1); err != nil || n != 1334 {
			t.Fatalf("used %d err=%v", n, err)
		}
		if n, _ := s.UsedBytes(ctx, u2); n != 0 {
			t.Fatalf("used by someone else %d", n)
		}
		if err := s.InTx(ctx, func(tx im.Tx) error { return tx.DeleteFile(ctx, f.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.File(ctx, f.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("deleted file: %v", err)
		}
		if n, _ := s.UsedBytes(ctx, u1); n != 100 {
			t.Fatalf("used after delete %d", n)
		}
	})

	t.Run("messages for reindex carry the organisation", func(t *testing.T) {
		s, c := setup(t)
		for i := 0; i < 3; i++ {
			if _, err := send(t, s, c.ID, u1, core.NewID(), "m"); err != nil {
				t.Fatal(err)
			}
		}
		first, err := s.MessagesForIndex(ctx, "", 2)
		if err != nil || len(first) != 2 || first[0].OrgID != "org" || first[0].Message.ID >= first[1].Message.ID {
			t.Fatalf("first page %+v err=%v", first, err)
		}
		rest, err := s.MessagesForIndex(ctx, first[1].Message.ID, 2)
		if err != nil || len(rest) != 1 {
			t.Fatalf("second page %+v err=%v", rest, err)
		}
	})
}
