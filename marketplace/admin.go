package marketplace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/marketplace/bundle"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Catalog lists the catalog's apps, those of category only when it is not
// empty, by name. Needs "marketplace.app" "read" in orgID.
func (s *Service) Catalog(ctx context.Context, a core.Actor, orgID, category string) ([]CatalogApp, error) {
	if err := s.cfg.Authz.Authorize(ctx, a, orgID, ObjectApp, ActionRead); err != nil {
		return nil, err
	}
	if s.cfg.Catalog == nil {
		return []CatalogApp{}, nil
	}
	idx, err := s.cfg.Catalog.Index(ctx)
	if err != nil {
		return nil, err
	}
	out := []CatalogApp{}
	for _, app := range idx.Apps {
		if category == "" || strings.EqualFold(app.Category, category) {
			out = append(out, app)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CatalogApp returns one app of the catalog with its versions.
func (s *Service) CatalogApp(ctx context.Context, a core.Actor, orgID, appID string) (CatalogApp, error) {
	apps, err := s.Catalog(ctx, a, orgID, "")
	if err != nil {
		return CatalogApp{}, err
	}
	for _, app := range apps {
		if app.ID == appID {
			return app, nil
		}
	}
	return CatalogApp{}, core.Errorf(core.ENotFound, "the catalog has no app %q", appID)
}

// AddKey trusts a publisher key in orgID. Needs "marketplace.app" "install".
func (s *Service) AddKey(ctx context.Context, a core.Actor, orgID, name, publicKey string) (TrustedKey, error) {
	if err := validOrg(orgID); err != nil {
		return TrustedKey{}, err
	}
	if err := s.authorize(ctx, a, orgID, ObjectApp, ActionInstall, "marketplace.key.add", ""); err != nil {
		return TrustedKey{}, err
	}
	name = strings.TrimSpace(name)
	if n := len([]rune(name)); n == 0 || n > 100 {
		return TrustedKey{}, core.Invalid("name", "name must be 1–100 characters")
	}
	pub, err := bundle.ParsePublicKey(publicKey)
	if err != nil {
		return TrustedKey{}, err
	}
	k := TrustedKey{ID: core.NewID(), OrgID: orgID, KeyID: pub.ID(), Name: name, PublicKey: pub.String(), AddedBy: a.UserID, AddedAt: s.cfg.Clock.Now()}
	if err := s.cfg.Store.AddKey(ctx, k); err != nil {
		return TrustedKey{}, err
	}
	s.audit(ctx, a, orgID, "marketplace.key.add", k.ID, audit.ResultOK, map[string]any{"key_id": k.KeyID, "name": name})
	return k, nil
}

// Keys lists the keys orgID trusts. Needs "marketplace.app" "read".
func (s *Service) Keys(ctx context.Context, a core.Actor, orgID string) ([]TrustedKey, error) {
	if err := s.cfg.Authz.Authorize(ctx, a, orgID, ObjectApp, ActionRead); err != nil {
		return nil, err
	}
	return s.cfg.Store.Keys(ctx, orgID)
}

// RemoveKey stops trusting a key. Installed apps it signed keep running:
// their bundles were verified when installed, and nodes check them against
// the recorded key and checksums.
func (s *Service) RemoveKey(ctx context.Context, a core.Actor, orgID, id string) error {
	if err := s.authorize(ctx, a, orgID, ObjectApp, ActionInstall, "marketplace.key.remove", id); err != nil {
		return err
	}
	if err := s.cfg.Store.RemoveKey(ctx, orgID, id); err != nil {
		return err
	}
	s.audit(ctx, a, orgID, "marketplace.key.remove", id, audit.ResultOK, nil)
	return nil
}

// fetched is a downloaded and verified bundle waiting to be stored.
type fetched struct {
	file     string // the .tgz as downloaded
	sha      string
	v        *bundle.Verified
	checksum string // this server's executable
	key      string // the trusted key that verified it
	verify   string // the folder it was unpacked into for verification
}

func (f *fetched) cleanup() {
	_ = os.Remove(f.file)
	_ = os.RemoveAll(f.verify)
}

func (f *fetched) release(grants []Grant, settings map[string]string, at core.Clock) Release {
	return Release{Version: f.v.Manifest.Version, BundleSHA256: f.sha, Checksum: f.checksum, KeyID: f.v.KeyID, PublicKey: f.key,
		Manifest: f.v.Manifest, Grants: grants, Settings: settings, InstalledAt: at.Now()}
}

// fetch downloads appID version from the catalog and verifies it against
// the keys orgID trusts. A refused bundle is audited
// ("marketplace.bundle.refused") and nothing of it is kept.
func (s *Service) fetch(ctx context.Context, a core.Actor, orgID, appID, version string) (f *fetched, err error) {
	if s.cfg.Catalog == nil {
		return nil, core.Errorf(core.ENotFound, "no catalog is configured")
	}
	idx, err := s.cfg.Catalog.Index(ctx)
	if err != nil {
		return nil, err
	}
	var cv *CatalogVersion
	for _, app := range idx.Apps {
		if app.ID == appID {
			for i := range app.Versions {
				if app.Versions[i].Version == version {
					cv = &app.Versions[i]
				}
			}
		}
	}
	if cv == nil {
		return nil, core.Errorf(core.ENotFound, "the catalog has no %s %s", appID, version)
	}
	f = &fetched{}
	defer func() {
		if err != nil {
			f.cleanup()
			if ce := (*core.Error)(nil); asCore(err, &ce) && ce.Details["refusal"] != nil {
				d := errDetails(err)
				d["app_id"], d["version"] = appID, version
				s.audit(ctx, a, orgID, "marketplace.bundle.refused", "", audit.ResultDenied, d)
			}
		}
	}()
	lim := s.limits()
	rc, err := s.cfg.Catalog.Open(ctx, *cv)
	if err != nil {
		return f, err
	}
	defer rc.Close()
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return f, core.Wrap(err, "data folder")
	}
	tmp, err := os.CreateTemp(s.cfg.DataDir, ".incoming-*.tgz")
	if err != nil {
		return f, core.Wrap(err, "download bundle")
	}
	f.file = tmp.Name()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, lim.MaxCompressed+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f, core.Errorf(core.EUnavailable, "download %s %s: %v", appID, version, err)
	}
	if n > lim.MaxCompressed {
		return f, refusal(core.ETooLarge, "size", "the bundle of %s %s is larger than %d bytes", appID, version, lim.MaxCompressed)
	}
	f.sha = hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(cv.SHA256, f.sha) {
		return f, refusal(core.EInvalid, "catalog_sha256", "the bundle of %s %s does not match the catalog's checksum", appID, version)
	}
	stored, err := s.cfg.Store.Keys(ctx, orgID)
	if err != nil {
		return f, err
	}
	keys := make([]bundle.PublicKey, 0, len(stored))
	byID := map[string]string{}
	for _, k := range stored {
		if pk, err := bundle.ParsePublicKey(k.PublicKey); err == nil {
			keys = append(keys, pk)
			byID[pk.ID()] = pk.String()
		}
	}
	in, err := os.Open(f.file)
	if err != nil {
		return f, core.Wrap(err, "open bundle")
	}
	defer in.Close()
	f.verify = filepath.Join(s.cfg.DataDir, ".verify-"+core.NewID())
	v, err := bundle.Unpack(in, f.verify, lim, keys)
	if err != nil {
		return f, err
	}
	f.v, f.key = v, byID[v.KeyID]
	m := v.Manifest
	if m.ID != appID || m.Version != version {
		return f, refusal(core.EInvalid, "manifest", "the catalog's %s %s holds %s %s", appID, version, m.ID, m.Version)
	}
	want, got := slices.Clone(cv.Scopes), slices.Clone(m.Scopes)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return f, refusal(core.EInvalid, "scopes", "the catalog lists scopes %v for %s %s but the signed manifest requests %v", cv.Scopes, appID, version, m.Scopes)
	}
	if _, f.checksum, err = v.Executable(s.cfg.GOOS, s.cfg.GOARCH); err != nil {
		return f, err
	}
	if err := s.storeBundle(ctx, f); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Service) limits() bundle.Limits {
	l := s.cfg.Limits
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = bundle.DefaultLimits.MaxCompressed
	}
	return l
}

// storeBundle puts the verified bundle into the shared file store. A
// version already stored must be the same bytes: a publisher cannot swap
// what another organisation runs under the same version.
func (s *Service) storeBundle(ctx context.Context, f *fetched) error {
	key := BundleKey(f.v.Manifest.ID, f.v.Manifest.Version)
	if _, err := s.cfg.Files.Stat(ctx, key); err == nil {
		rc, _, err := s.cfg.Files.Get(ctx, key)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return core.Wrap(err, "read stored bundle")
		}
		if hex.EncodeToString(h.Sum(nil)) != f.sha {
			return core.Errorf(core.EConflict, "%s %s is already stored with other contents; publish a new version", f.v.Manifest.ID, f.v.Manifest.Version)
		}
		return nil
	} else if !core.IsCode(err, core.ENotFound) {
		return err
	}
	in, err := os.Open(f.file)
	if err != nil {
		return core.Wrap(err, "open bundle")
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return core.Wrap(err, "stat bundle")
	}
	return s.cfg.Files.Put(ctx, key, in, st.Size(), "application/gzip")
}

func refusal(code core.Code, field, format string, args ...any) *core.Error {
	e := core.Errorf(code, format, args...)
	e.Field = field
	e.Details = map[string]any{"refusal": field}
	return e
}

func asCore(err error, target **core.Error) bool {
	for err != nil {
		if ce, ok := err.(*core.Error); ok {
			*target = ce
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// InstallRequest is an admin's decision to install an app.
type InstallRequest struct {
	OrgID      string            `json:"-"`
	AppID      string            `json:"app_id"`
	Version    string            `json:"version"`
	Grants     []Grant           `json:"grants"`
	Visibility Visibility        `json:"visibility"`
	Settings   map[string]string `json:"settings,omitempty"`
	Enable     bool              `json:"enable"`
}

// Install verifies the version's bundle, records the install with the
// grants given (each one a scope the manifest requests, possibly narrowed
// to a department subtree) and, when Enable is set, starts it. Needs
// "marketplace.app" "install" in the organisation. Refused: an app already
// installed (EConflict; upgrade it), a bundle that does not verify, a grant
// wider than the request. If the app cannot be started nothing is kept.
func (s *Service) Install(ctx context.Context, a core.Actor, req InstallRequest) (Install, error) {
	if err := validOrg(req.OrgID); err != nil {
		return Install{}, err
	}
	if err := s.authorize(ctx, a, req.OrgID, ObjectApp, ActionInstall, "marketplace.install", ""); err != nil {
		return Install{}, err
	}
	if req.AppID == "" {
		return Install{}, core.Invalid("app_id", "app_id is required")
	}
	if req.Version == "" {
		return Install{}, core.Invalid("version", "version is required")
	}
	if err := checkVisibility(req.Visibility); err != nil {
		return Install{}, err
	}
	existing, err := s.cfg.Store.Installs(ctx, req.OrgID)
	if err != nil {
		return Install{}, err
	}
	for _, in := range existing {
		if in.AppID == req.AppID {
			return Install{}, core.Errorf(core.EConflict, "%s is already installed (version %s); upgrade or roll it back instead", req.AppID, in.Current.Version)
		}
	}
	f, err := s.fetch(ctx, a, req.OrgID, req.AppID, req.Version)
	if err != nil {
		return Install{}, err
	}
	defer f.cleanup()
	if err := checkGrants(req.Grants, f.v.Manifest); err != nil {
		s.audit(ctx, a, req.OrgID, "marketplace.install", "", audit.ResultDenied, errDetails(err))
		return Install{}, err
	}
	settings := withDefaults(f.v.Manifest, req.Settings)
	if err := checkSettings(f.v.Manifest, settings); err != nil {
		return Install{}, err
	}
	if err := s.checkDepartments(ctx, req.OrgID, f.v.Manifest, req.Grants, settings, &req.Visibility); err != nil {
		return Install{}, err
	}
	now := s.cfg.Clock.Now()
	in := Install{ID: core.NewID(), OrgID: req.OrgID, AppID: req.AppID, Enabled: req.Enable,
		Current: f.release(slices.Clone(req.Grants), settings, s.cfg.Clock), Visibility: req.Visibility,
		CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserID}
	if in.Current.Grants == nil {
		in.Current.Grants = []Grant{}
	}
	if err := s.cfg.Store.CreateInstall(ctx, in); err != nil {
		return Install{}, err
	}
	if err := s.Sync(ctx, in.ID); err != nil {
		_ = s.cfg.Store.DeleteInstall(ctx, in.ID)
		_ = s.Sync(ctx, in.ID)
		s.audit(ctx, a, req.OrgID, "marketplace.install", in.ID, audit.ResultFailed, errDetails(err))
		return Install{}, err
	}
	in, err = s.cfg.Store.Install(ctx, in.ID)
	if err != nil {
		return Install{}, err
	}
	s.publish(ctx, in)
	s.audit(ctx, a, req.OrgID, "marketplace.install", in.ID, audit.ResultOK, map[string]any{
		"app_id": in.AppID, "version": in.Current.Version, "grants": grantsDetail(in.Current.Grants), "enabled": in.Enabled, "key_id": in.Current.KeyID})
	return in, nil
}

func grantsDetail(gs []Grant) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		if g.Subtree != "" {
			out = append(out, g.Scope+"@"+g.Subtree)
		} else {
			out = append(out, g.Scope)
		}
	}
	return out
}

// withDefaults fills settings the admin left out with the schema's
// defaults and drops keys the schema no longer has (after an upgrade).
func withDefaults(m sdk.Manifest, given map[string]string) map[string]string {
	out := map[string]string{}
	for _, st := range m.Settings {
		if v, ok := given[st.Key]; ok {
			out[st.Key] = v
		} else if st.Default != "" {
			out[st.Key] = st.Default
		}
	}
	for k, v := range given {
		if _, ok := out[k]; !ok {
			out[k] = v // unknown keys stay so that ValidateSettings names them
		}
	}
	return out
}

// Installs lists an organisation's installs. Needs "marketplace.app" "read".
func (s *Service) Installs(ctx context.Context, a core.Actor, orgID string) ([]Install, error) {
	if err := s.cfg.Authz.Authorize(ctx, a, orgID, ObjectApp, ActionRead); err != nil {
		return nil, err
	}
	return s.cfg.Store.Installs(ctx, orgID)
}

// GetInstall returns one install. Needs "marketplace.app" "read" in its
// organisation; another organisation's install is ENotFound.
func (s *Service) GetInstall(ctx context.Context, a core.Actor, id string) (Install, error) {
	in, err := s.cfg.Store.Install(ctx, id)
	if err != nil {
		return Install{}, err
	}
	if err := s.cfg.Authz.Authorize(ctx, a, in.OrgID, ObjectApp, ActionRead); err != nil {
		if in.OrgID != a.OrgID {
			return Install{}, core.Errorf(core.ENotFound, "install %s not found", id)
		}
		return Install{}, err
	}
	return in, nil
}

// load reads an install for a change: another organisation's install is
// ENotFound (its existence is not the actor's business) unless the actor
// may read there (a system admin); in the actor's own organisation a
// missing "install" permission is EForbidden and audited.
func (s *Service) load(ctx context.Context, a core.Actor, id, action string) (Install, error) {
	in, err := s.cfg.Store.Install(ctx, id)
	if err != nil {
		return Install{}, err
	}
	if in.OrgID != a.OrgID && s.cfg.Authz.Authorize(ctx, a, in.OrgID, ObjectApp, ActionRead) != nil {
		return Install{}, core.Errorf(core.ENotFound, "install %s not found", id)
	}
	if err := s.authorize(ctx, a, in.OrgID, ObjectApp, ActionInstall, action, id); err != nil {
		return Install{}, err
	}
	return in, nil
}

// change loads an install, checks "install" on its organisation, applies
// edit, stores and applies the result on this node; if the node cannot run
// it the previous record is put back. action names the audit entry.
func (s *Service) change(ctx context.Context, a core.Actor, id, action string, edit func(in *Install) (map[string]any, error)) (Install, error) {
	old, err := s.load(ctx, a, id, action)
	if err != nil {
		return Install{}, err
	}
	in := old
	if old.Previous != nil {
		p := *old.Previous
		in.Previous = &p
	}
	details, err := edit(&in)
	if err != nil {
		d := errDetails(err)
		s.audit(ctx, a, old.OrgID, action, id, audit.ResultDenied, d)
		return Install{}, err
	}
	in.UpdatedAt, in.UpdatedBy = s.cfg.Clock.Now(), a.UserID
	if err := s.cfg.Store.UpdateInstall(ctx, in); err != nil {
		return Install{}, err
	}
	if err := s.Sync(ctx, id); err != nil {
		back := old
		back.Rev = old.Rev + 1
		if rerr := s.cfg.Store.UpdateInstall(ctx, back); rerr == nil {
			_ = s.Sync(ctx, id)
		} else {
			s.log.Error("marketplace: put back install after failed apply", "install", id, "err", rerr)
		}
		s.audit(ctx, a, old.OrgID, action, id, audit.ResultFailed, errDetails(err))
		return Install{}, err
	}
	saved, err := s.cfg.Store.Install(ctx, id)
	if err != nil {
		return Install{}, err
	}
	s.publish(ctx, saved)
	if details == nil {
		details = map[string]any{}
	}
	details["app_id"], details["version"] = saved.AppID, saved.Current.Version
	s.audit(ctx, a, saved.OrgID, action, id, audit.ResultOK, details)
	return saved, nil
}

// Enable starts an install.
func (s *Service) Enable(ctx context.Context, a core.Actor, id string) (Install, error) {
	return s.change(ctx, a, id, "marketplace.enable", func(in *Install) (map[string]any, error) {
		in.Enabled = true
		return nil, nil
	})
}

// Disable stops an install and revokes its grants on every node; the
// record, grants and data stay for a later Enable.
func (s *Service) Disable(ctx context.Context, a core.Actor, id string) (Install, error) {
	return s.change(ctx, a, id, "marketplace.disable", func(in *Install) (map[string]any, error) {
		in.Enabled = false
		return nil, nil
	})
}

// Configure replaces the install's settings, checked against the
// manifest's schema (unset keys take their defaults), and restarts it. A
// secret given as SecretMask keeps its current value. Values are not
// audited, only the keys.
func (s *Service) Configure(ctx context.Context, a core.Actor, id string, settings map[string]string) (Install, error) {
	return s.change(ctx, a, id, "marketplace.configure", func(in *Install) (map[string]any, error) {
		m := in.Current.Manifest
		settings = maps.Clone(settings)
		for _, st := range m.Settings {
			if st.Type == "secret" && settings[st.Key] == SecretMask {
				// The admin sent back what they were shown: keep the secret.
				if old, ok := in.Current.Settings[st.Key]; ok {
					settings[st.Key] = old
				} else {
					delete(settings, st.Key)
				}
			}
		}
		next := withDefaults(m, settings)
		if err := checkSettings(m, next); err != nil {
			return nil, err
		}
		if err := s.checkDepartments(ctx, in.OrgID, m, nil, next, nil); err != nil {
			return nil, err
		}
		in.Current.Settings = next
		keys := slices.Sorted(maps.Keys(next))
		return map[string]any{"keys": keys}, nil
	})
}

// SetVisibility says who sees the app in the app center.
func (s *Service) SetVisibility(ctx context.Context, a core.Actor, id string, v Visibility) (Install, error) {
	return s.change(ctx, a, id, "marketplace.visibility", func(in *Install) (map[string]any, error) {
		if err := checkVisibility(v); err != nil {
			return nil, err
		}
		if err := s.checkDepartments(ctx, in.OrgID, sdk.Manifest{}, nil, nil, &v); err != nil {
			return nil, err
		}
		in.Visibility = v
		return map[string]any{"everyone": v.Everyone, "departments": len(v.Departments), "people": len(v.People)}, nil
	})
}

// UpgradeRequest moves an install to a newer version. Grants nil keeps the
// current grants (minus scopes the new version no longer requests) and is
// refused when the new version requests scopes the current one did not:
// new scopes need the admin's consent, given by listing the grants. Nil
// Settings keeps the current values.
type UpgradeRequest struct {
	Version  string            `json:"version"`
	Grants   *[]Grant          `json:"grants,omitempty"`
	Settings map[string]string `json:"settings,omitempty"`
}

// Upgrade installs a newer version; the current one becomes Previous for
// Rollback. A version that is not newer is refused (EInvalid, field
// "version"): going back is Rollback's job.
func (s *Service) Upgrade(ctx context.Context, a core.Actor, id string, req UpgradeRequest) (Install, error) {
	var f *fetched
	defer func() {
		if f != nil {
			f.cleanup()
		}
	}()
	return s.change(ctx, a, id, "marketplace.upgrade", func(in *Install) (map[string]any, error) {
		cur := in.Current
		if !validVersion(req.Version) {
			return nil, core.Invalid("version", "version %q is not a semantic version", req.Version)
		}
		if sdk.CompareVersions(req.Version, cur.Version) <= 0 {
			return nil, core.Invalid("version", "%s is not newer than the installed %s; use rollback to go back", req.Version, cur.Version)
		}
		var err error
		if f, err = s.fetch(ctx, a, in.OrgID, in.AppID, req.Version); err != nil {
			return nil, err
		}
		m := f.v.Manifest
		var added []string
		for _, sc := range m.Scopes {
			if !cur.Manifest.Has(sc) {
				added = append(added, sc)
			}
		}
		var grants []Grant
		if req.Grants == nil {
			if len(added) > 0 {
				e := core.Invalid("grants", "%s %s requests new scopes %v: list the grants to consent", in.AppID, req.Version, added)
				e.Details = map[string]any{"new_scopes": added}
				return nil, e
			}
			for _, g := range cur.Grants {
				if m.Has(g.Scope) {
					grants = append(grants, g)
				}
			}
		} else {
			grants = slices.Clone(*req.Grants)
		}
		if grants == nil {
			grants = []Grant{}
		}
		if err := checkGrants(grants, m); err != nil {
			return nil, err
		}
		given := cur.Settings
		if req.Settings != nil {
			given = req.Settings
		}
		settings := withDefaults(m, given)
		if req.Settings == nil {
			// Keys the new schema dropped go quietly; the admin did not
			// type them this time.
			for k := range settings {
				if !hasSetting(m, k) {
					delete(settings, k)
				}
			}
		}
		if err := checkSettings(m, settings); err != nil {
			return nil, err
		}
		if err := s.checkDepartments(ctx, in.OrgID, m, grants, settings, nil); err != nil {
			return nil, err
		}
		prev := in.Current
		in.Previous = &prev
		in.Current = f.release(grants, settings, s.cfg.Clock)
		return map[string]any{"from": prev.Version, "new_scopes": added, "grants": grantsDetail(grants)}, nil
	})
}

func hasSetting(m sdk.Manifest, key string) bool {
	for _, st := range m.Settings {
		if st.Key == key {
			return true
		}
	}
	return false
}

func validVersion(v string) bool {
	if v == "" || len(v) > 64 || strings.HasPrefix(v, "v") {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-') {
			return false
		}
	}
	return sdk.CompareVersions(v, v) == 0 && sdk.CompareVersions(v, "0.0.0-0") > 0
}

// Rollback goes back to the release the last upgrade replaced, with the
// grants and settings it had; the release rolled back from becomes
// Previous. EConflict when there is nothing to go back to.
func (s *Service) Rollback(ctx context.Context, a core.Actor, id string) (Install, error) {
	return s.change(ctx, a, id, "marketplace.rollback", func(in *Install) (map[string]any, error) {
		if in.Previous == nil {
			return nil, core.Errorf(core.EConflict, "%s has no previous version to roll back to", in.AppID)
		}
		from := in.Current
		in.Current, in.Previous = *in.Previous, &from
		return map[string]any{"from": from.Version}, nil
	})
}

// Uninstall removes an install from every node. keepData keeps what the
// app stored (a reinstall finds nothing of it, since data belongs to the
// install id, but an export or audit may); otherwise it is deleted.
func (s *Service) Uninstall(ctx context.Context, a core.Actor, id string, keepData bool) error {
	in, err := s.load(ctx, a, id, "marketplace.uninstall")
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteInstall(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	s.applied[id] = -1 // make Sync stop it even if this node never ran it
	s.mu.Unlock()
	if err := s.Sync(ctx, id); err != nil {
		s.log.Error("marketplace: stop uninstalled app", "install", id, "err", err)
	}
	details := map[string]any{"app_id": in.AppID, "version": in.Current.Version, "keep_data": keepData}
	// Without this a kept install's record blocked installing the app again
	// (409 "already installed" while the console listed none).
	if err := s.cfg.Host.Forget(ctx, id); err != nil {
		details["forget_error"] = err.Error()
		s.audit(ctx, a, in.OrgID, "marketplace.uninstall", id, audit.ResultFailed, details)
		return err
	}
	if !keepData {
		if err := s.cfg.Host.DeleteData(ctx, id); err != nil {
			details["delete_data_error"] = err.Error()
			s.audit(ctx, a, in.OrgID, "marketplace.uninstall", id, audit.ResultFailed, details)
			return err
		}
	}
	s.publish(ctx, in)
	s.audit(ctx, a, in.OrgID, "marketplace.uninstall", id, audit.ResultOK, details)
	return nil
}

// SecretMask replaces the values of "secret" settings in what Redacted
// returns; Configure takes it back as "unchanged".
const SecretMask = "********"

// Redacted is in as shown to people: secret settings masked. Transports
// return this, never the stored values.
func Redacted(in Install) Install {
	in.Current = redactRelease(in.Current)
	if in.Previous != nil {
		p := redactRelease(*in.Previous)
		in.Previous = &p
	}
	return in
}

func redactRelease(r Release) Release {
	out := maps.Clone(r.Settings)
	for _, st := range r.Manifest.Settings {
		if _, ok := out[st.Key]; ok && st.Type == "secret" {
			out[st.Key] = SecretMask
		}
	}
	r.Settings = out
	return r
}
