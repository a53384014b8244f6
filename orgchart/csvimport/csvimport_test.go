package csvimport_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/csvimport"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

var ctx = context.Background()

const staffCSV = `employee_no,name,department,departments,head_of,position,title,phone,email,status,duty_roles
1001,王建国,院领导,,院领导,主任医师,院长,13900000001,wjg@jcyy.test,,院长
1002,单国强,内科,,内科,主任医师,科主任,13900000002,,在职,
1003,曾丽,内科/心内科/心内一病区,护理部,内科/心内科/心内一病区,主管护师,护士长,13900000003,,,护理部主任
1004,张三,内科/心内科/心内一病区,,,护士,,13800138000,,,
1005,李四,内科/心内科,胸痛中心;护理部,,主治医师,,,,,
`

func TestParse(t *testing.T) {
	t.Run("columns and lists", func(t *testing.T) {
		r, errs := csvimport.Parse([]byte(staffCSV), false)
		if len(errs) != 0 || len(r.People) != 5 {
			t.Fatalf("errs %v people %d", errs, len(r.People))
		}
		p := r.People[4]
		if p.Line != 6 || p.EmployeeNo != "1005" || !slices.Equal(p.Department, []string{"内科", "心内科"}) || len(p.OtherDepartments) != 2 || p.OtherDepartments[1][0] != "护理部" {
			t.Fatalf("person = %+v", p)
		}
		if r.People[1].Status != orgchart.Active || r.People[2].DutyRoles[0] != "护理部主任" {
			t.Fatalf("status/roles: %+v", r.People[1:3])
		}
	})
	t.Run("BOM and GBK", func(t *testing.T) {
		gbk, err := simplifiedchinese.GBK.NewEncoder().String("工号,姓名,部门\r\n2001,欧阳娜娜,儿科\r\n")
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"bom": append([]byte("\xef\xbb\xbf"), staffCSV...), "gbk": []byte(gbk)} {
			r, errs := csvimport.Parse(data, false)
			if len(errs) != 0 || len(r.People) == 0 {
				t.Fatalf("%s: errs %v", name, errs)
			}
			if name == "gbk" && (r.People[0].Name != "欧阳娜娜" || r.People[0].Department[0] != "儿科") {
				t.Fatalf("gbk person = %+v", r.People[0])
			}
		}
	})
	t.Run("malformed rows are reported by line and column", func(t *testing.T) {
		bad := "employee_no,name,department,status\n" +
			"1,甲,内科,\n" +
			"2,,内科,\n" + // line 3: empty name
			"3,丙,内科//心内科,\n" + // line 4: empty level
			"4,丁,内科,retired\n" + // line 5: bad status
			"5,戊,内科\n" + // line 6: too few fields
			"6,\"己,内科,\n" // line 7: broken quote
		_, errs := csvimport.Parse([]byte(bad), false)
		want := map[int]string{3: "name", 4: "department", 5: "status", 6: "row", 7: "row"}
		got := map[int]string{}
		for _, e := range errs {
			got[e.Line] = e.Column
		}
		for line, col := range want {
			if got[line] != col {
				t.Fatalf("line %d: column %q, want %q (all: %+v)", line, got[line], col, errs)
			}
		}
	})
	t.Run("header problems", func(t *testing.T) {
		for _, c := range []struct{ data, col string }{
			{"", "file"},
			{"name,department\n", "employee_no"},
			{"employee_no,name,department,shoe_size\n", "shoe_size"},
		} {
			_, errs := csvimport.Parse([]byte(c.data), false)
			if len(errs) == 0 || errs[0].Column != c.col {
				t.Fatalf("%q: %+v", c.data, errs)
			}
		}
	})
}

func TestImport(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		accounts := orgcharttest.NewAccounts()
		svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Accounts: accounts, Audit: &orgcharttest.Audit{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		sys := core.SystemActor
		org, err := svc.CreateOrg(ctx, sys, "jcyy", "江城市第一人民医院")
		if err != nil {
			t.Fatal(err)
		}
		load := func(t *testing.T, data string, full, dry bool) (*orgchart.ImportPlan, error) {
			t.Helper()
			r, errs := csvimport.Parse([]byte(data), full)
			if len(errs) > 0 {
				t.Fatalf("parse: %+v", errs)
			}
			return svc.Import(ctx, sys, org.ID, r, dry)
		}
		t.Run("dry run shows the plan and changes nothing", func(t *testing.T) {
			plan, err := load(t, staffCSV, false, true)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Applied || len(plan.Adds) != 5 || len(plan.NewDepartments) != 6 {
				t.Fatalf("plan = %+v", plan)
			}
			if tree, _ := svc.Tree(ctx, sys, org.ID); len(tree) != 0 {
				t.Fatalf("dry run wrote a tree: %+v", tree)
			}
		})
		t.Run("apply", func(t *testing.T) {
			plan, err := load(t, staffCSV, false, false)
			if err != nil || !plan.Applied || len(plan.Adds) != 5 {
				t.Fatalf("plan %+v err %v", plan, err)
			}
			nurse, err := svc.PersonByEmployeeNo(ctx, org.ID, "1004")
			if err != nil {
				t.Fatal(err)
			}
			boss, _ := svc.ManagerOf(ctx, org.ID, nurse.ID, 1)
			head, _ := svc.PersonByEmployeeNo(ctx, org.ID, "1003")
			if !slices.Equal(boss, []string{head.ID}) {
				t.Fatalf("manager = %v", boss)
			}
			if holders, _ := svc.RoleHolders(ctx, org.ID, "院长"); len(holders) != 1 {
				t.Fatalf("院长 = %v", holders)
			}
			if accounts.LoginOf(nurse.ID) != "jcyy.1004" {
				t.Fatalf("login = %q", accounts.LoginOf(nurse.ID))
			}
		})
		t.Run("re-running the same file changes nothing", func(t *testing.T) {
			plan, err := load(t, staffCSV, true, false)
			if err != nil || plan.Changed() || plan.Unchanged != 5 || plan.Applied {
				t.Fatalf("plan %+v err %v", plan, err)
			}
		})
		t.Run("moves, updates and leavers in full mode", func(t *testing.T) {
			next := strings.Replace(staffCSV, "1004,张三,内科/心内科/心内一病区,,,护士,,13800138000", "1004,张三,内科/心内科,,,护师,,13800138000", 1)
			next = strings.Replace(next, "1005,李四,内科/心内科,胸痛中心;护理部,,主治医师,,,,,\n", "", 1)
			plan, err := load(t, next, true, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Moves) != 1 || plan.Moves[0].EmployeeNo != "1004" || plan.Moves[0].From[0] != "内科/心内科/心内一病区" || plan.Moves[0].To[0] != "内科/心内科" ||
				len(plan.Updates) != 1 || plan.Updates[0].Fields[0] != "position" || len(plan.Leavers) != 1 || plan.Leavers[0].EmployeeNo != "1005" {
				t.Fatalf("plan = %+v", plan)
			}
			if _, err := load(t, next, true, false); err != nil {
				t.Fatal(err)
			}
			gone, _ := svc.PersonByEmployeeNo(ctx, org.ID, "1005")
			if gone.Status != orgchart.Left || !accounts.IsDisabled(gone.ID) {
				t.Fatalf("leaver = %+v", gone)
			}
		})
		t.Run("errors name the line and nothing is applied", func(t *testing.T) {
			bad := "employee_no,name,department,head_of,phone\n" +
				"3001,新人,儿科,,\n" + // fine on its own, but the file fails
				"1004,张三,内科,不存在/x/,\n" + // line 3: bad head_of path is caught by Parse; use a bad phone instead below
				"3002,重复,儿科,,\n" +
				"3002,重复,儿科,,\n" + // line 5: duplicate in the file
				"1001,王建国,院领导,,phone?\n" // line 6: bad phone
			bad = strings.Replace(bad, "不存在/x/", "", 1)
			r, errs := csvimport.Parse([]byte(bad), false)
			if len(errs) > 0 {
				t.Fatalf("parse: %+v", errs)
			}
			plan, err := svc.Import(ctx, sys, org.ID, r, false)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != core.EInvalid || plan == nil {
				t.Fatalf("err = %v", err)
			}
			lines := map[int]string{}
			for _, e := range plan.Errors {
				lines[e.Line] = e.Column
			}
			if lines[5] != "employee_no" || lines[6] != "phone" || len(plan.Errors) != 2 {
				t.Fatalf("errors = %+v", plan.Errors)
			}
			if _, err := svc.PersonByEmployeeNo(ctx, org.ID, "3001"); !core.IsCode(err, core.ENotFound) {
				t.Fatal("a line of a failed file was applied")
			}
		})
	})
}
