// Package core holds what every area of Rounds shares and nothing else: the one
// error type with its stable codes, the acting person (Actor) carried in a
// context, identifiers, the clock, and pagination cursors.
//
// core knows nothing about departments, chats or approvals. Its subpackages
// hold the cross-cutting services (configuration, the SQL database, the event
// bus, the file store, search, identity, authorization, audit and the HTTP kit)
// and, below them, adapters named after what they depend on (bus/nats,
// files/minio, search/bleve …).
package core
