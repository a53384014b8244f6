package sdk

import (
	"context"
	"net/http"
)

// App is what an app gives Serve. Activate is called once per process start,
// before any hook, with the host API client and the install it serves; keep
// host for the hooks. Returning an error stops the process start (the host
// logs it and retries with back-off). Since v0.1.0.
type App interface {
	Activate(ctx context.Context, host Host, install Install) error
}

// The hook interfaces below are optional: an app implements those it lists in
// its manifest's hooks. Each call carries a deadline set by the host (a few
// seconds); an app that overruns it is treated as hung and restarted.

// MessageHook receives messages posted in conversations the app's bot is a
// member of (manifest hook "message_posted"). Since v0.1.0.
type MessageHook interface {
	OnMessagePosted(ctx context.Context, m Message) error
}

// ApprovalHook receives finished approvals (hook "approval_finished").
// Since v0.1.0.
type ApprovalHook interface {
	OnApprovalFinished(ctx context.Context, a ApprovalFinished) error
}

// RosterHook receives published rosters (hook "roster_published").
// Since v0.1.0.
type RosterHook interface {
	OnRosterPublished(ctx context.Context, r RosterPublished) error
}

// StaffHook receives staff joining or leaving departments (hook
// "staff_changed"). Since v0.1.0.
type StaffHook interface {
	OnStaffChanged(ctx context.Context, c StaffChange) error
}

// JobHook runs the scheduled jobs declared in the manifest (hook "jobs").
// Since v0.1.0.
type JobHook interface {
	OnJob(ctx context.Context, j Job) error
}

// CommandHook answers the slash commands declared in the manifest (hook
// "commands"); the reply text is shown to the person who typed it.
// Since v0.1.0.
type CommandHook interface {
	OnCommand(ctx context.Context, c Command) (reply string, err error)
}

// HTTPHook is an app that serves the HTTP routes of its manifest (hook
// "http"). Requests arrive under the app's own path (the host strips
// "/plugins/{id}"), called as the signed-in user: ActorFrom(r.Context()).
// Cookies never reach the app. Since v0.1.0.
type HTTPHook = http.Handler

// Host is the host API: what an app may ask of the server. Every call is
// checked against the scopes granted to the install; a call outside them
// returns an *Error with CodeForbidden (and the server audits it). Calls
// beyond the install's rate return CodeRateLimited; payloads beyond the
// limits (MaxMessageText, MaxKVValue) return CodeTooLarge.
type Host interface {
	// Departments lists the department rootID and its subtree ("" for the
	// part of the org chart granted to the install). Needs orgchart:read,
	// and rootID inside the granted subtree. Since v0.1.0.
	Departments(ctx context.Context, rootID string) ([]Department, error)
	// Staff lists the current staff of a department. Needs orgchart:read
	// and the department inside the granted subtree. Since v0.1.0.
	Staff(ctx context.Context, departmentID string) ([]Staff, error)
	// SendMessage posts text as the app's bot into a conversation the bot
	// is a member of and returns the message id. Needs im:send. Since v0.1.0.
	SendMessage(ctx context.Context, conversationID, text string) (string, error)
	// SendDirectMessage posts text as the app's bot in its direct
	// conversation with one person (opened on first use) and returns the
	// message id. The person must be current staff of the install's
	// organisation. Needs im:direct. Since v0.2.0 (protocol version 1).
	SendDirectMessage(ctx context.Context, userID, text string) (string, error)
	// Messages lists up to limit recent messages of a conversation the bot
	// is a member of, newest first. Needs im:read. Since v0.1.0.
	Messages(ctx context.Context, conversationID string, limit int) ([]Message, error)
	// Approval reads an approval request. Needs approvals:read. Since v0.1.0.
	Approval(ctx context.Context, id string) (Approval, error)
	// SubmitApproval submits an approval request for an applicant. Needs
	// approvals:submit. Since v0.1.0.
	SubmitApproval(ctx context.Context, s ApprovalSubmission) (Approval, error)
	// Roster reads a department's roster for a month ("2026-11"). Needs
	// roster:read. Since v0.1.0.
	Roster(ctx context.Context, departmentID, month string) (Roster, error)
	// SaveRosterDraft saves a draft roster (publishing stays with the
	// head nurse). Needs roster:write. Since v0.1.0; the answer carries the
	// server's Violations since v0.2.0.
	SaveRosterDraft(ctx context.Context, r Roster) (Roster, error)
	// RosterSetup reads what planning a department's roster for a month
	// ("2026-12") needs: the shifts, the department's rules (the defaults
	// until its head sets them), the people the roster may name with their
	// skills, qualifications and approved leave in the month, and the
	// department's heads. Needs roster:read and the department inside the
	// granted subtree. Since v0.2.0 (protocol version 1).
	RosterSetup(ctx context.Context, departmentID, month string) (RosterSetup, error)
	// Attendance lists attendance records of a department. Needs
	// attendance:read. Since v0.1.0.
	Attendance(ctx context.Context, q AttendanceQuery) ([]AttendanceRecord, error)

	// KVGet reads a key of the install's own storage; found is false for a
	// missing key. Storage needs no scope and no app can reach another
	// app's (or another install's) keys. Since v0.1.0.
	KVGet(ctx context.Context, key string) (value []byte, found bool, err error)
	// KVSet writes a key (at most MaxKVKey bytes, value at most MaxKVValue).
	// Since v0.1.0.
	KVSet(ctx context.Context, key string, value []byte) error
	// KVDelete removes a key; removing a missing key is not an error.
	// Since v0.1.0.
	KVDelete(ctx context.Context, key string) error
	// KVKeys lists up to limit keys starting with prefix, in order.
	// Since v0.1.0.
	KVKeys(ctx context.Context, prefix string, limit int) ([]string, error)
}

// Limits of the host API. Since v0.1.0.
const (
	MaxMessageText = 16 << 10 // bytes of a chat message an app sends
	MaxKVKey       = 256      // bytes of a storage key
	MaxKVValue     = 64 << 10 // bytes of a storage value
	MaxHTTPBody    = 1 << 20  // bytes of an HTTP request body forwarded to an app
)

type actorKey struct{}

// WithActor returns ctx carrying a; the SDK does this for HTTP routes and
// sdktest for tests. Since v0.1.0.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the signed-in person an HTTP request or command is made
// for. Since v0.1.0.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// ActorFromRequest returns the signed-in person an HTTP request to the app
// is made for. Since v0.1.0.
func ActorFromRequest(r *http.Request) (Actor, bool) { return ActorFrom(r.Context()) }
