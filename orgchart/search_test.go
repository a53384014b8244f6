package orgchart_test

import (
	"fmt"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
)

func TestPinyinOf(t *testing.T) {
	cases := []struct{ name, full, initials string }{
		{"张三", "zhangsan", "zs"},
		{"单国强", "shanguoqiang", "sgq"}, // 单 as a surname is shan, not dan
		{"曾丽", "zengli", "zl"},         // not ceng
		{"解放", "xiefang", "xf"},        // not jie
		{"仇英", "qiuying", "qy"},        // not chou
		{"朴志明", "piaozhiming", "pzm"},  // not pu
		{"区明", "ouming", "om"},         // not qu
		{"查理", "zhali", "zl"},          // not cha
		{"尉迟恭", "yuchigong", "ycg"},    // compound surname
		{"乐乐", "yuele", "yl"},          // surname yue, given name le
		{"Anna 李", "annali", "al"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := orgchart.PinyinOf(c.name)
			if k.Full != c.full || k.Initials != c.initials {
				t.Fatalf("PinyinOf(%s) = %+v, want %s %s", c.name, k, c.full, c.initials)
			}
		})
	}
}

func TestDirectorySearch(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s := f.svc
		h := newHospital(t, s, "rmyy")
		staff := core.Actor{Kind: core.ActorUser, UserID: h.nurse.ID, OrgID: h.org.ID}
		cases := []struct {
			q     string
			first string // name of the best hit
			by    string
			n     int // hits, -1 to skip
		}{
			{"张三", "张三", "name", 2},         // exact first, then 张三丰 by prefix
			{"zhangsan", "张三", "pinyin", 2}, // exact pinyin, then 张三丰 by prefix
			{"zs", "张三", "initials", 2},
			{"zsf", "张三丰", "initials", 1},
			{"shanguo", "单国强", "pinyin", 1},
			{"sgq", "单国强", "initials", 1},
			{"zengli", "曾丽", "pinyin", 1},
			{"N100", "张三", "employee_no", 1},
			{"13800138000", "张三", "phone", 1},
			{"8001", "张三", "phone", 1},
			{"医务处", "解放", "department", 3}, // 解放 (on leave), 查理 and 张三丰 work there, in pinyin order
			{"丽", "曾丽", "name", 1},
			{"nobody", "", "", 0},
		}
		for _, c := range cases {
			t.Run(c.q, func(t *testing.T) {
				hits, err := s.Search(ctx, staff, c.q, 20)
				if err != nil {
					t.Fatal(err)
				}
				if c.n >= 0 && len(hits) != c.n {
					t.Fatalf("%d hits, want %d: %+v", len(hits), c.n, hits)
				}
				if c.n > 0 && (hits[0].Name != c.first || hits[0].MatchedBy != c.by) {
					t.Fatalf("first hit %+v, want %s by %s", hits[0], c.first, c.by)
				}
			})
		}
		t.Run("ranking: exact before prefix before initials before department", func(t *testing.T) {
			hits, _ := s.Search(ctx, staff, "zs", 20)
			if hits[0].Score <= hits[1].Score && hits[0].Name != "张三" {
				t.Fatalf("hits = %+v", hits)
			}
		})
		t.Run("leavers are not found", func(t *testing.T) {
			must[orgchart.Staff](t)(s.DeactivateStaff(ctx, sys, h.org.ID, h.doctor.ID))
			hits, _ := s.Search(ctx, staff, "张三丰", 20)
			for _, hit := range hits {
				if hit.ID == h.doctor.ID {
					t.Fatal("found a leaver")
				}
			}
		})
		t.Run("empty query is refused", func(t *testing.T) {
			_, err := s.Search(ctx, staff, "  ", 20)
			wantCode(t, err, core.EInvalid, "q")
		})
	})
}

func TestGroupSharing(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		s := f.svc
		city := newHospital(t, s, "jcyy")
		county := newHospital(t, s, "qsxy")
		third := newHospital(t, s, "third")
		cityUser := core.Actor{Kind: core.ActorUser, UserID: city.nurse.ID, OrgID: city.org.ID}
		countyUser := core.Actor{Kind: core.ActorUser, UserID: county.nurse.ID, OrgID: county.org.ID}
		thirdUser := core.Actor{Kind: core.ActorUser, UserID: third.nurse.ID, OrgID: third.org.ID}

		count := func(t *testing.T, a core.Actor, q, orgID string) int {
			t.Helper()
			hits, err := s.Search(ctx, a, q, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, h := range hits {
				if h.OrgID == orgID {
					n++
				}
			}
			return n
		}
		t.Run("without a group nothing is shared", func(t *testing.T) {
			if n := count(t, countyUser, "张三", city.org.ID); n != 0 {
				t.Fatalf("county sees %d of the city hospital", n)
			}
			_, err := s.Tree(ctx, countyUser, city.org.ID)
			wantCode(t, err, core.ENotFound, "")
		})
		g := must[orgchart.Group](t)(s.CreateGroup(ctx, sys, "江城医联体", []orgchart.GroupMember{
			{OrgID: city.org.ID, Share: orgchart.ShareSubtrees, DepartmentIDs: []string{city.cardio.ID}},
			{OrgID: county.org.ID, Share: orgchart.ShareWhole},
		}))
		t.Run("a shared subtree is visible, the rest is not", func(t *testing.T) {
			// 张三 is in the city's 心内一病区 (shared); 张三丰 in 心内科 (shared).
			if n := count(t, countyUser, "张三", city.org.ID); n != 2 {
				t.Fatalf("county sees %d", n)
			}
			if n := count(t, countyUser, "王院长", city.org.ID); n != 0 {
				t.Fatal("county sees the city president, who is not shared")
			}
			tree := must[[]orgchart.TreeNode](t)(s.Tree(ctx, countyUser, city.org.ID))
			if len(tree) != 1 || tree[0].ID != city.cardio.ID {
				t.Fatalf("tree = %+v", tree)
			}
			_, err := s.Card(ctx, countyUser, city.org.ID, city.president.ID)
			wantCode(t, err, core.ENotFound, "")
			must[orgchart.Card](t)(s.Card(ctx, countyUser, city.org.ID, city.nurse.ID))
			for _, c := range []struct {
				viewer, person string
				want           bool
			}{
				{county.org.ID, city.nurse.ID, true},
				{county.org.ID, city.president.ID, false},
				{third.org.ID, city.nurse.ID, false},
				{city.org.ID, city.president.ID, true},
			} {
				if got, err := s.Visible(ctx, c.viewer, city.org.ID, c.person); err != nil || got != c.want {
					t.Fatalf("Visible(%s, %s) = %v, %v", c.viewer, c.person, got, err)
				}
			}
			orgs := must[[]orgchart.Org](t)(s.VisibleOrgs(ctx, countyUser))
			if len(orgs) != 2 {
				t.Fatalf("visible orgs = %+v", orgs)
			}
		})
		t.Run("whole sharing and outsiders", func(t *testing.T) {
			if n := count(t, cityUser, "王院长", county.org.ID); n != 1 {
				t.Fatalf("city sees %d of the county president", n)
			}
			if n := count(t, thirdUser, "张三", city.org.ID) + count(t, thirdUser, "张三", county.org.ID); n != 0 {
				t.Fatal("an outsider sees group members")
			}
			if n := count(t, cityUser, "张三", city.org.ID); n != 2 {
				t.Fatal("own hospital not fully visible")
			}
		})
		t.Run("sharing can be withdrawn and is refused with bad input", func(t *testing.T) {
			must[orgchart.Group](t)(s.SetSharing(ctx, sys, g.ID, orgchart.GroupMember{OrgID: county.org.ID, Share: orgchart.ShareNone}))
			if n := count(t, cityUser, "王院长", county.org.ID); n != 0 {
				t.Fatal("still visible after sharing nothing")
			}
			_, err := s.SetSharing(ctx, sys, g.ID, orgchart.GroupMember{OrgID: county.org.ID, Share: orgchart.ShareSubtrees, DepartmentIDs: []string{city.cardio.ID}})
			wantCode(t, err, core.EInvalid, "department_ids")
			_, err = s.SetSharing(ctx, sys, g.ID, orgchart.GroupMember{OrgID: third.org.ID, Share: orgchart.ShareWhole})
			wantCode(t, err, core.EInvalid, "org_id")
			_, err = s.SetSharing(ctx, sys, g.ID, orgchart.GroupMember{OrgID: county.org.ID, Share: "most"})
			wantCode(t, err, core.EInvalid, "share")
		})
		t.Run("another node sees the new sharing", func(t *testing.T) {
			other := f.node(t)
			if n := len(must[[]orgchart.Group](t)(other.Groups(ctx, countyUser))); n != 1 {
				t.Fatalf("groups = %d", n)
			}
		})
	})
}

// People names ids of one's own hospital and of group partners as far as they
// share, in one call; the rest is left out.
func TestPeopleByID(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		s := newFixture(t, db).svc
		city := newHospital(t, s, "jcyy")
		county := newHospital(t, s, "qsxy")
		third := newHospital(t, s, "third")
		must[orgchart.Group](t)(s.CreateGroup(ctx, sys, "江城医联体", []orgchart.GroupMember{
			{OrgID: city.org.ID, Share: orgchart.ShareSubtrees, DepartmentIDs: []string{city.cardio.ID}},
			{OrgID: county.org.ID, Share: orgchart.ShareWhole},
		}))
		countyUser := core.Actor{Kind: core.ActorUser, UserID: county.nurse.ID, OrgID: county.org.ID}
		thirdUser := core.Actor{Kind: core.ActorUser, UserID: third.nurse.ID, OrgID: third.org.ID}
		ids := []string{city.nurse.ID, city.president.ID, county.doctor.ID, third.nurse.ID, core.NewID(), city.nurse.ID}
		names := func(ps []orgchart.PersonName) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.Name+"@"+p.OrgName)
			}
			return out
		}

		got := must[[]orgchart.PersonName](t)(s.People(ctx, countyUser, ids))
		// The city's nurse (shared subtree) and the county's own doctor; not
		// the city's president (not shared), an outsider or nobody.
		if fmt.Sprint(names(got)) != "[张三@jcyy医院 张三丰@qsxy医院]" {
			t.Fatalf("county sees %v", names(got))
		}
		if p := got[0]; p.ID != city.nurse.ID || p.OrgID != city.org.ID || p.Position != "护士" || p.PrimaryDepartmentID != city.ward.ID ||
			p.PrimaryDepartment != "院领导/内科/心内科/心内一病区" || p.Status != orgchart.Active {
			t.Fatalf("partner nurse %+v", p)
		}
		if got := must[[]orgchart.PersonName](t)(s.People(ctx, thirdUser, ids)); fmt.Sprint(names(got)) != "[张三@third医院]" {
			t.Fatalf("an outsider sees %v", names(got))
		}
		many := make([]string, orgchart.MaxPeopleBatch+1)
		for i := range many {
			many[i] = core.NewID()
		}
		_, err := s.People(ctx, countyUser, many)
		wantCode(t, err, core.EInvalid, "ids")
		_, err = s.People(ctx, countyUser, nil)
		wantCode(t, err, core.EInvalid, "ids")
		_, err = s.People(ctx, countyUser, []string{city.nurse.ID, "../x"})
		wantCode(t, err, core.EInvalid, "ids")
		if got := must[[]orgchart.PersonName](t)(s.People(ctx, countyUser, many[:orgchart.MaxPeopleBatch])); len(got) != 0 {
			t.Fatalf("unknown ids answered: %v", got)
		}
	})
}
