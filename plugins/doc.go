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
