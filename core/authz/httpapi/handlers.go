package authzhttp

import (
	"net/http"

	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/httpapi"
)

// Handlers serves the roles API.
type Handlers struct {
	Enforcer *authz.Enforcer
}

// New returns the handlers over e.
func New(e *authz.Enforcer) *Handlers { return &Handlers{Enforcer: e} }

const tag = "roles"

// UserRoles lists the roles a user holds in an organisation.
type UserRoles struct {
	UserID string   `json:"user_id"`
	OrgID  string   `json:"org_id"`
	Roles  []string `json:"roles"`
}

// Register adds the routes to rt.
func (h *Handlers) Register(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/roles", Tag: tag,
		Summary:  "List the built-in and custom roles of an organisation",
		Response: httpapi.List[authz.Role]{}, Handler: h.listRoles})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/orgs/{org}/roles", Tag: tag,
		Summary: "Create a custom role", Request: authz.RoleDef{}, Response: authz.Role{},
		Status: http.StatusCreated, Handler: h.createRole})
	rt.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/orgs/{org}/roles/{name}", Tag: tag,
		Summary: "Delete a custom role and every assignment of it", Status: http.StatusNoContent, Handler: h.deleteRole})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/users/{id}/roles", Tag: tag,
		Summary: "List the roles a user holds in an organisation", Response: UserRoles{}, Handler: h.userRoles})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/users/{id}/roles/{role}", Tag: tag,
		Summary: "Give a user a role in an organisation", Response: UserRoles{}, Handler: h.assign})
	rt.Handle(httpapi.Route{Method: "DELETE", Path: "/api/v1/orgs/{org}/users/{id}/roles/{role}", Tag: tag,
		Summary: "Take a role from a user in an organisation", Status: http.StatusNoContent, Handler: h.revoke})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/me/capabilities", Tag: tag,
		Summary:  "My roles in my organisation and every object:action they allow (for clients to offer only what is allowed)",
		Response: authz.Capabilities{}, Handler: h.capabilities})
}

func (h *Handlers) capabilities(w http.ResponseWriter, r *http.Request) error {
	c, err := h.Enforcer.CapabilitiesOf(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handlers) listRoles(w http.ResponseWriter, r *http.Request) error {
	roles, err := h.Enforcer.ListRoles(r.Context(), httpapi.Actor(r), r.PathValue("org"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[authz.Role]{Items: roles})
	return nil
}

func (h *Handlers) createRole(w http.ResponseWriter, r *http.Request) error {
	var def authz.RoleDef
	if err := httpapi.Decode(r, &def); err != nil {
		return err
	}
	role, err := h.Enforcer.CreateRole(r.Context(), httpapi.Actor(r), r.PathValue("org"), def)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, role)
	return nil
}

func (h *Handlers) deleteRole(w http.ResponseWriter, r *http.Request) error {
	if err := h.Enforcer.DeleteRole(r.Context(), httpapi.Actor(r), r.PathValue("org"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) userRoles(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	org := r.PathValue("org")
	roles, err := h.Enforcer.UserRoles(r.Context(), httpapi.Actor(r), org, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, UserRoles{UserID: id, OrgID: org, Roles: roles})
	return nil
}

func (h *Handlers) assign(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	org := r.PathValue("org")
	if err := h.Enforcer.AssignRole(r.Context(), httpapi.Actor(r), org, id, r.PathValue("role")); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, UserRoles{UserID: id, OrgID: org, Roles: h.Enforcer.RolesOf(org, id)})
	return nil
}

func (h *Handlers) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Enforcer.RevokeRole(r.Context(), httpapi.Actor(r), r.PathValue("org"), id, r.PathValue("role")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
