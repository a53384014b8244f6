// Package roundsbin builds the real server binary once per test binary and
// prepares the environment a child server runs with. The durability and
// fault suites use it to run, kill and restart real Rounds processes.
package roundsbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var build struct {
	sync.Once
	dir, bin string
	err      error
}

// Build compiles cmd/rounds on first use and returns the binary's path.
func Build(t *testing.T) string {
	t.Helper()
	build.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "rounds-bin-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "rounds")
		cmd := exec.Command("go", "build", "-o", build.bin, "github.com/roundshq/rounds/cmd/rounds")
		cmd.Stderr = os.Stderr
		build.err = cmd.Run()
	})
	if build.err != nil {
		t.Fatalf("go build cmd/rounds: %v", build.err)
	}
	return build.bin
}

// Main runs the package's tests and removes the built binary afterwards;
// call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// Env is this process's environment without any ROUNDS_* variable, so a
// child server sees only the settings its test gives it.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROUNDS_") {
			env = append(env, kv)
		}
	}
	return env
}
