package plugins_test

import (
	"context"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/identity"
	identitystore "github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins"
)

// BenchmarkPageTokenCheck is the check every app route call made with a
// page token pays before it is forwarded: the signature and expiry alone
// (a host without UseSessions, as before sessions were checked), then with
// identity's answer on whether the session is active — from its cache, as
// on nearly every call, and from the database (SQLite), as once per
// AuthCacheTTL per session and node.
func BenchmarkPageTokenCheck(b *testing.B) {
	for _, bc := range []struct {
		name     string
		sessions bool
		cacheTTL time.Duration
	}{
		{"signature-only", false, 0},
		{"session-cached", true, 10 * time.Second},
		{"session-uncached", true, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b, nil)
			orgID := core.NewID()
			actor := core.Actor{UserID: core.NewID(), OrgID: orgID, Kind: core.ActorUser, SessionID: core.NewID()}
			if bc.sessions {
				db := sqldbtest.OpenSQLite(b, sqldbtest.Migration{Area: identitystore.Area, FS: identitystore.Migrations()})
				id := identity.New(identitystore.New(db), identity.Config{AuthCacheTTL: bc.cacheTTL,
					Argon2: identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}}, nil, nil, core.SystemClock{})
				u, err := id.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: orgID, Login: "nurse.li", Password: "ward-five-nights"})
				if err != nil {
					b.Fatal(err)
				}
				s, _, err := id.Login(ctx, "nurse.li", "ward-five-nights", "")
				if err != nil {
					b.Fatal(err)
				}
				actor.UserID, actor.SessionID = u.ID, s.ID
				e.host.UseSessions(id)
			}
			tok, err := e.host.IssuePageToken(ctx, actor, plugins.Route{InstallID: core.NewID(), AppID: "web-app"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.host.PageActor(ctx, tok, "web-app"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
