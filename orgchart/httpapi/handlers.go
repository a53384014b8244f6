// Package orgcharthttp is the HTTP API of the org chart: organisations, the
// department tree, staff and person cards, directory search, CSV import, LDAP
// sync and hospital groups. It decodes requests and encodes answers; every
// decision (who may, what is valid) is the orgchart service's.
package orgcharthttp

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/csvimport"
)

// Syncer runs a directory sync for an organisation (LDAP: orgchart/ldap).
type Syncer interface {
	Sync(ctx context.Context, a core.Actor, orgID string, dryRun bool) (*orgchart.ImportPlan, error)
}

// Handlers serves the org chart API.
type Handlers struct {
	svc *orgchart.Service
	// LDAP, when set, serves POST /api/v1/orgs/{org}/sync/ldap.
	LDAP Syncer
}

// New returns the handlers for svc.
func New(svc *orgchart.Service, ldap Syncer) *Handlers { return &Handlers{svc: svc, LDAP: ldap} }

const tag = "orgchart"

// Request and response bodies.
type (
	// NewOrg creates an organisation.
	NewOrg struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	// MoveRequest moves a department ("" = top level).
	MoveRequest struct {
		ParentID string `json:"parent_id"`
	}
	// DutyRoles is an organisation's list of duty roles.
	DutyRoles struct {
		DutyRoles []string `json:"duty_roles"`
	}
	// NewGroup creates a hospital group.
	NewGroup struct {
		Name    string                 `json:"name"`
		Members []orgchart.GroupMember `json:"members"`
	}
	// SharingRequest sets what an organisation shares with a group.
	SharingRequest struct {
		Share         string   `json:"share"`
		DepartmentIDs []string `json:"department_ids,omitempty"`
	}
	// Tree is the department tree.
	Tree struct {
		Items []orgchart.TreeNode `json:"items"`
	}
)

// Register adds the routes to rt.
func (h *Handlers) Register(rt *httpapi.Router) {
	for _, r := range []httpapi.Route{
		{Method: "GET", Path: "/api/v1/orgs", Summary: "List the organisations whose directory you can see", Response: httpapi.List[orgchart.Org]{}, Handler: h.orgs},
		{Method: "POST", Path: "/api/v1/orgs", Summary: "Create an organisation (system admins)", Request: NewOrg{}, Response: orgchart.Org{}, Status: http.StatusCreated, Handler: h.createOrg},
		{Method: "GET", Path: "/api/v1/orgs/{org}/departments", Summary: "The department tree", Response: Tree{}, Handler: h.tree},
		{Method: "POST", Path: "/api/v1/orgs/{org}/departments", Summary: "Create a department", Request: orgchart.NewDepartment{}, Response: orgchart.Department{}, Status: http.StatusCreated, Handler: h.createDept},
		{Method: "PATCH", Path: "/api/v1/orgs/{org}/departments/{id}", Summary: "Rename or reorder a department", Request: orgchart.DepartmentPatch{}, Response: orgchart.Department{}, Handler: h.updateDept},
		{Method: "POST", Path: "/api/v1/orgs/{org}/departments/{id}/move", Summary: "Move a department and its subtree", Request: MoveRequest{}, Response: orgchart.Department{}, Handler: h.moveDept},
		{Method: "DELETE", Path: "/api/v1/orgs/{org}/departments/{id}", Summary: "Delete an empty department", Status: http.StatusNoContent, Handler: h.deleteDept},
		{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{id}/members", Summary: "Current staff of a department (?subtree=true for the whole subtree), paginated", Response: httpapi.List[orgchart.Staff]{}, Handler: h.members},
		{Method: "GET", Path: "/api/v1/orgs/{org}/staff", Summary: "Staff of an organisation (?include_left=true for leavers), paginated", Response: httpapi.List[orgchart.Staff]{}, Handler: h.listStaff},
		{Method: "POST", Path: "/api/v1/orgs/{org}/staff", Summary: "Add a member of staff and their login account", Request: orgchart.StaffInput{}, Response: orgchart.Staff{}, Status: http.StatusCreated, Handler: h.createStaff},
		{Method: "GET", Path: "/api/v1/orgs/{org}/staff/{id}", Summary: "Person card: departments, position, phone, manager", Response: orgchart.Card{}, Handler: h.card},
		{Method: "PATCH", Path: "/api/v1/orgs/{org}/staff/{id}", Summary: "Change a member of staff", Request: orgchart.StaffPatch{}, Response: orgchart.Staff{}, Handler: h.updateStaff},
		{Method: "POST", Path: "/api/v1/orgs/{org}/staff/{id}/deactivate", Summary: "Mark a person as left: disables the account and revokes sessions", Response: orgchart.Staff{}, Handler: h.deactivate},
		{Method: "GET", Path: "/api/v1/orgs/{org}/duty-roles", Summary: "The organisation's duty roles (院长, 护理部主任 …)", Response: DutyRoles{}, Handler: h.dutyRoles},
		{Method: "PUT", Path: "/api/v1/orgs/{org}/duty-roles", Summary: "Replace the organisation's duty roles", Request: DutyRoles{}, Response: DutyRoles{}, Handler: h.setDutyRoles},
		{Method: "GET", Path: "/api/v1/orgs/{org}/directory/search", Summary: "Search one organisation's directory (?q=name, pinyin, initials, employee number, phone, department)", Response: httpapi.List[orgchart.SearchHit]{}, Handler: h.searchOrg},
		{Method: "GET", Path: "/api/v1/directory/search", Summary: "Search every directory you can see (?q=)", Response: httpapi.List[orgchart.SearchHit]{}, Handler: h.search},
		{Method: "POST", Path: "/api/v1/directory/people", Summary: "Name up to 200 people by id in one call: name, hospital, department, title of those you may see (your hospital and what group partners share); others are left out", Request: PeopleRequest{}, Response: httpapi.List[orgchart.PersonName]{}, Handler: h.people},
		{Method: "POST", Path: "/api/v1/orgs/{org}/import/csv", Summary: "Import staff from CSV (text/csv or multipart field file; ?dry_run=true, ?mode=full)", Response: orgchart.ImportPlan{}, MaxBody: csvimport.MaxBytes, Handler: h.importCSV},
		{Method: "POST", Path: "/api/v1/orgs/{org}/sync/ldap", Summary: "Sync staff from LDAP / Active Directory now (?dry_run=true)", Response: orgchart.ImportPlan{}, Handler: h.syncLDAP},
		{Method: "GET", Path: "/api/v1/groups", Summary: "Hospital groups of your organisation", Response: httpapi.List[orgchart.Group]{}, Handler: h.groups},
		{Method: "POST", Path: "/api/v1/groups", Summary: "Create a hospital group (system admins)", Request: NewGroup{}, Response: orgchart.Group{}, Status: http.StatusCreated, Handler: h.createGroup},
		{Method: "PUT", Path: "/api/v1/groups/{id}/sharing/{org}", Summary: "Set what an organisation shares with a hospital group", Request: SharingRequest{}, Response: orgchart.Group{}, Handler: h.setSharing},
	} {
		r.Tag = tag
		r.Access = httpapi.Authenticated
		rt.Handle(r)
	}
}

func (h *Handlers) orgs(w http.ResponseWriter, r *http.Request) error {
	orgs, err := h.svc.VisibleOrgs(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.Org]{Items: orgs})
	return nil
}

func (h *Handlers) createOrg(w http.ResponseWriter, r *http.Request) error {
	var in NewOrg
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	o, err := h.svc.CreateOrg(r.Context(), httpapi.Actor(r), in.Code, in.Name)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, o)
	return nil
}

func ids(r *http.Request, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		id, err := httpapi.PathID(r, n)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, core.Invalid(name, "%s must be true or false", name)
	}
	return b, nil
}

func (h *Handlers) tree(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	t, err := h.svc.Tree(r.Context(), httpapi.Actor(r), p[0])
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, Tree{Items: t})
	return nil
}

func (h *Handlers) createDept(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	var in orgchart.NewDepartment
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	d, err := h.svc.CreateDepartment(r.Context(), httpapi.Actor(r), p[0], in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

func (h *Handlers) updateDept(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	var in orgchart.DepartmentPatch
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	d, err := h.svc.UpdateDepartment(r.Context(), httpapi.Actor(r), p[0], p[1], in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (h *Handlers) moveDept(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	var in MoveRequest
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	d, err := h.svc.MoveDepartment(r.Context(), httpapi.Actor(r), p[0], p[1], in.ParentID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (h *Handlers) deleteDept(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteDepartment(r.Context(), httpapi.Actor(r), p[0], p[1]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) members(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	subtree, err := boolParam(r, "subtree")
	if err != nil {
		return err
	}
	page, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Members(r.Context(), httpapi.Actor(r), p[0], p[1], subtree, page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.Staff]{Items: items, NextCursor: next})
	return nil
}

func (h *Handlers) listStaff(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	left, err := boolParam(r, "include_left")
	if err != nil {
		return err
	}
	page, err := httpapi.Page(r)
	if err != nil {
		return err
	}
	items, next, err := h.svc.ListStaff(r.Context(), httpapi.Actor(r), p[0], left, page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.Staff]{Items: items, NextCursor: next})
	return nil
}

func (h *Handlers) createStaff(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	var in orgchart.StaffInput
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	st, err := h.svc.CreateStaff(r.Context(), httpapi.Actor(r), p[0], in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, st)
	return nil
}

func (h *Handlers) card(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	c, err := h.svc.Card(r.Context(), httpapi.Actor(r), p[0], p[1])
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handlers) updateStaff(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	var in orgchart.StaffPatch
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	st, err := h.svc.UpdateStaff(r.Context(), httpapi.Actor(r), p[0], p[1], in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) deactivate(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org", "id")
	if err != nil {
		return err
	}
	st, err := h.svc.DeactivateStaff(r.Context(), httpapi.Actor(r), p[0], p[1])
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) dutyRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	roles, err := h.svc.DutyRoles(r.Context(), httpapi.Actor(r), p[0])
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, DutyRoles{DutyRoles: roles})
	return nil
}

func (h *Handlers) setDutyRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	var in DutyRoles
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	if err := h.svc.SetDutyRoles(r.Context(), httpapi.Actor(r), p[0], in.DutyRoles); err != nil {
		return err
	}
	return h.dutyRoles(w, r)
}

func searchParams(r *http.Request) (string, int, error) {
	q := r.URL.Query().Get("q")
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > orgchart.MaxSearchResults {
			return "", 0, core.Invalid("limit", "limit must be a whole number from 1 to %d", orgchart.MaxSearchResults)
		}
		limit = n
	}
	return q, limit, nil
}

// PeopleRequest names the people to look up (at most 200 ids).
type PeopleRequest struct {
	IDs []string `json:"ids"`
}

func (h *Handlers) people(w http.ResponseWriter, r *http.Request) error {
	var req PeopleRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	ps, err := h.svc.People(r.Context(), httpapi.Actor(r), req.IDs)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.PersonName]{Items: ps})
	return nil
}

func (h *Handlers) search(w http.ResponseWriter, r *http.Request) error {
	q, limit, err := searchParams(r)
	if err != nil {
		return err
	}
	hits, err := h.svc.Search(r.Context(), httpapi.Actor(r), q, limit)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.SearchHit]{Items: hits})
	return nil
}

func (h *Handlers) searchOrg(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	q, limit, err := searchParams(r)
	if err != nil {
		return err
	}
	hits, err := h.svc.SearchIn(r.Context(), httpapi.Actor(r), p[0], q, limit)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.SearchHit]{Items: hits})
	return nil
}

// readCSV takes the file from a text/csv (or any non-multipart) body, or from
// the multipart field "file".
func readCSV(r *http.Request) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		f, _, err := r.FormFile("file")
		if err != nil {
			if strings.Contains(err.Error(), "too large") {
				return nil, core.Errorf(core.ETooLarge, "the file is larger than %d MB", csvimport.MaxBytes>>20)
			}
			return nil, core.Invalid("file", "send the CSV file in the multipart field \"file\"")
		}
		defer f.Close()
		r.Body = f
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, csvimport.MaxBytes+1))
	if err != nil {
		return nil, core.Errorf(core.ETooLarge, "the file is larger than %d MB", csvimport.MaxBytes>>20)
	}
	if len(data) > csvimport.MaxBytes {
		return nil, core.Errorf(core.ETooLarge, "the file is larger than %d MB", csvimport.MaxBytes>>20)
	}
	return data, nil
}

func (h *Handlers) importCSV(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	// Who may comes before what is valid: a refused caller gets 403, not a
	// lesson in the file format.
	if err := h.svc.CanImport(r.Context(), httpapi.Actor(r), p[0]); err != nil {
		return err
	}
	mode := r.URL.Query().Get("mode")
	if mode != "" && mode != "full" && mode != "partial" {
		return core.Invalid("mode", "mode must be full (absent staff leave) or partial")
	}
	data, err := readCSV(r)
	if err != nil {
		return err
	}
	roster, lineErrs := csvimport.Parse(data, mode == "full")
	if len(lineErrs) > 0 {
		return (&core.Error{Code: core.EInvalid, Field: "file", Message: fmt.Sprintf("%d problems in the file; nothing was changed: %s", len(lineErrs), lineErrs[0])}).
			With("errors", lineErrs)
	}
	plan, err := h.svc.Import(r.Context(), httpapi.Actor(r), p[0], roster, dry)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, plan)
	return nil
}

func (h *Handlers) syncLDAP(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "org")
	if err != nil {
		return err
	}
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	if err := h.svc.CanImport(r.Context(), httpapi.Actor(r), p[0]); err != nil {
		return err
	}
	if h.LDAP == nil {
		return core.Errorf(core.EUnavailable, "LDAP sync is not configured on this server")
	}
	plan, err := h.LDAP.Sync(r.Context(), httpapi.Actor(r), p[0], dry)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, plan)
	return nil
}

func (h *Handlers) groups(w http.ResponseWriter, r *http.Request) error {
	gs, err := h.svc.Groups(r.Context(), httpapi.Actor(r))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.List[orgchart.Group]{Items: gs})
	return nil
}

func (h *Handlers) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in NewGroup
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	g, err := h.svc.CreateGroup(r.Context(), httpapi.Actor(r), in.Name, in.Members)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, g)
	return nil
}

func (h *Handlers) setSharing(w http.ResponseWriter, r *http.Request) error {
	p, err := ids(r, "id", "org")
	if err != nil {
		return err
	}
	var in SharingRequest
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	g, err := h.svc.SetSharing(r.Context(), httpapi.Actor(r), p[0], orgchart.GroupMember{OrgID: p[1], Share: in.Share, DepartmentIDs: in.DepartmentIDs})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, g)
	return nil
}
