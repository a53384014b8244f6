// Package durability proves that Rounds keeps what it acknowledged when the
// server process is killed with SIGKILL, on SQLite and on PostgreSQL.
//
// The test builds the real server binary, runs it on a fresh data directory
// (and, when ROUNDS_TEST_POSTGRES is set, a fresh PostgreSQL database), sends
// chat messages at about 1,000 a second with client message ids while
// subscribers hold WebSockets, kills the server at random moments, restarts
// it, lets clients reconnect with ?since= and retry unacknowledged sends with
// the same ids, and after the last cycle checks: every acknowledged message
// is stored exactly once, each conversation's seq has no gap, and every
// subscriber's stream is gapless and free of duplicates.
//
// It owns no production code and knows the server only through its binary,
// its environment variables and its public API. It is skipped unless
// ROUNDS_TEST_DURABILITY=1 (see .ci/durability); ROUNDS_DURABILITY_CYCLES
// sets the number of kills (default 20).
package durability
