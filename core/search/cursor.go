package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/roundshq/rounds/core"
)

// FileCursor keeps a follower's log position in a small file, written
// atomically (temporary file, fsync, rename), so an indexer that follows a
// log can say how far its index has taken it. Keep the file beside the index
// it describes.
type FileCursor struct{ Path string }

// Load reads the position; ok is false when the file does not exist.
func (c FileCursor) Load(context.Context) (int64, bool, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, &core.Error{Code: core.EUnavailable, Message: "reading the index cursor", Err: err}
	}
	pos, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || pos < 0 {
		// A torn or foreign file: start again from the log's head.
		return 0, false, nil
	}
	return pos, true, nil
}

// Save writes pos durably.
func (c FileCursor) Save(_ context.Context, pos int64) error {
	dir := filepath.Dir(c.Path)
	f, err := os.CreateTemp(dir, ".cursor-*")
	if err != nil {
		return &core.Error{Code: core.EUnavailable, Message: "saving the index cursor", Err: err}
	}
	defer os.Remove(f.Name())
	if _, err = fmt.Fprintf(f, "%d\n", pos); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.Path)
	}
	if err != nil {
		return &core.Error{Code: core.EUnavailable, Message: "saving the index cursor", Err: err}
	}
	return nil
}
