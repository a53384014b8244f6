// Package inproc is the event bus of a single Rounds node: subscribers in the
// same process, no network. It owns per-subscription queues and their
// goroutines; it refuses to know about other nodes (use core/bus/nats for
// several) and about what the events mean.
//
// Each subscription has a bounded queue (DefaultQueueSize events unless
// WithQueueSize says otherwise) drained by its own goroutine. Publish never
// waits for a handler: when a subscription's queue is full the event is
// dropped for that subscription only, the drop is counted (Bus.Dropped) and
// the first drop of each subscription is logged. That is the at-most-once
// promise of core/bus: the database stays the record, and a subscriber that
// fell behind catches up from it.
package inproc
