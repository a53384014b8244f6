package identityhttp

import (
	"net/http"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/identity"
)

// Handlers serves the identity API. It decodes, calls the service and
// encodes; every permission decision is the service's.
type Handlers struct {
	Service *identity.Service
	Config  Config
}

const tag = "identity"

// LoginRequest is the body of POST /api/v1/sessions.
type LoginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResponse is returned by a successful sign-in. Token is the session
// token for API clients (Authorization: Bearer); browsers use the cookies
// set with it.
type LoginResponse struct {
	Token     string        `json:"token"`
	ExpiresAt time.Time     `json:"expires_at"`
	User      identity.User `json:"user"`
}

// SessionView is a session as its owner sees it.
type SessionView struct {
	identity.Session
	// Current marks the session this request was made with.
	Current bool `json:"current"`
}

// ChangePasswordRequest is the body of PUT /api/v1/me/password.
type ChangePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// SetPasswordRequest is the body of PUT /api/v1/users/{id}/password.
type SetPasswordRequest struct {
	Password string `json:"password"`
}

// CreateTokenRequest is the body of POST /api/v1/me/tokens. ExpiresAt is an
// RFC 3339 time; empty means the token does not expire.
type CreateTokenRequest struct {
	Name      string `json:"name"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// CreatedToken returns a new token with its secret, shown only this once.
type CreatedToken struct {
	Token  identity.Token `json:"token"`
	Secret string         `json:"secret"`
}

// CreateUserRequest is the body of POST /api/v1/orgs/{org}/users.
type CreateUserRequest struct {
	Login       string `json:"login"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password,omitempty"`
}

// CreateBotRequest is the body of POST /api/v1/orgs/{org}/bots.
type CreateBotRequest struct {
	Login       string `json:"login"`
	DisplayName string `json:"display_name,omitempty"`
}

// CreatedBot returns a new bot with its token secret, shown only this once.
type CreatedBot struct {
	User   identity.User  `json:"user"`
	Token  identity.Token `json:"token"`
	Secret string         `json:"secret"`
}

// Register adds the identity routes to rt.
func (h Handlers) Register(rt *httpapi.Router) {
	routes := []httpapi.Route{
		{Method: "POST", Path: "/api/v1/sessions", Summary: "Sign in with login and password", Access: httpapi.Public,
			Request: LoginRequest{}, Response: LoginResponse{}, Status: http.StatusCreated, Handler: h.login},
		{Method: "DELETE", Path: "/api/v1/sessions/current", Summary: "Sign out of this session",
			Status: http.StatusNoContent, Handler: h.logout},
		{Method: "GET", Path: "/api/v1/sessions", Summary: "List my open sessions",
			Response: httpapi.List[SessionView]{}, Handler: h.listSessions},
		{Method: "DELETE", Path: "/api/v1/sessions/{id}", Summary: "End one of my sessions",
			Status: http.StatusNoContent, Handler: h.revokeSession},
		{Method: "GET", Path: "/api/v1/me", Summary: "My account",
			Response: identity.User{}, Handler: h.me},
		{Method: "PUT", Path: "/api/v1/me/password", Summary: "Change my password (ends all my sessions)",
			Request: ChangePasswordRequest{}, Status: http.StatusNoContent, Handler: h.changePassword},
		{Method: "GET", Path: "/api/v1/me/tokens", Summary: "List my personal access tokens",
			Response: httpapi.List[identity.Token]{}, Handler: h.listTokens},
		{Method: "POST", Path: "/api/v1/me/tokens", Summary: "Create a personal access token",
			Request: CreateTokenRequest{}, Response: CreatedToken{}, Status: http.StatusCreated, Handler: h.createToken},
		{Method: "DELETE", Path: "/api/v1/me/tokens/{id}", Summary: "Revoke one of my personal access tokens",
			Status: http.StatusNoContent, Handler: h.revokeToken},
		{Method: "GET", Path: "/api/v1/orgs/{org}/users", Summary: "List an organisation's accounts",
			Response: httpapi.List[identity.User]{}, Handler: h.listUsers},
		{Method: "POST", Path: "/api/v1/orgs/{org}/users", Summary: "Create an account",
			Request: CreateUserRequest{}, Response: identity.User{}, Status: http.StatusCreated, Handler: h.createUser},
		{Method: "GET", Path: "/api/v1/users/{id}", Summary: "An account (one's own, or as an admin of its organisation)",
			Response: identity.User{}, Handler: h.getUser},
		{Method: "POST", Path: "/api/v1/users/{id}/deactivate", Summary: "Deactivate an account (ends its sessions and tokens)",
			Status: http.StatusNoContent, Handler: h.deactivate},
		{Method: "POST", Path: "/api/v1/users/{id}/reactivate", Summary: "Reactivate an account",
			Status: http.StatusNoContent, Handler: h.reactivate},
		{Method: "PUT", Path: "/api/v1/users/{id}/password", Summary: "Reset an account's password (ends its sessions)",
			Request: SetPasswordRequest{}, Status: http.StatusNoContent, Handler: h.setPassword},
		{Method: "POST", Path: "/api/v1/orgs/{org}/bots", Summary: "Create a bot account and its token",
			Request: CreateBotRequest{}, Response: CreatedBot{}, Status: http.StatusCreated, Handler: h.createBot},
		{Method: "POST", Path: "/api/v1/bots/{id}/token", Summary: "Issue a bot a new token (revokes its old ones)",
			Response: CreatedToken{}, Status: http.StatusCreated, Handler: h.rotateBotToken},
	}
	for _, r := range routes {
		r.Tag = tag
		rt.Handle(r)
	}
}

func (h Handlers) setCookies(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	secure := h.Config.secure(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// Readable by the web client's script, which echoes it in X-CSRF-Token.
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: core.RandomToken(32), Path: "/", Expires: expires,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (h Handlers) clearCookies(w http.ResponseWriter, r *http.Request) {
	secure := h.Config.secure(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (h Handlers) login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	sess, token, err := h.Service.Login(r.Context(), req.Login, req.Password, h.Config.ClientIP(r))
	if err != nil {
		return err
	}
	self := core.Actor{UserID: sess.UserID, Kind: core.ActorUser, SessionID: sess.ID}
	u, err := h.Service.GetUser(r.Context(), self, sess.UserID)
	if err != nil {
		return err
	}
	h.setCookies(w, r, token, sess.ExpiresAt)
	httpapi.WriteJSON(w, http.StatusCreated, LoginResponse{Token: token, ExpiresAt: sess.ExpiresAt, User: u})
	return nil
}

func (h Handlers) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.Service.Logout(r.Context(), httpapi.Actor(r)); err != nil {
		return err
	}
	h.clearCookies(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) listSessions(w http.ResponseWriter, r *http.Request) error {
	a := httpapi.Actor(r)
	list, err := h.Service.ListSessions(r.Context(), a)
	if err != nil {
		return err
	}
	out := httpapi.List[SessionView]{Items: make([]SessionView, 0, len(list))}
	for _, s := range list {
		out.Items = append(out.Items, SessionView{Session: s, Current: s.ID == a.SessionID})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h Handlers) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	a := httpapi.Actor(r)
	if err := h.Service.RevokeSession(r.Context(), a, id); err != nil {
		return err
	}
	if id == a.SessionID {
		h.clearCookies(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) me(w http.ResponseWriter, r *http.Request) error {
	a := httpapi.Actor(r)
	u, err := h.Service.GetUser(r.Context(), a, a.UserID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (h Handlers) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req ChangePasswordRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if err := h.Service.ChangeOwnPassword(r.Context(), httpapi.Actor(r), req.OldPassword, req.NewPassword); err != nil {
		return err
	}
	h.clearCookies(w, r) // every session, this one included, has ended
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Service.ListTokens(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[identity.Token]{Items: list})
	return nil
}

func (h Handlers) createToken(w http.ResponseWriter, r *http.Request) error {
	var req CreateTokenRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			return core.Invalid("expires_at", "expires_at must be an RFC 3339 time such as 2026-12-31T23:59:59Z")
		}
		expires = t
	}
	tok, secret, err := h.Service.CreateToken(r.Context(), httpapi.Actor(r), req.Name, expires)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, CreatedToken{Token: tok, Secret: secret})
	return nil
}

func (h Handlers) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Service.RevokeToken(r.Context(), httpapi.Actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) listUsers(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		return err
	}
	page, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	users, next, err := h.Service.ListUsers(r.Context(), httpapi.Actor(r), org, page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[identity.User]{Items: users, NextCursor: next})
	return nil
}

func (h Handlers) createUser(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		return err
	}
	var req CreateUserRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	u, err := h.Service.CreateUser(r.Context(), httpapi.Actor(r), identity.NewUser{
		OrgID: org, Login: req.Login, DisplayName: req.DisplayName, Password: req.Password, Kind: identity.KindHuman})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, u)
	return nil
}

func (h Handlers) deactivate(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Service.Deactivate(r.Context(), httpapi.Actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) reactivate(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Service.Reactivate(r.Context(), httpapi.Actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) setPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var req SetPasswordRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if err := h.Service.SetPassword(r.Context(), httpapi.Actor(r), id, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h Handlers) createBot(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		return err
	}
	var req CreateBotRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	u, tok, secret, err := h.Service.CreateBot(r.Context(), httpapi.Actor(r), identity.NewBot{OrgID: org, Login: req.Login, DisplayName: req.DisplayName})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, CreatedBot{User: u, Token: tok, Secret: secret})
	return nil
}

func (h Handlers) rotateBotToken(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	tok, secret, err := h.Service.RotateBotToken(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, CreatedToken{Token: tok, Secret: secret})
	return nil
}

func (h Handlers) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.Service.GetUser(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}
