package ldapsync_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	ldapsync "github.com/roundshq/rounds/orgchart/ldap"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

const base = "ou=jcyy,dc=hospital,dc=test"

type denyAll struct{}

func (denyAll) Authorize(context.Context, core.Actor, string, string, string) error {
	return core.Errorf(core.EForbidden, "no")
}

func person(uid, dn, no, name, title string) []string {
	e := []string{"dn", "uid=" + uid + "," + dn, "objectClass", "inetOrgPerson", "uid", uid, "cn", name, "sn", name[:3],
		"displayName", name, "employeeNumber", no, "mail", uid + "@jcyy.test", "telephoneNumber", "1390000" + no, "employeeType", "医师"}
	if title != "" {
		e = append(e, "title", title)
	}
	return e
}

func hospitalLDIF() string {
	inner := "ou=内科," + base
	cardio := "ou=心内科," + inner
	ward := "ou=心内一病区," + cardio
	return ldif(
		[]string{"dn", "dc=hospital,dc=test", "objectClass", "dcObject", "objectClass", "organization", "dc", "hospital", "o", "Hospital"},
		[]string{"dn", base, "objectClass", "organizationalUnit", "ou", "jcyy"},
		[]string{"dn", inner, "objectClass", "organizationalUnit", "ou", "内科", "seeAlso", "uid=shan," + inner},
		[]string{"dn", cardio, "objectClass", "organizationalUnit", "ou", "心内科"},
		[]string{"dn", ward, "objectClass", "organizationalUnit", "ou", "心内一病区", "seeAlso", "uid=zengli," + ward},
		[]string{"dn", "ou=护理部," + base, "objectClass", "organizationalUnit", "ou", "护理部"},
		person("shan", inner, "1001", "单国强", "科主任"),
		person("zengli", ward, "1002", "曾丽", "护士长"),
		person("zhangsan", ward, "1003", "张三", ""),
		person("lisi", cardio, "1004", "李四", ""),
	)
}

func TestLDAPSync(t *testing.T) {
	srv := startSlapd(t)
	srv.add(t, hospitalLDIF())
	ctx := context.Background()
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()})
	accounts := orgcharttest.NewAccounts()
	svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Accounts: accounts})
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
	cfg := ldapsync.Config{URL: srv.URL, BindDN: srv.RootDN, Password: srv.RootPW, BaseDN: base, Full: true,
		Attributes: ldapsync.Attributes{DepartmentHead: "seeAlso"}}
	sy := ldapsync.New(svc, map[string]ldapsync.Config{org.ID: cfg})

	t.Run("dry run shows the plan", func(t *testing.T) {
		plan, err := sy.Sync(ctx, sys, org.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Applied || len(plan.Adds) != 4 || len(plan.NewDepartments) != 4 {
			t.Fatalf("plan = %+v", plan)
		}
	})
	t.Run("sync maps OUs to departments, users to staff, seeAlso to heads", func(t *testing.T) {
		plan, err := sy.Sync(ctx, sys, org.ID, false)
		if err != nil || !plan.Applied {
			t.Fatalf("plan %+v err %v", plan, err)
		}
		zhang, err := svc.PersonByEmployeeNo(ctx, org.ID, "1003")
		if err != nil {
			t.Fatal(err)
		}
		card, _ := svc.Card(ctx, sys, org.ID, zhang.ID)
		if card.PrimaryDepartment.Path != "内科/心内科/心内一病区" || card.Phone != "13900001003" || card.Email != "zhangsan@jcyy.test" || card.Position != "医师" {
			t.Fatalf("card = %+v", card)
		}
		m1, _ := svc.ManagerOf(ctx, org.ID, zhang.ID, 1)
		m2, _ := svc.ManagerOf(ctx, org.ID, zhang.ID, 2)
		zeng, _ := svc.PersonByEmployeeNo(ctx, org.ID, "1002")
		shan, _ := svc.PersonByEmployeeNo(ctx, org.ID, "1001")
		if !slices.Equal(m1, []string{zeng.ID}) || !slices.Equal(m2, []string{shan.ID}) {
			t.Fatalf("managers %v %v", m1, m2)
		}
		if accounts.LoginOf(zhang.ID) != "jcyy.1003" {
			t.Fatal("no account")
		}
	})
	t.Run("syncing again changes nothing", func(t *testing.T) {
		plan, err := sy.Sync(ctx, sys, org.ID, false)
		if err != nil || plan.Changed() || plan.Unchanged != 4 {
			t.Fatalf("plan %+v err %v", plan, err)
		}
	})
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(srv.RootDN, srv.RootPW); err != nil {
		t.Fatal(err)
	}
	t.Run("moves, updates and leavers follow the directory", func(t *testing.T) {
		// 张三 moves to 护理部, 李四 leaves, 曾丽's title changes.
		mv := ldap.NewModifyDNRequest("uid=zhangsan,ou=心内一病区,ou=心内科,ou=内科,"+base, "uid=zhangsan", true, "ou=护理部,"+base)
		if err := conn.ModifyDN(mv); err != nil {
			t.Fatal(err)
		}
		if err := conn.Del(ldap.NewDelRequest("uid=lisi,ou=心内科,ou=内科,"+base, nil)); err != nil {
			t.Fatal(err)
		}
		mod := ldap.NewModifyRequest("uid=zengli,ou=心内一病区,ou=心内科,ou=内科,"+base, nil)
		mod.Replace("title", []string{"科护士长"})
		if err := conn.Modify(mod); err != nil {
			t.Fatal(err)
		}
		plan, err := sy.Sync(ctx, sys, org.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Moves) != 1 || plan.Moves[0].To[0] != "护理部" || len(plan.Leavers) != 1 || plan.Leavers[0].EmployeeNo != "1004" ||
			len(plan.Updates) != 1 || plan.Updates[0].EmployeeNo != "1002" {
			t.Fatalf("plan = %+v", plan)
		}
		li, _ := svc.PersonByEmployeeNo(ctx, org.ID, "1004")
		if li.Status != orgchart.Left || !accounts.IsDisabled(li.ID) {
			t.Fatalf("leaver %+v", li)
		}
	})
	t.Run("a bad entry fails the sync by DN and changes nothing", func(t *testing.T) {
		add := ldap.NewAddRequest("uid=nobody,ou=护理部,"+base, nil)
		add.Attribute("objectClass", []string{"inetOrgPerson"})
		add.Attribute("cn", []string{"无工号"})
		add.Attribute("sn", []string{"无"})
		if err := conn.Add(add); err != nil {
			t.Fatal(err)
		}
		before, _ := svc.Tree(ctx, sys, org.ID)
		plan, err := sy.Sync(ctx, sys, org.ID, false)
		if !core.IsCode(err, core.EInvalid) || plan == nil || len(plan.Errors) != 1 || plan.Errors[0].Ref != "uid=nobody,ou=护理部,"+base || plan.Errors[0].Column != "employee_no" {
			t.Fatalf("err %v plan %+v", err, plan)
		}
		after, _ := svc.Tree(ctx, sys, org.ID)
		if len(before) != len(after) {
			t.Fatal("tree changed")
		}
		if err := conn.Del(ldap.NewDelRequest("uid=nobody,ou=护理部,"+base, nil)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong password and unknown organisation are unavailable", func(t *testing.T) {
		bad := cfg
		bad.Password = "wrong"
		_, err := ldapsync.New(svc, map[string]ldapsync.Config{org.ID: bad}).Sync(ctx, sys, org.ID, true)
		if !core.IsCode(err, core.EUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if _, err := sy.Sync(ctx, sys, core.NewID(), true); !core.IsCode(err, core.EUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an actor who may not import is refused before LDAP is asked", func(t *testing.T) {
		strict, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Authorizer: denyAll{}})
		if err != nil {
			t.Fatal(err)
		}
		bad := cfg
		bad.URL = "ldap://127.0.0.1:1" // would fail as unavailable if it were dialled
		_, err = ldapsync.New(strict, map[string]ldapsync.Config{org.ID: bad}).Sync(ctx, core.Actor{Kind: core.ActorUser, UserID: core.NewID(), OrgID: org.ID}, org.ID, true)
		if !core.IsCode(err, core.EForbidden) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("the scheduler syncs until stopped", func(t *testing.T) {
		add := ldap.NewAddRequest("uid=wangwu,ou=护理部,"+base, nil)
		for k, v := range map[string]string{"objectClass": "inetOrgPerson", "cn": "王五", "sn": "王", "employeeNumber": "1005"} {
			add.Attribute(k, []string{v})
		}
		if err := conn.Add(add); err != nil {
			t.Fatal(err)
		}
		sc := sy.Schedule(org.ID, 50*time.Millisecond, nil)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := svc.PersonByEmployeeNo(ctx, org.ID, "1005"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the scheduled sync did not run")
			}
			time.Sleep(20 * time.Millisecond)
		}
		sc.Stop()
		sc.Stop() // twice is fine
	})
}
