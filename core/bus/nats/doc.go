// Package natsbus is the event bus over core NATS, for Rounds installs with
// several nodes. It owns the NATS connection, its reconnection and the
// mapping of bus subjects to NATS subjects (one to one, under an optional
// prefix). It refuses JetStream and any persistence: events are at most once,
// as core/bus promises, and the database stays the record.
//
// The connection is retried forever, from the first attempt on, so a node
// starts even while NATS is down; Ping (for /readyz), Publish and a failed
// subscription report core.EUnavailable until it is back. Subscriptions made
// while disconnected are sent to the server when the connection comes back.
//
// Every subscription has a bounded queue (DefaultQueueSize) drained by its own
// goroutine, shared in behaviour with core/bus/inproc: when it is full NATS
// drops the event for that subscription, counts it (Bus.Dropped) and the
// first drop is logged.
package natsbus
