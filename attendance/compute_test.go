package attendance_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/core"
)

var sh, _ = time.LoadLocation("Asia/Shanghai")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func duty(date, from, to string) attendance.Duty {
	return attendance.Duty{Date: date, Name: "shift", Start: at(from), End: at(to)}
}

func punch(kind, when string) attendance.Punch { return attendance.Punch{Kind: kind, At: at(when)} }

func TestMatch(t *testing.T) {
	r := attendance.DefaultRules()
	now := at("2027-01-05 12:00")
	cases := []struct {
		name    string
		duty    attendance.Duty
		punches []attendance.Punch
		leave   bool
		want    []string
		late    int
	}{
		{"on time", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"),
			[]attendance.Punch{punch("in", "2026-12-01 07:52"), punch("out", "2026-12-01 16:03")}, false, []string{"normal"}, 0},
		{"late within grace", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"),
			[]attendance.Punch{punch("in", "2026-12-01 08:04"), punch("out", "2026-12-01 16:00")}, false, []string{"normal"}, 0},
		{"late and early", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"),
			[]attendance.Punch{punch("in", "2026-12-01 08:20"), punch("out", "2026-12-01 15:00")}, false, []string{"late", "early_leave"}, 20},
		{"absent", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"), nil, false, []string{"absent"}, 0},
		{"absent but on leave", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"), nil, true, []string{"on_leave"}, 0},
		{"forgot to clock out", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"),
			[]attendance.Punch{punch("in", "2026-12-01 07:58")}, false, []string{"missing_out"}, 0},
		{"forgot to clock in", duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00"),
			[]attendance.Punch{punch("out", "2026-12-01 16:01")}, false, []string{"missing_in"}, 0},
		{"night across the month and year end", duty("2026-12-31", "2026-12-31 22:00", "2027-01-01 08:00"),
			[]attendance.Punch{punch("in", "2026-12-31 21:45"), punch("out", "2027-01-01 08:05")}, false, []string{"normal"}, 0},
		{"a clock-in two days early does not count", duty("2026-12-03", "2026-12-03 08:00", "2026-12-03 16:00"),
			[]attendance.Punch{punch("in", "2026-12-01 08:00"), punch("out", "2026-12-03 16:00")}, false, []string{"missing_in"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leave := map[string]bool{}
			if c.leave {
				leave[c.duty.Date] = true
			}
			res := attendance.Match([]attendance.Duty{c.duty}, c.punches, leave, r, now)
			if len(res) != 1 || !slices.Equal(res[0].Status, c.want) || res[0].LateMinutes != c.late {
				t.Fatalf("got %+v, want %v late %d", res, c.want, c.late)
			}
		})
	}
}

func TestBackToBackShiftsShareNoPunch(t *testing.T) {
	// 小夜 16–24 then 大夜 00–08: one clock-in, one clock-out between, one at the end.
	d1 := duty("2026-12-01", "2026-12-01 16:00", "2026-12-02 00:00")
	d2 := duty("2026-12-02", "2026-12-02 00:00", "2026-12-02 08:00")
	ps := []attendance.Punch{punch("in", "2026-12-01 15:55"), punch("out", "2026-12-02 00:01"), punch("in", "2026-12-01 23:58"), punch("out", "2026-12-02 08:02")}
	res := attendance.Match([]attendance.Duty{d2, d1}, ps, nil, attendance.DefaultRules(), at("2026-12-03 00:00"))
	if res[0].Duty.Date != "2026-12-01" || res[0].Status[0] != "normal" || res[1].Status[0] != "normal" {
		t.Fatalf("%+v", res)
	}
	if res[0].Out.Equal(*res[1].Out) || res[1].In.Equal(*res[0].In) {
		t.Fatal("a punch was used twice")
	}
	s := attendance.Summarize("u", "2026-12", res, 90)
	if s.Duties != 2 || s.Normal != 2 || s.WorkedMinutes != 16*60 || s.OvertimeMinutes != 90 {
		t.Fatalf("%+v", s)
	}
}

func TestPendingDutyIsNotAbsentYet(t *testing.T) {
	d := duty("2026-12-01", "2026-12-01 08:00", "2026-12-01 16:00")
	res := attendance.Match([]attendance.Duty{d}, []attendance.Punch{punch("in", "2026-12-01 07:59")}, nil, attendance.DefaultRules(), at("2026-12-01 12:00"))
	if !slices.Equal(res[0].Status, []string{"pending"}) {
		t.Fatalf("%+v", res[0])
	}
}

func f(v float64) *float64 { return &v }

func TestAccept(t *testing.T) {
	r := attendance.DefaultRules()
	r.Geofences = []attendance.Geofence{{Name: "总院", Lat: 30.5928, Lon: 114.3055, RadiusM: 300}}
	r.WiFi = []attendance.WiFi{{Name: "5F 护士站", BSSID: "AA:BB:CC:00:11:22"}}
	r.Networks = []string{"10.8.0.0/16"}
	now := time.Now()
	future := now.Add(10 * time.Minute)
	cases := []struct {
		name   string
		a      attendance.Attempt
		ip     string
		method string
		code   core.Code
	}{
		{"inside the geofence", attendance.Attempt{Kind: "in", Lat: f(30.5935), Lon: f(114.3060)}, "", "geofence", ""},
		{"hospital Wi-Fi, any case", attendance.Attempt{Kind: "in", BSSID: "aa:bb:cc:00:11:22"}, "", "wifi", ""},
		{"intranet address", attendance.Attempt{Kind: "out"}, "10.8.3.4", "network", ""},
		{"two kilometres away", attendance.Attempt{Kind: "in", Lat: f(30.61), Lon: f(114.3055)}, "192.168.1.2", "", core.EForbidden},
		{"impossible latitude", attendance.Attempt{Kind: "in", Lat: f(91), Lon: f(114)}, "", "", core.EInvalid},
		{"null island", attendance.Attempt{Kind: "in", Lat: f(0), Lon: f(0)}, "", "", core.EInvalid},
		{"from the future", attendance.Attempt{Kind: "in", BSSID: "aa:bb:cc:00:11:22", At: &future}, "", "", core.EInvalid},
		{"half a location", attendance.Attempt{Kind: "in", Lat: f(30.59)}, "", "", core.EInvalid},
		{"no kind", attendance.Attempt{BSSID: "aa:bb:cc:00:11:22"}, "", "", core.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := r.Accept(c.a, c.ip, now)
			if c.code != "" {
				if !core.IsCode(err, c.code) {
					t.Fatalf("want %s, got %v", c.code, err)
				}
				return
			}
			if err != nil || m != c.method {
				t.Fatalf("method %q err %v", m, err)
			}
		})
	}
}

func TestOfficeDutiesSkipWeekends(t *testing.T) {
	ds := attendance.OfficeDuties(attendance.DefaultRules().Office, at("2026-11-27 00:00"), at("2026-11-30 00:00"), sh)
	if len(ds) != 2 || ds[0].Date != "2026-11-27" || ds[1].Date != "2026-11-30" || ds[1].Start.Hour() != 8 {
		t.Fatalf("%+v", ds)
	}
}
