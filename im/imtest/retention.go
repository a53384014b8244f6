package imtest

import (
	"context"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
)

// RunRetention is the contract suite for the im.RetentionStore methods of a
// store. newStore returns an empty, migrated store that implements both
// im.Store and im.RetentionStore.
func RunRetention(t *testing.T, newStore func(t *testing.T) im.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := time.Now().Truncate(time.Millisecond)

	open := func(t *testing.T) (im.Store, im.RetentionStore) {
		s := newStore(t)
		rs, ok := s.(im.RetentionStore)
		if !ok {
			t.Fatalf("%T does not implement im.RetentionStore", s)
		}
		return s, rs
	}
	// conv creates a group of org with members.
	conv := func(t *testing.T, s im.Store, org string, members ...string) im.Conversation {
		t.Helper()
		c := im.Conversation{ID: core.NewID(), OrgID: org, Kind: im.Group, Name: "g", CreatedAt: now.Add(-100 * day), UpdatedAt: now}
		err := s.InTx(ctx, func(tx im.Tx) error {
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			for _, u := range members {
				if _, err := tx.AddMember(ctx, im.Member{ConversationID: c.ID, UserID: u, Role: im.RoleMember}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// post inserts a message created at, with an optional file and reply.
	post := func(t *testing.T, s im.Store, c im.Conversation, sender, text string, at time.Time, withFile bool, replyTo *im.Message) (im.Message, *im.File) {
		t.Helper()
		var m im.Message
		var f *im.File
		err := s.InTx(ctx, func(tx im.Tx) error {
			seq, err := tx.NextSeq(ctx, c.ID)
			if err != nil {
				return err
			}
			m = im.Message{ID: core.NewID(), ConversationID: c.ID, Seq: seq, SenderID: sender, ClientMsgID: core.NewID(), Kind: im.KindText, Text: text, CreatedAt: at}
			if withFile {
				f = &im.File{ID: core.NewID(), ConversationID: c.ID, OrgID: c.OrgID, UploaderID: sender, Name: "ecg.pdf", ContentType: "application/pdf", Size: 10, SHA256: "ab", CreatedAt: at}
				if err := tx.InsertFile(ctx, *f); err != nil {
					return err
				}
				m.Kind, m.FileID = im.KindFile, f.ID
			}
			if replyTo != nil {
				m.ReplyToID, m.ReplyQuote = replyTo.ID, replyTo.Text
			}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			_, err = tx.SetReaction(ctx, m.ID, sender, "👍", true)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m, f
	}

	// purge purges org's conversations one batch of up to limit each, as
	// the service does on one pass.
	purge := func(t *testing.T, rs im.RetentionStore, org string, cutoff time.Time, limit int) im.PurgeResult {
		t.Helper()
		var all im.PurgeResult
		convs, err := rs.ExpiredConversations(ctx, org, cutoff, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			res, err := rs.PurgeMessages(ctx, c, cutoff, now, 0, limit)
			if err != nil {
				t.Fatal(err)
			}
			all.MessageIDs = append(all.MessageIDs, res.MessageIDs...)
			all.Files = append(all.Files, res.Files...)
		}
		return all
	}

	t.Run("policy round trip", func(t *testing.T) {
		_, rs := open(t)
		p, err := rs.RetentionPolicy(ctx, "org")
		if err != nil || !p.Forever() || p.OrgID != "org" || !p.UpdatedAt.IsZero() {
			t.Fatalf("default policy %+v err=%v", p, err)
		}
		for _, want := range []im.RetentionPolicy{
			{OrgID: "org", MessageDays: 180, FileDays: 30, UpdatedAt: now, UpdatedBy: "admin"},
			{OrgID: "org", MessageDays: 365, FileDays: 0, UpdatedAt: now.Add(time.Hour), UpdatedBy: "admin2"},
		} {
			if err := rs.SetRetentionPolicy(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := rs.RetentionPolicy(ctx, "org")
			if err != nil || got.MessageDays != want.MessageDays || got.FileDays != want.FileDays || !got.UpdatedAt.Equal(want.UpdatedAt) || got.UpdatedBy != want.UpdatedBy {
				t.Fatalf("got %+v want %+v err=%v", got, want, err)
			}
		}
		if err := rs.SetRetentionPolicy(ctx, im.RetentionPolicy{OrgID: "forever-org", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		ps, err := rs.RetentionPolicies(ctx)
		if err != nil || len(ps) != 1 || ps[0].OrgID != "org" {
			t.Fatalf("policies that purge: %+v err=%v", ps, err)
		}
	})

	t.Run("holds place, list and release", func(t *testing.T) {
		_, rs := open(t)
		h1 := im.LegalHold{ID: core.NewID(), OrgID: "org", ConversationID: core.NewID(), Reason: "医疗纠纷", CaseNumber: "2026-17", PlacedBy: "a", PlacedAt: now}
		h2 := im.LegalHold{ID: core.NewID(), OrgID: "org", UserID: core.NewID(), Reason: "inquiry", CaseNumber: "C-2", PlacedBy: "a", PlacedAt: now.Add(time.Minute)}
		other := im.LegalHold{ID: core.NewID(), OrgID: "other", UserID: core.NewID(), Reason: "r", CaseNumber: "c", PlacedAt: now}
		for _, h := range []im.LegalHold{h1, h2, other} {
			if err := rs.PlaceHold(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		hs, err := rs.Holds(ctx, "org", false)
		if err != nil || len(hs) != 2 || hs[0].ID != h2.ID || hs[1].ID != h1.ID || hs[1].Reason != "医疗纠纷" || !hs[1].Active() {
			t.Fatalf("holds %+v err=%v", hs, err)
		}
		rel, err := rs.ReleaseHold(ctx, h1.ID, "b", now.Add(time.Hour))
		if err != nil || rel.Active() || rel.ReleasedBy != "b" || !rel.ReleasedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("release %+v err=%v", rel, err)
		}
		if _, err := rs.ReleaseHold(ctx, h1.ID, "b", now); !core.IsCode(err, core.EConflict) {
			t.Fatalf("second release: %v", err)
		}
		if _, err := rs.ReleaseHold(ctx, core.NewID(), "b", now); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("release of a missing hold: %v", err)
		}
		if _, err := rs.Hold(ctx, core.NewID()); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("missing hold: %v", err)
		}
		if hs, _ := rs.Holds(ctx, "org", false); len(hs) != 1 || hs[0].ID != h2.ID {
			t.Fatalf("active after release %+v", hs)
		}
		if hs, _ := rs.Holds(ctx, "org", true); len(hs) != 2 {
			t.Fatalf("all holds %+v", hs)
		}
	})

	t.Run("purge blanks old unheld messages and keeps seqs", func(t *testing.T) {
		s, rs := open(t)
		u1, u2, held, heldSender := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		plain := conv(t, s, "org", u1, u2)
		heldConv := conv(t, s, "org", u1, u2)
		withHeldMember := conv(t, s, "org", u1, held)
		otherOrg := conv(t, s, "other", u1, u2)
		old, recent := now.Add(-40*day), now.Add(-time.Hour)

		m1, f1 := post(t, s, plain, u1, "old with file", old, true, nil)
		m2, _ := post(t, s, plain, u2, "recent reply", recent, false, &m1)
		m3, _ := post(t, s, plain, heldSender, "old from a held sender", old, false, nil)
		h1, _ := post(t, s, heldConv, u1, "held conversation", old, false, nil)
		h2, _ := post(t, s, withHeldMember, u1, "received by a held person", old, false, nil)
		o1, _ := post(t, s, otherOrg, u1, "other organisation", old, false, nil)
		for _, h := range []im.LegalHold{
			{ID: core.NewID(), OrgID: "org", ConversationID: heldConv.ID, Reason: "r", CaseNumber: "c", PlacedAt: now},
			{ID: core.NewID(), OrgID: "org", UserID: held, Reason: "r", CaseNumber: "c", PlacedAt: now},
			{ID: core.NewID(), OrgID: "org", UserID: heldSender, Reason: "r", CaseNumber: "c", PlacedAt: now},
			// A released hold and another organisation's hold protect nothing here.
			{ID: core.NewID(), OrgID: "other", ConversationID: plain.ID, Reason: "r", CaseNumber: "c", PlacedAt: now},
		} {
			if err := rs.PlaceHold(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		convs, err := rs.ExpiredConversations(ctx, "org", now.Add(-30*day), "", 100)
		if err != nil || len(convs) != 1 || convs[0] != plain.ID {
			t.Fatalf("conversations to purge %v, want only %s (the others are held or foreign) err=%v", convs, plain.ID, err)
		}
		if convs, _ := rs.ExpiredConversations(ctx, "org", now.Add(-200*day), "", 100); len(convs) != 0 {
			t.Fatalf("conversations created after the cutoff listed: %v", convs)
		}
		res := purge(t, rs, "org", now.Add(-30*day), 100)
		if len(res.MessageIDs) != 1 || res.MessageIDs[0] != m1.ID || len(res.Files) != 1 || res.Files[0].ID != f1.ID || res.Files[0].Name != "ecg.pdf" {
			t.Fatalf("purged %+v", res)
		}
		got, _ := s.Message(ctx, m1.ID)
		if !got.Purged() || got.Text != "" || got.FileID != "" || len(got.Reactions) != 0 || got.Seq != 1 || !got.RecalledAt.Equal(now) {
			t.Fatalf("purged message %+v", got)
		}
		if _, err := s.File(ctx, f1.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("purged file record: %v", err)
		}
		reply, _ := s.Message(ctx, m2.ID)
		if reply.Text != "recent reply" || reply.ReplyQuote != "" || reply.Seq != 2 || len(reply.Reactions) != 1 {
			t.Fatalf("recent reply %+v (quote of a purged message must go, the reply stays)", reply)
		}
		for _, m := range []im.Message{m3, h1, h2, o1} {
			if got, _ := s.Message(ctx, m.ID); got.Recalled() || got.Text != m.Text {
				t.Fatalf("held or foreign message was purged: %+v", got)
			}
		}
		if res := purge(t, rs, "org", now.Add(-30*day), 100); len(res.MessageIDs) != 0 {
			t.Fatalf("second purge %+v", res)
		}
		// Purging a held conversation directly still skips it: the hold
		// is checked again in the purging transaction.
		if res, err := rs.PurgeMessages(ctx, heldConv.ID, now.Add(-30*day), now, 0, 100); err != nil || len(res.MessageIDs) != 0 {
			t.Fatalf("held conversation purged %+v err=%v", res, err)
		}
		// Released holds protect no longer.
		hs, _ := rs.Holds(ctx, "org", false)
		for _, h := range hs {
			if _, err := rs.ReleaseHold(ctx, h.ID, "a", now); err != nil {
				t.Fatal(err)
			}
		}
		if res := purge(t, rs, "org", now.Add(-30*day), 100); len(res.MessageIDs) != 3 {
			t.Fatalf("after release: %+v", res)
		}
		if got, _ := s.Message(ctx, o1.ID); got.Recalled() {
			t.Fatal("another organisation's message was purged")
		}
	})

	t.Run("purge walks a conversation by seq from a cursor", func(t *testing.T) {
		s, rs := open(t)
		u1, heldSender := core.NewID(), core.NewID()
		c := conv(t, s, "org", u1)
		old := now.Add(-40 * day)
		var want []string
		for i := 0; i < 5; i++ {
			m, _ := post(t, s, c, u1, "m", old, false, nil)
			want = append(want, m.ID)
			if i == 1 {
				post(t, s, c, heldSender, "held sender", old, false, nil) // seq 3
			}
		}
		post(t, s, c, u1, "recent", now, false, nil)
		if err := rs.PlaceHold(ctx, im.LegalHold{ID: core.NewID(), OrgID: "org", UserID: heldSender, Reason: "r", CaseNumber: "c", PlacedAt: now}); err != nil {
			t.Fatal(err)
		}
		var got []string
		var seqs []int64
		var after int64
		for {
			res, err := rs.PurgeMessages(ctx, c.ID, now.Add(-30*day), now, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, res.MessageIDs...)
			if len(res.MessageIDs) < 2 {
				break
			}
			after = res.LastSeq
			seqs = append(seqs, after)
		}
		if len(got) != 5 || got[0] != want[0] || got[4] != want[4] {
			t.Fatalf("purged %v, want %v", got, want)
		}
		if len(seqs) != 2 || seqs[0] != 2 || seqs[1] != 5 {
			t.Fatalf("cursors %v, want [2 5] (seq 3 is the held sender's)", seqs)
		}
	})

	t.Run("purge files keeps the message text", func(t *testing.T) {
		s, rs := open(t)
		u1, held := core.NewID(), core.NewID()
		c := conv(t, s, "org", u1)
		hc := conv(t, s, "org", u1, held)
		m, f := post(t, s, c, u1, "caption", now.Add(-10*day), true, nil)
		_, fNew := post(t, s, c, u1, "new", now, true, nil)
		_, fHeld := post(t, s, hc, u1, "held", now.Add(-10*day), true, nil)
		if err := rs.PlaceHold(ctx, im.LegalHold{ID: core.NewID(), OrgID: "org", UserID: held, Reason: "r", CaseNumber: "c", PlacedAt: now}); err != nil {
			t.Fatal(err)
		}
		fs, err := rs.PurgeFiles(ctx, "org", now.Add(-7*day), 100)
		if err != nil || len(fs) != 1 || fs[0].ID != f.ID {
			t.Fatalf("purged files %+v err=%v", fs, err)
		}
		got, _ := s.Message(ctx, m.ID)
		if got.FileID != "" || got.Text != "caption" || got.Recalled() {
			t.Fatalf("message after its file expired %+v", got)
		}
		for _, id := range []string{fNew.ID, fHeld.ID} {
			if _, err := s.File(ctx, id); err != nil {
				t.Fatalf("kept file %s: %v", id, err)
			}
		}
	})

	t.Run("export pages", func(t *testing.T) {
		s, rs := open(t)
		me, peer, stranger := core.NewID(), core.NewID(), core.NewID()
		mine := conv(t, s, "org", me, peer)
		notMine := conv(t, s, "org", peer, stranger)
		foreign := conv(t, s, "other", me, peer)
		var want []string
		for i := 0; i < 5; i++ {
			m, _ := post(t, s, mine, []string{me, peer}[i%2], "m", now.Add(time.Duration(i)*time.Minute), false, nil)
			want = append(want, m.ID)
		}
		// Sent by me into a conversation I am no longer a member of: still mine.
		left, _ := post(t, s, notMine, me, "sent before leaving", now.Add(10*time.Minute), false, nil)
		want = append(want, left.ID)
		post(t, s, notMine, peer, "not mine", now, false, nil)
		post(t, s, foreign, me, "other organisation", now, false, nil)

		var got []string
		after := ""
		for {
			page, err := rs.PersonMessages(ctx, "org", me, time.Time{}, time.Time{}, after, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				got = append(got, m.ID)
				if len(m.Reactions) != 1 {
					t.Fatalf("reactions not filled: %+v", m)
				}
			}
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1].ID
		}
		if len(got) != len(want) {
			t.Fatalf("person export %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("person export %v, want %v", got, want)
			}
		}
		page, err := rs.PersonMessages(ctx, "org", me, now.Add(time.Minute), now.Add(3*time.Minute), "", 100)
		if err != nil || len(page) != 2 || page[0].ID != want[1] || page[1].ID != want[2] {
			t.Fatalf("date range [1m, 3m): %+v err=%v", page, err)
		}
		cm, err := rs.ConversationMessages(ctx, mine.ID, time.Time{}, time.Time{}, 2, 2)
		if err != nil || len(cm) != 2 || cm[0].Seq != 3 || cm[1].Seq != 4 {
			t.Fatalf("conversation page after seq 2: %+v err=%v", cm, err)
		}
		cm, err = rs.ConversationMessages(ctx, mine.ID, now.Add(4*time.Minute), time.Time{}, 0, 100)
		if err != nil || len(cm) != 1 || cm[0].Seq != 5 {
			t.Fatalf("conversation from 4m: %+v err=%v", cm, err)
		}
	})
}
