package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoLoadsAndSignsIn is the README's first command in-process: the demo
// hospital group loads (twice, changing nothing the second time), every
// printed account signs in, and roles follow the org chart.
func TestDemoLoadsAndSignsIn(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	start := time.Now()
	logins, err := s.app.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo loaded in %s", time.Since(start).Round(time.Millisecond))
	if len(logins) != 10 {
		t.Fatalf("want 10 printed accounts, got %d: %+v", len(logins), logins)
	}
	again, err := s.app.LoadDemo(ctx)
	if err != nil || len(again) != len(logins) {
		t.Fatalf("second load: %v %d", err, len(again))
	}
	var orgs struct {
		Items []struct{ ID, Code string } `json:"items"`
	}
	tokens := map[string]string{}
	for _, l := range logins {
		var ok struct {
			Token string `json:"token"`
			User  struct {
				OrgID string `json:"org_id"`
			} `json:"user"`
		}
		if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": l.Login, "password": demoPassword}, &ok); code != 201 || ok.Token == "" {
			t.Fatalf("%s cannot sign in: %d", l.Login, code)
		}
		tokens[l.Login] = ok.Token
	}
	admin := tokens[logins[0].Login]
	if !strings.Contains(logins[0].Role, "org_admin") {
		t.Fatalf("first printed account should be the admin: %+v", logins[0])
	}
	if code := s.do("GET", "/api/v1/orgs", admin, nil, &orgs); code != 200 || len(orgs.Items) != 2 {
		t.Fatalf("orgs %d %+v", code, orgs)
	}
	// The admin reads the audit log of their hospital; a nurse may not.
	var jcyy string
	for _, o := range orgs.Items {
		if o.Code == "jcyy" {
			jcyy = o.ID
		}
	}
	if code := s.do("GET", "/api/v1/orgs/"+jcyy+"/audit", admin, nil, nil); code != 200 {
		t.Fatalf("admin audit: %d", code)
	}
	nurse := tokens[logins[4].Login]
	if code := s.do("GET", "/api/v1/orgs/"+jcyy+"/audit", nurse, nil, nil); code != 403 {
		t.Fatalf("nurse audit: %d", code)
	}
	// Finding anyone by pinyin initials.
	var hits struct {
		Items []struct{ Name string } `json:"items"`
	}
	if code := s.do("GET", "/api/v1/orgs/"+jcyy+"/directory/search?q=wlx", nurse, nil, &hits); code != 200 || len(hits.Items) == 0 {
		t.Fatalf("search wlx: %d %+v", code, hits)
	}
}
