package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	audithttp "github.com/roundshq/rounds/core/audit/httpapi"
	"github.com/roundshq/rounds/core/authz"
	authzhttp "github.com/roundshq/rounds/core/authz/httpapi"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/inproc"
	natsbus "github.com/roundshq/rounds/core/bus/nats"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	miniofiles "github.com/roundshq/rounds/core/files/minio"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/identity"
	identityhttp "github.com/roundshq/rounds/core/identity/httpapi"
	identitystore "github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/search"
	blevesearch "github.com/roundshq/rounds/core/search/bleve"
	essearch "github.com/roundshq/rounds/core/search/elasticsearch"
)

// core holds the cross-cutting services every area is wired with.
type coreParts struct {
	bus    bus.Bus
	files  files.Store
	search search.Index
	// searchCursor is how far the index has followed the chat log (a file
	// beside the index: each node follows the log into its own Bleve).
	searchCursor search.FileCursor
	audit        *audit.Log
	authz        *authz.Enforcer
	identity     *identity.Service
	authn        *identityhttp.Authenticator
	httpCfg      identityhttp.Config
}

// wire builds the adapters and areas and registers their routes.
func (a *App) wire(ctx context.Context) error {
	c, err := a.wireCore(ctx)
	if err != nil {
		return err
	}
	a.core = c
	// Every API route is limited per person. Opening the chat socket is one
	// request; its frames are not counted, and its re-check after the
	// upgrade and the app pages under /plugins/ use c.authn unlimited.
	a.router = httpapi.NewRouter(a.mux, identityhttp.LimitPerUser(c.authn, identityhttp.UserRate{
		PerSecond: a.cfg.Server.RateLimitPerUser, Burst: a.cfg.Server.RateLimitBurst}), a.reg)
	identityhttp.Handlers{Service: c.identity, Config: c.httpCfg}.Register(a.router)
	authzhttp.New(c.authz).Register(a.router)
	audithttp.New(c.audit).Register(a.router)
	return a.wireAreas(ctx, c)
}

func (a *App) wireCore(ctx context.Context) (*coreParts, error) {
	cfg := a.cfg
	c := &coreParts{}
	for _, m := range coreMigrations() {
		if err := a.db.Migrate(ctx, m.area, m.fs); err != nil {
			return nil, fmt.Errorf("database migration %s: %w", m.area, err)
		}
	}

	// Event bus.
	if cfg.Bus.NATSURL != "" {
		b, err := natsbus.Connect(cfg.Bus.NATSURL, natsbus.Options{Prefix: cfg.Bus.SubjectPrefix, Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("bus: bad NATS settings for %s: %w", cfg.Bus.NATSURL, err)
		}
		c.bus = b
		a.checks = append(a.checks, readyCheck{"bus (nats)", b.Ping})
	} else {
		// A large import publishes one event per person: give each
		// subscription room for a whole hospital.
		c.bus = inproc.New(inproc.WithLogger(a.log), inproc.WithQueueSize(1<<16))
		a.checks = append(a.checks, readyCheck{"bus (in-process)", c.bus.Ping})
	}
	a.closers = append(a.closers, c.bus.Close)

	// File store.
	if m := cfg.Files.MinIO; m.Endpoint != "" {
		s, err := miniofiles.New(ctx, miniofiles.Config{Endpoint: m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Bucket: m.Bucket, UseSSL: m.UseSSL, Region: m.Region})
		if err != nil {
			return nil, fmt.Errorf("files: cannot use MinIO at %s: %w", m.Endpoint, err)
		}
		c.files = s
		a.checks = append(a.checks, readyCheck{"files (minio)", s.Ping})
	} else {
		s, err := localdisk.New(filepath.Join(cfg.DataDir, "files"))
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		c.files = s
		a.checks = append(a.checks, readyCheck{"files (local disk)", s.Ping})
	}

	// Search index.
	if es := cfg.Search.Elasticsearch; len(es.Addresses) > 0 {
		ix, err := essearch.New(essearch.Config{Addresses: es.Addresses, Username: es.Username, Password: es.Password, IndexName: es.Index})
		if err != nil {
			return nil, fmt.Errorf("search: cannot use Elasticsearch at %v: %w", es.Addresses, err)
		}
		c.search = ix
		c.searchCursor = search.FileCursor{Path: filepath.Join(cfg.DataDir, "search-elasticsearch.cursor")}
		a.checks = append(a.checks, readyCheck{"search (elasticsearch)", ix.Ping})
	} else {
		ix, err := blevesearch.Open(filepath.Join(cfg.DataDir, "search"))
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		c.search = ix
		c.searchCursor = search.FileCursor{Path: filepath.Join(cfg.DataDir, "search.cursor")}
		a.checks = append(a.checks, readyCheck{"search (bleve)", ix.Ping})
	}
	a.closers = append(a.closers, c.search.Close)

	// Audit and authorization need each other: authz records its changes in
	// the audit log, the audit log asks authz who may read it.
	c.audit = audit.New(a.db, audit.Options{})
	enf, err := authz.New(ctx, a.db, authz.Options{Recorder: c.audit, Member: func(ctx context.Context, orgID, userID string) (bool, error) {
		if c.identity == nil {
			return true, nil
		}
		u, err := c.identity.GetUser(ctx, core.SystemActor, userID)
		if core.IsCode(err, core.ENotFound) {
			return false, nil
		}
		return err == nil && u.OrgID == orgID, err
	}, OnChange: func(ctx context.Context) {
		// Other nodes reload their policy when they hear of a change.
		_ = c.bus.Publish(ctx, subjectAuthzChanged, nil)
	}, Objects: []authz.Object{
		{Name: "roster.settings", Actions: []string{"read", "write"}},
		{Name: "attendance.settings", Actions: []string{"read", "write"}},
		// Chat retention, legal holds and exports (im checks these), so
		// capabilities list them and custom roles may name them.
		{Name: "im.retention", Actions: []string{"admin"}},
		{Name: "im.export", Actions: []string{"export"}},
	}})
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	c.audit.SetAuthorizer(enf)
	c.authz = enf
	if _, err := c.bus.Subscribe(subjectAuthzChanged, func(bus.Event) {
		if err := enf.Reload(context.Background()); err != nil {
			a.log.Error("authz reload failed", "err", err)
		}
	}); err != nil {
		return nil, err
	}

	ic := identity.DefaultConfig()
	ic.SessionTTL = cfg.Identity.SessionLifetime.D()
	ic.SessionIdle = cfg.Identity.IdleTimeout.D()
	ic.MaxAccountFailures = cfg.Identity.LockoutThreshold
	ic.AccountLockout = cfg.Identity.LockoutDuration.D()
	ic.MaxIPFailures = cfg.Identity.IPAttempts
	ic.IPWindow = cfg.Identity.IPWindow.D()
	c.identity = identity.New(identitystore.New(a.db), ic, enf, c.audit, core.SystemClock{})
	if _, err := c.identity.UseBus(c.bus); err != nil {
		return nil, err
	}
	a.goBackground("identity prune", func(ctx context.Context) {
		every(ctx, time.Hour, func() {
			if err := c.identity.Prune(ctx); err != nil {
				a.log.Warn("identity prune failed", "err", err)
			}
		})
	})
	proxies, err := identityhttp.ParseTrustedProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server.trusted_proxies: %w", err)
	}
	c.httpCfg = identityhttp.Config{SecureCookies: cfg.Identity.SecureCookies || cfg.Server.TLSCertFile != "", TrustedProxies: proxies}
	c.authn = identityhttp.NewAuthenticator(c.identity, c.httpCfg)
	return c, nil
}

// subjectAuthzChanged tells every node to reload the casbin policy.
const subjectAuthzChanged = "authz.changed"

type migration struct {
	area string
	fs   fs.FS
}

func coreMigrations() []migration {
	return []migration{
		{identitystore.Area, identitystore.Migrations()},
		{authz.Area, authz.Migrations},
		{audit.Area, audit.Migrations},
	}
}

// beforeShutdown closes long-lived connections (WebSockets) so clients
// reconnect elsewhere promptly.
func (a *App) beforeShutdown() {
	if a.areas != nil && a.areas.hub != nil {
		a.areas.hub.Close() // going-away close frames; clients reconnect and resume
	}
}

func notFoundRoute(r *http.Request) error {
	return core.Errorf(core.ENotFound, "no API route %s %s", r.Method, r.URL.Path)
}

// every runs fn now and then at each interval until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
