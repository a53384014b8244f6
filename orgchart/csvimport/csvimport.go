// Package csvimport reads a staff list exported from a hospital's HR system
// or Excel into an orgchart.Roster. It knows the file format, not the rules
// of the directory: the orgchart service plans and applies the roster.
//
// The file is CSV with a header row. Columns, in any order (Chinese headers
// are accepted too):
//
//	employee_no  工号      required, unique in the file
//	name         姓名      required
//	department   部门      required unless status is left: path from the top, "内科/心内科/心内一病区"
//	departments  兼职部门  further department paths, separated by ";"
//	head_of      负责部门  paths of departments the person heads, separated by ";"
//	position     职务      主任医师, 护士 …
//	title        职称/头衔 科主任, 护士长 …
//	phone        手机
//	email        邮箱
//	status       状态      active/在职 (default), on_leave/休假, left/离职
//	duty_roles   职能角色  院长, 护理部主任 …, separated by ";"
//
// The file may be UTF-8 (with or without a byte-order mark) or GB18030/GBK,
// as Excel in Chinese Windows writes it.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/roundshq/rounds/orgchart"
)

// MaxBytes is the largest file accepted (about 100,000 staff).
const MaxBytes = 32 << 20

var aliases = map[string]string{
	"employee_no": "employee_no", "工号": "employee_no", "员工编号": "employee_no",
	"name": "name", "姓名": "name",
	"department": "department", "部门": "department", "主部门": "department",
	"departments": "departments", "兼职部门": "departments", "其他部门": "departments",
	"head_of": "head_of", "负责部门": "head_of",
	"position": "position", "职务": "position",
	"title": "title", "职称": "title", "头衔": "title",
	"phone": "phone", "手机": "phone", "电话": "phone",
	"email": "email", "邮箱": "email",
	"status": "status", "状态": "status",
	"duty_roles": "duty_roles", "职能角色": "duty_roles",
}

var statuses = map[string]orgchart.Status{
	"": "", "active": orgchart.Active, "在职": orgchart.Active,
	"on_leave": orgchart.OnLeave, "休假": orgchart.OnLeave, "请假": orgchart.OnLeave,
	"left": orgchart.Left, "离职": orgchart.Left,
}

// Parse reads a CSV file into a roster. Problems are reported per line and
// column; a roster with problems must not be applied. full is copied into
// the roster (absent people become leavers).
func Parse(data []byte, full bool) (orgchart.Roster, []orgchart.LineError) {
	r := orgchart.Roster{Full: full, Source: "csv"}
	var errs []orgchart.LineError
	if len(data) > MaxBytes {
		return r, []orgchart.LineError{{Column: "file", Message: fmt.Sprintf("the file is larger than %d MB", MaxBytes>>20)}}
	}
	text, err := decode(data)
	if err != nil {
		return r, []orgchart.LineError{{Column: "file", Message: err.Error()}}
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return r, []orgchart.LineError{{Line: 1, Column: "file", Message: "the file is empty"}}
	}
	if err != nil {
		return r, []orgchart.LineError{{Line: 1, Column: "header", Message: csvMessage(err)}}
	}
	cols := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		name, ok := aliases[strings.ToLower(strings.TrimSpace(h))]
		if strings.TrimSpace(h) == "" {
			// Name it by position: an empty name would locate nothing.
			errs = append(errs, orgchart.LineError{Line: 1, Column: fmt.Sprintf("column %d", i+1), Message: fmt.Sprintf("column %d has no name", i+1)})
			continue
		}
		if !ok {
			errs = append(errs, orgchart.LineError{Line: 1, Column: h, Message: fmt.Sprintf("unknown column %q", h)})
			continue
		}
		if have[name] {
			errs = append(errs, orgchart.LineError{Line: 1, Column: h, Message: fmt.Sprintf("column %s appears twice", name)})
		}
		have[name] = true
		cols[i] = name
	}
	for _, req := range []string{"employee_no", "name", "department"} {
		if !have[req] {
			errs = append(errs, orgchart.LineError{Line: 1, Column: req, Message: "the required column " + req + " is missing"})
		}
	}
	if len(errs) > 0 {
		return r, errs
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// FieldPos panics after a failed Read: the line comes from the error.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, orgchart.LineError{Line: pe.Line, Column: "row", Message: csvMessage(err)})
				continue
			}
			errs = append(errs, orgchart.LineError{Column: "file", Message: csvMessage(err)})
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rec) != len(cols) {
			errs = append(errs, orgchart.LineError{Line: line, Column: "row", Message: fmt.Sprintf("%d fields, the header has %d", len(rec), len(cols))})
			continue
		}
		p := orgchart.RosterPerson{Line: line}
		bad := false
		fail := func(col, format string, args ...any) {
			errs = append(errs, orgchart.LineError{Line: line, Column: col, EmployeeNo: p.EmployeeNo, Message: fmt.Sprintf(format, args...)})
			bad = true
		}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch cols[i] {
			case "employee_no":
				p.EmployeeNo = v
			case "name":
				p.Name = v
			case "department":
				if v != "" {
					path, err := splitPath(v)
					if err != nil {
						fail("department", "%s", err)
					}
					p.Department = path
				}
			case "departments", "head_of":
				for _, item := range splitList(v) {
					path, err := splitPath(item)
					if err != nil {
						fail(cols[i], "%s", err)
						continue
					}
					if cols[i] == "departments" {
						p.OtherDepartments = append(p.OtherDepartments, path)
					} else {
						p.HeadOf = append(p.HeadOf, path)
					}
				}
			case "position":
				p.Position = v
			case "title":
				p.Title = v
			case "phone":
				p.Phone = v
			case "email":
				p.Email = v
			case "status":
				st, ok := statuses[strings.ToLower(v)]
				if !ok {
					fail("status", "status %q must be active (在职), on_leave (休假) or left (离职)", v)
				}
				p.Status = st
			case "duty_roles":
				p.DutyRoles = splitList(v)
			}
		}
		if p.EmployeeNo == "" {
			fail("employee_no", "the employee number is empty")
		}
		if p.Name == "" {
			fail("name", "the name is empty")
		}
		if !bad {
			r.People = append(r.People, p)
		}
	}
	return r, errs
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV: " + pe.Err.Error()
	}
	return "malformed CSV: " + err.Error()
}

// decode returns the file as UTF-8 text: a byte-order mark is dropped, and a
// file that is not valid UTF-8 is read as GB18030 (a superset of GBK).
func decode(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || !utf8.Valid(out) {
		return "", errors.New("the file is neither UTF-8 nor GB18030 text")
	}
	return string(out), nil
}

// splitList splits "a;b；c|d" into trimmed, non-empty items.
func splitList(v string) []string {
	f := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' || r == '|' || r == '、' })
	out := make([]string, 0, len(f))
	for _, s := range f {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func splitPath(v string) ([]string, error) {
	parts := strings.Split(strings.Trim(strings.TrimSpace(v), "/"), "/")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return nil, fmt.Errorf("department path %q has an empty level", v)
		}
	}
	return parts, nil
}
