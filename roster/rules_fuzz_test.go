package roster_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/roundshq/rounds/roster"
)

// FuzzRules builds a roster from arbitrary bytes — three bytes per assignment
// pick a person (some not on the ward), a day (some outside the period) and
// a shift (some unknown) — and arbitrary rules (JSON). CheckStructure and
// Check never panic; Check runs only on what CheckStructure accepts and
// with rules that validate, as the service does, and every violation names
// its rule and a day in the period.
func FuzzRules(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 1, 2, 1, 2}, uint8(6), `{}`)
	f.Add([]byte{0, 0, 2, 0, 1, 0, 0, 1, 2, 0, 2, 2, 0, 3, 2}, uint8(13), `{"max_consecutive_nights":{"max":1,"severity":"hard"}}`)
	f.Add([]byte{0, 0, 0, 0, 0, 1}, uint8(0), `{"min_staff":[{"shift_code":"白","min":5,"severity":"hard"}]}`)
	f.Add([]byte{9, 40, 7, 200, 255, 3}, uint8(62), `{"skill_mix":[{"shift_code":"大","skill":"senior","min":1,"severity":"soft"}]}`)
	f.Add([]byte{1, 0, 5, 1, 1, 5, 1, 2, 5}, uint8(2), `{"min_rest_after_night_hours":{"max":24,"severity":"hard"},"max_hours_per_week":{"max":8,"severity":"soft"}}`)
	f.Add([]byte{}, uint8(200), `not json`)
	shifts := ward()
	codes := make([]string, 0, len(shifts))
	for _, p := range roster.Patterns {
		for _, s := range p.Shifts {
			codes = append(codes, s.Code)
		}
	}
	codes = append(codes, "no-such-shift")
	staff := people(6, "n1", "n2")
	for id, p := range staff {
		p.Qualifications = []string{"icu"}
		p.Leave = []roster.Date{d("2026-12-03")}
		staff[id] = p
	}
	from := d("2026-12-01")
	f.Fuzz(func(t *testing.T, data []byte, span uint8, rules string) {
		r := roster.Roster{From: from, To: from + roster.Date(span)}
		for i := 0; i+2 < len(data); i += 3 {
			r.Assignments = append(r.Assignments, roster.Assignment{
				UserID:  fmt.Sprintf("n%d", int(data[i])%8), // n0, n7: not on the ward
				Date:    from + roster.Date(int(data[i+1])%70) - 2,
				ShiftID: codes[int(data[i+2])%len(codes)],
			})
		}
		rs := roster.DefaultRules()
		var custom roster.RuleSet
		if json.Unmarshal([]byte(rules), &custom) == nil && custom.Validate() == nil {
			rs = custom
		}
		if err := roster.CheckStructure(r, shifts, staff, shanghai); err != nil {
			return
		}
		for _, v := range roster.Check(r, shifts, staff, rs, shanghai) {
			if v.Rule == "" || v.Message == "" || v.Date < r.From-1 || v.Date > r.To+1 {
				t.Fatalf("violation without rule, message or a day near the period: %+v", v)
			}
		}
		_ = roster.NewDutyIndex(r, shifts, shanghai)
	})
}
