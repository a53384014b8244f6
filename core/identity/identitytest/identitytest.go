// Package identitytest is the contract suite every identity.Store must pass.
// It takes only the interface; sqlstore runs it on SQLite and PostgreSQL.
package identitytest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
)

// Run runs the suite. newStore returns an empty store for each call.
func Run(t *testing.T, newStore func(t *testing.T) identity.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s identity.Store)
	}{
		{"users", testUsers},
		{"list users", testListUsers},
		{"password change revokes sessions", testSetPassword},
		{"disabling revokes sessions and tokens", testSetStatus},
		{"sessions", testSessions},
		{"tokens", testTokens},
		{"bot creation and token rotation are atomic", testCreateBot},
		{"throttle", testThrottle},
		{"concurrent failures are all counted", testThrottleConcurrent},
		{"prune", testPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// NewUser returns a valid active person account for tests.
func NewUser(orgID, login string) identity.User {
	return identity.User{ID: core.NewID(), OrgID: orgID, Login: login, DisplayName: "Dr " + login,
		Kind: identity.KindHuman, Status: identity.StatusActive, CreatedAt: t0, PasswordChangedAt: t0}
}

func mustCreate(t *testing.T, s identity.Store, u identity.User, hash string) identity.User {
	t.Helper()
	if err := s.CreateUser(context.Background(), u, hash); err != nil {
		t.Fatalf("create user %s: %v", u.Login, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func newSession(userID string, at time.Time) identity.Session {
	return identity.Session{ID: core.NewID(), UserID: userID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour), IP: "10.1.2.3"}
}

func testUsers(t *testing.T, s identity.Store) {
	ctx := context.Background()
	org := core.NewID()
	u := mustCreate(t, s, NewUser(org, "ZhangSan"), "$argon2id$fake")

	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != u {
		t.Fatalf("GetUser = %+v, want %+v", got, u)
	}
	for _, login := range []string{"ZhangSan", "zhangsan", "ZHANGSAN"} {
		got, hash, err := s.UserByLogin(ctx, login)
		if err != nil || got.ID != u.ID || hash != "$argon2id$fake" {
			t.Fatalf("UserByLogin(%q) = %+v %q %v", login, got, hash, err)
		}
	}
	dup := NewUser(org, "zhangSAN")
	wantCode(t, s.CreateUser(ctx, dup, ""), core.EConflict)
	if _, err := s.GetUser(ctx, dup.ID); !core.IsCode(err, core.ENotFound) {
		t.Fatalf("a refused duplicate was stored: %v", err)
	}
	_, err = s.GetUser(ctx, core.NewID())
	wantCode(t, err, core.ENotFound)
	_, _, err = s.UserByLogin(ctx, "nobody")
	wantCode(t, err, core.ENotFound)

	noPw := mustCreate(t, s, NewUser(org, "lisi"), "")
	if _, hash, err := s.UserByLogin(ctx, "lisi"); err != nil || hash != "" {
		t.Fatalf("account without password: hash %q err %v", hash, err)
	}
	if err := s.RehashPassword(ctx, noPw.ID, "$new"); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := s.UserByLogin(ctx, "lisi"); hash != "$new" {
		t.Fatalf("rehash not stored: %q", hash)
	}
	wantCode(t, s.RehashPassword(ctx, core.NewID(), "$x"), core.ENotFound)

	if err := s.SetDisplayName(ctx, u.ID, "张三 (心内科)"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, u.ID); got.DisplayName != "张三 (心内科)" || got.Login != u.Login {
		t.Fatalf("after SetDisplayName: %+v", got)
	}
	wantCode(t, s.SetDisplayName(ctx, core.NewID(), "x"), core.ENotFound)
}

func testListUsers(t *testing.T, s identity.Store) {
	ctx := context.Background()
	org, other := core.NewID(), core.NewID()
	for _, l := range []string{"wang.wu", "Ai.Li", "zhao.liu", "bei.bei"} {
		mustCreate(t, s, NewUser(org, l), "")
	}
	mustCreate(t, s, NewUser(other, "elsewhere"), "")
	mustCreate(t, s, NewUser("", "sysadmin"), "")

	page1, err := s.ListUsers(ctx, org, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := logins(page1); got != "Ai.Li,bei.bei,wang.wu" {
		t.Fatalf("page 1 = %s", got)
	}
	page2, err := s.ListUsers(ctx, org, "wang.wu", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := logins(page2); got != "zhao.liu" {
		t.Fatalf("page 2 = %s", got)
	}
	admins, err := s.ListUsers(ctx, "", "", 10)
	if err != nil || logins(admins) != "sysadmin" {
		t.Fatalf("system admins = %s %v", logins(admins), err)
	}
	empty, err := s.ListUsers(ctx, core.NewID(), "", 10)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("unknown org: %v %v (want an empty, non-nil list)", empty, err)
	}
}

func logins(us []identity.User) string {
	s := ""
	for i, u := range us {
		if i > 0 {
			s += ","
		}
		s += u.Login
	}
	return s
}

func testSetPassword(t *testing.T, s identity.Store) {
	ctx := context.Background()
	u := mustCreate(t, s, NewUser(core.NewID(), "nurse.li"), "$old")
	other := mustCreate(t, s, NewUser(u.OrgID, "nurse.wang"), "$old")
	for range 2 {
		if err := s.CreateSession(ctx, newSession(u.ID, t0), core.RandomToken(8)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, newSession(other.ID, t0), core.RandomToken(8)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	if err := s.SetPassword(ctx, u.ID, "$new", at); err != nil {
		t.Fatal(err)
	}
	got, hash, err := s.UserByLogin(ctx, "nurse.li")
	if err != nil || hash != "$new" || !got.PasswordChangedAt.Equal(at) {
		t.Fatalf("after SetPassword: %+v %q %v", got, hash, err)
	}
	if open, _ := s.ListSessions(ctx, u.ID, t0); len(open) != 0 {
		t.Fatalf("%d sessions survived the password change", len(open))
	}
	if open, _ := s.ListSessions(ctx, other.ID, t0); len(open) != 1 {
		t.Fatalf("another user's sessions were touched: %d open", len(open))
	}
	wantCode(t, s.SetPassword(ctx, core.NewID(), "$x", at), core.ENotFound)
}

func testSetStatus(t *testing.T, s identity.Store) {
	ctx := context.Background()
	u := mustCreate(t, s, NewUser(core.NewID(), "dr.chen"), "$h")
	sess := newSession(u.ID, t0)
	if err := s.CreateSession(ctx, sess, "sesshash"); err != nil {
		t.Fatal(err)
	}
	tok := identity.Token{ID: core.NewID(), UserID: u.ID, Kind: identity.TokenPersonal, Name: "script", CreatedAt: t0}
	if err := s.CreateToken(ctx, tok, "tokhash"); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	if err := s.SetStatus(ctx, u.ID, identity.StatusDisabled, at); err != nil {
		t.Fatal(err)
	}
	x, xu, err := s.SessionByHash(ctx, "sesshash")
	if err != nil || !x.RevokedAt.Equal(at) || xu.Status != identity.StatusDisabled {
		t.Fatalf("session after disable: %+v user %+v err %v", x, xu, err)
	}
	tk, _, err := s.TokenByHash(ctx, "tokhash")
	if err != nil || !tk.RevokedAt.Equal(at) {
		t.Fatalf("token after disable: %+v %v", tk, err)
	}
	if err := s.SetStatus(ctx, u.ID, identity.StatusActive, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if x, xu, _ := s.SessionByHash(ctx, "sesshash"); x.RevokedAt.IsZero() || xu.Status != identity.StatusActive {
		t.Fatalf("reactivation must not revive sessions: %+v %+v", x, xu)
	}
	wantCode(t, s.SetStatus(ctx, core.NewID(), identity.StatusDisabled, at), core.ENotFound)
}

func testSessions(t *testing.T, s identity.Store) {
	ctx := context.Background()
	u := mustCreate(t, s, NewUser(core.NewID(), "dr.sun"), "$h")
	other := mustCreate(t, s, NewUser(u.OrgID, "dr.zhou"), "$h")
	a, b := newSession(u.ID, t0), newSession(u.ID, t0.Add(time.Minute))
	expired := newSession(u.ID, t0)
	expired.ExpiresAt = t0.Add(time.Hour)
	for i, x := range []identity.Session{a, b, expired} {
		if err := s.CreateSession(ctx, x, fmt.Sprint("h", i)); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.CreateSession(ctx, newSession(core.NewID(), t0), "orphan"), core.ENotFound)

	got, gu, err := s.SessionByHash(ctx, "h0")
	if err != nil || got != a || gu.ID != u.ID || gu.Login != "dr.sun" {
		t.Fatalf("SessionByHash = %+v %+v %v", got, gu, err)
	}
	_, _, err = s.SessionByHash(ctx, "nope")
	wantCode(t, err, core.ENotFound)

	if err := s.TouchSession(ctx, a.ID, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, a.ID, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.SessionByHash(ctx, "h0"); !got.LastSeenAt.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("last seen = %v, want the later touch", got.LastSeenAt)
	}

	open, err := s.ListSessions(ctx, u.ID, t0.Add(2*time.Hour))
	if err != nil || len(open) != 2 || open[0].ID != b.ID || open[1].ID != a.ID {
		t.Fatalf("ListSessions = %+v %v (want b, a; expired left out)", open, err)
	}

	wantCode(t, s.RevokeSession(ctx, other.ID, a.ID, t0), core.ENotFound)
	if err := s.RevokeSession(ctx, u.ID, a.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RevokeSession(ctx, u.ID, a.ID, t0.Add(time.Hour)), core.ENotFound)
	if got, _, _ := s.SessionByHash(ctx, "h0"); !got.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revoked at = %v", got.RevokedAt)
	}

	ids, err := s.RevokeSessions(ctx, u.ID, t0.Add(2*time.Hour))
	if err != nil || len(ids) != 2 {
		t.Fatalf("RevokeSessions = %v %v (want b and the expired one)", ids, err)
	}
	if open, _ := s.ListSessions(ctx, u.ID, t0); len(open) != 0 {
		t.Fatalf("sessions left open: %+v", open)
	}
}

func testTokens(t *testing.T, s identity.Store) {
	ctx := context.Background()
	u := mustCreate(t, s, NewUser(core.NewID(), "it.admin"), "$h")
	other := mustCreate(t, s, NewUser(u.OrgID, "it.other"), "$h")
	a := identity.Token{ID: core.NewID(), UserID: u.ID, Kind: identity.TokenPersonal, Name: "backup script", CreatedAt: t0, ExpiresAt: t0.Add(90 * 24 * time.Hour)}
	b := identity.Token{ID: core.NewID(), UserID: u.ID, Kind: identity.TokenPersonal, Name: "monitoring", CreatedAt: t0.Add(time.Minute)}
	for i, x := range []identity.Token{a, b} {
		if err := s.CreateToken(ctx, x, fmt.Sprint("t", i)); err != nil {
			t.Fatal(err)
		}
	}
	got, gu, err := s.TokenByHash(ctx, "t0")
	if err != nil || got != a || gu.ID != u.ID {
		t.Fatalf("TokenByHash = %+v %+v %v", got, gu, err)
	}
	_, _, err = s.TokenByHash(ctx, "nope")
	wantCode(t, err, core.ENotFound)
	if err := s.TouchToken(ctx, a.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.TokenByHash(ctx, "t0"); !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("last used = %v", got.LastUsedAt)
	}
	list, err := s.ListTokens(ctx, u.ID)
	if err != nil || len(list) != 2 || list[0].ID != b.ID {
		t.Fatalf("ListTokens = %+v %v", list, err)
	}
	wantCode(t, s.RevokeToken(ctx, other.ID, a.ID, t0), core.ENotFound)
	if err := s.RevokeToken(ctx, u.ID, a.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RevokeToken(ctx, u.ID, a.ID, t0), core.ENotFound)
	list, _ = s.ListTokens(ctx, u.ID)
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("after revoke: %+v", list)
	}
	if got, _, _ := s.TokenByHash(ctx, "t0"); !got.RevokedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("revoked at = %v", got.RevokedAt)
	}
}

func testCreateBot(t *testing.T, s identity.Store) {
	ctx := context.Background()
	org := core.NewID()
	bot := NewUser(org, "roster-bot")
	bot.Kind, bot.PasswordChangedAt = identity.KindBot, time.Time{}
	tok := identity.Token{ID: core.NewID(), UserID: bot.ID, Kind: identity.TokenBot, Name: "bot", CreatedAt: t0}
	if err := s.CreateBot(ctx, bot, tok, "bothash"); err != nil {
		t.Fatal(err)
	}
	gt, gu, err := s.TokenByHash(ctx, "bothash")
	if err != nil || gt.Kind != identity.TokenBot || gu.Kind != identity.KindBot || gu.OrgID != org {
		t.Fatalf("bot token = %+v %+v %v", gt, gu, err)
	}
	next := identity.Token{ID: core.NewID(), UserID: bot.ID, Kind: identity.TokenBot, Name: "bot", CreatedAt: t0.Add(time.Hour)}
	if err := s.ReplaceBotTokens(ctx, bot.ID, next, "bothash-2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if old, _, _ := s.TokenByHash(ctx, "bothash"); !old.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("old bot token not revoked: %+v", old)
	}
	if list, _ := s.ListTokens(ctx, bot.ID); len(list) != 1 || list[0].ID != next.ID {
		t.Fatalf("bot tokens after rotation = %+v", list)
	}
	// A failed replacement (the hash is taken) revokes nothing.
	clash := identity.Token{ID: core.NewID(), UserID: bot.ID, Kind: identity.TokenBot, Name: "bot", CreatedAt: t0}
	if err := s.ReplaceBotTokens(ctx, bot.ID, clash, "bothash", t0.Add(2*time.Hour)); err == nil {
		t.Fatal("a duplicate token hash was accepted")
	}
	if cur, _, _ := s.TokenByHash(ctx, "bothash-2"); !cur.RevokedAt.IsZero() {
		t.Fatalf("a failed rotation revoked the current token: %+v", cur)
	}

	dup := NewUser(org, "ROSTER-bot")
	dup.Kind = identity.KindBot
	tok2 := identity.Token{ID: core.NewID(), UserID: dup.ID, Kind: identity.TokenBot, Name: "bot", CreatedAt: t0}
	wantCode(t, s.CreateBot(ctx, dup, tok2, "bothash2"), core.EConflict)
	if _, _, err := s.TokenByHash(ctx, "bothash2"); !core.IsCode(err, core.ENotFound) {
		t.Fatalf("a failed bot creation left its token: %v", err)
	}
}

func testThrottle(t *testing.T, s identity.Store) {
	ctx := context.Background()
	key := "login:dr.wu"
	th, err := s.Throttle(ctx, key)
	if err != nil || th != (identity.Throttle{}) {
		t.Fatalf("unknown key = %+v %v", th, err)
	}
	window, lock := 15*time.Minute, 15*time.Minute
	for i := 1; i <= 4; i++ {
		th, err := s.RecordFailure(ctx, key, t0.Add(time.Duration(i)*time.Minute), window, 5, lock)
		if err != nil || th.Failures != i || !th.LockedUntil.IsZero() || !th.WindowStart.Equal(t0.Add(time.Minute)) {
			t.Fatalf("failure %d: %+v %v", i, th, err)
		}
	}
	at := t0.Add(5 * time.Minute)
	th, err = s.RecordFailure(ctx, key, at, window, 5, lock)
	if err != nil || !th.LockedUntil.Equal(at.Add(lock)) {
		t.Fatalf("fifth failure should lock: %+v %v", th, err)
	}
	if got, _ := s.Throttle(ctx, key); !got.LockedUntil.Equal(at.Add(lock)) || got.Failures != 0 {
		t.Fatalf("stored lock = %+v", got)
	}

	// Failures while locked are counted but do not extend the lock, not even
	// when they reach the limit again.
	for i := 1; i <= 7; i++ {
		th, err := s.RecordFailure(ctx, key, at.Add(time.Duration(i)*time.Second), window, 5, lock)
		if err != nil || th.Failures != i || !th.LockedUntil.Equal(at.Add(lock)) {
			t.Fatalf("failure %d while locked: %+v %v", i, th, err)
		}
	}
	// Once the lock has run out, the count starts afresh.
	th, err = s.RecordFailure(ctx, key, at.Add(lock), window, 5, lock)
	if err != nil || th.Failures != 1 || !th.LockedUntil.IsZero() || !th.WindowStart.Equal(at.Add(lock)) {
		t.Fatalf("after the lock: %+v %v", th, err)
	}

	// A failure after the window starts a new count.
	other := "ip:10.0.0.9"
	if _, err := s.RecordFailure(ctx, other, t0, window, 5, lock); err != nil {
		t.Fatal(err)
	}
	th, err = s.RecordFailure(ctx, other, t0.Add(window+time.Second), window, 5, lock)
	if err != nil || th.Failures != 1 || !th.WindowStart.Equal(t0.Add(window+time.Second)) {
		t.Fatalf("new window: %+v %v", th, err)
	}

	if err := s.ClearThrottle(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Throttle(ctx, key); got != (identity.Throttle{}) {
		t.Fatalf("after clear: %+v", got)
	}
	if got, _ := s.Throttle(ctx, other); got.Failures != 1 {
		t.Fatalf("clearing one key touched another: %+v", got)
	}
}

func testThrottleConcurrent(t *testing.T, s identity.Store) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := s.RecordFailure(ctx, "ip:10.9.9.9", t0, time.Hour, 1000, time.Hour); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if th, _ := s.Throttle(ctx, "ip:10.9.9.9"); th.Failures != n {
		t.Fatalf("failures = %d, want %d", th.Failures, n)
	}
}

func testPrune(t *testing.T, s identity.Store) {
	ctx := context.Background()
	u := mustCreate(t, s, NewUser(core.NewID(), "dr.he"), "$h")
	old := newSession(u.ID, t0)
	old.ExpiresAt = t0.Add(time.Hour)
	live := newSession(u.ID, t0)
	if err := s.CreateSession(ctx, old, "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, live, "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFailure(ctx, "ip:1.1.1.1", t0, time.Minute, 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFailure(ctx, "ip:2.2.2.2", t0.Add(3*time.Hour), time.Minute, 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionByHash(ctx, "old"); !core.IsCode(err, core.ENotFound) {
		t.Fatalf("expired session not pruned: %v", err)
	}
	if _, _, err := s.SessionByHash(ctx, "live"); err != nil {
		t.Fatalf("live session pruned: %v", err)
	}
	if th, _ := s.Throttle(ctx, "ip:1.1.1.1"); th.Failures != 0 {
		t.Fatalf("stale throttle kept: %+v", th)
	}
	if th, _ := s.Throttle(ctx, "ip:2.2.2.2"); th.Failures != 1 {
		t.Fatalf("recent throttle pruned: %+v", th)
	}
}
