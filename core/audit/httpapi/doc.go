// Package audithttp serves the audit log over HTTP: one organisation's
// entries (filtered, paginated, newest first), a streamed CSV or JSON-lines
// export, and verification of the hash chain. It decodes, calls audit.Log
// and encodes; the log decides who may read ("audit.log" read/export in the
// organisation; verify and organisation "*" — the whole installation — for
// system admins).
package audithttp
