package identity_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// fastArgon2 keeps tests quick; production uses identity.DefaultArgon2.
var fastArgon2 = identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// grants is a real, tiny Authorizer: it allows exactly the listed
// (user, org, object, action) tuples.
type grants struct {
	mu      sync.Mutex
	allowed map[string]bool
}

func (g *grants) allow(userID, orgID, object, action string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.allowed == nil {
		g.allowed = map[string]bool{}
	}
	g.allowed[userID+"|"+orgID+"|"+object+"|"+action] = true
}

func (g *grants) Authorize(_ context.Context, a core.Actor, orgID, object, action string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.allowed[a.UserID+"|"+orgID+"|"+object+"|"+action] {
		return nil
	}
	return core.Errorf(core.EForbidden, "you may not %s %s", action, object)
}

// auditLog is an in-memory audit.Recorder.
type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (l *auditLog) Record(_ context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

func (l *auditLog) find(action, result string) []audit.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Entry
	for _, e := range l.entries {
		if e.Action == action && e.Result == result {
			out = append(out, e)
		}
	}
	return out
}

// touchCounter counts session and token touches reaching the store.
type touchCounter struct {
	identity.Store
	touches atomic.Int64
}

func (c *touchCounter) TouchSession(ctx context.Context, id string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchSession(ctx, id, at)
}

func (c *touchCounter) TouchToken(ctx context.Context, id string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchToken(ctx, id, at)
}

type env struct {
	svc   *identity.Service
	store *touchCounter
	clock *testClock
	authz *grants
	audit *auditLog
	org   string
	admin core.Actor
}

var migrations = []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}

// openDB opens the database the service tests run on: SQLite, or
// PostgreSQL while TestServiceOnPostgres reruns them.
var openDB = func(t testing.TB) *sqldb.DB { return sqldbtest.OpenSQLite(t, migrations...) }

// TestServiceOnPostgres reruns the service tests on PostgreSQL (skipped
// without ROUNDS_TEST_POSTGRES), so locking, throttles and revocation are
// proven on both databases and not only through the store suite.
func TestServiceOnPostgres(t *testing.T) {
	sqldbtest.PostgresDSN(t) // skips (or fails when services are required) without a server
	saved := openDB
	openDB = func(t testing.TB) *sqldb.DB { return sqldbtest.OpenPostgres(t, migrations...) }
	t.Cleanup(func() { openDB = saved })
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"create user", TestCreateUser},
		{"list users", TestListUsers},
		{"login answers alike", TestLoginAnswersAlike},
		{"lockout", TestLoginLockout},
		{"lockout across nodes", TestLoginLockoutHoldsAcrossNodes},
		{"parallel guesses", TestParallelGuessesMeetTheLimit},
		{"per-address limit", TestLoginPerAddressLimit},
		{"session lifetime", TestSessionLifetime},
		{"sessions", TestSessionsListLogoutRevoke},
		{"password change", TestPasswordChangeRevokesSessions},
		{"deactivate", TestDeactivate},
		{"tokens", TestPersonalAccessTokens},
		{"bots", TestBots},
		{"revocation over the bus", TestRevocationOverTheBus},
	} {
		t.Run(tc.name, tc.fn)
	}
}

func newEnv(t testing.TB, cfg identity.Config) *env {
	t.Helper()
	db := openDB(t)
	if cfg.Argon2 == (identity.Argon2Params{}) {
		cfg.Argon2 = fastArgon2
	}
	e := &env{
		store: &touchCounter{Store: sqlstore.New(db)},
		clock: &testClock{now: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)},
		authz: &grants{},
		audit: &auditLog{},
		org:   core.NewID(),
	}
	e.svc = identity.New(e.store, cfg, e.authz, e.audit, e.clock)
	admin := e.mustUser(t, "it.admin", "admin-password-1")
	e.admin = core.Actor{UserID: admin.ID, OrgID: e.org, Kind: core.ActorUser}
	for _, o := range []string{identity.ObjectUser, identity.ObjectBot} {
		e.authz.allow(admin.ID, e.org, o, identity.ActionWrite)
		e.authz.allow(admin.ID, e.org, o, identity.ActionRead)
	}
	return e
}

func (e *env) mustUser(t testing.TB, login, password string) identity.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), core.SystemActor, identity.NewUser{OrgID: e.org, Login: login, Password: password})
	if err != nil {
		t.Fatalf("create %s: %v", login, err)
	}
	return u
}

func (e *env) mustLogin(t testing.TB, login, password string) (identity.Session, string) {
	t.Helper()
	s, tok, err := e.svc.Login(context.Background(), login, password, "10.0.0.1")
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return s, tok
}

func wantCode(t testing.TB, err error, code core.Code) *core.Error {
	t.Helper()
	if !core.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
	ce, _ := err.(*core.Error)
	return ce
}

func TestPasswordHash(t *testing.T) {
	h := identity.HashPassword("correct horse battery", fastArgon2)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if h == identity.HashPassword("correct horse battery", fastArgon2) {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	stronger := fastArgon2
	stronger.Time = 2
	tests := []struct {
		name       string
		password   string
		hash       string
		want       identity.Argon2Params
		ok, rehash bool
	}{
		{"right password", "correct horse battery", h, fastArgon2, true, false},
		{"wrong password", "correct horse batterY", h, fastArgon2, false, false},
		{"parameters raised since", "correct horse battery", h, stronger, true, true},
		{"empty hash", "x", "", fastArgon2, false, false},
		{"bcrypt hash", "x", "$2a$10$abcdefghijklmnopqrstuv", fastArgon2, false, false},
		{"absurd memory", "x", strings.Replace(h, "m=64", "m=99999999", 1), fastArgon2, false, false},
		{"bad base64", "correct horse battery", h[:len(h)-3] + "!!!", fastArgon2, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash := identity.VerifyPassword(tc.password, tc.hash, tc.want)
			if ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("VerifyPassword = %v, %v; want %v, %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}
}

func TestCreateUser(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	tests := []struct {
		name  string
		nu    identity.NewUser
		field string
	}{
		{"login too short", identity.NewUser{OrgID: e.org, Login: "a"}, "login"},
		{"login with space", identity.NewUser{OrgID: e.org, Login: "zhang san"}, "login"},
		{"password too short", identity.NewUser{OrgID: e.org, Login: "zhangsan", Password: "short"}, "password"},
		{"password equals login", identity.NewUser{OrgID: e.org, Login: "zhangsan1234", Password: "ZhangSan1234"}, "password"},
		{"bad org", identity.NewUser{OrgID: "ward-5", Login: "zhangsan"}, "org_id"},
		{"bad kind", identity.NewUser{OrgID: e.org, Login: "zhangsan", Kind: "robot"}, "kind"},
		{"bot with password", identity.NewUser{OrgID: e.org, Login: "zhangsan", Kind: identity.KindBot, Password: "long enough pw"}, "password"},
		{"display name padded", identity.NewUser{OrgID: e.org, Login: "zhangsan", DisplayName: " 张三"}, "display_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateUser(ctx, e.admin, tc.nu)
			if ce := wantCode(t, err, core.EInvalid); ce.Field != tc.field {
				t.Fatalf("field = %q, want %q (%v)", ce.Field, tc.field, err)
			}
		})
	}
	t.Run("created by an org admin", func(t *testing.T) {
		u, err := e.svc.CreateUser(ctx, e.admin, identity.NewUser{OrgID: e.org, Login: "ZhangSan", DisplayName: "张三", Password: "ward-5-night-shift"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Kind != identity.KindHuman || u.Status != identity.StatusActive || u.PasswordChangedAt.IsZero() {
			t.Fatalf("user = %+v", u)
		}
		got, err := e.svc.GetUser(ctx, e.admin, u.ID)
		if err != nil || got != u {
			t.Fatalf("GetUser = %+v %v", got, err)
		}
		if len(e.audit.find("identity.user.create", audit.ResultOK)) == 0 {
			t.Fatal("creation not audited")
		}
	})
	t.Run("with an id chosen by the org chart", func(t *testing.T) {
		id := core.NewID()
		u, err := e.svc.CreateUser(ctx, e.admin, identity.NewUser{ID: id, OrgID: e.org, Login: "jcyy.10023", DisplayName: "李四"})
		if err != nil || u.ID != id {
			t.Fatalf("user %+v err %v", u, err)
		}
		_, err = e.svc.CreateUser(ctx, e.admin, identity.NewUser{ID: id, OrgID: e.org, Login: "jcyy.10024"})
		wantCode(t, err, core.EConflict)
		_, err = e.svc.CreateUser(ctx, e.admin, identity.NewUser{ID: "ward-5", OrgID: e.org, Login: "jcyy.10025"})
		if ce := wantCode(t, err, core.EInvalid); ce.Field != "id" {
			t.Fatalf("field %q", ce.Field)
		}
	})
	t.Run("duplicate login in another case", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, e.admin, identity.NewUser{OrgID: e.org, Login: "zhangsan"})
		wantCode(t, err, core.EConflict)
	})
	t.Run("staff may not create accounts", func(t *testing.T) {
		staff := e.mustUser(t, "nurse.wang", "")
		a := core.Actor{UserID: staff.ID, OrgID: e.org, Kind: core.ActorUser}
		_, err := e.svc.CreateUser(ctx, a, identity.NewUser{OrgID: e.org, Login: "intruder"})
		wantCode(t, err, core.EForbidden)
		if d := e.audit.find("identity.user.create", audit.ResultDenied); len(d) != 1 || d[0].ActorID != staff.ID {
			t.Fatalf("denial audit = %+v", d)
		}
		// Someone else's account is invisible to them.
		_, err = e.svc.GetUser(ctx, a, e.admin.UserID)
		wantCode(t, err, core.ENotFound)
		if me, err := e.svc.GetUser(ctx, a, staff.ID); err != nil || me.ID != staff.ID {
			t.Fatalf("own account: %+v %v", me, err)
		}
	})
	t.Run("another org's admin may not", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, e.admin, identity.NewUser{OrgID: core.NewID(), Login: "elsewhere"})
		wantCode(t, err, core.EForbidden)
	})
}

func TestListUsers(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	for i := range 5 {
		e.mustUser(t, fmt.Sprintf("staff.%02d", i), "")
	}
	var all []string
	cursor := ""
	for {
		users, next, err := e.svc.ListUsers(ctx, e.admin, e.org, core.PageRequest{Cursor: cursor, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			all = append(all, u.Login)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(all, ","); got != "it.admin,staff.00,staff.01,staff.02,staff.03,staff.04" {
		t.Fatalf("pages = %s", got)
	}
	_, _, err := e.svc.ListUsers(ctx, e.admin, e.org, core.PageRequest{Cursor: "garbage!"})
	wantCode(t, err, core.EInvalid)
	staff, _, _ := e.store.UserByLogin(ctx, "staff.00")
	_, _, err = e.svc.ListUsers(ctx, core.Actor{UserID: staff.ID, OrgID: e.org, Kind: core.ActorUser}, e.org, core.PageRequest{})
	wantCode(t, err, core.EForbidden)
}

func TestLoginAnswersAlike(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.mustUser(t, "dr.li", "cardiology-ward-3")
	_, _, unknown := e.svc.Login(ctx, "dr.nobody", "cardiology-ward-3", "10.0.0.1")
	_, _, wrong := e.svc.Login(ctx, "dr.li", "cardiology-ward-4", "10.0.0.1")
	a, b := wantCode(t, unknown, core.EUnauthenticated), wantCode(t, wrong, core.EUnauthenticated)
	if a.Message != b.Message {
		t.Fatalf("unknown login says %q but wrong password says %q: the difference enumerates users", a.Message, b.Message)
	}
	s, tok, err := e.svc.Login(ctx, "DR.LI", "cardiology-ward-3", "10.0.0.1")
	if err != nil || tok == "" || s.ExpiresAt.Sub(s.CreatedAt) != 30*24*time.Hour {
		t.Fatalf("login = %+v %q %v", s, tok, err)
	}
	for _, en := range e.audit.entries {
		for k, v := range en.Details {
			if str, ok := v.(string); ok && strings.Contains(str, "cardiology-ward") {
				t.Fatalf("audit entry %s leaks the password in %s", en.Action, k)
			}
		}
	}
	if f := e.audit.find("session.login", audit.ResultFailed); len(f) != 2 || f[0].Details["reason"] != "bad_credentials" {
		t.Fatalf("failed sign-ins audited as %+v", f)
	}
	if ok := e.audit.find("session.login", audit.ResultOK); len(ok) != 1 || ok[0].ObjectID != s.ID || ok[0].IP != "10.0.0.1" {
		t.Fatalf("sign-in audited as %+v", ok)
	}
	for _, login := range []string{"", strings.Repeat("l", 65)} {
		_, _, err = e.svc.Login(ctx, login, "x", "")
		if ce := wantCode(t, err, core.EInvalid); ce.Field != "login" {
			t.Fatalf("login %q: field = %q", login, ce.Field)
		}
	}
	_, _, err = e.svc.Login(ctx, "dr.li", strings.Repeat("p", identity.MaxPasswordLength+1), "10.0.0.1")
	wantCode(t, err, core.EUnauthenticated)
}

func TestConfigDefaults(t *testing.T) {
	e := newEnv(t, identity.Config{})
	half := identity.New(e.store, identity.Config{Argon2: identity.Argon2Params{Memory: 128}, MaxIPFailures: 7}, e.authz, e.audit, e.clock)
	cfg := half.Config()
	want := identity.Argon2Params{Memory: 128, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
	if cfg.Argon2 != want || cfg.MaxIPFailures != 7 || cfg.MaxAccountFailures != 5 || cfg.SessionTTL != 30*24*time.Hour ||
		cfg.SessionIdle != 12*time.Hour || cfg.AccountLockout != 15*time.Minute || cfg.IPWindow != 5*time.Minute {
		t.Fatalf("config = %+v", cfg)
	}
	if _, err := half.CreateUser(context.Background(), core.SystemActor, identity.NewUser{OrgID: e.org, Login: "dr.kong", Password: "half-configured"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := half.Login(context.Background(), "dr.kong", "half-configured", ""); err != nil {
		t.Fatalf("a half-filled Argon2 config made an unusable hash: %v", err)
	}
	// The other node, with other parameters, still verifies it and rehashes.
	if _, _, err := e.svc.Login(context.Background(), "dr.kong", "half-configured", ""); err != nil {
		t.Fatal(err)
	}
	_, hash, _ := e.store.UserByLogin(context.Background(), "dr.kong")
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not rehashed with the new parameters: %s", hash)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.mustUser(t, "nurse.zhao", "paediatrics-ward-2")
	for i := range 5 {
		_, _, err := e.svc.Login(ctx, "nurse.zhao", fmt.Sprintf("guess-%d-password", i), fmt.Sprintf("10.0.1.%d", i))
		wantCode(t, err, core.EUnauthenticated)
		e.clock.Advance(time.Second)
	}
	// Locked now, even with the right password and from a fresh address.
	_, _, err := e.svc.Login(ctx, "Nurse.Zhao", "paediatrics-ward-2", "10.0.2.1")
	ce := wantCode(t, err, core.ERateLimited)
	if ra, _ := ce.Details["retry_after"].(int); ra < 890 || ra > 900 {
		t.Fatalf("retry_after = %v, want about 15 minutes", ce.Details["retry_after"])
	}
	if f := e.audit.find("session.login", audit.ResultFailed); f[len(f)-1].Details["reason"] != "locked" {
		t.Fatalf("lockout audited as %+v", f[len(f)-1])
	}
	e.clock.Advance(14 * time.Minute)
	_, _, err = e.svc.Login(ctx, "nurse.zhao", "paediatrics-ward-2", "10.0.2.1")
	wantCode(t, err, core.ERateLimited)

	e.clock.Advance(time.Minute)
	e.mustLogin(t, "nurse.zhao", "paediatrics-ward-2")

	// The success cleared the count: four new failures do not lock.
	for range 4 {
		_, _, err := e.svc.Login(ctx, "nurse.zhao", "wrong-password", "10.0.3.1")
		wantCode(t, err, core.EUnauthenticated)
	}
	e.mustLogin(t, "nurse.zhao", "paediatrics-ward-2")
}

func TestParallelGuessesMeetTheLimit(t *testing.T) {
	e := newEnv(t, identity.Config{MaxConcurrentHashes: 2})
	ctx := context.Background()
	e.mustUser(t, "dr.guo", "gastro-endoscopy")
	const n = 20
	var checked, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := e.svc.Login(ctx, "dr.guo", fmt.Sprintf("parallel-guess-%d", i), fmt.Sprintf("10.7.0.%d", i))
			switch core.ErrorCode(err) {
			case core.EUnauthenticated:
				checked.Add(1)
			case core.ERateLimited:
				limited.Add(1)
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if checked.Load() != 5 || limited.Load() != n-5 {
		t.Fatalf("%d guesses were checked and %d refused; want exactly 5 checked", checked.Load(), limited.Load())
	}
}

func TestSignInsQueueForHashing(t *testing.T) {
	e := newEnv(t, identity.Config{MaxConcurrentHashes: 1})
	ctx := context.Background()
	for i := range 4 {
		e.mustUser(t, fmt.Sprintf("nurse.%d", i), "morning-handover")
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, _, err := e.svc.Login(ctx, fmt.Sprintf("nurse.%d", i%4), "morning-handover", ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A caller that gives up while queued gets its context's error, not a hang.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err := e.svc.Login(cctx, "nurse.0", "morning-handover", "")
	if err == nil {
		t.Fatal("a cancelled sign-in succeeded")
	}
}

func TestLoginLockoutHoldsAcrossNodes(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.mustUser(t, "dr.ma", "radiology-night-1")
	// A second node (or the same node after a restart) shares only the database.
	node2 := identity.New(e.store, identity.Config{Argon2: fastArgon2}, e.authz, e.audit, e.clock)
	for i := range 5 {
		svc := e.svc
		if i%2 == 1 {
			svc = node2
		}
		_, _, err := svc.Login(ctx, "dr.ma", "wrong-password", "10.0.0.7")
		wantCode(t, err, core.EUnauthenticated)
	}
	_, _, err := node2.Login(ctx, "dr.ma", "radiology-night-1", "10.0.0.8")
	wantCode(t, err, core.ERateLimited)
}

func TestLoginPerAddressLimit(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.mustUser(t, "dr.qian", "emergency-dept-9")
	// 30 failures spread over many logins from one address within 5 minutes.
	for i := range 30 {
		_, _, err := e.svc.Login(ctx, fmt.Sprintf("guess%02d", i), "whatever-password", "192.168.7.7")
		wantCode(t, err, core.EUnauthenticated)
		e.clock.Advance(5 * time.Second)
	}
	_, _, err := e.svc.Login(ctx, "dr.qian", "emergency-dept-9", "192.168.7.7")
	ce := wantCode(t, err, core.ERateLimited)
	if ra, _ := ce.Details["retry_after"].(int); ra < 290 || ra > 300 {
		t.Fatalf("retry_after = %v, want about 5 minutes", ce.Details["retry_after"])
	}
	// Another address is not affected.
	if _, _, err := e.svc.Login(ctx, "dr.qian", "emergency-dept-9", "192.168.7.8"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	if _, _, err := e.svc.Login(ctx, "dr.qian", "emergency-dept-9", "192.168.7.7"); err != nil {
		t.Fatalf("address still blocked after the window: %v", err)
	}
}

func TestLoginLimitsConfigurable(t *testing.T) {
	e := newEnv(t, identity.Config{MaxAccountFailures: 2, AccountLockout: time.Minute})
	ctx := context.Background()
	e.mustUser(t, "dr.lu", "orthopaedics-77")
	for range 2 {
		_, _, err := e.svc.Login(ctx, "dr.lu", "nope-nope-nope", "10.0.0.1")
		wantCode(t, err, core.EUnauthenticated)
	}
	_, _, err := e.svc.Login(ctx, "dr.lu", "orthopaedics-77", "10.0.0.1")
	wantCode(t, err, core.ERateLimited)
	e.clock.Advance(time.Minute)
	e.mustLogin(t, "dr.lu", "orthopaedics-77")
}

func TestSessionLifetime(t *testing.T) {
	for _, cacheTTL := range []time.Duration{-1, 10 * time.Second} {
		t.Run(fmt.Sprintf("cache %v", cacheTTL), func(t *testing.T) {
			e := newEnv(t, identity.Config{AuthCacheTTL: cacheTTL})
			ctx := context.Background()
			u := e.mustUser(t, "dr.feng", "neurology-ward-8")

			t.Run("idle timeout", func(t *testing.T) {
				sess, tok := e.mustLogin(t, "dr.feng", "neurology-ward-8")
				for range 3 { // keeps living while used every 11 hours
					e.clock.Advance(11 * time.Hour)
					a, err := e.svc.Authenticate(ctx, tok)
					if err != nil || a.UserID != u.ID || a.SessionID != sess.ID || a.Kind != core.ActorUser || a.OrgID != e.org {
						t.Fatalf("actor = %+v, %v", a, err)
					}
				}
				e.clock.Advance(12 * time.Hour)
				_, err := e.svc.Authenticate(ctx, tok)
				wantCode(t, err, core.EUnauthenticated)
			})
			t.Run("absolute expiry", func(t *testing.T) {
				_, tok := e.mustLogin(t, "dr.feng", "neurology-ward-8")
				// Used every 11 hours, then once more a minute before 30 days.
				for _, d := range append(repeat(11*time.Hour, 65), 4*time.Hour+59*time.Minute) {
					e.clock.Advance(d)
					if _, err := e.svc.Authenticate(ctx, tok); err != nil {
						t.Fatalf("at %v: %v", e.clock.Now(), err)
					}
				}
				e.clock.Advance(time.Minute) // 30 days since sign-in
				_, err := e.svc.Authenticate(ctx, tok)
				wantCode(t, err, core.EUnauthenticated)
			})
			t.Run("unknown tokens", func(t *testing.T) {
				for _, tok := range []string{"", "nope", identity.PersonalTokenPrefix + "nope", identity.BotTokenPrefix + "nope", strings.Repeat("x", 500)} {
					_, err := e.svc.Authenticate(ctx, tok)
					wantCode(t, err, core.EUnauthenticated)
				}
			})
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestLastSeenWrittenAtMostOncePerMinute(t *testing.T) {
	e := newEnv(t, identity.Config{AuthCacheTTL: time.Hour})
	ctx := context.Background()
	e.mustUser(t, "dr.yang", "dermatology-55")
	_, tok := e.mustLogin(t, "dr.yang", "dermatology-55")
	for range 100 {
		if _, err := e.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.touches.Load(); n != 0 {
		t.Fatalf("%d touches within the first minute", n)
	}
	e.clock.Advance(61 * time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := e.svc.Authenticate(ctx, tok); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.store.touches.Load(); n != 1 {
		t.Fatalf("%d touches after a minute, want 1", n)
	}
}

func TestSessionsListLogoutRevoke(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	u := e.mustUser(t, "dr.xu", "oncology-floor-6")
	other := e.mustUser(t, "dr.hu", "oncology-floor-7")
	s1, t1 := e.mustLogin(t, "dr.xu", "oncology-floor-6")
	e.clock.Advance(time.Minute)
	s2, t2 := e.mustLogin(t, "dr.xu", "oncology-floor-6")
	a1, err := e.svc.Authenticate(ctx, t1)
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.ListSessions(ctx, a1)
	if err != nil || len(list) != 2 || list[0].ID != s2.ID || list[1].ID != s1.ID {
		t.Fatalf("sessions = %+v %v", list, err)
	}
	// Someone else cannot end dr.xu's session.
	otherActor := core.Actor{UserID: other.ID, OrgID: e.org, Kind: core.ActorUser}
	wantCode(t, e.svc.RevokeSession(ctx, otherActor, s2.ID), core.ENotFound)

	if err := e.svc.RevokeSession(ctx, a1, s2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, t2)
	wantCode(t, err, core.EUnauthenticated)

	if err := e.svc.Logout(ctx, a1); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, t1)
	wantCode(t, err, core.EUnauthenticated)
	if list, _ := e.svc.ListSessions(ctx, core.Actor{UserID: u.ID, Kind: core.ActorUser}); len(list) != 0 {
		t.Fatalf("sessions after logout = %+v", list)
	}

	// RevokeAllSessions, as the org chart calls it when someone leaves.
	_, t3 := e.mustLogin(t, "dr.xu", "oncology-floor-6")
	_, t4 := e.mustLogin(t, "dr.xu", "oncology-floor-6")
	if err := e.svc.RevokeAllSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{t3, t4} {
		_, err := e.svc.Authenticate(ctx, tok)
		wantCode(t, err, core.EUnauthenticated)
	}
	if r := e.audit.find("session.revoke_all", audit.ResultOK); len(r) != 1 || r[0].ActorKind != string(core.ActorSystem) || r[0].Details["sessions"] != 2 {
		t.Fatalf("revoke-all audit = %+v", r)
	}
}

func TestPasswordChangeRevokesSessions(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	u := e.mustUser(t, "nurse.sun", "maternity-ward-1")
	_, t1 := e.mustLogin(t, "nurse.sun", "maternity-ward-1")
	_, t2 := e.mustLogin(t, "nurse.sun", "maternity-ward-1")
	a, err := e.svc.Authenticate(ctx, t1) // cached from now on
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		old, new string
		field    string
	}{
		{"wrong current password", "maternity-ward-X", "maternity-ward-2", "old_password"},
		{"new too short", "maternity-ward-1", "short", "new_password"},
		{"new equals login", "maternity-ward-1", "NURSE.sun", "new_password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.ChangeOwnPassword(ctx, a, tc.old, tc.new)
			if ce := wantCode(t, err, core.EInvalid); ce.Field != tc.field {
				t.Fatalf("field = %q", ce.Field)
			}
			if _, err := e.svc.Authenticate(ctx, t1); err != nil {
				t.Fatalf("a refused change ended the session: %v", err)
			}
		})
	}
	if err := e.svc.ChangeOwnPassword(ctx, a, "maternity-ward-1", "maternity-ward-2"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{t1, t2} {
		_, err := e.svc.Authenticate(ctx, tok)
		wantCode(t, err, core.EUnauthenticated)
	}
	_, _, err = e.svc.Login(ctx, "nurse.sun", "maternity-ward-1", "10.0.0.1")
	wantCode(t, err, core.EUnauthenticated)
	_, t3 := e.mustLogin(t, "nurse.sun", "maternity-ward-2")

	t.Run("admin reset", func(t *testing.T) {
		if err := e.svc.SetPassword(ctx, e.admin, u.ID, "reset-by-it-0"); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Authenticate(ctx, t3)
		wantCode(t, err, core.EUnauthenticated)
		e.mustLogin(t, "nurse.sun", "reset-by-it-0")
		self := core.Actor{UserID: u.ID, OrgID: e.org, Kind: core.ActorUser}
		wantCode(t, e.svc.SetPassword(ctx, self, e.admin.UserID, "hijacked-admin-1"), core.EForbidden)
	})
	t.Run("wrong current passwords count towards lockout", func(t *testing.T) {
		for range 5 {
			wantCode(t, e.svc.ChangeOwnPassword(ctx, a, "guessing-away", "maternity-ward-3"), core.EInvalid)
		}
		wantCode(t, e.svc.ChangeOwnPassword(ctx, a, "reset-by-it-0", "maternity-ward-3"), core.ERateLimited)
	})
}

func TestDeactivate(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	u := e.mustUser(t, "dr.luo", "urology-clinic-4")
	_, sessTok := e.mustLogin(t, "dr.luo", "urology-clinic-4")
	a, err := e.svc.Authenticate(ctx, sessTok)
	if err != nil {
		t.Fatal(err)
	}
	_, pat, err := e.svc.CreateToken(ctx, a, "lab export", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, pat); err != nil {
		t.Fatal(err)
	}

	wantCode(t, e.svc.Deactivate(ctx, a, u.ID), core.EForbidden)
	wantCode(t, e.svc.Deactivate(ctx, e.admin, e.admin.UserID), core.EConflict)
	if err := e.svc.Deactivate(ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{sessTok, pat} {
		_, err := e.svc.Authenticate(ctx, tok)
		wantCode(t, err, core.EUnauthenticated)
	}
	_, _, err = e.svc.Login(ctx, "dr.luo", "urology-clinic-4", "10.0.0.1")
	if ce := wantCode(t, err, core.EUnauthenticated); !strings.Contains(ce.Message, "disabled") {
		t.Fatalf("message = %q", ce.Message)
	}
	if d := e.audit.find("identity.user.deactivate", audit.ResultOK); len(d) != 1 || d[0].ObjectID != u.ID || d[0].ActorID != e.admin.UserID {
		t.Fatalf("deactivation audit = %+v", d)
	}
	if got, _ := e.svc.GetUser(ctx, e.admin, u.ID); got.Status != identity.StatusDisabled {
		t.Fatalf("status = %s", got.Status)
	}

	if err := e.svc.Reactivate(ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(t, "dr.luo", "urology-clinic-4")
	_, err = e.svc.Authenticate(ctx, pat)
	wantCode(t, err, core.EUnauthenticated) // tokens stay revoked
}

func TestPersonalAccessTokens(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	u := e.mustUser(t, "it.zhu", "information-centre")
	other := e.mustUser(t, "it.gao", "information-centre2")
	me := core.Actor{UserID: u.ID, OrgID: e.org, Kind: core.ActorUser}

	tests := []struct {
		name    string
		tokName string
		expires time.Time
		field   string
	}{
		{"empty name", "", time.Time{}, "name"},
		{"expiry in the past", "nightly", e.clock.Now().Add(-time.Second), "expires_at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.svc.CreateToken(ctx, me, tc.tokName, tc.expires)
			if ce := wantCode(t, err, core.EInvalid); ce.Field != tc.field {
				t.Fatalf("field = %q", ce.Field)
			}
		})
	}

	tok, secret, err := e.svc.CreateToken(ctx, me, "nightly backup check", e.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "rpat_") || len(secret) < 40 {
		t.Fatalf("secret = %q", secret)
	}
	a, err := e.svc.Authenticate(ctx, secret)
	if err != nil || a.UserID != u.ID || a.Kind != core.ActorUser || a.SessionID != tok.ID {
		t.Fatalf("actor = %+v %v", a, err)
	}
	_, forever, err := e.svc.CreateToken(ctx, me, "monitoring", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.ListTokens(ctx, me)
	if err != nil || len(list) != 2 || list[1].ID != tok.ID || list[1].Name != "nightly backup check" {
		t.Fatalf("tokens = %+v %v", list, err)
	}

	e.clock.Advance(time.Hour)
	_, err = e.svc.Authenticate(ctx, secret)
	wantCode(t, err, core.EUnauthenticated)
	if _, err := e.svc.Authenticate(ctx, forever); err != nil {
		t.Fatal(err)
	}

	wantCode(t, e.svc.RevokeToken(ctx, core.Actor{UserID: other.ID, Kind: core.ActorUser}, list[0].ID), core.ENotFound)
	if err := e.svc.RevokeToken(ctx, me, list[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, forever)
	wantCode(t, err, core.EUnauthenticated)
	if list, _ := e.svc.ListTokens(ctx, me); len(list) != 1 {
		t.Fatalf("revoked token still listed: %+v", list)
	}
	// A token is not a session: logging out with it is refused.
	wantCode(t, e.svc.Logout(ctx, a), core.EInvalid)
}

func TestBots(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	bot, tok, secret, err := e.svc.CreateBot(ctx, e.admin, identity.NewBot{OrgID: e.org, Login: "roster-bot", DisplayName: "排班机器人"})
	if err != nil {
		t.Fatal(err)
	}
	if bot.Kind != identity.KindBot || bot.OrgID != e.org || tok.Kind != identity.TokenBot || !strings.HasPrefix(secret, "rbot_") {
		t.Fatalf("bot = %+v token = %+v secret = %q", bot, tok, secret)
	}
	a, err := e.svc.Authenticate(ctx, secret)
	if err != nil || a.Kind != core.ActorBot || a.UserID != bot.ID || a.OrgID != e.org {
		t.Fatalf("bot actor = %+v %v", a, err)
	}
	// Bots have no password and make no personal tokens.
	_, _, err = e.svc.Login(ctx, "roster-bot", "anything-at-all", "10.0.0.1")
	wantCode(t, err, core.EUnauthenticated)
	_, _, err = e.svc.CreateToken(ctx, a, "more", time.Time{})
	wantCode(t, err, core.EForbidden)
	wantCode(t, e.svc.SetPassword(ctx, e.admin, bot.ID, "bots-have-none-1"), core.EInvalid)

	staff := e.mustUser(t, "clerk.he", "")
	_, _, _, err = e.svc.CreateBot(ctx, core.Actor{UserID: staff.ID, OrgID: e.org, Kind: core.ActorUser}, identity.NewBot{OrgID: e.org, Login: "my-bot"})
	wantCode(t, err, core.EForbidden)
	_, _, _, err = e.svc.CreateBot(ctx, e.admin, identity.NewBot{OrgID: e.org, Login: "ROSTER-BOT"})
	wantCode(t, err, core.EConflict)

	if err := e.svc.Deactivate(ctx, e.admin, bot.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, secret)
	wantCode(t, err, core.EUnauthenticated)

	// Reactivated, the bot needs a new token: the old one stays dead.
	if err := e.svc.Reactivate(ctx, e.admin, bot.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, secret)
	wantCode(t, err, core.EUnauthenticated)
	_, _, err = e.svc.RotateBotToken(ctx, core.Actor{UserID: staff.ID, OrgID: e.org, Kind: core.ActorUser}, bot.ID)
	wantCode(t, err, core.EForbidden)
	_, _, err = e.svc.RotateBotToken(ctx, e.admin, staff.ID)
	wantCode(t, err, core.EInvalid)
	tok2, secret2, err := e.svc.RotateBotToken(ctx, e.admin, bot.ID)
	if err != nil || !strings.HasPrefix(secret2, "rbot_") || tok2.Kind != identity.TokenBot {
		t.Fatalf("rotate = %+v %q %v", tok2, secret2, err)
	}
	if a, err := e.svc.Authenticate(ctx, secret2); err != nil || a.UserID != bot.ID || a.SessionID != tok2.ID {
		t.Fatalf("new bot token: %+v %v", a, err)
	}
	// Rotating again ends the previous token at once, cached or not.
	_, secret3, err := e.svc.RotateBotToken(ctx, e.admin, bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, secret2)
	wantCode(t, err, core.EUnauthenticated)
	if _, err := e.svc.Authenticate(ctx, secret3); err != nil {
		t.Fatal(err)
	}
}

// slowRead runs hook after a session read returns, as if a revocation
// landed while the read was on its way back.
type slowRead struct {
	identity.Store
	hook func()
}

func (s *slowRead) SessionByHash(ctx context.Context, h string) (identity.Session, identity.User, error) {
	x, u, err := s.Store.SessionByHash(ctx, h)
	if s.hook != nil {
		hook := s.hook
		s.hook = nil
		hook()
	}
	return x, u, err
}

func TestRevocationDuringReadIsNotCached(t *testing.T) {
	e := newEnv(t, identity.Config{AuthCacheTTL: time.Hour})
	ctx := context.Background()
	e.mustUser(t, "dr.cao", "icu-bed-twelve")
	store := &slowRead{Store: e.store}
	svc := identity.New(store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: time.Hour}, e.authz, e.audit, e.clock)
	sess, tok, err := svc.Login(ctx, "dr.cao", "icu-bed-twelve", "")
	if err != nil {
		t.Fatal(err)
	}
	store.hook = func() {
		if err := svc.RevokeSession(ctx, core.Actor{UserID: sess.UserID, Kind: core.ActorUser}, sess.ID); err != nil {
			t.Error(err)
		}
	}
	if _, err := svc.Authenticate(ctx, tok); err != nil { // read before the revocation
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, tok)
	wantCode(t, err, core.EUnauthenticated)
}

func TestRevocationReachesOtherNodes(t *testing.T) {
	e := newEnv(t, identity.Config{AuthCacheTTL: time.Minute})
	ctx := context.Background()
	e.mustUser(t, "dr.tang", "pharmacy-desk-1")
	node2 := identity.New(e.store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: time.Minute}, e.authz, e.audit, e.clock)
	_, tok := e.mustLogin(t, "dr.tang", "pharmacy-desk-1")
	a, err := node2.Authenticate(ctx, tok) // node 2 caches it
	if err != nil {
		t.Fatal(err)
	}

	// Without the hook, node 2 trusts its cache for up to AuthCacheTTL.
	if err := e.svc.Logout(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := node2.Authenticate(ctx, tok); err != nil {
		t.Fatalf("cached entry dropped without a hook: %v", err)
	}
	e.clock.Advance(time.Minute)
	_, err = node2.Authenticate(ctx, tok)
	wantCode(t, err, core.EUnauthenticated)

	// With the hook (the bus in production), node 2 forgets at once.
	e.svc.OnRevoke(node2.ForgetUser)
	_, tok = e.mustLogin(t, "dr.tang", "pharmacy-desk-1")
	a, err = node2.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err = node2.Authenticate(ctx, tok)
	wantCode(t, err, core.EUnauthenticated)
}

func TestRevocationOverTheBus(t *testing.T) {
	e := newEnv(t, identity.Config{AuthCacheTTL: time.Hour})
	ctx := context.Background()
	e.mustUser(t, "dr.bai", "infection-control")
	b := inproc.New() // one bus joins the two nodes
	t.Cleanup(func() { b.Close() })
	node2 := identity.New(e.store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: time.Hour}, e.authz, e.audit, e.clock)
	for _, svc := range []*identity.Service{e.svc, node2} {
		sub, err := svc.UseBus(b)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Stop() })
	}
	_, tok := e.mustLogin(t, "dr.bai", "infection-control")
	a, err := node2.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The test clock stands still, so only the event can end node 2's cache entry.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := node2.Authenticate(ctx, tok)
		if core.IsCode(err, core.EUnauthenticated) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2 still accepts the revoked session: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	pg := func(t testing.TB) *sqldb.DB { return sqldbtest.OpenPostgres(t, migrations...) }
	for _, bc := range []struct {
		name string
		ttl  time.Duration
		open func(testing.TB) *sqldb.DB
	}{
		{"cached/sqlite", 10 * time.Second, openDB},
		{"uncached/sqlite", -1, openDB},
		{"cached/postgres", 10 * time.Second, pg},
		{"uncached/postgres", -1, pg},
	} {
		b.Run(bc.name, func(b *testing.B) {
			saved := openDB
			openDB = bc.open
			e := newEnv(b, identity.Config{AuthCacheTTL: bc.ttl})
			openDB = saved
			// The real clock: the touch-once-a-minute path is part of the cost.
			svc := identity.New(e.store, identity.Config{Argon2: fastArgon2, AuthCacheTTL: bc.ttl}, e.authz, e.audit, core.SystemClock{})
			if _, err := svc.CreateUser(context.Background(), core.SystemActor, identity.NewUser{OrgID: e.org, Login: "bench.user", Password: "benchmark-pw-1"}); err != nil {
				b.Fatal(err)
			}
			_, tok, err := svc.Login(context.Background(), "bench.user", "benchmark-pw-1", "10.0.0.1")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := svc.Authenticate(ctx, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHashPassword measures one sign-in's hashing cost with the
// production parameters.
func BenchmarkHashPassword(b *testing.B) {
	h := identity.HashPassword("cardiology-ward-3", identity.DefaultArgon2)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := identity.VerifyPassword("cardiology-ward-3", h, identity.DefaultArgon2); !ok {
			b.Fatal("no match")
		}
	}
}

// TestRenameBot: the system renames a bot (an app's bot follows its app's
// name); nobody else may, and a person is not renamed this way.
func TestRenameBot(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	bot, err := e.svc.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: e.org, Login: "app.shift-planner.0193abcd", DisplayName: "shift-planner", Kind: identity.KindBot})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RenameBot(ctx, core.SystemActor, bot.ID, "智能排班"); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.svc.GetUser(ctx, e.admin, bot.ID); u.DisplayName != "智能排班" || u.Login != bot.Login {
		t.Fatalf("after rename: %+v", u)
	}
	wantCode(t, e.svc.RenameBot(ctx, e.admin, bot.ID, "别名"), core.EForbidden)
	wantCode(t, e.svc.RenameBot(ctx, core.SystemActor, bot.ID, " "), core.EInvalid)
	wantCode(t, e.svc.RenameBot(ctx, core.SystemActor, e.admin.UserID, "管理员"), core.EInvalid)
	wantCode(t, e.svc.RenameBot(ctx, core.SystemActor, core.NewID(), "x"), core.ENotFound)
	if u, _ := e.svc.GetUser(ctx, e.admin, bot.ID); u.DisplayName != "智能排班" {
		t.Fatalf("a refused rename changed the name: %+v", u)
	}
}
