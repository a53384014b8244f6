package plugins

import (
	"context"
	"time"

	"github.com/roundshq/rounds/plugins/sdk"
)

// The interfaces below are what the host needs of other areas; cmd/rounds
// wires them to the real services. They take the organisation explicitly
// because the host acts for an install, not for a signed-in person. Errors
// are *core.Error; ENotFound for objects that do not exist in orgID.

// Directory reads the org chart.
type Directory interface {
	// Departments lists rootID and its descendants ("" for the whole
	// organisation).
	Departments(ctx context.Context, orgID, rootID string) ([]sdk.Department, error)
	// Staff lists the current staff of a department.
	Staff(ctx context.Context, orgID, departmentID string) ([]sdk.Staff, error)
	// InSubtree reports whether departmentID is rootID or below it.
	InSubtree(ctx context.Context, orgID, departmentID, rootID string) (bool, error)
}

// Messenger is chat as seen by an app's bot.
type Messenger interface {
	// IsMember reports whether userID is a member of the conversation.
	IsMember(ctx context.Context, orgID, conversationID, userID string) (bool, error)
	// Send posts text as botUserID and returns the message id.
	Send(ctx context.Context, orgID, botUserID, conversationID, text string) (string, error)
	// Recent lists up to limit recent messages, newest first.
	Recent(ctx context.Context, orgID, conversationID string, limit int) ([]sdk.Message, error)
	// SendDirect posts text as botUserID in its direct conversation with
	// userID (opened on first use) and returns the message id. ENotFound
	// (or EInvalid) when userID is not current staff of orgID.
	SendDirect(ctx context.Context, orgID, botUserID, userID, text string) (string, error)
}

// Approvals reads and submits approval requests.
type Approvals interface {
	Get(ctx context.Context, orgID, id string) (sdk.Approval, error)
	// Submit files a request for s.ApplicantID, recorded as submitted by
	// the app's bot.
	Submit(ctx context.Context, orgID, botUserID string, s sdk.ApprovalSubmission) (sdk.Approval, error)
}

// Rosters reads rosters and saves drafts. Get and SaveDraft fill the
// roster's Violations from rostering's own check.
type Rosters interface {
	Get(ctx context.Context, orgID, departmentID, month string) (sdk.Roster, error)
	SaveDraft(ctx context.Context, orgID, botUserID string, r sdk.Roster) (sdk.Roster, error)
	// Setup returns the shifts, the department's rules, the people its
	// roster may name (skills, qualifications, leave in the month) and its
	// heads.
	Setup(ctx context.Context, orgID, departmentID, month string) (sdk.RosterSetup, error)
}

// Attendance reads attendance records.
type Attendance interface {
	List(ctx context.Context, orgID string, q sdk.AttendanceQuery) ([]sdk.AttendanceRecord, error)
}

// Storage is the apps' key-value storage, namespaced by install id
// (plugins/sqlstore implements it).
type Storage interface {
	Get(ctx context.Context, installID, key string) ([]byte, bool, error)
	Set(ctx context.Context, installID, key string, value []byte) error
	Delete(ctx context.Context, installID, key string) error
	Keys(ctx context.Context, installID, prefix string, limit int) ([]string, error)
}

// Alerts tells the admins something needs them: an install disabled after
// repeated crashes. The lead wires it to the admin console.
type Alerts interface {
	AppDisabled(ctx context.Context, inst Install, reason string)
}

// Claims makes each hook delivery happen once in a cluster. Every node runs
// every enabled install and hears every event, so before the host hands an
// event to an install's app it claims (install, hook, event key): the first
// node to claim delivers, the others skip. Scheduled jobs claim (install,
// "jobs", job name and slot time). plugins/sqlstore implements it over the
// shared database.
type Claims interface {
	// Claim records the delivery and reports whether this caller won it;
	// false when it was claimed before (by any node).
	Claim(ctx context.Context, installID, hook, key string) (bool, error)
	// PruneClaims forgets claims made before before; the host calls it
	// periodically so the record stays small.
	PruneClaims(ctx context.Context, before time.Time) (int64, error)
}

// InstallRecord is an install as stored, with whether the admin enabled it.
type InstallRecord struct {
	Install
	Dir       string    `json:"dir"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Installs is the record of app installs (plugins/sqlstore implements it).
// GetInstall returns ENotFound for an unknown id.
type Installs interface {
	SaveInstall(ctx context.Context, inst Install, enabled bool) error
	GetInstall(ctx context.Context, id string) (InstallRecord, error)
	ListInstalls(ctx context.Context, orgID string) ([]InstallRecord, error) // "" for every organisation
	SetEnabled(ctx context.Context, id string, enabled bool) error
	DeleteInstall(ctx context.Context, id string) error
	// ForgetInstall removes the install's record but keeps what it stored
	// (an uninstall that keeps the data); ENotFound when there is none.
	ForgetInstall(ctx context.Context, id string) error
}
