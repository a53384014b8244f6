package orgchart

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
)

// ErrStale is returned by Store.Apply when the organisation's version is not
// the expected one: another node wrote first. The service reloads and retries.
var ErrStale = &core.Error{Code: core.EConflict, Message: "the directory changed meanwhile; try again"}

// Config wires a Service. Store is required; the others may be nil in tests
// (no accounts, everything authorized, no audit, no events).
type Config struct {
	Store      Store
	Accounts   Accounts
	Authorizer Authorizer
	Audit      Recorder
	Bus        bus.Bus
	Clock      core.Clock
	Logger     *slog.Logger
}

// Service is the org chart. It is safe for concurrent use.
type Service struct {
	cfg Config

	mu      sync.Mutex
	snaps   map[string]*atomic.Pointer[snapshot]
	writeMu map[string]*sync.Mutex
	groups  atomic.Pointer[[]Group]
	groupMu sync.Mutex
	sub     bus.Subscription
}

// New returns a service. Call Start to load the directory and follow changes
// made on other nodes.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("orgchart: a store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, snaps: map[string]*atomic.Pointer[snapshot]{}, writeMu: map[string]*sync.Mutex{}}, nil
}

// Start loads every organisation and the hospital groups, and subscribes to
// orgchart.> so that changes committed on other nodes refresh this node's
// snapshots.
func (s *Service) Start(ctx context.Context) error {
	orgs, err := s.cfg.Store.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if _, err := s.reload(ctx, o.ID); err != nil {
			return err
		}
	}
	if err := s.reloadGroups(ctx); err != nil {
		return err
	}
	if s.cfg.Bus != nil {
		sub, err := s.cfg.Bus.Subscribe(SubjectAll, s.onEvent)
		if err != nil {
			return err
		}
		s.sub = sub
	}
	return nil
}

// Close stops following the bus.
func (s *Service) Close() error {
	if s.sub != nil {
		return s.sub.Stop()
	}
	return nil
}

func (s *Service) onEvent(ev bus.Event) {
	ctx := context.Background()
	var probe struct {
		OrgID   string `json:"org_id"`
		Version int64  `json:"version"`
		GroupID string `json:"group_id"`
	}
	if json.Unmarshal(ev.Data, &probe) != nil {
		return
	}
	if probe.GroupID != "" {
		if err := s.reloadGroups(ctx); err != nil {
			s.cfg.Logger.Warn("orgchart: cannot reload groups", "err", err)
		}
		return
	}
	if probe.OrgID == "" {
		return
	}
	if sn := s.current(probe.OrgID); sn != nil && sn.org.Version >= probe.Version {
		return // our own change, or one we already have
	}
	if _, err := s.reload(ctx, probe.OrgID); err != nil {
		s.cfg.Logger.Warn("orgchart: cannot reload organisation", "org", probe.OrgID, "err", err)
	}
}

func (s *Service) slot(orgID string) *atomic.Pointer[snapshot] {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.snaps[orgID]
	if !ok {
		p = &atomic.Pointer[snapshot]{}
		s.snaps[orgID] = p
	}
	return p
}

func (s *Service) current(orgID string) *snapshot {
	s.mu.Lock()
	p, ok := s.snaps[orgID]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return p.Load()
}

func (s *Service) lockOrg(orgID string) func() {
	s.mu.Lock()
	m, ok := s.writeMu[orgID]
	if !ok {
		m = &sync.Mutex{}
		s.writeMu[orgID] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func (s *Service) reload(ctx context.Context, orgID string) (*snapshot, error) {
	d, err := s.cfg.Store.LoadOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.install(orgID, buildSnapshot(d)), nil
}

// install swaps sn in unless the node already holds a newer version (a
// reload triggered by another node's event may overtake a local write), and
// returns the snapshot now in place.
func (s *Service) install(orgID string, sn *snapshot) *snapshot {
	p := s.slot(orgID)
	for {
		old := p.Load()
		if old != nil && old.org.Version > sn.org.Version {
			return old
		}
		if p.CompareAndSwap(old, sn) {
			return sn
		}
	}
}

// snap returns the organisation's snapshot, loading it on first use.
func (s *Service) snap(ctx context.Context, orgID string) (*snapshot, error) {
	if sn := s.current(orgID); sn != nil {
		return sn, nil
	}
	if orgID == "" {
		return nil, core.Invalid("org_id", "an organisation is required")
	}
	return s.reload(ctx, orgID)
}

func (s *Service) reloadGroups(ctx context.Context) error {
	gs, err := s.cfg.Store.Groups(ctx)
	if err != nil {
		return err
	}
	s.groups.Store(&gs)
	return nil
}

func (s *Service) allGroups() []Group {
	if p := s.groups.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Service) authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	if a.IsSystem() || s.cfg.Authorizer == nil {
		return nil
	}
	err := s.cfg.Authorizer.Authorize(ctx, a, orgID, object, action)
	if err != nil && action == ActWrite && core.IsCode(err, core.EForbidden) {
		// A refused admin change is worth an audit line (等保 asks for
		// failed attempts too); refused reads are not.
		s.record(ctx, a, orgID, audit.Entry{Action: object + ".write", ObjectType: object, Result: audit.ResultDenied})
	}
	return err
}

// pendingEvent is an event to publish once the change is committed.
type pendingEvent struct {
	subject string
	staff   *StaffEvent
	dept    *DepartmentEvent
	org     *OrgEvent
}

// plan is what a write decided: the changes, the events and audit entries
// that follow them, and the side effect to run inside the transaction.
type plan struct {
	changes Changes
	events  []pendingEvent
	audits  []audit.Entry
	inTx    func(ctx context.Context) error
}

// write runs build against the current snapshot under the organisation's
// write lock, stores the result and, after commit, swaps in the new snapshot,
// publishes the events and records the audit entries. A stale snapshot (another
// node wrote first) is reloaded and build runs again.
func (s *Service) write(ctx context.Context, a core.Actor, orgID string, build func(sn *snapshot) (*plan, error)) (*snapshot, error) {
	unlock := s.lockOrg(orgID)
	defer unlock()
	sn, err := s.snap(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		p, err := build(sn)
		if err != nil {
			return nil, err
		}
		if p.changes.Empty() {
			return sn, nil
		}
		p.changes.OrgID = orgID
		p.changes.ExpectVersion = sn.org.Version
		version, err := s.cfg.Store.Apply(ctx, p.changes, p.inTx)
		if errors.Is(err, ErrStale) && attempt < 10 {
			// Another node wrote first. Back off with jitter so two busy
			// nodes do not keep overtaking each other, then plan again on
			// fresh data.
			time.Sleep(time.Duration(attempt+1) * (2*time.Millisecond + rand.N(8*time.Millisecond)))
			if sn, err = s.reload(ctx, orgID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		next := sn.with(&p.changes, version)
		s.install(orgID, next)
		s.after(ctx, a, orgID, version, p)
		return next, nil
	}
}

func (s *Service) after(ctx context.Context, a core.Actor, orgID string, version int64, p *plan) {
	now := s.cfg.Clock.Now()
	for _, ev := range p.events {
		var data []byte
		switch {
		case ev.staff != nil:
			ev.staff.OrgID, ev.staff.Version, ev.staff.At = orgID, version, now
			data, _ = json.Marshal(ev.staff)
		case ev.dept != nil:
			ev.dept.OrgID, ev.dept.Version, ev.dept.At = orgID, version, now
			data, _ = json.Marshal(ev.dept)
		case ev.org != nil:
			ev.org.OrgID, ev.org.Version, ev.org.At = orgID, version, now
			data, _ = json.Marshal(ev.org)
		}
		s.publish(ctx, ev.subject, data)
	}
	for _, e := range p.audits {
		s.record(ctx, a, orgID, e)
	}
}

func (s *Service) publish(ctx context.Context, subject string, data []byte) {
	if s.cfg.Bus == nil {
		return
	}
	if err := s.cfg.Bus.Publish(ctx, subject, data); err != nil {
		// The change is committed; other nodes catch up on their next
		// reload. Approvals and IM also re-read the directory on start.
		s.cfg.Logger.Warn("orgchart: event not published", "subject", subject, "err", err)
	}
}

func (s *Service) record(ctx context.Context, a core.Actor, orgID string, e audit.Entry) {
	if s.cfg.Audit == nil {
		return
	}
	e.OrgID = orgID
	e.ActorID, e.ActorKind, e.AppID, e.IP = a.UserID, string(a.Kind), a.AppID, a.IP
	if e.Result == "" {
		e.Result = audit.ResultOK
	}
	if err := s.cfg.Audit.Record(ctx, e); err != nil {
		s.cfg.Logger.Error("orgchart: audit entry not recorded", "action", e.Action, "err", err)
	}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Millisecond) }
