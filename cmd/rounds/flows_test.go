package main

import (
	"context"
	"strings"
	"testing"
)

// demoFixture signs in the demo's head nurse, nurse and admin of jcyy.
type demoFixture struct {
	s                  *testServer
	admin, head, nurse string // tokens
	org, ward, nurseID string
	headID             string
}

func newDemoFixture(t *testing.T) *demoFixture {
	s := startServer(t)
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
