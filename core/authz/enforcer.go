package authz

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/sqldb"
)

//go:embed model.conf
var modelText string

//go:embed builtin-policy.csv
var builtinPolicy string

// Options configure an Enforcer.
type Options struct {
	// Recorder receives an entry for every change of roles and assignments
	// and for every refused change. Required. When it also implements
	// audit.TxRecorder (audit.Log does) the entry is written in the same
	// transaction as the change, so a change is never left unaudited.
	Recorder audit.Recorder
	// Objects extends the catalogue of objects and actions that custom roles
	// may name.
	Objects []Object
	// Clock stamps role rows; core.SystemClock when nil.
	Clock core.Clock
	// OnChange, when set, is called after every committed change of roles
	// or assignments, outside the Enforcer's lock. The composition root uses
	// it to publish "authz.changed" so other nodes Reload.
	OnChange func(ctx context.Context)
	// Member, when set, tells whether an account belongs to an
	// organisation. Roles are assigned, revoked and listed only for accounts
	// of the organisation in question (or for system admins in "*"), so an
	// admin of one hospital cannot hand roles to another hospital's people.
	Member func(ctx context.Context, orgID, userID string) (bool, error)
}

// Enforcer decides and changes who may do what. It is safe for concurrent
// use: decisions share a read lock; changes take the write lock, run in one
// database transaction and reload the policy from the database if anything
// fails, so a failed change leaves neither the database nor the decisions
// changed.
//
// Cluster: each node holds the policy in memory. Enforcer publishes nothing;
// the composition root publishes "authz.changed" from Options.OnChange and
// calls Reload on every node when that event arrives.
type Enforcer struct {
	db       *sqldb.DB
	rec      audit.Recorder
	clock    core.Clock
	cat      catalogue
	onChange func(ctx context.Context)
	member   func(ctx context.Context, orgID, userID string) (bool, error)

	mu sync.RWMutex // guards ce, ad's bound transaction and the views map's contents
	ce *casbin.Enforcer
	ad *Adapter

	// Decisions are made on one small casbin enforcer per organisation (a
	// view): the built-in policy plus that organisation's rules and
	// assignments and the system-wide ones. Casbin evaluates its matcher
	// against every p rule, so deciding on the whole installation's policy
	// would cost time in proportion to every hospital's custom roles. Views
	// are built on first use and all dropped on any change or reload.
	viewMu sync.Mutex // taken under mu (read or write); guards views
	views  map[string]*view
}

// view decides for one organisation and remembers its decisions until it is
// dropped (any change drops every view, so a remembered decision is never
// stale).
type view struct {
	ce    *casbin.Enforcer
	cache sync.Map // sub \x00 object \x00 action -> bool
	n     atomic.Int64
}

// maxCachedDecisions bounds the memory of one organisation's remembered
// decisions (about 150 bytes each; a large hospital has 10,000 staff making
// a dozen kinds of check). Past it, decisions are made uncached.
const maxCachedDecisions = 200_000

func (v *view) decide(sub, orgID, object, action string) (bool, error) {
	key := sub + "\x00" + object + "\x00" + action
	if ok, hit := v.cache.Load(key); hit {
		return ok.(bool), nil
	}
	ok, err := v.ce.Enforce(sub, orgID, object, action)
	if err != nil {
		return false, err
	}
	if v.n.Load() < maxCachedDecisions {
		if _, loaded := v.cache.LoadOrStore(key, ok); !loaded {
			v.n.Add(1)
		}
	}
	return ok, nil
}

// New loads the model, the built-in policy and the stored rules. The "authz"
// migrations (Migrations) must have been applied.
func New(ctx context.Context, db *sqldb.DB, opts Options) (*Enforcer, error) {
	if opts.Recorder == nil {
		return nil, errors.New("authz: an audit recorder is required")
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	ad, err := NewAdapter(db)
	if err != nil {
		return nil, err
	}
	ce, err := casbin.NewEnforcer()
	if err != nil {
		return nil, err
	}
	// Domain matching must be in place before the role links are built.
	if err := ce.InitWithModelAndAdapter(m, nil); err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	ce.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	ce.SetAdapter(ad)
	ce.EnableAutoSave(true)
	if err := ce.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	objs := append(append([]Object(nil), Catalogue...), opts.Objects...)
	return &Enforcer{db: db, rec: opts.Recorder, clock: opts.Clock, cat: newCatalogue(objs), onChange: opts.OnChange, member: opts.Member,
		ce: ce, ad: ad, views: map[string]*view{}}, nil
}

// viewLocked returns the decision view of orgID; the caller holds mu.
func (e *Enforcer) viewLocked(orgID string) (*view, error) {
	e.viewMu.Lock()
	defer e.viewMu.Unlock()
	if v := e.views[orgID]; v != nil {
		return v, nil
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, err
	}
	add := func(sec string, field int, doms ...string) error {
		seen := map[string]bool{}
		for _, d := range doms {
			if seen[d] {
				continue
			}
			seen[d] = true
			var rules [][]string
			if sec == "p" {
				rules, err = e.ce.GetFilteredPolicy(field, d)
			} else {
				rules, err = e.ce.GetFilteredGroupingPolicy(field, d)
			}
			if err != nil {
				return err
			}
			if len(rules) > 0 {
				if err := m.AddPolicies(sec, sec, rules); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add("p", 1, AllOrgs, orgID); err != nil {
		return nil, err
	}
	if err := add("g", 2, AllOrgs, orgID); err != nil {
		return nil, err
	}
	v, err := casbin.NewEnforcer()
	if err != nil {
		return nil, err
	}
	if err := v.InitWithModelAndAdapter(m, nil); err != nil {
		return nil, err
	}
	v.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	if err := v.BuildRoleLinks(); err != nil {
		return nil, err
	}
	vw := &view{ce: v}
	e.views[orgID] = vw
	return vw, nil
}

// dropViewsLocked forgets every view; the caller holds mu for writing.
func (e *Enforcer) dropViewsLocked() {
	e.viewMu.Lock()
	e.views = map[string]*view{}
	e.viewMu.Unlock()
}

// decideLocked decides for a casbin subject; the caller holds mu.
func (e *Enforcer) decideLocked(sub, orgID, object, action string) (bool, error) {
	v, err := e.viewLocked(orgID)
	if err != nil {
		return false, err
	}
	return v.decide(sub, orgID, object, action)
}

// Reload rereads the stored policy. Call it when another node announces a
// change ("authz.changed").
func (e *Enforcer) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.dropViewsLocked()
	if err := e.ce.LoadPolicy(); err != nil {
		return core.Wrap(err, "could not reload the authorization policy")
	}
	return nil
}

func subjectOf(a core.Actor) string {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID
	case a.Kind == core.ActorApp && a.AppID != "":
		return "app:" + a.AppID
	}
	return ""
}

var orgRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

func checkOrg(orgID string, allowAll bool) error {
	if orgID == AllOrgs && allowAll {
		return nil
	}
	if !orgRe.MatchString(orgID) {
		return core.Invalid("org", "%q is not an organisation id", orgID)
	}
	return nil
}

// Authorize returns nil when a may do action on object in the organisation
// orgID, and an EForbidden *core.Error otherwise. The system actor is always
// allowed. Roles count only in the organisation they are held in (or
// everywhere for system admins), so an actor acting in another organisation
// than their own is refused unless granted there. orgID AllOrgs asks about
// every organisation at once: only system admins pass; an empty orgID (an
// actor with no organisation, such as a system admin acting globally) is
// taken as AllOrgs.
func (e *Enforcer) Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	if a.IsSystem() {
		return nil
	}
	if orgID == "" {
		orgID = AllOrgs
	}
	if err := checkOrg(orgID, true); err != nil {
		return err
	}
	sub := subjectOf(a)
	if sub == "" {
		return forbidden(object, action, orgID)
	}
	e.mu.RLock()
	ok, err := e.decideLocked(sub, orgID, object, action)
	e.mu.RUnlock()
	if err != nil {
		return core.Wrap(err, "authorization failed")
	}
	if !ok {
		return forbidden(object, action, orgID)
	}
	return nil
}

func forbidden(object, action, orgID string) error {
	where := "in this organisation"
	if orgID == AllOrgs {
		where = "across organisations"
	}
	return &core.Error{Code: core.EForbidden, Message: "you may not " + action + " " + object + " " + where,
		Details: map[string]any{"object": object, "action": action}}
}

// Can reports whether Authorize would allow.
func (e *Enforcer) Can(ctx context.Context, a core.Actor, orgID, object, action string) bool {
	return e.Authorize(ctx, a, orgID, object, action) == nil
}

// allowedLocked decides for a casbin subject; the caller holds e.mu.
func (e *Enforcer) allowedLocked(sub, orgID, object, action string) bool {
	ok, err := e.decideLocked(sub, orgID, object, action)
	return err == nil && ok
}

func (e *Enforcer) authorizeLocked(a core.Actor, orgID, object, action string) error {
	if a.IsSystem() {
		return nil
	}
	sub := subjectOf(a)
	if sub == "" || !e.allowedLocked(sub, orgID, object, action) {
		return forbidden(object, action, orgID)
	}
	return nil
}

// coversLocked refuses when role grants, in orgID, anything the actor by may
// not do themselves: nobody hands out more than they hold.
func (e *Enforcer) coversLocked(by core.Actor, orgID, role string) error {
	if by.IsSystem() {
		return nil
	}
	sub := subjectOf(by)
	for _, p := range e.cat.pairs {
		if e.allowedLocked(role, orgID, p[0], p[1]) && !e.allowedLocked(sub, orgID, p[0], p[1]) {
			return (&core.Error{Code: core.EForbidden, Message: fmt.Sprintf(
				"role %s allows %s on %s, which you may not do yourself", role, p[1], p[0])}).
				With("object", p[0]).With("action", p[1])
		}
	}
	return nil
}

// change runs fn under the write lock in one transaction with the adapter
// bound to it, records the audit entries fn returns, and reloads the policy
// when anything failed so memory matches the database again. Refusals are
// audited as denied. fn returns no entries when it changed nothing. OnChange
// runs after the lock is released: a bus that delivers synchronously may
// call Reload from it.
func (e *Enforcer) change(ctx context.Context, fn func(tx *sqldb.Tx) ([]audit.Entry, error)) error {
	changed, err := e.changeLocked(ctx, fn)
	if changed && e.onChange != nil {
		e.onChange(ctx)
	}
	return err
}

// changeLocked takes the write lock only once its transaction runs: waiting
// for the database while holding the lock would stop every Authorize, and a
// transaction that authorizes (a chat send does) would then wait on the lock
// while the lock waits on it.
func (e *Enforcer) changeLocked(ctx context.Context, fn func(tx *sqldb.Tx) ([]audit.Entry, error)) (bool, error) {
	txRec, inTx := e.rec.(audit.TxRecorder)
	var entries []audit.Entry
	attempt := 0
	err := e.db.InTx(ctx, func(tx *sqldb.Tx) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		defer e.dropViewsLocked()
		e.ad.bind(ctx, tx)
		defer e.ad.unbind()
		attempt++
		if attempt > 1 { // a retried transaction starts from the stored state
			e.dropViewsLocked()
			if err := e.ce.LoadPolicy(); err != nil {
				return err
			}
		}
		var err error
		entries, err = fn(tx)
		if err != nil {
			return err
		}
		if inTx {
			for _, en := range entries {
				if err := txRec.RecordTx(ctx, tx, en); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		// Memory may hold what the database does not (the change failed, or
		// the commit it shared did): load the stored policy again.
		e.mu.Lock()
		if rerr := e.ce.LoadPolicy(); rerr != nil {
			slog.ErrorContext(ctx, "authz: reloading the policy after a failed change", "err", rerr)
		}
		e.dropViewsLocked()
		e.mu.Unlock()
		if core.IsCode(err, core.EForbidden) && len(entries) > 0 {
			for _, en := range entries {
				en.Result = audit.ResultDenied
				en.Details = withDetail(en.Details, "reason", core.ErrorMessage(err))
				if rerr := e.rec.Record(ctx, en); rerr != nil {
					slog.ErrorContext(ctx, "authz: auditing a refused change", "err", rerr)
				}
			}
		}
		return false, core.Wrap(err, "could not change roles")
	}
	if !inTx {
		for _, en := range entries {
			if err := e.rec.Record(ctx, en); err != nil {
				return true, core.Wrap(err, "the change was saved but could not be audited")
			}
		}
	}
	return len(entries) > 0, nil
}

func withDetail(d map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(d)+1)
	for kk, vv := range d {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func entry(by core.Actor, orgID, action, objType, objID string, details map[string]any) audit.Entry {
	return audit.Entry{
		OrgID: orgID, ActorID: by.UserID, ActorKind: string(by.Kind), AppID: by.AppID, IP: by.IP,
		Action: action, ObjectType: objType, ObjectID: objID, Result: audit.ResultOK, Details: details,
	}
}

var roleNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,47}$`)

// roleExistsLocked reports whether role can be held in orgID: a built-in
// role, or a custom role of that organisation.
func (e *Enforcer) roleExistsLocked(ctx context.Context, q sqldb.Querier, orgID, role string) (bool, error) {
	if IsBuiltin(role) {
		return true, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM authz_roles WHERE org_id = ? AND name = ?`, orgID, role).Scan(&n)
	return n > 0, err
}

func (e *Enforcer) checkAssignment(orgID, userID, role string) error {
	if err := checkOrg(orgID, true); err != nil {
		return err
	}
	if !core.ValidID(userID) {
		return core.Invalid("user", "%q is not a user id", userID)
	}
	if role == RoleSystemAdmin && orgID != AllOrgs {
		return core.Invalid("role", "system_admin applies to every organisation; assign it in organisation %q", AllOrgs)
	}
	if role != RoleSystemAdmin && orgID == AllOrgs {
		return core.Invalid("org", "only system_admin is held in every organisation; assign %s in one organisation", role)
	}
	return nil
}

// AssignRole gives userID the role in orgID. by needs authz.role write in
// orgID and must themselves be allowed everything the role allows; only a
// system admin makes system admins (orgID AllOrgs). Assigning a role the
// user holds already succeeds without change.
func (e *Enforcer) AssignRole(ctx context.Context, by core.Actor, orgID, userID, role string) error {
	if err := e.checkAssignment(orgID, userID, role); err != nil {
		return err
	}
	if err := e.checkMember(ctx, orgID, userID); err != nil {
		return err
	}
	return e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
		en := []audit.Entry{entry(by, orgID, "authz.role.assign", "user", userID, map[string]any{"role": role})}
		if err := e.authorizeLocked(by, orgID, "authz.role", "write"); err != nil {
			return en, err
		}
		ok, err := e.roleExistsLocked(ctx, tx, orgID, role)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, core.Invalid("role", "there is no role %q in this organisation", role)
		}
		if err := e.coversLocked(by, orgID, role); err != nil {
			return en, err
		}
		added, err := e.ce.AddGroupingPolicy("user:"+userID, role, orgID)
		if err != nil {
			return nil, err
		}
		if !added {
			return nil, nil
		}
		return en, nil
	})
}

// RevokeRole takes the role from userID in orgID, with the same checks as
// AssignRole. ENotFound when the user does not hold it.
func (e *Enforcer) RevokeRole(ctx context.Context, by core.Actor, orgID, userID, role string) error {
	if err := e.checkAssignment(orgID, userID, role); err != nil {
		return err
	}
	if err := e.checkMember(ctx, orgID, userID); err != nil {
		return err
	}
	return e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
		en := []audit.Entry{entry(by, orgID, "authz.role.revoke", "user", userID, map[string]any{"role": role})}
		if err := e.authorizeLocked(by, orgID, "authz.role", "write"); err != nil {
			return en, err
		}
		if err := e.coversLocked(by, orgID, role); err != nil {
			return en, err
		}
		removed, err := e.ce.RemoveGroupingPolicy("user:"+userID, role, orgID)
		if err != nil {
			return nil, err
		}
		if !removed {
			return nil, core.Errorf(core.ENotFound, "the user does not hold role %s here", role)
		}
		return en, nil
	})
}

// RemoveUser drops every role the user holds in every organisation; call it
// when an account is deactivated. The actor in ctx (or the system) is
// recorded as having done it.
func (e *Enforcer) RemoveUser(ctx context.Context, userID string) error {
	if !core.ValidID(userID) {
		return core.Invalid("user", "%q is not a user id", userID)
	}
	by, ok := core.ActorFrom(ctx)
	if !ok {
		by = core.SystemActor
	}
	return e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
		// Read what is stored, not what this node remembers: another node
		// may have granted a role this one has not reloaded yet, and a
		// deactivated user must lose every role.
		rows, err := tx.QueryContext(ctx, `SELECT v1, v2 FROM authz_rules WHERE ptype = 'g' AND v0 = ? ORDER BY v2, v1`, "user:"+userID)
		if err != nil {
			return nil, err
		}
		var entries []audit.Entry
		for rows.Next() {
			var role, org string
			if err := rows.Scan(&role, &org); err != nil {
				rows.Close()
				return nil, err
			}
			entries = append(entries, entry(by, org, "authz.role.revoke", "user", userID, map[string]any{"role": role, "reason": "user removed"}))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			return nil, nil
		}
		if _, err := e.ce.RemoveFilteredGroupingPolicy(0, "user:"+userID); err != nil {
			return nil, err
		}
		return entries, nil
	})
}

// RolesOf returns the roles userID holds directly in orgID, together with
// the roles held in every organisation (system_admin), sorted. It does not
// authorize: services use it; people go through UserRoles.
func (e *Enforcer) RolesOf(orgID, userID string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rolesOfLocked(orgID, userID)
}

func (e *Enforcer) rolesOfLocked(orgID, userID string) []string {
	rules, _ := e.ce.GetFilteredGroupingPolicy(0, "user:"+userID)
	seen := map[string]bool{}
	out := []string{}
	for _, r := range rules {
		if (r[2] == orgID || r[2] == AllOrgs) && !seen[r[1]] {
			seen[r[1]] = true
			out = append(out, r[1])
		}
	}
	sort.Strings(out)
	return out
}

// UserRoles is RolesOf for a person asking: allowed with authz.role read in
// orgID, or for one's own roles.
func (e *Enforcer) UserRoles(ctx context.Context, by core.Actor, orgID, userID string) ([]string, error) {
	if err := checkOrg(orgID, true); err != nil {
		return nil, err
	}
	if err := e.checkMember(ctx, orgID, userID); err != nil {
		return nil, err
	}
	if by.UserID == "" || by.UserID != userID {
		if err := e.Authorize(ctx, by, orgID, "authz.role", "read"); err != nil {
			return nil, err
		}
	}
	return e.RolesOf(orgID, userID), nil
}

// UsersWithRole returns the ids of users holding role directly in orgID
// (not through a role that inherits it), sorted.
func (e *Enforcer) UsersWithRole(orgID, role string) []string {
	e.mu.RLock()
	rules, _ := e.ce.GetFilteredGroupingPolicy(1, role, orgID)
	e.mu.RUnlock()
	out := []string{}
	for _, r := range rules {
		if id, ok := strings.CutPrefix(r[0], "user:"); ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// validateRole checks a custom role before anything is stored.
func (e *Enforcer) validateRole(orgID string, def *RoleDef) ([][]string, error) {
	if err := checkOrg(orgID, false); err != nil {
		return nil, err
	}
	if IsBuiltin(def.Name) {
		return nil, core.Invalid("name", "%s is a built-in role; choose another name", def.Name)
	}
	if !roleNameRe.MatchString(def.Name) {
		return nil, core.Invalid("name", "a role name is 2 to 48 lower-case letters, digits or _ and starts with a letter")
	}
	if len(def.Description) > 500 {
		return nil, core.Invalid("description", "the description is longer than 500 characters")
	}
	if def.Inherits != "" && (!IsBuiltin(def.Inherits) || def.Inherits == RoleSystemAdmin) {
		return nil, core.Invalid("inherits", "a custom role may inherit org_admin, dept_head, staff or guest, not %q", def.Inherits)
	}
	if len(def.Rules) > 200 {
		return nil, core.Invalid("rules", "a role has at most 200 rules")
	}
	seen := map[string]bool{}
	var rules [][]string
	for i, r := range def.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if r.Effect != Allow && r.Effect != Deny {
			return nil, core.Invalid(field+".effect", "effect must be allow or deny, not %q", r.Effect)
		}
		objOK, actOK := e.cat.knows(r.Object, r.Action)
		if !objOK {
			return nil, core.Invalid(field+".object", "unknown object %q", r.Object)
		}
		if !actOK {
			return nil, core.Invalid(field+".action", "%s has no action %q", r.Object, r.Action)
		}
		rule := []string{def.Name, orgID, r.Object, r.Action, r.Effect}
		k := strings.Join(rule, "\x00")
		if !seen[k] {
			seen[k] = true
			rules = append(rules, rule)
		}
	}
	return rules, nil
}

// checkDomain is the last guard before rules reach casbin: a custom role's
// rules are written for its own organisation only.
func checkDomain(orgID string, rules [][]string, domainIndex int) error {
	for _, r := range rules {
		if len(r) <= domainIndex || r[domainIndex] != orgID {
			return core.Invalid("org", "a rule grants in another organisation than %s", orgID)
		}
	}
	return nil
}

// CreateRole creates a custom role in orgID. by needs authz.role write there
// and may only create a role that allows what they may do themselves (deny
// rules are always welcome). Invalid definitions are refused with EInvalid
// naming the field; an existing name with EConflict.
func (e *Enforcer) CreateRole(ctx context.Context, by core.Actor, orgID string, def RoleDef) (Role, error) {
	if core.ValidID(orgID) && !e.Can(ctx, by, orgID, "authz.role", "write") {
		// A refused caller learns nothing of the validation rules; the
		// refusal is audited like any other.
		return Role{}, e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
			en := []audit.Entry{entry(by, orgID, "authz.role.create", "role", def.Name, nil)}
			return en, e.authorizeLocked(by, orgID, "authz.role", "write")
		})
	}
	rules, err := e.validateRole(orgID, &def)
	if err != nil {
		return Role{}, err
	}
	if err := checkDomain(orgID, rules, 1); err != nil {
		return Role{}, err
	}
	err = e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
		en := []audit.Entry{entry(by, orgID, "authz.role.create", "role", def.Name,
			map[string]any{"inherits": def.Inherits, "rules": def.Rules})}
		if err := e.authorizeLocked(by, orgID, "authz.role", "write"); err != nil {
			return en, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO authz_roles (org_id, name, description, inherits, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			orgID, def.Name, def.Description, def.Inherits, by.UserID, sqldb.Millis(e.clock.Now()))
		if sqldb.IsUniqueViolation(err) {
			return nil, core.Errorf(core.EConflict, "a role named %s exists already", def.Name).With("field", "name")
		}
		if err != nil {
			return nil, err
		}
		if len(rules) > 0 {
			if _, err := e.ce.AddPolicies(rules); err != nil {
				return nil, err
			}
		}
		if def.Inherits != "" {
			if _, err := e.ce.AddGroupingPolicy(def.Name, def.Inherits, orgID); err != nil {
				return nil, err
			}
		}
		// Checked on the role as stored, inheritance included.
		e.dropViewsLocked()
		if err := e.coversLocked(by, orgID, def.Name); err != nil {
			return en, err
		}
		return en, nil
	})
	if err != nil {
		return Role{}, err
	}
	return Role{Name: def.Name, Description: def.Description, Inherits: def.Inherits, Rules: rulesOut(rules)}, nil
}

func rulesOut(rules [][]string) []Rule {
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, Rule{Object: r[2], Action: r[3], Effect: r[4]})
	}
	return out
}

// DeleteRole deletes a custom role of orgID with its rules and every
// assignment of it. by needs authz.role write there.
func (e *Enforcer) DeleteRole(ctx context.Context, by core.Actor, orgID, name string) error {
	if err := checkOrg(orgID, false); err != nil {
		return err
	}
	if IsBuiltin(name) {
		return core.Invalid("name", "%s is a built-in role and cannot be deleted", name)
	}
	return e.change(ctx, func(tx *sqldb.Tx) ([]audit.Entry, error) {
		en := []audit.Entry{entry(by, orgID, "authz.role.delete", "role", name, nil)}
		if err := e.authorizeLocked(by, orgID, "authz.role", "write"); err != nil {
			return en, err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM authz_roles WHERE org_id = ? AND name = ?`, orgID, name)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, core.Errorf(core.ENotFound, "there is no role %s in this organisation", name)
		}
		holders, err := e.ce.GetFilteredGroupingPolicy(1, name, orgID)
		if err != nil {
			return nil, err
		}
		if _, err := e.ce.RemoveFilteredPolicy(0, name, orgID); err != nil {
			return nil, err
		}
		if _, err := e.ce.RemoveFilteredGroupingPolicy(1, name, orgID); err != nil {
			return nil, err
		}
		if _, err := e.ce.RemoveFilteredGroupingPolicy(0, name, "", orgID); err != nil {
			return nil, err
		}
		en[0].Details = map[string]any{"holders": len(holders)}
		return en, nil
	})
}

// ListRoles returns the built-in roles and the custom roles of orgID. by
// needs authz.role read there.
func (e *Enforcer) ListRoles(ctx context.Context, by core.Actor, orgID string) ([]Role, error) {
	if err := checkOrg(orgID, false); err != nil {
		return nil, err
	}
	if err := e.Authorize(ctx, by, orgID, "authz.role", "read"); err != nil {
		return nil, err
	}
	out := []Role{}
	e.mu.RLock()
	for _, b := range BuiltinRoles {
		r := Role{Name: b, Builtin: true}
		if g, _ := e.ce.GetFilteredGroupingPolicy(0, b, "", AllOrgs); len(g) > 0 {
			r.Inherits = g[0][1]
		}
		p, _ := e.ce.GetFilteredPolicy(0, b, AllOrgs)
		r.Rules = rulesOut(p)
		out = append(out, r)
	}
	e.mu.RUnlock()
	rows, err := e.db.QueryContext(ctx, `SELECT name, description, inherits FROM authz_roles WHERE org_id = ? ORDER BY name`, orgID)
	if err != nil {
		return nil, core.Wrap(err, "could not list roles")
	}
	defer rows.Close()
	var custom []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.Name, &r.Description, &r.Inherits); err != nil {
			return nil, core.Wrap(err, "could not list roles")
		}
		custom = append(custom, r)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(err, "could not list roles")
	}
	e.mu.RLock()
	for i := range custom {
		p, _ := e.ce.GetFilteredPolicy(0, custom[i].Name, orgID)
		custom[i].Rules = rulesOut(p)
	}
	e.mu.RUnlock()
	return append(out, custom...), nil
}

// checkMember refuses an account of another organisation as if it did not
// exist (ENotFound), so its existence is not revealed either.
func (e *Enforcer) checkMember(ctx context.Context, orgID, userID string) error {
	if e.member == nil || orgID == AllOrgs || orgID == "" {
		return nil
	}
	ok, err := e.member(ctx, orgID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return core.Errorf(core.ENotFound, "no such account in this organisation")
	}
	return nil
}

// Capabilities is what an actor may do in their own organisation: the roles
// they hold there and every (object, action) of the catalogue that their
// roles allow, decided as Authorize decides. Clients use it to offer only
// what the server would accept; the server still decides on every request,
// and areas still check scopes (which department a head heads).
type Capabilities struct {
	OrgID string   `json:"org_id"`
	Roles []string `json:"roles"`
	// Allowed lists "object:action" pairs of the catalogue, sorted.
	Allowed []string `json:"allowed"`
}

// Allows reports whether c lists object:action.
func (c Capabilities) Allows(object, action string) bool {
	return slices.Contains(c.Allowed, object+":"+action)
}

// CapabilitiesOf answers "what may I do" for the actor asking, in the
// organisation they act in (every organisation when they belong to none, as
// a system admin). Anyone signed in may ask about themselves and only about
// themselves; an actor that is neither a user nor an app gets nothing.
func (e *Enforcer) CapabilitiesOf(ctx context.Context, a core.Actor) (Capabilities, error) {
	orgID := a.OrgID
	if orgID == "" {
		orgID = AllOrgs
	}
	if err := checkOrg(orgID, true); err != nil {
		return Capabilities{}, err
	}
	c := Capabilities{OrgID: a.OrgID, Roles: []string{}, Allowed: []string{}}
	sub := subjectOf(a)
	if sub == "" {
		return c, nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if a.UserID != "" {
		c.Roles = e.rolesOfLocked(orgID, a.UserID)
	}
	for _, p := range e.cat.pairs {
		if e.allowedLocked(sub, orgID, p[0], p[1]) {
			c.Allowed = append(c.Allowed, p[0]+":"+p[1])
		}
	}
	return c, nil
}
