package csvimport_test

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"

	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/csvimport"
)

// FuzzParse feeds arbitrary files to Parse: it never panics, every problem
// names a line (or the whole file), and a roster that parsed cleanly, written
// back out as CSV, parses to the same people.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"employee_no,name,department\n1001,王小明,内科/心内科\n",
		"工号,姓名,部门,兼职部门,负责部门,职务,职称,手机,邮箱,状态,职能角色\n2001,李护士,护理部/ICU,内科;外科,护理部/ICU,护士,护士长,13800000000,li@example.org,在职,护理部主任\n",
		"\xef\xbb\xbfemployee_no,name,department,status\n3001,赵,外科,离职\n3002,钱,,left\n",
		"employee_no,name,department\n\"1\"\"2\",\"a\nb\",x\n",
		"employee_no,name,department\n1,a,//\n2,b,x//y\n",
		"employee_no,name\n1,a\n",
		"employee_no,name,department,department\n",
		"\xb9\xa4\xba\xc5,\xd0\xd5\xc3\xfb,\xb2\xbf\xc3\xc5\n1,\xd5\xc5\xc8\xfd,\xc4\xda\xbf\xc6\n", // GBK
		"employee_no,name,department\n1,a\n2,b,c,d\n",
		"",
		"\x00\xff\xfe",
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, full bool) {
		r, errs := csvimport.Parse(data, full)
		if r.Full != full || r.Source != "csv" {
			t.Fatalf("roster header %+v", r)
		}
		for _, e := range errs {
			if e.Line < 1 && e.Column != "file" {
				t.Fatalf("a problem without a line: %+v", e)
			}
			if e.Message == "" || e.Column == "" {
				t.Fatalf("a problem without a column or message: %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		for _, p := range r.People {
			if p.EmployeeNo == "" || p.Name == "" || p.Line < 2 {
				t.Fatalf("a person without number, name or line: %+v", p)
			}
		}
		again, errs := csvimport.Parse(writeBack(t, r), full)
		if len(errs) > 0 {
			t.Fatalf("the written-back roster does not parse: %v\n%q", errs, writeBack(t, r))
		}
		if !samePeople(r.People, again.People) {
			t.Fatalf("round trip changed the roster:\n%+v\n%+v", r.People, again.People)
		}
	})
}

// writeBack writes a roster in the documented format.
func writeBack(t *testing.T, r orgchart.Roster) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	paths := func(ps [][]string) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strings.Join(p, "/")
		}
		return strings.Join(s, ";")
	}
	_ = w.Write([]string{"employee_no", "name", "department", "departments", "head_of", "position", "title", "phone", "email", "status", "duty_roles"})
	for _, p := range r.People {
		_ = w.Write([]string{p.EmployeeNo, p.Name, strings.Join(p.Department, "/"), paths(p.OtherDepartments), paths(p.HeadOf),
			p.Position, p.Title, p.Phone, p.Email, string(p.Status), strings.Join(p.DutyRoles, ";")})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func samePeople(a, b []orgchart.RosterPerson) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Line, y.Line = 0, 0
		if len(x.OtherDepartments) == 0 {
			x.OtherDepartments = nil
		}
		if len(y.OtherDepartments) == 0 {
			y.OtherDepartments = nil
		}
		if len(x.DutyRoles) == 0 {
			x.DutyRoles = nil
		}
		if len(y.DutyRoles) == 0 {
			y.DutyRoles = nil
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
