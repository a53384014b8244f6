// Package imws is the WebSocket endpoint of the messaging core and the
// node's hub: it authenticates the upgrade, replays a reconnecting client's
// missed events from the durable log, then delivers live events in position
// order, and carries client operations (send, edit, recall, react, read,
// typing) to the im service.
//
// It owns connections, queues, heartbeats and the in-memory map of which
// local connections follow which conversation. It refuses to know the
// messaging rules (the service decides) or how events are stored (it reads
// the log through the service's store).
//
// One Tailer per node reads the event log in position order, woken by the
// bus notification im.events and by a poll as a safety net, so delivery is
// ordered and nothing a lost notification would have announced is lost.
// Each event is encoded once (a gorilla PreparedMessage) and the same frame
// is queued to every receiving connection. A connection whose bounded queue
// is full is closed with close code 4008 ("slow consumer") rather than
// slowing anyone else.
//
// Lock order: shard.mu before conn.mu; nothing holds conn.mu while taking a
// shard lock.
package imws
