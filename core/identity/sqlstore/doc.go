// Package sqlstore implements identity.Store on the Rounds SQL database
// (SQLite or PostgreSQL through core/sqldb). It owns the identity_* tables
// and their migrations (area "identity"); it knows nothing of passwords or
// tokens beyond the hashes it is handed.
package sqlstore
