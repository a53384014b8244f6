package plugins_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/plugins/sqlstore"
)

// clusterNode is one server's app host in a test cluster: its own host and app
// processes, the database (storage and claims) shared with the other nodes.
func clusterNode(t *testing.T, store *sqlstore.Store, msgs *messenger, claims bool) *plugins.Host {
	t.Helper()
	cfg := plugins.Config{ServerVersion: "0.1.0", Directory: directory{}, Messenger: msgs, Storage: store,
		Audit: &auditLog{}, Alerts: &alerts{}, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
		HookTimeout: 5 * time.Second, JobEvery: 250 * time.Millisecond}
	if claims {
		cfg.Claims = store
	}
	h, err := plugins.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// clusterInstall is one install with a scheduled job, every hook and the
// scopes they need, as the marketplace records it for every node.
func clusterInstall(t *testing.T, appID string) plugins.Install {
	m := baseManifest(appID)
	m.Jobs = []sdk.JobSpec{{Name: "reminder", Every: "1m"}}
	dir := bundle(t, m)
	return plugins.Install{ID: core.NewID(), OrgID: "org1", AppID: appID, BotUserID: "bot-" + appID, Dir: dir,
		Checksum: checksum(t, filepath.Join(dir, "testapp")),
		Grants:   append(allGrants(), plugins.Grant{Scope: sdk.ScopeApprovalsRead}, plugins.Grant{Scope: sdk.ScopeRosterRead})}
}

// deliverEverywhere hands the same events to every node at once, as each
// node's bus subscriber and chat-log follower do in a cluster.
func deliverEverywhere(t *testing.T, nodes []*plugins.Host, prefix string) {
	t.Helper()
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, h := range nodes {
		calls := []func(context.Context) error{}
		for i := range 5 {
			m := sdk.Message{ID: fmt.Sprintf("%sm%d", prefix, i), ConversationID: "ward5", SenderID: "nurse1", Text: fmt.Sprintf("5床 %d", i)}
			calls = append(calls, func(ctx context.Context) error { return h.MessagePosted(ctx, "org1", m) })
		}
		for i := range 2 {
			a := sdk.ApprovalFinished{ApprovalID: fmt.Sprintf("%sa%d", prefix, i), Template: "leave", Outcome: "approved", At: at}
			calls = append(calls, func(ctx context.Context) error { return h.ApprovalFinished(ctx, "org1", a) })
			r := sdk.RosterPublished{RosterID: fmt.Sprintf("%sr%d", prefix, i), DepartmentID: "cardio", Month: "2026-12", At: at}
			calls = append(calls, func(ctx context.Context) error { return h.RosterPublished(ctx, "org1", r) })
			s := sdk.StaffChange{UserID: fmt.Sprintf("%su%d", prefix, i), DepartmentID: "cardio", Joined: i == 0, At: at}
			calls = append(calls, func(ctx context.Context) error { return h.StaffChanged(ctx, "org1", s) })
		}
		for _, call := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := call(context.Background()); err != nil {
					t.Errorf("deliver: %v", err)
				}
			}()
		}
	}
	wg.Wait()
}

// deliveries counts the app's delivery records per event under
// delivered/<hook>/.
func deliveries(t *testing.T, store *sqlstore.Store, installID, hook string) map[string]int {
	t.Helper()
	keys, err := store.Keys(context.Background(), installID, "delivered/"+hook+"/", 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, "delivered/"+hook+"/")
		out[rest[:strings.LastIndex(rest, "/")]]++
	}
	return out
}

// TestHooksOnceAcrossNodes runs one install on two hosts sharing a
// database, as two Rounds nodes do, hands both nodes the same events at
// once and lets both schedule the install's job: the app hears each event
// and runs each job slot once. Without claims it hears everything twice,
// which is what the claims are for.
func TestHooksOnceAcrossNodes(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		store := sqlstore.New(db)
		t.Run("with claims each event once", func(t *testing.T) {
			msgs := newMessenger()
			nodes := []*plugins.Host{clusterNode(t, store, msgs, true), clusterNode(t, store, msgs, true)}
			inst := clusterInstall(t, "ward-app")
			msgs.add("ward5", inst.BotUserID)
			for _, h := range nodes {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := h.Start(ctx, inst); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			deliverEverywhere(t, nodes, "")
			want := map[string]int{"message": 5, "approval": 2, "roster": 2, "staff": 2}
			for hook, n := range want {
				got := deliveries(t, store, inst.ID, hook)
				if len(got) != n {
					t.Errorf("%s: %d events delivered, want %d: %v", hook, len(got), n, got)
				}
				for ev, c := range got {
					if c != 1 {
						t.Errorf("%s %s delivered %d times", hook, ev, c)
					}
				}
			}
			if echoes := len(msgs.Sent()); echoes != 5 {
				t.Errorf("the app answered %d times in ward5, want 5: %v", echoes, msgs.Sent())
			}
			// Both nodes schedule the job every 250ms; each slot runs once.
			waitFor(t, "four job slots", 10*time.Second, func() bool { return len(deliveries(t, store, inst.ID, "job")) >= 4 })
			for slot, c := range deliveries(t, store, inst.ID, "job") {
				if c != 1 {
					t.Errorf("job slot %s ran %d times", slot, c)
				}
			}
		})
		t.Run("without claims each node delivers", func(t *testing.T) {
			msgs := newMessenger()
			nodes := []*plugins.Host{clusterNode(t, store, msgs, false), clusterNode(t, store, msgs, false)}
			inst := clusterInstall(t, "ward-app-unclaimed")
			msgs.add("ward5", inst.BotUserID)
			for _, h := range nodes {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := h.Start(ctx, inst); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			deliverEverywhere(t, nodes, "x")
			got := deliveries(t, store, inst.ID, "message")
			if len(got) != 5 {
				t.Fatalf("%d messages delivered, want 5: %v", len(got), got)
			}
			for ev, c := range got {
				if c != 2 {
					t.Errorf("message %s delivered %d times without claims, want 2 (one per node)", ev, c)
				}
			}
		})
	})
}
