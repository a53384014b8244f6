package im_test

import (
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
)

func TestCardsComeFromBotsOnly(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		bot, nurse := core.NewID(), core.NewID()
		botActor := core.Actor{UserID: bot, OrgID: "org", Kind: core.ActorBot}
		c, err := e.svc.CreateDirect(ctx, botActor, nurse)
		if err != nil {
			t.Fatal(err)
		}
		card := `{"type":"approval","request_id":"r1","summary":"请假申请 · 待你审批"}`
		m, err := e.svc.Send(ctx, botActor, im.SendRequest{ConversationID: c.ID, ClientMsgID: "approval:r1:task", Kind: im.KindCard, Text: card})
		if err != nil || m.Kind != im.KindCard || m.Text != card {
			t.Fatalf("bot card: %+v %v", m, err)
		}
		again, err := e.svc.Send(ctx, botActor, im.SendRequest{ConversationID: c.ID, ClientMsgID: "approval:r1:task", Kind: im.KindCard, Text: card})
		if err != nil || again.ID != m.ID {
			t.Fatalf("a re-sent notice must not post twice: %+v %v", again, err)
		}
		_, err = e.svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: c.ID, ClientMsgID: core.NewID(), Kind: im.KindCard, Text: card})
		wantCode(t, err, core.EForbidden)
		for _, bad := range []string{"", "not json", `{"request_id":"r1"}`, `["type"]`} {
			_, err = e.svc.Send(ctx, botActor, im.SendRequest{ConversationID: c.ID, ClientMsgID: core.NewID(), Kind: im.KindCard, Text: bad})
			wantCode(t, err, core.EInvalid)
		}
		_, err = e.svc.Edit(ctx, botActor, m.ID, `{"type":"x"}`)
		wantCode(t, err, core.EInvalid)
	})
}
