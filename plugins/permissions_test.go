package plugins_test

import (
	"testing"

	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

func TestPermissions(t *testing.T) {
	p, err := plugins.NewPermissions()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Set("i1", "org1", []string{sdk.ScopeOrgchartRead, sdk.ScopeIMSend}); err != nil {
		t.Fatal(err)
	}
	_ = p.Set("i2", "org2", []string{sdk.ScopeRosterRead})
	cases := []struct {
		install, org, scope string
		want                bool
	}{
		{"i1", "org1", sdk.ScopeOrgchartRead, true},
		{"i1", "org1", sdk.ScopeIMSend, true},
		{"i1", "org1", sdk.ScopeIMRead, false},
		{"i1", "org2", sdk.ScopeOrgchartRead, false},
		{"i2", "org2", sdk.ScopeRosterRead, true},
		{"i2", "org1", sdk.ScopeRosterRead, false},
		{"i3", "org1", sdk.ScopeOrgchartRead, false},
	}
	for _, c := range cases {
		if got := p.Allowed(c.install, c.org, c.scope); got != c.want {
			t.Errorf("Allowed(%s, %s, %s) = %v", c.install, c.org, c.scope, got)
		}
	}
	t.Run("set replaces", func(t *testing.T) {
		_ = p.Set("i1", "org1", []string{sdk.ScopeIMRead})
		if p.Allowed("i1", "org1", sdk.ScopeOrgchartRead) || !p.Allowed("i1", "org1", sdk.ScopeIMRead) {
			t.Fatal("old grants kept or new missing")
		}
	})
	t.Run("revoke", func(t *testing.T) {
		_ = p.Revoke("i1")
		if p.Allowed("i1", "org1", sdk.ScopeIMRead) || !p.Allowed("i2", "org2", sdk.ScopeRosterRead) {
			t.Fatal("revoke wrong")
		}
	})
}

func BenchmarkPermissionCheck(b *testing.B) {
	p, _ := plugins.NewPermissions()
	for i := 0; i < 1000; i++ {
		_ = p.Set(string(rune('a'+i%26))+string(rune(i)), "org1", sdk.Scopes)
	}
	_ = p.Set("me", "org1", []string{sdk.ScopeOrgchartRead})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !p.Allowed("me", "org1", sdk.ScopeOrgchartRead) {
			b.Fatal("denied")
		}
	}
}
