package imhttp_test

import (
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

// TestGroupBotsOverHTTP: the owner lists the organisation's app bots, adds
// one like a member (POST …/members), sees it as a bot in the member list,
// and takes it out again; a plain member and bad ids are refused with a
// stable code and change nothing.
func TestGroupBotsOverHTTP(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		dir := imtest.NewDirectory()
		bots := imtest.NewBots()
		a := newAPIWith(t, im.NewService(im.Deps{Store: sqlstore.New(db), Directory: dir, Bots: bots}, im.Config{}))
		helpdesk, foreign, owner, nurse := core.NewID(), core.NewID(), core.NewID(), core.NewID()
		dir.Leave(helpdesk)
		dir.Leave(foreign)
		bots.Install("org", helpdesk, "helpdesk", "IT 报修")
		bots.Install("org2", foreign, "helpdesk", "IT 报修")

		var g im.Conversation
		if code := a.do(owner, "POST", "/api/v1/im/conversations", map[string]any{"kind": "group", "name": "信息中心", "member_ids": []string{nurse}}, &g); code != 201 {
			t.Fatalf("create group: %d", code)
		}
		path := "/api/v1/im/conversations/" + g.ID
		var list httpapi.List[im.GroupBot]
		if code := a.do(owner, "GET", path+"/bots", nil, &list); code != 200 || len(list.Items) != 1 ||
			list.Items[0].UserID != helpdesk || list.Items[0].Name != "IT 报修" || list.Items[0].Member {
			t.Fatalf("bots: %d %+v", code, list)
		}

		var e struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		}
		if code := a.do(nurse, "GET", path+"/bots", nil, &e); code != 403 || e.Code != "forbidden" {
			t.Fatalf("a plain member lists bots: %d %+v", code, e)
		}
		if code := a.do(nurse, "POST", path+"/members", map[string]any{"user_ids": []string{helpdesk}}, &e); code != 403 || e.Code != "forbidden" {
			t.Fatalf("a plain member adds a bot: %d %+v", code, e)
		}
		if code := a.do(owner, "POST", path+"/members", map[string]any{"user_ids": []string{foreign}}, &e); code != 400 || e.Code != "invalid" ||
			e.Details["field"] != "user_ids" || e.Details["user_id"] != foreign {
			t.Fatalf("another hospital's bot: %d %+v", code, e)
		}
		var ms httpapi.List[im.Member]
		if a.do(owner, "GET", path+"/members", nil, &ms); len(ms.Items) != 2 {
			t.Fatalf("members after refusals: %+v", ms.Items)
		}

		if code := a.do(owner, "POST", path+"/members", map[string]any{"user_ids": []string{helpdesk}}, nil); code != 204 {
			t.Fatalf("add the bot: %d", code)
		}
		ms = httpapi.List[im.Member]{}
		a.do(nurse, "GET", path+"/members", nil, &ms)
		roles := map[string]im.Role{}
		for _, m := range ms.Items {
			roles[m.UserID] = m.Role
		}
		if len(roles) != 3 || roles[helpdesk] != im.RoleBot {
			t.Fatalf("members: %+v", ms.Items)
		}
		list = httpapi.List[im.GroupBot]{}
		if a.do(owner, "GET", path+"/bots", nil, &list); len(list.Items) != 1 || !list.Items[0].Member {
			t.Fatalf("bots after adding: %+v", list)
		}
		if code := a.do(owner, "PUT", path+"/members/"+helpdesk+"/role", map[string]any{"role": "admin"}, &e); code != 400 || e.Code != "invalid" || e.Details["field"] != "user_id" {
			t.Fatalf("make the bot an admin: %d %+v", code, e)
		}
		if code := a.do(owner, "DELETE", path+"/members/"+helpdesk, nil, nil); code != 204 {
			t.Fatalf("remove the bot: %d", code)
		}
		ms = httpapi.List[im.Member]{}
		if a.do(owner, "GET", path+"/members", nil, &ms); len(ms.Items) != 2 {
			t.Fatalf("members after removing: %+v", ms.Items)
		}
	})
}
