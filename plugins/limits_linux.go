//go:build linux

package plugins

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// applyLimits sets RLIMIT_CPU on the app process. Memory is policed by the
// supervisor from the resident set (residentBytes) rather than RLIMIT_AS: a
// Go program reserves far more address space than it uses, so an address
// space limit either kills healthy apps or lets leaks run long.
func applyLimits(pid int, cfg Config) error {
	if cfg.CPULimit <= 0 {
		return nil
	}
	secs := uint64(cfg.CPULimit.Seconds())
	if secs == 0 {
		secs = 1
	}
	return unix.Prlimit(pid, unix.RLIMIT_CPU, &unix.Rlimit{Cur: secs, Max: secs + 1}, nil)
}

// residentBytes reads VmRSS of pid.
func residentBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
