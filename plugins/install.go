package plugins

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Install is one app installed in one organisation, as the admin approved
// it. The host runs one process per enabled install.
type Install struct {
	ID        string `json:"id"`
	OrgID     string `json:"org_id"`
	AppID     string `json:"app_id"` // must equal the bundle manifest's id
	BotUserID string `json:"bot_user_id"`
	// Dir is the installed bundle: manifest.json, the executable and ui/.
	Dir string `json:"-"`
	// Checksum is the hex SHA-256 of the executable from the signed
	// catalogue entry. The host never computes it from the file it is
	// about to run: go-plugin refuses to start a binary that does not
	// match.
	Checksum string            `json:"checksum"`
	Grants   []Grant           `json:"grants"`
	Settings map[string]string `json:"settings,omitempty"`
}

// Grant is a scope the admin granted. Subtree, when set, limits the calls
// that name a department (orgchart:read, roster:*, attendance:read) to that
// department and its descendants.
type Grant struct {
	Scope   string `json:"scope"`
	Subtree string `json:"subtree,omitempty"`
}

// Bundle is an app's installed files and its validated manifest.
type Bundle struct {
	Dir        string
	Manifest   sdk.Manifest
	Executable string // absolute path
}

// LoadBundle reads and validates the manifest in dir and checks that the
// executable is a regular file inside dir.
func LoadBundle(dir string) (Bundle, error) {
	data, err := os.ReadFile(filepath.Join(dir, sdk.ManifestFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Bundle{}, core.Invalid("manifest", "the bundle has no %s", sdk.ManifestFile)
		}
		return Bundle{}, core.Wrap(err, "read manifest")
	}
	if len(data) > 256<<10 {
		return Bundle{}, core.Errorf(core.ETooLarge, "manifest larger than 256 KiB")
	}
	m, err := sdk.ParseManifest(data)
	if err != nil {
		return Bundle{}, fromSDK(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Bundle{}, core.Wrap(err, "bundle path")
	}
	exe := filepath.Join(abs, m.Executable)
	st, err := os.Lstat(exe)
	if err != nil || !st.Mode().IsRegular() {
		return Bundle{}, core.Invalid("executable", "executable %q is not a regular file in the bundle", m.Executable)
	}
	return Bundle{Dir: abs, Manifest: m, Executable: exe}, nil
}

// checkInstall validates an install against its bundle and the server.
func checkInstall(inst Install, b Bundle, serverVersion string) (checksum []byte, err error) {
	if !core.ValidID(inst.ID) {
		return nil, core.Invalid("id", "install id %q is not a valid id", inst.ID)
	}
	if inst.OrgID == "" {
		return nil, core.Invalid("org_id", "an install belongs to an organisation")
	}
	if inst.AppID != b.Manifest.ID {
		return nil, core.Invalid("app_id", "install is for %q but the bundle is %q", inst.AppID, b.Manifest.ID)
	}
	if !serverMeets(serverVersion, b.Manifest.MinServerVersion) {
		return nil, core.Invalid("min_server_version", "the app needs Rounds %s or newer; this server is %s", b.Manifest.MinServerVersion, serverVersion)
	}
	sum, err := hex.DecodeString(strings.ToLower(inst.Checksum))
	if err != nil || len(sum) != 32 {
		return nil, core.Invalid("checksum", "checksum must be a hex SHA-256")
	}
	seen := map[string]bool{}
	for i, g := range inst.Grants {
		f := fmt.Sprintf("grants[%d]", i)
		if !contains(sdk.Scopes, g.Scope) {
			return nil, core.Invalid(f+".scope", "unknown scope %q", g.Scope)
		}
		if !b.Manifest.Has(g.Scope) {
			return nil, core.Invalid(f+".scope", "the app did not request %q", g.Scope)
		}
		if seen[g.Scope] {
			return nil, core.Invalid(f+".scope", "scope %q granted twice", g.Scope)
		}
		seen[g.Scope] = true
		if g.Subtree != "" && !subtreeScopes[g.Scope] {
			return nil, core.Invalid(f+".subtree", "scope %q cannot be limited to a department", g.Scope)
		}
	}
	if err := b.Manifest.ValidateSettings(inst.Settings); err != nil {
		return nil, fromSDK(err)
	}
	return sum, nil
}

// subtreeScopes are the scopes whose calls name a department.
var subtreeScopes = map[string]bool{sdk.ScopeOrgchartRead: true, sdk.ScopeRosterRead: true, sdk.ScopeRosterWrite: true, sdk.ScopeAttendanceRead: true}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fromSDK turns an SDK error into the server's error type.
func fromSDK(err error) error {
	if err == nil {
		return nil
	}
	var e *sdk.Error
	if errors.As(err, &e) {
		return &core.Error{Code: core.Code(e.Code), Message: e.Message, Field: e.Field}
	}
	return core.Wrap(err, "app call")
}

// toSDK turns a server error into the SDK's, keeping the code and the
// client-safe message only.
func toSDK(err error) error {
	if err == nil {
		return nil
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return sdk.Errorf(sdk.CodeUnavailable, "deadline exceeded")
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return &sdk.Error{Code: sdk.Code(ce.Code), Message: core.ErrorMessage(err), Field: ce.Field}
	}
	return sdk.Errorf(sdk.CodeInternal, "internal error")
}

// serverMeets reports whether a server of version server runs an app that
// needs min. A build on the way to a version (0.1.0-dev, 0.2.0-rc.1) carries
// what that version will, so it counts as that version.
func serverMeets(server, min string) bool {
	base, _, _ := strings.Cut(server, "+")
	base, _, _ = strings.Cut(base, "-")
	return sdk.CompareVersions(base, min) >= 0
}
