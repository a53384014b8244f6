// Package authz decides who may do what, in which organisation, with casbin
// (RBAC with domains: a domain is an organisation). The model and the
// built-in policy are embedded; custom roles and role assignments live in the
// database. Deny overrides allow.
//
// Services call Authorize at the place where the action happens, so the HTTP
// API, the WebSocket, plugins and jobs meet the same rules. Finer checks that
// depend on data (is this person a member of the conversation, an assignee of
// the approval, the head of a department above this one) stay in the area's
// service; the role decides whether such a check is even considered.
package authz

// Built-in roles. A user holds roles per organisation; system_admin is held
// in the "*" domain and applies everywhere.
const (
	RoleSystemAdmin = "system_admin" // installs, all organisations
	RoleOrgAdmin    = "org_admin"    // one hospital's IT admin
	RoleDeptHead    = "dept_head"    // a department head, over their department subtree (scope checked by the area)
	RoleStaff       = "staff"        // every current member of staff
	RoleGuest       = "guest"        // external guest: sees only what they are invited to
)

// Objects are named "<area>.<thing>" (orgchart.department, im.conversation,
// approvals.request, audit.log …) and actions are verbs: read, write, admin,
// export … The built-in policy grants by these names.
