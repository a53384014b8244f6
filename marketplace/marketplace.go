package marketplace

import (
	"context"
	"io"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Objects and actions checked through Authorizer.
const (
	ObjectApp     = "marketplace.app" // admins: "read" (browse, list) and "install" (every change)
	ActionRead    = "read"
	ActionInstall = "install"
	ObjectAppUse  = "apps.app" // staff: "open" (app center)
	ActionOpen    = "open"
)

// SubjectInstallChanged is published after every committed change of an
// install; Data is InstallEvent as JSON. Nodes re-read the install and
// converge on it.
const SubjectInstallChanged = "marketplace.install.changed"

// InstallEvent is the payload of SubjectInstallChanged.
type InstallEvent struct {
	InstallID string `json:"install_id"`
	OrgID     string `json:"org_id"`
	AppID     string `json:"app_id"`
}

// Authorizer decides whether the actor may act on object in orgID; it
// returns nil or an EForbidden error (authz.Enforcer implements it).
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Departments answers whether a department belongs to an organisation.
type Departments interface {
	IsDepartment(ctx context.Context, orgID, deptID string) (bool, error)
}

// Staff answers where people sit in the org chart, for app visibility.
type Staff interface {
	// InDepartments reports whether the person is current staff of any of
	// the departments or of a department below one of them.
	InDepartments(ctx context.Context, orgID, userID string, departmentIDs []string) (bool, error)
}

// Host runs app installs on this node (cmd/rounds implements it over the
// plugin host). Start is called with the whole install each time something
// changes and must (re)start the app with exactly that record; Stop of an
// install that is not running is not an error.
type Host interface {
	Start(ctx context.Context, app RunningApp) error
	Stop(ctx context.Context, installID string) error
	// Forget is called once on uninstall, after Stop: the host drops its
	// record of the install (grants, settings), so the same app can be
	// installed again; what the app stored stays until DeleteData.
	Forget(ctx context.Context, installID string) error
	// DeleteData removes everything the app stored for the install (its
	// key-value storage); called once, on uninstall without keeping data.
	DeleteData(ctx context.Context, installID string) error
}

// RunningApp is what the host needs to run an install. Dir holds
// manifest.json, the executable and ui/ (the bundle's web/ folder), the
// layout plugins.LoadBundle reads. Checksum is the hex SHA-256 of the
// executable from the publisher's signed list: the host passes it to
// go-plugin's SecureConfig and never computes it from the file.
type RunningApp struct {
	InstallID  string
	OrgID      string
	AppID      string
	AppName    string // the manifest's name (e.g. 智能排班): the bot is named after it
	Version    string
	BotUserID  string // the install id: the app's bot account has the install's id
	Dir        string
	Executable string // absolute path
	Checksum   string
	Grants     []Grant
	Settings   map[string]string
}

// Grant is a scope an admin granted. Subtree, for scopes whose calls name a
// department (orgchart:read, roster:read, roster:write, attendance:read),
// narrows the grant to that department and the ones below it.
type Grant struct {
	Scope   string `json:"scope"`
	Subtree string `json:"subtree,omitempty"`
}

// SubtreeScopes are the scopes a grant may narrow to a department.
var SubtreeScopes = map[string]bool{sdk.ScopeOrgchartRead: true, sdk.ScopeRosterRead: true, sdk.ScopeRosterWrite: true, sdk.ScopeAttendanceRead: true}

// Visibility says who sees an app in the app center: everyone, or the
// listed departments (with the ones below them) and people.
type Visibility struct {
	Everyone    bool     `json:"everyone"`
	Departments []string `json:"departments,omitempty"`
	People      []string `json:"people,omitempty"`
}

// Release is one installed version with the consent given for it.
type Release struct {
	Version      string            `json:"version"`
	BundleSHA256 string            `json:"bundle_sha256"` // of the .tgz in the file store
	Checksum     string            `json:"checksum"`      // of this server's executable, from the signed list
	KeyID        string            `json:"key_id"`
	PublicKey    string            `json:"public_key"` // the trusted key that signed it, so nodes verify again later
	Manifest     sdk.Manifest      `json:"manifest"`
	Grants       []Grant           `json:"grants"`
	Settings     map[string]string `json:"settings,omitempty"`
	InstalledAt  time.Time         `json:"installed_at"`
}

// Install is one app in one organisation. Previous is the release an
// upgrade replaced, kept for Rollback.
type Install struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"org_id"`
	AppID      string     `json:"app_id"`
	Enabled    bool       `json:"enabled"`
	Current    Release    `json:"current"`
	Previous   *Release   `json:"previous,omitempty"`
	Visibility Visibility `json:"visibility"`
	// Rev counts changes; UpdateInstall refuses a stale one (EConflict), so
	// two admins acting at once cannot overwrite each other.
	Rev       int64     `json:"rev"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// TrustedKey is a publisher key an organisation's admin trusts.
type TrustedKey struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	KeyID     string    `json:"key_id"` // derived from the key (bundle.PublicKey.ID)
	Name      string    `json:"name"`   // e.g. the ISV's name
	PublicKey string    `json:"public_key"`
	AddedBy   string    `json:"added_by,omitempty"`
	AddedAt   time.Time `json:"added_at"`
}

// Store keeps trusted keys and installs (marketplace/sqlstore).
//
// Errors: ENotFound for an unknown id; EConflict for a key already trusted
// in the organisation, an app already installed in it, or a stale Rev.
type Store interface {
	AddKey(ctx context.Context, k TrustedKey) error
	Keys(ctx context.Context, orgID string) ([]TrustedKey, error)
	RemoveKey(ctx context.Context, orgID, id string) error

	CreateInstall(ctx context.Context, in Install) error
	Install(ctx context.Context, id string) (Install, error)
	// Installs lists an organisation's installs by app id; "" lists every
	// organisation's (a node starting up).
	Installs(ctx context.Context, orgID string) ([]Install, error)
	// UpdateInstall stores in if the stored Rev still equals in.Rev and
	// sets it to in.Rev+1.
	UpdateInstall(ctx context.Context, in Install) error
	DeleteInstall(ctx context.Context, id string) error
}

// Index is a catalog's list of apps (index.json).
type Index struct {
	Apps []CatalogApp `json:"apps"`
}

// CatalogApp is one app of a catalog.
type CatalogApp struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Publisher   string           `json:"publisher"`
	Description string           `json:"description"`
	Category    string           `json:"category"`
	Screenshots []string         `json:"screenshots,omitempty"` // URLs or paths relative to the index
	Versions    []CatalogVersion `json:"versions"`
}

// CatalogVersion is one published version. Scopes are what the version asks
// for, shown before install; the install is refused if the signed manifest
// says otherwise.
type CatalogVersion struct {
	Version  string   `json:"version"`
	Scopes   []string `json:"scopes"`
	Bundle   string   `json:"bundle"` // URL or path relative to the index
	SHA256   string   `json:"sha256"` // of the bundle file
	Released string   `json:"released,omitempty"`
	Notes    string   `json:"notes,omitempty"`
	// Settings is the version's settings schema as the publisher lists
	// it, so the admin can fill the settings in before installing. It is
	// only the form: the signed manifest's schema is what install checks.
	Settings []sdk.Setting `json:"settings,omitempty"`
}

// Catalog is where apps are found (marketplace/catalog: a folder or an
// intranet URL).
type Catalog interface {
	Index(ctx context.Context) (Index, error)
	// Open returns the bundle of v; the caller closes it.
	Open(ctx context.Context, v CatalogVersion) (io.ReadCloser, error)
	// OpenFile returns another file the index names by a path relative to
	// it (or a URL), such as a screenshot; the caller closes it. A path
	// that leaves the catalog is EInvalid, a missing file ENotFound.
	OpenFile(ctx context.Context, ref string) (io.ReadCloser, error)
}

// AppEntry is an app in a person's app center.
type AppEntry struct {
	InstallID string     `json:"install_id"`
	AppID     string     `json:"app_id"`
	Name      string     `json:"name"`
	Version   string     `json:"version"`
	Pages     []sdk.Page `json:"pages,omitempty"`
	// URL opens the app's first page (served by the plugin host under
	// /plugins/{app}/ui/…); empty for an app without pages.
	URL string `json:"url,omitempty"`
}
