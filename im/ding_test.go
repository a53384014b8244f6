package im_test

import (
	"context"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

type onDuty map[string][]string

func (o onDuty) OnDuty(_ context.Context, _, target string, _ time.Time) ([]string, error) {
	return o[target], nil
}

type managers map[string]string

func (m managers) ManagerOf(_ context.Context, _, userID string, _ int) ([]string, error) {
	if h, ok := m[userID]; ok {
		return []string{h}, nil
	}
	return nil, nil
}

func eventTypes(t *testing.T, svc *im.Service, user string, since int64) []string {
	t.Helper()
	evs, _, err := svc.EventsSince(ctx, actor(user), since, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

func TestUrgentMessages(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		sender, nurse, oncall, head, outsider := core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID()
		clock := imtest.NewClock(time.Now())
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Clock: clock, OnDuty: onDuty{"ward5": {oncall}}, Managers: managers{sender: head}},
			im.Config{DingRemindEvery: 5 * time.Minute, MaxDingReminders: 2})
		g, err := svc.CreateGroup(ctx, actor(sender), "急诊", []string{nurse})
		if err != nil {
			t.Fatal(err)
		}
		start, _ := svc.Head(ctx)

		_, err = svc.Send(ctx, actor(sender), im.SendRequest{ConversationID: g.ID, ClientMsgID: "d0", Text: "!", Ding: &im.DingRequest{UserIDs: []string{outsider}}})
		wantCode(t, err, core.EInvalid) // named recipients must be members
		_, err = svc.Send(ctx, actor(sender), im.SendRequest{ConversationID: g.ID, ClientMsgID: "d0", Text: "!", Ding: &im.DingRequest{OnDuty: []string{"ward9"}}})
		wantCode(t, err, core.EInvalid) // nobody on duty

		m, err := svc.Send(ctx, actor(sender), im.SendRequest{ConversationID: g.ID, ClientMsgID: "d1", Text: "5床病人血压下降，速来", Ding: &im.DingRequest{UserIDs: []string{nurse}, OnDuty: []string{"ward5"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Urgent {
			t.Fatal("message not marked urgent")
		}
		// The on-call doctor is not a member but gets the ding with the message.
		if got := eventTypes(t, svc, oncall, start); count(got, im.EvDing) != 1 || count(got, im.EvMessagePosted) != 0 {
			t.Fatalf("on-call doctor's events %v", got)
		}
		if got := eventTypes(t, svc, nurse, start); count(got, im.EvDing) != 1 {
			t.Fatalf("nurse's events %v", got)
		}

		_, err = svc.AckDing(ctx, actor(outsider), m.ID)
		wantCode(t, err, core.EForbidden)
		clock.Advance(time.Minute)
		rec, err := svc.AckDing(ctx, actor(nurse), m.ID)
		if err != nil || rec.AckedAt.IsZero() {
			t.Fatalf("ack %+v err=%v", rec, err)
		}
		if _, err := svc.AckDing(ctx, actor(nurse), m.ID); err != nil {
			t.Fatalf("second ack: %v", err)
		}
		if got := eventTypes(t, svc, sender, start); count(got, im.EvDingAck) != 1 {
			t.Fatalf("sender's events %v", got)
		}
		st, err := svc.DingStatus(ctx, actor(sender), m.ID)
		if err != nil || len(st.Recipients) != 2 {
			t.Fatalf("status %+v err=%v", st, err)
		}
		for _, r := range st.Recipients {
			switch r.UserID {
			case nurse:
				if !r.AckedAt.Equal(rec.AckedAt.Truncate(time.Millisecond)) {
					t.Fatalf("nurse acked at %v, want %v", r.AckedAt, rec.AckedAt)
				}
			case oncall:
				if !r.AckedAt.IsZero() || r.Via != "on_duty:ward5" {
					t.Fatalf("on-call %+v", r)
				}
			}
		}
		_, err = svc.DingStatus(ctx, actor(outsider), m.ID)
		wantCode(t, err, core.ENotFound)

		// Not due yet.
		if n, _ := svc.RemindDings(ctx); n != 0 {
			t.Fatalf("early reminders %d", n)
		}
		for i := 1; i <= 2; i++ {
			clock.Advance(5 * time.Minute)
			n, err := svc.RemindDings(ctx)
			if err != nil || n != 1 {
				t.Fatalf("reminder %d: sent %d err=%v", i, n, err)
			}
			if n, _ := svc.RemindDings(ctx); n != 0 {
				t.Fatalf("reminder %d went out twice", i)
			}
		}
		if got := eventTypes(t, svc, oncall, start); count(got, im.EvDingReminder) != 2 {
			t.Fatalf("on-call reminders %v", got)
		}
		if got := eventTypes(t, svc, nurse, start); count(got, im.EvDingReminder) != 0 {
			t.Fatalf("the nurse acknowledged but was reminded: %v", got)
		}
		clock.Advance(5 * time.Minute)
		if n, err := svc.RemindDings(ctx); err != nil || n != 2 {
			t.Fatalf("escalation sent %d err=%v", n, err)
		}
		if got := eventTypes(t, svc, head, start); count(got, im.EvDingEscalated) != 1 {
			t.Fatalf("head's events %v", got)
		}
		st, _ = svc.DingStatus(ctx, actor(sender), m.ID)
		if st.EscalatedTo != head || !st.NextRemindAt.IsZero() {
			t.Fatalf("after escalation %+v", st)
		}
		clock.Advance(time.Hour)
		if n, _ := svc.RemindDings(ctx); n != 0 {
			t.Fatalf("reminders after escalation: %d", n)
		}
	})
}
