// Package sdktest is an in-memory host for an app's unit tests: it grants
// scopes like the server does, keeps storage in memory, records the messages
// the app sends, and lets the test seed the org chart. No server, no
// process.
package sdktest

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/roundshq/rounds/plugins/sdk"
)

// Host is an in-memory sdk.Host. Since v0.1.0.
type Host struct {
	mu          sync.Mutex
	scopes      map[string]bool
	Install     sdk.Install
	Depts       []sdk.Department
	People      []sdk.Staff
	Members     map[string]bool // conversation ids the bot is in
	Sent        []sdk.Message   // messages the app sent
	Submitted   []sdk.ApprovalSubmission
	Rosters     map[string]sdk.Roster // "dept|month"
	AttendanceR []sdk.AttendanceRecord
	// Setups answers RosterSetup, by "dept|month". Since v0.2.0.
	Setups map[string]sdk.RosterSetup
	// CheckRoster, when set, plays the server's rule check: SaveRosterDraft
	// puts its answer in the saved roster's Violations (none otherwise).
	// Since v0.2.0.
	CheckRoster func(sdk.Roster) []sdk.RosterViolation
	// Direct records the direct messages the app sent. Since v0.2.0.
	Direct []DirectMessage
	kv     map[string][]byte
}

// DirectMessage is a direct message an app sent to one person.
// Since v0.2.0.
type DirectMessage struct {
	UserID string
	Text   string
}

var _ sdk.Host = (*Host)(nil)

// New returns a host granting scopes. Since v0.1.0.
func New(scopes ...string) *Host {
	h := &Host{scopes: map[string]bool{}, Members: map[string]bool{}, Rosters: map[string]sdk.Roster{}, Setups: map[string]sdk.RosterSetup{}, kv: map[string][]byte{},
		Install: sdk.Install{ID: "test-install", OrgID: "test-org", AppID: "test-app", BotUserID: "test-bot", ServerVersion: "0.1.0"}}
	for _, s := range scopes {
		h.scopes[s] = true
	}
	return h
}

// Activate activates app against h, as the server does at start. Since v0.1.0.
func (h *Host) Activate(ctx context.Context, app sdk.App) error {
	return app.Activate(ctx, h, h.Install)
}

func (h *Host) need(scope string) error {
	if !h.scopes[scope] {
		return sdk.Errorf(sdk.CodeForbidden, "the install was not granted %s", scope)
	}
	return nil
}

func (h *Host) Departments(_ context.Context, rootID string) ([]sdk.Department, error) {
	if err := h.need(sdk.ScopeOrgchartRead); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sdk.Department(nil), h.Depts...), nil
}

func (h *Host) Staff(_ context.Context, dept string) ([]sdk.Staff, error) {
	if err := h.need(sdk.ScopeOrgchartRead); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Staff
	for _, s := range h.People {
		if s.DepartmentID == dept {
			out = append(out, s)
		}
	}
	return out, nil
}

func (h *Host) SendMessage(_ context.Context, conv, text string) (string, error) {
	if err := h.need(sdk.ScopeIMSend); err != nil {
		return "", err
	}
	if len(text) > sdk.MaxMessageText {
		return "", sdk.Errorf(sdk.CodeTooLarge, "message too long")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.Members[conv] {
		return "", sdk.Errorf(sdk.CodeForbidden, "the bot is not a member of %s", conv)
	}
	id := "m" + string(rune('0'+len(h.Sent)%10))
	h.Sent = append(h.Sent, sdk.Message{ID: id, ConversationID: conv, SenderID: h.Install.BotUserID, Text: text})
	return id, nil
}

func (h *Host) Messages(_ context.Context, conv string, limit int) ([]sdk.Message, error) {
	if err := h.need(sdk.ScopeIMRead); err != nil {
		return nil, err
	}
	return nil, nil
}

func (h *Host) Approval(_ context.Context, id string) (sdk.Approval, error) {
	if err := h.need(sdk.ScopeApprovalsRead); err != nil {
		return sdk.Approval{}, err
	}
	return sdk.Approval{}, sdk.Errorf(sdk.CodeNotFound, "no approval %s", id)
}

func (h *Host) SubmitApproval(_ context.Context, s sdk.ApprovalSubmission) (sdk.Approval, error) {
	if err := h.need(sdk.ScopeApprovalsSubmit); err != nil {
		return sdk.Approval{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Submitted = append(h.Submitted, s)
	return sdk.Approval{ID: "a" + string(rune('0'+len(h.Submitted)%10)), Template: s.Template, ApplicantID: s.ApplicantID, Status: "pending", Form: s.Form}, nil
}

func (h *Host) Roster(_ context.Context, dept, month string) (sdk.Roster, error) {
	if err := h.need(sdk.ScopeRosterRead); err != nil {
		return sdk.Roster{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.Rosters[dept+"|"+month]
	if !ok {
		return sdk.Roster{}, sdk.Errorf(sdk.CodeNotFound, "no roster")
	}
	return r, nil
}

func (h *Host) SaveRosterDraft(_ context.Context, r sdk.Roster) (sdk.Roster, error) {
	if err := h.need(sdk.ScopeRosterWrite); err != nil {
		return sdk.Roster{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.Rosters[r.DepartmentID+"|"+r.Month]; ok && cur.Status == "published" {
		return sdk.Roster{}, sdk.Errorf(sdk.CodeConflict, "the roster for %s is published; an app may only propose drafts", r.Month)
	}
	r.Status = "draft"
	r.Violations = nil
	if h.CheckRoster != nil {
		r.Violations = h.CheckRoster(r)
	}
	h.Rosters[r.DepartmentID+"|"+r.Month] = r
	return r, nil
}

// RosterSetup answers from Setups. Since v0.2.0.
func (h *Host) RosterSetup(_ context.Context, dept, month string) (sdk.RosterSetup, error) {
	if err := h.need(sdk.ScopeRosterRead); err != nil {
		return sdk.RosterSetup{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.Setups[dept+"|"+month]
	if !ok {
		return sdk.RosterSetup{}, sdk.Errorf(sdk.CodeNotFound, "no department %s", dept)
	}
	return s, nil
}

// SendDirectMessage records a direct message to a person in People or in
// a setup's people or heads (anyone else is not found, like the server
// answers for someone who is not staff). Since v0.2.0.
func (h *Host) SendDirectMessage(_ context.Context, userID, text string) (string, error) {
	if err := h.need(sdk.ScopeIMDirect); err != nil {
		return "", err
	}
	if text == "" || len(text) > sdk.MaxMessageText {
		return "", sdk.Errorf(sdk.CodeInvalid, "text must be 1 byte to 16 KiB")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isStaff(userID) {
		return "", sdk.Errorf(sdk.CodeNotFound, "no member of staff %s", userID)
	}
	h.Direct = append(h.Direct, DirectMessage{UserID: userID, Text: text})
	return "d" + string(rune('0'+len(h.Direct)%10)), nil
}

func (h *Host) isStaff(userID string) bool {
	for _, p := range h.People {
		if p.UserID == userID {
			return true
		}
	}
	for _, s := range h.Setups {
		for _, p := range s.People {
			if p.UserID == userID {
				return true
			}
		}
		for _, u := range s.Heads {
			if u == userID {
				return true
			}
		}
	}
	return false
}

func (h *Host) Attendance(_ context.Context, q sdk.AttendanceQuery) ([]sdk.AttendanceRecord, error) {
	if err := h.need(sdk.ScopeAttendanceRead); err != nil {
		return nil, err
	}
	return h.AttendanceR, nil
}

func (h *Host) KVGet(_ context.Context, key string) ([]byte, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.kv[key]
	return v, ok, nil
}

func (h *Host) KVSet(_ context.Context, key string, v []byte) error {
	if len(key) == 0 || len(key) > sdk.MaxKVKey || len(v) > sdk.MaxKVValue {
		return sdk.Errorf(sdk.CodeTooLarge, "key or value beyond the limits")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kv[key] = append([]byte(nil), v...)
	return nil
}

func (h *Host) KVDelete(_ context.Context, key string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.kv, key)
	return nil
}

func (h *Host) KVKeys(_ context.Context, prefix string, limit int) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k := range h.kv {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
