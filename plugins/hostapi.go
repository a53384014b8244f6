package plugins

import (
	"context"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/plugins/sdk"
)

// installAPI is the host API bound to one install: the sdk.Host served to
// that install's process. It is the only door an app has into Rounds, so
// every method starts with allow.
type installAPI struct {
	h       *Host
	inst    Install
	subtree map[string]string // scope -> granted subtree root
	limiter *rate.Limiter
}

var _ sdk.Host = (*installAPI)(nil)

func newInstallAPI(h *Host, inst Install) *installAPI {
	a := &installAPI{h: h, inst: inst, subtree: map[string]string{},
		limiter: rate.NewLimiter(rate.Limit(h.cfg.APIRate), h.cfg.APIBurst)}
	for _, g := range inst.Grants {
		if g.Subtree != "" {
			a.subtree[g.Scope] = g.Subtree
		}
	}
	return a
}

// allow applies the rate limit and the casbin check; a refusal is audited.
func (a *installAPI) allow(ctx context.Context, method, scope string) error {
	if !a.limiter.Allow() {
		return sdk.Errorf(sdk.CodeRateLimited, "too many host-API calls; slow down")
	}
	if scope == "" || a.h.perms.Allowed(a.inst.ID, a.inst.OrgID, scope) {
		return nil
	}
	a.deny(ctx, method, scope, "")
	return sdk.Errorf(sdk.CodeForbidden, "the install was not granted %s", scope)
}

func (a *installAPI) deny(ctx context.Context, method, scope, object string) {
	if a.h.cfg.Audit == nil {
		return
	}
	details := map[string]any{"method": method, "scope": scope}
	if object != "" {
		details["object"] = object
	}
	err := a.h.cfg.Audit.Record(ctx, audit.Entry{OrgID: a.inst.OrgID, ActorID: a.inst.BotUserID, ActorKind: string(core.ActorApp),
		AppID: a.inst.AppID, Action: "plugins.api.denied", ObjectType: "app_install", ObjectID: a.inst.ID,
		Result: audit.ResultDenied, Details: details})
	if err != nil {
		a.h.log.Warn("audit of a denied app call failed", "app_id", a.inst.AppID, "install_id", a.inst.ID, "err", err)
	}
}

// inSubtree applies a grant's department limit.
func (a *installAPI) inSubtree(ctx context.Context, method, scope, departmentID string) error {
	root, limited := a.subtree[scope]
	if !limited {
		return nil
	}
	if departmentID == "" {
		return sdk.Errorf(sdk.CodeInvalid, "name a department inside the granted part of the org chart")
	}
	if a.h.cfg.Directory == nil {
		return sdk.Errorf(sdk.CodeUnavailable, "the org chart is not available")
	}
	ok, err := a.h.cfg.Directory.InSubtree(ctx, a.inst.OrgID, departmentID, root)
	if err != nil {
		return toSDK(err)
	}
	if !ok {
		a.deny(ctx, method, scope, departmentID)
		return sdk.Errorf(sdk.CodeForbidden, "department %s is outside the part of the org chart granted to the app", departmentID)
	}
	return nil
}

func unavailable(what string) error {
	return sdk.Errorf(sdk.CodeUnavailable, "%s is not available on this server", what)
}

func (a *installAPI) Departments(ctx context.Context, rootID string) ([]sdk.Department, error) {
	if err := a.allow(ctx, "Departments", sdk.ScopeOrgchartRead); err != nil {
		return nil, err
	}
	if root, limited := a.subtree[sdk.ScopeOrgchartRead]; limited && rootID == "" {
		rootID = root
	}
	if err := a.inSubtree(ctx, "Departments", sdk.ScopeOrgchartRead, rootID); err != nil {
		return nil, err
	}
	if a.h.cfg.Directory == nil {
		return nil, unavailable("the org chart")
	}
	ds, err := a.h.cfg.Directory.Departments(ctx, a.inst.OrgID, rootID)
	return ds, toSDK(err)
}

func (a *installAPI) Staff(ctx context.Context, departmentID string) ([]sdk.Staff, error) {
	if err := a.allow(ctx, "Staff", sdk.ScopeOrgchartRead); err != nil {
		return nil, err
	}
	if departmentID == "" {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Field: "department_id", Message: "name a department"}
	}
	if err := a.inSubtree(ctx, "Staff", sdk.ScopeOrgchartRead, departmentID); err != nil {
		return nil, err
	}
	if a.h.cfg.Directory == nil {
		return nil, unavailable("the org chart")
	}
	ss, err := a.h.cfg.Directory.Staff(ctx, a.inst.OrgID, departmentID)
	return ss, toSDK(err)
}

// botIn checks the app's bot is in the conversation: im scopes never reach
// beyond the conversations the bot was added to.
func (a *installAPI) botIn(ctx context.Context, method, scope, conversationID string) error {
	if conversationID == "" {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "conversation_id", Message: "name a conversation"}
	}
	if a.h.cfg.Messenger == nil {
		return unavailable("chat")
	}
	ok, err := a.h.cfg.Messenger.IsMember(ctx, a.inst.OrgID, conversationID, a.inst.BotUserID)
	if err != nil {
		return toSDK(err)
	}
	if !ok {
		a.deny(ctx, method, scope, conversationID)
		return sdk.Errorf(sdk.CodeForbidden, "the app's bot is not a member of conversation %s", conversationID)
	}
	return nil
}

func (a *installAPI) SendMessage(ctx context.Context, conversationID, text string) (string, error) {
	if err := a.allow(ctx, "SendMessage", sdk.ScopeIMSend); err != nil {
		return "", err
	}
	if len(text) > sdk.MaxMessageText {
		return "", &sdk.Error{Code: sdk.CodeTooLarge, Field: "text", Message: "a message is at most 16 KiB"}
	}
	if text == "" || !utf8.ValidString(text) {
		return "", &sdk.Error{Code: sdk.CodeInvalid, Field: "text", Message: "text must be non-empty UTF-8"}
	}
	if err := a.botIn(ctx, "SendMessage", sdk.ScopeIMSend, conversationID); err != nil {
		return "", err
	}
	id, err := a.h.cfg.Messenger.Send(ctx, a.inst.OrgID, a.inst.BotUserID, conversationID, text)
	return id, toSDK(err)
}

// SendDirectMessage reaches one person. im:direct lets the bot open a
// conversation of its own, so the person must be current staff of the
// install's organisation (the messenger refuses anyone else).
func (a *installAPI) SendDirectMessage(ctx context.Context, userID, text string) (string, error) {
	if err := a.allow(ctx, "SendDirectMessage", sdk.ScopeIMDirect); err != nil {
		return "", err
	}
	if len(text) > sdk.MaxMessageText {
		return "", &sdk.Error{Code: sdk.CodeTooLarge, Field: "text", Message: "a message is at most 16 KiB"}
	}
	if text == "" || !utf8.ValidString(text) {
		return "", &sdk.Error{Code: sdk.CodeInvalid, Field: "text", Message: "text must be non-empty UTF-8"}
	}
	if userID == "" || userID == a.inst.BotUserID {
		return "", &sdk.Error{Code: sdk.CodeInvalid, Field: "user_id", Message: "name a person other than the app's bot"}
	}
	if a.h.cfg.Messenger == nil {
		return "", unavailable("chat")
	}
	id, err := a.h.cfg.Messenger.SendDirect(ctx, a.inst.OrgID, a.inst.BotUserID, userID, text)
	return id, toSDK(err)
}

func (a *installAPI) Messages(ctx context.Context, conversationID string, limit int) ([]sdk.Message, error) {
	if err := a.allow(ctx, "Messages", sdk.ScopeIMRead); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if err := a.botIn(ctx, "Messages", sdk.ScopeIMRead, conversationID); err != nil {
		return nil, err
	}
	ms, err := a.h.cfg.Messenger.Recent(ctx, a.inst.OrgID, conversationID, limit)
	return ms, toSDK(err)
}

func (a *installAPI) Approval(ctx context.Context, id string) (sdk.Approval, error) {
	if err := a.allow(ctx, "Approval", sdk.ScopeApprovalsRead); err != nil {
		return sdk.Approval{}, err
	}
	if a.h.cfg.Approvals == nil {
		return sdk.Approval{}, unavailable("approvals")
	}
	ap, err := a.h.cfg.Approvals.Get(ctx, a.inst.OrgID, id)
	return ap, toSDK(err)
}

func (a *installAPI) SubmitApproval(ctx context.Context, s sdk.ApprovalSubmission) (sdk.Approval, error) {
	if err := a.allow(ctx, "SubmitApproval", sdk.ScopeApprovalsSubmit); err != nil {
		return sdk.Approval{}, err
	}
	size := 0
	for k, v := range s.Form {
		size += len(k) + len(v)
	}
	if size > sdk.MaxKVValue {
		return sdk.Approval{}, &sdk.Error{Code: sdk.CodeTooLarge, Field: "form", Message: "an approval form is at most 64 KiB"}
	}
	if a.h.cfg.Approvals == nil {
		return sdk.Approval{}, unavailable("approvals")
	}
	ap, err := a.h.cfg.Approvals.Submit(ctx, a.inst.OrgID, a.inst.BotUserID, s)
	return ap, toSDK(err)
}

func (a *installAPI) Roster(ctx context.Context, departmentID, month string) (sdk.Roster, error) {
	if err := a.allow(ctx, "Roster", sdk.ScopeRosterRead); err != nil {
		return sdk.Roster{}, err
	}
	if err := a.inSubtree(ctx, "Roster", sdk.ScopeRosterRead, departmentID); err != nil {
		return sdk.Roster{}, err
	}
	if a.h.cfg.Rosters == nil {
		return sdk.Roster{}, unavailable("rostering")
	}
	r, err := a.h.cfg.Rosters.Get(ctx, a.inst.OrgID, departmentID, month)
	return r, toSDK(err)
}

func (a *installAPI) SaveRosterDraft(ctx context.Context, r sdk.Roster) (sdk.Roster, error) {
	if err := a.allow(ctx, "SaveRosterDraft", sdk.ScopeRosterWrite); err != nil {
		return sdk.Roster{}, err
	}
	if len(r.Assignments) > 10000 {
		return sdk.Roster{}, &sdk.Error{Code: sdk.CodeTooLarge, Field: "assignments", Message: "a roster has at most 10000 assignments"}
	}
	if err := a.inSubtree(ctx, "SaveRosterDraft", sdk.ScopeRosterWrite, r.DepartmentID); err != nil {
		return sdk.Roster{}, err
	}
	if a.h.cfg.Rosters == nil {
		return sdk.Roster{}, unavailable("rostering")
	}
	out, err := a.h.cfg.Rosters.SaveDraft(ctx, a.inst.OrgID, a.inst.BotUserID, r)
	return out, toSDK(err)
}

func (a *installAPI) RosterSetup(ctx context.Context, departmentID, month string) (sdk.RosterSetup, error) {
	if err := a.allow(ctx, "RosterSetup", sdk.ScopeRosterRead); err != nil {
		return sdk.RosterSetup{}, err
	}
	if departmentID == "" {
		return sdk.RosterSetup{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "department_id", Message: "name a department"}
	}
	if err := a.inSubtree(ctx, "RosterSetup", sdk.ScopeRosterRead, departmentID); err != nil {
		return sdk.RosterSetup{}, err
	}
	if a.h.cfg.Rosters == nil {
		return sdk.RosterSetup{}, unavailable("rostering")
	}
	s, err := a.h.cfg.Rosters.Setup(ctx, a.inst.OrgID, departmentID, month)
	return s, toSDK(err)
}

func (a *installAPI) Attendance(ctx context.Context, q sdk.AttendanceQuery) ([]sdk.AttendanceRecord, error) {
	if err := a.allow(ctx, "Attendance", sdk.ScopeAttendanceRead); err != nil {
		return nil, err
	}
	if err := a.inSubtree(ctx, "Attendance", sdk.ScopeAttendanceRead, q.DepartmentID); err != nil {
		return nil, err
	}
	if a.h.cfg.Attendance == nil {
		return nil, unavailable("attendance")
	}
	rs, err := a.h.cfg.Attendance.List(ctx, a.inst.OrgID, q)
	return rs, toSDK(err)
}

func checkKey(key string) error {
	if key == "" || !utf8.ValidString(key) {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "key", Message: "a key is non-empty UTF-8"}
	}
	if len(key) > sdk.MaxKVKey {
		return &sdk.Error{Code: sdk.CodeTooLarge, Field: "key", Message: "a key is at most 256 bytes"}
	}
	return nil
}

func (a *installAPI) storage() (Storage, error) {
	if a.h.cfg.Storage == nil {
		return nil, unavailable("app storage")
	}
	return a.h.cfg.Storage, nil
}

// The storage methods need no scope: the namespace is the install id the
// host bound this connection to, never one the app names.

func (a *installAPI) KVGet(ctx context.Context, key string) ([]byte, bool, error) {
	if err := a.allow(ctx, "KVGet", ""); err != nil {
		return nil, false, err
	}
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	st, err := a.storage()
	if err != nil {
		return nil, false, err
	}
	v, ok, err := st.Get(ctx, a.inst.ID, key)
	return v, ok, toSDK(err)
}

func (a *installAPI) KVSet(ctx context.Context, key string, value []byte) error {
	if err := a.allow(ctx, "KVSet", ""); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > sdk.MaxKVValue {
		return &sdk.Error{Code: sdk.CodeTooLarge, Field: "value", Message: "a value is at most 64 KiB"}
	}
	st, err := a.storage()
	if err != nil {
		return err
	}
	return toSDK(st.Set(ctx, a.inst.ID, key, value))
}

func (a *installAPI) KVDelete(ctx context.Context, key string) error {
	if err := a.allow(ctx, "KVDelete", ""); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	st, err := a.storage()
	if err != nil {
		return err
	}
	return toSDK(st.Delete(ctx, a.inst.ID, key))
}

func (a *installAPI) KVKeys(ctx context.Context, prefix string, limit int) ([]string, error) {
	if err := a.allow(ctx, "KVKeys", ""); err != nil {
		return nil, err
	}
	if len(prefix) > sdk.MaxKVKey {
		return nil, &sdk.Error{Code: sdk.CodeTooLarge, Field: "prefix", Message: "a prefix is at most 256 bytes"}
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	st, err := a.storage()
	if err != nil {
		return nil, err
	}
	keys, err := st.Keys(ctx, a.inst.ID, prefix, limit)
	return keys, toSDK(err)
}
