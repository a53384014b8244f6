// Package sdk is the Rounds app SDK: everything an ISV needs to build an app
// that runs inside a hospital's Rounds server, and nothing of the server
// itself. It is its own Go module (github.com/roundshq/rounds/plugins/sdk) so
// an app imports it alone.
//
// An app is a small program whose main calls Serve with a value implementing
// App and, optionally, the hook interfaces (MessageHook, ApprovalHook,
// RosterHook, StaffHook, JobHook, CommandHook, http.Handler). The host starts
// the program as its own process, talks to it over gRPC through
// hashicorp/go-plugin with mutual TLS, and gives it a Host: the typed client
// for the host API. Every host-API call is checked against the permission
// scopes the hospital's admin granted to the install; a refused call returns
// an *Error with CodeForbidden.
//
// # Versions
//
// The wire protocol is versioned (ProtocolVersion); the generated code is
// internal and the public types here are hand-written, so the protocol can
// grow without breaking an app's code. Every method says the SDK version it
// appeared in ("Since v0.1.0"); v0.1.0 to v0.3.0 speak protocol version 1
// (v0.2.0 added calls and fields: RosterSetup, SendDirectMessage, the
// im:direct scope and Roster.Violations; v0.3.0 added to the manifest's
// settings schema: descriptions, translations and the department type). A
// server older than the SDK answers a call it does not know with
// CodeNotFound, and refuses a manifest it cannot read.
//
// The package refuses to know about the server's areas (chat storage,
// approval flows, rosters): it sees only what the host API hands it.
//
// GUIDE.md takes a new ISV from nothing to a running app; package sdktest
// runs an app's hooks in unit tests without a server.
package sdk

// Version is the version of this SDK. Since v0.1.0.
const Version = "0.3.0"

// ProtocolVersion is the plugin protocol version this SDK speaks. Since v0.1.0.
const ProtocolVersion = 1
