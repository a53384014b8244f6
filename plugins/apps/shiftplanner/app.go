package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/plugins/sdk"
)

// beijing is the hospital's clock; a fixed zone needs no tzdata.
var beijing = time.FixedZone("CST", 8*3600)

type app struct {
	host sdk.Host
	inst sdk.Install
	now  func() time.Time
}

func newApp() *app { return &app{now: time.Now} }

var (
	_ sdk.CommandHook = (*app)(nil)
	_ sdk.HTTPHook    = (*app)(nil)
)

func (a *app) Activate(_ context.Context, host sdk.Host, inst sdk.Install) error {
	a.host, a.inst = host, inst
	return nil
}

const usage = "用法: /paiban 病区名称 2026-12 —— 生成该病区当月的排班草稿（不发布）。不写月份则排下个月。"

// OnCommand handles "/paiban <ward> [month]".
func (a *app) OnCommand(ctx context.Context, c sdk.Command) (string, error) {
	if c.Command != "paiban" {
		return "", sdk.Errorf(sdk.CodeNotFound, "unknown command /%s", c.Command)
	}
	args := strings.Fields(c.Args)
	if len(args) == 0 || len(args) > 2 {
		return usage, nil
	}
	month := ""
	if len(args) == 2 {
		month = args[1]
	}
	res, err := a.plan(ctx, c.Actor.UserID, args[0], month)
	if err != nil {
		return "", err
	}
	reply := fmt.Sprintf("已生成 %s %s 的排班草稿（共 %d 个班次，未发布）：服务器校验硬性违规 %d 项。", res.Ward, res.Month, len(res.Assignments), res.Hard)
	if len(res.Told) > 0 {
		reply += "详情已私信发给护士长。"
	}
	return reply, nil
}

// Result is what a planning run did, for the command, the page and tests.
type Result struct {
	DepartmentID string           `json:"department_id"`
	Ward         string           `json:"ward"`
	Month        string           `json:"month"`
	RosterID     string           `json:"roster_id"`
	Status       string           `json:"status"` // always "draft": the app never publishes
	Assignments  []sdk.Assignment `json:"assignments"`
	Hard         int              `json:"hard_violations"` // the server's own check of the saved draft
	Soft         int              `json:"soft_violations"`
	Violations   []string         `json:"violations"`
	Nights       Spread           `json:"nights"`
	Weekends     Spread           `json:"weekends"`
	People       []PersonLine     `json:"people"`
	Unmet        []string         `json:"unmet"` // what the planner could not satisfy, and why
	Notes        []string         `json:"notes"`
	Told         []string         `json:"told"` // who got the summary in a direct message
	Summary      string           `json:"summary"`
}

// PersonLine is one person's share, named.
type PersonLine struct {
	UserID    string `json:"user_id"`
	Name      string `json:"name"`
	Shifts    int    `json:"shifts"`
	Nights    int    `json:"nights"`
	Weekends  int    `json:"weekends"`
	LeaveDays int    `json:"leave_days"`
}

// plan finds the ward, checks the person asking may plan it, plans the
// month, saves the draft and tells the head nurse.
func (a *app) plan(ctx context.Context, actorID, wardArg, month string) (Result, error) {
	if month == "" {
		month = a.now().In(beijing).AddDate(0, 1, 1-a.now().In(beijing).Day()).Format("2006-01")
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return Result{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "month", Message: fmt.Sprintf("%q 不是月份，请写成 2026-12", month)}
	}
	ward, err := a.ward(ctx, wardArg)
	if err != nil {
		return Result{}, err
	}
	setup, err := a.host.RosterSetup(ctx, ward.ID, month)
	if err != nil {
		return Result{}, err
	}
	if !a.mayPlan(actorID, setup) {
		return Result{}, sdk.Errorf(sdk.CodeForbidden, "只有%s的护士长（或管理员在设置中指定的排班负责人）可以为它生成排班", ward.Name)
	}
	if cur, err := a.host.Roster(ctx, ward.ID, month); err == nil && cur.Status == "published" {
		return Result{}, sdk.Errorf(sdk.CodeConflict, "%s %s 的排班已发布，智能排班只生成草稿，不会改动已发布的排班", ward.Name, month)
	} else if err != nil && !sdk.IsCode(err, sdk.CodeNotFound) {
		return Result{}, err
	}
	names := map[string]string{}
	if staff, err := a.host.Staff(ctx, ward.ID); err == nil {
		for _, s := range staff {
			names[s.UserID] = s.Name
		}
	}
	exclude := map[string]bool{}
	if a.inst.Settings["include_heads"] != "true" {
		for _, h := range setup.Heads {
			exclude[h] = true
		}
	}
	gap := 8
	if v, err := strconv.Atoi(a.inst.Settings["min_gap_hours"]); err == nil && v >= 0 && v <= 24 {
		gap = v
	}
	pl, err := MakePlan(setup, Options{MinGapHours: gap, Exclude: exclude, Names: names})
	if err != nil {
		return Result{}, err
	}
	saved, err := a.host.SaveRosterDraft(ctx, sdk.Roster{DepartmentID: ward.ID, Month: month, Assignments: pl.Assignments})
	if err != nil {
		return Result{}, err
	}
	res := Result{DepartmentID: ward.ID, Ward: ward.Name, Month: month, RosterID: saved.ID, Status: saved.Status,
		Assignments: pl.Assignments, Nights: pl.Nights, Weekends: pl.Weekends, Unmet: pl.Unfilled, Notes: pl.Notes}
	for _, v := range saved.Violations {
		if v.Severity == sdk.SeverityHard {
			res.Hard++
		} else {
			res.Soft++
		}
		who := names[v.UserID]
		if who == "" {
			who = v.UserID
		}
		res.Violations = append(res.Violations, strings.TrimSpace(fmt.Sprintf("[%s] %s %s %s", severityZh(v.Severity), v.Date, who, v.Message)))
	}
	for _, st := range pl.People {
		name := names[st.UserID]
		if name == "" {
			name = st.UserID
		}
		res.People = append(res.People, PersonLine{UserID: st.UserID, Name: name, Shifts: st.Shifts, Nights: st.Nights, Weekends: st.Weekends, LeaveDays: st.LeaveDays})
	}
	res.Summary = summary(res, setup)
	for _, to := range recipients(actorID, setup.Heads) {
		if _, err := a.host.SendDirectMessage(ctx, to, res.Summary); err == nil {
			res.Told = append(res.Told, to)
		}
	}
	return res, nil
}

func severityZh(s string) string {
	if s == sdk.SeverityHard {
		return "硬性"
	}
	return "提示"
}

// recipients: the person who asked and the ward's heads, once each.
func recipients(actor string, heads []string) []string {
	out := []string{actor}
	for _, h := range heads {
		if h != actor {
			out = append(out, h)
		}
	}
	return out
}

// mayPlan: the ward's heads, and the planners the admin named in settings.
func (a *app) mayPlan(actorID string, setup sdk.RosterSetup) bool {
	for _, h := range setup.Heads {
		if h == actorID {
			return true
		}
	}
	for _, p := range strings.Split(a.inst.Settings["planners"], ",") {
		if strings.TrimSpace(p) == actorID && actorID != "" {
			return true
		}
	}
	return false
}

// ward finds a department by id or by exact name among those granted.
func (a *app) ward(ctx context.Context, arg string) (sdk.Department, error) {
	depts, err := a.host.Departments(ctx, "")
	if err != nil {
		return sdk.Department{}, err
	}
	var byName []sdk.Department
	for _, d := range depts {
		if d.ID == arg {
			return d, nil
		}
		if d.Name == arg {
			byName = append(byName, d)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return sdk.Department{}, &sdk.Error{Code: sdk.CodeNotFound, Field: "ward", Message: fmt.Sprintf("没有找到病区“%s”", arg)}
	}
	ids := make([]string, 0, len(byName))
	for _, d := range byName {
		ids = append(ids, d.ID)
	}
	return sdk.Department{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "ward", Message: fmt.Sprintf("有 %d 个名为“%s”的科室，请用科室 id: %s", len(byName), arg, strings.Join(ids, ", "))}
}

// summary is the head nurse's direct message.
func summary(r Result, setup sdk.RosterSetup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "【智能排班】%s %s 排班草稿已生成，尚未发布：请审核、调整后由您发布。\n", r.Ward, r.Month)
	fmt.Fprintf(&b, "共 %d 人、%d 个班次。服务器规则校验：硬性违规 %d 项，提示 %d 项。\n", len(r.People), len(r.Assignments), r.Hard, r.Soft)
	var nightNames []string
	for _, sh := range setup.Shifts {
		if sh.Night && sh.Kind != "off" && sh.Kind != "backup" {
			nightNames = append(nightNames, sh.Name)
		}
	}
	sort.Strings(nightNames)
	fmt.Fprintf(&b, "夜班（%s）每人 %s；周末班每人 %s。\n", strings.Join(nightNames, "、"), spread(r.Nights), spread(r.Weekends))
	b.WriteString("每人 夜班/周末班/总班次：\n")
	for _, p := range r.People {
		fmt.Fprintf(&b, "%s %d/%d/%d", p.Name, p.Nights, p.Weekends, p.Shifts)
		if p.LeaveDays > 0 {
			fmt.Fprintf(&b, "（休假 %d 天）", p.LeaveDays)
		}
		b.WriteString("\n")
	}
	if len(r.Unmet) == 0 && len(r.Violations) == 0 {
		b.WriteString("所有规则均已满足。")
	}
	if len(r.Unmet) > 0 {
		b.WriteString("未能满足：\n")
		for i, u := range r.Unmet {
			if i == 20 {
				fmt.Fprintf(&b, "……另有 %d 项\n", len(r.Unmet)-20)
				break
			}
			b.WriteString("· " + u + "\n")
		}
	}
	if len(r.Violations) > 0 {
		b.WriteString("服务器校验结果：\n")
		for i, v := range r.Violations {
			if i == 20 {
				fmt.Fprintf(&b, "……另有 %d 项\n", len(r.Violations)-20)
				break
			}
			b.WriteString("· " + v + "\n")
		}
	}
	for _, n := range r.Notes {
		b.WriteString("\n说明：" + n)
	}
	out := strings.TrimRight(b.String(), "\n")
	if len(out) > sdk.MaxMessageText {
		out = out[:sdk.MaxMessageText-200]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
		out += "\n……（内容过长，已截断）"
	}
	return out
}

func spread(s Spread) string {
	if s.Min == s.Max {
		return fmt.Sprintf("%d 个", s.Min)
	}
	return fmt.Sprintf("%d–%d 个（相差 %d）", s.Min, s.Max, s.Max-s.Min)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	status := map[sdk.Code]int{sdk.CodeInvalid: 400, sdk.CodeUnauthenticated: 401, sdk.CodeForbidden: 403,
		sdk.CodeNotFound: 404, sdk.CodeConflict: 409, sdk.CodeTooLarge: 413, sdk.CodeRateLimited: 429, sdk.CodeUnavailable: 503}[sdk.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	msg := "internal error"
	body := map[string]string{"code": string(sdk.ErrorCode(err))}
	if e, ok := err.(*sdk.Error); ok {
		msg = e.Message
		if e.Field != "" {
			body["field"] = e.Field
		}
	}
	body["message"] = msg
	writeJSON(w, status, body)
}

// ServeHTTP serves the manifest's routes: the wards one may pick and a
// planning run.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	actor, _ := sdk.ActorFromRequest(r)
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/wards":
		depts, err := a.host.Departments(r.Context(), "")
		if err != nil {
			writeErr(w, err)
			return
		}
		type ward struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		items := make([]ward, 0, len(depts))
		for _, d := range depts {
			items = append(items, ward{d.ID, d.Name})
		}
		next := a.now().In(beijing).AddDate(0, 1, 1-a.now().In(beijing).Day()).Format("2006-01")
		writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_month": next})
	case r.Method == http.MethodPost && r.URL.Path == "/plans":
		var in struct {
			Ward  string `json:"ward"`
			Month string `json:"month"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.Ward) == "" {
			writeErr(w, &sdk.Error{Code: sdk.CodeInvalid, Field: "body", Message: `send {"ward": "病区名称或 id", "month": "2026-12"}`})
			return
		}
		res, err := a.plan(r.Context(), actor.UserID, strings.TrimSpace(in.Ward), strings.TrimSpace(in.Month))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, res)
	default:
		writeErr(w, sdk.Errorf(sdk.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	}
}
