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
// Templates are versioned: saving a template or its flow stores a new
// version, and a request keeps the version it was submitted with. Branch
// conditions and computed fields are expr-lang expressions compiled against
// the form's typed fields when the flow is saved; one that does not compile,
// is not boolean or names an unknown field is refused then, never at submit.
// The route (which approval and CC nodes a request passes) is decided at
// submit and again at resubmit, since only the form decides branches; the
// people of each step are resolved when the step starts, so org-chart changes
// in between are followed.
//
// Concurrency: every change to a request first claims it with a
// compare-and-swap on its version column inside the transaction, which also
// holds the row until commit. When two or-sign approvers act at the same
// moment exactly one wins; the other is retried against the new state and
// gets EConflict "this step was already decided" (its task was cancelled by
// the winner), and nothing of its attempt is written. Every action carries a
// client action id; a retry with the same id returns the recorded outcome
// (Replayed) without acting again.
//
// Authorization: org roles come from the Authorizer (objects approvals.request,
// approvals.template, approvals.flow; actions use, read_subtree, admin,
// export); data checks are here: only a current assignee acts on a step, only
// the submitter withdraws, urges and resubmits, and a request is readable by
// its submitter, anyone who had a task on it (or on whose behalf one was
// done), CC'd people, heads of a department above the request's department
// (with read_subtree) and org admins. Others get ENotFound.
package approvals
