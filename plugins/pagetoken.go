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
	"time"

	"github.com/roundshq/rounds/core"
)

// PageTokenPrefix starts every page token, so the HTTP face tells one from
// an identity bearer token (which never has a dot).
const PageTokenPrefix = "rpt1."

// PageTokenTTL is how long a page token is accepted after the page was
// served.
const PageTokenTTL = time.Hour

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
type pageTokens struct {
	storage Storage
	now     func() time.Time

	mu       sync.Mutex
	key      []byte
	loadedAt time.Time
	revoked  map[string]int64 // user id -> unix ms of the latest revocation heard
}

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
	now := p.now().UnixMilli()
	if now >= c.ExpiresAt {
		return PageClaims{}, core.Errorf(core.EUnauthenticated, "the page token has expired; reload the page")
	}
	p.mu.Lock()
	at, revoked := p.revoked[c.UserID]
	p.mu.Unlock()
	if revoked && c.IssuedAt <= at {
		return PageClaims{}, core.Errorf(core.EUnauthenticated, "the session has ended; sign in again")
	}
	return c, nil
}

func (p *pageTokens) revoke(userID string) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.revoked == nil {
		p.revoked = map[string]int64{}
	}
	for u, at := range p.revoked { // tokens issued before then have expired anyway
		if now.Sub(time.UnixMilli(at)) > PageTokenTTL {
			delete(p.revoked, u)
		}
	}
	p.revoked[userID] = now.UnixMilli()
}

// IssuePageToken returns a token for the page of route the actor has just
// been served: it lets that page call the same install's routes (never its
// pages, never /api/v1) as the actor for PageTokenTTL.
func (h *Host) IssuePageToken(ctx context.Context, actor core.Actor, route Route) (string, error) {
	now := h.tokens.now()
	return h.tokens.issue(ctx, PageClaims{UserID: actor.UserID, OrgID: actor.OrgID, SessionID: actor.SessionID,
		InstallID: route.InstallID, AppID: route.AppID, IssuedAt: now.UnixMilli(), ExpiresAt: now.Add(PageTokenTTL).UnixMilli()})
}

// PageActor checks a page token presented for appID's routes and returns the
// person it speaks for and the install it is bound to. A forged, expired,
// revoked or other app's token is EUnauthenticated.
func (h *Host) PageActor(ctx context.Context, token, appID string) (core.Actor, string, error) {
	c, err := h.tokens.check(ctx, token)
	if err != nil {
		return core.Actor{}, "", err
	}
	if c.AppID != appID {
		return core.Actor{}, "", core.Errorf(core.EUnauthenticated, "the page token is for another app")
	}
	return core.Actor{UserID: c.UserID, OrgID: c.OrgID, Kind: core.ActorUser, SessionID: c.SessionID}, c.InstallID, nil
}

// RevokeUser ends the page tokens issued to a person until now: call it when
// any of their sessions or tokens is revoked (logout, password change,
// deactivation), on every node.
func (h *Host) RevokeUser(userID string) { h.tokens.revoke(userID) }
