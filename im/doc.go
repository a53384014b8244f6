// Package im is the messaging core of Rounds: conversations (direct, group and
// department groups), messages with a gapless per-conversation sequence,
// idempotent sends, edits, recalls, reactions, read receipts, and the durable
// per-user event stream that WebSocket clients resume from.
//
// im owns the rules — who may read, send, edit, recall, manage members — and
// the shape of the events. It refuses to know how events travel (im/ws and the
// bus do that), how rows are stored (im/sqlstore), how HTTP looks
// (im/httpapi), and who works in which department (it asks a Directory, which
// the org chart implements; it never imports orgchart).
//
// Delivery model: every change a member may need to see is written to the
// event log in the same transaction as the change, under a position that is
// strictly increasing in commit order across the installation. After commit
// the service publishes a tiny "go and look" notification on the bus subject
// im.events; each node's Tailer reads the log in position order and hands each
// event, encoded once, to the hub. A client that reconnects with its last
// position replays the log from there. Positions in one user's stream are
// increasing but not contiguous: other users' events take the numbers between.
package im
