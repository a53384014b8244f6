package roster

import (
	"encoding/json"
	"time"

	"github.com/roundshq/rounds/core"
)

// Date is a civil date (no time, no zone), counted in days since 1970-01-01
// so that arithmetic and comparisons are plain integers.
type Date int32

// ParseDate reads "2026-11-26".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, core.Invalid("date", "%q is not a date like 2026-11-26", s)
	}
	return DateOf(t), nil
}

// DateOf is the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// In is midnight starting the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	y, m, dd := time.Unix(int64(d)*86400, 0).UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// AddDays moves the date.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// Weekday of the date.
func (d Date) Weekday() time.Weekday { return time.Unix(int64(d)*86400, 0).UTC().Weekday() }

// ISOWeekStart is the Monday of the date's ISO week.
func (d Date) ISOWeekStart() Date {
	wd := int(d.Weekday())
	if wd == 0 {
		wd = 7
	}
	return d - Date(wd-1)
}

func (d Date) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02") }

// MarshalJSON writes "2026-11-26".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "2026-11-26".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return core.Invalid("date", "a date must be a string like 2026-11-26")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
