package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/core/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Area is the migration area name of the identity tables.
const Area = "identity"

// Migrations returns the embedded goose migrations, for
// db.Migrate(ctx, sqlstore.Area, sqlstore.Migrations()).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// Store is identity.Store on a sqldb.DB.
type Store struct {
	db *sqldb.DB
}

var _ identity.Store = (*Store)(nil)

// New returns a store on db. The caller has run the migrations.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

const userCols = `u.id, u.org_id, u.login, u.display_name, u.kind, u.status, u.created_at, u.password_changed_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner, extra ...any) (identity.User, error) {
	var u identity.User
	var kind, status string
	var created, changed int64
	dest := append([]any{&u.ID, &u.OrgID, &u.Login, &u.DisplayName, &kind, &status, &created, &changed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return u, err
	}
	u.Kind, u.Status = identity.Kind(kind), identity.Status(status)
	u.CreatedAt, u.PasswordChangedAt = sqldb.FromMillis(created), sqldb.FromMillis(changed)
	return u, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.Errorf(core.ENotFound, "no such %s", what)
	}
	return core.Wrap(err, "identity: read %s", what)
}

func loginKey(login string) string { return strings.ToLower(login) }

func (s *Store) insertUser(ctx context.Context, q sqldb.Querier, u identity.User, hash string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO identity_users
		(id, org_id, login, login_key, display_name, kind, status, password_hash, created_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.OrgID, u.Login, loginKey(u.Login), u.DisplayName, string(u.Kind), string(u.Status), hash,
		sqldb.Millis(u.CreatedAt), sqldb.Millis(u.PasswordChangedAt))
	if sqldb.IsUniqueViolation(err) {
		return &core.Error{Code: core.EConflict, Field: "login", Message: "this login is already taken", Err: err}
	}
	return core.Wrap(err, "identity: create user")
}

// CreateUser implements identity.Store.
func (s *Store) CreateUser(ctx context.Context, u identity.User, passwordHash string) error {
	return s.insertUser(ctx, s.db, u, passwordHash)
}

// CreateBot implements identity.Store.
func (s *Store) CreateBot(ctx context.Context, u identity.User, t identity.Token, tokenHash string) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := s.insertUser(ctx, tx, u, ""); err != nil {
			return err
		}
		return s.insertToken(ctx, tx, t, tokenHash)
	})
}

// GetUser implements identity.Store.
func (s *Store) GetUser(ctx context.Context, id string) (identity.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM identity_users u WHERE u.id = ?`, id))
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// UserByLogin implements identity.Store.
func (s *Store) UserByLogin(ctx context.Context, login string) (identity.User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+`, u.password_hash FROM identity_users u WHERE u.login_key = ?`, loginKey(login)), &hash)
	if err != nil {
		return u, "", notFound(err, "user")
	}
	return u, hash, nil
}

// ListUsers implements identity.Store.
func (s *Store) ListUsers(ctx context.Context, orgID, after string, limit int) ([]identity.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM identity_users u
		WHERE u.org_id = ? AND u.login_key > ? ORDER BY u.login_key LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, core.Wrap(err, "identity: list users")
	}
	defer rows.Close()
	out := []identity.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, core.Wrap(err, "identity: list users")
		}
		out = append(out, u)
	}
	return out, core.Wrap(rows.Err(), "identity: list users")
}

func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return core.Wrap(err, "identity: update %s", what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return core.Wrap(err, "identity: update %s", what)
	}
	if n == 0 {
		return core.Errorf(core.ENotFound, "no such %s", what)
	}
	return nil
}

// SetPassword implements identity.Store.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, at time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE identity_users SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, sqldb.Millis(at), userID)
		if err := mustAffect(res, err, "user"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, sqldb.Millis(at), userID)
		return core.Wrap(err, "identity: revoke sessions")
	})
}

// RehashPassword implements identity.Store.
func (s *Store) RehashPassword(ctx context.Context, userID, hash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_users SET password_hash = ? WHERE id = ?`, hash, userID)
	return mustAffect(res, err, "user")
}

// SetStatus implements identity.Store.
func (s *Store) SetStatus(ctx context.Context, userID string, status identity.Status, at time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE identity_users SET status = ? WHERE id = ?`, string(status), userID)
		if err := mustAffect(res, err, "user"); err != nil {
			return err
		}
		if status != identity.StatusDisabled {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, sqldb.Millis(at), userID); err != nil {
			return core.Wrap(err, "identity: revoke sessions")
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, sqldb.Millis(at), userID)
		return core.Wrap(err, "identity: revoke tokens")
	})
}

func (s *Store) SetDisplayName(ctx context.Context, userID, name string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_users SET display_name = ? WHERE id = ?`, name, userID)
	return mustAffect(res, err, "user")
}

// ---- sessions ----

const sessionCols = `s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.revoked_at`

func scanSession(row scanner, extra ...any) (identity.Session, error) {
	var x identity.Session
	var created, seen, expires, revoked int64
	dest := append([]any{&x.ID, &x.UserID, &created, &seen, &expires, &x.IP, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return x, err
	}
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.RevokedAt = sqldb.FromMillis(created), sqldb.FromMillis(seen), sqldb.FromMillis(expires), sqldb.FromMillis(revoked)
	return x, nil
}

// CreateSession implements identity.Store.
func (s *Store) CreateSession(ctx context.Context, x identity.Session, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identity_sessions
		(id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.UserID, tokenHash, sqldb.Millis(x.CreatedAt), sqldb.Millis(x.LastSeenAt), sqldb.Millis(x.ExpiresAt), x.IP, sqldb.Millis(x.RevokedAt))
	if sqldb.IsForeignKeyViolation(err) {
		return core.Errorf(core.ENotFound, "no such user")
	}
	return core.Wrap(err, "identity: create session")
}

// SessionByHash implements identity.Store.
func (s *Store) SessionByHash(ctx context.Context, tokenHash string) (identity.Session, identity.User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+sessionCols+`, `+userCols+`
		FROM identity_sessions s JOIN identity_users u ON u.id = s.user_id WHERE s.token_hash = ?`, tokenHash)
	var u identity.User
	var kind, status string
	var created, changed int64
	x, err := scanSession(row, &u.ID, &u.OrgID, &u.Login, &u.DisplayName, &kind, &status, &created, &changed)
	if err != nil {
		return x, u, notFound(err, "session")
	}
	u.Kind, u.Status = identity.Kind(kind), identity.Status(status)
	u.CreatedAt, u.PasswordChangedAt = sqldb.FromMillis(created), sqldb.FromMillis(changed)
	return x, u, nil
}

// TouchSession implements identity.Store. It never moves last-seen back.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE identity_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, sqldb.Millis(at), id, sqldb.Millis(at))
	return core.Wrap(err, "identity: touch session")
}

// ListSessions implements identity.Store.
func (s *Store) ListSessions(ctx context.Context, userID string, expiresAfter time.Time) ([]identity.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM identity_sessions s
		WHERE s.user_id = ? AND s.revoked_at = 0 AND s.expires_at > ? ORDER BY s.created_at DESC, s.id DESC`, userID, sqldb.Millis(expiresAfter))
	if err != nil {
		return nil, core.Wrap(err, "identity: list sessions")
	}
	defer rows.Close()
	out := []identity.Session{}
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, core.Wrap(err, "identity: list sessions")
		}
		out = append(out, x)
	}
	return out, core.Wrap(rows.Err(), "identity: list sessions")
}

// RevokeSession implements identity.Store.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = 0`,
		sqldb.Millis(at), sessionID, userID)
	return mustAffect(res, err, "session")
}

// RevokeSessions implements identity.Store.
func (s *Store) RevokeSessions(ctx context.Context, userID string, at time.Time) ([]string, error) {
	ids := []string{}
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		ids = ids[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id FROM identity_sessions WHERE user_id = ? AND revoked_at = 0`, userID)
		if err != nil {
			return core.Wrap(err, "identity: revoke sessions")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return core.Wrap(err, "identity: revoke sessions")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return core.Wrap(err, "identity: revoke sessions")
		}
		_, err = tx.ExecContext(ctx, `UPDATE identity_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, sqldb.Millis(at), userID)
		return core.Wrap(err, "identity: revoke sessions")
	})
	return ids, err
}

// ---- tokens ----

const tokenCols = `t.id, t.user_id, t.kind, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at`

func scanToken(row scanner, extra ...any) (identity.Token, error) {
	var t identity.Token
	var kind string
	var created, expires, used, revoked int64
	dest := append([]any{&t.ID, &t.UserID, &kind, &t.Name, &created, &expires, &used, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return t, err
	}
	t.Kind = identity.TokenKind(kind)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = sqldb.FromMillis(created), sqldb.FromMillis(expires), sqldb.FromMillis(used), sqldb.FromMillis(revoked)
	return t, nil
}

func (s *Store) insertToken(ctx context.Context, q sqldb.Querier, t identity.Token, tokenHash string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO identity_tokens
		(id, user_id, token_hash, kind, name, created_at, expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, tokenHash, string(t.Kind), t.Name, sqldb.Millis(t.CreatedAt), sqldb.Millis(t.ExpiresAt), sqldb.Millis(t.LastUsedAt), sqldb.Millis(t.RevokedAt))
	if sqldb.IsForeignKeyViolation(err) {
		return core.Errorf(core.ENotFound, "no such user")
	}
	return core.Wrap(err, "identity: create token")
}

// CreateToken implements identity.Store.
func (s *Store) CreateToken(ctx context.Context, t identity.Token, tokenHash string) error {
	return s.insertToken(ctx, s.db, t, tokenHash)
}

// TokenByHash implements identity.Store.
func (s *Store) TokenByHash(ctx context.Context, tokenHash string) (identity.Token, identity.User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenCols+`, `+userCols+`
		FROM identity_tokens t JOIN identity_users u ON u.id = t.user_id WHERE t.token_hash = ?`, tokenHash)
	var u identity.User
	var kind, status string
	var created, changed int64
	t, err := scanToken(row, &u.ID, &u.OrgID, &u.Login, &u.DisplayName, &kind, &status, &created, &changed)
	if err != nil {
		return t, u, notFound(err, "token")
	}
	u.Kind, u.Status = identity.Kind(kind), identity.Status(status)
	u.CreatedAt, u.PasswordChangedAt = sqldb.FromMillis(created), sqldb.FromMillis(changed)
	return t, u, nil
}

// TouchToken implements identity.Store.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE identity_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`, sqldb.Millis(at), id, sqldb.Millis(at))
	return core.Wrap(err, "identity: touch token")
}

// ListTokens implements identity.Store.
func (s *Store) ListTokens(ctx context.Context, userID string) ([]identity.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM identity_tokens t
		WHERE t.user_id = ? AND t.revoked_at = 0 ORDER BY t.created_at DESC, t.id DESC`, userID)
	if err != nil {
		return nil, core.Wrap(err, "identity: list tokens")
	}
	defer rows.Close()
	out := []identity.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, core.Wrap(err, "identity: list tokens")
		}
		out = append(out, t)
	}
	return out, core.Wrap(rows.Err(), "identity: list tokens")
}

// RevokeToken implements identity.Store.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = 0`,
		sqldb.Millis(at), tokenID, userID)
	return mustAffect(res, err, "token")
}

// ReplaceBotTokens implements identity.Store.
func (s *Store) ReplaceBotTokens(ctx context.Context, userID string, t identity.Token, tokenHash string, at time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE identity_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, sqldb.Millis(at), userID); err != nil {
			return core.Wrap(err, "identity: revoke tokens")
		}
		return s.insertToken(ctx, tx, t, tokenHash)
	})
}

// ---- sign-in throttles ----

// Throttle implements identity.Store.
func (s *Store) Throttle(ctx context.Context, key string) (identity.Throttle, error) {
	var th identity.Throttle
	var start, locked int64
	err := s.db.QueryRowContext(ctx, `SELECT failures, window_start, locked_until FROM identity_login_throttle WHERE throttle_key = ?`, key).
		Scan(&th.Failures, &start, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Throttle{}, nil
	}
	if err != nil {
		return th, core.Wrap(err, "identity: read throttle")
	}
	th.WindowStart, th.LockedUntil = sqldb.FromMillis(start), sqldb.FromMillis(locked)
	return th, nil
}

// RecordFailure implements identity.Store. The upsert is one statement, so
// concurrent failures on several nodes are all counted; the row lock it takes
// on PostgreSQL (and SQLite's single writer) orders them.
func (s *Store) RecordFailure(ctx context.Context, key string, at time.Time, window time.Duration, max int, lockFor time.Duration) (identity.Throttle, error) {
	var th identity.Throttle
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		now, cutoff := sqldb.Millis(at), sqldb.Millis(at.Add(-window))
		var start, locked int64
		// A count starts afresh when its window has passed or a lock has
		// run out; a lock that has run out is cleared.
		err := tx.QueryRowContext(ctx, `INSERT INTO identity_login_throttle (throttle_key, failures, window_start, locked_until)
			VALUES (?, 1, ?, 0)
			ON CONFLICT (throttle_key) DO UPDATE SET
				failures = CASE WHEN identity_login_throttle.window_start <= ?
						OR (identity_login_throttle.locked_until > 0 AND identity_login_throttle.locked_until <= ?)
					THEN 1 ELSE identity_login_throttle.failures + 1 END,
				window_start = CASE WHEN identity_login_throttle.window_start <= ?
						OR (identity_login_throttle.locked_until > 0 AND identity_login_throttle.locked_until <= ?)
					THEN ? ELSE identity_login_throttle.window_start END,
				locked_until = CASE WHEN identity_login_throttle.locked_until <= ? THEN 0 ELSE identity_login_throttle.locked_until END
			RETURNING failures, window_start, locked_until`,
			key, now, cutoff, now, cutoff, now, now, now).Scan(&th.Failures, &start, &locked)
		if err != nil {
			return core.Wrap(err, "identity: record sign-in failure")
		}
		th.WindowStart, th.LockedUntil = sqldb.FromMillis(start), sqldb.FromMillis(locked)
		// While locked, failures are counted but do not extend the lock.
		if th.Failures < max || th.LockedUntil.After(at) {
			return nil
		}
		until := at.Add(lockFor)
		if _, err := tx.ExecContext(ctx, `UPDATE identity_login_throttle SET failures = 0, window_start = ?, locked_until = ? WHERE throttle_key = ?`,
			now, sqldb.Millis(until), key); err != nil {
			return core.Wrap(err, "identity: lock")
		}
		th = identity.Throttle{Failures: 0, WindowStart: sqldb.FromMillis(now), LockedUntil: sqldb.FromMillis(sqldb.Millis(until))}
		return nil
	})
	return th, err
}

// ClearThrottle implements identity.Store.
func (s *Store) ClearThrottle(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM identity_login_throttle WHERE throttle_key = ?`, key)
	return core.Wrap(err, "identity: clear throttle")
}

// Prune implements identity.Store.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	b := sqldb.Millis(before)
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identity_sessions WHERE expires_at < ? OR (revoked_at > 0 AND revoked_at < ?)`, b, b); err != nil {
			return core.Wrap(err, "identity: prune sessions")
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM identity_login_throttle WHERE window_start < ? AND locked_until < ?`, b, b)
		return core.Wrap(err, "identity: prune throttles")
	})
}
