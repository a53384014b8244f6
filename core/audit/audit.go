package audit

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

// Result of the audited action.
const (
	ResultOK     = "ok"
	ResultDenied = "denied"
	ResultFailed = "failed"
)

// Entry is one audited action.
type Entry struct {
	ID         string         `json:"id"`
	Seq        int64          `json:"seq"`
	At         time.Time      `json:"at"`
	OrgID      string         `json:"org_id,omitempty"`
	ActorID    string         `json:"actor_id,omitempty"`   // user id; empty for the system
	ActorKind  string         `json:"actor_kind,omitempty"` // user, bot, app, system
	AppID      string         `json:"app_id,omitempty"`
	IP         string         `json:"ip,omitempty"`
	Action     string         `json:"action"`                // e.g. "session.login", "orgchart.staff.deactivate"
	ObjectType string         `json:"object_type,omitempty"` // e.g. "user", "department"
	ObjectID   string         `json:"object_id,omitempty"`
	Result     string         `json:"result"` // ok, denied, failed
	Details    map[string]any `json:"details,omitempty"`
	PrevHash   string         `json:"prev_hash"`
	Hash       string         `json:"hash"`
}

// Recorder appends entries. Areas declare this (or a narrower) interface and
// call it after the action, with the actor and result filled in. Record fills
// ID, Seq, At and the hashes. Secrets (passwords, tokens) never go in Details.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// TxRecorder is a Recorder that can also write the entry inside a caller's
// database transaction, so that a change and its audit entry commit or fail
// together. Log implements it; callers check for it with a type assertion
// and fall back to Record after their commit. The chain head stays locked
// from RecordTx until the caller's transaction ends and every append waits
// for it, so make RecordTx the last statement of a short transaction.
type TxRecorder interface {
	Recorder
	RecordTx(ctx context.Context, tx *sqldb.Tx, e Entry) error
}

// Authorizer is what the log needs to decide who may read it: Authorize
// returns nil or an EForbidden error. Reading one organisation's log needs
// "audit.log" "read" (export: "export") in that organisation; reading across
// organisations and verifying the chain are asked for organisation "*",
// which only system admins pass (authz.Enforcer implements this).
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Filter selects entries. Empty fields match everything; Action matches as a
// prefix ("authz." finds every authz action); From is inclusive, To
// exclusive.
type Filter struct {
	OrgID      string    `json:"org_id,omitempty"`
	ActorID    string    `json:"actor_id,omitempty"`
	Action     string    `json:"action,omitempty"`
	ObjectType string    `json:"object_type,omitempty"`
	ObjectID   string    `json:"object_id,omitempty"`
	From       time.Time `json:"from,omitempty"`
	To         time.Time `json:"to,omitempty"`
}

// VerifyReport is the outcome of walking the chain.
type VerifyReport struct {
	OK bool `json:"ok"`
	// Checked counts the entries whose hash was recomputed.
	Checked int64 `json:"checked"`
	// LastSeq is the sequence number of the chain head as recorded.
	LastSeq int64 `json:"last_seq"`
	// BrokenSeq is the first sequence number at which the chain does not
	// hold (0 when OK): a changed entry, a missing one, or one out of place.
	BrokenSeq int64 `json:"broken_seq,omitempty"`
	// Problem says what was found at BrokenSeq.
	Problem string `json:"problem,omitempty"`
}
