package marketplace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/marketplace/bundle"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Config wires a Service. Store, Files, Host, Authz, Audit and DataDir are
// required; Catalog may be nil (nothing to browse or install); Staff may be
// nil (visibility by department then matches nobody); Bus may be nil (a
// single node).
type Config struct {
	Store   Store
	Files   files.Store
	Catalog Catalog
	Host    Host
	Authz   Authorizer
	Audit   audit.Recorder
	Staff   Staff
	// Departments, when set, checks that every department an admin names
	// (a grant's subtree, a department setting, visibility) is one of the
	// organisation's; without it only the id's shape is checked.
	Departments Departments
	Bus         bus.Bus
	// DataDir is this node's folder for unpacked bundles
	// (<DataDir>/<app>/<version>-<sha>).
	DataDir string
	Limits  bundle.Limits
	// GOOS and GOARCH pick the program from bin/<os>-<arch>/ (default: this
	// binary's).
	GOOS, GOARCH string
	Clock        core.Clock
	Logger       *slog.Logger
}

// Service is the marketplace of one node.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	applied map[string]int64 // install id -> rev running on this node
	sub     bus.Subscription
	wg      sync.WaitGroup // syncs started by events
	nodeMu  sync.Mutex     // one node-side apply at a time: unpacking and host calls
}

// New checks cfg and returns a service. Call Start to follow other nodes.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Files == nil || cfg.Host == nil || cfg.Authz == nil || cfg.Audit == nil || cfg.DataDir == "" {
		return nil, core.Errorf(core.EInternal, "marketplace: Store, Files, Host, Authz, Audit and DataDir are required")
	}
	if cfg.GOOS == "" {
		cfg.GOOS = runtime.GOOS
	}
	if cfg.GOARCH == "" {
		cfg.GOARCH = runtime.GOARCH
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger, applied: map[string]int64{}}, nil
}

// Start applies every install on this node (enabled ones are started) and
// subscribes to changes made on other nodes. Errors of single installs are
// logged, not returned: one broken app must not keep the server down.
func (s *Service) Start(ctx context.Context) error {
	if s.cfg.Bus != nil {
		sub, err := s.cfg.Bus.Subscribe(SubjectInstallChanged, func(e bus.Event) {
			var ev InstallEvent
			if json.Unmarshal(e.Data, &ev) != nil || !core.ValidID(ev.InstallID) {
				return
			}
			// Unpacking and starting an app can take seconds; the bus
			// handler must not block. Sync reads the latest record, so
			// the order in which these run does not matter.
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if err := s.Sync(context.Background(), ev.InstallID); err != nil {
					s.log.Error("marketplace: apply install change", "install", ev.InstallID, "err", err)
				}
			}()
		})
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.sub = sub
		s.mu.Unlock()
	}
	ins, err := s.cfg.Store.Installs(ctx, "")
	if err != nil {
		return err
	}
	for _, in := range ins {
		if err := s.Sync(ctx, in.ID); err != nil {
			s.log.Error("marketplace: start install", "install", in.ID, "app", in.AppID, "err", err)
		}
	}
	return nil
}

// Close stops following other nodes and waits for changes being applied.
// It does not stop running apps (the plugin host's Close does).
func (s *Service) Close() error {
	s.mu.Lock()
	sub := s.sub
	s.sub = nil
	s.mu.Unlock()
	var err error
	if sub != nil {
		err = sub.Stop()
	}
	s.wg.Wait()
	return err
}

// Sync makes this node run what the database says for one install: the
// recorded release when enabled, nothing when disabled or gone. A change
// this node already applied (same Rev) is skipped, so a node's own event
// does not restart its app.
func (s *Service) Sync(ctx context.Context, installID string) error {
	s.nodeMu.Lock()
	defer s.nodeMu.Unlock()
	in, err := s.cfg.Store.Install(ctx, installID)
	if core.IsCode(err, core.ENotFound) {
		s.mu.Lock()
		_, known := s.applied[installID]
		delete(s.applied, installID)
		s.mu.Unlock()
		if known {
			return s.cfg.Host.Stop(ctx, installID)
		}
		return nil
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	rev, ok := s.applied[installID]
	s.mu.Unlock()
	if ok && rev == in.Rev {
		return nil
	}
	if err := s.apply(ctx, in); err != nil {
		return err
	}
	s.mu.Lock()
	s.applied[installID] = in.Rev
	s.mu.Unlock()
	return nil
}

// apply starts or stops in on this node; the caller holds nodeMu.
func (s *Service) apply(ctx context.Context, in Install) error {
	if !in.Enabled {
		return s.cfg.Host.Stop(ctx, in.ID)
	}
	dir, exe, err := s.unpacked(ctx, in.Current)
	if err != nil {
		return err
	}
	return s.cfg.Host.Start(ctx, RunningApp{InstallID: in.ID, OrgID: in.OrgID, AppID: in.AppID, AppName: in.Current.Manifest.Name, Version: in.Current.Version,
		BotUserID: in.ID, Dir: dir, Executable: exe, Checksum: in.Current.Checksum,
		Grants: slices.Clone(in.Current.Grants), Settings: in.Current.Settings})
}

// BundleKey is where a version's bundle is kept in the file store.
func BundleKey(appID, version string) string {
	return "marketplace/bundles/" + appID + "/" + version + ".tgz"
}

// unpacked returns the host layout of rel in this node's data folder,
// unpacking it from the file store if it is not there or its program no
// longer matches the signed checksum.
func (s *Service) unpacked(ctx context.Context, rel Release) (dir, exe string, err error) {
	dir = filepath.Join(s.cfg.DataDir, rel.Manifest.ID, rel.Version+"-"+rel.BundleSHA256[:16])
	exe = filepath.Join(dir, rel.Manifest.Executable)
	if sum, err := bundle.FileSHA256(exe); err == nil && sum == rel.Checksum {
		return dir, exe, nil
	}
	_ = os.RemoveAll(dir)
	key, err := bundle.ParsePublicKey(rel.PublicKey)
	if err != nil {
		return "", "", err
	}
	rc, _, err := s.cfg.Files.Get(ctx, BundleKey(rel.Manifest.ID, rel.Version))
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	h := sha256.New()
	tmp := filepath.Join(s.cfg.DataDir, rel.Manifest.ID, ".unpack-"+core.NewID())
	v, err := bundle.Unpack(io.TeeReader(rc, h), tmp, s.cfg.Limits, []bundle.PublicKey{key})
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	// Unpack stops at the tar end marker; hash whatever trails it too.
	_, _ = io.Copy(h, rc)
	if hex.EncodeToString(h.Sum(nil)) != rel.BundleSHA256 {
		return "", "", core.Errorf(core.EConflict, "the stored bundle of %s %s is not the one installed", rel.Manifest.ID, rel.Version)
	}
	src, sum, err := v.Executable(s.cfg.GOOS, s.cfg.GOARCH)
	if err != nil {
		return "", "", err
	}
	if sum != rel.Checksum {
		return "", "", core.Errorf(core.EConflict, "the program of %s %s does not match the installed checksum", rel.Manifest.ID, rel.Version)
	}
	// Lay out what the plugin host reads: manifest.json, the program and
	// ui/ side by side.
	if err := os.Rename(src, filepath.Join(tmp, rel.Manifest.Executable)); err != nil {
		return "", "", core.Wrap(err, "lay out app")
	}
	if _, err := os.Stat(filepath.Join(tmp, "web")); err == nil {
		if err := os.Rename(filepath.Join(tmp, "web"), filepath.Join(tmp, "ui")); err != nil {
			return "", "", core.Wrap(err, "lay out app")
		}
	}
	_ = os.RemoveAll(filepath.Join(tmp, "bin"))
	if err := os.Rename(tmp, dir); err != nil {
		return "", "", core.Wrap(err, "lay out app")
	}
	if got, err := bundle.FileSHA256(exe); err != nil || got != rel.Checksum {
		return "", "", core.Errorf(core.EConflict, "the unpacked program of %s %s does not match its checksum", rel.Manifest.ID, rel.Version)
	}
	return dir, exe, nil
}

// authorize checks and audits a refusal.
func (s *Service) authorize(ctx context.Context, a core.Actor, orgID, object, action, auditAction, objectID string) error {
	if err := s.cfg.Authz.Authorize(ctx, a, orgID, object, action); err != nil {
		s.audit(ctx, a, orgID, auditAction, objectID, audit.ResultDenied, map[string]any{"reason": "not allowed"})
		return err
	}
	return nil
}

func (s *Service) audit(ctx context.Context, a core.Actor, orgID, action, objectID, result string, details map[string]any) {
	e := audit.Entry{OrgID: orgID, ActorID: a.UserID, ActorKind: string(a.Kind), AppID: a.AppID, IP: a.IP,
		Action: action, ObjectType: "marketplace.install", ObjectID: objectID, Result: result, Details: details}
	if strings.HasPrefix(action, "marketplace.key.") {
		e.ObjectType = "marketplace.key"
	}
	if err := s.cfg.Audit.Record(ctx, e); err != nil {
		s.log.Error("marketplace: audit", "action", action, "err", err)
	}
}

func (s *Service) publish(ctx context.Context, in Install) {
	if s.cfg.Bus == nil {
		return
	}
	data, _ := json.Marshal(InstallEvent{InstallID: in.ID, OrgID: in.OrgID, AppID: in.AppID})
	if err := s.cfg.Bus.Publish(ctx, SubjectInstallChanged, data); err != nil {
		// Other nodes catch up at their next start or change; the record
		// is already committed.
		s.log.Warn("marketplace: publish install change", "install", in.ID, "err", err)
	}
}

func errDetails(err error) map[string]any {
	d := map[string]any{"error": err.Error()}
	var ce *core.Error
	if errors.As(err, &ce) {
		d["code"] = string(ce.Code)
		if ce.Field != "" {
			d["field"] = ce.Field
		}
		if r, ok := ce.Details["refusal"]; ok {
			d["refusal"] = r
		}
	}
	return d
}

func validOrg(orgID string) error {
	if orgID == "" || len(orgID) > 100 {
		return core.Invalid("org_id", "organisation id is required")
	}
	return nil
}

// checkGrants refuses a grant of a scope the manifest does not request (a
// grant wider than asked), a scope granted twice, or a subtree on a scope
// that names no department.
func checkGrants(grants []Grant, m sdk.Manifest) error {
	seen := map[string]bool{}
	for i, g := range grants {
		f := fmt.Sprintf("grants[%d]", i)
		if !m.Has(g.Scope) {
			return core.Invalid(f+".scope", "%s %s does not request %q: a grant cannot be wider than the request", m.ID, m.Version, g.Scope)
		}
		if seen[g.Scope] {
			return core.Invalid(f+".scope", "scope %q is granted twice", g.Scope)
		}
		seen[g.Scope] = true
		if g.Subtree != "" {
			if !SubtreeScopes[g.Scope] {
				return core.Invalid(f+".subtree", "scope %q cannot be narrowed to a department", g.Scope)
			}
			if !core.ValidID(g.Subtree) {
				return core.Invalid(f+".subtree", "subtree %q is not a department id", g.Subtree)
			}
		}
	}
	return nil
}

// checkDepartments refuses a department of another organisation (or none)
// in grants, department settings or visibility.
func (s *Service) checkDepartments(ctx context.Context, orgID string, m sdk.Manifest, grants []Grant, settings map[string]string, v *Visibility) error {
	if s.cfg.Departments == nil {
		return nil
	}
	check := func(field, id string) error {
		ok, err := s.cfg.Departments.IsDepartment(ctx, orgID, id)
		if err != nil {
			return err
		}
		if !ok {
			return core.Invalid(field, "%s is not a department of this organisation", id)
		}
		return nil
	}
	for i, g := range grants {
		if g.Subtree != "" {
			if err := check(fmt.Sprintf("grants[%d].subtree", i), g.Subtree); err != nil {
				return err
			}
		}
	}
	for _, st := range m.Settings {
		if val := settings[st.Key]; st.Type == "department" && val != "" {
			if err := check("settings."+st.Key, val); err != nil {
				return err
			}
		}
	}
	if v != nil {
		for i, d := range v.Departments {
			if err := check(fmt.Sprintf("visibility.departments[%d]", i), d); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkVisibility(v Visibility) error {
	for i, d := range v.Departments {
		if !core.ValidID(d) {
			return core.Invalid(fmt.Sprintf("visibility.departments[%d]", i), "%q is not a department id", d)
		}
	}
	for i, p := range v.People {
		if !core.ValidID(p) {
			return core.Invalid(fmt.Sprintf("visibility.people[%d]", i), "%q is not a user id", p)
		}
	}
	if len(v.Departments)+len(v.People) > 1000 {
		return core.Invalid("visibility", "at most 1000 departments and people")
	}
	return nil
}

func checkSettings(m sdk.Manifest, settings map[string]string) error {
	if err := m.ValidateSettings(settings); err != nil {
		var se *sdk.Error
		if errors.As(err, &se) {
			f := se.Field
			if f == "" {
				f = "settings"
			}
			return &core.Error{Code: core.Code(se.Code), Field: f, Message: se.Message}
		}
		return core.Invalid("settings", "%v", err)
	}
	// A department setting holds a department's id, as a grant's subtree
	// does; the app finds the department through the host API.
	for _, st := range m.Settings {
		if v := settings[st.Key]; st.Type == "department" && v != "" && !core.ValidID(v) {
			return core.Invalid("settings."+st.Key, "%s %q is not a department id", st.Key, v)
		}
	}
	return nil
}
