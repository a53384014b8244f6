// Package authz decides who may do what, in which organisation, with casbin
// (RBAC with domains: a domain is an organisation). The model and the
// built-in policy are embedded (model.conf, builtin-policy.csv); custom roles
// and role assignments live in the database (migrations area "authz",
// Migrations) through Adapter, a casbin persist.Adapter over core/sqldb.
// Deny overrides allow.
//
// Services call Authorize at the place where the action happens, so the HTTP
// API, the WebSocket, plugins and jobs meet the same rules. Finer checks that
// depend on data (is this person a member of the conversation, an assignee of
// the approval, the head of a department above this one) stay in the area's
// service; the role decides whether such a check is even considered.
//
// # Built-in roles
//
// Objects are "<area>.<thing>", actions are verbs; "im.*" is every object of
// the im area and "*" every object or action.
//
//	role          domain held in   allows
//	system_admin  "*" (every org)  everything, in every organisation
//	org_admin     one org          everything in that org: audit.log read/export,
//	                               identity.user write, authz.role write,
//	                               orgchart.* write, marketplace.app install …
//	dept_head     one org          all of staff, plus approvals.request read_subtree,
//	                               roster.roster write, attendance.record read_subtree,
//	                               orgchart.directory read
//	staff         one org          orgchart.* read, im.* use, approvals.* use,
//	                               roster.roster read, attendance.record write_own,
//	                               apps.app open
//	guest         one org          im.* use, orgchart.directory read_limited
//
// # Custom roles
//
// An organisation's admins may define roles of their own (CreateRole): a
// name that is not a built-in one, optionally a built-in role to inherit
// (not system_admin), and allow or deny rules naming objects and actions of
// the Catalogue. Rules apply in that organisation only. Nobody creates,
// assigns or revokes a role that allows more than they may do themselves.
// A deny rule wins over every allow the user holds in that organisation.
//
// # What it refuses to know
//
// Which department a dept_head heads, who is in a conversation, which app an
// admin granted what: areas check such scopes. Sign-in is identity's.
//
// # Cluster
//
// Every node keeps the policy in memory. The Enforcer publishes nothing: the
// composition root publishes "authz.changed" on the bus from
// Options.OnChange (called after every committed change, outside the lock)
// and calls Reload on every node when that event arrives. Changes are
// audited through the audit.Recorder given in Options (inside the change's
// transaction when it is an audit.TxRecorder).
//
// # Speed
//
// Decisions are made on a small casbin enforcer per organisation (built-in
// policy, that organisation's rules and assignments, system-wide
// assignments) and remembered until the next change: a repeated check costs
// well under a microsecond, a first check after a change some tens of
// microseconds (BenchmarkAuthorize, BenchmarkDecideUncached).
//
// # HTTP
//
// core/authz/httpapi (package authzhttp) serves roles and assignments; the
// Enforcer's methods do the authorization ("authz.role" read and write).
//
// Lock order: Enforcer.mu, then the database transaction (and, inside it,
// the audit log's head row).
package authz
