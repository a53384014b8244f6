package plugins

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins/sdk"
)

// incompatibleProtocol matches go-plugin's handshake error when the app
// offers none of the protocol versions the host speaks (sdk.PluginSets); the
// group is the app's version.
var incompatibleProtocol = regexp.MustCompile(`incompatible API version with plugin\. Plugin version: (\d+)`)

// refusal is a start failure that restarting cannot cure (an app built for
// another protocol version): the runner disables the install at once.
type refusal struct{ err error }

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// runner supervises one install's process.
type runner struct {
	h        *Host
	inst     Install
	bundle   Bundle
	checksum []byte
	api      *installAPI

	firstStart chan error // receives the first start's outcome once
	kickc      chan string
	stopc      chan struct{}
	done       chan struct{}
	stopOnce   sync.Once

	mu       sync.Mutex
	client   *plugin.Client
	appc     *sdk.AppClient
	state    string
	since    time.Time
	lastErr  string
	restarts int
	crashes  []time.Time
}

func newRunner(h *Host, inst Install, b Bundle, sum []byte) *runner {
	return &runner{h: h, inst: inst, bundle: b, checksum: sum, api: newInstallAPI(h, inst),
		firstStart: make(chan error, 1), kickc: make(chan string, 1), stopc: make(chan struct{}), done: make(chan struct{}),
		state: StateStarting, since: time.Now()}
}

func (r *runner) logger() *slog.Logger {
	return r.h.log.With("app_id", r.inst.AppID, "install_id", r.inst.ID, "org_id", r.inst.OrgID)
}

func (r *runner) app() *sdk.AppClient {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != StateRunning {
		return nil
	}
	return r.appc
}

func (r *runner) status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{InstallID: r.inst.ID, OrgID: r.inst.OrgID, AppID: r.inst.AppID, Name: r.bundle.Manifest.Name,
		Version: r.bundle.Manifest.Version, State: r.state, Restarts: r.restarts, LastError: r.lastErr, Since: r.since}
	if r.client != nil && r.state == StateRunning {
		s.Pid = r.client.ID()
	}
	return s
}

func (r *runner) setState(state, lastErr string) {
	r.mu.Lock()
	r.state, r.since = state, time.Now()
	if lastErr != "" {
		r.lastErr = lastErr
	}
	r.mu.Unlock()
}

// kick asks the supervisor to restart the process (a hung hook).
func (r *runner) kick(reason string) {
	select {
	case r.kickc <- reason:
	default:
	}
}

func (r *runner) stop() {
	r.stopOnce.Do(func() { close(r.stopc) })
	<-r.done
}

func (r *runner) stopping() bool {
	select {
	case <-r.stopc:
		return true
	default:
		return false
	}
}

// run is the supervision loop: start, watch, and on a crash restart with
// doubling back-off, until stopped or disabled.
func (r *runner) run() {
	defer close(r.done)
	log := r.logger()
	first := true
	for {
		err := r.launch()
		if err == nil {
			// Running before Start returns: a call right after Start
			// must find the app.
			r.setState(StateRunning, "")
		}
		if first {
			r.firstStart <- err
			first = false
		}
		reason := ""
		if err != nil {
			reason = "start failed: " + core.ErrorMessage(err)
			log.Warn("app failed to start", "err", err)
		} else {
			log.Info("app running", "pid", r.status().Pid)
			reason = r.watch()
		}
		r.kill()
		if r.stopping() {
			r.setState(StateStopped, "")
			return
		}
		if refused, ok := errors.AsType[*refusal](err); ok {
			// Restarting cannot help: the same binary would be refused again.
			msg := core.ErrorMessage(refused.err)
			r.setState(StateDisabled, msg)
			_ = r.h.perms.Revoke(r.inst.ID)
			log.Error("app refused", "reason", msg)
			if r.h.cfg.Alerts != nil {
				r.h.cfg.Alerts.AppDisabled(context.Background(), r.inst, msg)
			}
			return
		}
		now := time.Now()
		r.mu.Lock()
		r.crashes = append(r.crashes, now)
		recent := r.crashes[:0]
		for _, t := range r.crashes {
			if now.Sub(t) < r.h.cfg.CrashWindow {
				recent = append(recent, t)
			}
		}
		r.crashes = recent
		n := len(recent)
		r.mu.Unlock()
		if n >= r.h.cfg.MaxCrashes {
			msg := strconv.Itoa(n) + " crashes within " + r.h.cfg.CrashWindow.String() + "; last: " + reason
			r.setState(StateDisabled, msg)
			_ = r.h.perms.Revoke(r.inst.ID)
			log.Error("app disabled after repeated crashes", "reason", msg)
			if r.h.cfg.Alerts != nil {
				r.h.cfg.Alerts.AppDisabled(context.Background(), r.inst, msg)
			}
			return
		}
		backoff := r.h.cfg.BackoffMin << (n - 1)
		if backoff > r.h.cfg.BackoffMax || backoff <= 0 {
			backoff = r.h.cfg.BackoffMax
		}
		r.setState(StateRestarting, reason)
		log.Warn("app crashed; restarting", "reason", reason, "backoff", backoff, "crashes", n)
		select {
		case <-r.stopc:
			r.setState(StateStopped, "")
			return
		case <-time.After(backoff):
		}
		r.mu.Lock()
		r.restarts++
		r.mu.Unlock()
	}
}

// launch starts the process, applies limits and activates the app.
func (r *runner) launch() error {
	log := r.logger()
	cmd := exec.Command(r.bundle.Executable)
	cmd.Dir = r.bundle.Dir
	// Only what the app needs: no inherited secrets from the server's
	// environment. GOMEMLIMIT nudges a Go app's collector below the kill
	// line.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "GOMEMLIMIT=" + strconv.FormatInt(r.h.cfg.MemoryLimit*3/4, 10)}
	out := &logWriter{log: log, stream: "stdout"}
	errw := &logWriter{log: log, stream: "stderr"}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: r.checksum, Hash: sha256.New()},
		AutoMTLS:         true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     r.h.cfg.StartTimeout,
		SkipHostEnv:      true,
		SyncStdout:       out,
		SyncStderr:       errw,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "app." + r.inst.AppID, Output: errw, Level: hclog.Info,
			DisableTime: true}),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(r.h.cfg.MaxMsg))},
	})
	r.mu.Lock()
	r.client = client
	r.mu.Unlock()
	proto, err := client.Client()
	if err != nil {
		if m := incompatibleProtocol.FindStringSubmatch(err.Error()); m != nil {
			return &refusal{core.Invalid("protocol_version", "the app speaks app protocol version %s; this server speaks app protocol version %d: install a version of the app built for this server",
				m[1], sdk.ProtocolVersion)}
		}
		return core.Errorf(core.EUnavailable, "start app process: %v", err)
	}
	if pid, err := strconv.Atoi(client.ID()); err == nil {
		if err := applyLimits(pid, r.h.cfg); err != nil {
			log.Warn("cannot apply resource limits to the app", "err", err)
		}
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		return core.Errorf(core.EUnavailable, "dispense app: %v", err)
	}
	appc, ok := raw.(*sdk.AppClient)
	if !ok {
		return core.Errorf(core.EInternal, "unexpected plugin type %T", raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.h.cfg.StartTimeout)
	defer cancel()
	inst := sdk.Install{ID: r.inst.ID, OrgID: r.inst.OrgID, AppID: r.inst.AppID, BotUserID: r.inst.BotUserID,
		Settings: r.inst.Settings, ServerVersion: r.h.cfg.ServerVersion}
	if err := appc.Start(ctx, inst, r.api, grpc.MaxRecvMsgSize(r.h.cfg.MaxMsg)); err != nil {
		return fromSDK(err)
	}
	r.mu.Lock()
	r.appc = appc
	r.mu.Unlock()
	return nil
}

// watch returns why the process must be restarted, or "" when stopped.
func (r *runner) watch() string {
	exitTick := time.NewTicker(50 * time.Millisecond)
	defer exitTick.Stop()
	health := time.NewTicker(r.h.cfg.HealthInterval)
	defer health.Stop()
	jobs := r.startJobs()
	defer jobs()
	r.mu.Lock()
	client, appc := r.client, r.appc
	r.mu.Unlock()
	for {
		select {
		case <-r.stopc:
			return ""
		case reason := <-r.kickc:
			return reason
		case <-exitTick.C:
			if client.Exited() {
				return "the app process exited"
			}
		case <-health.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.h.cfg.HealthTimeout)
			_, err := appc.Ping(ctx)
			cancel()
			if err != nil {
				return "health check failed: " + err.Error()
			}
			if pid, err := strconv.Atoi(client.ID()); err == nil {
				if rss, err := residentBytes(pid); err == nil && rss > r.h.cfg.MemoryLimit {
					return "memory limit exceeded: " + strconv.FormatInt(rss>>20, 10) + " MiB resident"
				}
			}
		}
	}
}

// startJobs runs the manifest's scheduled jobs on their periods until the
// returned stop is called. Runs fall on the period's boundaries in absolute
// time (every 15m: :00, :15, …), so every node of a cluster names the same
// slot; with Claims only the node that claims (install, job, slot) runs it.
// The job's At is the slot's time.
func (r *runner) startJobs() (stop func()) {
	if !r.bundle.Manifest.Implements(sdk.HookJobs) || len(r.bundle.Manifest.Jobs) == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, j := range r.bundle.Manifest.Jobs {
		every, _ := time.ParseDuration(j.Every)
		if r.h.cfg.JobEvery > 0 {
			every = r.h.cfg.JobEvery
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(0)
			defer t.Stop()
			<-t.C
			for {
				slot := time.Now().Truncate(every).Add(every)
				t.Reset(time.Until(slot))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if !r.h.claim(ctx, r, sdk.HookJobs, j.Name+"@"+slot.UTC().Format(time.RFC3339Nano)) {
					continue // another node runs this slot
				}
				err := r.h.call(ctx, r, sdk.HookJobs, func(ctx context.Context, app *sdk.AppClient) error {
					return app.Job(ctx, sdk.Job{Name: j.Name, At: slot})
				})
				if err != nil && ctx.Err() == nil {
					r.logger().Warn("scheduled job failed", "job", j.Name, "err", err)
				}
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

func (r *runner) kill() {
	r.mu.Lock()
	client := r.client
	r.appc = nil
	if r.state == StateRunning {
		r.state = StateRestarting
	}
	r.mu.Unlock()
	if client != nil {
		client.Kill()
	}
}

// logWriter turns an app's output into log lines tagged with the app.
type logWriter struct {
	log    *slog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := indexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 16<<10 { // a runaway line is cut rather than buffered without end
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// emit logs one line. go-plugin re-logs what the app logged through hclog
// as "[WARN]  app.<id>.<name>: message …": that keeps its level here.
func (w *logWriter) emit(line string) {
	if line == "" {
		return
	}
	level := slog.LevelInfo
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, msg, ok := strings.Cut(rest, "]"); ok {
			if l, known := hclogLevels[tag]; known {
				level, line = l, strings.TrimSpace(msg)
			}
		}
	}
	w.log.Log(context.Background(), level, line, "stream", w.stream)
}

var hclogLevels = map[string]slog.Level{"TRACE": slog.LevelDebug, "DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo,
	"WARN": slog.LevelWarn, "ERROR": slog.LevelError}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

var _ io.Writer = (*logWriter)(nil)
