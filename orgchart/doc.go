// Package orgchart owns the hospital's org chart and directory: organisations
// (each hospital is one, and one casbin domain), hospital groups (医联体 /
// 医共体) and what each member shares with the others, the department tree,
// staff and their departments, the heads of departments and the holders of
// duty roles (院长, 护理部主任 …).
//
// It answers the questions other areas ask about people — who is in this
// department, who is this person's manager N levels up, who holds a role, may
// this searcher see that person — from an in-memory snapshot of each
// organisation, kept in step on every write and refreshed on other nodes when
// the change event arrives on the bus. The database is the record; the
// snapshot is a cache that is rebuilt from it.
//
// It refuses to know about login sessions, passwords, chat groups or
// approvals: staff accounts are created and disabled through the Accounts
// interface, permissions are asked of an Authorizer, and other areas learn
// about joiners, movers and leavers from the events published on the bus
// (subjects in events.go).
//
// Staff login: a person's id is the user id of their login account, and the
// login name is the organisation code, a dot and the lower-cased employee
// number ("jcyy.10023"), unique system-wide because organisation codes are.
package orgchart
