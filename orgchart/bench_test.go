package orgchart_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

// A large tertiary hospital: 10,000 staff in 500 departments (10 divisions ×
// 7 departments × 6 wards and teams), on the embedded database.
type bigHospital struct {
	svc    *orgchart.Service
	org    orgchart.Org
	staff  []string // user ids
	roster orgchart.Roster
	dir    string
	setup  time.Duration
}

var (
	bigOnce sync.Once
	big     *bigHospital
	bigErr  error
)

var benchSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "单", "解", "查", "欧阳"}
var benchGiven = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
	"平", "刚", "桂英", "华", "建华", "文", "玉兰", "红", "英", "鹏", "辉", "建国", "晓东", "雪", "婷", "浩", "宇", "欣怡", "子涵", "思远"}

func bigRoster() orgchart.Roster {
	rng := rand.New(rand.NewPCG(7, 7))
	r := orgchart.Roster{Source: "bench"}
	var paths [][]string
	for a := 0; a < 10; a++ {
		pa := []string{fmt.Sprintf("第%d部", a+1)}
		paths = append(paths, pa)
		for b := 0; b < 7; b++ {
			pb := append(append([]string(nil), pa...), fmt.Sprintf("第%d部%d科", a+1, b+1))
			paths = append(paths, pb)
			for c := 0; c < 6; c++ {
				paths = append(paths, append(append([]string(nil), pb...), fmt.Sprintf("%d-%d病区%d", a+1, b+1, c+1)))
			}
		}
	}
	for i := 0; i < 10_000; i++ {
		path := paths[i%len(paths)]
		p := orgchart.RosterPerson{EmployeeNo: fmt.Sprint(100000 + i), Department: path,
			Name:  benchSurnames[rng.IntN(len(benchSurnames))] + benchGiven[rng.IntN(len(benchGiven))],
			Phone: fmt.Sprintf("139%08d", rng.IntN(100_000_000)), Position: "医师"}
		if i < len(paths) {
			p.HeadOf = [][]string{path}
		}
		r.People = append(r.People, p)
	}
	return r
}

func loadBig(b *testing.B) *bigHospital {
	bigOnce.Do(func() {
		h := &bigHospital{}
		h.dir, bigErr = os.MkdirTemp("", "orgchart-bench-")
		if bigErr != nil {
			return
		}
		db, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: filepath.Join(h.dir, "rounds.db"), Synchronous: "normal"})
		if err != nil {
			bigErr = err
			return
		}
		if bigErr = db.Migrate(ctx, sqlstore.Area, sqlstore.Migrations()); bigErr != nil {
			return
		}
		if h.svc, bigErr = orgchart.New(orgchart.Config{Store: sqlstore.New(db)}); bigErr != nil {
			return
		}
		if bigErr = h.svc.Start(ctx); bigErr != nil {
			return
		}
		if h.org, bigErr = h.svc.CreateOrg(ctx, sys, "big", "大医院"); bigErr != nil {
			return
		}
		h.roster = bigRoster()
		start := time.Now()
		if _, bigErr = h.svc.Import(ctx, sys, h.org.ID, h.roster, false); bigErr != nil {
			return
		}
		h.setup = time.Since(start)
		for _, p := range h.roster.People {
			st, err := h.svc.PersonByEmployeeNo(ctx, h.org.ID, p.EmployeeNo)
			if err != nil {
				bigErr = err
				return
			}
			h.staff = append(h.staff, st.ID)
		}
		big = h
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return big
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big != nil {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkDirectorySearch runs varied queries (names, surname prefixes,
// full pinyin, initials, employee numbers, phone numbers, department names)
// as a member of staff and reports p50 and p99 latency.
func BenchmarkDirectorySearch(b *testing.B) {
	h := loadBig(b)
	b.Logf("setup: 10,000 staff / 500 departments imported in %v", h.setup)
	rng := rand.New(rand.NewPCG(1, 2))
	var queries []string
	for i := 0; i < 200; i++ {
		p := h.roster.People[rng.IntN(len(h.roster.People))]
		k := orgchart.PinyinOf(p.Name)
		queries = append(queries, p.Name, []string{p.Name}[0][:3], k.Full, k.Initials, k.Full[:3], p.EmployeeNo, p.Phone, p.Phone[7:], p.Department[len(p.Department)-1])
	}
	actor := core.Actor{Kind: core.ActorUser, UserID: h.staff[0], OrgID: h.org.ID}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := h.svc.Search(ctx, actor, queries[i%len(queries)], 20); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
}

// BenchmarkManagerOf resolves managers 1 to 3 levels up for random staff.
func BenchmarkManagerOf(b *testing.B) {
	h := loadBig(b)
	rng := rand.New(rand.NewPCG(3, 4))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := h.staff[rng.IntN(len(h.staff))]
		start := time.Now()
		if _, err := h.svc.ManagerOf(ctx, h.org.ID, id, 1+i%3); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds()), "p99-ns")
}

// BenchmarkStaffEdit is one admin edit (a phone number) in the big
// hospital: a transaction plus a new snapshot.
func BenchmarkStaffEdit(b *testing.B) {
	h := loadBig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		phone := fmt.Sprintf("138%08d", i)
		if _, err := h.svc.UpdateStaff(ctx, sys, h.org.ID, h.staff[i%len(h.staff)], orgchart.StaffPatch{Phone: &phone}); err != nil {
			b.Fatal(err)
		}
	}
}
