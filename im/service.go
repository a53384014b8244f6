package im

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/search"
)

// Bus subjects im publishes and consumes.
const (
	// SubjectEvents carries {"pos": N} after a commit that appended events
	// up to position N: "go and read the log". Every node's tailer listens.
	SubjectEvents = "im.events"
	// SubjectKick carries {"user_id": …} when a person must be cut off at
	// once (they left the organisation); hubs close their connections.
	SubjectKick = "im.kick"
	// SubjectPresence and SubjectTyping carry ephemeral signals, never
	// written to the log.
	SubjectPresence = "im.presence"
	SubjectTyping   = "im.typing"
)

// Config tunes the service. Zero values take the defaults.
type Config struct {
	// RecallWindow is how long a sender may recall their own message
	// (default 24 h). Owners and admins may recall any time.
	RecallWindow time.Duration
	// EventRetention is how long the event log keeps events for resume
	// (default 7 days, never below 10 minutes).
	EventRetention time.Duration
	// MaxTextBytes limits a message's text (default 16 KiB).
	MaxTextBytes int
	// ReceiptWindow is how long read-position changes are coalesced before
	// one receipts event goes out per conversation (default 200 ms).
	ReceiptWindow time.Duration
	// ReceiptsOffByDefault makes new conversations start with receipts off
	// (the organisation's default).
	ReceiptsOffByDefault bool
	// DingRemindEvery is the pause between reminders of an unacknowledged
	// urgent message (default 5 minutes).
	DingRemindEvery time.Duration
	// MaxFileBytes limits one upload (default 100 MiB).
	MaxFileBytes int64
	// QuotaBytes limits what one person may upload in total (default 2 GiB).
	QuotaBytes int64
	// MaxDingReminders is how many reminders go out before the ding is
	// escalated to the sender's department head (default 3).
	MaxDingReminders int
}

func (c Config) withDefaults() Config {
	if c.RecallWindow <= 0 {
		c.RecallWindow = 24 * time.Hour
	}
	if c.EventRetention <= 0 {
		c.EventRetention = 7 * 24 * time.Hour
	}
	if c.EventRetention < 10*time.Minute {
		c.EventRetention = 10 * time.Minute
	}
	if c.MaxTextBytes <= 0 {
		c.MaxTextBytes = 16 << 10
	}
	if c.ReceiptWindow <= 0 {
		c.ReceiptWindow = 200 * time.Millisecond
	}
	if c.DingRemindEvery <= 0 {
		c.DingRemindEvery = 5 * time.Minute
	}
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = 100 << 20
	}
	if c.QuotaBytes <= 0 {
		c.QuotaBytes = 2 << 30
	}
	if c.MaxDingReminders <= 0 {
		c.MaxDingReminders = 3
	}
	return c
}

// Deps are the service's collaborators. Store is required; the rest may be
// nil (no live fan-out without Bus, no department groups without Directory,
// no search without Index, only members' own rules without Authorizer).
type Deps struct {
	Store      Store
	Bus        bus.Bus
	Clock      core.Clock
	Directory  Directory
	Authorizer Authorizer
	Index      search.Index
	OnDuty     OnDutyResolver
	Managers   Managers
	Files      files.Store
	Logger     *slog.Logger
	// Audit records retention policy changes, legal holds and exports
	// (optional; without it nothing is recorded).
	Audit audit.Recorder
	// Observer hears of every message stored, for the node's metrics
	// (optional). It must be quick.
	Observer Observer
	// Bots names the installed apps' bots a group may take in (optional;
	// without it groups hold people only).
	Bots AppBots
}

// Observer hears what the service did, counted where it happens.
type Observer interface {
	// MessageSent reports a new message (not a retried send) by kind;
	// urgent for a DING.
	MessageSent(kind string, urgent bool)
}

// Service is the messaging service. Every transport (HTTP, WebSocket,
// plugins, jobs) calls it, so its checks are the only checks.
type Service struct {
	store Store
	bus   bus.Bus
	clock core.Clock
	dir   Directory
	authz Authorizer
	index search.Index
	log   *slog.Logger
	cfg   Config

	onDuty   OnDutyResolver
	managers Managers
	files    files.Store
	audit    audit.Recorder
	observer Observer
	bots     AppBots

	// indexFollowed is set once FollowIndex runs: from then on the index
	// follows the log and sends do not write it themselves.
	indexFollowed atomic.Bool

	rmu       sync.Mutex
	pending   map[string]map[string]int64 // conversation → user → read seq, not yet published
	scheduled bool                        // a window timer is running or its batch is being written
	closed    bool
	timer     *time.Timer
	inflight  sync.WaitGroup // timer-started flushes
}

// NewService returns a service.
func NewService(d Deps, cfg Config) *Service {
	if d.Clock == nil {
		d.Clock = core.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{store: d.Store, bus: d.Bus, clock: d.Clock, dir: d.Directory, authz: d.Authorizer, index: d.Index, log: d.Logger, onDuty: d.OnDuty, managers: d.Managers, files: d.Files, audit: d.Audit, observer: d.Observer, bots: d.Bots,
		cfg: cfg.withDefaults(), pending: map[string]map[string]int64{}}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Store returns the store (the hub reads the log through it).
func (s *Service) Store() Store { return s.store }

// notify tells every node that the log grew up to pos. Failure is logged
// only: the tailers poll the log as well, so a lost notification delays
// delivery by one poll interval but loses nothing.
func (s *Service) notify(ctx context.Context, evs []Event) {
	if s.bus == nil || len(evs) == 0 {
		return
	}
	b, _ := json.Marshal(struct {
		Pos int64 `json:"pos"`
	}{evs[len(evs)-1].Pos})
	if err := s.bus.Publish(context.WithoutCancel(ctx), SubjectEvents, b); err != nil {
		s.log.Warn("im: publish event notification failed", "err", err)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	return b
}

func actorUser(a core.Actor) (string, error) {
	if a.UserID == "" {
		return "", core.Errorf(core.EUnauthenticated, "sign in first")
	}
	return a.UserID, nil
}

// allow asks the Authorizer for the role part of an action (for example
// "im.message use": chat may be switched off for a role or a person); with
// no Authorizer everyone may.
func (s *Service) allow(ctx context.Context, a core.Actor, orgID, object, action string) error {
	if s.authz == nil {
		return nil
	}
	return s.authz.Authorize(ctx, a, orgID, object, action)
}

// membership returns the actor's membership, EForbidden when they are not a
// member (ENotFound when the conversation does not exist).
func membership(ctx context.Context, r Reader, convID, userID string) (Conversation, Member, error) {
	if !core.ValidID(convID) {
		return Conversation{}, Member{}, core.Invalid("conversation_id", "conversation_id is not a valid id")
	}
	c, err := r.Conversation(ctx, convID)
	if err != nil {
		return c, Member{}, err
	}
	m, err := r.Member(ctx, convID, userID)
	if core.IsCode(err, core.ENotFound) {
		return c, m, core.Errorf(core.EForbidden, "you are not a member of this conversation")
	}
	return c, m, err
}

// EventsSince returns the events userID may see after position since, in
// position order, at most limit. resync is true when since is older than
// the log keeps (or newer than the log has, e.g. after a restore): the
// client must reload conversations and history over HTTP.
func (s *Service) EventsSince(ctx context.Context, a core.Actor, since int64, limit int) (evs []Event, resync bool, err error) {
	uid, err := actorUser(a)
	if err != nil {
		return nil, false, err
	}
	head, pruned, err := s.store.StreamState(ctx)
	if err != nil {
		return nil, false, err
	}
	if since < pruned || since > head {
		return nil, true, nil
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	evs, err = s.store.UserEventsAfter(ctx, uid, since, limit)
	return evs, false, err
}

// Head returns the last position written to the log.
func (s *Service) Head(ctx context.Context) (int64, error) {
	h, _, err := s.store.StreamState(ctx)
	return h, err
}

// PruneEvents drops log events older than the retention window.
func (s *Service) PruneEvents(ctx context.Context) (int64, error) {
	return s.store.PruneEvents(ctx, s.clock.Now().Add(-s.cfg.EventRetention))
}

// Run runs the background work until ctx ends: ding reminders every 15
// seconds, event pruning every 10 minutes, retention hourly (receipt batches
// flush on their own timer; Run flushes what is pending when it stops).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	var lastPrune, lastRetention time.Time
	for {
		if _, ok := s.store.(RetentionStore); ok && time.Since(lastRetention) >= time.Hour {
			lastRetention = time.Now()
			if _, err := s.ApplyRetention(ctx, s.clock.Now()); err != nil && ctx.Err() == nil {
				s.log.Warn("im: retention failed", "err", err)
			}
		}
		if time.Since(lastPrune) >= 10*time.Minute {
			lastPrune = time.Now()
			if _, err := s.PruneEvents(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("im: prune events failed", "err", err)
			}
		}
		if _, err := s.RemindDings(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("im: ding reminders failed", "err", err)
		}
		select {
		case <-ctx.Done():
			s.FlushReceipts(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
	}
}
