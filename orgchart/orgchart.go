package orgchart

import (
	"context"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// Org is one hospital (or clinic, or health centre): a tenant and a casbin
// domain. Code is short, lower-case and unique ("jcyy"); it prefixes staff
// logins.
type Org struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Version counts committed changes to the organisation's directory; the
	// snapshot and the events carry it so a node knows when it is behind.
	Version int64 `json:"version"`
}

// Department is a node of an organisation's tree. ParentID is empty for a
// top-level department. Order sorts siblings (lower first, then by name).
type Department struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	ParentID  string    `json:"parent_id,omitempty"`
	Name      string    `json:"name"`
	Order     int       `json:"order"`
	CreatedAt time.Time `json:"created_at"`
}

// Status of a member of staff.
type Status string

const (
	Active  Status = "active"
	OnLeave Status = "on_leave" // still staff: stays in department groups, can be found
	Left    Status = "left"     // gone: account disabled, out of every group
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Active || s == OnLeave || s == Left }

// Current reports whether the person is still on the staff (active or on leave).
func (s Status) Current() bool { return s == Active || s == OnLeave }

// Staff is a person working in an organisation. ID is the user id of their
// login account. PrimaryDepartmentID is always one of DepartmentIDs.
type Staff struct {
	ID                  string    `json:"id"`
	OrgID               string    `json:"org_id"`
	EmployeeNo          string    `json:"employee_no"`
	Name                string    `json:"name"`
	Phone               string    `json:"phone,omitempty"`
	Email               string    `json:"email,omitempty"`
	Position            string    `json:"position,omitempty"` // 主任医师, 护士 …
	Title               string    `json:"title,omitempty"`    // 科主任, 护士长 …
	Status              Status    `json:"status"`
	PrimaryDepartmentID string    `json:"primary_department_id"`
	DepartmentIDs       []string  `json:"department_ids"`
	HeadOf              []string  `json:"head_of,omitempty"`    // departments this person heads
	DutyRoles           []string  `json:"duty_roles,omitempty"` // 院长, 护理部主任 …
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Login returns the login name of a member of staff of org: org code, a dot
// and the lower-cased employee number.
func Login(orgCode, employeeNo string) string {
	return strings.ToLower(orgCode) + "." + strings.ToLower(employeeNo)
}

// Sharing modes: what a member of a hospital group shows the other members.
const (
	ShareWhole    = "whole"    // the whole directory
	ShareSubtrees = "subtrees" // only the listed department subtrees
	ShareNone     = "none"     // nothing (it still sees what others share)
)

// Group is a hospital group (医联体 / 医共体 / 医疗集团) linking organisations.
type Group struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Members   []GroupMember `json:"members"`
	CreatedAt time.Time     `json:"created_at"`
}

// GroupMember is one organisation in a group and what it shares with the
// other members.
type GroupMember struct {
	OrgID         string   `json:"org_id"`
	Share         string   `json:"share"`                    // whole, subtrees, none
	DepartmentIDs []string `json:"department_ids,omitempty"` // roots of the shared subtrees
}

// OrgData is everything about one organisation's directory, as loaded from
// the store; snapshots are built from it.
type OrgData struct {
	Org         Org
	Departments []Department
	Staff       []Staff
	DutyRoles   []string // the organisation's defined duty roles, in order
}

// Changes is one atomic write to an organisation's directory. Staff rows are
// written whole: their departments, headships and duty roles replace the
// stored ones.
type Changes struct {
	OrgID             string
	ExpectVersion     int64 // the write fails with EConflict if the org moved on
	PutDepartments    []Department
	DeleteDepartments []string
	PutStaff          []Staff
	DutyRoles         []string // when not nil, replaces the organisation's list
}

// Empty reports whether c changes nothing.
func (c *Changes) Empty() bool {
	return len(c.PutDepartments) == 0 && len(c.DeleteDepartments) == 0 && len(c.PutStaff) == 0 && c.DutyRoles == nil
}

// Store keeps the directory. Implementations: orgchart/sqlstore. The contract
// suite is orgchart/orgcharttest.
type Store interface {
	// CreateOrg stores a new organisation. EConflict when the id or code is taken.
	CreateOrg(ctx context.Context, o Org) error
	// Orgs lists every organisation by code.
	Orgs(ctx context.Context) ([]Org, error)
	// LoadOrg returns everything about one organisation. ENotFound when unknown.
	LoadOrg(ctx context.Context, orgID string) (*OrgData, error)
	// Apply writes c in one transaction: departments first (parents before
	// children is the caller's job), then staff, then deletions. It bumps the
	// organisation's version from c.ExpectVersion (ErrStale when it differs)
	// and calls inTx (if not nil) before committing, with a context that
	// carries the transaction (sqldb.Tx.Context): side effects (creating or
	// disabling login accounts) write in the same transaction, and a failing
	// one rolls the whole change back. It returns the new
	// version. A duplicate employee number is EConflict naming the field;
	// nothing is written when anything fails.
	Apply(ctx context.Context, c Changes, inTx func(ctx context.Context) error) (int64, error)

	// PutGroup creates or replaces a group and its members.
	PutGroup(ctx context.Context, g Group) error
	// Groups lists all hospital groups.
	Groups(ctx context.Context) ([]Group, error)
}

// Accounts is what the org chart needs from identity: a person's id is their
// account's user id. The org chart calls these inside its own write
// transaction, with a ctx carrying it (sqldb.Tx.Context); an implementation
// on the same database joins it through db.InTx, so the account change
// commits or rolls back with the directory change.
type Accounts interface {
	// CreateAccount creates a login account with the given user id.
	CreateAccount(ctx context.Context, orgID, userID, login, displayName string) error
	// DisableAccount disables the account and revokes all its sessions and
	// tokens at once.
	DisableAccount(ctx context.Context, userID string) error
	// EnableAccount re-enables a disabled account.
	EnableAccount(ctx context.Context, userID string) error
}

// Authorizer decides whether an actor may act on an object in an
// organisation. It returns EForbidden (or another *core.Error) when not.
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Objects and actions the org chart asks the Authorizer about.
const (
	ObjDepartment = "orgchart.department"
	ObjStaff      = "orgchart.staff"
	ObjOrg        = "orgchart.org"
	ObjDirectory  = "orgchart.directory"
	ActRead       = "read"
	ActWrite      = "write"
)

// Recorder is the audit log (core/audit).
type Recorder = audit.Recorder
