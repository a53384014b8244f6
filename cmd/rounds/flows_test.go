package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/config"
	"github.com/roundshq/rounds/roster"
)

// demoFixture signs in the demo's head nurse, nurse and admin of jcyy.
type demoFixture struct {
	s                  *testServer
	admin, head, nurse string // tokens
	org, ward, nurseID string
	headID             string
}

func newDemoFixture(t *testing.T, mutate ...func(*config.Config)) *demoFixture {
	s := startServer(t, mutate...)
	logins, err := s.app.LoadDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := &demoFixture{s: s}
	signIn := func(login string) (string, string, string) {
		var ok struct {
			Token string `json:"token"`
			User  struct {
				ID    string `json:"id"`
				OrgID string `json:"org_id"`
			} `json:"user"`
		}
		if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": login, "password": demoPassword}, &ok); code != 201 {
			t.Fatalf("sign in %s: %d", login, code)
		}
		return ok.Token, ok.User.ID, ok.User.OrgID
	}
	f.admin, _, f.org = signIn(logins[0].Login)
	f.head, f.headID, _ = signIn(logins[2].Login)
	f.nurse, f.nurseID, _ = signIn(logins[4].Login)
	p, err := s.app.areas.org.Person(context.Background(), f.org, f.headID)
	if err != nil {
		t.Fatal(err)
	}
	f.ward = p.PrimaryDepartmentID
	return f
}

type convList struct {
	Items []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"items"`
}

type msgList struct {
	Items []struct {
		Kind     string `json:"kind"`
		Text     string `json:"text"`
		SenderID string `json:"sender_id"`
	} `json:"items"`
}

// inbox returns every message the user can see in their direct
// conversations.
func (f *demoFixture) inbox(t *testing.T, token string) []string {
	var convs convList
	if code := f.s.do("GET", "/api/v1/im/conversations", token, nil, &convs); code != 200 {
		t.Fatalf("conversations: %d", code)
	}
	var out []string
	for _, c := range convs.Items {
		var ms msgList
		f.s.do("GET", "/api/v1/im/conversations/"+c.ID+"/messages", token, nil, &ms)
		for _, m := range ms.Items {
			out = append(out, m.Kind+": "+m.Text)
		}
	}
	return out
}

// TestPublishingARosterTellsStaffInChat: the head nurse publishes her ward's
// roster; the nurse finds her own shifts in a message from the roster
// assistant; an amendment with a reason tells only the people it moves.
func TestPublishingARosterTellsStaffInChat(t *testing.T) {
	f := newDemoFixture(t)
	s := f.s
	var shifts struct {
		Items []struct{ ID, Code string } `json:"items"`
	}
	if code := s.do("POST", "/api/v1/orgs/"+f.org+"/shift-patterns/three_shift", f.admin, nil, &shifts); code != 200 {
		t.Fatalf("pattern: %d", code)
	}
	day := map[string]string{}
	for _, sh := range shifts.Items {
		day[sh.Code] = sh.ID
	}
	if code := s.do("PUT", "/api/v1/orgs/"+f.org+"/departments/"+f.ward+"/roster-rules", f.head, map[string]any{}, nil); code != 200 {
		t.Fatalf("rules: %d", code)
	}
	var c struct {
		Roster struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"roster"`
	}
	if code := s.do("POST", "/api/v1/orgs/"+f.org+"/departments/"+f.ward+"/rosters", f.head, map[string]string{"from": "2026-12-01", "to": "2026-12-07"}, &c); code != 201 {
		t.Fatalf("create roster: %d", code)
	}
	id := c.Roster.ID
	as := []map[string]string{{"user_id": f.nurseID, "date": "2026-12-01", "shift_id": day["白"]}, {"user_id": f.nurseID, "date": "2026-12-02", "shift_id": day["大"]}}
	if code := s.do("PUT", "/api/v1/rosters/"+id, f.nurse, map[string]any{"version": 1, "assignments": as}, nil); code != 403 {
		t.Fatalf("a nurse must not edit the roster: %d", code)
	}
	if code := s.do("PUT", "/api/v1/rosters/"+id, f.head, map[string]any{"version": 1, "assignments": as}, &c); code != 200 {
		t.Fatalf("save: %d", code)
	}
	if code := s.do("POST", "/api/v1/rosters/"+id+"/publish", f.head, map[string]any{"version": c.Roster.Version}, &c); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	got := strings.Join(f.inbox(t, f.nurse), "\n")
	if !strings.Contains(got, "排班已发布") || !strings.Contains(got, "2026-12-01 白班 08:00–16:00") || !strings.Contains(got, "2026-12-02 大夜 00:00–08:00") {
		t.Fatalf("the nurse's inbox lacks her shifts:\n%s", got)
	}
	// An amendment needs a reason; then the people it touches are told.
	as[1]["shift_id"] = day["小"]
	if code := s.do("PUT", "/api/v1/rosters/"+id, f.head, map[string]any{"version": c.Roster.Version, "assignments": as}, nil); code != 400 {
		t.Fatalf("amendment without a reason: %d", code)
	}
	if code := s.do("PUT", "/api/v1/rosters/"+id, f.head, map[string]any{"version": c.Roster.Version, "assignments": as, "reason": "12月2日改小夜"}, &c); code != 200 {
		t.Fatalf("amend: %d", code)
	}
	got = strings.Join(f.inbox(t, f.nurse), "\n")
	if !strings.Contains(got, "排班有调整（12月2日改小夜）") || !strings.Contains(got, "2026-12-02 小夜 16:00–00:00") {
		t.Fatalf("the amendment notice is missing:\n%s", got)
	}
}

// TestShiftSwapThroughApprovals: a nurse asks to swap a shift; the colleague
// agrees and the head nurse approves, each prompted by a card from the
// approvals assistant; the published roster then changes by itself and
// both nurses are told.
func TestShiftSwapThroughApprovals(t *testing.T) {
	f := newDemoFixture(t)
	s, ctx := f.s, context.Background()
	members, err := s.app.areas.org.DepartmentMembers(ctx, f.org, f.ward, false)
	if err != nil {
		t.Fatal(err)
	}
	var colleague string
	for _, m := range members {
		if m != f.nurseID && m != f.headID {
			colleague = m
			break
		}
	}
	if err := s.app.core.identity.SetPassword(ctx, core.SystemActor, colleague, demoPassword); err != nil {
		t.Fatal(err)
	}
	u, _ := s.app.core.identity.GetUser(ctx, core.SystemActor, colleague)
	var ok struct {
		Token string `json:"token"`
	}
	if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": u.Login, "password": demoPassword}, &ok); code != 201 {
		t.Fatalf("colleague sign in: %d", code)
	}
	other := ok.Token

	// A published roster: the nurse on days on the 1st, the colleague on evenings on the 2nd.
	shifts, err := s.app.areas.roster.ApplyPattern(ctx, core.SystemActor, f.org, "three_shift")
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]string{}
	for _, sh := range shifts {
		id[sh.Code] = sh.ID
	}
	if err := s.app.areas.roster.SetRules(ctx, core.SystemActor, f.org, f.ward, roster.RuleSet{}); err != nil {
		t.Fatal(err)
	}
	d1, _ := roster.ParseDate("2026-12-01")
	c, err := s.app.areas.roster.CreateRoster(ctx, core.SystemActor, f.org, f.ward, d1, d1+6)
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.app.areas.roster.Save(ctx, core.SystemActor, c.Roster.ID, 1, []roster.Assignment{
		{UserID: f.nurseID, Date: d1, ShiftID: id["白"]}, {UserID: colleague, Date: d1 + 1, ShiftID: id["小"]}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.areas.roster.Publish(ctx, core.SystemActor, c.Roster.ID, c.Roster.Version); err != nil {
		t.Fatal(err)
	}

	var out struct {
		RequestID string `json:"request_id"`
	}
	form := map[string]any{"swap_with": colleague, "my_shift_date": "2026-12-01", "my_shift": "白", "their_shift_date": "2026-12-02", "their_shift": "小", "reason": "孩子生病"}
	if code := s.do("POST", "/api/v1/approvals/requests", f.nurse, map[string]any{"action_id": core.NewID(), "template_code": "shift_swap", "form": form}, &out); code != 201 {
		t.Fatalf("submit swap: %d", code)
	}
	approve := func(token, who string) {
		t.Helper()
		if code := s.do("POST", "/api/v1/approvals/requests/"+out.RequestID+"/approve", token, map[string]any{"action_id": core.NewID()}, nil); code != 200 {
			t.Fatalf("%s approves: %d", who, code)
		}
	}
	// The head nurse cannot act before the colleague has agreed.
	if code := s.do("POST", "/api/v1/approvals/requests/"+out.RequestID+"/approve", f.head, map[string]any{"action_id": core.NewID()}, nil); code == 200 {
		t.Fatal("the head nurse approved before the colleague agreed")
	}
	approve(other, "colleague")
	approve(f.head, "head nurse")

	// The head nurse got a card from the approvals assistant, and it shows her an approve action... now decided.
	inbox := strings.Join(f.inbox(t, f.head), "\n")
	if !strings.Contains(inbox, `card: {"type":"approval","request_id":"`+out.RequestID) {
		t.Fatalf("no approval card for the head nurse:\n%s", inbox)
	}
	var card struct {
		Status string `json:"status"`
	}
	if code := s.do("GET", "/api/v1/approvals/requests/"+out.RequestID+"/card", f.head, nil, &card); code != 200 || card.Status != "approved" {
		t.Fatalf("card: %d %+v", code, card)
	}

	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day1 := time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)
	deadline := time.Now().Add(10 * time.Second)
	for {
		duty, err := s.app.areas.roster.OnDuty(ctx, f.org, f.ward, day1)
		if err == nil && len(duty.OnDuty) == 1 && duty.OnDuty[0] == colleague {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the roster did not follow the approved swap: %+v %v", duty, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for got := ""; !strings.Contains(got, "排班有调整（调班审批"); got = strings.Join(f.inbox(t, f.nurse), "\n") {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("the nurse was not told of the swap:\n%s", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
