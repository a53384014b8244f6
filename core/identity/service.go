package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// Service is the identity area's business logic. Every transport (HTTP,
// WebSocket, plugins, jobs) calls it, so its checks are the only ones.
type Service struct {
	store Store
	cfg   Config
	authz Authorizer
	audit audit.Recorder
	clock core.Clock
	cache *authCache
	// hashSlots bounds concurrent argon2 work: each hash holds
	// Argon2.Memory KiB, and a burst of sign-ins must queue rather than
	// exhaust a small server's memory.
	hashSlots chan struct{}

	// dummyHash is verified against when a login does not exist, so an
	// unknown login takes as long as a wrong password (no enumeration by
	// timing).
	dummyHash string

	mu      sync.Mutex
	revoked []func(userID string)
}

// New returns the identity service. cfg's zero fields take the defaults;
// clock is core.SystemClock{} outside tests.
func New(store Store, cfg Config, authz Authorizer, rec audit.Recorder, clock core.Clock) *Service {
	cfg = cfg.withDefaults()
	return &Service{
		store:     store,
		cfg:       cfg,
		authz:     authz,
		audit:     rec,
		clock:     clock,
		cache:     newAuthCache(cfg.AuthCacheTTL),
		hashSlots: make(chan struct{}, cfg.MaxConcurrentHashes),
		dummyHash: HashPassword(core.RandomToken(16), cfg.Argon2),
	}
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// OnRevoke registers fn to be called with a user id after any of that user's
// sessions or tokens was revoked on this node (logout, password change,
// deactivation …). Wire it to the bus so other nodes call ForgetUser and drop
// their cached authentications at once rather than within AuthCacheTTL.
func (s *Service) OnRevoke(fn func(userID string)) {
	s.mu.Lock()
	s.revoked = append(s.revoked, fn)
	s.mu.Unlock()
}

// ForgetUser drops every cached authentication of the user on this node, so
// the next request with any of their tokens is checked against the database.
func (s *Service) ForgetUser(userID string) { s.cache.forgetUser(userID) }

func (s *Service) afterRevoke(userID string) {
	s.cache.forgetUser(userID)
	s.mu.Lock()
	hooks := append([]func(string){}, s.revoked...)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(userID)
	}
}

func (s *Service) acquireHash(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return core.Wrap(ctx.Err(), "identity: waiting to hash a password")
	}
}

func (s *Service) releaseHash() { <-s.hashSlots }

// hash hashes a password within the concurrency limit.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer s.releaseHash()
	return HashPassword(password, s.cfg.Argon2), nil
}

// verify checks a password within the concurrency limit.
func (s *Service) verify(ctx context.Context, password, hash string) (ok, rehash bool, err error) {
	if err := s.acquireHash(ctx); err != nil {
		return false, false, err
	}
	defer s.releaseHash()
	ok, rehash = VerifyPassword(password, hash, s.cfg.Argon2)
	return ok, rehash, nil
}

// claimAttempt counts a password attempt against the login before the
// password is checked, so guesses sent in parallel cannot all slip past the
// limit while their hashes run; a correct password clears the count. It
// returns ERateLimited when the login was already locked. The attempt that
// reaches the limit is still checked (it locks the login for the next ones).
func (s *Service) claimAttempt(ctx context.Context, key string, now time.Time) error {
	th, err := s.store.RecordFailure(ctx, key, now, s.cfg.AccountWindow, s.cfg.MaxAccountFailures, s.cfg.AccountLockout)
	if err != nil {
		return err
	}
	// Failures is 0 right after this attempt set the lock; above 0 while
	// locked means the lock was set by an earlier attempt.
	if th.LockedUntil.After(now) && th.Failures > 0 {
		return rateLimited("too many failed sign-ins for this login; try again later", th.LockedUntil, now)
	}
	return nil
}

// errBadCredentials is the one answer to a wrong login or password, so the
// response does not tell whether the login exists.
func errBadCredentials() error {
	return core.Errorf(core.EUnauthenticated, "the login or password is wrong")
}

func rateLimited(msg string, until, now time.Time) error {
	secs := int(math.Ceil(until.Sub(now).Seconds()))
	if secs < 1 {
		secs = 1
	}
	return core.Errorf(core.ERateLimited, "%s", msg).With("retry_after", secs)
}

// hashToken is how a token is stored and looked up.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Service) record(ctx context.Context, a core.Actor, e audit.Entry) {
	if s.audit == nil {
		return
	}
	e.ActorID, e.ActorKind, e.AppID, e.IP = a.UserID, string(a.Kind), a.AppID, a.IP
	if e.OrgID == "" {
		e.OrgID = a.OrgID
	}
	// The action already happened; a failing audit log is reported loudly
	// but does not undo it or hide it from the person who did it.
	if err := s.audit.Record(ctx, e); err != nil {
		slog.ErrorContext(ctx, "identity: audit record failed", "action", e.Action, "err", err)
	}
}

// authorize asks the Authorizer; the system actor may do anything. A denial
// is audited.
func (s *Service) authorize(ctx context.Context, a core.Actor, orgID, object, action, auditAction, objectID string) error {
	if a.IsSystem() {
		return nil
	}
	if a.UserID == "" {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if s.authz == nil {
		return core.Errorf(core.EForbidden, "you may not do this")
	}
	if err := s.authz.Authorize(ctx, a, orgID, object, action); err != nil {
		if core.IsCode(err, core.EForbidden) {
			s.record(ctx, a, audit.Entry{OrgID: orgID, Action: auditAction, ObjectType: "user", ObjectID: objectID, Result: audit.ResultDenied})
		}
		return err
	}
	return nil
}

// ---- accounts ----

var loginPattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._@-]{1,63}$`)

func checkLogin(login string) error {
	if !loginPattern.MatchString(login) {
		return core.Invalid("login", "a login is 2 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit")
	}
	return nil
}

func checkDisplayName(name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 || strings.TrimSpace(name) != name {
		return core.Invalid("display_name", "a display name is 1 to 100 characters without leading or trailing spaces")
	}
	return nil
}

// CreateUser creates an account in nu.OrgID. The actor needs
// identity.user/write in that organisation (the system actor may always).
// A duplicate login is EConflict.
func (s *Service) CreateUser(ctx context.Context, a core.Actor, nu NewUser) (User, error) {
	if nu.Kind == "" {
		nu.Kind = KindHuman
	}
	if nu.DisplayName == "" {
		nu.DisplayName = nu.Login
	}
	switch {
	case nu.OrgID != "" && !core.ValidID(nu.OrgID):
		return User{}, core.Invalid("org_id", "org_id is not a valid id")
	case nu.ID != "" && !core.ValidID(nu.ID):
		return User{}, core.Invalid("id", "id is not a valid id")
	case nu.Kind != KindHuman && nu.Kind != KindBot:
		return User{}, core.Invalid("kind", "kind must be human or bot")
	case nu.Kind == KindBot && nu.Password != "":
		return User{}, core.Invalid("password", "bots sign in with tokens, not passwords")
	case nu.Kind == KindBot && nu.OrgID == "":
		return User{}, core.Invalid("org_id", "a bot belongs to an organisation")
	}
	if err := s.authorize(ctx, a, nu.OrgID, ObjectUser, ActionWrite, "identity.user.create", ""); err != nil {
		return User{}, err
	}
	if err := checkLogin(nu.Login); err != nil {
		return User{}, err
	}
	if err := checkDisplayName(nu.DisplayName); err != nil {
		return User{}, err
	}
	if nu.Password != "" {
		if err := CheckPassword("password", nu.Password, nu.Login); err != nil {
			return User{}, err
		}
	}
	now := s.clock.Now().Truncate(time.Millisecond)
	if nu.ID == "" {
		nu.ID = core.NewID()
	}
	u := User{ID: nu.ID, OrgID: nu.OrgID, Login: nu.Login, DisplayName: nu.DisplayName, Kind: nu.Kind, Status: StatusActive, CreatedAt: now}
	hash := ""
	if nu.Password != "" {
		var err error
		if hash, err = s.hash(ctx, nu.Password); err != nil {
			return User{}, err
		}
		u.PasswordChangedAt = now
	}
	if err := s.store.CreateUser(ctx, u, hash); err != nil {
		return User{}, err
	}
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.user.create", ObjectType: "user", ObjectID: u.ID, Result: audit.ResultOK,
		Details: map[string]any{"login": u.Login, "kind": string(u.Kind)}})
	return u, nil
}

// GetUser returns an account. People may read their own; others need
// identity.user/read in the account's organisation. An account the actor may
// not read is ENotFound, like one that does not exist.
func (s *Service) GetUser(ctx context.Context, a core.Actor, id string) (User, error) {
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	if a.UserID == id {
		return u, nil
	}
	// Bots speak in chat (the approvals assistant, apps): anyone of their
	// organisation may see who they are.
	if u.Kind == KindBot && a.OrgID == u.OrgID && u.OrgID != "" {
		return u, nil
	}
	if err := s.authorize(ctx, a, u.OrgID, ObjectUser, ActionRead, "identity.user.read", id); err != nil {
		if core.IsCode(err, core.EForbidden) {
			return User{}, core.Errorf(core.ENotFound, "no such user")
		}
		return User{}, err
	}
	return u, nil
}

// RenameBot changes a bot account's display name: an app's bot is named
// after its app and follows the app's name from version to version. Only the
// system does this; a person's name comes from the org chart.
func (s *Service) RenameBot(ctx context.Context, a core.Actor, userID, name string) error {
	if !a.IsSystem() {
		return core.Errorf(core.EForbidden, "only the system renames bots")
	}
	if err := checkDisplayName(name); err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Kind != KindBot {
		return core.Invalid("user_id", "%s is not a bot", userID)
	}
	if u.DisplayName == name {
		return nil
	}
	return s.store.SetDisplayName(ctx, userID, name)
}

type userCursor struct {
	After string `json:"a"`
}

// ListUsers lists an organisation's accounts ordered by login. The actor
// needs identity.user/read in orgID. It returns the next page's cursor ("" at
// the end).
func (s *Service) ListUsers(ctx context.Context, a core.Actor, orgID string, page core.PageRequest) ([]User, string, error) {
	if orgID != "" && !core.ValidID(orgID) {
		return nil, "", core.Invalid("org", "org is not a valid id")
	}
	page = page.Normalize(50)
	var cur userCursor
	if err := core.DecodeCursor(page.Cursor, &cur); err != nil {
		return nil, "", err
	}
	if err := s.authorize(ctx, a, orgID, ObjectUser, ActionRead, "identity.user.list", ""); err != nil {
		return nil, "", err
	}
	users, err := s.store.ListUsers(ctx, orgID, cur.After, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > page.Limit {
		users = users[:page.Limit]
		next = core.EncodeCursor(userCursor{After: strings.ToLower(users[len(users)-1].Login)})
	}
	return users, next, nil
}

// SetPassword is an admin's password reset: the actor needs identity.user/write
// in the account's organisation. Every session of the account is revoked.
func (s *Service) SetPassword(ctx context.Context, a core.Actor, userID, password string) error {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Kind == KindBot {
		return core.Invalid("password", "bots sign in with tokens, not passwords")
	}
	if err := s.authorize(ctx, a, u.OrgID, ObjectUser, ActionWrite, "identity.user.password_reset", userID); err != nil {
		return err
	}
	if err := CheckPassword("password", password, u.Login); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, userID, hash, s.clock.Now()); err != nil {
		return err
	}
	s.afterRevoke(userID)
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.user.password_reset", ObjectType: "user", ObjectID: userID, Result: audit.ResultOK})
	return nil
}

// ChangeOwnPassword changes the actor's password after checking the current
// one. Wrong current passwords count towards the account lockout (a stolen
// session must not become a way to guess the password). Every session of
// the account, the current one included, is revoked: the person signs in
// again with the new password.
func (s *Service) ChangeOwnPassword(ctx context.Context, a core.Actor, oldPassword, newPassword string) error {
	if a.UserID == "" {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	u, err := s.store.GetUser(ctx, a.UserID)
	if err != nil {
		return err
	}
	if u.Kind == KindBot {
		return core.Invalid("new_password", "bots sign in with tokens, not passwords")
	}
	if err := CheckPassword("new_password", newPassword, u.Login); err != nil {
		return err
	}
	now := s.clock.Now()
	key := accountKey(u.Login)
	if th, err := s.store.Throttle(ctx, key); err != nil {
		return err
	} else if th.LockedUntil.After(now) {
		return rateLimited("too many wrong passwords; try again later", th.LockedUntil, now)
	}
	if err := s.claimAttempt(ctx, key, now); err != nil {
		return err
	}
	_, oldHash, err := s.store.UserByLogin(ctx, u.Login)
	if err != nil {
		return err
	}
	ok, _, err := s.verify(ctx, oldPassword, oldHash)
	if err != nil {
		return err
	}
	if !ok {
		s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.user.password_change", ObjectType: "user", ObjectID: u.ID, Result: audit.ResultFailed,
			Details: map[string]any{"reason": "wrong_password"}})
		return core.Invalid("old_password", "the current password is wrong")
	}
	if err := s.store.ClearThrottle(ctx, key); err != nil {
		return err
	}
	newHash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, newHash, now); err != nil {
		return err
	}
	s.afterRevoke(u.ID)
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.user.password_change", ObjectType: "user", ObjectID: u.ID, Result: audit.ResultOK})
	return nil
}

// Deactivate disables an account and revokes all its sessions and tokens in
// one transaction. The actor needs identity.user/write in the account's
// organisation and may not deactivate themself. Deactivating a disabled
// account changes nothing.
func (s *Service) Deactivate(ctx context.Context, a core.Actor, userID string) error {
	return s.setStatus(ctx, a, userID, StatusDisabled, "identity.user.deactivate")
}

// Reactivate enables a disabled account. Its old sessions and tokens stay
// revoked.
func (s *Service) Reactivate(ctx context.Context, a core.Actor, userID string) error {
	return s.setStatus(ctx, a, userID, StatusActive, "identity.user.reactivate")
}

func (s *Service) setStatus(ctx context.Context, a core.Actor, userID string, st Status, action string) error {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, a, u.OrgID, ObjectUser, ActionWrite, action, userID); err != nil {
		return err
	}
	if st == StatusDisabled && a.UserID == userID {
		return core.Errorf(core.EConflict, "you cannot deactivate your own account")
	}
	if u.Status == st {
		return nil
	}
	if err := s.store.SetStatus(ctx, userID, st, s.clock.Now()); err != nil {
		return err
	}
	if st == StatusDisabled {
		s.afterRevoke(userID)
	}
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: action, ObjectType: "user", ObjectID: userID, Result: audit.ResultOK})
	return nil
}

// ---- sign-in and sessions ----

func accountKey(login string) string { return "login:" + strings.ToLower(login) }
func ipKey(ip string) string         { return "ip:" + ip }

// Login signs in with a login and password from the client address ip and
// returns the new session and its token (shown only now).
//
// Wrong login or password: EUnauthenticated with one generic message. A
// locked login or a blocked address: ERateLimited with details.retry_after
// in seconds. Every attempt is audited as "session.login" with the reason of
// a failure; the password never is.
func (s *Service) Login(ctx context.Context, login, password, ip string) (Session, string, error) {
	login = strings.TrimSpace(login)
	switch {
	case login == "":
		return Session{}, "", core.Invalid("login", "enter your login")
	case utf8.RuneCountInString(login) > 64:
		// No login is longer; refusing here also keeps junk out of the
		// throttle table and the audit log.
		return Session{}, "", core.Invalid("login", "a login is at most 64 characters")
	case password == "":
		return Session{}, "", core.Invalid("password", "enter your password")
	}
	actor := core.Actor{Kind: core.ActorUser, IP: ip}
	fail := func(reason string, userID, orgID string) {
		a := actor
		a.UserID, a.OrgID = userID, orgID
		s.record(ctx, a, audit.Entry{Action: "session.login", ObjectType: "user", ObjectID: userID, Result: audit.ResultFailed,
			Details: map[string]any{"reason": reason, "login": login}})
	}
	now := s.clock.Now()
	acct := accountKey(login)
	if th, err := s.store.Throttle(ctx, acct); err != nil {
		return Session{}, "", err
	} else if th.LockedUntil.After(now) {
		fail("locked", "", "")
		return Session{}, "", rateLimited("too many failed sign-ins for this login; try again later", th.LockedUntil, now)
	}
	if ip != "" {
		if th, err := s.store.Throttle(ctx, ipKey(ip)); err != nil {
			return Session{}, "", err
		} else if th.LockedUntil.After(now) {
			fail("rate_limited", "", "")
			return Session{}, "", rateLimited("too many failed sign-ins from this address; try again later", th.LockedUntil, now)
		}
	}

	if err := s.claimAttempt(ctx, acct, now); err != nil {
		fail("locked", "", "")
		return Session{}, "", err
	}
	u, hash, err := s.store.UserByLogin(ctx, login)
	if err != nil && !core.IsCode(err, core.ENotFound) {
		return Session{}, "", err
	}
	found := err == nil
	// An over-long password is hashed for nobody (it cannot be right); every
	// other attempt costs one hash whether or not the login exists.
	ok, rehash := false, false
	switch tooLong := utf8.RuneCountInString(password) > MaxPasswordLength; {
	case tooLong:
	case found && hash != "":
		ok, rehash, err = s.verify(ctx, password, hash)
	default:
		_, _, err = s.verify(ctx, password, s.dummyHash)
	}
	if err != nil {
		return Session{}, "", err
	}
	if !ok {
		// The login's attempt is already counted; the address counts
		// failures only, so a ward sharing one NAT address is not blocked
		// by its own successful sign-ins.
		if ip != "" {
			if _, err := s.store.RecordFailure(ctx, ipKey(ip), now, s.cfg.IPWindow, s.cfg.MaxIPFailures, s.cfg.IPWindow); err != nil {
				return Session{}, "", err
			}
		}
		fail("bad_credentials", u.ID, u.OrgID)
		return Session{}, "", errBadCredentials()
	}
	// The password is right, so saying why sign-in is refused reveals
	// nothing an attacker could not already know.
	if u.Status != StatusActive || u.Kind != KindHuman {
		fail("disabled", u.ID, u.OrgID)
		return Session{}, "", core.Errorf(core.EUnauthenticated, "this account is disabled; ask your administrator")
	}
	if err := s.store.ClearThrottle(ctx, acct); err != nil {
		return Session{}, "", err
	}
	if rehash {
		h, err := s.hash(ctx, password)
		if err == nil {
			err = s.store.RehashPassword(ctx, u.ID, h)
		}
		if err != nil {
			slog.WarnContext(ctx, "identity: rehash failed", "user", u.ID, "err", err)
		}
	}
	now = now.Truncate(time.Millisecond)
	token := core.RandomToken(32)
	sess := Session{ID: core.NewID(), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), IP: ip}
	if err := s.store.CreateSession(ctx, sess, hashToken(token)); err != nil {
		return Session{}, "", err
	}
	actor.UserID, actor.OrgID, actor.SessionID = u.ID, u.OrgID, sess.ID
	s.record(ctx, actor, audit.Entry{Action: "session.login", ObjectType: "session", ObjectID: sess.ID, Result: audit.ResultOK})
	return sess, token, nil
}

// Logout revokes the session the actor is using. A request made with an API
// token has no session to end (EInvalid; revoke the token instead).
func (s *Service) Logout(ctx context.Context, a core.Actor) error {
	if a.UserID == "" {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if err := s.store.RevokeSession(ctx, a.UserID, a.SessionID, s.clock.Now()); err != nil {
		if core.IsCode(err, core.ENotFound) {
			return core.Errorf(core.EInvalid, "this request was not made with a session; revoke the token instead")
		}
		return err
	}
	s.afterRevoke(a.UserID)
	s.record(ctx, a, audit.Entry{Action: "session.logout", ObjectType: "session", ObjectID: a.SessionID, Result: audit.ResultOK})
	return nil
}

// ListSessions returns the actor's open sessions, newest first.
func (s *Service) ListSessions(ctx context.Context, a core.Actor) ([]Session, error) {
	if a.UserID == "" {
		return nil, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return s.store.ListSessions(ctx, a.UserID, s.clock.Now())
}

// RevokeSession ends one of the actor's own sessions (signing out another
// device). Someone else's session is ENotFound.
func (s *Service) RevokeSession(ctx context.Context, a core.Actor, sessionID string) error {
	if a.UserID == "" {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if err := s.store.RevokeSession(ctx, a.UserID, sessionID, s.clock.Now()); err != nil {
		return err
	}
	s.afterRevoke(a.UserID)
	s.record(ctx, a, audit.Entry{Action: "session.revoke", ObjectType: "session", ObjectID: sessionID, Result: audit.ResultOK})
	return nil
}

// RevokeAllSessions signs the user out everywhere. Other areas call it (the
// org chart when a person leaves) after their own authorization; the actor in
// ctx, or the system, is audited. API tokens are not touched: deactivate the
// account to stop those too.
func (s *Service) RevokeAllSessions(ctx context.Context, userID string) error {
	ids, err := s.store.RevokeSessions(ctx, userID, s.clock.Now())
	if err != nil {
		return err
	}
	s.afterRevoke(userID)
	a, ok := core.ActorFrom(ctx)
	if !ok {
		a = core.SystemActor
	}
	s.record(ctx, a, audit.Entry{Action: "session.revoke_all", ObjectType: "user", ObjectID: userID, Result: audit.ResultOK,
		Details: map[string]any{"sessions": len(ids)}})
	return nil
}

// Prune deletes sessions that ended more than a day ago and stale sign-in
// throttles. A periodic job calls it (hourly is plenty).
func (s *Service) Prune(ctx context.Context) error {
	keep := 24 * time.Hour
	for _, d := range []time.Duration{s.cfg.AccountWindow, s.cfg.AccountLockout, s.cfg.IPWindow} {
		keep = max(keep, d)
	}
	return s.store.Prune(ctx, s.clock.Now().Add(-keep))
}

// ---- tokens and bots ----

func checkTokenName(name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 || strings.TrimSpace(name) != name {
		return core.Invalid("name", "a token name is 1 to 100 characters without leading or trailing spaces")
	}
	return nil
}

// CreateToken makes a personal access token for the actor (a person, not a
// bot). expiresAt may be zero (never) or must lie in the future. The secret
// is returned only now.
func (s *Service) CreateToken(ctx context.Context, a core.Actor, name string, expiresAt time.Time) (Token, string, error) {
	if a.UserID == "" {
		return Token{}, "", core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if a.Kind != core.ActorUser {
		return Token{}, "", core.Errorf(core.EForbidden, "only people create personal access tokens")
	}
	if err := checkTokenName(name); err != nil {
		return Token{}, "", err
	}
	now := s.clock.Now().Truncate(time.Millisecond)
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return Token{}, "", core.Invalid("expires_at", "expires_at must be in the future")
	}
	secret := PersonalTokenPrefix + core.RandomToken(32)
	t := Token{ID: core.NewID(), UserID: a.UserID, Kind: TokenPersonal, Name: name, CreatedAt: now, ExpiresAt: expiresAt.UTC().Truncate(time.Millisecond)}
	if err := s.store.CreateToken(ctx, t, hashToken(secret)); err != nil {
		return Token{}, "", err
	}
	s.record(ctx, a, audit.Entry{Action: "identity.token.create", ObjectType: "token", ObjectID: t.ID, Result: audit.ResultOK,
		Details: map[string]any{"name": name}})
	return t, secret, nil
}

// ListTokens returns the actor's unrevoked tokens, without secrets.
func (s *Service) ListTokens(ctx context.Context, a core.Actor) ([]Token, error) {
	if a.UserID == "" {
		return nil, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return s.store.ListTokens(ctx, a.UserID)
}

// RevokeToken revokes one of the actor's tokens; someone else's is ENotFound.
func (s *Service) RevokeToken(ctx context.Context, a core.Actor, tokenID string) error {
	if a.UserID == "" {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if err := s.store.RevokeToken(ctx, a.UserID, tokenID, s.clock.Now()); err != nil {
		return err
	}
	s.afterRevoke(a.UserID)
	s.record(ctx, a, audit.Entry{Action: "identity.token.revoke", ObjectType: "token", ObjectID: tokenID, Result: audit.ResultOK})
	return nil
}

// NewBot is what CreateBot needs.
type NewBot struct {
	OrgID       string
	Login       string
	DisplayName string
}

// CreateBot creates a bot account owned by an organisation together with its
// token (prefix rbot_, no expiry), returned only now. The actor needs
// identity.bot/write in the organisation. Deactivating the bot revokes the
// token.
func (s *Service) CreateBot(ctx context.Context, a core.Actor, nb NewBot) (User, Token, string, error) {
	if nb.DisplayName == "" {
		nb.DisplayName = nb.Login
	}
	if nb.OrgID == "" || !core.ValidID(nb.OrgID) {
		return User{}, Token{}, "", core.Invalid("org_id", "a bot belongs to an organisation: org_id must be a valid id")
	}
	// Who may comes before what is valid: a refused caller learns nothing
	// about the rules and always gets 403.
	if err := s.authorize(ctx, a, nb.OrgID, ObjectBot, ActionWrite, "identity.bot.create", ""); err != nil {
		return User{}, Token{}, "", err
	}
	if err := checkLogin(nb.Login); err != nil {
		return User{}, Token{}, "", err
	}
	if err := checkDisplayName(nb.DisplayName); err != nil {
		return User{}, Token{}, "", err
	}
	now := s.clock.Now().Truncate(time.Millisecond)
	u := User{ID: core.NewID(), OrgID: nb.OrgID, Login: nb.Login, DisplayName: nb.DisplayName, Kind: KindBot, Status: StatusActive, CreatedAt: now}
	secret := BotTokenPrefix + core.RandomToken(32)
	t := Token{ID: core.NewID(), UserID: u.ID, Kind: TokenBot, Name: "bot", CreatedAt: now}
	if err := s.store.CreateBot(ctx, u, t, hashToken(secret)); err != nil {
		return User{}, Token{}, "", err
	}
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.bot.create", ObjectType: "user", ObjectID: u.ID, Result: audit.ResultOK,
		Details: map[string]any{"login": u.Login, "token_id": t.ID}})
	return u, t, secret, nil
}

// RotateBotToken revokes a bot's tokens and issues a new one, returned only
// now: for a leaked token, or to bring a reactivated bot back (reactivation
// leaves old tokens revoked). The actor needs identity.bot/write in the
// bot's organisation; a person's account is EInvalid.
func (s *Service) RotateBotToken(ctx context.Context, a core.Actor, botID string) (Token, string, error) {
	u, err := s.store.GetUser(ctx, botID)
	if err != nil {
		return Token{}, "", err
	}
	if err := s.authorize(ctx, a, u.OrgID, ObjectBot, ActionWrite, "identity.bot.rotate_token", botID); err != nil {
		return Token{}, "", err
	}
	if u.Kind != KindBot {
		return Token{}, "", core.Invalid("id", "this account is a person's, not a bot's")
	}
	now := s.clock.Now().Truncate(time.Millisecond)
	secret := BotTokenPrefix + core.RandomToken(32)
	t := Token{ID: core.NewID(), UserID: u.ID, Kind: TokenBot, Name: "bot", CreatedAt: now}
	if err := s.store.ReplaceBotTokens(ctx, u.ID, t, hashToken(secret), now); err != nil {
		return Token{}, "", err
	}
	s.afterRevoke(u.ID)
	s.record(ctx, a, audit.Entry{OrgID: u.OrgID, Action: "identity.bot.rotate_token", ObjectType: "user", ObjectID: u.ID, Result: audit.ResultOK,
		Details: map[string]any{"token_id": t.ID}})
	return t, secret, nil
}

// ---- authentication ----

// Authenticate turns a presented session token, personal access token or bot
// token into the actor it speaks for. Anything unknown, revoked, expired,
// idle too long or belonging to a disabled account is EUnauthenticated. IP is
// left for the transport to fill in.
func (s *Service) Authenticate(ctx context.Context, token string) (core.Actor, error) {
	if token == "" || len(token) > 200 {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	now := s.clock.Now()
	h := hashToken(token)
	if s.cfg.AuthCacheTTL > 0 {
		if e, ok := s.cache.get(h, now); ok {
			return s.checkCached(ctx, h, e, now)
		}
	}
	// A revocation landing between the read below and the cache fill must
	// not leave a stale entry behind: fill only if none happened meanwhile.
	epoch := s.cache.epochNow()
	var e cacheEntry
	if strings.HasPrefix(token, PersonalTokenPrefix) || strings.HasPrefix(token, BotTokenPrefix) {
		t, u, err := s.store.TokenByHash(ctx, h)
		if err != nil {
			return core.Actor{}, authErr(err)
		}
		if !t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) || u.Status != StatusActive {
			return core.Actor{}, core.Errorf(core.EUnauthenticated, "the token is expired or revoked")
		}
		kind := core.ActorUser
		if u.Kind == KindBot {
			kind = core.ActorBot
		}
		e = cacheEntry{actor: core.Actor{UserID: u.ID, OrgID: u.OrgID, Kind: kind, SessionID: t.ID}, isToken: true, expiresAt: t.ExpiresAt, lastSeen: t.LastUsedAt}
	} else {
		sess, u, err := s.store.SessionByHash(ctx, h)
		if err != nil {
			return core.Actor{}, authErr(err)
		}
		if !sess.RevokedAt.IsZero() || u.Status != StatusActive {
			return core.Actor{}, core.Errorf(core.EUnauthenticated, "the session has ended; sign in again")
		}
		e = cacheEntry{actor: core.Actor{UserID: u.ID, OrgID: u.OrgID, Kind: core.ActorUser, SessionID: sess.ID}, expiresAt: sess.ExpiresAt, lastSeen: sess.LastSeenAt}
	}
	e.loadedAt = now
	if s.cfg.AuthCacheTTL > 0 {
		s.cache.put(h, e, epoch)
	}
	return s.checkCached(ctx, h, e, now)
}

func authErr(err error) error {
	if core.IsCode(err, core.ENotFound) {
		return core.Errorf(core.EUnauthenticated, "the session or token is not valid; sign in again")
	}
	return err
}

// checkCached applies the time limits to an entry (fresh or cached) and
// records activity at most once per TouchInterval.
func (s *Service) checkCached(ctx context.Context, h string, e cacheEntry, now time.Time) (core.Actor, error) {
	if !e.expiresAt.IsZero() && !now.Before(e.expiresAt) {
		s.cache.drop(h)
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "the session or token has expired; sign in again")
	}
	if !e.isToken && !now.Before(e.lastSeen.Add(s.cfg.SessionIdle)) {
		s.cache.drop(h)
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "the session was idle too long; sign in again")
	}
	if now.Sub(e.lastSeen) >= s.cfg.TouchInterval {
		// Claim the touch in the cache first so concurrent requests on this
		// node do not all write.
		if s.cfg.AuthCacheTTL > 0 && !s.cache.claimTouch(h, now, s.cfg.TouchInterval) {
			return e.actor, nil
		}
		var err error
		if e.isToken {
			err = s.store.TouchToken(ctx, e.actor.SessionID, now)
		} else {
			err = s.store.TouchSession(ctx, e.actor.SessionID, now)
		}
		if err != nil {
			return core.Actor{}, err
		}
	}
	return e.actor, nil
}

// SessionActive returns nil while sessionID — a session's id, or an API
// token's, as Authenticate puts it in core.Actor.SessionID — is one of
// userID's active credentials: not revoked, not expired and, for a session,
// not idle too long (an account is deactivated by revoking them all). Once
// it has ended, or when it never was the user's, the answer is
// EUnauthenticated. Other credentials that stand for a session (the app
// host's page tokens) ask on every use, so a sign-out ends them on every
// node, a restarted one included.
//
// It only reads: it records no activity, so it never keeps a session from
// going idle. Answers are cached like Authenticate's (AuthCacheTTL) and
// dropped with them when the user's credentials are revoked on this node
// or, through UseBus, on any other.
func (s *Service) SessionActive(ctx context.Context, userID, sessionID string) error {
	if userID == "" || sessionID == "" {
		return errSessionEnded()
	}
	now := s.clock.Now()
	// Token hashes are hex: no hash is ever taken for this key.
	key := "session:" + userID + "/" + sessionID
	if s.cfg.AuthCacheTTL > 0 {
		if e, ok := s.cache.get(key, now); ok {
			return s.checkActive(e, now)
		}
	}
	epoch := s.cache.epochNow()
	e, err := s.loadActive(ctx, userID, sessionID, now)
	if err != nil {
		return err
	}
	e.loadedAt = now
	if s.cfg.AuthCacheTTL > 0 {
		s.cache.put(key, e, epoch)
	}
	return s.checkActive(e, now)
}

func errSessionEnded() error {
	return core.Errorf(core.EUnauthenticated, "the session has ended; sign in again")
}

// loadActive finds sessionID among the user's open sessions, then among
// their unrevoked tokens; neither is an entry marked ended (cached too: an
// ended credential never comes back).
func (s *Service) loadActive(ctx context.Context, userID, sessionID string, now time.Time) (cacheEntry, error) {
	e := cacheEntry{actor: core.Actor{UserID: userID, SessionID: sessionID}}
	sessions, err := s.store.ListSessions(ctx, userID, now)
	if err != nil {
		return cacheEntry{}, err
	}
	for _, x := range sessions {
		if x.ID == sessionID {
			e.expiresAt, e.lastSeen = x.ExpiresAt, x.LastSeenAt
			return e, nil
		}
	}
	tokens, err := s.store.ListTokens(ctx, userID)
	if err != nil {
		return cacheEntry{}, err
	}
	for _, t := range tokens {
		if t.ID == sessionID {
			e.isToken, e.expiresAt, e.lastSeen = true, t.ExpiresAt, t.LastUsedAt
			return e, nil
		}
	}
	e.ended = true
	return e, nil
}

// checkActive applies the time limits checkCached applies, without the
// touch.
func (s *Service) checkActive(e cacheEntry, now time.Time) error {
	switch {
	case e.ended:
		return errSessionEnded()
	case !e.expiresAt.IsZero() && !now.Before(e.expiresAt):
		return core.Errorf(core.EUnauthenticated, "the session or token has expired; sign in again")
	case !e.isToken && !now.Before(e.lastSeen.Add(s.cfg.SessionIdle)):
		return core.Errorf(core.EUnauthenticated, "the session was idle too long; sign in again")
	}
	return nil
}

// ---- cache ----

type cacheEntry struct {
	actor     core.Actor
	isToken   bool
	expiresAt time.Time // zero: never
	lastSeen  time.Time
	loadedAt  time.Time
	// ended marks a credential SessionActive found revoked or unknown.
	ended bool
}

// authCache remembers recently checked tokens by hash. Entries live for
// AuthCacheTTL; revocations on this node drop a user's entries at once.
type authCache struct {
	ttl    time.Duration
	mu     sync.Mutex
	byHash map[string]*cacheEntry
	byUser map[string]map[string]struct{}
	// epoch counts revocations; an entry read from the database before a
	// revocation is not cached after it.
	epoch uint64
}

func (c *authCache) epochNow() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// maxCacheEntries bounds memory: a hospital has at most some tens of
// thousands of active sessions; past this the cache starts afresh.
const maxCacheEntries = 100_000

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, byHash: map[string]*cacheEntry{}, byUser: map[string]map[string]struct{}{}}
}

func (c *authCache) get(h string, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[h]
	if !ok {
		return cacheEntry{}, false
	}
	if now.Sub(e.loadedAt) >= c.ttl || now.Before(e.loadedAt) {
		c.dropLocked(h)
		return cacheEntry{}, false
	}
	return *e, true
}

func (c *authCache) put(h string, e cacheEntry, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if len(c.byHash) >= maxCacheEntries {
		c.byHash = map[string]*cacheEntry{}
		c.byUser = map[string]map[string]struct{}{}
	}
	c.byHash[h] = &e
	u := c.byUser[e.actor.UserID]
	if u == nil {
		u = map[string]struct{}{}
		c.byUser[e.actor.UserID] = u
	}
	u[h] = struct{}{}
}

// claimTouch marks the entry as seen at now and reports whether this caller
// should write the touch (false when another request did within interval).
func (c *authCache) claimTouch(h string, now time.Time, interval time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[h]
	if !ok {
		return true
	}
	if now.Sub(e.lastSeen) < interval {
		return false
	}
	e.lastSeen = now
	return true
}

func (c *authCache) drop(h string) {
	c.mu.Lock()
	c.dropLocked(h)
	c.mu.Unlock()
}

func (c *authCache) dropLocked(h string) {
	e, ok := c.byHash[h]
	if !ok {
		return
	}
	delete(c.byHash, h)
	if u := c.byUser[e.actor.UserID]; u != nil {
		delete(u, h)
		if len(u) == 0 {
			delete(c.byUser, e.actor.UserID)
		}
	}
}

func (c *authCache) forgetUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for h := range c.byUser[userID] {
		delete(c.byHash, h)
	}
	delete(c.byUser, userID)
}
