// Package attendancehttp exposes clock-in and attendance statistics over the
// Rounds HTTP API.
package attendancehttp

import (
	"context"
	"net/http"

	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/core/httpapi"
)

// Handlers serves the attendance routes. Names resolves display names for
// exports (from the org chart); it may be nil.
type Handlers struct {
	Svc   *attendance.Service
	Names func(ctx context.Context, orgID string, userIDs []string) map[string]string
}

type days struct {
	Items []attendance.DayRow `json:"items"`
}

type summaries struct {
	Items []attendance.Summary `json:"items"`
}

const tag = "attendance"

// Register mounts the routes.
func (h Handlers) Register(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/attendance/clock", Tag: tag, Summary: "Clock in or out (location, Wi-Fi BSSID or the hospital network decide)",
		Status: 201, Request: attendance.Attempt{}, Response: attendance.Punch{}, Handler: h.clock})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/me/attendance/{month}", Tag: tag, Summary: "My duties, clock-ins and summary for a month (2026-12)",
		Response: attendance.Month{}, Handler: h.mine})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/attendance/rules", Tag: tag, Summary: "Clock-in rules: geofences, Wi-Fi, networks, grace, office hours",
		Response: attendance.Rules{}, Handler: h.rules})
	rt.Handle(httpapi.Route{Method: "PUT", Path: "/api/v1/orgs/{org}/attendance/rules", Tag: tag, Summary: "Set the clock-in rules",
		Request: attendance.Rules{}, Response: attendance.Rules{}, Handler: h.setRules})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/staff/{user}/attendance/{month}", Tag: tag, Summary: "A person's month (self, department head or admin)",
		Response: attendance.Month{}, Handler: h.person})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/attendance/{month}", Tag: tag, Summary: "Month statistics of a department subtree",
		Response: summaries{}, Handler: h.department})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/attendance-days/{date}", Tag: tag, Summary: "A department subtree's duties and clock-ins on one day",
		Response: days{}, Handler: h.day})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/orgs/{org}/departments/{dept}/attendance/{month}/export", Tag: tag, Summary: "Month statistics of a department as XLSX",
		Handler: h.export})
}

func (h Handlers) clock(w http.ResponseWriter, r *http.Request) error {
	var a attendance.Attempt
	if err := httpapi.Decode(r, &a); err != nil {
		return err
	}
	p, err := h.Svc.ClockIn(r.Context(), httpapi.Actor(r), a)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 201, p)
	return nil
}

func (h Handlers) mine(w http.ResponseWriter, r *http.Request) error {
	a := httpapi.Actor(r)
	m, err := h.Svc.MonthOf(r.Context(), a, a.OrgID, a.UserID, r.PathValue("month"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, m)
	return nil
}

func (h Handlers) rules(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		return err
	}
	rs, err := h.Svc.Rules(r.Context(), httpapi.Actor(r), org)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, rs)
	return nil
}

func (h Handlers) setRules(w http.ResponseWriter, r *http.Request) error {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		return err
	}
	var rs attendance.Rules
	if err := httpapi.Decode(r, &rs); err != nil {
		return err
	}
	if err := h.Svc.SetRules(r.Context(), httpapi.Actor(r), org, rs); err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, rs)
	return nil
}

func (h Handlers) person(w http.ResponseWriter, r *http.Request) error {
	ids, err := httpapi.PathIDs(r, "org", "user")
	if err != nil {
		return err
	}
	org, user := ids[0], ids[1]
	m, err := h.Svc.MonthOf(r.Context(), httpapi.Actor(r), org, user, r.PathValue("month"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, m)
	return nil
}

func (h Handlers) department(w http.ResponseWriter, r *http.Request) error {
	ids, err := httpapi.PathIDs(r, "org", "dept")
	if err != nil {
		return err
	}
	org, dept := ids[0], ids[1]
	list, err := h.Svc.DepartmentMonth(r.Context(), httpapi.Actor(r), org, dept, r.PathValue("month"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, summaries{Items: list})
	return nil
}

func (h Handlers) day(w http.ResponseWriter, r *http.Request) error {
	ids, err := httpapi.PathIDs(r, "org", "dept")
	if err != nil {
		return err
	}
	org, dept := ids[0], ids[1]
	rows, err := h.Svc.DepartmentDay(r.Context(), httpapi.Actor(r), org, dept, r.PathValue("date"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, 200, days{Items: rows})
	return nil
}

func (h Handlers) export(w http.ResponseWriter, r *http.Request) error {
	ids, err := httpapi.PathIDs(r, "org", "dept")
	if err != nil {
		return err
	}
	org, dept := ids[0], ids[1]
	month := r.PathValue("month")
	if _, err := attendance.ParseMonth(month); err != nil {
		return err
	}
	list, err := h.Svc.DepartmentMonth(r.Context(), httpapi.Actor(r), org, dept, month)
	if err != nil {
		return err
	}
	people := make([]string, len(list))
	for i, s := range list {
		people[i] = s.UserID
	}
	names := map[string]string{}
	if h.Names != nil {
		names = h.Names(r.Context(), org, people)
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="attendance-`+month+`.xlsx"`)
	return attendance.WriteXLSX(month, list, names, w)
}
