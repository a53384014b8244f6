package authz

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// Built-in roles. A user holds roles per organisation; system_admin is held
// in the "*" domain and applies everywhere.
const (
	RoleSystemAdmin = "system_admin" // installs, all organisations
	RoleOrgAdmin    = "org_admin"    // one hospital's IT admin
	RoleDeptHead    = "dept_head"    // a department head, over their department subtree (scope checked by the area)
	RoleStaff       = "staff"        // every current member of staff
	RoleGuest       = "guest"        // external guest: sees only what they are invited to
)

// AllOrgs is the domain of system-wide roles and checks. Authorize(ctx, a,
// AllOrgs, …) succeeds only for system admins, so other areas use it for
// cross-organisation reads (the whole audit log, chain verification).
const AllOrgs = "*"

// BuiltinRoles lists the built-in roles, strongest first.
var BuiltinRoles = []string{RoleSystemAdmin, RoleOrgAdmin, RoleDeptHead, RoleStaff, RoleGuest}

// IsBuiltin reports whether name is a built-in role.
func IsBuiltin(name string) bool {
	for _, r := range BuiltinRoles {
		if r == name {
			return true
		}
	}
	return false
}

// Objects are named "<area>.<thing>" (orgchart.department, im.conversation,
// approvals.request, audit.log …) and actions are verbs: read, write, admin,
// export … The built-in policy grants by these names.

// Effects of a rule.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Rule is one line of a custom role: Effect ("allow" or "deny") Action on
// Object. Object may be "<area>.*" for every object of an area and Action may
// be "*" for every action.
type Rule struct {
	Object string `json:"object"`
	Action string `json:"action"`
	Effect string `json:"effect"`
}

// RoleDef describes a custom role to create in an organisation.
type RoleDef struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Inherits names a built-in role (not system_admin) whose grants the
	// custom role starts from; empty for none.
	Inherits string `json:"inherits,omitempty"`
	Rules    []Rule `json:"rules"`
}

// Role is a role as listed for an organisation: the built-in ones and the
// organisation's custom roles.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Builtin     bool   `json:"builtin"`
	Inherits    string `json:"inherits,omitempty"`
	Rules       []Rule `json:"rules,omitempty"`
}

// Object is one entry of the catalogue: the objects and actions that policy
// may name. Areas that add objects extend the catalogue through
// Options.Objects.
type Object struct {
	Name    string
	Actions []string
}

// Catalogue is the list of objects and actions Rounds knows. A custom role
// may only name these (or "<area>.*" of a known area, or action "*").
var Catalogue = []Object{
	{"audit.log", []string{"read", "export", "verify"}},
	{"identity.user", []string{"read", "write"}},
	{"identity.bot", []string{"read", "write"}},
	{"authz.role", []string{"read", "write"}},
	{"orgchart.org", []string{"read", "write"}},
	{"orgchart.department", []string{"read", "write"}},
	{"orgchart.staff", []string{"read", "write"}},
	{"orgchart.directory", []string{"read", "read_limited", "write"}},
	{"im.conversation", []string{"use", "read", "write", "admin"}},
	{"im.message", []string{"use", "read", "write", "export"}},
	{"im.department_group", []string{"read", "admin"}},
	{"approvals.request", []string{"use", "read", "read_subtree", "write", "admin", "export"}},
	{"approvals.template", []string{"use", "read", "write", "admin"}},
	{"approvals.flow", []string{"use", "read", "write", "admin"}},
	{"roster.roster", []string{"read", "write"}},
	{"roster.settings", []string{"read", "write"}},
	{"attendance.record", []string{"read", "read_subtree", "write_own", "write"}},
	{"attendance.settings", []string{"read", "write"}},
	{"apps.app", []string{"open", "read"}},
	{"marketplace.app", []string{"read", "install"}},
}

// catalogue indexes the objects a policy may name.
type catalogue struct {
	objects map[string]map[string]bool // object -> action set
	areas   map[string]map[string]bool // area -> union of its objects' actions
	pairs   [][2]string                // every (object, action), sorted
}

func newCatalogue(objs []Object) catalogue {
	c := catalogue{objects: map[string]map[string]bool{}, areas: map[string]map[string]bool{}}
	for _, o := range objs {
		if c.objects[o.Name] == nil {
			c.objects[o.Name] = map[string]bool{}
		}
		area, _, _ := strings.Cut(o.Name, ".")
		if c.areas[area] == nil {
			c.areas[area] = map[string]bool{}
		}
		for _, a := range o.Actions {
			if !c.objects[o.Name][a] {
				c.pairs = append(c.pairs, [2]string{o.Name, a})
			}
			c.objects[o.Name][a] = true
			c.areas[area][a] = true
		}
	}
	sort.Slice(c.pairs, func(i, j int) bool {
		if c.pairs[i][0] != c.pairs[j][0] {
			return c.pairs[i][0] < c.pairs[j][0]
		}
		return c.pairs[i][1] < c.pairs[j][1]
	})
	return c
}

// knows reports whether object and action may appear in a rule.
func (c catalogue) knows(object, action string) (objOK, actOK bool) {
	if area, ok := strings.CutSuffix(object, ".*"); ok {
		acts, known := c.areas[area]
		return known, known && (action == "*" || acts[action])
	}
	acts, known := c.objects[object]
	return known, known && (action == "*" || acts[action])
}

// Area is the migrations area of the stored policy.
const Area = "authz"

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the goose migrations of the stored policy, for
// sqldb.DB.Migrate(ctx, Area, Migrations).
var Migrations = func() fs.FS {
	s, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err)
	}
	return s
}()
