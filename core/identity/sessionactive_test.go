package identity_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// listCounter counts the reads SessionActive makes.
type listCounter struct {
	identity.Store
	lists atomic.Int64
}

func (c *listCounter) ListSessions(ctx context.Context, userID string, after time.Time) ([]identity.Session, error) {
	c.lists.Add(1)
	return c.Store.ListSessions(ctx, userID, after)
}

func (c *listCounter) ListTokens(ctx context.Context, userID string) ([]identity.Token, error) {
	c.lists.Add(1)
	return c.Store.ListTokens(ctx, userID)
}

// TestSessionActive: the question other credentials bound to a session (app
// page tokens) ask on every use. It follows logout, revocation of one
// device, API tokens, deactivation and the time limits; it is answered from
// the cache, records no activity, and a node that never heard of a
// revocation still answers from the database.
func TestSessionActive(t *testing.T) {
	e := newEnv(t, identity.Config{AuthCacheTTL: time.Minute, SessionIdle: 2 * time.Hour})
	ctx := context.Background()
	nurse := e.mustUser(t, "nurse.li", "ward-five-nights")
	doctor := e.mustUser(t, "dr.wang", "cardiology-clinic")
	store := &listCounter{Store: e.store}
	svc := identity.New(store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: time.Minute, SessionIdle: 2 * time.Hour}, e.authz, e.audit, e.clock)
	phone, _, err := svc.Login(ctx, "nurse.li", "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	desk, _, err := svc.Login(ctx, "nurse.li", "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	me := core.Actor{UserID: nurse.ID, OrgID: e.org, Kind: core.ActorUser, SessionID: phone.ID}

	touches := e.store.touches.Load()
	if err := svc.SessionActive(ctx, nurse.ID, phone.ID); err != nil {
		t.Fatalf("open session: %v", err)
	}
	reads := store.lists.Load()
	for range 100 {
		if err := svc.SessionActive(ctx, nurse.ID, phone.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.lists.Load() - reads; n != 0 {
		t.Fatalf("a cached answer read the database %d times", n)
	}
	if e.store.touches.Load() != touches {
		t.Fatal("SessionActive recorded activity")
	}
	// Someone else's session, an unknown id, and empty ids are not active.
	wantCode(t, svc.SessionActive(ctx, doctor.ID, phone.ID), core.EUnauthenticated)
	wantCode(t, svc.SessionActive(ctx, nurse.ID, core.NewID()), core.EUnauthenticated)
	wantCode(t, svc.SessionActive(ctx, nurse.ID, ""), core.EUnauthenticated)
	wantCode(t, svc.SessionActive(ctx, "", phone.ID), core.EUnauthenticated)

	// A second node sharing the database, never told of revocations.
	node2 := identity.New(e.store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: time.Minute, SessionIdle: 2 * time.Hour}, e.authz, e.audit, e.clock)

	// Signing out the phone ends it at once here and, on a node that had not
	// asked before, at once too; the desk stays signed in.
	if err := svc.RevokeSession(ctx, me, phone.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.SessionActive(ctx, nurse.ID, phone.ID), core.EUnauthenticated)
	wantCode(t, node2.SessionActive(ctx, nurse.ID, phone.ID), core.EUnauthenticated)
	if err := node2.SessionActive(ctx, nurse.ID, desk.ID); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	// node2 has now cached the desk as active. Without the bus it trusts
	// that for AuthCacheTTL at most, as Authenticate does…
	if err := svc.Logout(ctx, core.Actor{UserID: nurse.ID, Kind: core.ActorUser, SessionID: desk.ID}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.SessionActive(ctx, nurse.ID, desk.ID), core.EUnauthenticated)
	if err := node2.SessionActive(ctx, nurse.ID, desk.ID); err != nil {
		t.Fatalf("node 2 dropped its cache without being told: %v", err)
	}
	e.clock.Advance(time.Minute)
	wantCode(t, node2.SessionActive(ctx, nurse.ID, desk.ID), core.EUnauthenticated)
	// …and with the revocation hook (the bus in production) it forgets at once.
	svc.OnRevoke(node2.ForgetUser)
	again, _, err := svc.Login(ctx, "nurse.li", "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := node2.SessionActive(ctx, nurse.ID, again.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, core.Actor{UserID: nurse.ID, Kind: core.ActorUser, SessionID: again.ID}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, node2.SessionActive(ctx, nurse.ID, again.ID), core.EUnauthenticated)

	// Time limits: idle, then the absolute lifetime.
	idle, tok, err := svc.Login(ctx, "nurse.li", "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(90 * time.Minute)
	if _, err := svc.Authenticate(ctx, tok); err != nil { // the person is active
		t.Fatal(err)
	}
	e.clock.Advance(90 * time.Minute)
	if err := svc.SessionActive(ctx, nurse.ID, idle.ID); err != nil {
		t.Fatalf("used 90 minutes ago: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	wantCode(t, svc.SessionActive(ctx, nurse.ID, idle.ID), core.EUnauthenticated)

	// API tokens are named by their id; revoking one ends it.
	pat, _, err := svc.CreateToken(ctx, me, "排班脚本", e.clock.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SessionActive(ctx, nurse.ID, pat.ID); err != nil {
		t.Fatalf("token: %v", err)
	}
	if err := svc.RevokeToken(ctx, me, pat.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.SessionActive(ctx, nurse.ID, pat.ID), core.EUnauthenticated)
	pat, _, err = svc.CreateToken(ctx, me, "排班脚本", e.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SessionActive(ctx, nurse.ID, pat.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	wantCode(t, svc.SessionActive(ctx, nurse.ID, pat.ID), core.EUnauthenticated)

	// Deactivation ends every session and token.
	last, _, err := svc.Login(ctx, "nurse.li", "ward-five-nights", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SessionActive(ctx, nurse.ID, last.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Deactivate(ctx, e.admin, nurse.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.SessionActive(ctx, nurse.ID, last.ID), core.EUnauthenticated)
}

// TestSessionActiveOnPostgres reruns TestSessionActive on PostgreSQL
// (skipped without ROUNDS_TEST_POSTGRES), as TestServiceOnPostgres does for
// the rest of the service.
func TestSessionActiveOnPostgres(t *testing.T) {
	sqldbtest.PostgresDSN(t)
	saved := openDB
	openDB = func(t testing.TB) *sqldb.DB { return sqldbtest.OpenPostgres(t, migrations...) }
	t.Cleanup(func() { openDB = saved })
	TestSessionActive(t)
}

// BenchmarkSessionActive: the cached answer is what every page-token call
// pays.
func BenchmarkSessionActive(b *testing.B) {
	e := newEnv(b, identity.Config{})
	svc := identity.New(e.store, identity.Config{Argon2: fastArgon2}, e.authz, e.audit, core.SystemClock{})
	u, err := svc.CreateUser(context.Background(), core.SystemActor, identity.NewUser{OrgID: e.org, Login: "bench.user", Password: "benchmark-pw-1"})
	if err != nil {
		b.Fatal(err)
	}
	sess, _, err := svc.Login(context.Background(), "bench.user", "benchmark-pw-1", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := svc.SessionActive(context.Background(), u.ID, sess.ID); err != nil {
			b.Fatal(err)
		}
	}
}
