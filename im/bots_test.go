package im_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

func botActor(u string) core.Actor { return core.Actor{UserID: u, OrgID: "org", Kind: core.ActorBot} }

func memberRoles(t *testing.T, svc *im.Service, u, conv string) map[string]im.Role {
	t.Helper()
	ms, _, err := svc.Members(ctx, actor(u), conv, core.PageRequest{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]im.Role{}
	for _, m := range ms {
		out[m.UserID] = m.Role
	}
	return out
}

// TestAppBotsInGroups: a group's owner and admins add the bot of an app
// their organisation has installed and enabled, like a member, and take it
// out again; nobody else may, and no other account gets in. The bot posts
// there, but it is no reader: receipts, unread lists and urgent messages
// leave it out, and it never manages or owns the group.
func TestAppBotsInGroups(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		clock := imtest.NewClock(time.Now())
		dir := imtest.NewDirectory()
		bots := imtest.NewBots()
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Clock: clock, Directory: dir, Authorizer: imtest.Authorizer{}, Bots: bots},
			im.Config{ReceiptWindow: time.Hour})
		// The bot's id sorts before the people's (ids are time-ordered), so
		// "the first member" would be the bot.
		helpdesk, planner, otherOrgs, stranger := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		owner, admin, nurse, outsider := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		for _, b := range []string{helpdesk, planner, otherOrgs, stranger} {
			dir.Leave(b) // accounts, but not staff
		}
		bots.Install("org", helpdesk, "helpdesk", "IT 报修")
		bots.Install("org", planner, "shift-planner", "智能排班")
		bots.Install("org2", otherOrgs, "helpdesk", "IT 报修")

		g, err := svc.CreateGroup(ctx, actor(owner), "信息中心", []string{admin, nurse})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetRole(ctx, actor(owner), g.ID, admin, im.RoleAdmin); err != nil {
			t.Fatal(err)
		}

		t.Run("the managers see the organisation's app bots", func(t *testing.T) {
			got, err := svc.GroupBots(ctx, actor(admin), g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].UserID != helpdesk || got[0].Name != "IT 报修" || got[0].AppID != "helpdesk" || got[0].Member || got[1].UserID != planner {
				t.Fatalf("bots = %+v", got)
			}
			_, err = svc.GroupBots(ctx, actor(nurse), g.ID)
			wantCode(t, err, core.EForbidden)
			_, err = svc.GroupBots(ctx, actor(outsider), g.ID)
			wantCode(t, err, core.EForbidden)
			d, _ := svc.CreateDirect(ctx, actor(owner), nurse)
			_, err = svc.GroupBots(ctx, actor(owner), d.ID)
			wantCode(t, err, core.EInvalid)
		})

		t.Run("only a manager adds a bot, only an installed app's bot of the organisation gets in", func(t *testing.T) {
			wantCode(t, svc.AddMembers(ctx, actor(nurse), g.ID, []string{helpdesk}), core.EForbidden)
			for _, id := range []string{otherOrgs, stranger} {
				err := svc.AddMembers(ctx, actor(owner), g.ID, []string{id})
				wantCode(t, err, core.EInvalid)
				var e *core.Error
				if !errors.As(err, &e) || e.Field != "user_ids" || e.Details["user_id"] != id {
					t.Fatalf("err = %#v", err)
				}
			}
			// One bad id refuses the whole request.
			wantCode(t, svc.AddMembers(ctx, actor(owner), g.ID, []string{helpdesk, otherOrgs}), core.EInvalid)
			if roles := memberRoles(t, svc, owner, g.ID); len(roles) != 3 {
				t.Fatalf("members after refusals: %v", roles)
			}
			if err := svc.AddMembers(ctx, actor(admin), g.ID, []string{helpdesk}); err != nil {
				t.Fatal(err)
			}
			if roles := memberRoles(t, svc, owner, g.ID); roles[helpdesk] != im.RoleBot || len(roles) != 4 {
				t.Fatalf("members = %v", roles)
			}
			got, _ := svc.GroupBots(ctx, actor(owner), g.ID)
			if !got[0].Member || got[1].Member {
				t.Fatalf("bots = %+v", got)
			}
			// Adding it again changes nothing.
			if err := svc.AddMembers(ctx, actor(owner), g.ID, []string{helpdesk}); err != nil {
				t.Fatal(err)
			}
			if c, _ := svc.Conversation(ctx, actor(owner), g.ID); c.MemberCount != 4 {
				t.Fatalf("member count %d", c.MemberCount)
			}
		})

		t.Run("the bot posts and the members get it; it is in no receipt", func(t *testing.T) {
			head, _ := svc.Head(ctx)
			bm, err := svc.Send(ctx, botActor(helpdesk), im.SendRequest{ConversationID: g.ID, ClientMsgID: core.NewID(), Text: "新报修 #1 [打印机] 卡纸"})
			if err != nil {
				t.Fatal(err)
			}
			evs, _, _ := svc.EventsSince(ctx, actor(nurse), head, 100)
			if len(evs) == 0 || evs[len(evs)-1].Type != im.EvMessagePosted {
				t.Fatalf("nurse's events %+v", evs)
			}
			if v, _ := svc.Conversation(ctx, actor(nurse), g.ID); v.Unread != 1 {
				t.Fatalf("nurse's unread %d", v.Unread)
			}
			rc, err := svc.Receipt(ctx, actor(owner), bm.ID)
			if err != nil || rc.ReadCount != 0 || len(rc.Unread) != 3 {
				t.Fatalf("receipt of the bot's message %+v %v", rc, err)
			}
			m := send(t, svc, nurse, g.ID, "谢谢")
			if _, err := svc.MarkRead(ctx, actor(owner), g.ID, m.Seq); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.MarkRead(ctx, actor(admin), g.ID, m.Seq); err != nil {
				t.Fatal(err)
			}
			rc, err = svc.Receipt(ctx, actor(nurse), m.ID)
			if err != nil || rc.ReadCount != 2 || len(rc.Unread) != 0 {
				t.Fatalf("receipt %+v %v: the bot never reads and must not count as unread", rc, err)
			}
			for _, id := range append(rc.Read, rc.Unread...) {
				if id == helpdesk {
					t.Fatal("the bot is in the receipt")
				}
			}
		})

		t.Run("urgent to everyone leaves the bot out", func(t *testing.T) {
			m, err := svc.Send(ctx, actor(owner), im.SendRequest{ConversationID: g.ID, ClientMsgID: core.NewID(), Text: "HIS 停机",
				Ding: &im.DingRequest{UserIDs: []string{admin, nurse, helpdesk}}})
			if err != nil {
				t.Fatal(err)
			}
			d, err := svc.DingStatus(ctx, actor(owner), m.ID)
			if err != nil || len(d.Recipients) != 2 {
				t.Fatalf("recipients %+v %v", d.Recipients, err)
			}
			_, err = svc.Send(ctx, actor(owner), im.SendRequest{ConversationID: g.ID, ClientMsgID: core.NewID(), Text: "x",
				Ding: &im.DingRequest{UserIDs: []string{helpdesk}}})
			wantCode(t, err, core.EInvalid)
		})

		t.Run("a bot takes no role and never inherits the group", func(t *testing.T) {
			wantCode(t, svc.SetRole(ctx, actor(owner), g.ID, helpdesk, im.RoleAdmin), core.EInvalid)
			wantCode(t, svc.SetRole(ctx, actor(owner), g.ID, helpdesk, im.RoleOwner), core.EInvalid)
			small, err := svc.CreateGroup(ctx, actor(owner), "小组", []string{nurse})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.AddMembers(ctx, actor(owner), small.ID, []string{planner}); err != nil {
				t.Fatal(err)
			}
			if err := svc.Leave(ctx, actor(owner), small.ID); err != nil {
				t.Fatal(err)
			}
			if roles := memberRoles(t, svc, nurse, small.ID); roles[nurse] != im.RoleOwner || roles[planner] != im.RoleBot {
				t.Fatalf("after the owner left: %v", roles)
			}
		})

		t.Run("a manager takes the bot out; it can post there no more", func(t *testing.T) {
			wantCode(t, svc.RemoveMember(ctx, actor(nurse), g.ID, helpdesk), core.EForbidden)
			if err := svc.RemoveMember(ctx, actor(admin), g.ID, helpdesk); err != nil {
				t.Fatal(err)
			}
			_, err := svc.Send(ctx, botActor(helpdesk), im.SendRequest{ConversationID: g.ID, ClientMsgID: core.NewID(), Text: "x"})
			wantCode(t, err, core.EForbidden)
			// An app disabled since is not added again.
			bots.Remove(helpdesk)
			wantCode(t, svc.AddMembers(ctx, actor(owner), g.ID, []string{helpdesk}), core.EInvalid)
		})

		t.Run("a bot's direct conversation: the bot is no reader there either", func(t *testing.T) {
			d, err := svc.CreateDirect(ctx, botActor(planner), nurse)
			if err != nil {
				t.Fatal(err)
			}
			if roles := memberRoles(t, svc, nurse, d.ID); roles[planner] != im.RoleBot || roles[nurse] != im.RoleMember {
				t.Fatalf("roles %v", roles)
			}
			if _, err := svc.Send(ctx, botActor(planner), im.SendRequest{ConversationID: d.ID, ClientMsgID: core.NewID(), Text: "12 月排班草稿已生成"}); err != nil {
				t.Fatal(err)
			}
			if v, _ := svc.Conversation(ctx, actor(nurse), d.ID); v.Unread != 1 {
				t.Fatalf("nurse's unread %d", v.Unread)
			}
			m := send(t, svc, nurse, d.ID, "收到")
			rc, err := svc.Receipt(ctx, actor(nurse), m.ID)
			if err != nil || len(rc.Read) != 0 || len(rc.Unread) != 0 {
				t.Fatalf("receipt %+v %v", rc, err)
			}
		})
	})
}

// TestAppBotsAreAnnounced: adding a bot is a members.added event like adding
// a person, so every member's client shows it at once.
func TestAppBotsAreAnnounced(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		dir := imtest.NewDirectory()
		bots := imtest.NewBots()
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Directory: dir, Bots: bots}, im.Config{})
		bot, owner, nurse := core.NewID(), core.NewID(), core.NewID()
		dir.Leave(bot)
		bots.Install("org", bot, "daily-report", "日报")
		g, err := svc.CreateGroup(ctx, actor(owner), "心内科", []string{nurse})
		if err != nil {
			t.Fatal(err)
		}
		head, _ := svc.Head(ctx)
		if err := svc.AddMembers(ctx, actor(owner), g.ID, []string{bot}); err != nil {
			t.Fatal(err)
		}
		evs, _, _ := svc.EventsSince(ctx, actor(nurse), head, 100)
		if len(evs) != 1 || evs[0].Type != im.EvMembersAdded {
			t.Fatalf("events %+v", evs)
		}
		var mc im.MembersChange
		_ = json.Unmarshal(evs[0].Data, &mc)
		if len(mc.UserIDs) != 1 || mc.UserIDs[0] != bot || mc.ByUserID != owner {
			t.Fatalf("change %+v", mc)
		}
	})
}
