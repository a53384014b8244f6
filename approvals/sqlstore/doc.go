// Package sqlstore keeps approvals in the Rounds SQL database (SQLite or
// PostgreSQL) with portable SQL. It owns the approvals tables and their
// migrations (area "approvals"); it knows nothing of flows or permissions.
// The timeline table is append-only: this package never updates or deletes
// its rows.
package sqlstore
