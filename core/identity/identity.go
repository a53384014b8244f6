package identity

import (
	"context"
	"runtime"
	"time"

	"github.com/roundshq/rounds/core"
)

// Kind says whether an account is a person or a bot.
type Kind string

const (
	KindHuman Kind = "human"
	KindBot   Kind = "bot"
)

// Status of an account. A disabled account cannot sign in and every session
// and token it had was revoked when it was disabled.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// User is a login account. The org chart refers to the same person by ID.
type User struct {
	ID string `json:"id"`
	// OrgID is the hospital the account belongs to; "" for system admins
	// who look after the whole installation.
	OrgID string `json:"org_id"`
	// Login is unique across the installation and compared
	// case-insensitively; it keeps the spelling it was created with.
	Login             string    `json:"login"`
	DisplayName       string    `json:"display_name"`
	Kind              Kind      `json:"kind"`
	Status            Status    `json:"status"`
	CreatedAt         time.Time `json:"created_at"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

// NewUser is what CreateUser needs. Password may be empty: the account then
// cannot sign in until an admin sets one (accounts synced from a directory,
// bots).
type NewUser struct {
	// ID is the account's id when another area already chose it (a person
	// in the org chart has the id of their account); empty: a new one.
	ID          string
	OrgID       string
	Login       string
	DisplayName string
	Password    string
	Kind        Kind
}

// Session is a signed-in browser or app. The token that names it is shown
// once, at sign-in; only its SHA-256 hash is stored.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip,omitempty"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// TokenKind says what a token is for.
type TokenKind string

const (
	// TokenPersonal is a personal access token (prefix rpat_) a person makes
	// for scripts and API clients.
	TokenPersonal TokenKind = "personal"
	// TokenBot is a bot account's token (prefix rbot_).
	TokenBot TokenKind = "bot"
)

// Token prefixes tell the kind of a presented token without a lookup and
// let secret scanners recognise leaked Rounds tokens.
const (
	PersonalTokenPrefix = "rpat_"
	BotTokenPrefix      = "rbot_"
)

// Token is a long-lived API credential. It is listed without its secret.
type Token struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Kind       TokenKind `json:"kind"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero: never
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Throttle is the sign-in failure state of one key (an account or a client
// address). It lives in the database so limits hold across nodes and
// restarts.
type Throttle struct {
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time
}

// Store keeps accounts, credentials, sessions, tokens and sign-in throttles.
// Implementations are safe for concurrent use. Methods return *core.Error
// with ENotFound for a missing row and EConflict for a duplicate login; other
// failures are internal (or EUnavailable when the database is down).
type Store interface {
	// CreateUser inserts u with an optional password hash ("" for none).
	// EConflict when the login (case-insensitively) is taken.
	CreateUser(ctx context.Context, u User, passwordHash string) error
	// GetUser returns the account with id; ENotFound when there is none.
	GetUser(ctx context.Context, id string) (User, error)
	// UserByLogin finds an account by login, case-insensitively, with its
	// password hash ("" when it has none); ENotFound when there is none.
	UserByLogin(ctx context.Context, login string) (User, string, error)
	// ListUsers lists an organisation's accounts ordered by login. after is
	// the lower-cased login of the last item of the previous page ("" for the
	// first page).
	ListUsers(ctx context.Context, orgID, after string, limit int) ([]User, error)
	// SetPassword stores a new hash, sets PasswordChangedAt to at and
	// revokes every open session of the user, in one transaction.
	SetPassword(ctx context.Context, userID, hash string, at time.Time) error
	// RehashPassword replaces the hash of an unchanged password (new cost
	// parameters) without touching sessions or PasswordChangedAt.
	RehashPassword(ctx context.Context, userID, hash string) error
	// SetStatus changes the account's status. Disabling revokes every open
	// session and token of the user in the same transaction.
	SetStatus(ctx context.Context, userID string, status Status, at time.Time) error
	// SetDisplayName changes the account's display name; ENotFound when
	// there is no such account.
	SetDisplayName(ctx context.Context, userID, name string) error

	// CreateBot inserts a bot account and its token in one transaction.
	// EConflict when the login is taken.
	CreateBot(ctx context.Context, u User, t Token, tokenHash string) error

	// ReplaceBotTokens revokes every token of the user at at and stores t in
	// the same transaction (a bot's token rotation).
	ReplaceBotTokens(ctx context.Context, userID string, t Token, tokenHash string, at time.Time) error

	// CreateSession stores s under the hash of its token.
	CreateSession(ctx context.Context, s Session, tokenHash string) error
	// SessionByHash returns the session with tokenHash (revoked or not) and
	// its user; ENotFound when there is none.
	SessionByHash(ctx context.Context, tokenHash string) (Session, User, error)
	// TouchSession records activity.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// ListSessions returns the user's open sessions (not revoked, not past
	// expiresAfter), newest first.
	ListSessions(ctx context.Context, userID string, expiresAfter time.Time) ([]Session, error)
	// RevokeSession revokes one open session of the user; ENotFound when the
	// user has no such open session.
	RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error
	// RevokeSessions revokes every open session of the user and returns the
	// ids revoked.
	RevokeSessions(ctx context.Context, userID string, at time.Time) ([]string, error)

	// CreateToken stores t under the hash of its secret.
	CreateToken(ctx context.Context, t Token, tokenHash string) error
	// TokenByHash returns the token with tokenHash (revoked or not) and its
	// user; ENotFound when there is none.
	TokenByHash(ctx context.Context, tokenHash string) (Token, User, error)
	// TouchToken records use.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// ListTokens returns the user's tokens that are not revoked, newest first.
	ListTokens(ctx context.Context, userID string) ([]Token, error)
	// RevokeToken revokes one token of the user; ENotFound when the user has
	// no such unrevoked token.
	RevokeToken(ctx context.Context, userID, tokenID string, at time.Time) error

	// Throttle returns the failure state of key (zero when none).
	Throttle(ctx context.Context, key string) (Throttle, error)
	// RecordFailure counts one failed sign-in for key atomically: a count
	// whose window began more than window ago, or whose lock has run out,
	// starts afresh; when the count reaches max on an unlocked key, the key
	// is locked until at+lockFor and the count restarts at 0. Failures while
	// locked are counted but never extend the lock. It returns the state
	// after the update: Failures is 0 with LockedUntil after at exactly when
	// this call set the lock.
	RecordFailure(ctx context.Context, key string, at time.Time, window time.Duration, max int, lockFor time.Duration) (Throttle, error)
	// ClearThrottle forgets key's failures (after a successful sign-in).
	ClearThrottle(ctx context.Context, key string) error

	// Prune deletes sessions that expired or were revoked before before, and
	// throttles whose window began and whose lock ended before before.
	Prune(ctx context.Context, before time.Time) error
}

// Authorizer decides whether a actor may do action on object in an
// organisation (core/authz implements it). It returns a *core.Error with
// EForbidden when denied.
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Objects and actions identity asks the Authorizer about. The built-in
// policy must grant them to org admins (and system admins everywhere).
const (
	ObjectUser  = "identity.user" // actions: read, write
	ObjectBot   = "identity.bot"  // action: write
	ActionRead  = "read"
	ActionWrite = "write"
)

// Config tunes sign-in limits, session lifetimes and password hashing. Zero
// fields take the defaults in DefaultConfig.
type Config struct {
	// SessionTTL is a session's absolute lifetime (default 30 days).
	SessionTTL time.Duration
	// SessionIdle ends a session unused for this long (default 12 h).
	SessionIdle time.Duration
	// TouchInterval is how often a session's last-seen time is written at
	// most (default 1 min): the idle timeout needs no finer grain, and a
	// write on every request would load the database for nothing.
	TouchInterval time.Duration

	// MaxAccountFailures failed sign-ins for one login within
	// AccountWindow lock it for AccountLockout (defaults 5, 15 min, 15 min).
	MaxAccountFailures int
	AccountWindow      time.Duration
	AccountLockout     time.Duration
	// MaxIPFailures failed sign-ins from one address within IPWindow block
	// that address for IPWindow (defaults 30 per 5 min). Only failures
	// count, so a ward whose PCs share one NAT address can still sign in at
	// shift change. Unlike the per-login limit, which is exact, failures
	// are counted after the password check, so requests already in flight
	// when the limit is reached still finish.
	MaxIPFailures int
	IPWindow      time.Duration

	// Argon2 are the hashing parameters for new and rehashed passwords.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds password hashes running at once (default
	// GOMAXPROCS); further sign-ins wait their turn. Memory for hashing is
	// at most MaxConcurrentHashes × Argon2.Memory.
	MaxConcurrentHashes int

	// AuthCacheTTL is how long Authenticate trusts a token it has checked
	// before asking the database again (default 10 s; negative disables the
	// cache). Revocations on this node drop cached entries at once; on other
	// nodes they take effect within this TTL unless ForgetUser is called from
	// a bus subscription (see Service.OnRevoke).
	AuthCacheTTL time.Duration
}

// DefaultConfig returns the defaults described on Config.
func DefaultConfig() Config {
	return Config{
		SessionTTL:          30 * 24 * time.Hour,
		SessionIdle:         12 * time.Hour,
		TouchInterval:       time.Minute,
		MaxAccountFailures:  5,
		AccountWindow:       15 * time.Minute,
		AccountLockout:      15 * time.Minute,
		MaxIPFailures:       30,
		IPWindow:            5 * time.Minute,
		Argon2:              DefaultArgon2,
		MaxConcurrentHashes: runtime.GOMAXPROCS(0),
		AuthCacheTTL:        10 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SessionTTL <= 0 {
		c.SessionTTL = d.SessionTTL
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = d.TouchInterval
	}
	if c.MaxAccountFailures <= 0 {
		c.MaxAccountFailures = d.MaxAccountFailures
	}
	if c.AccountWindow <= 0 {
		c.AccountWindow = d.AccountWindow
	}
	if c.AccountLockout <= 0 {
		c.AccountLockout = d.AccountLockout
	}
	if c.MaxIPFailures <= 0 {
		c.MaxIPFailures = d.MaxIPFailures
	}
	if c.IPWindow <= 0 {
		c.IPWindow = d.IPWindow
	}
	// Each cost parameter defaults on its own: a half-filled Argon2 must not
	// produce hashes nobody can verify.
	a := &c.Argon2
	if a.Memory == 0 {
		a.Memory = d.Argon2.Memory
	}
	if a.Time == 0 {
		a.Time = d.Argon2.Time
	}
	if a.Threads == 0 {
		a.Threads = d.Argon2.Threads
	}
	if a.KeyLen < 16 {
		a.KeyLen = d.Argon2.KeyLen
	}
	if a.SaltLen < 16 {
		a.SaltLen = d.Argon2.SaltLen
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = d.MaxConcurrentHashes
	}
	if c.AuthCacheTTL == 0 {
		c.AuthCacheTTL = d.AuthCacheTTL
	}
	return c
}
