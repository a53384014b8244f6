// Package plugins is the app host: it runs each enabled app install (an ISV
// app in one hospital) as its own process over hashicorp/go-plugin with
// AutoMTLS and the SecureConfig checksum taken from the install record,
// supervises it (health checks, restart with back-off, disable with an admin
// alert after repeated crashes, memory and CPU limits), delivers hooks with a
// deadline on every call, forwards HTTP routes under /plugins/{id}/, and
// serves each install the host API — every call checked by casbin against
// the scopes granted to that install in that organisation, refusals audited.
//
// It owns app installs' processes, their permission policy and their
// key-value storage (through Storage). It refuses to know how chat,
// approvals, rosters, attendance or the org chart work: it reaches them only
// through the small interfaces declared here (Directory, Messenger,
// Approvals, Rosters, Attendance), which cmd/rounds wires to the real
// services. The app side of the protocol is the SDK module
// (plugins/sdk); this package uses only its public host-side API.
//
// # App pages and page tokens
//
// An app's pages are shown in the web client in a sandboxed frame
// (sandbox allow-scripts allow-forms, repeated as the page's own CSP): the
// page runs in an opaque origin, so it reaches neither the client's cookies
// nor its DOM — and, for the same reason, its own fetch of
// /plugins/{id}/... carries no session cookie (a cross-site request for
// SameSite) and gets no CORS answer. The host therefore gives each page a
// page token when it serves it: the frame's navigation is same-site, so it
// is authenticated by the session as any request; plugins/httpapi then puts
// <meta name="rounds-page-token" content="…"> at the top of the HTML
// (Cache-Control: no-store), followed by a small helper script. The page
// sends the token as "Authorization: Bearer <token>" to its own app's
// routes.
//
// A page token (prefix PageTokenPrefix) is an HMAC-SHA256-signed statement
// "person P of organisation O (session S) may call install I of app A until
// T", T being PageTokenTTL (1 h) after it was issued. The key is kept in
// Storage under the host's own namespace, so every node of a cluster
// accepts any node's tokens. It is accepted only under /plugins/{A}/ and
// only for routes of install I (never a page, never another app; a
// reinstalled app's old tokens stop); the route then runs exactly as for the
// signed-in person (ResolveHTTP: the install's http:routes grant, the
// manifest's routes, the app's own checks). /api/v1 never accepts it: it is
// no identity token. It is accepted only while session S is active as
// core/identity decides (Sessions, wired by UseSessions: its authentication
// cache and the shared database), so a sign-out, password change or
// deactivation ends it on every node, a restarted one included. A forged,
// expired or other app's token, or one whose session has ended, is
// EUnauthenticated (401 "unauthenticated").
//
// Renewal keeps a page open longer than the TTL signed in while its session
// lives, with no code in the app: the answer to a call made past half the
// token's life carries a fresh token (RenewDue, RenewPageToken; header
// X-Rounds-Page-Token), and POST /plugins/{A}/@page-token renews an idle
// page's. The helper script plugins/httpapi serves with every page adopts
// fresh tokens and puts the newest on the page's own calls. The old token
// stays valid until its expiry; none is issued for an ended session.
//
// CORS is answered only for these requests: a preflight from Origin "null"
// for an app route (not a page), and responses to requests that present a
// page token, get Access-Control-Allow-Origin: null — never
// Access-Control-Allow-Credentials, since cookies play no part; an app's own
// Access-Control-* headers are dropped. A postMessage bridge through the
// parent client was the alternative; tokens were chosen so a page works the
// same when opened on its own and needs no code in the client.
//
// # Limits
//
// What is enforced, on Linux: resident memory above Config.MemoryLimit
// (read from /proc every HealthInterval) kills the app and counts as a
// crash; Config.CPULimit becomes RLIMIT_CPU on the process (prlimit after
// start), so the kernel kills an app that burns more CPU time than that;
// the app gets an empty environment (PATH and GOMEMLIMIT only); host-API
// calls are rate limited per install (token bucket) and gRPC messages from
// an app are capped at Config.MaxMsg. RLIMIT_AS is deliberately not set: a
// Go program reserves far more address space than it uses. Elsewhere only
// the rate and size limits apply.
//
// # Clusters
//
// Every node runs every enabled install and hears every event. With
// Config.Claims each hook delivery is claimed (install, hook, event key)
// before it is made and each scheduled job (install, job, slot) before it
// runs; jobs fall on their period's boundaries so every node names the same
// slot. The first claimer delivers, the rest skip: at most once, and a node
// whose copy of the app is down does not claim. An app built for a protocol
// version the host does not speak is refused at the handshake and disabled.
//
// Lock order: Host.mu before runner.mu; neither is held across a call into
// an app or a backend.
package plugins
