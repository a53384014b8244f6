// Package identity owns who someone is to Rounds: user accounts (people and
// bots), their passwords, sign-in with rate limits and temporary lockout,
// sessions, personal access tokens and bot tokens, and turning a presented
// token into a core.Actor.
//
// It refuses to know what an account may do beyond managing accounts:
// permissions come from an Authorizer the caller wires in (core/authz), and
// the person behind an account — department, position, who their head is —
// belongs to the org chart, which shares the account's user id.
//
// Secrets are never stored in the clear: passwords are argon2id hashes in
// PHC form (so the cost parameters can change and old hashes still verify),
// and session and API tokens are stored as SHA-256 hashes, so a copy of the
// database does not let anyone sign in.
//
// The password policy is deliberately short and documented here: at least
// MinPasswordLength (10) characters, at most MaxPasswordLength (256, to bound
// hashing work), and not equal to the login (compared case-insensitively).
package identity
