package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"strconv"
	"sync/atomic"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

// Area is the migrations area of the log.
const Area = "audit"

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the log's goose migrations, for sqldb.DB.Migrate(ctx, Area,
// Migrations).
var Migrations = mustSub(migrationsFS, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// Options configure a Log.
type Options struct {
	// Clock stamps entries; core.SystemClock when nil.
	Clock core.Clock
	// Authorizer decides who may read, export and verify. It may be set
	// later with SetAuthorizer (authz needs the log as its Recorder, so one
	// of the two is wired after the other). Without one every read is
	// refused.
	Authorizer Authorizer
}

// Log is the audit log over the Rounds database. It implements Recorder and
// TxRecorder and is safe for concurrent use, also from several nodes.
type Log struct {
	db    *sqldb.DB
	clock core.Clock
	az    atomic.Pointer[Authorizer]
}

var _ TxRecorder = (*Log)(nil)

// New returns the log. The "audit" migrations must have been applied.
func New(db *sqldb.DB, opts Options) *Log {
	l := &Log{db: db, clock: opts.Clock}
	if l.clock == nil {
		l.clock = core.SystemClock{}
	}
	if opts.Authorizer != nil {
		l.SetAuthorizer(opts.Authorizer)
	}
	return l
}

// SetAuthorizer sets who decides on reads; call it while wiring, before
// serving.
func (l *Log) SetAuthorizer(a Authorizer) { l.az.Store(&a) }

func (l *Log) authorize(ctx context.Context, a core.Actor, orgID, action string) error {
	if orgID == "" {
		orgID = "*"
	}
	p := l.az.Load()
	if p == nil {
		return core.Errorf(core.EForbidden, "the audit log cannot be read: no authorizer is configured")
	}
	return (*p).Authorize(ctx, a, orgID, "audit.log", action)
}

// Record appends e in its own transaction. It fills ID, Seq, At and the
// hashes; e.Result defaults to ok. EInvalid when Action is empty or Result
// unknown.
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.db.InTx(ctx, func(tx *sqldb.Tx) error { return l.RecordTx(ctx, tx, e) })
}

// RecordTx appends e inside tx, so that it commits (or not) with the
// caller's change. The head row stays locked until tx ends.
func (l *Log) RecordTx(ctx context.Context, tx *sqldb.Tx, e Entry) error {
	if e.Action == "" || len(e.Action) > 200 {
		return core.Invalid("action", "an audit entry needs an action of at most 200 characters")
	}
	switch e.Result {
	case "":
		e.Result = ResultOK
	case ResultOK, ResultDenied, ResultFailed:
	default:
		return core.Invalid("result", "result must be ok, denied or failed, not %q", e.Result)
	}
	details := ""
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details) // map keys come out sorted: one encoding per content
		if err != nil {
			return core.Invalid("details", "details cannot be encoded: %v", err)
		}
		details = string(b)
	}
	lock := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.Dialect() == sqldb.Postgres {
		lock += ` FOR UPDATE`
	}
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, lock).Scan(&seq, &prev); err != nil {
		return core.Wrap(err, "could not read the audit chain head")
	}
	e.Seq = seq + 1
	e.ID = core.NewID()
	e.At = sqldb.FromMillis(sqldb.Millis(l.clock.Now()))
	e.PrevHash = prev
	e.Hash = chainHash(&e, details)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_entries
		(seq, id, at, org_id, actor_id, actor_kind, app_id, ip, action, object_type, object_id, result, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, sqldb.Millis(e.At), e.OrgID, e.ActorID, e.ActorKind, e.AppID, e.IP, e.Action,
		e.ObjectType, e.ObjectID, e.Result, details, e.PrevHash, e.Hash); err != nil {
		return core.Wrap(err, "could not append to the audit log")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, e.Seq, e.Hash); err != nil {
		return core.Wrap(err, "could not advance the audit chain head")
	}
	return nil
}

// chainHash is SHA-256 over a versioned, length-prefixed encoding of every
// stored field of the entry and the previous hash. Length prefixes make the
// encoding unambiguous: no two different entries encode alike. details is the
// stored JSON text, hashed as stored so verification never re-encodes.
func chainHash(e *Entry, details string) string {
	h := sha256.New()
	h.Write([]byte("rounds-audit-v1\n"))
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), e.ID, strconv.FormatInt(sqldb.Millis(e.At), 10),
		e.OrgID, e.ActorID, e.ActorKind, e.AppID, e.IP, e.Action, e.ObjectType, e.ObjectID,
		e.Result, details, e.PrevHash,
	} {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, s string) {
	h.Write([]byte(strconv.Itoa(len(s))))
	h.Write([]byte{':'})
	h.Write([]byte(s))
	h.Write([]byte{';'})
}

const entryColumns = `seq, id, at, org_id, actor_id, actor_kind, app_id, ip, action, object_type, object_id, result, details, prev_hash, hash`

// scanEntry reads a row of entryColumns; details is returned as stored.
func scanEntry(rows *sql.Rows) (Entry, string, error) {
	var e Entry
	var at int64
	var details string
	err := rows.Scan(&e.Seq, &e.ID, &at, &e.OrgID, &e.ActorID, &e.ActorKind, &e.AppID, &e.IP, &e.Action,
		&e.ObjectType, &e.ObjectID, &e.Result, &details, &e.PrevHash, &e.Hash)
	if err != nil {
		return e, "", err
	}
	e.At = sqldb.FromMillis(at)
	if details != "" {
		// A row whose details no longer parse is still returned (and Verify
		// reports it): the log shows what is there.
		_ = json.Unmarshal([]byte(details), &e.Details)
	}
	return e, details, nil
}

// Head returns the seq and hash of the last entry, to be kept elsewhere
// (printed, sent to another system) as an anchor for later verification.
func (l *Log) Head(ctx context.Context) (seq int64, hash string, err error) {
	err = l.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if err != nil {
		return 0, "", core.Wrap(err, "could not read the audit chain head")
	}
	return seq, hash, nil
}

// Verify walks the whole chain and reports the first sequence number where
// it does not hold: an entry whose content no longer matches its hash, a
// missing entry (a gap, or entries gone from the end), an entry whose
// PrevHash is not its predecessor's hash, or entries beyond the recorded
// head. It does not authorize; VerifyAs does.
func (l *Log) Verify(ctx context.Context) (VerifyReport, error) {
	headSeq, headHash, err := l.Head(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	rep := VerifyReport{LastSeq: headSeq}
	broken := func(seq int64, problem string) (VerifyReport, error) {
		rep.OK, rep.BrokenSeq, rep.Problem = false, seq, problem
		return rep, nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM audit_entries WHERE seq <= ? ORDER BY seq`, headSeq)
	if err != nil {
		return rep, core.Wrap(err, "could not read the audit log")
	}
	defer rows.Close()
	want, prev := int64(1), ""
	for rows.Next() {
		e, details, err := scanEntry(rows)
		if err != nil {
			return rep, core.Wrap(err, "could not read the audit log")
		}
		switch {
		case e.Seq != want:
			return broken(want, fmt.Sprintf("entry %d is missing (the next entry is %d)", want, e.Seq))
		case e.PrevHash != prev:
			return broken(e.Seq, "the entry does not follow its predecessor (prev_hash differs)")
		case chainHash(&e, details) != e.Hash:
			return broken(e.Seq, "the entry was changed after it was written (hash differs)")
		}
		rep.Checked++
		prev = e.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return rep, core.Wrap(err, "could not read the audit log")
	}
	rows.Close()
	if want-1 != headSeq {
		return broken(want, fmt.Sprintf("entries %d to %d are missing", want, headSeq))
	}
	if prev != headHash {
		return broken(headSeq, "the last entry does not match the recorded chain head")
	}
	// Rows and head commit together, so a row beyond a head read after it
	// was put there by hand.
	var maxSeq sql.NullInt64
	if err := l.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_entries`).Scan(&maxSeq); err != nil {
		return rep, core.Wrap(err, "could not read the audit log")
	}
	now, _, err := l.Head(ctx)
	if err != nil {
		return rep, err
	}
	if maxSeq.Valid && maxSeq.Int64 > now {
		return broken(now+1, "entries exist beyond the recorded chain head")
	}
	rep.OK = true
	return rep, nil
}

// VerifyAs is Verify for a person: only system admins may verify.
func (l *Log) VerifyAs(ctx context.Context, a core.Actor) (VerifyReport, error) {
	if err := l.authorize(ctx, a, "*", "verify"); err != nil {
		return VerifyReport{}, err
	}
	return l.Verify(ctx)
}
