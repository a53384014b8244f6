package plugins

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/core"
)

// PageTokenPrefix starts every page token, so the HTTP face tells one from
// an identity bearer token (which never has a dot).
const PageTokenPrefix = "rpt1."

// PageTokenTTL is how long a page token is accepted after it was issued
// (with the page, or by a renewal).
const PageTokenTTL = time.Hour

// Sessions says whether the session, or API token, a page token was issued
// under is still active. core/identity decides, from its authentication
// cache and the database (identity.Service implements it); cmd/rounds
// passes it to Host.UseSessions.
type Sessions interface {
	// SessionActive returns nil while sessionID (core.Actor.SessionID: a
	// session's id or an API token's) is one of userID's active
	// credentials, and EUnauthenticated once it has ended. It is asked on
	// every page-token call, so it must answer from a cache.
	SessionActive(ctx context.Context, userID, sessionID string) error
}

// hostNamespace is the Storage namespace of the host's own secrets. No
// install id contains a dot, so no app can read or overwrite it.
const (
	hostNamespace = "rounds.host"
	pageKeyName   = "page-token-key"
)

// PageClaims is what a page token stands for: one person (of one session)
// using one install's routes, until ExpiresAt.
type PageClaims struct {
	UserID    string `json:"u"`
	OrgID     string `json:"o"`
	SessionID string `json:"s,omitempty"`
	InstallID string `json:"i"`
	AppID     string `json:"a"`
	IssuedAt  int64  `json:"iat"` // unix milliseconds
	ExpiresAt int64  `json:"exp"` // unix milliseconds
}

// pageTokens signs and checks page tokens with an HMAC key kept in Storage,
// so every node of a cluster accepts the tokens any node issued.
//
// Revocation is not kept here: a token is accepted only while identity
// says the session it names is active (sessions), which every node answers
// from the shared database — a restarted node, or one that missed the
// revocation event, included. The per-node list of revoked people kept
// here before would add nothing: when the event arrives identity's cache
// forgets the person at once, and when it is missed the list was as blind,
// while identity's cached answer lasts AuthCacheTTL at most.
type pageTokens struct {
	storage  Storage
	now      func() time.Time
	sessions atomic.Pointer[sessionsRef] // nil: no session check (tests)

	mu       sync.Mutex
	key      []byte
	loadedAt time.Time
}

type sessionsRef struct{ Sessions }

func (p *pageTokens) loadKey(ctx context.Context, force bool) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil && (!force || p.now().Sub(p.loadedAt) < 10*time.Second) {
		return p.key, nil
	}
	if p.storage == nil { // tests without storage: a key for this process
		if p.key == nil {
			p.key = randomKey()
			p.loadedAt = p.now()
		}
		return p.key, nil
	}
	key, ok, err := p.storage.Get(ctx, hostNamespace, pageKeyName)
	if err != nil {
		return nil, core.Errorf(core.EUnavailable, "page tokens: %v", err)
	}
	if !ok || len(key) < 32 {
		// First use anywhere. Two nodes starting at once may both write; the
		// loser notices on its first failed check (force) and reloads.
		if err := p.storage.Set(ctx, hostNamespace, pageKeyName, randomKey()); err != nil {
			return nil, core.Errorf(core.EUnavailable, "page tokens: %v", err)
		}
		if key, ok, err = p.storage.Get(ctx, hostNamespace, pageKeyName); err != nil || !ok {
			return nil, core.Errorf(core.EUnavailable, "page tokens: the key was not stored")
		}
	}
	p.key, p.loadedAt = key, p.now()
	return key, nil
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func sign(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(PageTokenPrefix + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *pageTokens) issue(ctx context.Context, c PageClaims) (string, error) {
	key, err := p.loadKey(ctx, false)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return PageTokenPrefix + payload + "." + sign(key, payload), nil
}

var errBadPageToken = core.Errorf(core.EUnauthenticated, "the page token is not valid; reload the page")

func (p *pageTokens) check(ctx context.Context, tok string) (PageClaims, error) {
	rest, ok := strings.CutPrefix(tok, PageTokenPrefix)
	if !ok || len(tok) > 1024 {
		return PageClaims{}, errBadPageToken
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return PageClaims{}, errBadPageToken
	}
	key, err := p.loadKey(ctx, false)
	if err != nil {
		return PageClaims{}, err
	}
	if !hmac.Equal([]byte(sig), []byte(sign(key, payload))) {
		// Another node may have won the race to store the key: reload once.
		if key, err = p.loadKey(ctx, true); err != nil || !hmac.Equal([]byte(sig), []byte(sign(key, payload))) {
			return PageClaims{}, errBadPageToken
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var c PageClaims
	if err != nil || json.Unmarshal(b, &c) != nil || c.UserID == "" || c.InstallID == "" || c.AppID == "" {
		return PageClaims{}, errBadPageToken
	}
	if p.now().UnixMilli() >= c.ExpiresAt {
		return PageClaims{}, core.Errorf(core.EUnauthenticated, "the page token has expired; reload the page")
	}
	if err := p.sessionActive(ctx, c); err != nil {
		return PageClaims{}, err
	}
	return c, nil
}

// sessionActive asks identity whether the session the claims name is
// still active. identity's own failures (its database down) pass through
// with their code: they are no reason to tell the person to sign in again.
func (p *pageTokens) sessionActive(ctx context.Context, c PageClaims) error {
	s := p.sessions.Load()
	if s == nil {
		return nil
	}
	if c.SessionID == "" {
		return core.Errorf(core.EUnauthenticated, "the page token names no session; reload the page")
	}
	return s.SessionActive(ctx, c.UserID, c.SessionID)
}

// UseSessions makes every page token depend on the session it was issued
// under: a token is accepted, and renewed, only while s says that session
// (or API token) is active, so signing out, a password change or a
// deactivation ends the person's page tokens on every node at once. Call it
// once at start-up, before serving; without it (tests) only the signature
// and the expiry are checked.
func (h *Host) UseSessions(s Sessions) { h.tokens.sessions.Store(&sessionsRef{s}) }

// IssuePageToken returns a token for the page of route the actor has just
// been served: it lets that page call the same install's routes (never its
// pages, never /api/v1) as the actor for PageTokenTTL, and be renewed while
// the actor's session lives (RenewPageToken).
func (h *Host) IssuePageToken(ctx context.Context, actor core.Actor, route Route) (string, error) {
	if h.tokens.sessions.Load() != nil && actor.SessionID == "" {
		return "", core.Errorf(core.EUnauthenticated, "app pages open only in a signed-in session")
	}
	now := h.tokens.now()
	return h.tokens.issue(ctx, PageClaims{UserID: actor.UserID, OrgID: actor.OrgID, SessionID: actor.SessionID,
		InstallID: route.InstallID, AppID: route.AppID, IssuedAt: now.UnixMilli(), ExpiresAt: now.Add(PageTokenTTL).UnixMilli()})
}

// CheckPageToken checks a page token presented for appID's routes and
// returns what it stands for. A forged, expired or other app's token, or
// one whose session has ended, is EUnauthenticated.
func (h *Host) CheckPageToken(ctx context.Context, token, appID string) (PageClaims, error) {
	c, err := h.tokens.check(ctx, token)
	if err != nil {
		return PageClaims{}, err
	}
	if c.AppID != appID {
		return PageClaims{}, core.Errorf(core.EUnauthenticated, "the page token is for another app")
	}
	return c, nil
}

// PageActor checks a page token presented for appID's routes and returns
// the person it speaks for and the install it is bound to (CheckPageToken).
func (h *Host) PageActor(ctx context.Context, token, appID string) (core.Actor, string, error) {
	c, err := h.CheckPageToken(ctx, token, appID)
	if err != nil {
		return core.Actor{}, "", err
	}
	return c.Actor(), c.InstallID, nil
}

// Actor is the person a page token speaks for.
func (c PageClaims) Actor() core.Actor {
	return core.Actor{UserID: c.UserID, OrgID: c.OrgID, Kind: core.ActorUser, SessionID: c.SessionID}
}

// RenewDue reports whether a checked token is past half its life: a call
// made with it is answered with a fresh one (plugins/httpapi), so a page in
// use never reaches the expiry.
func (h *Host) RenewDue(c PageClaims) bool {
	return h.tokens.now().UnixMilli()-c.IssuedAt >= (c.ExpiresAt-c.IssuedAt)/2
}

// RenewPageToken issues a fresh token, good for PageTokenTTL from now, with
// the binding of checked claims c (person, session, install, app). The old
// token stays valid until its own expiry. It asks again whether the session
// is active and whether the install still runs, so no token is issued for an
// ended session or a removed install (EUnauthenticated).
func (h *Host) RenewPageToken(ctx context.Context, c PageClaims) (string, PageClaims, error) {
	now := h.tokens.now()
	if now.UnixMilli() >= c.ExpiresAt {
		return "", PageClaims{}, core.Errorf(core.EUnauthenticated, "the page token has expired; reload the page")
	}
	if err := h.tokens.sessionActive(ctx, c); err != nil {
		return "", PageClaims{}, err
	}
	if r := h.runner(c.InstallID); r == nil || r.inst.AppID != c.AppID || r.inst.OrgID != c.OrgID {
		return "", PageClaims{}, core.Errorf(core.EUnauthenticated, "the page token is for another install of the app; reload the page")
	}
	c.IssuedAt, c.ExpiresAt = now.UnixMilli(), now.Add(PageTokenTTL).UnixMilli()
	tok, err := h.tokens.issue(ctx, c)
	if err != nil {
		return "", PageClaims{}, err
	}
	return tok, c, nil
}
