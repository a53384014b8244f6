// Package bus carries events between the parts of Rounds and between server
// nodes. The in-process implementation (bus/inproc) serves one node; the NATS
// implementation (bus/nats) joins several. Both pass the same contract suite
// (bus/bustest).
//
// Delivery is at most once and in publish order per publisher and subject:
// the bus is for telling other nodes that something happened, never the
// record of it. Whatever must not be lost (messages, approval steps) is
// written to the database first; an event only says "go and look". A node
// that misses an event catches up from the database (for chat: the per-user
// durable log).
package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/roundshq/rounds/core"
)

// Subject names are dot-separated tokens, like "orgchart.staff.left" or
// "im.user.<id>". In Subscribe patterns "*" matches exactly one token and a
// final ">" matches one or more remaining tokens.

// Event is one delivery. Data may be shared by every subscription that
// receives the event, so handlers treat it as read-only.
type Event struct {
	Subject string
	Data    []byte
}

// Handler receives events. It is called from the bus's own goroutine(s), one
// event at a time per subscription; it must not block for long. A handler
// that panics is recovered and logged: one broken consumer must not take the
// node down. A handler may call Stop on its own subscription.
type Handler func(Event)

// Bus publishes and subscribes. Implementations are safe for concurrent use.
type Bus interface {
	// Publish sends data to every subscription whose pattern matches subject,
	// on this node and every other node, including the publisher's own
	// subscriptions. It returns an error (code unavailable) when the event
	// could not be handed to the transport or the bus is closed, and code
	// invalid (wrapping ErrBadSubject) for a bad subject. Publish copies data
	// as needed: the caller may reuse the slice once it returns. A slow
	// subscriber never blocks Publish; it loses events instead.
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe registers h for subjects matching pattern until the returned
	// Subscription is stopped. A bad pattern is refused with code invalid
	// (wrapping ErrBadSubject); a closed bus with code unavailable.
	Subscribe(pattern string, h Handler) (Subscription, error)
	// Ping reports whether the transport is usable (for /readyz).
	Ping(ctx context.Context) error
	// Close stops all subscriptions and releases the transport.
	Close() error
}

// Subscription is a registered handler.
type Subscription interface {
	// Stop unregisters the handler; no call to it starts after Stop returns,
	// and a call in progress on another goroutine has returned. Stopping
	// twice is not an error.
	Stop() error
}

// ErrBadSubject is returned for an empty subject, an empty token, or wildcards
// in a published subject.
var ErrBadSubject = errors.New("bus: bad subject")

// CheckSubject returns nil for a publishable subject and otherwise a
// *core.Error (code invalid, field "subject") wrapping ErrBadSubject.
func CheckSubject(s string) error {
	if ValidSubject(s) {
		return nil
	}
	return &core.Error{Code: core.EInvalid, Field: "subject", Message: fmt.Sprintf("bad event subject %q: want dot-separated tokens without wildcards", s), Err: ErrBadSubject}
}

// CheckPattern returns nil for a valid subscription pattern and otherwise a
// *core.Error (code invalid, field "pattern") wrapping ErrBadSubject.
func CheckPattern(p string) error {
	if ValidPattern(p) {
		return nil
	}
	return &core.Error{Code: core.EInvalid, Field: "pattern", Message: fmt.Sprintf("bad subscription pattern %q: want dot-separated tokens, \"*\" for one token, \">\" only last", p), Err: ErrBadSubject}
}

// ValidSubject reports whether s is a publishable subject (no wildcards).
func ValidSubject(s string) bool {
	if s == "" {
		return false
	}
	for _, t := range strings.Split(s, ".") {
		if t == "" || t == "*" || t == ">" || strings.ContainsAny(t, " \t\r\n") {
			return false
		}
	}
	return true
}

// ValidPattern reports whether p is a valid subscription pattern.
func ValidPattern(p string) bool {
	if p == "" {
		return false
	}
	toks := strings.Split(p, ".")
	for i, t := range toks {
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return false
		}
		if t == ">" && i != len(toks)-1 {
			return false
		}
	}
	return true
}

// Match reports whether subject matches pattern. It allocates nothing: it
// runs once per subscription for every published event.
func Match(pattern, subject string) bool {
	for {
		p, prest, pmore := strings.Cut(pattern, ".")
		if p == ">" {
			return subject != ""
		}
		t, srest, smore := strings.Cut(subject, ".")
		if p != "*" && p != t {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}
