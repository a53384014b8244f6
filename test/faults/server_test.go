package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
	"github.com/roundshq/rounds/test/internal/roundsbin"
)

// buildServer compiles cmd/rounds once per test binary run.
func buildServer(t *testing.T) string { return roundsbin.Build(t) }

func TestMain(m *testing.M) { roundsbin.Main(m) }

// node is one running Rounds process.
type node struct {
	t       *testing.T
	name    string
	addr    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startNode runs the binary with the given environment: "demo" loads the
// demo hospital group first (once, on the first node), "serve" just serves.
func startNode(t *testing.T, bin, name, mode string, env []string) *node {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, addr: l.Addr().String(), logPath: filepath.Join(t.TempDir(), "server.log")}
	l.Close()
	full := append(roundsbin.Env(), "ROUNDS_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "ROUNDS_IDENTITY_IP_ATTEMPTS=1000000", "ROUNDS_LOG_LEVEL=warn")
	full = append(full, env...)
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, mode, "-listen", n.addr)
	n.cmd.Env = full
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); logf.Close(); close(n.exited) }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(20 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
		if t.Failed() {
			if b, err := os.ReadFile(n.logPath); err == nil {
				if len(b) > 6000 {
					b = b[len(b)-6000:]
				}
				t.Logf("node %s log (end):\n%s", name, b)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := client.New(n.base()).Ready(ctx); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return n
}

func (n *node) base() string { return "http://" + n.addr }

// running fails the test when the process has exited: a failing part must
// never take a node down.
func (n *node) running() {
	n.t.Helper()
	select {
	case <-n.exited:
		n.t.Fatalf("node %s exited", n.name)
	default:
	}
}

// readiness is the /readyz answer.
type readiness struct {
	Status int
	Body   struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	Took time.Duration
}

func (n *node) readyz(t *testing.T) readiness {
	t.Helper()
	var r readiness
	start := time.Now()
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Get(n.base() + "/readyz")
	if err != nil {
		t.Fatalf("node %s /readyz: %v", n.name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r.Status, r.Took = resp.StatusCode, time.Since(start)
	if err := json.Unmarshal(data, &r.Body); err != nil {
		t.Fatalf("node %s /readyz: %v: %s", n.name, err, data)
	}
	return r
}

// failing returns the names of the failing checks.
func (r readiness) failing() []string {
	var out []string
	for k, v := range r.Body.Checks {
		if v != "ok" {
			out = append(out, k)
		}
	}
	return out
}

func (r readiness) String() string {
	b, _ := json.Marshal(r.Body)
	return fmt.Sprintf("%d %s (in %s)", r.Status, b, r.Took.Round(time.Millisecond))
}

// waitReady waits until /readyz is 200 again, without anyone restarting the
// node, and returns how long it took.
func (n *node) waitReady(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last readiness
	for time.Since(start) < within {
		n.running()
		last = n.readyz(t)
		if last.Status == 200 {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("node %s not ready again within %s: %s", n.name, within, last)
	return 0
}

// waitNotReady waits until /readyz is 503 with check failing and returns it.
func (n *node) waitNotReady(t *testing.T, check string, within time.Duration) readiness {
	t.Helper()
	start := time.Now()
	var last readiness
	for time.Since(start) < within {
		last = n.readyz(t)
		if last.Status == 503 && last.Body.Status == "not ready" && strings.HasPrefix(last.Body.Checks[check], "failing") {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("node %s: want /readyz 503 with %q failing within %s, got %s", n.name, check, within, last)
	return last
}
