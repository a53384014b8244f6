package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/roster"
)

// roles, in the order of the expectation strings below.
var tableRoles = []string{"anonymous", "guest", "staff", "head nurse", "org admin", "other hospital's admin", "system admin"}

// routeTable says, for every API route, what each role gets: 'y' allowed
// (anything but 401/403), 'n' refused (403, or 404 where the object is hidden),
// 'v' refused or, where the service checks the shape of the input before
// looking the object up, 400 — either way no data and no change — and 'u'
// unauthenticated (401). Path parameters point at real objects of hospital
// jcyy (the head nurse's ward, a nurse in it, a draft roster …). A request body,
// when the route takes one, is {} — an allowed role then meets validation (400)
// and nothing changes.
//
// TestEveryRouteIsInTheTable fails when a route is added without a row here.
var routeTable = map[string]string{
	//                                                             anon guest staff head admin other sys
	"POST /api/v1/sessions":                                               "yyyyyyy",
	"DELETE /api/v1/sessions/current":                                     "uyyyyyy",
	"GET /api/v1/sessions":                                                "uyyyyyy",
	"DELETE /api/v1/sessions/{id}":                                        "uyyyyyy",
	"GET /api/v1/me":                                                      "uyyyyyy",
	"PUT /api/v1/me/password":                                             "uyyyyyy",
	"GET /api/v1/me/tokens":                                               "uyyyyyy",
	"POST /api/v1/me/tokens":                                              "uyyyyyy",
	"DELETE /api/v1/me/tokens/{id}":                                       "uyyyyyy",
	"GET /api/v1/me/attendance/{month}":                                   "unyyyyy",
	"GET /api/v1/me/capabilities":                                         "uyyyyyy",
	"POST /api/v1/attendance/clock":                                       "unyyyyy",
	"GET /api/v1/audit/verify":                                            "unnnnny",
	"POST /api/v1/bots/{id}/token":                                        "unnnyyy",
	"GET /api/v1/directory/search":                                        "uyyyyyy",
	"POST /api/v1/directory/people":                                       "uvyyyyy",
	"GET /api/v1/groups":                                                  "unyyyyy",
	"POST /api/v1/groups":                                                 "unnnnny",
	"PUT /api/v1/groups/{id}/sharing/{org}":                               "unnnyny",
	"GET /api/v1/orgs":                                                    "uyyyyyy",
	"POST /api/v1/orgs":                                                   "unnnnny",
	"GET /api/v1/orgs/{org}/attendance/rules":                             "unyyyny",
	"PUT /api/v1/orgs/{org}/attendance/rules":                             "unnnyny",
	"GET /api/v1/orgs/{org}/audit":                                        "unnnyny",
	"GET /api/v1/orgs/{org}/audit/export":                                 "unnnyny",
	"POST /api/v1/orgs/{org}/bots":                                        "unnnyny",
	"GET /api/v1/orgs/{org}/departments":                                  "unyyyyy",
	"POST /api/v1/orgs/{org}/departments":                                 "unnnyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/attendance/{month}":        "unnyyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/attendance-days/{date}":    "unnyyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/attendance/{month}/export": "unnyyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/duty":                      "unyyyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/roster-rules":              "unyyyny",
	"PUT /api/v1/orgs/{org}/departments/{dept}/roster-rules":              "unnyyny",
	"GET /api/v1/orgs/{org}/departments/{dept}/rosters":                   "unyyyny",
	"POST /api/v1/orgs/{org}/departments/{dept}/rosters":                  "unnyyny",
	"DELETE /api/v1/orgs/{org}/departments/{id}":                          "unnnyny",
	"PATCH /api/v1/orgs/{org}/departments/{id}":                           "unnnyny",
	"GET /api/v1/orgs/{org}/departments/{id}/members":                     "unyyyyy",
	"POST /api/v1/orgs/{org}/departments/{id}/move":                       "unnnyny",
	"GET /api/v1/orgs/{org}/directory/search":                             "uyyyyyy",
	"GET /api/v1/orgs/{org}/duty-roles":                                   "unyyyyy",
	"PUT /api/v1/orgs/{org}/duty-roles":                                   "unnnyny",
	"POST /api/v1/orgs/{org}/import/csv":                                  "unnnyny",
	"GET /api/v1/orgs/{org}/roles":                                        "unnnyny",
	"POST /api/v1/orgs/{org}/roles":                                       "unnnyny",
	"DELETE /api/v1/orgs/{org}/roles/{name}":                              "unnnyny",
	"PUT /api/v1/orgs/{org}/roster-settings":                              "unnnyny",
	"POST /api/v1/orgs/{org}/shift-patterns/{key}":                        "unnnyny",
	"GET /api/v1/orgs/{org}/shifts":                                       "unyyyny",
	"POST /api/v1/orgs/{org}/shifts":                                      "unnnyny",
	"PUT /api/v1/orgs/{org}/shifts/{id}":                                  "unnnyny",
	"GET /api/v1/orgs/{org}/staff":                                        "unyyyyy",
	"POST /api/v1/orgs/{org}/staff":                                       "unnnyny",
	"GET /api/v1/orgs/{org}/staff/{id}":                                   "unyyyyy",
	"PATCH /api/v1/orgs/{org}/staff/{id}":                                 "unnnyny",
	"POST /api/v1/orgs/{org}/staff/{id}/deactivate":                       "unnnyny",
	"GET /api/v1/orgs/{org}/staff/{user}/attendance/{month}":              "unyyyny",
	"PUT /api/v1/orgs/{org}/staff/{user}/roster-profile":                  "unnyyny",
	"POST /api/v1/orgs/{org}/sync/ldap":                                   "unnnyny",
	"GET /api/v1/orgs/{org}/users":                                        "unnnyny",
	"POST /api/v1/orgs/{org}/users":                                       "unnnyny",
	"GET /api/v1/orgs/{org}/users/{id}/roles":                             "unynyny",
	"DELETE /api/v1/orgs/{org}/users/{id}/roles/{role}":                   "unnnyny",
	"PUT /api/v1/orgs/{org}/users/{id}/roles/{role}":                      "unnnyny",
	"GET /api/v1/roster-patterns":                                         "uyyyyyy",
	"GET /api/v1/rosters/{id}":                                            "unnyyny",
	"PUT /api/v1/rosters/{id}":                                            "unnyyny",
	"POST /api/v1/rosters/{id}/publish":                                   "unnyyny",
	"GET /api/v1/rosters/{id}/versions":                                   "unnyyny",
	"GET /api/v1/users/{id}":                                              "unyyyny",
	"POST /api/v1/users/{id}/deactivate":                                  "unnnyny",
	"PUT /api/v1/users/{id}/password":                                     "unnnyny",
	"POST /api/v1/users/{id}/reactivate":                                  "unnnyny",
	// Chat: the head nurse owns a ward group with the nurse (and a spare
	// member the removal route may take out); only members see inside it.
	"GET /api/v1/ws":                                           "uyyyyyy",
	"GET /api/v1/im/events":                                    "uyyyyyy",
	"GET /api/v1/im/search":                                    "uyyyyyy",
	"GET /api/v1/im/conversations":                             "uyyyyyy",
	"POST /api/v1/im/conversations":                            "uyyyyyy",
	"GET /api/v1/im/conversations/{id}":                        "unyynnn",
	"PATCH /api/v1/im/conversations/{id}":                      "unnynnn",
	"POST /api/v1/im/conversations/{id}/files":                 "uvyyvvv",
	"POST /api/v1/im/conversations/{id}/leave":                 "unyynnn",
	"GET /api/v1/im/conversations/{id}/members":                "unyynnn",
	"POST /api/v1/im/conversations/{id}/members":               "uvvyvvv",
	"GET /api/v1/im/conversations/{id}/bots":                   "unnynnn",
	"DELETE /api/v1/im/conversations/{id}/members/{user_id}":   "unnynnn",
	"PUT /api/v1/im/conversations/{id}/members/{user_id}/role": "uvvyvvv",
	"GET /api/v1/im/conversations/{id}/messages":               "unyynnn",
	"POST /api/v1/im/conversations/{id}/messages":              "uvyyvvv",
	"PATCH /api/v1/im/conversations/{id}/prefs":                "unyynnn",
	"POST /api/v1/im/conversations/{id}/read":                  "uvyyvvv",
	"GET /api/v1/im/files/{id}":                                "unyynnn",
	"GET /api/v1/im/messages/{id}":                             "unyynnn",
	"PATCH /api/v1/im/messages/{id}":                           "uvvyvvv",
	"GET /api/v1/im/messages/{id}/ding":                        "unyynnn",
	"POST /api/v1/im/messages/{id}/ding/ack":                   "unynnnn",
	"POST /api/v1/im/messages/{id}/reactions":                  "uvyyvvv",
	"POST /api/v1/im/messages/{id}/recall":                     "unnynnn",
	"GET /api/v1/im/messages/{id}/receipt":                     "unyynnn",
	// Approvals: the nurse submitted leave requests; her head nurse is the
	// approver. Each action route acts on a request of its own. Approvals
	// happen inside an organisation, so a system administrator (who belongs
	// to none) is refused.
	"GET /api/v1/approvals/templates":                 "unyyyyn",
	"POST /api/v1/approvals/templates":                "unnnyyn",
	"GET /api/v1/approvals/templates/{code}":          "unyyyyn",
	"PUT /api/v1/approvals/templates/{code}/flow":     "unnnyyn",
	"GET /api/v1/approvals/templates/{code}/versions": "unnnyyn",
	"GET /api/v1/approvals/requests":                  "unnyyyn",
	"POST /api/v1/approvals/requests":                 "uvyyyyn",
	"GET /api/v1/approvals/requests/{id}":             "unyyynn",
	"GET /api/v1/approvals/requests/{id}/card":        "unyyynn",
	"POST /api/v1/approvals/requests/{id}/add-signer": "uvvyvvv",
	"POST /api/v1/approvals/requests/{id}/approve":    "uvvyvvv",
	"POST /api/v1/approvals/requests/{id}/comment":    "uvyyvvv",
	"POST /api/v1/approvals/requests/{id}/reject":     "uvvyvvv",
	"POST /api/v1/approvals/requests/{id}/resubmit":   "uvyvvvv",
	"POST /api/v1/approvals/requests/{id}/transfer":   "uvvyvvv",
	"POST /api/v1/approvals/requests/{id}/urge":       "uvyvvvv",
	"POST /api/v1/approvals/requests/{id}/withdraw":   "uvyvvvv",
	"GET /api/v1/approvals/me/pending":                "unyyyyn",
	"GET /api/v1/approvals/me/done":                   "unyyyyn",
	"GET /api/v1/approvals/me/submitted":              "unyyyyn",
	"GET /api/v1/approvals/me/cc":                     "unyyyyn",
	"GET /api/v1/approvals/export":                    "unnnyyn",
	"GET /api/v1/approvals/delegations":               "uyyyyyn",
	"POST /api/v1/approvals/delegations":              "uvyyyyn",
	"DELETE /api/v1/approvals/delegations/{id}":       "unyyyyn",
	// Chat retention and legal holds: organisation admins of their own org.
	"GET /api/v1/im/retention":           "unnnyyy",
	"PUT /api/v1/im/retention":           "unnnyyy",
	"GET /api/v1/im/holds":               "unnnyyy",
	"POST /api/v1/im/holds":              "unnnyyy",
	"POST /api/v1/im/holds/{id}/release": "unnnyyy",
	"POST /api/v1/im/exports":            "unnnyyy",
	// ISV apps: admins manage installs of their organisation; staff list the
	// app pages they may open.
	"GET /api/v1/plugins/installs":               "unnnyyy",
	"GET /api/v1/plugins/installs/{id}":          "unnnyyn",
	"POST /api/v1/plugins/installs/{id}/disable": "unnnyyn",
	"POST /api/v1/plugins/installs/{id}/enable":  "unnnyyn",
	"GET /api/v1/plugins/pages":                  "unyyyyy",
	// Slash commands: staff list those of the apps shown to them and run
	// them in conversations they are in (an empty body is refused as bad
	// input before anything is looked up).
	"GET /api/v1/plugins/commands":      "unyyyyy",
	"POST /api/v1/plugins/commands/run": "uvyyyyy",
	// The app center: admins of the organisation in the path manage the
	// marketplace; staff list the apps shown to them.
	"GET /api/v1/me/apps":                                              "unyyyyy",
	"GET /api/v1/me/apps/{id}":                                         "unyyyyn",
	"GET /api/v1/orgs/{org}/marketplace/catalog":                       "unnnyny",
	"GET /api/v1/orgs/{org}/marketplace/catalog/{app}":                 "unnnyny",
	"GET /api/v1/orgs/{org}/marketplace/catalog/{app}/screenshots/{n}": "unnnyny",
	"GET /api/v1/orgs/{org}/marketplace/installs":                      "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/installs":                     "unnnyny",
	"DELETE /api/v1/orgs/{org}/marketplace/installs/{id}":              "unnnyny",
	"GET /api/v1/orgs/{org}/marketplace/installs/{id}":                 "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/installs/{id}/disable":        "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/installs/{id}/enable":         "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/installs/{id}/rollback":       "unnnyny",
	"PUT /api/v1/orgs/{org}/marketplace/installs/{id}/settings":        "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/installs/{id}/upgrade":        "unnnyny",
	"PUT /api/v1/orgs/{org}/marketplace/installs/{id}/visibility":      "unnnyny",
	"GET /api/v1/orgs/{org}/marketplace/keys":                          "unnnyny",
	"POST /api/v1/orgs/{org}/marketplace/keys":                         "unnnyny",
	"DELETE /api/v1/orgs/{org}/marketplace/keys/{id}":                  "unnnyny",
}

type tableFixture struct {
	s       *testServer
	tokens  map[string]string // role → bearer token ("" for anonymous)
	orgID   string            // jcyy
	ward    string            // the head nurse's ward
	nurse   string            // a nurse on that ward (user id)
	spare   string            // a member of staff the deactivation routes may end
	emptyD  string            // an empty department the delete route may remove
	shiftID string
	roster  string
	group   string
	conv    string // the ward group
	leaveC  string // a group the leave route may empty
	message string // the head nurse's message in the ward group
	recallM string // a message the recall route may take back
	ding    string // an urgent message from the head nurse to the nurse
	file    string
	request map[string]string // action suffix ("approve", "view" …) → leave request id
}

func newTableFixture(t *testing.T) *tableFixture {
	s := startServer(t)
	ctx := context.Background()
	logins, err := s.app.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := &tableFixture{s: s, tokens: map[string]string{}}
	login := func(l string, pw ...string) (string, string) {
		password := demoPassword
		if len(pw) > 0 {
			password = pw[0]
		}
		var ok struct {
			Token string `json:"token"`
			User  struct {
				ID    string `json:"id"`
				OrgID string `json:"org_id"`
			} `json:"user"`
		}
		if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": l, "password": password}, &ok); code != 201 {
			t.Fatalf("login %s: %d", l, code)
		}
		return ok.Token, ok.User.ID
	}
	var headID string
	f.tokens["org admin"], _ = login(logins[0].Login)
	f.tokens["head nurse"], headID = login(logins[2].Login)
	f.tokens["staff"], f.nurse = login(logins[4].Login)
	f.tokens["other hospital's admin"], _ = login(logins[5].Login)
	org := s.app.areas.org
	head, err := org.Person(ctx, "", headID)
	if err != nil {
		// Person needs the org; find it through the account.
		u, _ := s.app.core.identity.GetUser(ctx, core.SystemActor, headID)
		head, err = org.Person(ctx, u.OrgID, headID)
		if err != nil {
			t.Fatal(err)
		}
	}
	f.orgID, f.ward = head.OrgID, head.PrimaryDepartmentID
	if _, err := s.app.CreateAccount(ctx, "", "root.admin", "系统管理员", "root admin password", authz.RoleSystemAdmin); err != nil {
		t.Fatal(err)
	}
	f.tokens["system admin"], _ = login("root.admin", "root admin password")
	if _, err := s.app.CreateAccount(ctx, f.orgID, "guest.visitor", "访客", "guest visitor password", authz.RoleGuest); err != nil {
		t.Fatal(err)
	}
	f.tokens["guest"], _ = login("guest.visitor", "guest visitor password")

	d, err := org.CreateDepartment(ctx, core.SystemActor, f.orgID, orgchart.NewDepartment{Name: "待撤销科室"})
	if err != nil {
		t.Fatal(err)
	}
	f.emptyD = d.ID
	spare, err := org.CreateStaff(ctx, core.SystemActor, f.orgID, orgchart.StaffInput{EmployeeNo: "99001", Name: "临时工", PrimaryDepartmentID: f.ward})
	if err != nil {
		t.Fatal(err)
	}
	f.spare = spare.ID
	shifts, err := s.app.areas.roster.ApplyPattern(ctx, core.SystemActor, f.orgID, "three_shift")
	if err != nil {
		t.Fatal(err)
	}
	f.shiftID = shifts[0].ID
	from, _ := roster.ParseDate("2026-12-01")
	c, err := s.app.areas.roster.CreateRoster(ctx, core.SystemActor, f.orgID, f.ward, from, from+30)
	if err != nil {
		t.Fatal(err)
	}
	f.roster = c.Roster.ID
	groups, err := org.Groups(ctx, core.SystemActor)
	if err != nil || len(groups) == 0 {
		t.Fatalf("groups %v %d", err, len(groups))
	}
	f.group = groups[0].ID

	chat := s.app.areas.im
	headActor := core.Actor{UserID: headID, OrgID: f.orgID, Kind: core.ActorUser}
	conv, err := chat.CreateGroup(ctx, headActor, "心内一病区护理组", []string{f.nurse, f.spare})
	if err != nil {
		t.Fatal(err)
	}
	f.conv = conv.ID
	leave, err := chat.CreateGroup(ctx, headActor, "交班群", []string{f.nurse})
	if err != nil {
		t.Fatal(err)
	}
	f.leaveC = leave.ID
	send := func(text string, ding *im.DingRequest) string {
		m, err := chat.Send(ctx, headActor, im.SendRequest{ConversationID: f.conv, ClientMsgID: core.NewID(), Text: text, Ding: ding})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	f.message = send("5床患者夜间血压偏高，请关注", nil)
	f.recallM = send("发错了", nil)
	f.ding = send("3床呼叫，请立即处理", &im.DingRequest{UserIDs: []string{f.nurse}})
	file, err := chat.Upload(ctx, headActor, f.conv, "交班记录.txt", strings.NewReader("交班：5床血压 160/95"))
	if err != nil {
		t.Fatal(err)
	}
	f.file = file.ID

	f.request = map[string]string{}
	nurseCtx := core.WithActor(ctx, core.Actor{UserID: f.nurse, OrgID: f.orgID, Kind: core.ActorUser})
	headCtx := core.WithActor(ctx, headActor)
	for _, k := range []string{"view", "add-signer", "approve", "comment", "reject", "resubmit", "transfer", "urge", "withdraw"} {
		out, err := s.app.areas.approvals.Submit(nurseCtx, approvals.SubmitInput{ActionID: core.NewID(), TemplateCode: "leave",
			Form: json.RawMessage(`{"leave_type":"annual","period":{"start":"2026-12-10","end":"2026-12-11"},"reason":"家中有事"}`)})
		if err != nil {
			t.Fatalf("submit leave: %v", err)
		}
		f.request[k] = out.RequestID
	}
	if _, err := s.app.areas.approvals.Reject(headCtx, f.request["resubmit"], approvals.RejectInput{ActionInput: approvals.ActionInput{ActionID: core.NewID(), Comment: "请补充说明"}}); err != nil {
		t.Fatalf("reject: %v", err)
	}
	return f
}

// path fills a route's parameters with the fixture's objects.
func (f *tableFixture) path(method, pattern string) string {
	id := core.NewID() // unknown object by default
	switch {
	case strings.Contains(pattern, "/departments/{id}") && method == "DELETE":
		id = f.emptyD
	case strings.Contains(pattern, "/departments/{id}"):
		id = f.ward
	case strings.HasSuffix(pattern, "/staff/{id}/deactivate"), strings.HasPrefix(pattern, "/api/v1/users/{id}/"):
		id = f.spare
	case strings.Contains(pattern, "/staff/{id}"), strings.Contains(pattern, "/users/{id}"):
		id = f.nurse
	case strings.Contains(pattern, "/shifts/{id}"):
		id = f.shiftID
	case strings.Contains(pattern, "/rosters/{id}"):
		id = f.roster
	case strings.Contains(pattern, "/groups/{id}"):
		id = f.group
	case strings.HasSuffix(pattern, "/conversations/{id}/leave"):
		id = f.leaveC
	case strings.Contains(pattern, "/conversations/{id}"):
		id = f.conv
	case strings.HasSuffix(pattern, "/messages/{id}/recall"):
		id = f.recallM
	case strings.Contains(pattern, "/messages/{id}/ding"):
		id = f.ding
	case strings.Contains(pattern, "/messages/{id}"):
		id = f.message
	case strings.Contains(pattern, "/files/{id}"):
		id = f.file
	case strings.HasSuffix(pattern, "/requests/{id}/card"):
		id = f.request["view"]
	case strings.HasPrefix(pattern, "/api/v1/approvals/requests/{id}/"):
		id = f.request[pattern[strings.LastIndex(pattern, "/")+1:]]
	case strings.HasPrefix(pattern, "/api/v1/approvals/requests/{id}"):
		id = f.request["view"]
	}
	r := strings.NewReplacer("{org}", f.orgID, "{dept}", f.ward, "{user}", f.nurse, "{month}", "2026-12",
		"{key}", "three_shift", "{user_id}", f.spare, "{code}", "leave", "{app}", "no-such-app", "{date}", "2026-12-01", "{role}", "guest", "{name}", "no-such-role", "{n}", "0", "{id}", id)
	return r.Replace(pattern)
}

func (f *tableFixture) call(method, path, token string, withBody bool) (int, string) {
	var body io.Reader
	if withBody {
		body = bytes.NewReader([]byte("{}"))
	}
	req, _ := http.NewRequest(method, f.s.srv.URL+path, body)
	if withBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return resp.StatusCode, string(b)
}

func TestEveryRouteByRole(t *testing.T) {
	f := newTableFixture(t)
	routes := f.s.app.router.Routes()
	var failures []string
	for _, r := range routes {
		key := r.Method + " " + r.Path
		want, ok := routeTable[key]
		if !ok {
			failures = append(failures, fmt.Sprintf("%s: no row in routeTable", key))
			continue
		}
		if len(want) != len(tableRoles) {
			t.Fatalf("%s: expectation %q has %d roles, want %d", key, want, len(want), len(tableRoles))
		}
		withBody := r.Request != nil
		for i, role := range tableRoles {
			token := f.tokens[role]
			if key == "DELETE /api/v1/sessions/current" && token != "" {
				// Signing out ends the session: use a throwaway one.
				token = f.freshToken(t, role)
			}
			code, body := f.call(r.Method, f.path(r.Method, r.Path), token, withBody)
			got := 'y'
			switch {
			case want[i] == 'v' && (code == 400 || code == 403 || code == 404):
				got = 'v'
			case code == 401:
				got = 'u'
			case code == 403:
				got = 'n'
			case code == 404 && want[i] == 'n':
				got = 'n' // hidden is as good as refused
			}
			if byte(got) != want[i] {
				failures = append(failures, fmt.Sprintf("%-70s %-24s want %c got %d %s", key, role, want[i], code, oneLine(body)))
			}
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d route × role mismatches:\n%s", len(failures), strings.Join(failures, "\n"))
	}
}

func (f *tableFixture) freshToken(t *testing.T, role string) string {
	logins := map[string]string{}
	_ = logins
	var me struct {
		Login string `json:"login"`
	}
	if code := f.s.do("GET", "/api/v1/me", f.tokens[role], nil, &me); code != 200 {
		t.Fatalf("me for %s: %d", role, code)
	}
	pw := demoPassword
	switch role {
	case "system admin":
		pw = "root admin password"
	case "guest":
		pw = "guest visitor password"
	}
	var ok struct {
		Token string `json:"token"`
	}
	if code := f.s.do("POST", "/api/v1/sessions", "", map[string]string{"login": me.Login, "password": pw}, &ok); code != 201 {
		t.Fatalf("fresh login %s: %d", role, code)
	}
	return ok.Token
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) == nil {
		if msg, ok := m["message"].(string); ok {
			return fmt.Sprint(m["code"], ": ", msg)
		}
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
