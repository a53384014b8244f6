//go:build !linux

package plugins

import "errors"

// applyLimits is a no-op where the OS gives us no per-process limits.
func applyLimits(int, Config) error { return nil }

func residentBytes(int) (int64, error) { return 0, errors.New("not supported on this OS") }
