package faults_test

// The three parts a clustered Rounds depends on, each run by the test itself
// so it can stop and start them: its own PostgreSQL cluster (initdb into a
// temp dir), its own nats-server and its own MinIO, each on a free loopback
// port that it keeps across restarts.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/roundshq/rounds/core/files/minio/miniotest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something accepts on addr.
func waitPort(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing answers on %s after %s: %w", addr, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postgres is a PostgreSQL cluster of the test's own.
type postgres struct {
	t      *testing.T
	bin    string // directory of initdb and pg_ctl
	dir    string // cluster directory
	port   int
	asUser string // run the server as this user ("" = as ourselves)
	DSN    string
}

// pgBinDir finds the newest /usr/lib/postgresql/<v>/bin with initdb.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// startPostgres creates a cluster with trust authentication on a free
// port and starts it. PostgreSQL refuses to run as root: as root the cluster
// belongs to the postgres user.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		t.Fatal("PostgreSQL's initdb not found (apt-get install postgresql)")
	}
	// Not t.TempDir: its parents are private to us, and the postgres user
	// must reach the cluster directory.
	dir, err := os.MkdirTemp("", "rounds-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &postgres{t: t, bin: bin, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		p.run("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		p.asUser = "postgres"
		u, err := user.Lookup(p.asUser)
		if err != nil {
			t.Fatalf("running as root needs the postgres user for PostgreSQL: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start()
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE rounds"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/rounds?sslmode=disable", p.port)
	return p
}

func (p *postgres) command(name string, args ...string) *exec.Cmd {
	if p.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", p.asUser, "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func (p *postgres) run(args ...string) ([]byte, error) {
	args = append([]string{"-D", filepath.Join(p.dir, "data")}, args...)
	return p.command(filepath.Join(p.bin, "pg_ctl"), args...).CombinedOutput()
}

// Start starts the server and waits until it accepts connections.
func (p *postgres) Start() {
	p.t.Helper()
	// Only TCP on loopback; the socket directory is the cluster's own, so
	// nothing meets the machine's PostgreSQL.
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=100", p.port, p.dir)
	if out, err := p.run("start", "-w", "-t", "60", "-l", filepath.Join(p.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop shuts the server down the way an outage does: every open connection
// is cut (fast mode terminates sessions and aborts their transactions).
func (p *postgres) Stop() {
	p.t.Helper()
	if out, err := p.run("stop", "-w", "-m", "fast"); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// natsServer is a nats-server of the test's own.
type natsServer struct {
	t    *testing.T
	bin  string
	port int
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nats-server"); e == nil {
			bin = "/usr/sbin/nats-server"
		} else {
			t.Fatal("nats-server not found (apt-get install nats-server)")
		}
	}
	n := &natsServer{t: t, bin: bin, port: freePort(t), log: &lockedBuffer{}}
	n.URL = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	t.Cleanup(n.stop)
	n.Start()
	return n
}

// Start runs nats-server on its port (the same one every time).
func (n *natsServer) Start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.done)
	if err := waitPort(fmt.Sprintf("127.0.0.1:%d", n.port), 15*time.Second); err != nil {
		n.t.Fatalf("nats-server: %v\n%s", err, n.log.String())
	}
}

// Stop kills nats-server (SIGKILL: an outage, not a goodbye).
func (n *natsServer) Stop() {
	n.t.Helper()
	n.stop()
}

func (n *natsServer) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// minioServer is a MinIO of the test's own, restartable on the same port
// and data directory.
type minioServer struct {
	t        *testing.T
	bin, dir string
	addr     string
	console  string
	cmd      *exec.Cmd
	done     chan struct{}
	log      *lockedBuffer
}

func startMinIO(t *testing.T) *minioServer {
	t.Helper()
	bin := miniotest.Binary()
	if bin == "" {
		t.Fatal("MinIO server binary not found (go install github.com/minio/minio@latest, as .ci/run does)")
	}
	m := &minioServer{t: t, bin: bin, dir: t.TempDir(), log: &lockedBuffer{},
		addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), console: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	t.Cleanup(m.stop)
	m.Start()
	return m
}

// Start runs MinIO and waits for its liveness check.
func (m *minioServer) Start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "server", filepath.Join(m.dir, "data"), "--address", m.addr, "--console-address", m.console, "--quiet")
	m.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+miniotest.AccessKey, "MINIO_ROOT_PASSWORD="+miniotest.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CONFIG_DIR="+filepath.Join(m.dir, "config"), "HOME="+m.dir)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+m.addr+"/minio/health/live", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-m.done:
			m.t.Fatalf("minio exited: %s", m.log.String())
		case <-ctx.Done():
			m.t.Fatalf("minio not live within 60s: %s", m.log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop kills MinIO.
func (m *minioServer) Stop() {
	m.t.Helper()
	m.stop()
}

func (m *minioServer) stop() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
	m.cmd = nil
}

// env is the server's configuration for this MinIO.
func (m *minioServer) env() []string {
	return []string{"ROUNDS_FILES_MINIO_ENDPOINT=" + m.addr, "ROUNDS_FILES_MINIO_ACCESS_KEY=" + miniotest.AccessKey,
		"ROUNDS_FILES_MINIO_SECRET_KEY=" + miniotest.SecretKey, "ROUNDS_FILES_MINIO_BUCKET=rounds-faults"}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}
