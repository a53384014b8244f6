package identity

import (
	"context"
	"log/slog"
	"time"

	"github.com/roundshq/rounds/core/bus"
)

// RevokedSubject is published, with the user id as data, after any of that
// user's sessions or tokens was revoked. Every node drops its cached
// authentications of the user when it hears it.
const RevokedSubject = "identity.user.revoked"

// UseBus links this node's authentication cache to the others': revocations
// here are published on RevokedSubject, and revocations anywhere make this
// node forget the user at once. Without it a revoked token may still be
// accepted by another node for up to AuthCacheTTL. Delivery is at most once,
// so the TTL stays the backstop. Call it once at start-up; stop the returned
// subscription at shutdown.
func (s *Service) UseBus(b bus.Bus) (bus.Subscription, error) {
	sub, err := b.Subscribe(RevokedSubject, func(e bus.Event) { s.ForgetUser(string(e.Data)) })
	if err != nil {
		return nil, err
	}
	s.OnRevoke(func(userID string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := b.Publish(ctx, RevokedSubject, []byte(userID)); err != nil {
			slog.Warn("identity: could not announce a revocation; other nodes catch up within the cache TTL", "user", userID, "err", err)
		}
	})
	return sub, nil
}
