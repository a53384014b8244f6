package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/builtin"
	approvalshttp "github.com/roundshq/rounds/approvals/httpapi"
	approvalstore "github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/attendance"
	attendancehttp "github.com/roundshq/rounds/attendance/httpapi"
	attendancestore "github.com/roundshq/rounds/attendance/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/im"
	imhttp "github.com/roundshq/rounds/im/httpapi"
	imstore "github.com/roundshq/rounds/im/sqlstore"
	imws "github.com/roundshq/rounds/im/ws"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/catalog"
	marketplacehttp "github.com/roundshq/rounds/marketplace/httpapi"
	marketplacestore "github.com/roundshq/rounds/marketplace/sqlstore"
	"github.com/roundshq/rounds/orgchart"
	orgcharthttp "github.com/roundshq/rounds/orgchart/httpapi"
	orgchartstore "github.com/roundshq/rounds/orgchart/sqlstore"
	"github.com/roundshq/rounds/plugins"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
	pluginstore "github.com/roundshq/rounds/plugins/sqlstore"
	"github.com/roundshq/rounds/roster"
	rosterhttp "github.com/roundshq/rounds/roster/httpapi"
	rosterstore "github.com/roundshq/rounds/roster/sqlstore"
	"time"
)

// areas holds the hospital areas of a node.
type areas struct {
	org        *orgchart.Service
	roster     *roster.Service
	attendance *attendance.Service
	im         *im.Service
	hub        *imws.Hub
	approvals  *approvals.Service
	apps       *plugins.Host
	appStore   *pluginstore.Store
}

// areaMigrations are the schema migrations of every area, applied at start.
func areaMigrations() []migration {
	return []migration{
		{orgchartstore.Area, orgchartstore.Migrations()},
		{imstore.Area, imstore.Migrations()},
		{approvalstore.Area, approvalstore.Migrations()},
		{pluginstore.Area, pluginstore.Migrations},
		{marketplacestore.Area, marketplacestore.Migrations},
		{rosterstore.Area, rosterstore.Migrations()},
		{attendancestore.Area, attendancestore.Migrations()},
	}
}

// allMigrations lists every area's migrations (core first), for start-up and
// for backups.
func allMigrations() []migration {
	return append(coreMigrations(), areaMigrations()...)
}

// wireAreas builds the hospital areas on top of the core parts.
func (a *App) wireAreas(ctx context.Context, c *coreParts) error {
	for _, m := range areaMigrations() {
		if err := a.db.Migrate(ctx, m.area, m.fs); err != nil {
			return fmt.Errorf("database migration %s: %w", m.area, err)
		}
	}
	ar := &areas{}
	a.areas = ar

	org, err := orgchart.New(orgchart.Config{
		Store: orgchartstore.New(a.db), Accounts: orgAccounts{c.identity}, Authorizer: c.authz,
		Audit: c.audit, Bus: c.bus, Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("org chart: %w", err)
	}
	if err := org.Start(ctx); err != nil {
		return fmt.Errorf("org chart: %w", err)
	}
	a.closers = append(a.closers, org.Close)
	ar.org = org
	rs := roleSync{org: org, authz: c.authz, log: a.log}
	if _, err := rs.subscribe(c.bus); err != nil {
		return err
	}
	a.roles = rs
	if err := rs.reconcile(ctx); err != nil {
		return fmt.Errorf("role sync: %w", err)
	}
	orgcharthttp.New(org, nil).Register(a.router)

	a.bots = &systemBots{app: a}
	ar.roster = roster.New(rosterstore.New(a.db), org, c.authz, c.audit, rosterNotices{a.bots}, c.bus, core.SystemClock{})
	rosterhttp.Handlers{Svc: ar.roster}.Register(a.router)

	ar.attendance = attendance.New(attendancestore.New(a.db), rosterSchedule{ar.roster}, org, c.authz, core.SystemClock{})
	attendancehttp.Handlers{Svc: ar.attendance, Names: a.staffNames}.Register(a.router)

	if err := a.wireIM(ctx, c, ar); err != nil {
		return err
	}
	if err := a.wireApprovals(ctx, c, ar); err != nil {
		return err
	}
	return a.wireApps(ctx, c, ar)
}

// wireApps starts the ISV app host: every enabled install runs as its own
// process under the scopes its organisation granted, reaching the real
// services through the host API, and hears of approvals, rosters, staff
// changes and chat messages through its hooks.
func (a *App) wireApps(ctx context.Context, c *coreParts, ar *areas) error {
	store := pluginstore.New(a.db)
	host, err := plugins.New(plugins.Config{
		ServerVersion: Version, Directory: pluginDirectory{ar.org}, Messenger: pluginMessenger{ar.im},
		Approvals: pluginApprovals{ar.approvals}, Rosters: pluginRosters{svc: ar.roster, org: ar.org},
		Attendance: pluginAttendance{svc: ar.attendance, org: ar.org}, Storage: store, Audit: c.audit,
		Alerts: pluginAlerts{c.audit}, Logger: a.log,
		// Every node runs every enabled install and hears every event; the
		// claims in the shared database let one node deliver each.
		Claims: store,
	})
	if err != nil {
		return fmt.Errorf("apps: %w", err)
	}
	ar.apps, ar.appStore = host, store
	a.closers = append(a.closers, host.Close)
	if err := (appHooks{host: host, im: ar.im, log: a.log}).subscribe(a, c.bus); err != nil {
		return err
	}
	// App pages call their routes with a page token, accepted (and renewed)
	// only while identity says the session it was issued under is active:
	// a sign-out, password change or deactivation ends the person's pages on
	// every node, a restarted one or one that missed the revocation event
	// included (identity answers from the shared database).
	host.UseSessions(c.identity)
	a.mux.Handle("/plugins/", pluginhttp.Handler(host, c.authn))
	pluginhttp.Register(a.router, host, store, c.authz)

	// The marketplace is the record of installs: at start it runs every
	// enabled install of this node from the bundles in the file store.
	var cat marketplace.Catalog
	if src := a.cfg.Marketplace.Catalog; src != "" {
		if cat, err = catalog.Open(src, nil); err != nil {
			return fmt.Errorf("marketplace.catalog %s: %w", src, err)
		}
	}
	mp, err := marketplace.New(marketplace.Config{
		Store: marketplacestore.New(a.db), Files: c.files, Catalog: cat, Host: appRunner{app: a, host: host, store: store},
		Authz: c.authz, Audit: c.audit, Staff: appVisibility{ar.org}, Departments: appVisibility{ar.org}, Bus: c.bus, DataDir: filepath.Join(a.cfg.DataDir, "apps"), Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("marketplace: %w", err)
	}
	if err := mp.Start(ctx); err != nil {
		return fmt.Errorf("marketplace: %w", err)
	}
	a.closers = append(a.closers, mp.Close) // closed before the host (closers run newest first)
	marketplacehttp.Handlers{Svc: mp}.Register(a.router)
	// Slash commands typed in chat reach the app that declares them.
	pluginhttp.Commands{Host: host, Installs: store, Chat: commandChat{ar.im}, Apps: commandApps{mp}, Audit: c.audit, Logger: a.log}.Register(a.router)
	return nil
}

// wireApprovals builds approval flows: the built-in templates in every
// organisation, cards in chat, reminders and escalation on a ticker, leavers'
// tasks handed over, and approved requests taking effect in rostering and
// attendance.
func (a *App) wireApprovals(ctx context.Context, c *coreParts, ar *areas) error {
	// The timeline's append-only guard (triggers) is dialect-specific.
	if err := approvalstore.Migrate(ctx, a.db); err != nil {
		return fmt.Errorf("database migration approvals: %w", err)
	}
	svc, err := approvals.New(approvals.Options{
		Store: approvalstore.New(a.db), Directory: ar.org, Authorizer: c.authz, Notifier: approvalNotices{a.bots},
		Finisher: approvalEffects{roster: ar.roster, attendance: ar.attendance},
		Bus:      c.bus, Audit: c.audit, Clock: core.SystemClock{}, Logger: a.log, Observer: a.metrics,
		NoticeRetryAfter: time.Duration(a.cfg.Approvals.NoticeRetryAfter),
	})
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	ar.approvals = svc
	if err := a.installTemplates(ctx); err != nil {
		return err
	}
	if _, err := c.bus.Subscribe("orgchart.staff.left", svc.OnStaffLeft); err != nil {
		return err
	}
	a.goBackground("approval reminders", func(ctx context.Context) {
		every(ctx, time.Minute, func() {
			if _, err := svc.Tick(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.log.Warn("approval reminders failed", "err", err)
			}
		})
	})
	a.goBackground("approval notices", func(ctx context.Context) {
		every(ctx, time.Second, func() {
			if _, err := svc.SweepNotices(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("approval notices: some not posted yet", "err", err)
			}
		})
	})
	approvalshttp.New(svc).Register(a.router)
	return nil
}

// installTemplates puts the built-in templates (leave, overtime, shift swap,
// business trip, purchase, referral, make-up clock-in, document circulation)
// in every organisation; ones already there are left alone.
func (a *App) installTemplates(ctx context.Context) error {
	orgs, err := a.areas.org.VisibleOrgs(ctx, core.SystemActor)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if _, err := a.areas.approvals.InstallTemplates(ctx, o.ID, builtin.Templates()); err != nil {
			return fmt.Errorf("approval templates of %s: %w", o.Code, err)
		}
	}
	return nil
}

// wireIM builds chat: the service with its jobs, department groups that
// follow the org chart, the HTTP API and the WebSocket hub.
func (a *App) wireIM(ctx context.Context, c *coreParts, ar *areas) error {
	svc := im.NewService(im.Deps{
		Store: imstore.New(a.db), Bus: c.bus, Clock: core.SystemClock{}, Directory: ar.org, Authorizer: c.authz,
		Index: c.search, OnDuty: onDuty{ar.roster}, Managers: ar.org, Files: c.files, Audit: c.audit, Logger: a.log, Observer: a.metrics,
		Bots: appBots{marketplacestore.New(a.db)},
	}, im.Config{
		RecallWindow: a.cfg.IM.RecallWindow.D(), EventRetention: a.cfg.IM.ResumeWindow.D(), MaxFileBytes: a.cfg.Files.MaxUploadBytes,
	})
	ar.im = svc
	a.closers = append(a.closers, func() error { svc.Close(context.Background()); return nil })
	if err := svc.ReconcileAll(ctx, ""); err != nil {
		return fmt.Errorf("chat: department groups: %w", err)
	}
	if _, err := svc.FollowOrgChart(c.bus); err != nil {
		return err
	}
	a.goBackground("chat jobs", svc.Run)
	a.goBackground("search indexer", func(ctx context.Context) {
		if err := svc.FollowIndex(ctx, c.searchCursor, time.Second); err != nil {
			a.log.Error("chat search indexer stopped; sends index themselves until restart", "err", err)
		}
	})
	imhttp.New(svc).Register(a.router)

	hub := imws.NewHub(svc, c.bus, c.authn, imws.Config{Logger: a.log, ObserveDelivery: a.metrics.delivered})
	if err := hub.Start(ctx); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	ar.hub = hub
	a.closers = append(a.closers, func() error { hub.Close(); return nil })
	a.router.Handle(hub.Route())
	// A socket keeps the identity it was opened with: when a session or
	// token of a person is revoked (logout, password change, deactivation)
	// their sockets close; the ones still entitled reconnect at once and
	// resume, the revoked one cannot.
	if _, err := c.bus.Subscribe(identity.RevokedSubject, func(e bus.Event) {
		if err := svc.Kick(context.Background(), string(e.Data)); err != nil {
			a.log.Warn("closing revoked sockets failed", "err", err)
		}
	}); err != nil {
		return err
	}
	return nil
}

// staffNames resolves display names for exports.
func (a *App) staffNames(ctx context.Context, orgID string, ids []string) map[string]string {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		if p, err := a.areas.org.Person(ctx, orgID, id); err == nil {
			out[id] = p.Name
		}
	}
	return out
}
