// Package sqlstore keeps the messaging store (im.Store) in the Rounds SQL
// database, SQLite or PostgreSQL, with the same portable SQL: conversations,
// members with their read positions, messages, reactions, urgent-message
// acknowledgements, file records, and the durable event log with its
// installation-wide position counter (im_stream).
//
// It owns the schema (migrations area "im") and the SQL; it refuses to know
// the messaging rules, which are the im service's.
package sqlstore
