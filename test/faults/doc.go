// Package faults proves how Rounds behaves when one of the parts it depends
// on fails while it runs, and that it recovers by itself when the part comes
// back — without restarting any node.
//
// The test builds the real server binary and runs two nodes on loopback
// against a PostgreSQL, a NATS and a MinIO server of its own (started in
// temp directories on free ports, never the machine's shared services), so
// it can stop and start each of them at will:
//
//   - PostgreSQL stopped: sends and approval actions answer 503 with code
//     unavailable within seconds (no hang, no 500) and /readyz is 503 naming
//     the database; PostgreSQL started again: the nodes recover on their own
//     and every acknowledged message is stored exactly once.
//   - NATS stopped: /readyz names the bus, the nodes keep answering and chat
//     still reaches the other node through the durable log; NATS started
//     again: events that travel only on the bus (typing) flow between the
//     nodes again.
//   - MinIO stopped: an upload answers 503 unavailable, /readyz names the
//     files check, chat text keeps working; MinIO started again: uploads
//     work and earlier files are there.
//
// It owns no production code and knows the server only through its binary,
// its environment variables and its public API. It is skipped unless
// ROUNDS_TEST_FAULTS=1 (see .ci/faults); it needs PostgreSQL's initdb and
// pg_ctl (/usr/lib/postgresql/*/bin), nats-server and the MinIO server
// binary (as core/files/minio/miniotest finds it).
package faults
