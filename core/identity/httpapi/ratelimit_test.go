package identityhttp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	identityhttp "github.com/roundshq/rounds/core/identity/httpapi"
)

// TestLimitPerUser: a flood from one account is refused with 429, code
// rate_limited and Retry-After, across all of that account's sessions,
// while another account is unaffected; the bucket refills.
func TestLimitPerUser(t *testing.T) {
	s := newServer(t, identityhttp.Config{}, identityhttp.UserRate{PerSecond: 1, Burst: 3})
	admin := s.login(t, "it.admin", adminPW, nil)
	staff := s.login(t, "dr.li", staffPW, nil)
	me := func(token string) resp { return s.do(t, req{method: "GET", path: "/api/v1/me", bearer: token}) }
	for i := 0; i < 3; i++ {
		me(admin.token).want(t, http.StatusOK)
	}
	r := me(admin.token).wantError(t, http.StatusTooManyRequests, core.ERateLimited, "")
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if d, _ := r.body["details"].(map[string]any); d["retry_after"] != float64(1) {
		t.Errorf("details = %v, want retry_after 1", r.body["details"])
	}
	// Another session of the same person shares the bucket (signing in is
	// not limited here: it has its own limits)…
	again := s.login(t, "it.admin", adminPW, nil)
	me(again.token).wantError(t, http.StatusTooManyRequests, core.ERateLimited, "")
	// … and a cookie session too.
	s.do(t, req{method: "GET", path: "/api/v1/me", cookies: &again}).wantError(t, http.StatusTooManyRequests, core.ERateLimited, "")
	// Someone else is unaffected, and requests without credentials are
	// answered as before.
	for i := 0; i < 3; i++ {
		me(staff.token).want(t, http.StatusOK)
	}
	s.do(t, req{method: "GET", path: "/api/v1/me"}).wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")
	me("not-a-token").wantError(t, http.StatusUnauthorized, core.EUnauthenticated, "")
	// Refused requests spent nothing: after a second one request passes.
	time.Sleep(1100 * time.Millisecond)
	me(admin.token).want(t, http.StatusOK)
	me(admin.token).wantError(t, http.StatusTooManyRequests, core.ERateLimited, "")
}

// TestLimitPerUserOff: PerSecond 0 is no limit at all.
func TestLimitPerUserOff(t *testing.T) {
	s := newServer(t, identityhttp.Config{}, identityhttp.UserRate{PerSecond: 0, Burst: 1})
	admin := s.login(t, "it.admin", adminPW, nil)
	for i := 0; i < 50; i++ {
		s.do(t, req{method: "GET", path: "/api/v1/me", bearer: admin.token}).want(t, http.StatusOK)
	}
}
