// Package audit keeps the append-only, hash-chained record of security-relevant
// actions: sign-ins and failures, role and permission changes, deactivations,
// exports, app installs, admin edits. Every entry says who, what, when, on
// which object and with what result; each entry's hash covers the previous
// entry's hash, so a changed or deleted row is detectable (Verify).
//
// What it owns: the audit_entries table and its head row (migrations area
// "audit"), the chain (Seq without gaps, PrevHash, Hash = SHA-256 over a
// length-prefixed encoding of the entry's fields and PrevHash), and who may
// read and export it. There is no update or delete API: the log only grows.
//
// What it refuses to know: what the actions mean. Areas name their actions
// ("<area>.<thing>.<verb>") and fill in Details; the log stores and chains
// them. Authorization is asked through the small Authorizer interface
// (implemented by core/authz); reading a whole installation's log and
// verifying the chain are asked for organisation "*", which only system
// admins pass.
//
// Concurrency: appending takes the head row (SELECT … FOR UPDATE on
// PostgreSQL; SQLite has one writer) inside the write transaction, so
// several nodes append to one gapless chain. The chain proves that rows were
// not changed, removed or reordered after the fact; someone able to rewrite
// every row and the head together is only caught by comparing the head hash
// (VerifyReport, Head) with a copy kept elsewhere.
package audit
