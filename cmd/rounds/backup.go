package main

// Backup and restore of a whole Rounds installation: the database and every
// object of the file store, in one .tar.gz.
//
// Archive layout (entries in this order):
//
//	database/rounds.sqlite   SQLite: a VACUUM INTO copy (consistent while the server writes)
//	database/rounds.pgdump   PostgreSQL: pg_dump --format=custom of the Rounds schema (one snapshot)
//	files/<key>              every object of the file store, byte for byte
//	manifest.json            versions, dialect, and the size and SHA-256 of every entry above
//
// The manifest comes last because it carries the checksums of what precedes
// it; restore therefore reads the archive twice — once to verify everything,
// once to apply — so a refused archive changes nothing.
//
// The search index is not in the backup: it is derived from the database
// and is rebuilt from it.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/config"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	miniofiles "github.com/roundshq/rounds/core/files/minio"
	"github.com/roundshq/rounds/core/sqldb"
)

// backupFormat is the archive layout version. A restore refuses a format it
// does not know (a backup from a newer Rounds).
const backupFormat = 1

const (
	manifestName   = "manifest.json"
	sqliteEntry    = "database/rounds.sqlite"
	postgresEntry  = "database/rounds.pgdump"
	filesPrefix    = "files/"
	maxManifestLen = 64 << 20
)

// backupManifest describes a backup archive.
type backupManifest struct {
	Format        int              `json:"format"`
	RoundsVersion string           `json:"rounds_version"`
	CreatedAt     time.Time        `json:"created_at"`
	Dialect       sqldb.Dialect    `json:"dialect"`
	Schemas       map[string]int64 `json:"schemas"`
	// PostgresSchema is the PostgreSQL schema the dump holds; restore
	// brings it back into the same schema only.
	PostgresSchema string        `json:"postgres_schema,omitempty"`
	Entries        []backupEntry `json:"entries"`
}

// backupEntry is one archived entry with what is needed to verify and
// restore it.
type backupEntry struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type,omitempty"`
}

// backupTarget is what a backup reads and a restore writes: the database and
// the file store of one installation.
type backupTarget struct {
	db    *sqldb.DB
	files files.Store
	// sqlitePath is the database file (SQLite only); restore replaces it.
	sqlitePath string
	// postgresDSN is the connection string handed to pg_dump and psql.
	postgresDSN string
	// migrations are the areas this binary knows, for schema versions.
	migrations []migration
}

// backupOptions tune a backup.
type backupOptions struct {
	// TempDir holds the database snapshot while it is archived (default:
	// the system temp dir).
	TempDir string
	// Now stamps the manifest (default time.Now).
	Now func() time.Time
}

func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	path := configFlag(fs)
	out := fs.String("out", "", "archive to write (.tar.gz), or - for standard output; required")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"backup needs -out FILE.tar.gz"}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	t, closeTarget, err := openBackupTarget(ctx, cfg, allMigrations())
	if err != nil {
		return err
	}
	defer closeTarget()
	if *out == "-" {
		// Straight to a pipe (an encrypting tool, ssh to the backup host), so
		// no unencrypted archive is left on this server; no summary, it
		// would corrupt the stream.
		_, err := writeBackup(ctx, t, stdout, backupOptions{})
		return err
	}
	m, err := writeBackupFile(ctx, t, *out, backupOptions{TempDir: filepath.Dir(*out)})
	if err != nil {
		return err
	}
	var n int
	var size int64
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Name, filesPrefix) {
			n++
		}
		size += e.Size
	}
	fmt.Fprintf(stdout, "backup written to %s: %s database, %d file(s), %d bytes before compression\n", *out, m.Dialect, n, size)
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	path := configFlag(fs)
	check := fs.Bool("check", false, "only verify the archive against this Rounds and the configured database; change nothing")
	force := fs.Bool("force", false, "restore even though something answers on server.listen")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"restore needs exactly one archive: rounds restore [-config FILE] [-check] FILE.tar.gz"}
	}
	archive := fs.Arg(0)
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if !*check && !*force {
		if err := refuseRunningServer(cfg.Server.Listen); err != nil {
			return err
		}
	}
	t, closeTarget, err := openBackupTarget(ctx, cfg, allMigrations())
	if err != nil {
		return err
	}
	defer closeTarget()
	if *check {
		m, err := verifyBackup(ctx, t, archive)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup %s is intact and can be restored here (taken %s by Rounds %s, %d entries)\n",
			archive, m.CreatedAt.Format(time.RFC3339), m.RoundsVersion, len(m.Entries))
		return nil
	}
	m, err := restoreBackup(ctx, t, archive)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s (taken %s by Rounds %s); start the server (it applies any newer migrations), then rebuild the search index (operator's guide, section 6)\n",
		archive, m.CreatedAt.Format(time.RFC3339), m.RoundsVersion)
	return nil
}

// refuseRunningServer guards a single-server install against restoring under
// a live node. It cannot see nodes on other hosts: the guide says to stop
// them all.
func refuseRunningServer(listen string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 500*time.Millisecond)
	if err != nil {
		return nil
	}
	c.Close()
	return core.Errorf(core.EConflict, "something answers on %s (server.listen): stop every Rounds node before restoring, or pass -force if that is not Rounds", net.JoinHostPort(host, port))
}

// openBackupTarget opens only the database and the file store named by the
// configuration. It deliberately does not Build the app: a running server
// holds the Bleve index and must not be disturbed, and restore must not
// migrate before the backup is in place.
func openBackupTarget(ctx context.Context, cfg config.Config, migs []migration) (backupTarget, func(), error) {
	db, err := sqldb.Open(ctx, sqldb.Config{
		PostgresDSN: cfg.Database.PostgresDSN, SQLitePath: cfg.SQLitePath(),
		Synchronous: cfg.Database.SQLiteSynchronous, MaxOpenConns: 2,
	})
	if err != nil {
		return backupTarget{}, nil, fmt.Errorf("database: %w", err)
	}
	var store files.Store
	if m := cfg.Files.MinIO; m.Endpoint != "" {
		s, err := miniofiles.New(ctx, miniofiles.Config{Endpoint: m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Bucket: m.Bucket, UseSSL: m.UseSSL, Region: m.Region})
		if err != nil {
			db.Close()
			return backupTarget{}, nil, fmt.Errorf("files: cannot use MinIO at %s: %w", m.Endpoint, err)
		}
		store = s
	} else {
		s, err := localdisk.New(filepath.Join(cfg.DataDir, "files"))
		if err != nil {
			db.Close()
			return backupTarget{}, nil, fmt.Errorf("files: %w", err)
		}
		store = s
	}
	t := backupTarget{db: db, files: store, migrations: migs}
	if db.Dialect == sqldb.Postgres {
		t.postgresDSN = cfg.Database.PostgresDSN
	} else {
		t.sqlitePath = cfg.SQLitePath()
	}
	return t, func() { db.Close() }, nil
}

// writeBackupFile writes the archive to path atomically (a partial archive
// is never left under the final name) with owner-only permissions: it holds
// password hashes and patient-related chat.
func writeBackupFile(ctx context.Context, t backupTarget, path string, opt backupOptions) (backupManifest, error) {
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return backupManifest{}, fmt.Errorf("backup: %w", err)
	}
	m, err := writeBackup(ctx, t, f, opt)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return backupManifest{}, err
	}
	return m, nil
}

// writeBackup streams a backup of t to w. The database snapshot is taken
// first and the files listed after it: uploads are stored before the rows
// that mention them, so every file a row of the snapshot names is already
// there (a file uploaded later is an unreferenced extra, harmless).
func writeBackup(ctx context.Context, t backupTarget, w io.Writer, opt backupOptions) (backupManifest, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	m := backupManifest{Format: backupFormat, RoundsVersion: Version, CreatedAt: now().UTC(), Dialect: t.db.Dialect}
	before, err := schemaVersions(ctx, t.db, t.migrations)
	if err != nil {
		return m, err
	}
	tmpDir, err := os.MkdirTemp(opt.TempDir, "rounds-backup-")
	if err != nil {
		return m, fmt.Errorf("backup: temporary directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	var dbFile, dbEntry string
	switch t.db.Dialect {
	case sqldb.SQLite:
		dbFile, dbEntry = filepath.Join(tmpDir, "rounds.sqlite"), sqliteEntry
		if err := snapshotSQLite(ctx, t.db, dbFile); err != nil {
			return m, err
		}
	case sqldb.Postgres:
		dbFile, dbEntry = filepath.Join(tmpDir, "rounds.pgdump"), postgresEntry
		schema, err := dumpPostgres(ctx, t.db, t.postgresDSN, dbFile)
		if err != nil {
			return m, err
		}
		m.PostgresSchema = schema
	default:
		return m, fmt.Errorf("backup: unknown database dialect %q", t.db.Dialect)
	}
	after, err := schemaVersions(ctx, t.db, t.migrations)
	if err != nil {
		return m, err
	}
	for area, v := range before {
		if after[area] != v {
			return m, core.Errorf(core.EConflict, "the %s schema changed from version %d to %d during the backup (an upgrade ran): take the backup again", area, v, after[area])
		}
	}
	m.Schemas = after

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	df, err := os.Open(dbFile)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	st, err := df.Stat()
	if err != nil {
		df.Close()
		return m, fmt.Errorf("backup: %w", err)
	}
	e, err := addEntry(tw, dbEntry, st.Size(), m.CreatedAt, df)
	df.Close()
	if err != nil {
		return m, err
	}
	m.Entries = append(m.Entries, e)

	infos, err := t.files.List(ctx, "")
	if err != nil {
		return m, fmt.Errorf("backup: listing the file store: %w", err)
	}
	for _, info := range infos {
		rc, got, err := t.files.Get(ctx, info.Key)
		if core.IsCode(err, core.ENotFound) {
			continue // deleted since the listing; the snapshot does not need it
		}
		if err != nil {
			return m, fmt.Errorf("backup: reading file %s: %w", info.Key, err)
		}
		e, err := addEntry(tw, filesPrefix+info.Key, got.Size, got.ModTime, rc)
		rc.Close()
		if err != nil {
			return m, fmt.Errorf("backup: file %s: %w", info.Key, err)
		}
		e.ContentType = got.ContentType
		m.Entries = append(m.Entries, e)
	}

	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if _, err := addEntry(tw, manifestName, int64(len(mj)), m.CreatedAt, bytes.NewReader(mj)); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func addEntry(tw *tar.Writer, name string, size int64, mod time.Time, r io.Reader) (backupEntry, error) {
	if mod.IsZero() {
		mod = time.Unix(0, 0)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return backupEntry{}, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(tw, io.TeeReader(r, h))
	if err != nil {
		return backupEntry{}, fmt.Errorf("backup: writing %s: %w", name, err)
	}
	if n != size {
		return backupEntry{}, fmt.Errorf("backup: %s changed size while being read (%d of %d bytes)", name, n, size)
	}
	return backupEntry{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// snapshotSQLite copies the database with VACUUM INTO: one read transaction,
// so the copy is consistent while the server keeps writing (WAL mode lets
// both proceed).
func snapshotSQLite(ctx context.Context, db *sqldb.DB, dst string) error {
	if _, err := db.Pool().ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup: SQLite snapshot: %w", err)
	}
	return nil
}

// schemaVersions reads the applied migration version of every known area.
func schemaVersions(ctx context.Context, db *sqldb.DB, migs []migration) (map[string]int64, error) {
	out := map[string]int64{}
	for _, m := range migs {
		v, err := db.SchemaVersion(ctx, m.area, m.fs)
		if err != nil {
			return nil, fmt.Errorf("schema version of %s: %w", m.area, err)
		}
		out[m.area] = v
	}
	return out, nil
}

// latestVersion is the newest migration an area's embedded files carry
// (goose names them NNNNN_name.sql).
func latestVersion(fsys fs.FS) (int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, n := range names {
		i := strings.IndexByte(n, '_')
		if i <= 0 {
			continue
		}
		v, err := strconv.ParseInt(n[:i], 10, 64)
		if err != nil {
			continue
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// pgConn splits the configured DSN into what libpq tools accept: the
// connection string without the password (handed over in PGPASSWORD so it
// does not show in the process list) and without search_path (a pgx
// run-time parameter libpq refuses), and the schema Rounds lives in.
func pgConn(dsn string) (conn, password, schema string, err error) {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// url's error quotes the whole URL, password included.
			return "", "", "", errors.New("database.postgres_dsn: not a valid postgres:// URL")
		}
		if u.User != nil {
			password, _ = u.User.Password()
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		schema = firstSchema(q.Get("search_path"))
		for k := range q {
			if pgxOnly(k) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), password, schema, nil
	}
	pairs, err := parseKeywordDSN(dsn)
	if err != nil {
		return "", "", "", err
	}
	var kept []string
	for _, kv := range pairs {
		switch k, v := kv[0], kv[1]; {
		case k == "password":
			password = v
		case k == "search_path":
			schema = firstSchema(v)
		case !pgxOnly(k):
			kept = append(kept, k+"="+quoteDSNValue(v))
		}
	}
	return strings.Join(kept, " "), password, schema, nil
}

// parseKeywordDSN splits a libpq keyword/value connection string
// (host=db user='x y' …): values may be single-quoted with \' and \\
// escapes.
func parseKeywordDSN(dsn string) ([][2]string, error) {
	var out [][2]string
	s := strings.TrimSpace(dsn)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			// The text is not echoed: it may hold a password.
			return nil, fmt.Errorf("database.postgres_dsn: expected key=value pairs or a postgres:// URL")
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			i, closed := 1, false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					val.WriteByte(s[i])
					continue
				}
				if s[i] == '\'' {
					closed = true
					break
				}
				val.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("database.postgres_dsn: unterminated quote in the value of %s", key)
			}
			s = s[i+1:]
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		out = append(out, [2]string{key, val.String()})
		s = strings.TrimLeft(s, " \t")
	}
	return out, nil
}

func quoteDSNValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t'\\") {
		return v
	}
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(v) + "'"
}

// pgxOnly names connection parameters pgx understands and libpq rejects
// ("invalid URI query parameter"): run-time parameters Rounds sets through
// the DSN and pgx's own pool and protocol settings.
func pgxOnly(key string) bool {
	switch key {
	case "search_path", "default_query_exec_mode", "statement_cache_capacity", "description_cache_capacity", "min_read_buffer_size", "prefer_simple_protocol":
		return true
	}
	return strings.HasPrefix(key, "pool_")
}

func firstSchema(searchPath string) string {
	s, _, _ := strings.Cut(searchPath, ",")
	return strings.Trim(strings.TrimSpace(s), `"`)
}

// pgSchema is the schema Rounds' tables live in: the DSN's search_path, or
// the server's current schema (normally public).
func pgSchema(ctx context.Context, db *sqldb.DB, dsn string) (string, error) {
	_, _, schema, err := pgConn(dsn)
	if err != nil {
		return "", err
	}
	if schema == "" {
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return "", fmt.Errorf("database: current schema: %w", err)
		}
	}
	return schema, nil
}

func pgTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", core.Errorf(core.EUnavailable, "backup and restore of PostgreSQL need %s (PostgreSQL client tools of the server's major version or newer; Debian: apt-get install postgresql-client)", name)
	}
	return p, nil
}

func runPgTool(ctx context.Context, dsn string, name string, args ...string) error {
	bin, err := pgTool(name)
	if err != nil {
		return err
	}
	conn, password, _, err := pgConn(dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--dbname="+conn)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// dumpPostgres runs pg_dump over the Rounds schema: one repeatable-read
// snapshot, so the dump is consistent while the server writes.
func dumpPostgres(ctx context.Context, db *sqldb.DB, dsn, dst string) (string, error) {
	schema, err := pgSchema(ctx, db, dsn)
	if err != nil {
		return "", err
	}
	if err := runPgTool(ctx, dsn, "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--schema="+schema, "--file="+dst); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	return schema, nil
}

// verifyBackup reads the whole archive and checks it can be restored here:
// the manifest is readable and of a known format, every entry is listed with
// the right size and SHA-256 and nothing else is there, the database is of
// the configured kind, and no area's schema is newer than this binary's
// migrations. It changes nothing.
func verifyBackup(ctx context.Context, t backupTarget, path string) (backupManifest, error) {
	dialect, migs := t.db.Dialect, t.migrations
	seen := map[string]backupEntry{}
	var order []string
	var mj []byte
	err := readArchive(path, func(h *tar.Header, r io.Reader) error {
		if h.Name == manifestName {
			if mj != nil {
				return invalidBackup("it holds two manifests")
			}
			b, err := io.ReadAll(io.LimitReader(r, maxManifestLen+1))
			if err != nil {
				return err
			}
			if len(b) > maxManifestLen {
				return invalidBackup("its manifest is too large")
			}
			mj = b
			return nil
		}
		if mj != nil {
			return invalidBackup("entry %s follows the manifest", h.Name)
		}
		if err := checkEntryName(h.Name); err != nil {
			return err
		}
		if _, dup := seen[h.Name]; dup {
			return invalidBackup("entry %s appears twice", h.Name)
		}
		hs := sha256.New()
		n, err := io.Copy(hs, r)
		if err != nil {
			return err
		}
		seen[h.Name] = backupEntry{Name: h.Name, Size: n, SHA256: hex.EncodeToString(hs.Sum(nil))}
		order = append(order, h.Name)
		return nil
	})
	if err != nil {
		return backupManifest{}, err
	}
	if mj == nil {
		return backupManifest{}, invalidBackup("it has no %s (not a Rounds backup, or cut short)", manifestName)
	}
	var m backupManifest
	dec := json.NewDecoder(bytes.NewReader(mj))
	if err := dec.Decode(&m); err != nil {
		return backupManifest{}, invalidBackup("its manifest is unreadable: %v", err)
	}
	if m.Format > backupFormat {
		return m, core.Errorf(core.EConflict, "the backup was made by Rounds %s in archive format %d; this Rounds (%s) reads up to format %d: restore it with that version or newer", m.RoundsVersion, m.Format, Version, backupFormat)
	}
	if m.Format < 1 {
		return m, invalidBackup("its manifest has no format")
	}
	if m.Dialect != dialect {
		return m, core.Errorf(core.EInvalid, "the backup holds a %s database but this configuration uses %s: restore it into the same kind of database", m.Dialect, dialect)
	}
	if dialect == sqldb.Postgres {
		schema, err := pgSchema(ctx, t.db, t.postgresDSN)
		if err != nil {
			return m, err
		}
		if m.PostgresSchema != schema {
			return m, core.Errorf(core.EInvalid, "the backup holds PostgreSQL schema %q but this configuration uses %q: restore into the same schema", m.PostgresSchema, schema)
		}
	}
	latest := map[string]int64{}
	for _, mg := range migs {
		v, err := latestVersion(mg.fs)
		if err != nil {
			return m, err
		}
		latest[mg.area] = v
	}
	areas := make([]string, 0, len(m.Schemas))
	for a := range m.Schemas {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, a := range areas {
		l, known := latest[a]
		if !known {
			return m, core.Errorf(core.EConflict, "the backup has a %s schema this Rounds (%s) does not know (it was made by Rounds %s): restore it with that version or newer", a, Version, m.RoundsVersion)
		}
		if m.Schemas[a] > l {
			return m, core.Errorf(core.EConflict, "the backup's %s schema is at version %d but this Rounds (%s) knows only up to %d (it was made by Rounds %s): restore it with that version or newer", a, m.Schemas[a], Version, l, m.RoundsVersion)
		}
	}
	wantDB := sqliteEntry
	if dialect == sqldb.Postgres {
		wantDB = postgresEntry
	}
	listed := map[string]bool{}
	var hasDB bool
	for _, e := range m.Entries {
		if listed[e.Name] {
			return m, invalidBackup("its manifest lists %s twice", e.Name)
		}
		listed[e.Name] = true
		got, ok := seen[e.Name]
		if !ok {
			return m, invalidBackup("entry %s listed in the manifest is missing", e.Name)
		}
		if got.Size != e.Size || got.SHA256 != e.SHA256 {
			return m, invalidBackup("entry %s does not match its checksum (damaged or altered)", e.Name)
		}
		if e.Name == wantDB {
			hasDB = true
		}
	}
	for _, n := range order {
		if !listed[n] {
			return m, invalidBackup("entry %s is not in the manifest", n)
		}
	}
	if !hasDB {
		return m, invalidBackup("it has no %s", wantDB)
	}
	return m, nil
}

func invalidBackup(format string, args ...any) error {
	return &core.Error{Code: core.EInvalid, Field: "archive", Message: "the backup cannot be restored: " + fmt.Sprintf(format, args...)}
}

// checkEntryName admits only the names a backup writes, so an archive can
// never write outside the database file and the file store.
func checkEntryName(name string) error {
	switch {
	case name == sqliteEntry || name == postgresEntry:
		return nil
	case strings.HasPrefix(name, filesPrefix):
		if err := files.CheckKey(strings.TrimPrefix(name, filesPrefix)); err != nil {
			return invalidBackup("entry %q is not a valid file key", name)
		}
		return nil
	}
	return invalidBackup("unexpected entry %q", name)
}

// readArchive calls fn for every regular entry of a .tar.gz; anything but a
// regular file is refused.
func readArchive(path string, fn func(h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return core.Errorf(core.EInvalid, "backup archive: %v", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return invalidBackup("not a gzip archive: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return invalidBackup("damaged archive: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			return invalidBackup("entry %q is not a regular file", h.Name)
		}
		if err := fn(h, tr); err != nil {
			var ce *core.Error
			if errors.As(err, &ce) {
				return err
			}
			return invalidBackup("damaged archive at %s: %v", h.Name, err)
		}
	}
}

// restoreBackup verifies the archive, then brings back the file store and
// the database. Every node must be stopped. A refused archive changes
// nothing. The files are restored first and the database last, so a failure
// in between leaves the old database in place; restore can simply be run
// again.
func restoreBackup(ctx context.Context, t backupTarget, path string) (backupManifest, error) {
	m, err := verifyBackup(ctx, t, path)
	if err != nil {
		return m, err
	}
	byName := map[string]backupEntry{}
	for _, e := range m.Entries {
		byName[e.Name] = e
	}
	tmpDir, err := os.MkdirTemp(tempDirFor(t), "rounds-restore-")
	if err != nil {
		return m, fmt.Errorf("restore: temporary directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	// Objects not in the backup go first, so a key the backup holds cannot
	// clash with a current object beneath or above it.
	current, err := t.files.List(ctx, "")
	if err != nil {
		return m, fmt.Errorf("restore: listing the file store: %w", err)
	}
	for _, info := range current {
		if _, keep := byName[filesPrefix+info.Key]; !keep {
			if err := t.files.Delete(ctx, info.Key); err != nil {
				return m, fmt.Errorf("restore: removing file %s: %w", info.Key, err)
			}
		}
	}
	var dbFile string
	err = readArchive(path, func(h *tar.Header, r io.Reader) error {
		e, ok := byName[h.Name]
		if !ok {
			return nil // the manifest
		}
		hs := sha256.New()
		r = io.TeeReader(r, hs)
		if strings.HasPrefix(h.Name, filesPrefix) {
			key := strings.TrimPrefix(h.Name, filesPrefix)
			if err := t.files.Put(ctx, key, r, e.Size, e.ContentType); err != nil {
				return fmt.Errorf("restore: file %s: %w", key, err)
			}
		} else {
			dbFile = filepath.Join(tmpDir, filepath.Base(h.Name))
			if err := writeFileSynced(dbFile, r); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
		if hex.EncodeToString(hs.Sum(nil)) != e.SHA256 {
			return invalidBackup("entry %s changed since it was verified", h.Name)
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	switch t.db.Dialect {
	case sqldb.SQLite:
		err = restoreSQLite(t, dbFile)
	case sqldb.Postgres:
		err = restorePostgres(ctx, t, dbFile, tmpDir)
	}
	if err != nil {
		return m, err
	}
	return m, nil
}

func tempDirFor(t backupTarget) string {
	if t.sqlitePath != "" {
		// Beside the database, so the final rename stays on one file system.
		return filepath.Dir(t.sqlitePath)
	}
	return ""
}

func writeFileSynced(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// restoreSQLite swaps the database file. The old write-ahead log and shared
// memory index go first: left beside the new file they would be replayed
// into it.
func restoreSQLite(t backupTarget, snapshot string) error {
	if err := t.db.Close(); err != nil {
		return fmt.Errorf("restore: closing the database: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(t.sqlitePath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(snapshot, t.sqlitePath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if d, err := os.Open(filepath.Dir(t.sqlitePath)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// restorePostgres replaces the Rounds schema in one transaction: psql drops
// and recreates the schema, then runs the script pg_restore renders from the
// dump. Either the whole backup is in place or the database is untouched.
func restorePostgres(ctx context.Context, t backupTarget, dump, tmpDir string) error {
	schema, err := pgSchema(ctx, t.db, t.postgresDSN)
	if err != nil {
		return err
	}
	bin, err := pgTool("pg_restore")
	if err != nil {
		return err
	}
	// The dump's own CREATE SCHEMA is left out: the schema is recreated
	// below under the restoring user, whatever its name was in the dump.
	list, err := exec.CommandContext(ctx, bin, "--list", dump).Output()
	if err != nil {
		return fmt.Errorf("restore: pg_restore --list: %w", err)
	}
	var keep []string
	for _, l := range strings.Split(string(list), "\n") {
		if !strings.Contains(l, " SCHEMA - ") && !strings.Contains(l, " COMMENT - SCHEMA ") {
			keep = append(keep, l)
		}
	}
	listFile := filepath.Join(tmpDir, "restore.list")
	if err := os.WriteFile(listFile, []byte(strings.Join(keep, "\n")), 0o600); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	script := filepath.Join(tmpDir, "restore.sql")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--no-owner", "--no-privileges", "--use-list="+listFile, "--file="+script, dump)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("restore: pg_restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	q := quoteIdent(schema)
	prelude := "DROP SCHEMA IF EXISTS " + q + " CASCADE; CREATE SCHEMA " + q + ";"
	if err := runPgTool(ctx, t.postgresDSN, "psql", "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
		"--command="+prelude, "--file="+script); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
