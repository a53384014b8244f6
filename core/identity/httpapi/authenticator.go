package identityhttp

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/identity"
)

// Cookie and header names. The web client reads CSRFCookie (it is not
// HttpOnly) and echoes it in CSRFHeader on every unsafe request.
const (
	SessionCookie = "rounds_session"
	CSRFCookie    = "rounds_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Config is what the HTTP side of identity needs beyond the service.
type Config struct {
	// SecureCookies marks cookies Secure even on plain-HTTP requests (TLS is
	// terminated in front of Rounds). Requests over TLS, or forwarded by a
	// trusted proxy with X-Forwarded-Proto: https, get Secure cookies anyway.
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. From anyone else these headers are
	// ignored, so a client cannot pick its own address to dodge the sign-in
	// limits or forge the audit log.
	TrustedProxies []netip.Prefix
}

// ParseTrustedProxies reads addresses ("10.0.0.5") and networks
// ("10.0.0.0/24") into prefixes. An unreadable entry is EInvalid naming it.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, core.Invalid("trusted_proxies", "%q is neither an address nor a network", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (c Config) trusted(a netip.Addr) bool {
	for _, p := range c.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// ClientIP is the address of the client: the peer, or — when the peer is a
// trusted proxy — the nearest address in X-Forwarded-For that is not itself
// a trusted proxy (read from the right, as each proxy appends).
func (c Config) ClientIP(r *http.Request) string {
	peer, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if !c.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a mangled header: trust nothing further left
		}
		client = a.Unmap()
		if !c.trusted(client) {
			break
		}
	}
	return client.String()
}

// secure reports whether cookies set in reply to r should be Secure.
func (c Config) secure(r *http.Request) bool {
	if r.TLS != nil || c.SecureCookies {
		return true
	}
	peer, ok := peerAddr(r)
	return ok && c.trusted(peer) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// Authenticator implements httpapi.Authenticator on the identity service:
// a bearer token (personal access token, bot token or session token) first,
// else the session cookie — and then, on POST/PUT/PATCH/DELETE, the CSRF
// double-submit check.
type Authenticator struct {
	service *identity.Service
	cfg     Config
}

var _ httpapi.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns the Authenticator the router is built with.
func NewAuthenticator(svc *identity.Service, cfg Config) *Authenticator {
	return &Authenticator{service: svc, cfg: cfg}
}

// Authenticate implements httpapi.Authenticator. No credentials, or bad
// ones, are EUnauthenticated; a cookie-authenticated unsafe request without
// the matching CSRF header is EForbidden.
func (a *Authenticator) Authenticate(r *http.Request) (core.Actor, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return core.Actor{}, core.Errorf(core.EUnauthenticated, "send Authorization: Bearer <token>")
		}
		actor, err := a.service.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return core.Actor{}, err
		}
		actor.IP = a.cfg.ClientIP(r)
		return actor, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return core.Actor{}, core.Errorf(core.EUnauthenticated, "sign in first")
	}
	actor, err := a.service.Authenticate(r.Context(), c.Value)
	if err != nil {
		return core.Actor{}, err
	}
	if unsafeMethod(r.Method) && !csrfOK(r) {
		return core.Actor{}, core.Errorf(core.EForbidden, "the %s header is missing or does not match the %s cookie", CSRFHeader, CSRFCookie)
	}
	actor.IP = a.cfg.ClientIP(r)
	return actor, nil
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// csrfOK is the double-submit check: another site can make the browser send
// our cookies but cannot read the CSRF cookie to put it in a header.
func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	h := r.Header.Get(CSRFHeader)
	if err != nil || c.Value == "" || h == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}
