package roster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roundshq/rounds/roster"
)

// monthWard is a 60-person ward on three shifts for December: every day 20
// on days, 12 on evenings, 10 on nights, the rest off, rotating.
func monthWard() (roster.Roster, map[string]roster.Shift, map[string]roster.Person) {
	sh := ward()
	ppl := map[string]roster.Person{}
	for i := 0; i < 60; i++ {
		p := roster.Person{UserID: fmt.Sprintf("n%02d", i)}
		if i%5 == 0 {
			p.Skills = []string{"senior_nurse"}
		}
		if i%7 == 0 {
			p.Leave = []roster.Date{d("2026-12-10")}
		}
		ppl[p.UserID] = p
	}
	r := roster.Roster{From: d("2026-12-01"), To: d("2026-12-31")}
	for day := 0; day < 31; day++ {
		for i := 0; i < 60; i++ {
			code := "休"
			switch (i + day) % 6 {
			case 0, 1:
				code = "白"
			case 2:
				code = "小"
			case 3:
				code = "大"
			}
			r.Assignments = append(r.Assignments, roster.Assignment{UserID: fmt.Sprintf("n%02d", i), Date: r.From + roster.Date(day), ShiftID: code})
		}
	}
	return r, sh, ppl
}

// BenchmarkValidateMonth60 checks a month's roster for a 60-person ward
// against every rule (structure and rules), as on every save.
func BenchmarkValidateMonth60(b *testing.B) {
	r, sh, ppl := monthWard()
	rs := roster.DefaultRules()
	b.ReportAllocs()
	for b.Loop() {
		if err := roster.CheckStructure(r, sh, ppl, shanghai); err != nil {
			b.Fatal(err)
		}
		roster.Check(r, sh, ppl, rs, shanghai)
	}
}

// BenchmarkOnDutyLookup asks who is on duty at a moment of a published month.
func BenchmarkOnDutyLookup(b *testing.B) {
	r, sh, _ := monthWard()
	ix := roster.NewDutyIndex(r, sh, shanghai)
	at := time.Date(2026, 12, 15, 3, 0, 0, 0, shanghai)
	b.ReportAllocs()
	for b.Loop() {
		if len(ix.At(at).OnDuty) == 0 {
			b.Fatal("nobody on duty")
		}
	}
}
