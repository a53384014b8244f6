// Package marketplacehttp exposes the app marketplace over the Rounds HTTP
// API: for an organisation's admins the catalog, trusted publisher keys and
// installs (install with grants, enable, disable, settings, visibility,
// upgrade, rollback, uninstall); for staff their app center. Every decision
// is the service's; this package only moves JSON.
package marketplacehttp

import (
	"context"
	"net/http"
	"strconv"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/marketplace"
)

// Handlers serves the marketplace routes.
type Handlers struct {
	Svc *marketplace.Service
}

const tag = "marketplace"

type (
	catalogList struct {
		Items []marketplace.CatalogApp `json:"items"`
	}
	keyList struct {
		Items []marketplace.TrustedKey `json:"items"`
	}
	installList struct {
		Items []marketplace.Install `json:"items"`
	}
	appList struct {
		Items []marketplace.AppEntry `json:"items"`
	}
	// KeyRequest trusts a publisher key.
	KeyRequest struct {
		Name      string `json:"name"`
		PublicKey string `json:"public_key"` // "ed25519-pub:<base64>" as `rounds app keygen` prints it
	}
	// SettingsRequest replaces an install's settings.
	SettingsRequest struct {
		Settings map[string]string `json:"settings"`
	}
)

// Register mounts the routes.
func (h Handlers) Register(rt *httpapi.Router) {
	const org = "/api/v1/orgs/{org}/marketplace"
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/catalog", Tag: tag, Summary: "Browse the app catalog (?category=); versions list the scopes each asks for",
		Response: catalogList{}, Handler: h.catalog})
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/catalog/{app}", Tag: tag, Summary: "One catalog app: publisher, description, screenshots, versions and their scopes",
		Response: marketplace.CatalogApp{}, Handler: h.catalogApp})
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/catalog/{app}/screenshots/{n}", Tag: tag, Summary: "A catalog app's n-th screenshot (from 0) as the image it is (PNG, JPEG, GIF or WebP)",
		Response: "", Handler: h.screenshot})
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/keys", Tag: tag, Summary: "Publisher keys this organisation trusts",
		Response: keyList{}, Handler: h.keys})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/keys", Tag: tag, Summary: "Trust a publisher key", Status: 201,
		Request: KeyRequest{}, Response: marketplace.TrustedKey{}, Handler: h.addKey})
	rt.Handle(httpapi.Route{Method: "DELETE", Path: org + "/keys/{id}", Tag: tag, Summary: "Stop trusting a publisher key", Status: 204,
		Handler: h.removeKey})
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/installs", Tag: tag, Summary: "Apps installed in this organisation",
		Response: installList{}, Handler: h.installs})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/installs", Tag: tag, Summary: "Install an app version with the scopes granted (possibly narrowed to a department)", Status: 201,
		Request: marketplace.InstallRequest{}, Response: marketplace.Install{}, Handler: h.install})
	rt.Handle(httpapi.Route{Method: "GET", Path: org + "/installs/{id}", Tag: tag, Summary: "One install with its current and previous release",
		Response: marketplace.Install{}, Handler: h.get})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/installs/{id}/enable", Tag: tag, Summary: "Enable an install on every node",
		Response: marketplace.Install{}, Handler: h.act(h.Svc.Enable)})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/installs/{id}/disable", Tag: tag, Summary: "Disable an install on every node (grants and data stay)",
		Response: marketplace.Install{}, Handler: h.act(h.Svc.Disable)})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/installs/{id}/rollback", Tag: tag, Summary: "Go back to the version the last upgrade replaced",
		Response: marketplace.Install{}, Handler: h.act(h.Svc.Rollback)})
	rt.Handle(httpapi.Route{Method: "POST", Path: org + "/installs/{id}/upgrade", Tag: tag, Summary: "Upgrade to a newer version (new scopes need the grants listed)",
		Request: marketplace.UpgradeRequest{}, Response: marketplace.Install{}, Handler: h.upgrade})
	rt.Handle(httpapi.Route{Method: "PUT", Path: org + "/installs/{id}/settings", Tag: tag, Summary: "Set an install's settings (checked against the manifest's schema)",
		Request: SettingsRequest{}, Response: marketplace.Install{}, Handler: h.settings})
	rt.Handle(httpapi.Route{Method: "PUT", Path: org + "/installs/{id}/visibility", Tag: tag, Summary: "Choose who sees the app: everyone, departments, people",
		Request: marketplace.Visibility{}, Response: marketplace.Install{}, Handler: h.visibility})
	rt.Handle(httpapi.Route{Method: "DELETE", Path: org + "/installs/{id}", Tag: tag, Summary: "Uninstall (?keep_data=true keeps what the app stored)", Status: 204,
		Handler: h.uninstall})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/me/apps", Tag: tag, Summary: "My app center: the apps I may open",
		Response: appList{}, Handler: h.myApps})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/me/apps/{id}", Tag: tag, Summary: "Open an app of my app center (its pages and URL)",
		Response: marketplace.AppEntry{}, Handler: h.openApp})
}

func orgOf(r *http.Request) (string, error) { return httpapi.PathID(r, "org") }

// installIn reads {id} and refuses an install of another organisation
// than the path's, so a URL never mixes two hospitals.
func (h Handlers) installIn(r *http.Request) (string, string, error) {
	org, err := orgOf(r)
	if err != nil {
		return "", "", err
	}
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return "", "", err
	}
	in, err := h.Svc.GetInstall(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return "", "", err
	}
	if in.OrgID != org {
		return "", "", core.Errorf(core.ENotFound, "install %s not found", id)
	}
	return org, id, nil
}

func (h Handlers) catalog(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	apps, err := h.Svc.Catalog(r.Context(), httpapi.Actor(r), org, r.URL.Query().Get("category"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, catalogList{Items: apps})
	return nil
}

func (h Handlers) catalogApp(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	app, err := h.Svc.CatalogApp(r.Context(), httpapi.Actor(r), org, r.PathValue("app"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, app)
	return nil
}

func (h Handlers) screenshot(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		return core.Invalid("n", "n must be a screenshot's number from 0")
	}
	data, kind, err := h.Svc.Screenshot(r.Context(), httpapi.Actor(r), org, r.PathValue("app"), n)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", kind)
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	hd.Set("Cache-Control", "private, max-age=300")
	// An image is all this is: nothing in it may run or load.
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

func (h Handlers) keys(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	ks, err := h.Svc.Keys(r.Context(), httpapi.Actor(r), org)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, keyList{Items: ks})
	return nil
}

func (h Handlers) addKey(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	var req KeyRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	k, err := h.Svc.AddKey(r.Context(), httpapi.Actor(r), org, req.Name, req.PublicKey)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 201, k)
	return nil
}

func (h Handlers) removeKey(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.RemoveKey(r.Context(), httpapi.Actor(r), org, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) installs(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	ins, err := h.Svc.Installs(r.Context(), httpapi.Actor(r), org)
	if err != nil {
		return err
	}
	for i := range ins {
		ins[i] = marketplace.Redacted(ins[i])
	}
	httpapi.WriteJSON(w, 200, installList{Items: ins})
	return nil
}

func (h Handlers) install(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	var req marketplace.InstallRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	req.OrgID = org
	in, err := h.Svc.Install(r.Context(), httpapi.Actor(r), req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 201, marketplace.Redacted(in))
	return nil
}

func (h Handlers) get(w http.ResponseWriter, r *http.Request) error {
	_, id, err := h.installIn(r)
	if err != nil {
		return err
	}
	in, err := h.Svc.GetInstall(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, marketplace.Redacted(in))
	return nil
}

func (h Handlers) act(fn func(ctx context.Context, a core.Actor, id string) (marketplace.Install, error)) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, id, err := h.installIn(r)
		if err != nil {
			return err
		}
		in, err := fn(r.Context(), httpapi.Actor(r), id)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, 200, marketplace.Redacted(in))
		return nil
	}
}

func (h Handlers) upgrade(w http.ResponseWriter, r *http.Request) error {
	_, id, err := h.installIn(r)
	if err != nil {
		return err
	}
	var req marketplace.UpgradeRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	in, err := h.Svc.Upgrade(r.Context(), httpapi.Actor(r), id, req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, marketplace.Redacted(in))
	return nil
}

func (h Handlers) settings(w http.ResponseWriter, r *http.Request) error {
	_, id, err := h.installIn(r)
	if err != nil {
		return err
	}
	var req SettingsRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	in, err := h.Svc.Configure(r.Context(), httpapi.Actor(r), id, req.Settings)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, marketplace.Redacted(in))
	return nil
}

func (h Handlers) visibility(w http.ResponseWriter, r *http.Request) error {
	_, id, err := h.installIn(r)
	if err != nil {
		return err
	}
	var req marketplace.Visibility
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	in, err := h.Svc.SetVisibility(r.Context(), httpapi.Actor(r), id, req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, marketplace.Redacted(in))
	return nil
}

func (h Handlers) uninstall(w http.ResponseWriter, r *http.Request) error {
	_, id, err := h.installIn(r)
	if err != nil {
		return err
	}
	keep := false
	if v := r.URL.Query().Get("keep_data"); v != "" {
		if keep, err = strconv.ParseBool(v); err != nil {
			return core.Invalid("keep_data", "keep_data must be true or false")
		}
	}
	if err := h.Svc.Uninstall(r.Context(), httpapi.Actor(r), id, keep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) myApps(w http.ResponseWriter, r *http.Request) error {
	apps, err := h.Svc.MyApps(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, appList{Items: apps})
	return nil
}

func (h Handlers) openApp(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	app, err := h.Svc.OpenApp(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, app)
	return nil
}
