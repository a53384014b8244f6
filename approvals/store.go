package approvals

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core"
)

// ErrStale is returned by Tx.ClaimRequest when another transaction changed
// the request since it was read. The service retries the whole action.
var ErrStale = core.Errorf(core.EConflict, "the request changed at the same moment; try again")

// Store keeps templates, requests, tasks, the timeline, CC lists, delegations
// and recorded action outcomes. Reads outside Update see committed data.
// Not-found errors are ENotFound. Implementations: approvals/sqlstore; the
// contract suite is approvals/approvalstest.
type Store interface {
	// CreateTemplate stores t as the next version of (OrgID, Code), setting
	// t.Version (1 for a new code).
	CreateTemplate(ctx context.Context, t *Template) error
	// Template returns one template version by id.
	Template(ctx context.Context, orgID, id string) (*Template, error)
	// LatestTemplate returns the newest version of a code.
	LatestTemplate(ctx context.Context, orgID, code string) (*Template, error)
	// Templates returns the newest version of every code in the org.
	Templates(ctx context.Context, orgID string) ([]Template, error)
	// TemplateVersions returns every version of a code, newest first.
	TemplateVersions(ctx context.Context, orgID, code string) ([]Template, error)

	// Update runs fn in one write transaction; nothing fn wrote survives an
	// error. fn may be run more than once (a store that shares commits
	// between concurrent callers re-runs the others when one fails), so it
	// must not act outside the transaction.
	Update(ctx context.Context, fn func(tx Tx) error) error

	Request(ctx context.Context, orgID, id string) (*Request, error)
	Tasks(ctx context.Context, requestID string) ([]Task, error)
	Timeline(ctx context.Context, requestID string) ([]Entry, error)
	CCs(ctx context.Context, requestID string) ([]string, error)
	// List returns one page of a list, newest first, and the next cursor.
	// For ListPending the items carry the task id; userID is ignored for
	// ListOrg.
	List(ctx context.Context, orgID, userID string, kind ListKind, f Filter, p core.PageRequest) ([]ListItem, string, error)
	// DueTasks returns pending tasks whose DueAt is set and not after now,
	// oldest first, across organisations.
	DueTasks(ctx context.Context, now time.Time, limit int) ([]Task, error)
	// Outcome returns the recorded outcome of an action id, or nil (a read
	// outside any transaction, for answering retries early).
	Outcome(ctx context.Context, orgID, actorID, actionID string) (*Outcome, error)
	// OpenTasksOf returns the pending and waiting tasks of a person.
	OpenTasksOf(ctx context.Context, orgID, userID string) ([]Task, error)

	// Notices returns notices written before the given time and not yet
	// deleted, oldest first.
	Notices(ctx context.Context, before time.Time, limit int) ([]Notice, error)
	// DeleteNotices forgets posted notices; unknown ids are ignored.
	DeleteNotices(ctx context.Context, ids []string) error

	PutDelegation(ctx context.Context, d Delegation) error
	DeleteDelegation(ctx context.Context, orgID, userID, id string) error
	Delegations(ctx context.Context, orgID, userID string) ([]Delegation, error)
}

// Tx is the part of the store used inside one action.
type Tx interface {
	// ClaimRequest reads a request and bumps its version with a
	// compare-and-swap (UPDATE … WHERE version = ?), which also holds the
	// row for the rest of the transaction. ErrStale when it lost the race.
	ClaimRequest(ctx context.Context, orgID, id string) (*Request, error)
	InsertRequest(ctx context.Context, r *Request) error
	// SaveRequest writes the mutable fields of a claimed request.
	SaveRequest(ctx context.Context, r *Request) error
	Tasks(ctx context.Context, requestID string) ([]Task, error)
	InsertTask(ctx context.Context, t *Task) error
	UpdateTask(ctx context.Context, t *Task) error
	// AppendTimeline appends entries (in one statement where it can); a seq
	// already taken is ErrStale.
	AppendTimeline(ctx context.Context, entries ...Entry) error
	// AddCC copies the request to users (already copied ones are ignored).
	AddCC(ctx context.Context, orgID, requestID string, users []string, at time.Time) error
	// Outcome returns the recorded outcome of an action id, or nil.
	Outcome(ctx context.Context, orgID, actorID, actionID string) (*Outcome, error)
	SaveOutcome(ctx context.Context, orgID, actorID string, o Outcome, at time.Time) error
	// ActiveDelegate returns who receives userID's new tasks at time at, or "".
	ActiveDelegate(ctx context.Context, orgID, userID string, at time.Time) (string, error)
	// AddNotices writes notices to the outbox with the action.
	AddNotices(ctx context.Context, ns ...Notice) error
}
