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
// Lock order: Host.mu before runner.mu; neither is held across a call into
// an app or a backend.
package plugins
