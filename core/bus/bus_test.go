package bus_test

import (
	"testing"

	"github.com/roundshq/rounds/core/bus"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, subject string
		want             bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{"a.b", "a", false},
		{"a.b.c", "a.b.c", true},
		{"a.b.c", "a.b.d", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a", false},
		{"a.*", "a.b.c", false},
		{"*.b", "a.b", true},
		{"*.b", "a.c", false},
		{"*.*", "a.b", true},
		{"a.*.c", "a.x.c", true},
		{"a.*.c", "a.x.d", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "b.c", false},
		{"*.>", "a.b", true},
		{"*.>", "a", false},
		{"ab", "a", false},
		{"a", "ab", false},
		{"im.user.u1", "im.user.u10", false},
	}
	for _, c := range cases {
		if got := bus.Match(c.pattern, c.subject); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.subject, got, c.want)
		}
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { bus.Match("im.*.u1.>", "im.user.u1.read.x") }); n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

func TestValidity(t *testing.T) {
	for _, c := range []struct {
		s                string
		subject, pattern bool
	}{
		{"a", true, true},
		{"orgchart.staff.left", true, true},
		{"a.*", false, true},
		{"a.>", false, true},
		{">", false, true},
		{"*", false, true},
		{"a.>.b", false, false},
		{"", false, false},
		{"a..b", false, false},
		{".a", false, false},
		{"a.", false, false},
		{"a b", false, false},
		{"a\n", false, false},
	} {
		if got := bus.ValidSubject(c.s); got != c.subject {
			t.Errorf("ValidSubject(%q) = %v", c.s, got)
		}
		if got := bus.ValidPattern(c.s); got != c.pattern {
			t.Errorf("ValidPattern(%q) = %v", c.s, got)
		}
		if (bus.CheckSubject(c.s) == nil) != c.subject || (bus.CheckPattern(c.s) == nil) != c.pattern {
			t.Errorf("Check* disagree with Valid* for %q", c.s)
		}
	}
}
