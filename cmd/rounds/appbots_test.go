package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/marketplace"
	marketplacestore "github.com/roundshq/rounds/marketplace/sqlstore"
	"github.com/roundshq/rounds/plugins/sdk"
)

// TestHelpdeskBotSpeaksInChat runs the real IT 报修 app in a whole node
// (demo hospital, chat, the marketplace's record of installs): its bot is
// named after the app, a group's owner adds it to the IT group over HTTP
// like a member (a plain member may not), the new ticket is posted there,
// and the requester and the engineer hear of the ticket in their direct
// conversations with the bot, every status change included.
func TestHelpdeskBotSpeaksInChat(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s
	ctx := context.Background()

	// The head nurse runs the IT group of her ward and is its engineer here.
	var g struct{ ID string }
	if code := s.do("POST", "/api/v1/im/conversations", f.head, map[string]any{"kind": "group", "name": "信息中心报修", "member_ids": []string{f.nurseID}}, &g); code != 201 {
		t.Fatalf("create group: %d", code)
	}
	// A bot made by an older server, named after the app's id, is renamed
	// when the app starts.
	installID := core.NewID()
	if _, err := s.app.core.identity.CreateUser(ctx, core.SystemActor, identity.NewUser{ID: installID, OrgID: f.org, Login: "app.helpdesk." + installID[:8],
		DisplayName: "helpdesk", Kind: identity.KindBot}); err != nil {
		t.Fatal(err)
	}
	grants := []marketplace.Grant{{Scope: sdk.ScopeIMSend}, {Scope: sdk.ScopeIMDirect}, {Scope: sdk.ScopeHTTPRoutes}}
	startRealAppAs(t, f, installID, "helpdesk", "helpdesk", []string{"manifest.json", "ui/mine.html"}, grants,
		map[string]string{"engineers": f.headID, "it_conversation": g.ID})
	// The marketplace's record, as an admin's install leaves it.
	if err := marketplacestore.New(s.app.db).CreateInstall(ctx, marketplace.Install{ID: installID, OrgID: f.org, AppID: "helpdesk", Enabled: true,
		Current: marketplace.Release{Version: "0.2.0", Manifest: sdk.Manifest{ID: "helpdesk", Name: "IT 报修"}, Grants: grants}, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	var bot struct {
		DisplayName string `json:"display_name"`
		Kind        string `json:"kind"`
	}
	if code := s.do("GET", "/api/v1/users/"+installID, f.nurse, nil, &bot); code != 200 || bot.DisplayName != "IT 报修" || bot.Kind != "bot" {
		t.Fatalf("the bot as the nurse sees it: %d %+v", code, bot)
	}

	// The group's owner finds the bot and adds it; a plain member may not.
	var bots struct {
		Items []struct {
			UserID string `json:"user_id"`
			Name   string `json:"name"`
			Member bool   `json:"member"`
		} `json:"items"`
	}
	if code := s.do("GET", "/api/v1/im/conversations/"+g.ID+"/bots", f.head, nil, &bots); code != 200 || len(bots.Items) != 1 ||
		bots.Items[0].UserID != installID || bots.Items[0].Name != "IT 报修" || bots.Items[0].Member {
		t.Fatalf("bots: %d %+v", code, bots)
	}
	var refusal struct{ Code string }
	if code := s.do("POST", "/api/v1/im/conversations/"+g.ID+"/members", f.nurse, map[string]any{"user_ids": []string{installID}}, &refusal); code != 403 || refusal.Code != "forbidden" {
		t.Fatalf("a plain member adds the bot: %d %+v", code, refusal)
	}
	if code := s.do("POST", "/api/v1/im/conversations/"+g.ID+"/members", f.head, map[string]any{"user_ids": []string{installID}}, nil); code != 204 {
		t.Fatalf("add the bot: %d", code)
	}

	// The nurse files a ticket on the app's page route.
	var tk struct {
		ID         int    `json:"id"`
		AssigneeID string `json:"assignee_id"`
	}
	if code := s.do("POST", "/plugins/helpdesk/tickets", f.nurse, map[string]string{"category": "打印机", "description": "护士站打印机卡纸"}, &tk); code != 201 || tk.AssigneeID != f.headID {
		t.Fatalf("file a ticket: %d %+v", code, tk)
	}
	var group msgList
	s.do("GET", "/api/v1/im/conversations/"+g.ID+"/messages", f.head, nil, &group)
	if len(group.Items) != 1 || group.Items[0].SenderID != installID || !strings.HasPrefix(group.Items[0].Text, "新报修 #1 [打印机] 护士站打印机卡纸") {
		t.Fatalf("the IT group: %+v", group.Items)
	}
	for _, st := range []string{"in_progress", "resolved"} {
		if code := s.do("POST", "/plugins/helpdesk/tickets/1/status", f.head, map[string]string{"status": st}, nil); code != 200 {
			t.Fatalf("%s: %d", st, code)
		}
	}
	direct := func(token string) []string {
		var out []string
		for _, m := range f.inbox(t, token) {
			if strings.Contains(m, "报修 #1") && !strings.Contains(m, "新报修") {
				out = append(out, m)
			}
		}
		return out
	}
	toNurse := direct(f.nurse)
	want := []string{"text: 报修 #1 状态: 已解决，请评价", "text: 报修 #1 状态: 处理中，工程师已接单", "text: 报修 #1 状态: 已分派，工程师将于"} // newest first
	if len(toNurse) != len(want) {
		t.Fatalf("the nurse's messages: %q", toNurse)
	}
	for i := range want {
		if !strings.HasPrefix(toNurse[i], want[i]) {
			t.Fatalf("the nurse's messages: %q", toNurse)
		}
	}
	if toHead := direct(f.head); len(toHead) != 1 || !strings.HasPrefix(toHead[0], "text: 新派单: 报修 #1【打印机】护士站打印机卡纸") {
		t.Fatalf("the engineer's messages: %q", toHead)
	}
	// The nurse's direct conversation with the bot is in her list.
	var convs struct {
		Items []struct {
			ID          string `json:"id"`
			Kind        string `json:"kind"`
			Unread      int    `json:"unread"`
			LastMessage struct {
				SenderID string `json:"sender_id"`
			} `json:"last_message"`
		} `json:"items"`
	}
	s.do("GET", "/api/v1/im/conversations", f.nurse, nil, &convs)
	found := false
	for _, c := range convs.Items {
		if c.Kind == "direct" && c.LastMessage.SenderID == installID {
			found = c.Unread == 3
		}
	}
	if !found {
		t.Fatalf("no direct conversation with 3 unread from the bot: %+v", convs.Items)
	}

	// The app renamed in a new version: the bot follows at its next start.
	runner := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	if err := runner.ensureBot(ctx, marketplace.RunningApp{InstallID: installID, OrgID: f.org, AppID: "helpdesk", AppName: "信息中心报修", BotUserID: installID}); err != nil {
		t.Fatal(err)
	}
	if s.do("GET", "/api/v1/users/"+installID, f.nurse, nil, &bot); bot.DisplayName != "信息中心报修" {
		t.Fatalf("after the rename: %+v", bot)
	}
}
