package durability_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
	"github.com/roundshq/rounds/test/internal/roundsbin"
)

// buildServer compiles cmd/rounds once per test binary run.
func buildServer(t *testing.T) string { return roundsbin.Build(t) }

func TestMain(m *testing.M) { roundsbin.Main(m) }

// server is one install of the real binary that can be killed and
// restarted on the same data directory, database and port.
type server struct {
	t       *testing.T
	bin     string
	addr    string
	env     []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	starts  int
}

func newServer(t *testing.T, bin string, extraEnv ...string) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	// The child sees none of the caller's ROUNDS_* settings, only ours.
	env := roundsbin.Env()
	// The clients flood on purpose (200 messages a second per person):
	// the per-user API limit is off.
	env = append(env, "ROUNDS_DATA_DIR="+filepath.Join(dir, "data"),
		"ROUNDS_IDENTITY_IP_ATTEMPTS=1000000", "ROUNDS_LOG_LEVEL=warn", "ROUNDS_SERVER_RATE_LIMIT_PER_USER=0")
	env = append(env, extraEnv...)
	s := &server{t: t, bin: bin, addr: addr, env: env, logPath: filepath.Join(dir, "server.log")}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.kill()
		}
		if t.Failed() {
			if b, err := os.ReadFile(s.logPath); err == nil {
				t.Logf("server log (last 4 KiB):\n%s", tail(b, 4096))
			}
		}
	})
	return s
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (s *server) base() string { return "http://" + s.addr }

// start runs the binary: the first time with the demo hospital group
// (whose accounts get the demo password), afterwards plain serve, because
// loading the demo again resets those passwords and with them the sessions
// the clients hold.
func (s *server) start(ctx context.Context) {
	s.t.Helper()
	args := []string{"serve", "-listen", s.addr}
	if s.starts == 0 {
		args = []string{"demo", "-listen", s.addr}
	}
	s.starts++
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(logf, "\n=== start %d: %v\n", s.starts, args)
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := client.New(s.base()).Ready(rctx); err != nil {
		s.t.Fatalf("start %d: %v", s.starts, err)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// freshPostgres creates a database with a random name through the admin
// DSN and drops it when the test ends; it returns the new database's DSN.
func freshPostgres(t *testing.T, adminDSN string) string {
	t.Helper()
	db, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "rounds_durability_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
