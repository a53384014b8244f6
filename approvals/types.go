package approvals

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roundshq/rounds/core"
)

// Template is one version of a form template with its flow. Templates are
// versioned: saving creates a new version, and a request keeps the version it
// was submitted with.
type Template struct {
	ID          string    `json:"id"` // id of this version
	OrgID       string    `json:"org_id"`
	Code        string    `json:"code"` // stable across versions, e.g. "leave"
	Version     int       `json:"version"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Category    string    `json:"category,omitempty"` // attendance, purchase, clinical …
	Schema      Schema    `json:"schema"`
	Flow        Flow      `json:"flow"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Disabled    bool      `json:"disabled,omitempty"`
}

// Status of a request.
type Status string

const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
)

// Finished reports whether no one can act on the request any more (a
// rejected request can still be resubmitted by its submitter).
func (s Status) Finished() bool { return s != StatusPending }

// Step is one entry of a request's route: a flow node, or a signer added by
// an approver (Node empty, Users set).
type Step struct {
	Node  string   `json:"node,omitempty"`
	Users []string `json:"users,omitempty"`
	Mode  SignMode `json:"mode,omitempty"`
	// AddedBy is the approver who added this signer.
	AddedBy string `json:"added_by,omitempty"`
}

// Request is one submitted approval.
type Request struct {
	ID              string              `json:"id"`
	OrgID           string              `json:"org_id"`
	TemplateID      string              `json:"template_id"`
	TemplateCode    string              `json:"template_code"`
	TemplateVersion int                 `json:"template_version"`
	Title           string              `json:"title"`
	SubmitterID     string              `json:"submitter_id"`
	DeptID          string              `json:"dept_id,omitempty"` // the submitter's department when submitting
	Status          Status              `json:"status"`
	Form            Values              `json:"form"`
	Chosen          map[string][]string `json:"chosen,omitempty"` // node id → people chosen by the submitter
	Route           []Step              `json:"route"`
	Cursor          int                 `json:"cursor"` // index of the active step in Route
	Round           int                 `json:"round"`  // 1 at submit, +1 at each resubmission
	// Activation counts step activations; tasks carry the activation they
	// belong to so stale tasks are never mistaken for current ones.
	Activation    int       `json:"activation"`
	LastApprovers []string  `json:"last_approvers,omitempty"`
	UrgedAt       time.Time `json:"urged_at,omitzero"`
	Seq           int       `json:"-"` // the last timeline seq
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
}

// TaskState is the state of one person's task on a step.
type TaskState string

const (
	TaskWaiting     TaskState = "waiting" // sequential: not yet their turn
	TaskPending     TaskState = "pending"
	TaskApproved    TaskState = "approved"
	TaskRejected    TaskState = "rejected"
	TaskTransferred TaskState = "transferred"
	TaskCancelled   TaskState = "cancelled" // decided by someone else, withdrawn, or moved back
)

// Task is one person's part in one step.
type Task struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	RequestID  string    `json:"request_id"`
	Node       string    `json:"node"`
	StepIndex  int       `json:"step_index"`
	Activation int       `json:"activation"`
	Order      int       `json:"order"`
	AssigneeID string    `json:"assignee_id"`
	OnBehalfOf string    `json:"on_behalf_of,omitempty"` // set for delegation and handover
	State      TaskState `json:"state"`
	Comment    string    `json:"comment,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	DueAt      time.Time `json:"due_at,omitzero"`
	ActedAt    time.Time `json:"acted_at,omitzero"`
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	Escalated  bool      `json:"escalated,omitempty"`

	dirty, isNew bool
}

// Timeline actions.
const (
	ActSubmit       = "submit"
	ActResubmit     = "resubmit"
	ActAssign       = "assign"
	ActApprove      = "approve"
	ActReject       = "reject"
	ActReturn       = "return" // rejected back to a previous step
	ActTransfer     = "transfer"
	ActAddSigner    = "add_signer"
	ActWithdraw     = "withdraw"
	ActComment      = "comment"
	ActUrge         = "urge"
	ActCC           = "cc"
	ActSkip         = "skip"
	ActAutoApprove  = "auto_approve"
	ActDelegate     = "delegate"
	ActHandOver     = "hand_over"
	ActRemind       = "remind"
	ActEscalate     = "escalate"
	ActFinish       = "finish"
	ActDedupApprove = "dedupe_approve" // the same approver twice in a row approves once
)

// Entry is one row of a request's append-only timeline.
type Entry struct {
	ID          string         `json:"id"`
	RequestID   string         `json:"request_id"`
	Seq         int            `json:"seq"`
	At          time.Time      `json:"at"`
	ActorID     string         `json:"actor_id,omitempty"` // empty for Rounds itself
	Action      string         `json:"action"`
	Node        string         `json:"node,omitempty"`
	Comment     string         `json:"comment,omitempty"`
	Attachments []string       `json:"attachments,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
}

// Delegation sends a person's new tasks to someone else for a period (leave).
type Delegation struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	UserID     string    `json:"user_id"`
	DelegateID string    `json:"delegate_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	CreatedAt  time.Time `json:"created_at"`
}

// Outcome is what an action returns; the same outcome is returned when the
// action is retried with the same action id.
type Outcome struct {
	ActionID  string `json:"action_id"`
	RequestID string `json:"request_id"`
	Action    string `json:"action"`
	Status    Status `json:"status"`
	Version   int64  `json:"version"`
	Replayed  bool   `json:"replayed,omitempty"`
}

// ListKind names the lists people see.
type ListKind string

const (
	ListPending   ListKind = "pending"   // tasks waiting for me
	ListDone      ListKind = "done"      // requests I acted on
	ListSubmitted ListKind = "submitted" // requests I submitted
	ListCC        ListKind = "cc"        // requests copied to me
	ListOrg       ListKind = "org"       // every request of the org (admins, subtree filter)
)

// Filter narrows a list.
type Filter struct {
	Status       Status
	TemplateCode string
	Query        string // matched against the title and form text
	From, To     time.Time
	DeptIDs      []string // only requests from these departments
}

// ListItem is one row of a list.
type ListItem struct {
	Request
	TaskID string `json:"task_id,omitempty"` // for the pending list
}

// Directory answers org-chart questions by user id. The org-chart area
// implements it.
type Directory interface {
	// ManagerOf returns the head(s) levelsUp levels above the user's primary
	// department (1 = direct manager).
	ManagerOf(ctx context.Context, orgID, userID string, levelsUp int) ([]string, error)
	HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error)
	RoleHolders(ctx context.Context, orgID, role string) ([]string, error)
	IsInSubtree(ctx context.Context, orgID, rootDeptID, deptID string) (bool, error)
	DepartmentsOf(ctx context.Context, orgID, userID string) (primary string, all []string, err error)
	IsActive(ctx context.Context, orgID, userID string) (bool, error)
}

// Authorizer decides by role (casbin). Objects: "approvals.request",
// "approvals.template", "approvals.flow"; actions: "use", "read_subtree",
// "admin", "export". Returns EForbidden when denied.
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Notifier tells people; the lead wires it to the IM approvals bot, which
// sends a message card with approve and reject actions for tasks. Notices are
// written in the action's transaction (an outbox) and posted after it
// commits; one that was not posted — the process died, chat was down — is
// posted again later (Service.SweepNotices), so Notify must be idempotent per
// notice: posting the same Notice.ID again posts nothing new.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Finisher carries out what a finished request means elsewhere: approved
// leave into the roster, overtime and make-up clock-ins into attendance, a
// shift swap into a new roster version. It is called after the commit that
// finished the request and, when that did not happen or failed, again by
// SweepNotices, so it must be idempotent per request.
type Finisher interface {
	RequestFinished(ctx context.Context, ev Event) error
}

// ReasonFinished marks the outbox entry that calls the Finisher; it has no
// recipients.
const ReasonFinished = "finished"

// Notice is what the approvals bot owes people after an action, or (Reason
// ReasonFinished) the Finisher's call owed for a finished request.
type Notice struct {
	ID        string // also the message's idempotency key
	OrgID     string
	RequestID string
	// Task: new tasks for the recipients (reason "assigned"; urge and
	// remind resend it with reason "urge" or "remind"). Otherwise an update:
	// the request changed status or was copied to the recipients (reason
	// "cc", "approved", "rejected", "withdrawn", "returned").
	Task       bool
	Reason     string
	Recipients []string
	CreatedAt  time.Time
}

// Event subjects published on the bus after commit.
const (
	SubjectSubmitted = "approvals.request.submitted"
	SubjectAssigned  = "approvals.task.assigned"
	SubjectFinished  = "approvals.request.finished"
)

// Event is the JSON payload of every approvals event. Attendance reads
// leave and overtime from finished, approved requests (Form holds the
// validated values, e.g. the date range and the computed days).
type Event struct {
	RequestID       string          `json:"request_id"`
	OrgID           string          `json:"org_id"`
	TemplateCode    string          `json:"template_code"`
	TemplateVersion int             `json:"template_version"`
	SubmitterID     string          `json:"submitter_id"`
	DeptID          string          `json:"dept_id,omitempty"`
	Status          Status          `json:"status"`
	Assignees       []string        `json:"assignees,omitempty"`
	Form            json.RawMessage `json:"form,omitempty"`
	At              time.Time       `json:"at"`
}
