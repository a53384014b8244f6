// Package httpapi is the HTTP face of the app host: the handler that
// forwards /plugins/{id}/... to apps as the signed-in person and serves
// their pages in a sandbox, and the admin's JSON routes (list installs,
// health, disable). It knows HTTP and nothing of how apps run.
package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Authorizer decides admin access (authz.Enforcer implements it).
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// PageCSP sandboxes app pages: scripts and forms run, but in an opaque
// origin, so a page can reach neither the web client's cookies nor its DOM.
const PageCSP = "sandbox allow-scripts allow-forms"

// forwarded request headers: cookies, authorization and proxies' headers
// never reach an app.
var dropHeaders = map[string]bool{"Cookie": true, "Authorization": true, "X-Csrf-Token": true, "X-Forwarded-For": true, "Proxy-Authorization": true}

// PageTokenMeta is the name of the <meta> element the server adds to every
// app page it serves: its content is the page token (see package plugins),
// which the page sends as "Authorization: Bearer <token>" to its own
// app's routes. The helper script served after it (pageHelperJS) keeps the
// token fresh.
const PageTokenMeta = "rounds-page-token"

// PageTokenHeader carries a fresh page token on the answer to a page-token
// call made past half the token's life (plugins.Host.RenewDue). The helper
// script served with every page (pageHelperJS) adopts it; the old token stays
// valid until its own expiry. An app's own header of this name is dropped.
const PageTokenHeader = "X-Rounds-Page-Token"

// PageTokenPath is the host's renewal route under every app:
// POST /plugins/{id}/@page-token with a page token answers
// {"token","expires_at"} with a fresh one while the person's session lives.
// No app route or page can take the name ('@' is not allowed in their
// paths). The helper calls it when a page has made no call for half its
// token's life, so an idle page stays signed in too.
const PageTokenPath = "/@page-token"

// maxPage is the largest page file served (pages are small HTML files).
const maxPage = 4 << 20

// Handler serves /plugins/{id}/... Mount it at "/plugins/" on the server's
// mux (behind httpapi.Middleware). auth identifies the signed-in person.
//
// A sandboxed page runs in an opaque origin: its requests carry no cookies
// and its Origin is "null". Such a page authenticates with the page token
// it was served with; only those requests (and their preflights) get a CORS
// answer, for Origin "null", without credentials.
func Handler(h *plugins.Host, auth httpapi.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := serve(h, auth, w, r); err != nil {
			httpapi.WriteError(w, r, err)
		}
	})
}

// pageToken returns the page token presented in Authorization, if any.
func pageToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, strings.HasPrefix(tok, plugins.PageTokenPrefix)
}

func isPagePath(p string) bool { return p == "/ui" || strings.HasPrefix(p, "/ui/") }

// allowPage lets a sandboxed page (Origin "null") read the answer and its
// renewed token. Never with credentials: the page token is the only
// authority.
func allowPage(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "null")
	hd.Set("Access-Control-Expose-Headers", PageTokenHeader)
	hd.Add("Vary", "Origin")
}

// preflight answers a sandboxed page's CORS preflight for an app route.
func preflight(w http.ResponseWriter, r *http.Request, p string) error {
	if r.Header.Get("Origin") != "null" || isPagePath(p) {
		return core.Errorf(core.EForbidden, "cross-origin requests are answered only for app pages calling their app's routes")
	}
	switch r.Header.Get("Access-Control-Request-Method") {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return core.Invalid("Access-Control-Request-Method", "unsupported method")
	}
	allowPage(w)
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hd.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func serve(h *plugins.Host, auth httpapi.Authenticator, w http.ResponseWriter, r *http.Request) error {
	rest, ok := strings.CutPrefix(r.URL.Path, "/plugins/")
	if !ok {
		return core.Errorf(core.ENotFound, "not found")
	}
	appID, p, _ := strings.Cut(rest, "/")
	p = "/" + p
	if appID == "" || strings.Contains(p, "//") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		return core.Invalid("path", "malformed app path")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		return preflight(w, r, p)
	}
	if p == PageTokenPath {
		return renew(h, w, r, appID)
	}
	var actor core.Actor
	var claims *plugins.PageClaims // the page token's, when one was presented
	tokenInstall := ""
	if tok, ok := pageToken(r); ok {
		// A page calling its own app's routes from the sandbox.
		allowPage(w)
		if isPagePath(p) {
			return core.Errorf(core.EUnauthenticated, "a page token opens no pages; open the app from the app center")
		}
		c, err := h.CheckPageToken(r.Context(), tok, appID)
		if err != nil {
			return err
		}
		claims, actor, tokenInstall = &c, c.Actor(), c.InstallID
	} else {
		a, err := auth.Authenticate(r)
		if err != nil {
			return err
		}
		actor = a
	}
	route, err := h.ResolveHTTP(r.Context(), actor, appID, r.Method, p)
	if err != nil {
		return err
	}
	if tokenInstall != "" && route.InstallID != tokenInstall {
		// The app was reinstalled since the page was served.
		return core.Errorf(core.EUnauthenticated, "the page token is for another install of the app; reload the page")
	}
	if route.Page != nil {
		return servePage(h, w, r, actor, route)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sdk.MaxHTTPBody))
	if err != nil {
		return core.Errorf(core.ETooLarge, "request body larger than %d bytes", sdk.MaxHTTPBody)
	}
	hdr := http.Header{}
	for k, vs := range r.Header {
		if !dropHeaders[http.CanonicalHeaderKey(k)] {
			hdr[k] = vs
		}
	}
	resp, err := h.ForwardHTTP(r.Context(), route.InstallID, actor, sdk.HTTPRequest{Method: r.Method, Path: p, Query: r.URL.RawQuery, Header: hdr, Body: body})
	if err != nil {
		return err
	}
	for k, vs := range resp.Header {
		k = http.CanonicalHeaderKey(k)
		// An app never sets cookies on the Rounds origin, nor decides who
		// may read its answers (CORS is the host's), nor hands the page a
		// token.
		if k == "Set-Cookie" || strings.HasPrefix(k, "Access-Control-") || k == PageTokenHeader {
			continue
		}
		if k == "Vary" {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Security-Policy", PageCSP)
	if claims != nil && h.RenewDue(*claims) {
		// Past half its life: hand the page a fresh token with this answer.
		// A refusal (the session ended meanwhile) only means none is given.
		if fresh, _, err := h.RenewPageToken(r.Context(), *claims); err == nil {
			w.Header().Set(PageTokenHeader, fresh)
		}
	}
	status := resp.Status
	if status < 100 || status > 599 {
		status = http.StatusBadGateway
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(resp.Body))
	return nil
}

// Renewal is what POST PageTokenPath answers.
type Renewal struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// renew answers POST /plugins/{id}/@page-token: a fresh page token for the
// page token presented, while its session lives and its install runs.
func renew(h *plugins.Host, w http.ResponseWriter, r *http.Request, appID string) error {
	tok, ok := pageToken(r)
	if !ok {
		return core.Errorf(core.EUnauthenticated, "renew with the page token the page was served with")
	}
	allowPage(w)
	if r.Method != http.MethodPost {
		return core.Invalid("method", "renew a page token with POST")
	}
	c, err := h.CheckPageToken(r.Context(), tok, appID)
	if err != nil {
		return err
	}
	fresh, nc, err := h.RenewPageToken(r.Context(), c)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, Renewal{Token: fresh, ExpiresAt: time.UnixMilli(nc.ExpiresAt).UTC()})
	return nil
}

// servePage serves an app page in its sandbox, with a fresh page token for
// the signed-in person in a <meta> element (PageTokenMeta) — the only way the
// sandbox's script can learn it, since it reads neither cookies nor its
// page's headers — followed by the helper script that keeps it fresh.
func servePage(h *plugins.Host, w http.ResponseWriter, r *http.Request, actor core.Actor, route plugins.Route) error {
	// Open the page inside ui/ as a root: a symbolic link in the bundle
	// (an unpacked archive may hold any) cannot reach a file outside it.
	uiDir := strings.TrimSuffix(route.PageFile, filepath.FromSlash(route.Page.File))
	f, err := os.OpenInRoot(uiDir, filepath.FromSlash(route.Page.File))
	if err != nil {
		return core.Errorf(core.ENotFound, "page file missing")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return core.Errorf(core.ENotFound, "page file missing")
	}
	if st.Size() > maxPage {
		return core.Errorf(core.ETooLarge, "the page file is larger than %d bytes", maxPage)
	}
	page, err := io.ReadAll(io.LimitReader(f, maxPage))
	if err != nil {
		return core.Errorf(core.ENotFound, "page file missing")
	}
	ctype := mime.TypeByExtension(filepath.Ext(st.Name()))
	if ctype == "" {
		ctype = http.DetectContentType(page)
	}
	if strings.HasPrefix(ctype, "text/html") {
		tok, err := h.IssuePageToken(r.Context(), actor, route)
		if err != nil {
			return err
		}
		page = injectTop(page, []byte(`<meta name="`+PageTokenMeta+`" content="`+tok+`">`+pageHelper(route.AppID)))
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", PageCSP)
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", "no-store") // the token is this person's
	hd.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page)
	}
	return nil
}

// InjectMeta puts <meta name="name" content="content"> at the start of an
// HTML document: after its doctype when it has one (before it would switch
// the page to quirks mode). content must need no escaping (a page token
// is base64url and dots).
func InjectMeta(page []byte, name, content string) []byte {
	return injectTop(page, []byte(`<meta name="`+name+`" content="`+content+`">`))
}

// injectTop puts html at the start of a document, after its doctype.
func injectTop(page, meta []byte) []byte {
	at := 0
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(page, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) >= 9 && strings.EqualFold(string(trimmed[:9]), "<!doctype") {
		if end := bytes.IndexByte(trimmed, '>'); end >= 0 {
			at = len(page) - len(trimmed) + end + 1
		}
	}
	out := make([]byte, 0, len(page)+len(meta)+1)
	out = append(out, page[:at]...)
	if at > 0 {
		out = append(out, '\n')
	}
	out = append(out, meta...)
	if at == 0 {
		out = append(out, '\n')
	}
	return append(out, page[at:]...)
}

// Install is an install as the admin console lists it: the stored record
// and, when it runs, its health.
type Install struct {
	ID      string          `json:"id"`
	AppID   string          `json:"app_id"`
	Enabled bool            `json:"enabled"`
	Grants  []plugins.Grant `json:"grants"`
	Health  *plugins.Status `json:"health,omitempty"`
}

// Register adds the JSON routes: the admin's (reading needs
// "marketplace.app" "read" in the actor's organisation; enabling and
// disabling need "install") and the list of app pages for the web client
// ("apps.app" "open"). Enabling starts the install and records it enabled only once
// it runs, so a refused enable changes nothing.
func Register(rt *httpapi.Router, h *plugins.Host, store plugins.Installs, az Authorizer) {
	view := func(rec plugins.InstallRecord) Install {
		out := Install{ID: rec.ID, AppID: rec.AppID, Enabled: rec.Enabled, Grants: rec.Grants}
		if s, err := h.Status(rec.ID); err == nil {
			out.Health = &s
		}
		return out
	}
	// load finds an install of the actor's organisation and checks action.
	load := func(r *http.Request, action string) (plugins.InstallRecord, error) {
		a := httpapi.Actor(r)
		id, err := httpapi.PathID(r, "id")
		if err != nil {
			return plugins.InstallRecord{}, err
		}
		if err := az.Authorize(r.Context(), a, a.OrgID, "marketplace.app", action); err != nil {
			return plugins.InstallRecord{}, err
		}
		rec, err := store.GetInstall(r.Context(), id)
		if err != nil || rec.OrgID != a.OrgID {
			return plugins.InstallRecord{}, core.Errorf(core.ENotFound, "no install %s", id)
		}
		return rec, nil
	}
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/plugins/installs", Summary: "List the app installs of my organisation and their health",
		Tag: "plugins", Access: httpapi.Authenticated, Response: httpapi.List[Install]{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			a := httpapi.Actor(r)
			if err := az.Authorize(r.Context(), a, a.OrgID, "marketplace.app", "read"); err != nil {
				return err
			}
			recs, err := store.ListInstalls(r.Context(), a.OrgID)
			if err != nil {
				return err
			}
			out := httpapi.List[Install]{Items: make([]Install, 0, len(recs))}
			for _, rec := range recs {
				out.Items = append(out.Items, view(rec))
			}
			httpapi.WriteJSON(w, http.StatusOK, out)
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/plugins/pages", Summary: "App pages I can open (shown in a sandboxed frame)",
		Tag: "plugins", Access: httpapi.Authenticated, Response: httpapi.List[plugins.PageLink]{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			a := httpapi.Actor(r)
			if err := az.Authorize(r.Context(), a, a.OrgID, "apps.app", "open"); err != nil {
				return err
			}
			httpapi.WriteJSON(w, http.StatusOK, httpapi.List[plugins.PageLink]{Items: h.Pages(a.OrgID)})
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/plugins/installs/{id}", Summary: "An app install and its health",
		Tag: "plugins", Access: httpapi.Authenticated, Response: Install{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			rec, err := load(r, "read")
			if err != nil {
				return err
			}
			httpapi.WriteJSON(w, http.StatusOK, view(rec))
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/plugins/installs/{id}/enable", Summary: "Start an app install",
		Tag: "plugins", Access: httpapi.Authenticated, Response: Install{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			rec, err := load(r, "install")
			if err != nil {
				return err
			}
			inst := rec.Install
			inst.Dir = rec.Dir
			if err := h.Start(r.Context(), inst); err != nil {
				_ = h.Stop(inst.ID)
				return err
			}
			if err := store.SetEnabled(r.Context(), rec.ID, true); err != nil {
				_ = h.Stop(inst.ID)
				return err
			}
			rec.Enabled = true
			httpapi.WriteJSON(w, http.StatusOK, view(rec))
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/plugins/installs/{id}/disable", Summary: "Stop an app install and revoke its grants",
		Tag: "plugins", Access: httpapi.Authenticated, Response: Install{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			rec, err := load(r, "install")
			if err != nil {
				return err
			}
			if err := store.SetEnabled(r.Context(), rec.ID, false); err != nil {
				return err
			}
			_ = h.Stop(rec.ID) // not running is fine: disabled either way
			rec.Enabled = false
			httpapi.WriteJSON(w, http.StatusOK, view(rec))
			return nil
		}})
}
