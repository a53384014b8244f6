// Package audit keeps the append-only, hash-chained record of security-relevant
// actions: sign-ins and failures, role and permission changes, deactivations,
// exports, app installs, admin edits. Every entry says who, what, when, on
// which object and with what result; each entry's hash covers the previous
// entry's hash, so a changed or deleted row is detectable (Verify).
package audit

import (
	"context"
	"time"
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
