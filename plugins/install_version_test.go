package plugins

import "testing"

func TestServerMeetsMinimumVersion(t *testing.T) {
	for _, c := range []struct {
		server, min string
		ok          bool
	}{
		{"0.1.0", "0.1.0", true},
		{"0.1.0-dev", "0.1.0", true}, // a build on the way to 0.1.0
		{"0.2.0-rc.1", "0.2.0", true},
		{"0.1.0-dev", "0.1.1", false},
		{"0.1.0+build.5", "0.1.0", true},
		{"0.1.9", "0.2.0", false},
		{"1.0.0", "0.9.3", true},
	} {
		if got := serverMeets(c.server, c.min); got != c.ok {
			t.Errorf("server %s, app needs %s: %v, want %v", c.server, c.min, got, c.ok)
		}
	}
}
