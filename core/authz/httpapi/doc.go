// Package authzhttp serves roles over HTTP: an organisation's roles (built-in
// and custom), creating and deleting custom roles, and who holds which role.
// It decodes, calls authz.Enforcer and encodes; every permission decision is
// the Enforcer's ("authz.role" read/write in the organisation).
//
// GET /api/v1/me/capabilities tells anyone signed in their own roles and what
// they allow in their organisation (Enforcer.CapabilitiesOf), so the web
// client shows the admin console and editing buttons to whoever the server
// would let through, custom roles included.
//
// Organisation "*" in a path stands for every organisation at once; it is
// where system_admin is assigned (by system admins only).
package authzhttp
