package sdk

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// ManifestFile is the name of the manifest in an app bundle, next to the
// executable. Since v0.1.0.
const ManifestFile = "manifest.json"

// Manifest describes an app: who made it, what it asks for and what it
// offers. The hospital's admin sees it before installing, and the host
// refuses an app that does anything its manifest does not say. Since v0.1.0.
type Manifest struct {
	ID               string         `json:"id"`                 // e.g. "daily-report"; lower case, digits, '-' and '.'
	Name             string         `json:"name"`               // shown to people, e.g. "日报"
	Version          string         `json:"version"`            // semantic version, e.g. "1.2.0"
	Publisher        string         `json:"publisher"`          // the ISV
	MinServerVersion string         `json:"min_server_version"` // oldest Rounds server it runs on, e.g. "0.1.0"
	Executable       string         `json:"executable"`         // file name of the program in the bundle
	Scopes           []string       `json:"scopes"`             // permission scopes requested, e.g. "orgchart:read"
	Hooks            []string       `json:"hooks"`              // hooks implemented, e.g. "message_posted"
	Routes           []Route        `json:"routes,omitempty"`   // HTTP routes under /plugins/{id}/
	Pages            []Page         `json:"pages,omitempty"`    // UI pages shown in a sandboxed frame
	SlashCommands    []SlashCommand `json:"commands,omitempty"`
	Jobs             []JobSpec      `json:"jobs,omitempty"`
	Settings         []Setting      `json:"settings,omitempty"` // settings schema filled in by the admin
}

// Route is an HTTP route an app serves, relative to /plugins/{id}. A path
// segment "{name}" matches any one segment. Since v0.1.0.
type Route struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary,omitempty"`
}

// Page is a UI page: a static file of the bundle's ui/ directory shown in a
// sandboxed frame of the web client. Since v0.1.0.
type Page struct {
	Path  string `json:"path"`  // e.g. "/report"
	Title string `json:"title"` // e.g. "写日报"
	File  string `json:"file"`  // e.g. "report.html", relative to ui/
}

// SlashCommand is a command people type in chat, e.g. "/daily". Since v0.1.0.
type SlashCommand struct {
	Name        string `json:"name"` // without the slash
	Description string `json:"description,omitempty"`
}

// JobSpec is a scheduled job: the host calls OnJob every Every (a Go
// duration, at least one minute). Since v0.1.0.
type JobSpec struct {
	Name  string `json:"name"`
	Every string `json:"every"`
}

// Setting is one field of the settings schema, which the hospital's admin
// fills in when installing the app and may change later. Since v0.1.0;
// Description, I18n and the "department" type since v0.3.0.
type Setting struct {
	Key         string `json:"key"`
	Label       string `json:"label"`                 // shown to the admin instead of the key
	Description string `json:"description,omitempty"` // a line of help under the field (since v0.3.0)
	// Type is "string", "int", "bool", "secret" or (since v0.3.0)
	// "department": the id of one of the hospital's departments, which the
	// admin picks from the org chart by name. A department setting has no
	// default: department ids belong to one hospital.
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  string `json:"default,omitempty"`
	// I18n gives the label and description in other languages, keyed by
	// the web client's language ("zh-CN", "en"). The admin console shows
	// its own language's and falls back to Label and Description as
	// written. Since v0.3.0.
	I18n map[string]SettingText `json:"i18n,omitempty"`
}

// SettingText is a setting's label and description in one language.
// Since v0.3.0.
type SettingText struct {
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
}

// SettingTypes lists the types a setting may have. Since v0.3.0.
var SettingTypes = []string{"string", "int", "bool", "secret", "department"}

// Permission scopes an app may request. Since v0.1.0.
const (
	ScopeOrgchartRead    = "orgchart:read" // departments and staff, optionally limited to a subtree
	ScopeIMSend          = "im:send"       // send as the app's bot into conversations it is in
	ScopeIMRead          = "im:read"       // read conversations the bot is in
	ScopeIMDirect        = "im:direct"     // send direct messages as the app's bot to staff of the organisation (since v0.2.0)
	ScopeApprovalsRead   = "approvals:read"
	ScopeApprovalsSubmit = "approvals:submit"
	ScopeRosterRead      = "roster:read"
	ScopeRosterWrite     = "roster:write"
	ScopeAttendanceRead  = "attendance:read"
	ScopeHTTPRoutes      = "http:routes" // serve HTTP routes and pages to signed-in people
)

// Scopes lists every known scope. Since v0.1.0.
var Scopes = []string{ScopeOrgchartRead, ScopeIMSend, ScopeIMRead, ScopeIMDirect, ScopeApprovalsRead, ScopeApprovalsSubmit,
	ScopeRosterRead, ScopeRosterWrite, ScopeAttendanceRead, ScopeHTTPRoutes}

// Hook names of the manifest. Since v0.1.0.
const (
	HookMessagePosted    = "message_posted"
	HookApprovalFinished = "approval_finished"
	HookRosterPublished  = "roster_published"
	HookStaffChanged     = "staff_changed"
	HookJobs             = "jobs"
	HookCommands         = "commands"
	HookHTTP             = "http"
)

// Hooks lists every known hook. Since v0.1.0.
var Hooks = []string{HookMessagePosted, HookApprovalFinished, HookRosterPublished, HookStaffChanged,
	HookJobs, HookCommands, HookHTTP}

var (
	idRe      = regexp.MustCompile(`^[a-z][a-z0-9.-]{1,62}[a-z0-9]$`)
	nameRe    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)
	langRe    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	segmentRe = regexp.MustCompile(`^([A-Za-z0-9._~-]+|\{[a-z][a-z0-9_]*\})$`)
	exeRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
)

// Lengths of a setting's texts, in characters.
const (
	maxSettingLabel = 100
	maxSettingText  = 500
)

// ParseManifest decodes a manifest strictly (unknown fields are errors) and
// validates it. Since v0.1.0.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, &Error{Code: CodeInvalid, Message: "manifest is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return Manifest{}, &Error{Code: CodeInvalid, Message: "manifest has trailing data"}
	}
	return m, m.Validate()
}

// Has reports whether the manifest requests scope. Since v0.1.0.
func (m Manifest) Has(scope string) bool { return contains(m.Scopes, scope) }

// Implements reports whether the manifest lists hook. Since v0.1.0.
func (m Manifest) Implements(hook string) bool { return contains(m.Hooks, hook) }

// Validate checks every field and returns the first problem as an *Error
// naming the field (e.g. "scopes[2]"). Since v0.1.0.
func (m Manifest) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if !idRe.MatchString(m.ID) {
		return bad("id", "id %q must be 3–64 characters of a-z, 0-9, '-' and '.', starting with a letter", m.ID)
	}
	if n := len([]rune(strings.TrimSpace(m.Name))); n == 0 || n > 64 {
		return bad("name", "name must be 1–64 characters")
	}
	if !validVersion(m.Version) {
		return bad("version", "version %q is not a semantic version such as 1.2.0", m.Version)
	}
	if n := len([]rune(strings.TrimSpace(m.Publisher))); n == 0 || n > 100 {
		return bad("publisher", "publisher must be 1–100 characters")
	}
	if !validVersion(m.MinServerVersion) {
		return bad("min_server_version", "min_server_version %q is not a semantic version such as 0.1.0", m.MinServerVersion)
	}
	if !exeRe.MatchString(m.Executable) {
		return bad("executable", "executable must be a plain file name in the bundle")
	}
	seen := map[string]bool{}
	for i, s := range m.Scopes {
		f := fmt.Sprintf("scopes[%d]", i)
		if !contains(Scopes, s) {
			return bad(f, "unknown scope %q", s)
		}
		if seen[s] {
			return bad(f, "scope %q listed twice", s)
		}
		seen[s] = true
	}
	seen = map[string]bool{}
	for i, h := range m.Hooks {
		f := fmt.Sprintf("hooks[%d]", i)
		if !contains(Hooks, h) {
			return bad(f, "unknown hook %q", h)
		}
		if seen[h] {
			return bad(f, "hook %q listed twice", h)
		}
		seen[h] = true
	}
	if (len(m.Routes) > 0 || len(m.Pages) > 0) && !m.Has(ScopeHTTPRoutes) {
		return bad("routes", "routes and pages need the scope %q", ScopeHTTPRoutes)
	}
	if len(m.Routes) > 0 && !m.Implements(HookHTTP) {
		return bad("hooks", "routes need the hook %q", HookHTTP)
	}
	seen = map[string]bool{}
	for i, r := range m.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch r.Method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			return bad(f+".method", "method %q is not one of GET, POST, PUT, PATCH, DELETE", r.Method)
		}
		if err := validPath(r.Path); err != "" {
			return bad(f+".path", "path %q %s", r.Path, err)
		}
		if strings.HasPrefix(r.Path, "/ui/") || r.Path == "/ui" {
			return bad(f+".path", "path %q is reserved for pages", r.Path)
		}
		k := r.Method + " " + r.Path
		if seen[k] {
			return bad(f, "route %s listed twice", k)
		}
		seen[k] = true
	}
	seen = map[string]bool{}
	for i, p := range m.Pages {
		f := fmt.Sprintf("pages[%d]", i)
		if err := validPath(p.Path); err != "" || strings.Contains(p.Path, "{") {
			return bad(f+".path", "page path %q must be a fixed path such as /report", p.Path)
		}
		if seen[p.Path] {
			return bad(f+".path", "page %q listed twice", p.Path)
		}
		seen[p.Path] = true
		if strings.TrimSpace(p.Title) == "" {
			return bad(f+".title", "a page needs a title")
		}
		if p.File == "" || path.IsAbs(p.File) || path.Clean(p.File) != p.File || strings.HasPrefix(p.File, "..") || strings.Contains(p.File, "\\") {
			return bad(f+".file", "file %q must be a relative path inside ui/", p.File)
		}
	}
	if len(m.SlashCommands) > 0 && !m.Implements(HookCommands) {
		return bad("hooks", "commands need the hook %q", HookCommands)
	}
	seen = map[string]bool{}
	for i, c := range m.SlashCommands {
		f := fmt.Sprintf("commands[%d].name", i)
		if !nameRe.MatchString(c.Name) || seen[c.Name] {
			return bad(f, "command %q must be a unique lower-case word", c.Name)
		}
		seen[c.Name] = true
	}
	if len(m.Jobs) > 0 && !m.Implements(HookJobs) {
		return bad("hooks", "jobs need the hook %q", HookJobs)
	}
	seen = map[string]bool{}
	for i, j := range m.Jobs {
		f := fmt.Sprintf("jobs[%d]", i)
		if !nameRe.MatchString(j.Name) || seen[j.Name] {
			return bad(f+".name", "job %q must be a unique lower-case word", j.Name)
		}
		seen[j.Name] = true
		d, err := time.ParseDuration(j.Every)
		if err != nil || d < time.Minute {
			return bad(f+".every", "every %q must be a duration of at least 1m", j.Every)
		}
	}
	seen = map[string]bool{}
	for i, s := range m.Settings {
		f := fmt.Sprintf("settings[%d]", i)
		if !nameRe.MatchString(s.Key) || seen[s.Key] {
			return bad(f+".key", "setting key %q must be a unique lower-case word", s.Key)
		}
		seen[s.Key] = true
		if !contains(SettingTypes, s.Type) {
			return bad(f+".type", "setting type %q is not one of %s", s.Type, strings.Join(SettingTypes, ", "))
		}
		if s.Type == "department" && s.Default != "" {
			return bad(f+".default", "a department setting has no default: the admin picks one of the hospital's departments")
		}
		if len([]rune(s.Description)) > maxSettingText {
			return bad(f+".description", "description must be at most %d characters", maxSettingText)
		}
		for _, lang := range slices.Sorted(maps.Keys(s.I18n)) {
			tx, lf := s.I18n[lang], f+".i18n."+lang
			switch {
			case !langRe.MatchString(lang):
				return bad(lf, "%q is not a language tag such as zh-CN or en", lang)
			case strings.TrimSpace(tx.Label) == "" && strings.TrimSpace(tx.Description) == "":
				return bad(lf, "give a label, a description or both")
			case len([]rune(tx.Label)) > maxSettingLabel:
				return bad(lf+".label", "label must be at most %d characters", maxSettingLabel)
			case len([]rune(tx.Description)) > maxSettingText:
				return bad(lf+".description", "description must be at most %d characters", maxSettingText)
			}
		}
	}
	return nil
}

// ValidateSettings checks an admin's setting values against the schema.
// Since v0.1.0.
func (m Manifest) ValidateSettings(values map[string]string) error {
	known := map[string]Setting{}
	for _, s := range m.Settings {
		known[s.Key] = s
	}
	for k := range values {
		if _, ok := known[k]; !ok {
			return &Error{Code: CodeInvalid, Field: "settings." + k, Message: "unknown setting " + k}
		}
	}
	for _, s := range m.Settings {
		v, ok := values[s.Key]
		if !ok || v == "" {
			if s.Required && s.Default == "" {
				return &Error{Code: CodeInvalid, Field: "settings." + s.Key, Message: s.Key + " is required"}
			}
			continue
		}
		switch s.Type {
		case "int":
			var n int64
			if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v {
				return &Error{Code: CodeInvalid, Field: "settings." + s.Key, Message: s.Key + " must be a whole number"}
			}
		case "bool":
			if v != "true" && v != "false" {
				return &Error{Code: CodeInvalid, Field: "settings." + s.Key, Message: s.Key + " must be true or false"}
			}
		}
	}
	return nil
}

// CompareVersions compares two semantic versions without the "v" prefix:
// -1, 0 or +1. Invalid versions sort lowest. Since v0.1.0.
func CompareVersions(a, b string) int { return semver.Compare("v"+a, "v"+b) }

func validVersion(v string) bool {
	return v != "" && !strings.HasPrefix(v, "v") && semver.IsValid("v"+v) && semver.Canonical("v"+v) == "v"+strings.SplitN(v, "+", 2)[0]
}

// validPath returns why p is not a route path, or "".
func validPath(p string) string {
	if len(p) > 200 {
		return "is too long"
	}
	if !strings.HasPrefix(p, "/") {
		return "must start with /"
	}
	if p == "/" {
		return ""
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return "must not contain . or .. segments"
		}
		if !segmentRe.MatchString(seg) {
			return "has a bad segment " + fmt.Sprintf("%q", seg)
		}
	}
	return ""
}

// MatchRoute finds the manifest route for method and p (relative to
// /plugins/{id}); "{name}" segments match any one non-empty segment.
// Since v0.1.0.
func (m Manifest) MatchRoute(method, p string) (Route, bool) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, r := range m.Routes {
		if r.Method != method {
			continue
		}
		rs := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
		if len(rs) != len(segs) {
			continue
		}
		ok := true
		for i := range rs {
			if strings.HasPrefix(rs[i], "{") {
				ok = segs[i] != ""
			} else {
				ok = rs[i] == segs[i]
			}
			if !ok {
				break
			}
		}
		if ok {
			return r, true
		}
	}
	return Route{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
