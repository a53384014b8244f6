package sqlstore

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/plugins"
)

var _ plugins.Claims = (*Store)(nil)

// Claim inserts the claim; the primary key makes exactly one caller win
// across every node sharing the database.
func (s *Store) Claim(ctx context.Context, installID, hook, key string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO plugins_hook_claims (install_id, hook, event_key, claimed_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (install_id, hook, event_key) DO NOTHING`,
		installID, hook, key, sqldb.Millis(s.now()))
	if err != nil {
		return false, core.Wrap(err, "claim app hook")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, core.Wrap(err, "claim app hook")
	}
	return n == 1, nil
}

// PruneClaims deletes claims made before before.
func (s *Store) PruneClaims(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM plugins_hook_claims WHERE claimed_at < ?`, sqldb.Millis(before))
	if err != nil {
		return 0, core.Wrap(err, "prune app hook claims")
	}
	n, err := res.RowsAffected()
	return n, core.Wrap(err, "prune app hook claims")
}
