package approvalshttp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/approvalstest"
	approvalshttp "github.com/roundshq/rounds/approvals/httpapi"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

const org = "0190b3c0-0000-7000-8000-0000000000ff"

var (
	admin    = core.NewID()
	nurse    = core.NewID()
	wardHead = core.NewID()
	other    = core.NewID()
	ward     = core.NewID()
	hosp     = core.NewID()
)

// headerAuth reads the actor from X-Test-User.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{UserID: u, OrgID: org, Kind: core.ActorUser}, nil
}

type client struct {
	t   *testing.T
	url string
}

func (c client) do(user, method, path string, body any) (int, []byte, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (c client) ok(user, method, path string, body any, want int, out any) {
	c.t.Helper()
	code, b, _ := c.do(user, method, path, body)
	if code != want {
		c.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c client) fail(user, method, path string, body any, status int, code core.Code, field string) {
	c.t.Helper()
	got, b, _ := c.do(user, method, path, body)
	var env httpapi.ErrorBody
	_ = json.Unmarshal(b, &env)
	if got != status || env.Code != code || (field != "" && env.Details["field"] != field) {
		c.t.Fatalf("%s %s: want %d %s %s, got %d %s", method, path, status, code, field, got, b)
	}
}

func setup(t *testing.T) client {
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()}, sqldbtest.Migration{Area: sqlstore.GuardArea, FS: sqlstore.GuardMigrations(sqldb.SQLite)})
	dir := approvalstest.NewDirectory()
	dir.Department(hosp, "", admin)
	dir.Department(ward, hosp, wardHead)
	dir.Person(admin, hosp)
	dir.Person(wardHead, ward)
	dir.Person(nurse, ward)
	dir.Person(other, hosp)
	svc, err := approvals.New(approvals.Options{Store: sqlstore.New(db), Directory: dir,
		Authorizer: &approvalstest.Authorizer{Admins: map[string]bool{admin: true}, Heads: map[string]bool{wardHead: true}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rt := httpapi.NewRouter(mux, headerAuth{}, nil)
	approvalshttp.New(svc).Register(rt)
	srv := httptest.NewServer(httpapi.Middleware(mux))
	t.Cleanup(srv.Close)
	for _, r := range rt.Routes() {
		if r.Summary == "" || r.Tag == "" {
			t.Fatalf("route %s %s lacks docs", r.Method, r.Path)
		}
	}
	if doc := rt.OpenAPI("test"); doc == nil {
		t.Fatal("no OpenAPI document")
	}
	return client{t: t, url: srv.URL}
}

func leaveTemplate() approvals.TemplateInput {
	return approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: approvals.Schema{Fields: []approvals.Field{
		{Key: "period", Label: "Period", Type: approvals.FieldDateRange, Required: true},
		{Key: "leave_days", Label: "Days", Type: approvals.FieldComputed, Formula: "days(period)"},
	}}, Flow: approvals.Flow{Nodes: []approvals.Node{
		{ID: "start", Kind: approvals.NodeStart, Next: "mgr"},
		{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1, Next: "end"},
		{ID: "end", Kind: approvals.NodeEnd},
	}}}
}

func TestHTTPLifecycle(t *testing.T) {
	c := setup(t)
	c.fail("", "GET", "/api/v1/approvals/templates", nil, 401, core.EUnauthenticated, "")
	c.fail(nurse, "POST", "/api/v1/approvals/templates", leaveTemplate(), 403, core.EForbidden, "")
	var tmpl approvals.Template
	c.ok(admin, "POST", "/api/v1/approvals/templates", leaveTemplate(), 201, &tmpl)
	if tmpl.Version != 1 || tmpl.Code != "leave" {
		t.Fatalf("template = %+v", tmpl)
	}
	bad := leaveTemplate()
	bad.Flow.Nodes = append(bad.Flow.Nodes, approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{{Condition: "leave_days >", Next: "end"}}})
	bad.Flow.Nodes[1].Next = "b"
	c.fail(admin, "PUT", "/api/v1/approvals/templates/leave/flow", bad.Flow, 400, core.EInvalid, "flow.nodes[3].branches[0].condition")
	var list httpapi.List[approvals.Template]
	c.ok(admin, "PUT", "/api/v1/approvals/templates/leave/flow", leaveTemplate().Flow, 200, nil)
	c.ok(admin, "GET", "/api/v1/approvals/templates/leave/versions", nil, 200, &list)
	if len(list.Items) != 2 || list.Items[0].Version != 2 {
		t.Fatalf("versions = %+v", list)
	}
	c.fail(nurse, "GET", "/api/v1/approvals/templates/leave/versions", nil, 403, core.EForbidden, "")
	c.fail(admin, "GET", "/api/v1/approvals/templates/nope/versions", nil, 404, core.ENotFound, "")
	c.ok(nurse, "GET", "/api/v1/approvals/templates", nil, 200, &list)
	if len(list.Items) != 1 {
		t.Fatalf("templates = %+v", list)
	}
	c.fail(nurse, "GET", "/api/v1/approvals/templates/leave?version=x", nil, 400, core.EInvalid, "version")

	// Submitting: strict decoding, form validation, idempotent retry.
	c.fail(nurse, "POST", "/api/v1/approvals/requests", `{"action_id":"a","template_code":"leave","form":{},"extra":1}`, 400, core.EInvalid, "extra")
	c.fail(nurse, "POST", "/api/v1/approvals/requests", `{"action_id":"a","template_code":"leave","form":{"period":{"start":"2026-03-05","end":"2026-03-01"}}}`, 400, core.EInvalid, "form.period.end")
	body := `{"action_id":"sub-1","template_code":"leave","form":{"period":{"start":"2026-03-02","end":"2026-03-06"}}}`
	var out approvals.Outcome
	c.ok(nurse, "POST", "/api/v1/approvals/requests", body, 201, &out)
	var again approvals.Outcome
	c.ok(nurse, "POST", "/api/v1/approvals/requests", body, 200, &again)
	if again.RequestID != out.RequestID || !again.Replayed {
		t.Fatalf("retry = %+v", again)
	}
	req := "/api/v1/approvals/requests/" + out.RequestID

	var pending httpapi.List[approvals.ListItem]
	c.ok(wardHead, "GET", "/api/v1/approvals/me/pending?template=leave", nil, 200, &pending)
	if len(pending.Items) != 1 || pending.Items[0].TaskID == "" || pending.Items[0].Form["leave_days"] != 5.0 {
		t.Fatalf("pending = %+v", pending)
	}
	c.fail(wardHead, "GET", "/api/v1/approvals/me/pending?from=yesterday", nil, 400, core.EInvalid, "from")
	c.fail(wardHead, "GET", "/api/v1/approvals/me/pending?limit=0", nil, 400, core.EInvalid, "limit")

	c.fail(other, "GET", req, nil, 404, core.ENotFound, "")
	c.fail(other, "POST", req+"/approve", `{"action_id":"x"}`, 403, core.EForbidden, "")
	c.fail(wardHead, "POST", req+"/reject", `{"action_id":"r1"}`, 400, core.EInvalid, "comment")
	c.fail(wardHead, "POST", "/api/v1/approvals/requests/not-an-id/approve", `{"action_id":"x"}`, 400, core.EInvalid, "id")
	c.ok(nurse, "POST", req+"/urge", `{"action_id":"u1"}`, 200, nil)
	c.fail(nurse, "POST", req+"/urge", `{"action_id":"u2"}`, 429, core.ERateLimited, "")
	c.ok(wardHead, "POST", req+"/comment", `{"action_id":"c1","comment":"ok, cover arranged"}`, 200, nil)
	c.ok(wardHead, "POST", req+"/approve", `{"action_id":"ap1","comment":"approved"}`, 200, &out)
	if out.Status != approvals.StatusApproved {
		t.Fatalf("outcome = %+v", out)
	}
	c.fail(wardHead, "POST", req+"/approve", `{"action_id":"ap2"}`, 409, core.EConflict, "")
	c.fail(nurse, "POST", req+"/withdraw", `{"action_id":"w1"}`, 409, core.EConflict, "")

	var v approvals.View
	c.ok(nurse, "GET", req, nil, 200, &v)
	var acts []string
	for _, e := range v.Timeline {
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, ",") != "submit,urge,comment,approve,finish" {
		t.Fatalf("timeline = %v", acts)
	}

	var org httpapi.List[approvals.ListItem]
	c.ok(wardHead, "GET", "/api/v1/approvals/requests?status=approved", nil, 200, &org)
	if len(org.Items) != 1 {
		t.Fatalf("subtree list = %+v", org)
	}
	c.fail(nurse, "GET", "/api/v1/approvals/requests", nil, 403, core.EForbidden, "")

	code, b, h := c.do(admin, "GET", "/api/v1/approvals/export?format=csv", nil)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(string(b), out.RequestID) {
		t.Fatalf("export: %d %s %s", code, h.Get("Content-Type"), b)
	}
	code, b, h = c.do(admin, "GET", "/api/v1/approvals/export?format=xlsx", nil)
	if code != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheetml") || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("xlsx export: %d %s", code, h.Get("Content-Type"))
	}
	c.fail(nurse, "GET", "/api/v1/approvals/export", nil, 403, core.EForbidden, "")
	c.fail(admin, "GET", "/api/v1/approvals/export?format=pdf", nil, 400, core.EInvalid, "format")
}

func TestHTTPDelegations(t *testing.T) {
	c := setup(t)
	var d approvals.Delegation
	c.fail(wardHead, "POST", "/api/v1/approvals/delegations", map[string]any{"delegate_id": other, "start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, 400, core.EInvalid, "end")
	c.ok(wardHead, "POST", "/api/v1/approvals/delegations", map[string]any{"delegate_id": other, "start": "2026-03-01T00:00:00Z", "end": "2026-03-09T00:00:00Z"}, 201, &d)
	var list httpapi.List[approvals.Delegation]
	c.ok(wardHead, "GET", "/api/v1/approvals/delegations", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].DelegateID != other {
		t.Fatalf("delegations = %+v", list)
	}
	c.fail(nurse, "DELETE", "/api/v1/approvals/delegations/"+d.ID, nil, 404, core.ENotFound, "")
	c.ok(wardHead, "DELETE", "/api/v1/approvals/delegations/"+d.ID, nil, 204, nil)
}

func TestHTTPActions(t *testing.T) {
	c := setup(t)
	c.ok(admin, "POST", "/api/v1/approvals/templates", leaveTemplate(), 201, nil)
	form := `"form":{"period":{"start":"2026-03-02","end":"2026-03-03"}}`
	var out approvals.Outcome
	c.ok(nurse, "POST", "/api/v1/approvals/requests", `{"action_id":"s1","template_code":"leave",`+form+`}`, 201, &out)
	req := "/api/v1/approvals/requests/" + out.RequestID
	pendingOf := func(user string) int {
		var l httpapi.List[approvals.ListItem]
		c.ok(user, "GET", "/api/v1/approvals/me/pending", nil, 200, &l)
		return len(l.Items)
	}
	c.fail(wardHead, "POST", req+"/add-signer", `{"action_id":"a1","user_id":"`+other+`","position":"sideways"}`, 400, core.EInvalid, "position")
	c.ok(wardHead, "POST", req+"/add-signer", `{"action_id":"a1","user_id":"`+other+`","position":"before"}`, 200, nil)
	if pendingOf(other) != 1 || pendingOf(wardHead) != 0 {
		t.Fatal("add signer before did not move the task")
	}
	c.fail(other, "POST", req+"/transfer", `{"action_id":"t1","to":"`+other+`"}`, 400, core.EInvalid, "to")
	c.ok(other, "POST", req+"/transfer", `{"action_id":"t1","to":"`+admin+`"}`, 200, nil)
	c.ok(admin, "POST", req+"/reject", `{"action_id":"r1","comment":"dates clash with the roster","to":"submitter"}`, 200, &out)
	if out.Status != approvals.StatusRejected {
		t.Fatalf("after reject: %+v", out)
	}
	c.fail(nurse, "POST", req+"/resubmit", `{"action_id":"rs1","form":{"period":{"start":"2026-03-09"}}}`, 400, core.EInvalid, "form.period.end")
	c.ok(nurse, "POST", req+"/resubmit", `{"action_id":"rs1","form":{"period":{"start":"2026-03-09","end":"2026-03-10"}}}`, 200, &out)
	if out.Status != approvals.StatusPending || pendingOf(wardHead) != 1 {
		t.Fatalf("after resubmit: %+v", out)
	}
	c.ok(nurse, "POST", req+"/withdraw", `{"action_id":"w1"}`, 200, &out)
	if out.Status != approvals.StatusWithdrawn || pendingOf(wardHead) != 0 {
		t.Fatalf("after withdraw: %+v", out)
	}
	var v approvals.View
	c.ok(nurse, "GET", req, nil, 200, &v)
	var acts []string
	for _, e := range v.Timeline {
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, ",") != "submit,add_signer,transfer,reject,finish,resubmit,withdraw,finish" {
		t.Fatalf("timeline = %v", acts)
	}
}
