package orgcharthttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	orgcharthttp "github.com/roundshq/rounds/orgchart/httpapi"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

// headerAuth trusts X-User and X-Org: the test stands in for identity.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (core.Actor, error) {
	u := r.Header.Get("X-User")
	if u == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return core.Actor{Kind: core.ActorUser, UserID: u, OrgID: r.Header.Get("X-Org")}, nil
}

// adminOnlyWrites lets everyone read and only the user "admin" write.
type adminOnlyWrites struct{}

func (adminOnlyWrites) Authorize(_ context.Context, a core.Actor, _, _, action string) error {
	if action == orgchart.ActWrite && a.UserID != "admin" {
		return core.Errorf(core.EForbidden, "only admins may change the org chart")
	}
	return nil
}

type client struct {
	t    *testing.T
	srv  *httptest.Server
	user string
	org  string
}

func (c client) do(method, path, ctype string, body []byte, out any) (int, httpapi.ErrorBody) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-User", c.user)
	req.Header.Set("X-Org", c.org)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb httpapi.ErrorBody
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal(data, &eb)
		return resp.StatusCode, eb
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode, eb
}

func (c client) json(method, path string, in, out any) (int, httpapi.ErrorBody) {
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	return c.do(method, path, "application/json", body, out)
}

func TestAPI(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		audit := &orgcharttest.Audit{}
		svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Accounts: orgcharttest.NewAccounts(), Authorizer: adminOnlyWrites{}, Audit: audit})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		org, err := svc.CreateOrg(ctx, core.SystemActor, "jcyy", "江城市第一人民医院")
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		rt := httpapi.NewRouter(mux, headerAuth{}, nil)
		orgcharthttp.New(svc, nil).Register(rt)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		admin := client{t, srv, "admin", org.ID}
		nurse := client{t, srv, core.NewID(), org.ID}
		base := "/api/v1/orgs/" + org.ID

		var inner, cardio orgchart.Department
		t.Run("admin builds the tree", func(t *testing.T) {
			if code, eb := admin.json("POST", base+"/departments", orgchart.NewDepartment{Name: "内科"}, &inner); code != 201 {
				t.Fatalf("%d %+v", code, eb)
			}
			if code, eb := admin.json("POST", base+"/departments", orgchart.NewDepartment{Name: "心内科", ParentID: inner.ID}, &cardio); code != 201 {
				t.Fatalf("%d %+v", code, eb)
			}
			var tree orgcharthttp.Tree
			admin.json("GET", base+"/departments", nil, &tree)
			if len(tree.Items) != 1 || tree.Items[0].Children[0].Path != "内科/心内科" {
				t.Fatalf("tree = %+v", tree)
			}
		})
		t.Run("bad requests name the field and change nothing", func(t *testing.T) {
			cases := []struct {
				name, method, path, body string
				status                   int
				field                    string
			}{
				{"unknown field", "POST", base + "/departments", `{"name":"x","colour":"red"}`, 400, "colour"},
				{"wrong type", "POST", base + "/departments", `{"name":5}`, 400, "name"},
				{"move into own subtree", "POST", base + "/departments/" + inner.ID + "/move", `{"parent_id":"` + cardio.ID + `"}`, 400, "parent_id"},
				{"unknown department", "POST", base + "/staff", `{"employee_no":"1","name":"张三","primary_department_id":"` + core.NewID() + `"}`, 400, "primary_department_id"},
				{"bad id", "GET", base + "/staff/not-an-id", ``, 400, "id"},
				{"bad limit", "GET", base + "/departments/" + inner.ID + "/members?limit=0", ``, 400, "limit"},
				{"empty search", "GET", base + "/directory/search?q=", ``, 400, "q"},
				{"delete non-empty", "DELETE", base + "/departments/" + inner.ID, ``, 409, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					code, eb := admin.do(c.method, c.path, "application/json", []byte(c.body), nil)
					if code != c.status || (c.field != "" && eb.Details["field"] != c.field) {
						t.Fatalf("%d %+v, want %d on %s", code, eb, c.status, c.field)
					}
				})
			}
		})
		t.Run("staff cannot write", func(t *testing.T) {
			code, eb := nurse.json("POST", base+"/departments", orgchart.NewDepartment{Name: "外科"}, nil)
			if code != 403 || eb.Code != core.EForbidden {
				t.Fatalf("%d %+v", code, eb)
			}
			last := audit.Entries[len(audit.Entries)-1]
			if last.Result != "denied" || last.ActorID != nurse.user || last.Action != "orgchart.department.write" {
				t.Fatalf("refusal not audited: %+v", last)
			}
		})
		var zhang orgchart.Staff
		t.Run("staff, card, members, search", func(t *testing.T) {
			if code, eb := admin.json("POST", base+"/staff", orgchart.StaffInput{EmployeeNo: "10001", Name: "单国强", PrimaryDepartmentID: inner.ID, HeadOf: []string{inner.ID}}, nil); code != 201 {
				t.Fatalf("%d %+v", code, eb)
			}
			for i, n := range []string{"张三", "李四", "王五"} {
				var st orgchart.Staff
				if code, eb := admin.json("POST", base+"/staff", orgchart.StaffInput{EmployeeNo: "2000" + string(rune('0'+i)), Name: n, PrimaryDepartmentID: cardio.ID, Phone: "1380000000" + string(rune('0'+i))}, &st); code != 201 {
					t.Fatalf("%d %+v", code, eb)
				}
				if i == 0 {
					zhang = st
				}
			}
			var card orgchart.Card
			nurse.json("GET", base+"/staff/"+zhang.ID, nil, &card)
			if card.Login != "jcyy.20000" || len(card.Managers) != 1 || card.Managers[0].Name != "单国强" || card.PrimaryDepartment.Path != "内科/心内科" {
				t.Fatalf("card = %+v", card)
			}
			var page httpapi.List[orgchart.Staff]
			nurse.json("GET", base+"/departments/"+inner.ID+"/members?subtree=true&limit=2", nil, &page)
			if len(page.Items) != 2 || page.NextCursor == "" {
				t.Fatalf("page 1 = %+v", page)
			}
			var page2 httpapi.List[orgchart.Staff]
			nurse.json("GET", base+"/departments/"+inner.ID+"/members?subtree=true&limit=2&cursor="+page.NextCursor, nil, &page2)
			if len(page2.Items) != 2 || page2.NextCursor != "" || page2.Items[0].ID == page.Items[1].ID {
				t.Fatalf("page 2 = %+v", page2)
			}
			var hits httpapi.List[orgchart.SearchHit]
			nurse.json("GET", "/api/v1/directory/search?q=sgq", nil, &hits)
			if len(hits.Items) != 1 || hits.Items[0].Name != "单国强" {
				t.Fatalf("hits = %+v", hits)
			}
		})
		t.Run("deactivate", func(t *testing.T) {
			var st orgchart.Staff
			if code, eb := admin.json("POST", base+"/staff/"+zhang.ID+"/deactivate", nil, &st); code != 200 || st.Status != orgchart.Left {
				t.Fatalf("%d %+v %+v", code, eb, st)
			}
		})
		t.Run("CSV import: dry run, errors, multipart apply", func(t *testing.T) {
			csv := "工号,姓名,部门,职务\n30001,欧阳娜娜,儿科,住院医师\n30002,朴志明,儿科/儿科病区,护士\n"
			var plan orgchart.ImportPlan
			if code, eb := admin.do("POST", base+"/import/csv?dry_run=true", "text/csv", []byte(csv), &plan); code != 200 || len(plan.Adds) != 2 || plan.Applied {
				t.Fatalf("%d %+v %+v", code, eb, plan)
			}
			code, eb := admin.do("POST", base+"/import/csv", "text/csv", []byte(csv+"30003,,儿科,\n"), nil)
			errs, _ := eb.Details["errors"].([]any)
			if code != 400 || len(errs) != 1 || errs[0].(map[string]any)["line"].(float64) != 4 {
				t.Fatalf("%d %+v", code, eb)
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			fw, _ := mw.CreateFormFile("file", "staff.csv")
			fw.Write([]byte(csv))
			mw.Close()
			if code, eb := admin.do("POST", base+"/import/csv", mw.FormDataContentType(), body.Bytes(), &plan); code != 200 || !plan.Applied || len(plan.Adds) != 2 {
				t.Fatalf("%d %+v %+v", code, eb, plan)
			}
			if code, _ := nurse.do("POST", base+"/import/csv", "text/csv", []byte(csv), nil); code != 403 {
				t.Fatalf("staff imported: %d", code)
			}
		})
		t.Run("every admin change is audited", func(t *testing.T) {
			got := strings.Join(audit.Actions(), " ")
			for _, want := range []string{"orgchart.department.create", "orgchart.staff.create", "orgchart.staff.deactivate", "orgchart.import.apply"} {
				if !strings.Contains(got, want) {
					t.Fatalf("audit lacks %s: %s", want, got)
				}
			}
		})
		t.Run("hospital groups and sharing", func(t *testing.T) {
			county, err := svc.CreateOrg(ctx, core.SystemActor, "qsxy", "青山县人民医院")
			if err != nil {
				t.Fatal(err)
			}
			var g orgchart.Group
			code, eb := admin.json("POST", "/api/v1/groups", orgcharthttp.NewGroup{Name: "江城医联体", Members: []orgchart.GroupMember{
				{OrgID: org.ID, Share: orgchart.ShareSubtrees, DepartmentIDs: []string{cardio.ID}}, {OrgID: county.ID}}}, &g)
			if code != 201 || len(g.Members) != 2 {
				t.Fatalf("%d %+v %+v", code, eb, g)
			}
			countyUser := client{t, srv, core.NewID(), county.ID}
			var tree orgcharthttp.Tree
			if code, eb := countyUser.json("GET", base+"/departments", nil, &tree); code != 200 || len(tree.Items) != 1 || tree.Items[0].ID != cardio.ID {
				t.Fatalf("%d %+v %+v", code, eb, tree)
			}
			if code, eb := admin.json("PUT", "/api/v1/groups/"+g.ID+"/sharing/"+org.ID, orgcharthttp.SharingRequest{Share: orgchart.ShareNone}, &g); code != 200 {
				t.Fatalf("%d %+v", code, eb)
			}
			if code, _ := countyUser.json("GET", base+"/departments", nil, nil); code != 404 {
				t.Fatalf("still visible: %d", code)
			}
			code, eb = admin.json("PUT", "/api/v1/groups/"+g.ID+"/sharing/"+org.ID, orgcharthttp.SharingRequest{Share: "everything"}, nil)
			if code != 400 || eb.Details["field"] != "share" {
				t.Fatalf("%d %+v", code, eb)
			}
			var list httpapi.List[orgchart.Group]
			countyUser.json("GET", "/api/v1/groups", nil, &list)
			if len(list.Items) != 1 {
				t.Fatalf("groups = %+v", list)
			}
			var orgs httpapi.List[orgchart.Org]
			countyUser.json("GET", "/api/v1/orgs", nil, &orgs)
			if len(orgs.Items) != 1 || orgs.Items[0].ID != county.ID {
				t.Fatalf("visible orgs = %+v", orgs)
			}
		})
		t.Run("ldap not configured", func(t *testing.T) {
			if code, _ := admin.do("POST", base+"/sync/ldap", "", nil, nil); code != 503 {
				t.Fatalf("%d", code)
			}
		})
		t.Run("openapi lists the routes", func(t *testing.T) {
			doc := rt.OpenAPI("test")
			if _, ok := doc["paths"].(map[string]any)["/api/v1/orgs/{org}/staff/{id}"]; !ok {
				t.Fatal("missing route in OpenAPI")
			}
		})
	})
}
