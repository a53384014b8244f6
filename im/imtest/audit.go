package imtest

import (
	"context"
	"errors"
	"sync"

	"github.com/roundshq/rounds/core/audit"
)

// AuditLog is an audit.Recorder that keeps entries in memory; Fail makes
// Record fail (an audit log that is down).
type AuditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
	Fail    bool
}

// Record implements audit.Recorder.
func (l *AuditLog) Record(_ context.Context, e audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Fail {
		return errors.New("audit log unavailable")
	}
	l.entries = append(l.entries, e)
	return nil
}

// Entries returns the recorded entries with the given action ("" for all),
// oldest first.
func (l *AuditLog) Entries(action string) []audit.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Entry
	for _, e := range l.entries {
		if action == "" || e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
