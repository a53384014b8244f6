// Package demo generates a believable hospital group for demonstrations and
// tests: 江城市第一人民医院 (jcyy, the flagship) and 青山县人民医院 (qsxy, a
// county hospital), about 40 departments and 580 staff with Chinese names,
// positions, heads for every department, 护士长 for the wards, duty roles
// (院长, 副院长, 护理部主任 …) and a hospital group (江城医联体) in which the
// flagship shares part of its directory and the county hospital all of it.
//
// Generate is deterministic for a seed. Load writes a dataset through the
// orgchart service (as an import, so it is one transaction per hospital and
// re-running it changes nothing) and returns the logins it created, so the
// caller can set passwords and admin roles. It knows nothing about
// passwords or roles itself.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/orgchart"
)

// Dataset is a generated hospital group.
type Dataset struct {
	Hospitals []Hospital
	Group     GroupSpec
}

// Hospital is one organisation and its staff.
type Hospital struct {
	Code   string
	Name   string
	Roster orgchart.Roster
	// AdminEmployeeNo is the IT head, the natural org admin.
	AdminEmployeeNo string
}

// GroupSpec is the hospital group linking the hospitals.
type GroupSpec struct {
	Name    string
	Sharing []Sharing
}

// Sharing is what one hospital shares with the group.
type Sharing struct {
	OrgCode     string
	Share       string   // orgchart.ShareWhole, ShareSubtrees, ShareNone
	Departments []string // paths, for ShareSubtrees
}

// kind of department, deciding who works there.
type kind int

const (
	lead kind = iota
	office
	clinic // doctors
	ward   // nurses, headed by a 护士长
	tech   // technicians (radiology, laboratory)
	group  // a parent department holding only its head (大内科)
	team   // a cross-department team; members come from elsewhere
)

type deptSpec struct {
	path  string
	kind  kind
	staff int
	head  string // head's title
	role  string // duty role of the head, if any
}

var jcyyDepts = []deptSpec{
	{"院领导", lead, 3, "院长", "院长"},
	{"医务处", office, 8, "处长", "医务处处长"},
	{"医务处/胸痛中心", team, 0, "主任", ""},
	{"护理部", office, 8, "主任", "护理部主任"},
	{"信息中心", office, 8, "主任", "信息中心主任"},
	{"人事处", office, 8, "处长", "人事处处长"},
	{"财务处", office, 8, "处长", "财务处处长"},
	{"总务处", office, 8, "处长", ""},
	{"内科", group, 1, "大内科主任", ""},
	{"内科/心内科", clinic, 12, "科主任", ""},
	{"内科/心内科/心内一病区", ward, 30, "护士长", ""},
	{"内科/心内科/心内二病区", ward, 30, "护士长", ""},
	{"内科/消化内科", clinic, 12, "科主任", ""},
	{"内科/消化内科/消化内科病区", ward, 30, "护士长", ""},
	{"内科/呼吸内科", clinic, 14, "科主任", ""},
	{"外科", group, 1, "大外科主任", ""},
	{"外科/普外科", clinic, 12, "科主任", ""},
	{"外科/普外科/普外科病区", ward, 30, "护士长", ""},
	{"外科/骨科", clinic, 12, "科主任", ""},
	{"外科/骨科/骨科病区", ward, 30, "护士长", ""},
	{"外科/神经外科", clinic, 14, "科主任", ""},
	{"急诊科", clinic, 22, "科主任", ""},
	{"儿科", clinic, 12, "科主任", ""},
	{"儿科/儿科病区", ward, 30, "护士长", ""},
	{"妇产科", clinic, 12, "科主任", ""},
	{"妇产科/产科病区", ward, 30, "护士长", ""},
	{"放射科", tech, 14, "科主任", ""},
	{"检验科", tech, 14, "科主任", ""},
	// Added later; at the end so earlier staff keep their employee numbers.
	{"院办", office, 4, "主任", "院办主任"},
	{"设备科", office, 5, "科长", "设备科科长"},
}

var qsxyDepts = []deptSpec{
	{"院领导", lead, 2, "院长", "院长"},
	{"医务科", office, 5, "科长", "医务科科长"},
	{"护理部", office, 4, "主任", "护理部主任"},
	{"信息科", office, 4, "科长", "信息科科长"},
	{"内科", clinic, 12, "科主任", ""},
	{"内科/内科病区", ward, 32, "护士长", ""},
	{"外科", clinic, 12, "科主任", ""},
	{"外科/外科病区", ward, 32, "护士长", ""},
	{"急诊科", clinic, 20, "科主任", ""},
	{"儿科", clinic, 14, "科主任", ""},
	{"放射科", tech, 8, "科主任", ""},
	{"检验科", tech, 8, "科主任", ""},
}

// Surnames, most common first, with polyphonic and compound ones that
// search must read as surnames.
var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶",
	"程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "方",
	"白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万",
	"钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤", "单", "解", "仇", "朴", "区", "查", "乐", "燕", "翟", "欧阳", "尉迟", "司马", "诸葛"}

var givenNames = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
	"平", "刚", "桂英", "华", "建华", "文", "玉兰", "红", "英", "鹏", "辉", "建国", "晓东", "雪", "婷", "浩", "宇", "欣怡", "子涵", "思远",
	"志强", "海燕", "国庆", "春梅", "晓明", "丹", "琳", "颖", "倩", "斌", "凯", "健", "亮", "慧", "佳", "晨", "悦", "雨萱", "博文", "梓轩",
	"振华", "立新", "淑珍", "丽华", "秀兰", "桂兰", "玉梅", "德明", "永刚", "少华", "嘉怡", "诗涵", "一鸣", "思琪", "梦瑶", "俊杰", "晓燕"}

var (
	doctorPositions = []string{"主任医师", "副主任医师", "主治医师", "主治医师", "住院医师", "住院医师", "住院医师"}
	nursePositions  = []string{"主任护师", "副主任护师", "主管护师", "主管护师", "护师", "护师", "护士", "护士", "护士"}
	techPositions   = []string{"主任技师", "副主任技师", "主管技师", "技师", "技师", "技士"}
	officePositions = []string{"科员", "科员", "干事", "工程师"}
)

// Generate builds the dataset for seed.
func Generate(seed int64) Dataset {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x526f756e6473))
	ds := Dataset{
		Hospitals: []Hospital{
			hospital(rng, "jcyy", "江城市第一人民医院", jcyyDepts, 10001, "信息中心"),
			hospital(rng, "qsxy", "青山县人民医院", qsxyDepts, 20001, "信息科"),
		},
		Group: GroupSpec{Name: "江城医联体", Sharing: []Sharing{
			{OrgCode: "jcyy", Share: orgchart.ShareSubtrees, Departments: []string{"江城市第一人民医院/院领导", "江城市第一人民医院/医务处",
				"江城市第一人民医院/急诊科", "江城市第一人民医院/内科/心内科"}},
			{OrgCode: "qsxy", Share: orgchart.ShareWhole},
		}},
	}
	return ds
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func name(rng *rand.Rand) string {
	// Common surnames come up more often: square the uniform draw.
	f := rng.Float64()
	s := surnames[int(f*f*float64(len(surnames)))]
	g := pick(rng, givenNames)
	if rng.IntN(3) == 0 && len([]rune(g)) == 1 {
		g += pick(rng, givenNames[:40])
	}
	return s + g
}

func hospital(rng *rand.Rand, code, title string, depts []deptSpec, firstNo int, itDept string) Hospital {
	h := Hospital{Code: code, Name: title, Roster: orgchart.Roster{Full: true, Source: "demo"}}
	no := firstNo
	// The hospital itself is the top of the tree and its president heads
	// it, so every chain of managers ends at the 院长.
	h.Roster.Departments = append(h.Roster.Departments, orgchart.RosterDepartment{Path: []string{title}})
	var doctors []int // indexes of clinical doctors, for the MDT team
	for i, d := range depts {
		path := append([]string{title}, strings.Split(d.path, "/")...)
		h.Roster.Departments = append(h.Roster.Departments, orgchart.RosterDepartment{Path: path, Order: i})
		for k := 0; k < d.staff; k++ {
			p := orgchart.RosterPerson{EmployeeNo: fmt.Sprint(no), Name: name(rng), Department: path,
				Phone: fmt.Sprintf("13%d%08d", 5+rng.IntN(5), rng.IntN(100_000_000))}
			p.Email = fmt.Sprintf("%d@%s.rounds.test", no, code)
			no++
			switch d.kind {
			case lead:
				p.Position = "主任医师"
				p.Title = "副院长"
				p.DutyRoles = []string{"副院长"}
			case office:
				p.Position = pick(rng, officePositions)
			case clinic, group:
				p.Position = pick(rng, doctorPositions[2:])
			case ward:
				p.Position = pick(rng, nursePositions[2:])
			case tech:
				p.Position = pick(rng, techPositions[2:])
			}
			if k == 0 { // the head
				p.HeadOf = [][]string{path}
				if d.kind == lead {
					p.HeadOf = append(p.HeadOf, []string{title})
				}
				p.Title = d.head
				if d.role != "" {
					p.DutyRoles = []string{d.role}
				}
				switch d.kind {
				case lead, clinic, group:
					p.Position = pick(rng, doctorPositions[:2])
				case ward:
					p.Position = pick(rng, nursePositions[:3])
				case tech:
					p.Position = pick(rng, techPositions[:2])
				}
				if d.path == itDept {
					h.AdminEmployeeNo = p.EmployeeNo
					p.Position = "高级工程师"
				}
			}
			if d.kind == clinic && k > 0 && k < 4 {
				doctors = append(doctors, len(h.Roster.People))
			}
			h.Roster.People = append(h.Roster.People, p)
		}
	}
	// Cross-department team (胸痛中心): some doctors also sit there, and the
	// first of them heads it.
	for _, d := range depts {
		if d.kind != team {
			continue
		}
		path := append([]string{title}, strings.Split(d.path, "/")...)
		for j, idx := range doctors {
			if j%4 != 0 {
				continue
			}
			p := &h.Roster.People[idx]
			p.OtherDepartments = append(p.OtherDepartments, path)
			if j == 0 {
				p.HeadOf = append(p.HeadOf, path)
			}
		}
	}
	return h
}

// Account is a login the demo created, with what the lead needs to give it
// a password and roles.
type Account struct {
	OrgCode       string   `json:"org_code"`
	OrgID         string   `json:"org_id"`
	UserID        string   `json:"user_id"`
	Login         string   `json:"login"`
	Name          string   `json:"name"`
	EmployeeNo    string   `json:"employee_no"`
	Department    string   `json:"department"`
	Position      string   `json:"position,omitempty"`
	Title         string   `json:"title,omitempty"`
	DutyRoles     []string `json:"duty_roles,omitempty"`
	SuggestedRole string   `json:"suggested_role"` // authz role: org_admin, dept_head or staff
}

// Loaded is what Load wrote.
type Loaded struct {
	Orgs     []orgchart.Org
	Group    orgchart.Group
	Accounts []Account
}

// Load writes ds through svc as the system: each hospital (created when its
// code is new), its staff (one import per hospital, so login accounts are
// made through the service's Accounts) and the hospital group (created once,
// by name). Running it again changes nothing.
func Load(ctx context.Context, svc *orgchart.Service, ds Dataset) (*Loaded, error) {
	sys := core.SystemActor
	existing, err := svc.VisibleOrgs(ctx, sys)
	if err != nil {
		return nil, err
	}
	out := &Loaded{}
	byCode := map[string]orgchart.Org{}
	for _, o := range existing {
		byCode[o.Code] = o
	}
	for _, h := range ds.Hospitals {
		o, ok := byCode[h.Code]
		if !ok {
			if o, err = svc.CreateOrg(ctx, sys, h.Code, h.Name); err != nil {
				return nil, fmt.Errorf("demo: create %s: %w", h.Code, err)
			}
			byCode[h.Code] = o
		}
		if _, err := svc.Import(ctx, sys, o.ID, h.Roster, false); err != nil {
			return nil, fmt.Errorf("demo: load %s: %w", h.Code, err)
		}
		out.Orgs = append(out.Orgs, o)
		for _, rp := range h.Roster.People {
			p, err := svc.PersonByEmployeeNo(ctx, o.ID, rp.EmployeeNo)
			if err != nil {
				return nil, err
			}
			role := authz.RoleStaff
			if len(rp.HeadOf) > 0 {
				role = authz.RoleDeptHead
			}
			if rp.EmployeeNo == h.AdminEmployeeNo {
				role = authz.RoleOrgAdmin
			}
			out.Accounts = append(out.Accounts, Account{OrgCode: h.Code, OrgID: o.ID, UserID: p.ID, Login: orgchart.Login(h.Code, p.EmployeeNo),
				Name: p.Name, EmployeeNo: p.EmployeeNo, Department: strings.Join(rp.Department, "/"), Position: p.Position, Title: p.Title,
				DutyRoles: p.DutyRoles, SuggestedRole: role})
		}
	}
	groups, err := svc.Groups(ctx, sys)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.Name == ds.Group.Name {
			out.Group = g
			return out, nil
		}
	}
	var members []orgchart.GroupMember
	for _, sh := range ds.Group.Sharing {
		o := byCode[sh.OrgCode]
		m := orgchart.GroupMember{OrgID: o.ID, Share: sh.Share}
		for _, path := range sh.Departments {
			tree, err := svc.Tree(ctx, sys, o.ID)
			if err != nil {
				return nil, err
			}
			id := findPath(tree, path)
			if id == "" {
				return nil, fmt.Errorf("demo: no department %s in %s", path, sh.OrgCode)
			}
			m.DepartmentIDs = append(m.DepartmentIDs, id)
		}
		members = append(members, m)
	}
	if out.Group, err = svc.CreateGroup(ctx, sys, ds.Group.Name, members); err != nil {
		return nil, fmt.Errorf("demo: group: %w", err)
	}
	return out, nil
}

func findPath(nodes []orgchart.TreeNode, path string) string {
	for _, n := range nodes {
		if n.Path == path {
			return n.ID
		}
		if id := findPath(n.Children, path); id != "" {
			return id
		}
	}
	return ""
}
