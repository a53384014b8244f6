package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/config"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	miniofiles "github.com/roundshq/rounds/core/files/minio"
	"github.com/roundshq/rounds/core/files/minio/miniotest"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// wardLedger is a test area: every write adds a ledger row and moves the
// total in the same transaction, so a torn snapshot shows as a total that
// disagrees with its rows.
var wardLedger = migration{area: "wardledger", fs: fstest.MapFS{
	"00001_ledger.sql": {Data: []byte(`-- +goose Up
CREATE TABLE ward_ledger (id TEXT PRIMARY KEY, ward TEXT NOT NULL, amount BIGINT NOT NULL);
CREATE TABLE ward_total (id INTEGER PRIMARY KEY, total BIGINT NOT NULL, n BIGINT NOT NULL);
INSERT INTO ward_total (id, total, n) VALUES (1, 0, 0);
-- +goose Down
DROP TABLE ward_total;
DROP TABLE ward_ledger;
`)},
}}

func testMigrations() []migration { return append(allMigrations(), wardLedger) }

// installation is one Rounds installation's storage: a database (SQLite
// file or PostgreSQL schema) and a file store, reopenable after a restore.
type installation struct {
	t          *testing.T
	sqlitePath string
	dsn        string
	filesDir   string
	minio      *miniofiles.Config
}

func newInstallation(t *testing.T, dialect sqldb.Dialect, store string) *installation {
	t.Helper()
	in := &installation{t: t}
	dir := t.TempDir()
	if dialect == sqldb.Postgres {
		in.dsn = sqldbtest.PostgresDSN(t)
	} else {
		in.sqlitePath = filepath.Join(dir, "rounds.db")
	}
	if store == "minio" {
		c := miniotest.Start(t)
		in.minio = &c
	} else {
		in.filesDir = filepath.Join(dir, "files")
	}
	tg := in.open()
	for _, m := range tg.migrations {
		if err := tg.db.Migrate(context.Background(), m.area, m.fs); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// open opens the installation; the database closes at the end of the test
// (closing twice, after a SQLite restore, is harmless).
func (in *installation) open() backupTarget {
	in.t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{PostgresDSN: in.dsn, SQLitePath: in.sqlitePath, Synchronous: "normal", MaxOpenConns: 4})
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { db.Close() })
	var store files.Store
	if in.minio != nil {
		store, err = miniofiles.New(ctx, *in.minio)
	} else {
		store, err = localdisk.New(in.filesDir)
	}
	if err != nil {
		in.t.Fatal(err)
	}
	return backupTarget{db: db, files: store, sqlitePath: in.sqlitePath, postgresDSN: in.dsn, migrations: testMigrations()}
}

// state is everything a backup must bring back: every row of every table
// and every file with its content type.
type state struct {
	Tables map[string][]string
	Files  map[string]string
}

func snapshot(t *testing.T, tg backupTarget) state {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if tg.db.Dialect == sqldb.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	names := queryStrings(t, tg.db, q)
	if len(names) < 4 {
		t.Fatalf("expected the migrated tables, found %v", names)
	}
	st := state{Tables: map[string][]string{}, Files: map[string]string{}}
	for _, n := range names {
		rows, err := tg.db.QueryContext(ctx, "SELECT * FROM "+n)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out = append(out, fmt.Sprintf("%v", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(out)
		st.Tables[n] = out
	}
	infos, err := tg.files.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		rc, got, err := tg.files.Get(ctx, info.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		st.Files[info.Key] = got.ContentType + "|" + string(b)
	}
	return st
}

func queryStrings(t *testing.T, db *sqldb.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func addLedger(ctx context.Context, db *sqldb.DB, ward string, amount int64) error {
	return db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO ward_ledger (id, ward, amount) VALUES (?, ?, ?)", core.NewID(), ward, amount); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE ward_total SET total = total + ?, n = n + 1 WHERE id = 1", amount)
		return err
	})
}

func putFile(t *testing.T, s files.Store, key, body, ctype string) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), ctype); err != nil {
		t.Fatal(err)
	}
}

// seed fills the installation with rows and files, binary bytes included.
func seed(t *testing.T, tg backupTarget) {
	t.Helper()
	ctx := context.Background()
	for i, w := range []string{"心内科 5病区", "急诊科", "儿科 'quoted'"} {
		if err := addLedger(ctx, tg.db, w, int64(100*(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	putFile(t, tg.files, "notes/x", "交班记录: 5床 血压 150/95", "text/plain; charset=utf-8")
	putFile(t, tg.files, "scans/ct-001.bin", string([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0}), "application/octet-stream")
	putFile(t, tg.files, "empty", "", "")
}

func backupTo(t *testing.T, tg backupTarget) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := writeBackupFile(context.Background(), tg, out, backupOptions{TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	return out
}

func dialects() []sqldb.Dialect { return []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} }

func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, d := range dialects() {
		for _, store := range []string{"localdisk", "minio"} {
			t.Run(string(d)+"/"+store, func(t *testing.T) {
				ctx := context.Background()
				in := newInstallation(t, d, store)
				tg := in.open()
				seed(t, tg)
				archive := backupTo(t, tg)
				want := snapshot(t, tg)
				if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("archive must be owner-only: %v %v", fi.Mode(), err)
				}

				// Life goes on after the backup: rows change, files come,
				// go and change, and "notes" becomes an object where the
				// backup has "notes/x" beneath it.
				if err := addLedger(ctx, tg.db, "放射科", 7); err != nil {
					t.Fatal(err)
				}
				if _, err := tg.db.ExecContext(ctx, "DELETE FROM ward_ledger WHERE ward = ?", "急诊科"); err != nil {
					t.Fatal(err)
				}
				if err := tg.files.Delete(ctx, "notes/x"); err != nil {
					t.Fatal(err)
				}
				putFile(t, tg.files, "notes", "newer", "text/plain")
				putFile(t, tg.files, "scans/ct-001.bin", "overwritten", "text/plain")
				putFile(t, tg.files, "ward5/new.txt", "after the backup", "text/plain")
				if reflect.DeepEqual(snapshot(t, tg), want) {
					t.Fatal("the changes after the backup must be visible before restoring")
				}

				if _, err := verifyBackup(ctx, tg, archive); err != nil {
					t.Fatalf("verify: %v", err)
				}
				m, err := restoreBackup(ctx, tg, archive)
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				if m.Dialect != d || m.Schemas[wardLedger.area] != 1 || m.RoundsVersion != Version {
					t.Errorf("manifest: %+v", m)
				}
				got := snapshot(t, in.open())
				if !reflect.DeepEqual(got, want) {
					t.Errorf("restored state differs\n got: %v\nwant: %v", got, want)
				}
				// The restored database is usable and migrations still apply.
				tg2 := in.open()
				for _, mg := range tg2.migrations {
					if err := tg2.db.Migrate(ctx, mg.area, mg.fs); err != nil {
						t.Fatalf("migrate after restore: %v", err)
					}
				}
				if err := addLedger(ctx, tg2.db, "儿科", 1); err != nil {
					t.Fatalf("write after restore: %v", err)
				}
			})
		}
	}
}

// TestBackupWhileWriting takes a backup while transactions commit as fast as
// they can; the restored total must agree with the restored rows.
func TestBackupWhileWriting(t *testing.T) {
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			in := newInstallation(t, d, "localdisk")
			tg := in.open()
			var written atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var werr atomic.Pointer[error]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int64(1); ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := addLedger(ctx, tg.db, "ICU", i); err != nil {
						werr.Store(&err)
						return
					}
					written.Add(1)
				}
			}()
			for written.Load() < 50 {
				if werr.Load() != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			archive := backupTo(t, tg)
			close(stop)
			wg.Wait()
			if err := werr.Load(); err != nil {
				t.Fatal(*err)
			}
			final := written.Load()
			if _, err := restoreBackup(ctx, tg, archive); err != nil {
				t.Fatal(err)
			}
			db := in.open().db
			var total, n, sum, count int64
			if err := db.QueryRowContext(ctx, "SELECT total, n FROM ward_total WHERE id = 1").Scan(&total, &n); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM ward_ledger").Scan(&sum, &count); err != nil {
				t.Fatal(err)
			}
			if total != sum || n != count {
				t.Fatalf("torn backup: total %d over %d rows, but rows sum to %d over %d", total, n, sum, count)
			}
			if count < 50 || count > final {
				t.Fatalf("backup holds %d rows; %d were written before it started and %d in all", count, 50, final)
			}
			t.Logf("backup holds %d of %d rows written", count, final)
		})
	}
}

// archiveEntry is one entry of a backup archive, for tests that alter one.
type archiveEntry struct {
	name string
	data []byte
}

func readEntries(t *testing.T, path string) []archiveEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []archiveEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, archiveEntry{h.Name, b})
	}
}

func writeEntries(t *testing.T, path string, entries []archiveEntry) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Size: int64(len(e.data)), Mode: 0o600, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// editManifest rewrites the manifest (the last entry) through fn.
func editManifest(fn func(m map[string]any)) func([]archiveEntry) []archiveEntry {
	return func(es []archiveEntry) []archiveEntry {
		last := &es[len(es)-1]
		var m map[string]any
		if err := json.Unmarshal(last.data, &m); err != nil {
			panic(err)
		}
		fn(m)
		b, _ := json.Marshal(m)
		last.data = b
		return es
	}
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	in := newInstallation(t, sqldb.SQLite, "localdisk")
	tg := in.open()
	seed(t, tg)
	good := backupTo(t, tg)
	// Changes after the backup, so a restore that went ahead would show.
	if err := addLedger(ctx, tg.db, "药剂科", 3); err != nil {
		t.Fatal(err)
	}
	putFile(t, tg.files, "ward5/new.txt", "after the backup", "text/plain")
	before := snapshot(t, tg)

	fileEntry := func(es []archiveEntry) int {
		for i, e := range es {
			if e.name == "files/notes/x" {
				return i
			}
		}
		panic("no files/notes/x")
	}
	cases := []struct {
		name  string
		alter func([]archiveEntry) []archiveEntry
		raw   []byte // the archive's bytes instead, when set
		code  core.Code
		want  string
	}{
		{name: "newer schema of an area", code: core.EConflict, want: "wardledger schema is at version 99 but this Rounds",
			alter: editManifest(func(m map[string]any) { m["schemas"].(map[string]any)["wardledger"] = 99 })},
		{name: "area this Rounds does not know", code: core.EConflict, want: "has a pharmacy schema this Rounds",
			alter: editManifest(func(m map[string]any) { m["schemas"].(map[string]any)["pharmacy"] = 1 })},
		{name: "newer archive format", code: core.EConflict, want: "archive format 2",
			alter: editManifest(func(m map[string]any) { m["format"] = 2 })},
		{name: "other kind of database", code: core.EInvalid, want: "holds a postgres database but this configuration uses sqlite",
			alter: editManifest(func(m map[string]any) { m["dialect"] = "postgres" })},
		{name: "altered file", code: core.EInvalid, want: "files/notes/x does not match its checksum",
			alter: func(es []archiveEntry) []archiveEntry {
				es[fileEntry(es)].data = []byte("交班记录: 5床 血压 120/80")
				return es
			}},
		{name: "altered database", code: core.EInvalid, want: "database/rounds.sqlite does not match its checksum",
			alter: func(es []archiveEntry) []archiveEntry { es[0].data[len(es[0].data)-1] ^= 1; return es }},
		{name: "missing entry", code: core.EInvalid, want: "files/notes/x listed in the manifest is missing",
			alter: func(es []archiveEntry) []archiveEntry { i := fileEntry(es); return append(es[:i], es[i+1:]...) }},
		{name: "entry not in the manifest", code: core.EInvalid, want: "files/extra is not in the manifest",
			alter: func(es []archiveEntry) []archiveEntry {
				return append([]archiveEntry{{"files/extra", []byte("x")}}, es...)
			}},
		{name: "path outside the store", code: core.EInvalid, want: "not a valid file key",
			alter: func(es []archiveEntry) []archiveEntry {
				return append([]archiveEntry{{"files/../../etc/cron.d/x", []byte("x")}}, es...)
			}},
		{name: "unexpected entry", code: core.EInvalid, want: `unexpected entry "../rounds.db"`,
			alter: func(es []archiveEntry) []archiveEntry {
				return append([]archiveEntry{{"../rounds.db", []byte("x")}}, es...)
			}},
		{name: "no manifest", code: core.EInvalid, want: "has no manifest.json",
			alter: func(es []archiveEntry) []archiveEntry { return es[:len(es)-1] }},
		{name: "entry after the manifest", code: core.EInvalid, want: "follows the manifest",
			alter: func(es []archiveEntry) []archiveEntry { return append(es, archiveEntry{"files/late", []byte("x")}) }},
		{name: "not gzip", code: core.EInvalid, want: "not a gzip archive", raw: []byte("rounds backup? no")},
		{name: "cut short", code: core.EInvalid, want: "damaged archive", raw: truncated(t, good)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.tar.gz")
			if tc.raw != nil {
				if err := os.WriteFile(p, tc.raw, 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				writeEntries(t, p, tc.alter(readEntries(t, good)))
			}
			_, err := restoreBackup(ctx, in.open(), p)
			if !core.IsCode(err, tc.code) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %s error containing %q, got %v", tc.code, tc.want, err)
			}
			if got := snapshot(t, in.open()); !reflect.DeepEqual(got, before) {
				t.Fatalf("a refused restore changed something\n got: %v\nwant: %v", got, before)
			}
		})
	}
	// The untouched archive still restores (the cases above refused for
	// their own reason, not for a damaged original).
	if _, err := restoreBackup(ctx, in.open(), good); err != nil {
		t.Fatal(err)
	}
}

func truncated(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[:len(b)*2/3]
}

// TestBackupCommand runs backup and restore as an operator would, through
// the command line and a configuration file.
func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A port nothing listens on, so restore does not take the test for a
	// running server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := ln.Addr().String()
	ln.Close()
	cfgFile := filepath.Join(dir, "rounds.yaml")
	writeConfig := func(listen string) {
		if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("data_dir: %s\nserver:\n  listen: %q\n", filepath.Join(dir, "data"), listen)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(freeAddr)
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(ctx, args, &out, &errb)
		return code, out.String() + errb.String()
	}
	cfg, err := loadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	tg, closeTarget, err := openBackupTarget(ctx, cfg, allMigrations())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range allMigrations() {
		if err := tg.db.Migrate(ctx, m.area, m.fs); err != nil {
			t.Fatal(err)
		}
	}
	putFile(t, tg.files, "apps/roster-1.0.zip", "PK bundle", "application/zip")
	closeTarget()

	archive := filepath.Join(dir, "nightly.tar.gz")
	if code, out := run("backup", "-config", cfgFile); code != 2 || !strings.Contains(out, "-out") {
		t.Fatalf("backup without -out: %d %s", code, out)
	}
	if code, out := run("backup", "-config", cfgFile, "-out", archive); code != 0 || !strings.Contains(out, "sqlite database, 1 file(s)") {
		t.Fatalf("backup: %d %s", code, out)
	}
	if _, err := os.Stat(archive + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("the partial archive must be gone: %v", err)
	}
	// To standard output, for a pipe into an encrypting tool: the stream is
	// the archive and nothing else.
	var piped, errb bytes.Buffer
	if code := Main(ctx, []string{"backup", "-config", cfgFile, "-out", "-"}, &piped, &errb); code != 0 {
		t.Fatalf("backup -out -: %d %s", code, errb.String())
	}
	pipedFile := filepath.Join(dir, "piped.tar.gz")
	if err := os.WriteFile(pipedFile, piped.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("restore", "-config", cfgFile, "-check", pipedFile); code != 0 {
		t.Fatalf("restore -check of the piped archive: %d %s", code, out)
	}
	if code, out := run("restore", "-config", cfgFile, "-check", archive); code != 0 || !strings.Contains(out, "is intact") {
		t.Fatalf("restore -check: %d %s", code, out)
	}
	if code, out := run("restore", "-config", cfgFile); code != 2 {
		t.Fatalf("restore without archive: %d %s", code, out)
	}

	// Something answering on server.listen is taken for a running node.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	writeConfig(busy.Addr().String())
	if code, out := run("restore", "-config", cfgFile, archive); code != 1 || !strings.Contains(out, "stop every Rounds node") {
		t.Fatalf("restore under a running server: %d %s", code, out)
	}
	writeConfig(freeAddr)

	tg, closeTarget, err = openBackupTarget(ctx, cfg, allMigrations())
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.files.Delete(ctx, "apps/roster-1.0.zip"); err != nil {
		t.Fatal(err)
	}
	closeTarget()
	if code, out := run("restore", "-config", cfgFile, archive); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %s", code, out)
	}
	tg, closeTarget, err = openBackupTarget(ctx, cfg, allMigrations())
	if err != nil {
		t.Fatal(err)
	}
	defer closeTarget()
	if info, err := tg.files.Stat(ctx, "apps/roster-1.0.zip"); err != nil || info.ContentType != "application/zip" {
		t.Fatalf("restored file: %+v %v", info, err)
	}
}

// TestBackupUnreachableDatabase: the operator learns which backend failed
// and no archive is left behind.
func TestBackupUnreachableDatabase(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "rounds.yaml")
	cfg := fmt.Sprintf("data_dir: %s\ndatabase:\n  postgres_dsn: postgres://rounds@127.0.0.1:1/rounds?sslmode=disable&connect_timeout=2\n", dir)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	archive := filepath.Join(dir, "b.tar.gz")
	if code := Main(context.Background(), []string{"backup", "-config", cfgFile, "-out", archive}, &out, &out); code != 1 || !strings.Contains(out.String(), "database: postgres: cannot reach the database") {
		t.Fatalf("%d %s", code, out.String())
	}
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Fatalf("no archive may be written: %v", err)
	}
}

// BenchmarkBackup measures a backup of a database with 50,000 ledger rows
// (about 20 MB in SQLite) and 50 files of 64 KiB, and one restore of it, in
// seconds.
//
//	ROUNDS_TEST_POSTGRES=… go test ./cmd/rounds -run '^$' -bench Backup -benchtime 3x
func BenchmarkBackup(b *testing.B) {
	for _, d := range dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			in := &installation{filesDir: filepath.Join(dir, "files")}
			if d == sqldb.Postgres {
				in.dsn = sqldbtest.PostgresDSN(b)
			} else {
				in.sqlitePath = filepath.Join(dir, "rounds.db")
			}
			db, err := sqldb.Open(ctx, sqldb.Config{PostgresDSN: in.dsn, SQLitePath: in.sqlitePath, Synchronous: "normal", MaxOpenConns: 4})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			store, err := localdisk.New(in.filesDir)
			if err != nil {
				b.Fatal(err)
			}
			tg := backupTarget{db: db, files: store, sqlitePath: in.sqlitePath, postgresDSN: in.dsn, migrations: testMigrations()}
			for _, m := range tg.migrations {
				if err := db.Migrate(ctx, m.area, m.fs); err != nil {
					b.Fatal(err)
				}
			}
			note := strings.Repeat("交班: 生命体征平稳 ", 10)
			err = db.InTx(ctx, func(tx *sqldb.Tx) error {
				for i := 0; i < 50000; i++ {
					if _, err := tx.ExecContext(ctx, "INSERT INTO ward_ledger (id, ward, amount) VALUES (?, ?, ?)", core.NewID(), note, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			blob := bytes.Repeat([]byte{0x42, 0x17, 0x99, 0x03}, 16<<10)
			for i := 0; i < 50; i++ {
				if err := store.Put(ctx, fmt.Sprintf("scans/%03d.bin", i), bytes.NewReader(blob), int64(len(blob)), ""); err != nil {
					b.Fatal(err)
				}
			}
			out := filepath.Join(dir, "b.tar.gz")
			var size int64
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m, err := writeBackupFile(ctx, tg, out, backupOptions{TempDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				size = 0
				for _, e := range m.Entries {
					size += e.Size
				}
			}
			backupSecs := time.Since(start).Seconds() / float64(b.N)
			b.StopTimer()
			fi, _ := os.Stat(out)
			if d == sqldb.SQLite {
				db.Close()
			}
			rstart := time.Now()
			if _, err := restoreBackup(ctx, tg, out); err != nil {
				b.Fatal(err)
			}
			restoreSecs := time.Since(rstart).Seconds()
			// pg_dump's custom format is compressed already, so "entries-MB"
			// (the archived entries before gzip) differs between dialects.
			b.ReportMetric(backupSecs, "backup-s")
			b.ReportMetric(restoreSecs, "restore-s")
			b.ReportMetric(float64(size)/1e6, "entries-MB")
			b.ReportMetric(float64(fi.Size())/1e6, "archive-MB")
		})
	}
}

// TestRestoreOnNewServer: the server died; a new one with an empty data
// directory gets everything back from the archive alone.
func TestRestoreOnNewServer(t *testing.T) {
	ctx := context.Background()
	old := newInstallation(t, sqldb.SQLite, "localdisk")
	tg := old.open()
	seed(t, tg)
	archive := backupTo(t, tg)
	want := snapshot(t, tg)

	dir := t.TempDir()
	fresh := &installation{t: t, sqlitePath: filepath.Join(dir, "new", "rounds.db"), filesDir: filepath.Join(dir, "new", "files")}
	if _, err := restoreBackup(ctx, fresh.open(), archive); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, fresh.open()); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs\n got: %v\nwant: %v", got, want)
	}
}

// TestBackupRestorePostgresPublicSchema covers the production layout: a
// database of its own, tables in the public schema, no search_path in the
// DSN (the other PostgreSQL tests use a schema per test).
func TestBackupRestorePostgresPublicSchema(t *testing.T) {
	base := os.Getenv("ROUNDS_TEST_POSTGRES")
	if base == "" {
		sqldbtest.PostgresDSN(t) // skips, or fails when services are required
		return
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "rounds_backup_" + strings.ReplaceAll(core.NewID(), "-", "")[20:]
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	in := &installation{t: t, dsn: u.String(), filesDir: filepath.Join(t.TempDir(), "files")}
	tg := in.open()
	for _, m := range tg.migrations {
		if err := tg.db.Migrate(ctx, m.area, m.fs); err != nil {
			t.Fatal(err)
		}
	}
	seed(t, tg)
	archive := backupTo(t, tg)
	want := snapshot(t, tg)
	m, err := verifyBackup(ctx, tg, archive)
	if err != nil || m.PostgresSchema != "public" {
		t.Fatalf("verify: schema %q, %v", m.PostgresSchema, err)
	}
	// A table a later migration might have added must not survive the
	// restore (it would make that migration fail on the next start).
	if _, err := tg.db.ExecContext(ctx, "CREATE TABLE later_area (id TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := addLedger(ctx, tg.db, "检验科", 9); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreBackup(ctx, tg, archive); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, in.open()); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs\n got: %v\nwant: %v", got, want)
	}
}

// TestBackupOfRunningDemoServer backs up a whole node — every area's tables,
// loaded with the demo hospital group — while it serves, then restores it
// after the node has moved on and stopped.
func TestBackupOfRunningDemoServer(t *testing.T) {
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			var cfg config.Config
			s := startServer(t, func(c *config.Config) {
				if d == sqldb.Postgres {
					c.Database.PostgresDSN = sqldbtest.PostgresDSN(t)
				}
				cfg = *c
			})
			if _, err := s.app.LoadDemo(ctx); err != nil {
				t.Fatal(err)
			}
			tg, closeTarget, err := openBackupTarget(ctx, cfg, allMigrations())
			if err != nil {
				t.Fatal(err)
			}
			defer closeTarget()
			putFile(t, tg.files, "apps/ward-round-2.1.zip", "PK app bundle", "application/zip")
			archive := filepath.Join(t.TempDir(), "node.tar.gz")
			m, err := writeBackupFile(ctx, tg, archive, backupOptions{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			for _, mg := range allMigrations() {
				if m.Schemas[mg.area] == 0 {
					t.Errorf("manifest has no schema version for area %s: %v", mg.area, m.Schemas)
				}
			}
			want := snapshot(t, tg)

			if _, err := s.app.CreateAccount(ctx, "", "night-admin", "夜班 管理员", "a long enough passphrase 2026", "system_admin"); err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(snapshot(t, tg), want) {
				t.Fatal("the new account must change the database")
			}
			s.srv.Close()
			if err := s.app.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := restoreBackup(ctx, tg, archive); err != nil {
				t.Fatal(err)
			}
			tg2, close2, err := openBackupTarget(ctx, cfg, allMigrations())
			if err != nil {
				t.Fatal(err)
			}
			defer close2()
			if got := snapshot(t, tg2); !reflect.DeepEqual(got, want) {
				t.Fatalf("restored state differs\n got: %v\nwant: %v", got, want)
			}
			// The restored node starts.
			app, err := Build(ctx, cfg, io.Discard)
			if err != nil {
				t.Fatalf("start after restore: %v", err)
			}
			app.Close()
		})
	}
}

// TestBuiltinTLS: with certificate files configured the node serves HTTPS
// only, sends HSTS and marks its sign-in cookies Secure. (Kept here with the
// other operations tests.)
func TestBuiltinTLS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Database.SQLiteSynchronous = "normal"
	cfg.Server.TLSCertFile = filepath.Join(dir, "rounds.crt")
	cfg.Server.TLSKeyFile = filepath.Join(dir, "rounds.key")
	if err := os.WriteFile(cfg.Server.TLSCertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Server.TLSKeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	app, err := Build(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.CreateAccount(ctx, "", "tls.admin", "信息中心", "tls-Secret-2026-long", "system_admin"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	base := "https://" + ln.Addr().String()

	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("healthz over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("TLS version: %+v", resp.TLS)
	}
	resp, err = client.Post(base+"/api/v1/sessions", "application/json", strings.NewReader(`{"login":"tls.admin","password":"tls-Secret-2026-long"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || len(resp.Cookies()) == 0 {
		t.Fatalf("sign in over TLS: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure", c.Name)
		}
	}
	// Plain HTTP to the TLS port gets no answer from Rounds' handlers.
	plain, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + ln.Addr().String() + "/healthz")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == 200 {
			t.Fatal("plain HTTP must not be served on the TLS listener")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func TestPgConn(t *testing.T) {
	cases := []struct {
		dsn, conn, password, schema string
	}{
		{"postgres://rounds:s3cret@db:5432/rounds?sslmode=verify-full&search_path=rounds,public&pool_max_conns=40",
			"postgres://rounds@db:5432/rounds?sslmode=verify-full", "s3cret", "rounds"},
		{"postgres://rounds@db/rounds", "postgres://rounds@db/rounds", "", ""},
		{"host=db user=rounds password='p w' dbname=rounds search_path=ward5 statement_cache_capacity=0",
			"host=db user=rounds dbname=rounds", "p w", "ward5"},
	}
	for _, c := range cases {
		t.Run(c.dsn, func(t *testing.T) {
			conn, pw, schema, err := pgConn(c.dsn)
			if err != nil || conn != c.conn || pw != c.password || schema != c.schema {
				t.Fatalf("got %q %q %q %v; want %q %q %q", conn, pw, schema, err, c.conn, c.password, c.schema)
			}
		})
	}
}

func TestPgConnRefusesUnreadableDSN(t *testing.T) {
	for _, dsn := range []string{"host=db password='s3cr3t-never-closed", "just-a-password-typo", "postgres://rounds:hunter2@db:99999x/rounds"} {
		if _, _, _, err := pgConn(dsn); err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "typo") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: want an error that does not echo the DSN, got %v", dsn, err)
		}
	}
}

// TestUnreachableBackend: a configuration pointing at a backend nobody
// answers for either stops the node at start with a message naming the
// backend, or (for backends connected lazily) leaves /readyz failing and
// naming it. Nothing is written anywhere else meanwhile.
func TestUnreachableBackend(t *testing.T) {
	cases := []struct {
		name, check, want string
		set               func(c *config.Config)
	}{
		{"postgres", "database", "database: postgres: cannot reach the database", func(c *config.Config) {
			c.Database.PostgresDSN = "postgres://rounds@127.0.0.1:1/rounds?sslmode=disable&connect_timeout=2"
		}},
		{"nats", "bus (nats)", "bus: bad NATS settings for nats://127.0.0.1:1", func(c *config.Config) { c.Bus.NATSURL = "nats://127.0.0.1:1" }},
		{"minio", "files (minio)", "files: cannot use MinIO at 127.0.0.1:1", func(c *config.Config) {
			c.Files.MinIO = config.MinIO{Endpoint: "127.0.0.1:1", AccessKey: "rounds", SecretKey: "secret-secret", Bucket: "rounds"}
		}},
		{"elasticsearch", "search (elasticsearch)", "search: cannot use Elasticsearch at [http://127.0.0.1:1]", func(c *config.Config) {
			c.Search.Elasticsearch.Addresses = []string{"http://127.0.0.1:1"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Database.SQLiteSynchronous = "normal"
			tc.set(&cfg)
			app, err := Build(ctx, cfg, io.Discard)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("start refused without naming the backend: %v", err)
				}
				t.Logf("start refused: %v", err)
				return
			}
			defer app.Close()
			code, rep := app.Ready(ctx)
			if code != http.StatusServiceUnavailable || !strings.HasPrefix(rep.Checks[tc.check], "failing: ") {
				t.Fatalf("readyz %d %+v: want 503 with %q failing", code, rep, tc.check)
			}
			for name, res := range rep.Checks {
				if name != tc.check && res != "ok" {
					t.Errorf("only %s should fail, %s says %s", tc.check, name, res)
				}
			}
		})
	}
}

// TestReadinessWhenFileStoreStops: MinIO going away under a running node
// turns /readyz to 503 naming the file store, and back once it returns.
func TestReadinessWhenFileStoreStops(t *testing.T) {
	srv := miniotest.StartServer(t)
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Database.SQLiteSynchronous = "normal"
	m := srv.Config
	cfg.Files.MinIO = config.MinIO{Endpoint: m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Bucket: m.Bucket, UseSSL: m.UseSSL, Region: m.Region}
	app, err := Build(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if code, rep := app.Ready(ctx); code != http.StatusOK {
		t.Fatalf("ready with MinIO up: %d %+v", code, rep)
	}
	srv.Stop()
	code, rep := app.Ready(ctx)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(rep.Checks["files (minio)"], "failing: ") || rep.Checks["database"] != "ok" {
		t.Fatalf("readyz with MinIO down: %d %+v", code, rep)
	}
}
