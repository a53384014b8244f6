// Package sqldb opens the Rounds database — an SQLite file by default,
// PostgreSQL when a DSN is configured — and runs each area's embedded
// migrations through goose.
//
// Stores write portable SQL with '?' placeholders; DB rewrites them for
// PostgreSQL. Times are stored as BIGINT Unix milliseconds so both databases
// compare and index them the same way.
//
// On SQLite, writes go through a single connection (SQLite has one writer; a
// pool of writers only produces SQLITE_BUSY) while reads use a pool.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/roundshq/rounds/core"
)

// Dialect names the SQL database in use.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// PostgresDSN selects PostgreSQL when not empty.
	PostgresDSN string
	// SQLitePath is the SQLite file used when PostgresDSN is empty.
	SQLitePath string
	// Synchronous is SQLite's synchronous pragma: "full" (default; survives
	// power loss) or "normal" (survives a killed process, faster).
	Synchronous string
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
	// Tracer makes a span of each transaction that runs inside a traced
	// request (core/tracing). Nil: no spans.
	Tracer trace.TracerProvider
}

// DB is the Rounds database handle. It is safe for concurrent use.
type DB struct {
	Dialect Dialect
	w       *sql.DB // writes and transactions
	r       *sql.DB // reads outside transactions
	group   groupCommit
	tracer  trace.Tracer
}

// Open opens and pings the database. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	open := openSQLite
	if cfg.PostgresDSN != "" {
		open = openPostgres
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tp := cfg.Tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	db.tracer = tp.Tracer("github.com/roundshq/rounds/core/sqldb")
	return db, nil
}

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgx.ParseConfig(cfg.PostgresDSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := sql.OpenDB(outageConnector{stdlib.GetConnector(*pc)})
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	return &DB{Dialect: Postgres, w: db, r: db}, nil
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.SQLitePath == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.SQLitePath), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	sync := strings.ToUpper(cfg.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be full or normal, not %q", cfg.Synchronous)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous("+sync+")")
	// Group commit runs each transaction in a savepoint, and SQLite keeps a
	// savepoint's undo pages in a sub-journal: a temporary file unless
	// temporary storage is in memory. On disk it cost a write syscall per
	// changed page (17 % of the server's CPU under the approvals load).
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + cfg.SQLitePath + "?" + q.Encode()
	conn := stmtCacheConnector{dsn: dsn, drv: &sqlite.Driver{}}
	w := sql.OpenDB(conn)
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: cannot open %s: %w", cfg.SQLitePath, err)
	}
	r := sql.OpenDB(conn)
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxIdleTime(0)
	return &DB{Dialect: SQLite, w: w, r: r}, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		if e := db.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return mapErr(err)
	}
	var one int
	return mapErr(db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

// Stats returns the write pool's statistics for metrics.
func (db *DB) Stats() sql.DBStats { return db.w.Stats() }

// Pool returns the write pool, for metrics collectors and backups.
func (db *DB) Pool() *sql.DB { return db.w }

// Rebind rewrites '?' placeholders as $1, $2 … for PostgreSQL. A '?' inside
// a quoted string literal is left alone.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Querier is what DB and Tx have in common; store helpers take it so the same
// code runs inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ExecContext runs a write on the writer, or in the transaction ctx carries
// (see Tx.Context). On SQLite a write on its own joins the group commit like
// any transaction: run alone it would take the one writer connection from the
// group and pay a disk sync of its own.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if tx := db.ambient(ctx); tx != nil {
		return tx.ExecContext(ctx, q, args...)
	}
	if db.Dialect == SQLite {
		var res sql.Result
		err := db.inGroupTx(ctx, func(tx *Tx) error {
			var err error
			res, err = tx.ExecContext(ctx, q, args...)
			return err
		})
		return res, err
	}
	res, err := db.w.ExecContext(ctx, db.Rebind(q), args...)
	return res, mapErr(err)
}

// QueryContext runs a read on the reader pool, or in the transaction ctx
// carries.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if tx := db.ambient(ctx); tx != nil {
		return tx.QueryContext(ctx, q, args...)
	}
	rows, err := db.r.QueryContext(ctx, db.Rebind(q), args...)
	return rows, mapErr(err)
}

// QueryRowContext runs a one-row read on the reader pool, or in the
// transaction ctx carries.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if tx := db.ambient(ctx); tx != nil {
		return tx.QueryRowContext(ctx, q, args...)
	}
	return db.r.QueryRowContext(ctx, db.Rebind(q), args...)
}

type txKey struct{ db *DB }

// Context returns ctx carrying the transaction. Code that is handed this
// context — another area's store called from inside this transaction, like
// the org chart creating login accounts while it imports staff — writes in
// the same transaction: it commits or rolls back with it, and on SQLite it
// does not wait for the one write connection this transaction holds.
func (tx *Tx) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{tx.db}, tx)
}

func (db *DB) ambient(ctx context.Context) *Tx {
	tx, _ := ctx.Value(txKey{db}).(*Tx)
	return tx
}

// Tx is a write transaction. Now is fixed when the transaction begins, so
// every row written in it carries the same time.
type Tx struct {
	tx  *sql.Tx
	db  *DB
	Now time.Time
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(q), args...)
	return res, mapErr(err)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := tx.tx.QueryContext(ctx, tx.db.Rebind(q), args...)
	return rows, mapErr(err)
}

// QueryRowContext runs a one-row query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.Rebind(q), args...)
}

// Dialect returns the database dialect.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// InTx runs fn in a write transaction and commits when fn returns nil. On
// PostgreSQL a serialization failure or deadlock is retried a few times.
// When ctx already carries a transaction of this database (Tx.Context), fn
// joins it instead: its error makes the outer transaction roll back.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if tx := db.ambient(ctx); tx != nil {
		return fn(tx)
	}
	attempts := 0
	// A transaction is traced only as a child of a traced request: jobs,
	// start-up and a WebSocket connection after its upgrade make no traces.
	if parent := trace.SpanFromContext(ctx); parent.IsRecording() && db.tracer != nil {
		var span trace.Span
		ctx, span = db.tracer.Start(ctx, "sqldb.InTx", trace.WithAttributes(attribute.String("db.system.name", db.systemName())))
		if fn := txCaller(); fn != "" {
			span.SetAttributes(attribute.String("code.function.name", fn))
		}
		defer func() {
			span.SetAttributes(attribute.Int("rounds.db.attempts", attempts))
			if err != nil {
				code := core.ErrorCode(err)
				span.SetAttributes(attribute.String("rounds.error_code", string(code)))
				if code == core.EInternal || code == core.EUnavailable {
					span.SetStatus(codes.Error, string(code))
				}
			}
			span.End()
		}()
	}
	for attempts < 5 {
		attempts++
		err = db.inTxOnce(ctx, fn)
		if !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempts) * 5 * time.Millisecond)
	}
	return err
}

// txCaller names the function that asked for the transaction, the span's
// most useful fact: the first caller that is not an InTx (stores wrap this
// one in their own InTx), e.g. im.(*Service).Send.
func txCaller() string {
	var pcs [8]uintptr
	n := runtime.Callers(3, pcs[:]) // skip Callers, txCaller, DB.InTx
	frames := runtime.CallersFrames(pcs[:n])
	last := ""
	for {
		f, more := frames.Next()
		if f.Function != "" {
			last = f.Function
			if !strings.HasSuffix(f.Function, ".InTx") && !strings.Contains(f.Function, "/core/sqldb.") {
				return f.Function
			}
		}
		if !more {
			return last
		}
	}
}

// systemName is OpenTelemetry's db.system.name.
func (db *DB) systemName() string {
	if db.Dialect == Postgres {
		return "postgresql"
	}
	return "sqlite"
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if db.Dialect == SQLite {
		return db.inGroupTx(ctx, fn)
	}
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	tx := &Tx{tx: stx, db: db, Now: time.Now().UTC()}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err = fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	return mapErr(stx.Commit())
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// mapErr turns connection failures into EUnavailable so callers answer 503
// rather than 500 while the database is down. Other errors pass unchanged.
func mapErr(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return err
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08 (connection exception) and 57P (the server shutting
		// down, crashed or starting up) are outages; the rest are the
		// statement's own errors.
		if strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "57P") {
			return &core.Error{Code: core.EUnavailable, Message: "the database is unavailable", Err: err}
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return err
	}
	// database/sql gives up with ErrBadConn after retrying on fresh
	// connections: the database is not answering.
	if errors.Is(err, driver.ErrBadConn) || isConnErr(err) {
		return &core.Error{Code: core.EUnavailable, Message: "the database is unavailable", Err: err}
	}
	return err
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	s := err.Error()
	for _, k := range []string{"connection refused", "broken pipe", "connection reset", "bad connection", "conn closed", "failed to connect", "unexpected EOF", "server closed", "terminating connection"} {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

// Migrate applies the area's embedded migrations. Each area keeps its own
// version table (schema_<area>) so areas evolve independently. It refuses to
// run against a database whose schema for this area is newer than the
// migrations this binary carries: an older binary must never write to a
// newer schema.
func (db *DB) Migrate(ctx context.Context, area string, migrations fs.FS) error {
	p, err := db.provider(area, migrations)
	if err != nil {
		return err
	}
	// p.Close would close the shared *sql.DB; the provider holds nothing else.
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrVersionNotFound) {
		return fmt.Errorf("migrate %s: %w", area, err)
	}
	var latest int64
	for _, s := range p.ListSources() {
		if s.Version > latest {
			latest = s.Version
		}
	}
	if current > latest {
		return &core.Error{Code: core.EConflict, Message: fmt.Sprintf(
			"the %s schema is at version %d but this Rounds knows only up to %d: upgrade Rounds instead of running an older binary", area, current, latest)}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", area, err)
	}
	return nil
}

// SchemaVersion returns the applied migration version of an area (0 when none).
func (db *DB) SchemaVersion(ctx context.Context, area string, migrations fs.FS) (int64, error) {
	p, err := db.provider(area, migrations)
	if err != nil {
		return 0, err
	}
	// p.Close would close the shared *sql.DB; the provider holds nothing else.
	v, err := p.GetDBVersion(ctx)
	if errors.Is(err, goose.ErrVersionNotFound) {
		return 0, nil
	}
	return v, err
}

func (db *DB) provider(area string, migrations fs.FS) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithTableName("schema_" + area),
		goose.WithDisableGlobalRegistry(true),
	}
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Nodes starting together must not migrate at the same time.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(area)))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.w, migrations, opts...)
}

func lockID(area string) int64 {
	var h int64 = 0x526f756e6473 // "Rounds"
	for _, c := range area {
		h = h*31 + int64(c)
	}
	return h
}

// Marks returns n '?' placeholders separated by commas, for an IN (…) list.
func Marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// Millis converts a time to the stored form.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis converts a stored time back; 0 is the zero time.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
