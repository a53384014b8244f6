// Package approvals owns approval flows (审批): form templates and their
// schemas, flow definitions (approver nodes, countersign and or-sign, CC,
// branches on form fields), the engine that walks a request through its flow,
// and the service every transport calls (HTTP, the chat bot's card actions,
// plugins, jobs).
//
// It refuses to know how the org chart is stored (it asks a Directory by user
// id), who holds which role (it asks an Authorizer), how people are told (a
// Notifier) and who consumes its events (the bus). The database is the record:
// every step is a row in the append-only timeline, and events published after
// commit only say "go and look".
//
// Concurrency: every change to a request first claims it with a
// compare-and-swap on its version column inside the transaction. When two
// or-sign approvers act at the same moment exactly one wins; the other is
// retried against the new state and gets EConflict "already decided" (its
// task was cancelled by the winner). Every action carries a client action id;
// a retry with the same id returns the recorded outcome without acting again.
package approvals
