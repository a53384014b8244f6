// Package miniotest starts a real, throwaway MinIO server for tests that need
// an S3 file store (the miniofiles contract suite, chat uploads …).
//
// Tests using it run only when ROUNDS_TEST_MINIO=1 and skip otherwise. The
// server binary is $ROUNDS_TEST_MINIO_BIN, else `minio` in GOPATH/bin, else
// `minio` on PATH; when it is missing the test skips, or fails when
// ROUNDS_TEST_REQUIRE_SERVICES=1. Each Start runs its own server on free
// 127.0.0.1 ports with its data in a temp dir, stopped at the test's cleanup.
package miniotest

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	miniofiles "github.com/roundshq/rounds/core/files/minio"
)

// Credentials of every test server.
const (
	AccessKey = "roundstest"
	SecretKey = "roundstest-secret-key"
)

// Binary returns the MinIO server binary, or "" when there is none.
func Binary() string {
	if p := os.Getenv("ROUNDS_TEST_MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "minio")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	return ""
}

// Start starts a MinIO server for t and returns a Config for it, with a
// bucket name of its own (miniofiles.New creates it). It skips t without
// ROUNDS_TEST_MINIO=1 (see the package doc).
func Start(t testing.TB) miniofiles.Config {
	t.Helper()
	return StartServer(t).Config
}

// Server is a running test MinIO.
type Server struct {
	Config miniofiles.Config
	// Stop stops the server early (tests of an unreachable store); it also
	// runs at cleanup.
	Stop func()
}

// StartServer is Start for tests that also stop the server themselves.
func StartServer(t testing.TB) Server {
	t.Helper()
	if os.Getenv("ROUNDS_TEST_MINIO") != "1" {
		t.Skip("ROUNDS_TEST_MINIO!=1: MinIO tests skipped")
	}
	bin := Binary()
	if bin == "" {
		if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("MinIO server binary not found (go install github.com/minio/minio@latest) but services are required")
		}
		t.Skip("MinIO server binary not found: MinIO tests skipped")
	}
	var lastErr error
	// A free port can be taken between choosing it and MinIO binding it;
	// try a few times.
	for range 3 {
		srv, err := start(t, bin)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("start MinIO: %v", lastErr)
	return Server{}
}

func start(t testing.TB, bin string) (Server, error) {
	dir := t.TempDir()
	api, console := freePort(t), freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(api)
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--console-address", "127.0.0.1:"+strconv.Itoa(console), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+AccessKey,
		"MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CONFIG_DIR="+filepath.Join(dir, "config"),
		"HOME="+dir,
	)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return Server{}, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/minio/health/live", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			return Server{}, fmt.Errorf("minio exited: %s", out.String())
		case <-ctx.Done():
			stop()
			return Server{}, fmt.Errorf("minio not live within 60s: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Cleanup(stop)
	return Server{Stop: stop, Config: miniofiles.Config{
		Endpoint:  addr,
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		Bucket:    "rounds-test",
		Region:    "us-east-1",
	}}, nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
	return l.b.String()
}
