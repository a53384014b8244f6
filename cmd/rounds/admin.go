package main

import (
	"context"
	"io"
)

func cmdAdmin(ctx context.Context, args []string, stdout io.Writer) error {
	return usageError{"admin: not wired yet"}
}
