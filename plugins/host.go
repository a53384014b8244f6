package plugins

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Config configures the host. Zero durations and limits take the defaults
// noted.
type Config struct {
	ServerVersion string // e.g. "0.1.0"; compared with manifests' min_server_version

	Directory  Directory
	Messenger  Messenger
	Approvals  Approvals
	Rosters    Rosters
	Attendance Attendance
	Storage    Storage
	Audit      audit.Recorder
	Alerts     Alerts
	Logger     *slog.Logger
	// Claims, when set, makes every hook delivery and scheduled job run
	// once across the nodes sharing it (nil: a single node, every
	// delivery happens). Claims are kept ClaimRetention (24h).
	Claims         Claims
	ClaimRetention time.Duration
	// JobEvery, when set, runs every scheduled job on this period instead
	// of its manifest's (which is at least a minute): for tests.
	JobEvery time.Duration

	HookTimeout    time.Duration // deadline of every hook call (5s)
	StartTimeout   time.Duration // process start and activation (10s)
	HealthInterval time.Duration // Ping and memory check period (5s)
	// HealthTimeout is how long a health Ping may take (5s), apart from
	// HookTimeout: a busy machine must not turn a short hook deadline into
	// a stream of failed health checks and a disabled app.
	HealthTimeout time.Duration
	BackoffMin    time.Duration // first restart delay (250ms), doubling
	BackoffMax    time.Duration // longest restart delay (1m)
	MaxCrashes    int           // crashes within CrashWindow that disable an install (5)
	CrashWindow   time.Duration // (10m)
	// MemoryLimit is the resident memory (bytes) above which an app is
	// killed and counted as crashed (512 MiB). Checked every
	// HealthInterval from /proc on Linux.
	MemoryLimit int64
	// CPULimit sets RLIMIT_CPU on the app process (0: none): the kernel
	// kills an app that burns more CPU time than this in its life.
	CPULimit time.Duration
	APIRate  float64 // host-API calls per second per install (500)
	APIBurst int     // (1000)
	MaxMsg   int     // largest gRPC message accepted from an app (2 MiB)

	// Now is the clock of page tokens (time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HookTimeout, 5*time.Second)
	def(&c.StartTimeout, 10*time.Second)
	def(&c.HealthInterval, 5*time.Second)
	def(&c.HealthTimeout, 5*time.Second)
	def(&c.BackoffMin, 250*time.Millisecond)
	def(&c.BackoffMax, time.Minute)
	def(&c.CrashWindow, 10*time.Minute)
	def(&c.ClaimRetention, 24*time.Hour)
	if c.MaxCrashes <= 0 {
		c.MaxCrashes = 5
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = 512 << 20
	}
	if c.APIRate <= 0 {
		c.APIRate = 500
	}
	if c.APIBurst <= 0 {
		c.APIBurst = 1000
	}
	if c.MaxMsg <= 0 {
		c.MaxMsg = 2 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ServerVersion == "" {
		c.ServerVersion = "0.1.0"
	}
}

// Host runs app installs.
type Host struct {
	cfg   Config
	log   *slog.Logger
	perms *Permissions
	// tokens are the page tokens: the pages' way to call their own routes
	// from the sandbox (see the package doc).
	tokens *pageTokens

	mu      sync.Mutex
	runners map[string]*runner // install id -> runner
	closed  bool

	stopPrune chan struct{} // closed by Close
	pruned    chan struct{} // closed when the pruner has stopped
}

// New returns a host with no installs running.
func New(cfg Config) (*Host, error) {
	cfg.defaults()
	p, err := NewPermissions()
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, log: cfg.Logger, perms: p, tokens: &pageTokens{storage: cfg.Storage, now: cfg.Now},
		runners: map[string]*runner{}, stopPrune: make(chan struct{}), pruned: make(chan struct{})}
	go h.pruneClaims()
	return h, nil
}

// pruneClaims forgets old delivery claims at start and then hourly (or
// every quarter of the retention when that is shorter), until Close.
func (h *Host) pruneClaims() {
	defer close(h.pruned)
	if h.cfg.Claims == nil {
		return
	}
	every := min(h.cfg.ClaimRetention/4, time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if n, err := h.cfg.Claims.PruneClaims(ctx, time.Now().Add(-h.cfg.ClaimRetention)); err != nil {
			h.log.Warn("cannot prune app hook claims", "err", err)
		} else if n > 0 {
			h.log.Debug("pruned app hook claims", "n", n)
		}
		cancel()
		select {
		case <-h.stopPrune:
			return
		case <-t.C:
		}
	}
}

// claim reports whether this node delivers hook's event key to r: always
// without Claims; otherwise only the first node to claim it does. A claim
// that cannot be recorded is not delivered (at most once): the database it
// needs is the one the app's host API needs too.
func (h *Host) claim(ctx context.Context, r *runner, hook, key string) bool {
	if h.cfg.Claims == nil {
		return true
	}
	ok, err := h.cfg.Claims.Claim(ctx, r.inst.ID, hook, key)
	if err != nil {
		h.log.Warn("cannot claim app hook delivery; skipped", "app_id", r.inst.AppID, "install_id", r.inst.ID, "hook", hook, "key", key, "err", err)
		return false
	}
	return ok
}

// Permissions returns the host's policy (for tests and benchmarks).
func (h *Host) Permissions() *Permissions { return h.perms }

// Status is an install's state as the admin console shows it.
type Status struct {
	InstallID string    `json:"install_id"`
	OrgID     string    `json:"org_id"`
	AppID     string    `json:"app_id"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	State     string    `json:"state"` // starting, running, restarting, disabled, stopped
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	Pid       string    `json:"pid,omitempty"`
	Since     time.Time `json:"since"`
}

// States of an install.
const (
	StateStarting   = "starting"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateDisabled   = "disabled"
	StateStopped    = "stopped"
)

// Start validates inst against its bundle and starts its process under
// supervision. It returns once the app is running and activated, or with the
// first start's error (the supervisor keeps retrying with back-off unless the
// install is invalid, or the app speaks another protocol version: then it is
// disabled at once, EInvalid on field protocol_version naming both versions). Starting a running install restarts it with the new
// record.
func (h *Host) Start(ctx context.Context, inst Install) error {
	b, err := LoadBundle(inst.Dir)
	if err != nil {
		return err
	}
	sum, err := checkInstall(inst, b, h.cfg.ServerVersion)
	if err != nil {
		return err
	}
	scopes := make([]string, 0, len(inst.Grants))
	for _, g := range inst.Grants {
		scopes = append(scopes, g.Scope)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return core.Errorf(core.EUnavailable, "the app host is shutting down")
	}
	old := h.runners[inst.ID]
	delete(h.runners, inst.ID)
	h.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if err := h.perms.Set(inst.ID, inst.OrgID, scopes); err != nil {
		return err
	}
	r := newRunner(h, inst, b, sum)
	h.mu.Lock()
	h.runners[inst.ID] = r
	h.mu.Unlock()
	go r.run()
	select {
	case err := <-r.firstStart:
		if refused, ok := errors.AsType[*refusal](err); ok {
			return refused.err // the install is disabled; the runner stays to show why
		}
		return err
	case <-ctx.Done():
		return core.Errorf(core.EUnavailable, "the app did not start in time")
	}
}

// Stop stops an install's process and revokes its grants (disable).
func (h *Host) Stop(installID string) error {
	h.mu.Lock()
	r := h.runners[installID]
	delete(h.runners, installID)
	h.mu.Unlock()
	if r == nil {
		return core.Errorf(core.ENotFound, "install %s is not running", installID)
	}
	r.stop()
	return h.perms.Revoke(installID)
}

// Close stops every install.
func (h *Host) Close() error {
	h.mu.Lock()
	if !h.closed {
		close(h.stopPrune)
	}
	h.closed = true
	rs := h.runners
	h.runners = map[string]*runner{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for id, r := range rs {
		wg.Add(1)
		go func() { defer wg.Done(); r.stop() }()
		_ = h.perms.Revoke(id)
	}
	wg.Wait()
	<-h.pruned
	return nil
}

// Statuses lists the installs of orgID ("" for all), by app id.
func (h *Host) Statuses(orgID string) []Status {
	h.mu.Lock()
	rs := make([]*runner, 0, len(h.runners))
	for _, r := range h.runners {
		if orgID == "" || r.inst.OrgID == orgID {
			rs = append(rs, r)
		}
	}
	h.mu.Unlock()
	out := make([]Status, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppID+out[i].InstallID < out[j].AppID+out[j].InstallID })
	return out
}

// Status returns one install's state.
func (h *Host) Status(installID string) (Status, error) {
	r := h.runner(installID)
	if r == nil {
		return Status{}, core.Errorf(core.ENotFound, "install %s is not running", installID)
	}
	return r.status(), nil
}

func (h *Host) runner(installID string) *runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runners[installID]
}

// installsFor returns the runners of orgID implementing hook.
func (h *Host) installsFor(orgID, hook string) []*runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*runner
	for _, r := range h.runners {
		if r.inst.OrgID == orgID && (hook == "" || r.bundle.Manifest.Implements(hook)) {
			out = append(out, r)
		}
	}
	return out
}

// call runs fn against the install's app with the hook deadline. An app
// that overruns it is treated as hung: its process is restarted.
func (h *Host) call(ctx context.Context, r *runner, hook string, fn func(ctx context.Context, app *sdk.AppClient) error) error {
	app := r.app()
	if app == nil {
		return core.Errorf(core.EUnavailable, "the app %s is not running", r.inst.AppID)
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.HookTimeout)
	defer cancel()
	err := fn(cctx, app)
	// gRPC may end the call on its own timer a moment before the context's
	// fires, with an error of its own: the deadline having passed is what
	// tells a hung hook.
	deadline, _ := cctx.Deadline()
	if err != nil && ctx.Err() == nil && (cctx.Err() == context.DeadlineExceeded || !time.Now().Before(deadline)) {
		h.log.Warn("app hook overran its deadline; restarting the app", "app_id", r.inst.AppID, "install_id", r.inst.ID, "hook", hook)
		r.kick("hook " + hook + " overran its deadline")
		return core.Errorf(core.ETimeout, "the app %s did not answer in time", r.inst.AppID)
	}
	return fromSDK(err)
}

// deliver fans an event out to every matching install in parallel and waits;
// one app's failure never stops the others. key names the event the same way
// on every node, so that with Claims each install gets it from one node only;
// a node whose copy of the app is not running does not claim it, leaving it
// to a node where it runs.
func (h *Host) deliver(ctx context.Context, rs []*runner, hook, key string, fn func(ctx context.Context, app *sdk.AppClient) error) error {
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		if r.status().State == StateDisabled {
			continue // the admin has been alerted; events for it are dropped
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.app() != nil && !h.claim(ctx, r, hook, key) {
				return // another node delivers it
			}
			if err := h.call(ctx, r, hook, fn); err != nil {
				h.log.Warn("app hook failed", "app_id", r.inst.AppID, "install_id", r.inst.ID, "hook", hook, "err", err)
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// MessagePosted delivers a message to the installs of orgID whose bot is a
// member of the conversation and that hold im:read. Call it off the
// sender's path (from a bus subscriber): it waits for the apps, up to the
// hook deadline. The message id is the event key.
func (h *Host) MessagePosted(ctx context.Context, orgID string, m sdk.Message) error {
	var rs []*runner
	for _, r := range h.installsFor(orgID, sdk.HookMessagePosted) {
		if !h.perms.Allowed(r.inst.ID, orgID, sdk.ScopeIMRead) || h.cfg.Messenger == nil || m.SenderID == r.inst.BotUserID {
			continue
		}
		if ok, err := h.cfg.Messenger.IsMember(ctx, orgID, m.ConversationID, r.inst.BotUserID); err != nil || !ok {
			continue
		}
		rs = append(rs, r)
	}
	return h.deliver(ctx, rs, sdk.HookMessagePosted, m.ID, func(ctx context.Context, app *sdk.AppClient) error {
		return app.MessagePosted(ctx, m)
	})
}

// scoped returns the installs implementing hook that hold scope.
func (h *Host) scoped(orgID, hook, scope string) []*runner {
	var rs []*runner
	for _, r := range h.installsFor(orgID, hook) {
		if h.perms.Allowed(r.inst.ID, orgID, scope) {
			rs = append(rs, r)
		}
	}
	return rs
}

// ApprovalFinished delivers to installs holding approvals:read; the event
// key is the approval and its outcome (a request finishes once).
func (h *Host) ApprovalFinished(ctx context.Context, orgID string, e sdk.ApprovalFinished) error {
	return h.deliver(ctx, h.scoped(orgID, sdk.HookApprovalFinished, sdk.ScopeApprovalsRead), sdk.HookApprovalFinished,
		e.ApprovalID+"/"+e.Outcome, func(ctx context.Context, app *sdk.AppClient) error { return app.ApprovalFinished(ctx, e) })
}

// RosterPublished delivers to installs holding roster:read; the event key is
// the roster and e.At, which must be the publication's time as the event
// carries it (the same on every node), not the time it was heard.
func (h *Host) RosterPublished(ctx context.Context, orgID string, e sdk.RosterPublished) error {
	return h.deliver(ctx, h.scoped(orgID, sdk.HookRosterPublished, sdk.ScopeRosterRead), sdk.HookRosterPublished,
		e.RosterID+"/"+e.At.UTC().Format(time.RFC3339Nano), func(ctx context.Context, app *sdk.AppClient) error { return app.RosterPublished(ctx, e) })
}

// StaffChanged delivers to installs holding orgchart:read; the event key is
// the person, the direction and e.At (the change's time as the event carries
// it).
func (h *Host) StaffChanged(ctx context.Context, orgID string, e sdk.StaffChange) error {
	dir := "left"
	if e.Joined {
		dir = "joined"
	}
	return h.deliver(ctx, h.scoped(orgID, sdk.HookStaffChanged, sdk.ScopeOrgchartRead), sdk.HookStaffChanged,
		e.UserID+"/"+dir+"/"+e.At.UTC().Format(time.RFC3339Nano), func(ctx context.Context, app *sdk.AppClient) error { return app.StaffChanged(ctx, e) })
}

// Command runs a slash command typed by actor; ENotFound when no install in
// the actor's organisation declares it.
func (h *Host) Command(ctx context.Context, actor core.Actor, name, args, conversationID string) (string, error) {
	for _, r := range h.installsFor(actor.OrgID, sdk.HookCommands) {
		for _, c := range r.bundle.Manifest.SlashCommands {
			if c.Name != name {
				continue
			}
			var reply string
			err := h.call(ctx, r, sdk.HookCommands, func(ctx context.Context, app *sdk.AppClient) error {
				var err error
				reply, err = app.Command(ctx, sdk.Command{Command: name, Args: args, ConversationID: conversationID,
					Actor: sdk.Actor{UserID: actor.UserID, OrgID: actor.OrgID}})
				return err
			})
			return reply, err
		}
	}
	return "", core.Errorf(core.ENotFound, "no app offers the command /%s", name)
}

// RunJob runs one of an install's scheduled jobs now (the supervisor also
// runs them on their period).
func (h *Host) RunJob(ctx context.Context, installID, name string) error {
	r := h.runner(installID)
	if r == nil {
		return core.Errorf(core.ENotFound, "install %s is not running", installID)
	}
	return h.call(ctx, r, sdk.HookJobs, func(ctx context.Context, app *sdk.AppClient) error {
		return app.Job(ctx, sdk.Job{Name: name, At: time.Now()})
	})
}

// Route is an app's HTTP route or page resolved for a signed-in person.
type Route struct {
	InstallID string
	AppID     string
	Page      *sdk.Page // set for a UI page
	PageFile  string    // absolute path of the page file
}

// ResolveHTTP finds the install of appID in the actor's organisation and
// the manifest route or page for method and p (relative to /plugins/{id}).
// The install needs http:routes; a route the manifest does not declare is
// ENotFound, so an app cannot grow endpoints after the admin approved it.
func (h *Host) ResolveHTTP(ctx context.Context, actor core.Actor, appID, method, p string) (Route, error) {
	var r *runner
	for _, c := range h.installsFor(actor.OrgID, sdk.HookHTTP) {
		if c.inst.AppID == appID {
			r = c
		}
	}
	if r == nil {
		for _, c := range h.installsFor(actor.OrgID, "") {
			if c.inst.AppID == appID {
				r = c
			}
		}
	}
	if r == nil {
		return Route{}, core.Errorf(core.ENotFound, "no app %s in this organisation", appID)
	}
	if !h.perms.Allowed(r.inst.ID, actor.OrgID, sdk.ScopeHTTPRoutes) {
		r.api.deny(ctx, "HTTP", sdk.ScopeHTTPRoutes, p)
		return Route{}, core.Errorf(core.EForbidden, "the app %s was not granted %s", appID, sdk.ScopeHTTPRoutes)
	}
	out := Route{InstallID: r.inst.ID, AppID: appID}
	if page, ok := strings.CutPrefix(p, "/ui"); ok && (method == http.MethodGet || method == http.MethodHead) {
		for _, pg := range r.bundle.Manifest.Pages {
			if pg.Path == page {
				pg := pg
				out.Page = &pg
				out.PageFile = filepath.Join(r.bundle.Dir, "ui", filepath.FromSlash(pg.File))
				return out, nil
			}
		}
		return Route{}, core.Errorf(core.ENotFound, "the app %s has no page %s", appID, page)
	}
	if _, ok := r.bundle.Manifest.MatchRoute(method, p); !ok {
		return Route{}, core.Errorf(core.ENotFound, "the app %s has no route %s %s", appID, method, p)
	}
	return out, nil
}

// ForwardHTTP calls the install's HTTP hook as the signed-in actor.
func (h *Host) ForwardHTTP(ctx context.Context, installID string, actor core.Actor, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	r := h.runner(installID)
	if r == nil {
		return sdk.HTTPResponse{}, core.Errorf(core.ENotFound, "install %s is not running", installID)
	}
	if len(req.Body) > sdk.MaxHTTPBody {
		return sdk.HTTPResponse{}, core.Errorf(core.ETooLarge, "request body larger than %d bytes", sdk.MaxHTTPBody)
	}
	req.Actor = sdk.Actor{UserID: actor.UserID, OrgID: actor.OrgID}
	var resp sdk.HTTPResponse
	err := h.call(ctx, r, sdk.HookHTTP, func(ctx context.Context, app *sdk.AppClient) error {
		var err error
		resp, err = app.HTTP(ctx, req)
		return err
	})
	return resp, err
}

// Restore starts every enabled install in store (at server start). An
// install that fails to start is logged and left to its supervisor (or,
// when invalid, not started); the others start regardless.
func (h *Host) Restore(ctx context.Context, store Installs) error {
	recs, err := store.ListInstalls(ctx, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, rec := range recs {
		if !rec.Enabled {
			continue
		}
		inst := rec.Install
		inst.Dir = rec.Dir
		if err := h.Start(ctx, inst); err != nil {
			h.log.Warn("app install did not start", "app_id", inst.AppID, "install_id", inst.ID, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PageLink is an app page the web client lists and opens in a sandboxed
// frame.
type PageLink struct {
	AppID   string `json:"app_id"`
	AppName string `json:"app_name"`
	Title   string `json:"title"`
	URL     string `json:"url"` // e.g. /plugins/daily-report/ui/write
}

// Pages lists the pages of the running installs of orgID that hold
// http:routes, by app and page order.
func (h *Host) Pages(orgID string) []PageLink {
	out := []PageLink{} // an empty list, never null, for the client
	for _, r := range h.installsFor(orgID, "") {
		if r.app() == nil || !h.perms.Allowed(r.inst.ID, orgID, sdk.ScopeHTTPRoutes) {
			continue
		}
		for _, p := range r.bundle.Manifest.Pages {
			out = append(out, PageLink{AppID: r.inst.AppID, AppName: r.bundle.Manifest.Name, Title: p.Title,
				URL: "/plugins/" + r.inst.AppID + "/ui" + p.Path})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AppID < out[j].AppID })
	return out
}
