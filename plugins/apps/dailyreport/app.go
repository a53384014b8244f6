package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/plugins/sdk"
)

// beijing is the hospital's clock; a fixed zone needs no tzdata on the
// server.
var beijing = time.FixedZone("CST", 8*3600)

// maxReport is the longest report, in characters.
const maxReport = 4000

// Report is one person's report of one day.
type Report struct {
	UserID string    `json:"user_id"`
	Date   string    `json:"date"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// dailyReport stores reports under "report/<date>/<user>" in its own
// storage, so a department's day is one prefix scan.
type dailyReport struct {
	host sdk.Host
	inst sdk.Install
	now  func() time.Time
}

func newApp() *dailyReport { return &dailyReport{now: time.Now} }

func (a *dailyReport) Activate(_ context.Context, host sdk.Host, inst sdk.Install) error {
	a.host, a.inst = host, inst
	if inst.Settings["department"] == "" {
		return sdk.Errorf(sdk.CodeInvalid, "set the department whose staff write reports")
	}
	return nil
}

func day(t time.Time) string { return t.In(beijing).Format("2006-01-02") }

func (a *dailyReport) submit(ctx context.Context, userID, text string) (Report, error) {
	text = strings.TrimSpace(text)
	if userID == "" {
		return Report{}, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if text == "" {
		return Report{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "text", Message: "write something first"}
	}
	if utf8.RuneCountInString(text) > maxReport {
		return Report{}, &sdk.Error{Code: sdk.CodeTooLarge, Field: "text", Message: "a report is at most 4000 characters"}
	}
	now := a.now()
	r := Report{UserID: userID, Date: day(now), Text: text, At: now.UTC()}
	b, _ := json.Marshal(r)
	return r, a.host.KVSet(ctx, "report/"+r.Date+"/"+userID, b)
}

func (a *dailyReport) reportsOf(ctx context.Context, date string) (map[string]Report, error) {
	keys, err := a.host.KVKeys(ctx, "report/"+date+"/", 1000)
	if err != nil {
		return nil, err
	}
	out := map[string]Report{}
	for _, k := range keys {
		v, ok, err := a.host.KVGet(ctx, k)
		if err != nil {
			return nil, err
		}
		var r Report
		if ok && json.Unmarshal(v, &r) == nil {
			out[r.UserID] = r
		}
	}
	return out, nil
}

// OnCommand handles "/daily <text>".
func (a *dailyReport) OnCommand(ctx context.Context, c sdk.Command) (string, error) {
	if c.Command != "daily" {
		return "", sdk.Errorf(sdk.CodeNotFound, "unknown command /%s", c.Command)
	}
	if strings.TrimSpace(c.Args) == "" {
		return "用法: /daily 今天完成了…", nil
	}
	r, err := a.submit(ctx, c.Actor.UserID, c.Args)
	if err != nil {
		return "", err
	}
	return "已收到 " + r.Date + " 的日报", nil
}

// OnJob reminds, once a day at the configured hour, each member of the
// department's staff who has not written today's report, in a direct
// message from the app's bot; when a reminder conversation is set (a group
// the app's bot has been added to) it also posts there who is missing.
// Each person is reminded once: a run that could not reach everyone returns
// the error (the host logs it) and the next run of the hour tries the rest.
func (a *dailyReport) OnJob(ctx context.Context, j sdk.Job) error {
	if j.Name != "reminder" {
		return nil
	}
	conv := a.inst.Settings["reminder_conversation"]
	hour := 17
	if h, err := strconv.Atoi(a.inst.Settings["reminder_hour"]); err == nil && h >= 0 && h < 24 {
		hour = h
	}
	at := j.At.In(beijing)
	if at.Hour() != hour {
		return nil
	}
	date := day(at)
	if _, done, err := a.host.KVGet(ctx, "reminded/"+date); err != nil || done {
		return err
	}
	staff, err := a.host.Staff(ctx, a.inst.Settings["department"])
	if err != nil {
		return err
	}
	reports, err := a.reportsOf(ctx, date)
	if err != nil {
		return err
	}
	var missing []string
	var failed []error
	for _, s := range staff {
		if _, ok := reports[s.UserID]; ok {
			continue
		}
		missing = append(missing, s.Name)
		if err := a.remind(ctx, date, s); err != nil {
			failed = append(failed, fmt.Errorf("%s (%s): %w", s.Name, s.UserID, err))
		}
	}
	if conv != "" {
		if err := a.summarise(ctx, conv, date, len(staff), missing); err != nil {
			failed = append(failed, fmt.Errorf("reminder conversation %s: %w", conv, err))
		}
	}
	if len(failed) > 0 {
		return &sdk.Error{Code: sdk.ErrorCode(failed[0]), Message: "reminders not sent: " + errors.Join(failed...).Error()}
	}
	return a.host.KVSet(ctx, "reminded/"+date, []byte("1"))
}

// remind tells one person their report of date is missing, once.
func (a *dailyReport) remind(ctx context.Context, date string, s sdk.Staff) error {
	k := "reminded/" + date + "/" + s.UserID
	if _, done, err := a.host.KVGet(ctx, k); err != nil || done {
		return err
	}
	text := fmt.Sprintf("%s，您 %s 的日报还没有提交。请在应用中心「日报」的写日报页面填写，或在聊天里输入 /daily 今天完成的工作。", s.Name, date)
	if _, err := a.host.SendDirectMessage(ctx, s.UserID, text); err != nil {
		return err
	}
	return a.host.KVSet(ctx, k, []byte("1"))
}

// summarise posts to the reminder conversation who has not written, once.
func (a *dailyReport) summarise(ctx context.Context, conv, date string, staff int, missing []string) error {
	k := "summary/" + date
	if _, done, err := a.host.KVGet(ctx, k); err != nil || done {
		return err
	}
	sort.Strings(missing)
	text := fmt.Sprintf("%s 日报已全部提交 (%d 人)", date, staff)
	if len(missing) > 0 {
		text = fmt.Sprintf("%s 日报未交 (%d/%d): %s。已逐一私信提醒。", date, len(missing), staff, strings.Join(missing, "、"))
	}
	if _, err := a.host.SendMessage(ctx, conv, text); err != nil {
		return err
	}
	return a.host.KVSet(ctx, k, []byte("1"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	status := map[sdk.Code]int{sdk.CodeInvalid: 400, sdk.CodeUnauthenticated: 401, sdk.CodeForbidden: 403,
		sdk.CodeNotFound: 404, sdk.CodeTooLarge: 413, sdk.CodeRateLimited: 429, sdk.CodeUnavailable: 503}[sdk.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	msg := "internal error"
	if e, ok := err.(*sdk.Error); ok {
		msg = e.Message
	}
	writeJSON(w, status, map[string]string{"code": string(sdk.ErrorCode(err)), "message": msg})
}

// ServeHTTP serves the manifest's routes; the host only forwards those.
func (a *dailyReport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	actor, _ := sdk.ActorFromRequest(r)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/reports":
		var in struct {
			Text string `json:"text"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeErr(w, &sdk.Error{Code: sdk.CodeInvalid, Field: "body", Message: "send {\"text\": \"…\"}"})
			return
		}
		rep, err := a.submit(r.Context(), actor.UserID, in.Text)
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, rep)
	case r.Method == http.MethodGet && r.URL.Path == "/reports/mine":
		var out []Report
		for i := 0; i < 7; i++ {
			v, ok, err := a.host.KVGet(r.Context(), "report/"+day(a.now().AddDate(0, 0, -i))+"/"+actor.UserID)
			if err != nil {
				writeErr(w, err)
				return
			}
			var rep Report
			if ok && json.Unmarshal(v, &rep) == nil {
				out = append(out, rep)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": out})
	case r.Method == http.MethodGet && r.URL.Path == "/reports/team":
		// The department the app was installed for (its team page).
		a.departmentDay(w, r, actor, a.inst.Settings["department"])
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/departments/") && strings.HasSuffix(r.URL.Path, "/reports"):
		a.departmentDay(w, r, actor, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/departments/"), "/reports"))
	default:
		writeErr(w, sdk.Errorf(sdk.CodeNotFound, "no such route"))
	}
}

// departmentDay answers a department's reports of a day (?date=, today by
// default): every member of its staff, with their report if they wrote one.
// Only the department's own staff see it.
func (a *dailyReport) departmentDay(w http.ResponseWriter, r *http.Request, actor sdk.Actor, dept string) {
	date := r.URL.Query().Get("date")
	if date == "" {
		date = day(a.now())
	}
	if _, err := time.Parse("2006-01-02", date); err != nil {
		writeErr(w, &sdk.Error{Code: sdk.CodeInvalid, Field: "date", Message: "date is YYYY-MM-DD"})
		return
	}
	// Only the department's own staff see its reports.
	staff, err := a.host.Staff(r.Context(), dept)
	if err != nil {
		writeErr(w, err)
		return
	}
	member := false
	for _, s := range staff {
		member = member || s.UserID == actor.UserID
	}
	if !member {
		writeErr(w, sdk.Errorf(sdk.CodeForbidden, "only staff of the department see its reports"))
		return
	}
	reports, err := a.reportsOf(r.Context(), date)
	if err != nil {
		writeErr(w, err)
		return
	}
	type row struct {
		UserID string  `json:"user_id"`
		Name   string  `json:"name"`
		Report *Report `json:"report,omitempty"`
	}
	out := make([]row, 0, len(staff))
	for _, s := range staff {
		rw := row{UserID: s.UserID, Name: s.Name}
		if rep, ok := reports[s.UserID]; ok {
			rw.Report = &rep
		}
		out = append(out, rw)
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": date, "items": out})
}
