// Package identityhttp is the HTTP face of identity: the sign-in, session,
// token, account and bot routes under /api/v1, and the Authenticator the
// router uses to turn a request into a core.Actor (bearer token first, else
// the rounds_session cookie with a double-submit CSRF check on unsafe
// methods).
//
// It owns cookies, headers and the client address (X-Forwarded-For only from
// configured trusted proxies). It refuses to decide who may do what: every
// handler calls the identity service, which authorizes.
package identityhttp
