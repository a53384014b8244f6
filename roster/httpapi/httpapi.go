// Package rosterhttp exposes rostering over the Rounds HTTP API. It decodes,
// calls roster.Service and encodes; every decision is the service's.
package rosterhttp

import (
	"net/http"
	"strconv"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/roster"
)

// Handlers serves the roster routes.
type Handlers struct{ Svc *roster.Service }

type shiftList struct {
	Items []roster.Shift `json:"items"`
}

type patternList struct {
	Items []roster.Pattern `json:"items"`
}

type rosterList struct {
	Items []roster.Roster `json:"items"`
}

type createRoster struct {
	From roster.Date `json:"from"`
	To   roster.Date `json:"to"`
}

type saveRoster struct {
	Version     int                 `json:"version"`
	Assignments []roster.Assignment `json:"assignments"`
	Reason      string              `json:"reason,omitempty"`
}

type publishRoster struct {
	Version int `json:"version"`
}

type settings struct {
	TimeZone string `json:"time_zone"`
}

type profile struct {
	Skills         []string `json:"skills"`
	Qualifications []string `json:"qualifications"`
}

const tag = "roster"

// Register mounts the routes.
func (h Handlers) Register(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/roster-patterns", Tag: tag, Summary: "Ready-made shift patterns (三班倒, APN, 值班/备班, 休)",
		Response: patternList{}, Handler: func(w http.ResponseWriter, r *http.Request) error {
			httpapi.WriteJSON(w, 200, patternList{Items: roster.Patterns})
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/shifts", Tag: tag, Summary: "List the organisation's shifts",
		Response: shiftList{}, Handler: h.listShifts})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/orgs/{org}/shifts", Tag: tag, Summary: "Create a shift", Status: 201,
		Request: roster.Shift{}, Response: roster.Shift{}, Handler: h.putShift})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/shifts/{id}", Tag: tag, Summary: "Change a shift",
		Request: roster.Shift{}, Response: roster.Shift{}, Handler: h.putShift})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/orgs/{org}/shift-patterns/{key}", Tag: tag, Summary: "Adopt a ready-made shift pattern",
		Response: shiftList{}, Handler: h.applyPattern})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/roster-settings", Tag: tag, Summary: "Set the organisation's time zone for rosters and attendance",
		Request: settings{}, Response: settings{}, Handler: h.setSettings})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/roster-rules", Tag: tag, Summary: "A ward's roster rules",
		Response: roster.RuleSet{}, Handler: h.getRules})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/departments/{dept}/roster-rules", Tag: tag, Summary: "Set a ward's roster rules",
		Request: roster.RuleSet{}, Response: roster.RuleSet{}, Handler: h.setRules})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/staff/{user}/roster-profile", Tag: tag, Summary: "Set a person's skills and qualifications for rostering",
		Request: profile{}, Response: profile{}, Handler: h.setProfile})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/rosters", Tag: tag, Summary: "A department's rosters overlapping ?from=&to=",
		Response: rosterList{}, Handler: h.list})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/orgs/{org}/departments/{dept}/rosters", Tag: tag, Summary: "Start a draft roster for a period", Status: 201,
		Request: createRoster{}, Response: roster.Checked{}, Handler: h.create})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/duty", Tag: tag, Summary: "Who is on duty, on call and backup now (or ?at=RFC 3339 time)",
		Response: roster.Duty{}, Handler: h.duty})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/rosters/{id}", Tag: tag, Summary: "A roster (latest or ?version=) with its rule violations",
		Response: roster.Checked{}, Handler: h.get})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/rosters/{id}", Tag: tag, Summary: "Save the assignments (a published roster needs a reason)",
		Request: saveRoster{}, Response: roster.Checked{}, Handler: h.save})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/rosters/{id}/publish", Tag: tag, Summary: "Publish a draft roster; staff are told their shifts",
		Request: publishRoster{}, Response: roster.Checked{}, Handler: h.publish})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/rosters/{id}/versions", Tag: tag, Summary: "Every saved version of a roster",
		Response: rosterList{}, Handler: h.versions})
}

func orgOf(r *http.Request) (string, error) { return httpapi.PathID(r, "org") }

func (h Handlers) listShifts(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.Shifts(r.Context(), httpapi.Actor(r), org)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, shiftList{Items: nonNil(list)})
	return nil
}

func (h Handlers) putShift(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	var sh roster.Shift
	if err := httpapi.Decode(r, &sh); err != nil {
		return err
	}
	sh.OrgID, sh.ID = org, ""
	status := 201
	if r.Method == "PUT" {
		if sh.ID, err = httpapi.PathID(r, "id"); err != nil {
			return err
		}
		status = 200
	}
	out, err := h.Svc.PutShift(r.Context(), httpapi.Actor(r), sh)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, status, out)
	return nil
}

func (h Handlers) applyPattern(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	list, err := h.Svc.ApplyPattern(r.Context(), httpapi.Actor(r), org, r.PathValue("key"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, shiftList{Items: list})
	return nil
}

func (h Handlers) setSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	var s settings
	if err := httpapi.Decode(r, &s); err != nil {
		return err
	}
	if err := h.Svc.SetTimeZone(r.Context(), httpapi.Actor(r), org, s.TimeZone); err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, s)
	return nil
}

func orgDept(r *http.Request) (string, string, error) {
	ids, err := httpapi.PathIDs(r, "org", "dept")
	if err != nil {
		return "", "", err
	}
	return ids[0], ids[1], nil
}

func (h Handlers) getRules(w http.ResponseWriter, r *http.Request) error {
	org, dept, err := orgDept(r)
	if err != nil {
		return err
	}
	rs, err := h.Svc.Rules(r.Context(), httpapi.Actor(r), org, dept)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, rs)
	return nil
}

func (h Handlers) setRules(w http.ResponseWriter, r *http.Request) error {
	org, dept, err := orgDept(r)
	if err != nil {
		return err
	}
	var rs roster.RuleSet
	if err := httpapi.Decode(r, &rs); err != nil {
		return err
	}
	if err := h.Svc.SetRules(r.Context(), httpapi.Actor(r), org, dept, rs); err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, rs)
	return nil
}

func (h Handlers) setProfile(w http.ResponseWriter, r *http.Request) error {
	org, err := orgOf(r)
	if err != nil {
		return err
	}
	user, err := httpapi.PathID(r, "user")
	if err != nil {
		return err
	}
	var p profile
	if err := httpapi.Decode(r, &p); err != nil {
		return err
	}
	if err := h.Svc.SetProfile(r.Context(), httpapi.Actor(r), org, roster.Person{UserID: user, Skills: p.Skills, Qualifications: p.Qualifications}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, p)
	return nil
}

func dateParam(r *http.Request, name string, def roster.Date) (roster.Date, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	d, err := roster.ParseDate(s)
	if err != nil {
		return 0, core.Invalid(name, "%s must be a date like 2026-12-01", name)
	}
	return d, nil
}

func (h Handlers) list(w http.ResponseWriter, r *http.Request) error {
	org, dept, err := orgDept(r)
	if err != nil {
		return err
	}
	today := roster.DateOf(time.Now())
	from, err := dateParam(r, "from", today-31)
	if err != nil {
		return err
	}
	to, err := dateParam(r, "to", today+62)
	if err != nil {
		return err
	}
	list, err := h.Svc.List(r.Context(), httpapi.Actor(r), org, dept, from, to)
	if err != nil {
		return err
	}
	if list == nil {
		list = []roster.Roster{}
	}
	httpapi.WriteJSON(w, 200, rosterList{Items: list})
	return nil
}

func (h Handlers) create(w http.ResponseWriter, r *http.Request) error {
	org, dept, err := orgDept(r)
	if err != nil {
		return err
	}
	var in createRoster
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	c, err := h.Svc.CreateRoster(r.Context(), httpapi.Actor(r), org, dept, in.From, in.To)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 201, c)
	return nil
}

func (h Handlers) duty(w http.ResponseWriter, r *http.Request) error {
	org, dept, err := orgDept(r)
	if err != nil {
		return err
	}
	at := time.Now()
	if s := r.URL.Query().Get("at"); s != "" {
		if at, err = time.Parse(time.RFC3339, s); err != nil {
			return core.Invalid("at", "at must be an RFC 3339 time like 2026-12-01T03:00:00+08:00")
		}
	}
	d, err := h.Svc.WhoIsOnDuty(r.Context(), httpapi.Actor(r), org, dept, at)
	if err != nil {
		return err
	}
	d.OnDuty, d.OnCall, d.Backup = nonNil(d.OnDuty), nonNil(d.OnCall), nonNil(d.Backup)
	httpapi.WriteJSON(w, 200, d)
	return nil
}

func (h Handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	version := 0
	if s := r.URL.Query().Get("version"); s != "" {
		if version, err = strconv.Atoi(s); err != nil || version < 1 {
			return core.Invalid("version", "version must be a whole number from 1")
		}
	}
	c, err := h.Svc.Get(r.Context(), httpapi.Actor(r), id, version)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, c)
	return nil
}

func (h Handlers) save(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var in saveRoster
	if err := httpapi.DecodeLimit(r, &in, 4<<20); err != nil {
		return err
	}
	c, err := h.Svc.Save(r.Context(), httpapi.Actor(r), id, in.Version, in.Assignments, in.Reason)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, c)
	return nil
}

func (h Handlers) publish(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	var in publishRoster
	if err := httpapi.Decode(r, &in); err != nil {
		return err
	}
	c, err := h.Svc.Publish(r.Context(), httpapi.Actor(r), id, in.Version)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, c)
	return nil
}

func (h Handlers) versions(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := h.Svc.Versions(r.Context(), httpapi.Actor(r), id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, rosterList{Items: list})
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
