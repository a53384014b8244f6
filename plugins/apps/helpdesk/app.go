package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/roundshq/rounds/plugins/sdk"
)

// beijing is the hospital's clock; a fixed zone needs no tzdata.
var beijing = time.FixedZone("CST", 8*3600)

// maxDescription is the longest ticket description, in characters.
const maxDescription = 2000

// Ticket statuses, in the order a ticket normally moves through them.
const (
	StatusNew        = "new"
	StatusAssigned   = "assigned"
	StatusInProgress = "in_progress"
	StatusResolved   = "resolved"
	StatusClosed     = "closed"
)

// next lists the statuses a ticket may move to by a status change ("assigned"
// is reached through assignment). A resolved ticket may be reopened.
var next = map[string][]string{
	StatusNew:        {},
	StatusAssigned:   {StatusInProgress, StatusResolved},
	StatusInProgress: {StatusResolved},
	StatusResolved:   {StatusClosed, StatusInProgress},
	StatusClosed:     {},
}

var statusZH = map[string]string{StatusNew: "待分派", StatusAssigned: "已分派", StatusInProgress: "处理中",
	StatusResolved: "已解决", StatusClosed: "已关闭"}

var defaultCategories = []string{"电脑", "打印机", "网络", "HIS/系统账号", "其他"}

// SLA is a category's response and resolution time.
type SLA struct {
	Response   time.Duration `json:"response"`
	Resolution time.Duration `json:"resolution"`
}

// Ticket is one helpdesk ticket.
type Ticket struct {
	ID             int       `json:"id"`
	Category       string    `json:"category"`
	Description    string    `json:"description"`
	RequesterID    string    `json:"requester_id"`
	ConversationID string    `json:"conversation_id,omitempty"` // where it was filed (/it in chat); updates go to the requester directly
	AssigneeID     string    `json:"assignee_id,omitempty"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
	RespondBy      time.Time `json:"respond_by"`
	ResolveBy      time.Time `json:"resolve_by"`
	RespondedAt    time.Time `json:"responded_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	Rating         int       `json:"rating,omitempty"`
	RatingComment  string    `json:"rating_comment,omitempty"`
	// Reminders already sent, so each breach is reported once.
	ResponseReminded   bool `json:"response_reminded,omitempty"`
	ResolutionReminded bool `json:"resolution_reminded,omitempty"`
}

// Storage layout (the install's own KV):
//
//	seq             last ticket number
//	rr              round-robin position
//	t/<id9>         the ticket (JSON); id zero-padded so keys sort
//	open/<id9>      index of tickets not yet closed (the SLA job scans it)
//	by/<user>/<id9> index of a requester's tickets
type helpdesk struct {
	host sdk.Host
	inst sdk.Install
	now  func() time.Time
	log  hclog.Logger
	mu   sync.Mutex // serialises read-modify-write of tickets and counters

	engineers  []string
	categories []string
	sla        map[string]SLA
	autoClose  time.Duration // a resolved ticket nobody rates closes after this
}

// newApp returns the app. Its log speaks hclog's JSON on the process's own
// stderr, the logger go-plugin (under sdk.Serve) speaks too: the host reads
// each line at its level into the server's log, tagged with the app and the
// install. It must be made before sdk.Serve redirects os.Stderr.
func newApp() *helpdesk {
	return &helpdesk{now: time.Now, log: hclog.New(&hclog.LoggerOptions{Name: "helpdesk", Output: os.Stderr, JSONFormat: true, Level: hclog.Info})}
}

func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *helpdesk) Activate(_ context.Context, host sdk.Host, inst sdk.Install) error {
	a.host, a.inst = host, inst
	set := inst.Settings
	a.engineers = splitList(set["engineers"], ",")
	if len(a.engineers) == 0 {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "settings.engineers", Message: "list the IT engineers' user ids"}
	}
	a.categories = splitList(set["categories"], ",")
	if len(a.categories) == 0 {
		a.categories = defaultCategories
	}
	def := SLA{Response: 30 * time.Minute, Resolution: 8 * time.Hour}
	if n, err := strconv.Atoi(set["response_minutes"]); err == nil && n > 0 {
		def.Response = time.Duration(n) * time.Minute
	}
	if n, err := strconv.Atoi(set["resolution_hours"]); err == nil && n > 0 {
		def.Resolution = time.Duration(n) * time.Hour
	}
	a.sla = map[string]SLA{}
	for _, c := range a.categories {
		a.sla[c] = def
	}
	for _, item := range splitList(set["sla"], ";") {
		cat, times, ok := strings.Cut(item, "=")
		resp, resol, ok2 := strings.Cut(times, "/")
		cat = strings.TrimSpace(cat)
		r1, err1 := time.ParseDuration(strings.TrimSpace(resp))
		r2, err2 := time.ParseDuration(strings.TrimSpace(resol))
		if _, known := a.sla[cat]; !ok || !ok2 || !known || err1 != nil || err2 != nil || r1 <= 0 || r2 < r1 {
			return &sdk.Error{Code: sdk.CodeInvalid, Field: "settings.sla",
				Message: fmt.Sprintf("bad SLA %q: write 类别=响应/解决 such as 网络=15m/2h, for a known category", item)}
		}
		a.sla[cat] = SLA{Response: r1, Resolution: r2}
	}
	a.autoClose = 72 * time.Hour
	if n, err := strconv.Atoi(set["auto_close_hours"]); err == nil && n > 0 {
		a.autoClose = time.Duration(n) * time.Hour
	}
	if m := set["assignment"]; m != "" && m != "round_robin" && m != "manual" {
		return &sdk.Error{Code: sdk.CodeInvalid, Field: "settings.assignment", Message: "assignment is round_robin or manual"}
	}
	return nil
}

func key(id int) string { return fmt.Sprintf("%09d", id) }

func (a *helpdesk) isEngineer(u string) bool {
	for _, e := range a.engineers {
		if e == u {
			return true
		}
	}
	return false
}

func (a *helpdesk) isStaff(u string) bool {
	return a.isEngineer(u) || (u != "" && u == a.inst.Settings["it_head"])
}

func (a *helpdesk) load(ctx context.Context, id int) (Ticket, error) {
	v, ok, err := a.host.KVGet(ctx, "t/"+key(id))
	if err != nil {
		return Ticket{}, err
	}
	var t Ticket
	if !ok || json.Unmarshal(v, &t) != nil {
		return Ticket{}, sdk.Errorf(sdk.CodeNotFound, "no ticket #%d", id)
	}
	return t, nil
}

func (a *helpdesk) save(ctx context.Context, t Ticket) error {
	b, _ := json.Marshal(t)
	if err := a.host.KVSet(ctx, "t/"+key(t.ID), b); err != nil {
		return err
	}
	if t.Status == StatusClosed {
		return a.host.KVDelete(ctx, "open/"+key(t.ID))
	}
	return a.host.KVSet(ctx, "open/"+key(t.ID), []byte("1"))
}

func (a *helpdesk) counter(ctx context.Context, k string) (int, error) {
	v, _, err := a.host.KVGet(ctx, k)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(string(v))
	return n, nil
}

// Chat is best effort: a ticket change is not undone because a message
// cannot go (the bot was taken out of the IT group, the admin did not grant
// im:direct, the person left), but each failure is logged, so the hospital's
// admin finds it in the server's log under the app's name.

// tell sends one person a direct message from the app's bot.
func (a *helpdesk) tell(ctx context.Context, userID string, t Ticket, text string) {
	if userID == "" {
		return
	}
	if _, err := a.host.SendDirectMessage(ctx, userID, text); err != nil {
		a.log.Warn("cannot send a direct message", "ticket", t.ID, "to", userID, "code", string(sdk.ErrorCode(err)), "err", err.Error())
	}
}

// tellRequester tells the requester the ticket's new status, with note
// after it (what happened, what to do next).
func (a *helpdesk) tellRequester(ctx context.Context, t Ticket, note string) {
	a.tell(ctx, t.RequesterID, t, fmt.Sprintf("报修 #%d 状态: %s%s — 【%s】%s", t.ID, statusZH[t.Status], note, t.Category, short(t.Description, 60)))
}

// tellAssignee tells the engineer a ticket is theirs.
func (a *helpdesk) tellAssignee(ctx context.Context, t Ticket) {
	a.tell(ctx, t.AssigneeID, t, fmt.Sprintf("新派单: 报修 #%d【%s】%s — 应于 %s 前响应、%s 前解决，请在「IT 报修」的工单台接单", t.ID, t.Category,
		short(t.Description, 200), t.RespondBy.In(beijing).Format("15:04"), t.ResolveBy.In(beijing).Format("01-02 15:04")))
}

// post sends text to the IT group (setting it_conversation), where the
// group's owner has added the app's bot. Without the setting nothing goes.
func (a *helpdesk) post(ctx context.Context, t Ticket, text string) {
	conv := a.inst.Settings["it_conversation"]
	if conv == "" {
		return
	}
	if _, err := a.host.SendMessage(ctx, conv, text); err != nil {
		a.log.Warn("cannot post to the IT group", "ticket", t.ID, "conversation", conv, "code", string(sdk.ErrorCode(err)), "err", err.Error())
	}
}

// short cuts s to n characters.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func mention(u string) string { return "@" + u }

// assignedNote says when the engineer will respond.
func assignedNote(t Ticket) string {
	return "，工程师将于 " + t.RespondBy.In(beijing).Format("15:04") + " 前响应"
}

// open creates a ticket and, unless assignment is manual, assigns it round
// robin.
func (a *helpdesk) open(ctx context.Context, requester, category, desc, conv string) (Ticket, error) {
	desc = strings.TrimSpace(desc)
	if requester == "" {
		return Ticket{}, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if desc == "" {
		return Ticket{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "description", Message: "describe the problem first"}
	}
	if utf8.RuneCountInString(desc) > maxDescription {
		return Ticket{}, &sdk.Error{Code: sdk.CodeTooLarge, Field: "description", Message: "a description is at most 2000 characters"}
	}
	if category == "" {
		category = a.categories[len(a.categories)-1]
	}
	sla, ok := a.sla[category]
	if !ok {
		return Ticket{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "category",
			Message: "unknown category " + category + "; one of " + strings.Join(a.categories, ", ")}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n, err := a.counter(ctx, "seq")
	if err != nil {
		return Ticket{}, err
	}
	now := a.now().UTC()
	t := Ticket{ID: n + 1, Category: category, Description: desc, RequesterID: requester, ConversationID: conv,
		Status: StatusNew, CreatedAt: now, RespondBy: now.Add(sla.Response), ResolveBy: now.Add(sla.Resolution)}
	if err := a.host.KVSet(ctx, "seq", []byte(strconv.Itoa(t.ID))); err != nil {
		return Ticket{}, err
	}
	if a.inst.Settings["assignment"] != "manual" {
		if t.AssigneeID, err = a.roundRobin(ctx); err != nil {
			return Ticket{}, err
		}
		t.Status = StatusAssigned
	}
	if err := a.save(ctx, t); err != nil {
		return Ticket{}, err
	}
	if err := a.host.KVSet(ctx, "by/"+requester+"/"+key(t.ID), []byte("1")); err != nil {
		return Ticket{}, err
	}
	text := fmt.Sprintf("新报修 #%d [%s] %s (报修人 %s)", t.ID, t.Category, t.Description, mention(requester))
	if t.AssigneeID != "" {
		text += ", 已分派给 " + mention(t.AssigneeID)
	}
	a.post(ctx, t, text)
	if t.AssigneeID != "" {
		a.tellRequester(ctx, t, assignedNote(t))
		a.tellAssignee(ctx, t)
	}
	return t, nil
}

// roundRobin returns the next engineer; a.mu is held.
func (a *helpdesk) roundRobin(ctx context.Context) (string, error) {
	n, err := a.counter(ctx, "rr")
	if err != nil {
		return "", err
	}
	e := a.engineers[n%len(a.engineers)]
	return e, a.host.KVSet(ctx, "rr", []byte(strconv.Itoa((n+1)%len(a.engineers))))
}

// assign gives a ticket to assignee ("" for the next engineer in turn). Only
// IT staff assign.
func (a *helpdesk) assign(ctx context.Context, actor string, id int, assignee string) (Ticket, error) {
	if !a.isStaff(actor) {
		return Ticket{}, sdk.Errorf(sdk.CodeForbidden, "only IT engineers assign tickets")
	}
	if assignee != "" && !a.isEngineer(assignee) {
		return Ticket{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "assignee", Message: assignee + " is not one of the configured engineers"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.load(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if t.Status == StatusResolved || t.Status == StatusClosed {
		return Ticket{}, sdk.Errorf(sdk.CodeConflict, "ticket #%d is %s; reopen it before assigning", id, t.Status)
	}
	if assignee == "" {
		if assignee, err = a.roundRobin(ctx); err != nil {
			return Ticket{}, err
		}
	}
	t.AssigneeID = assignee
	if t.Status == StatusNew {
		t.Status = StatusAssigned
	}
	if err := a.save(ctx, t); err != nil {
		return Ticket{}, err
	}
	a.tellRequester(ctx, t, assignedNote(t))
	a.tellAssignee(ctx, t)
	return t, nil
}

// setStatus moves a ticket along the flow. The assignee (or any IT staff)
// moves it forward; the requester may close a resolved ticket or reopen it.
func (a *helpdesk) setStatus(ctx context.Context, actor string, id int, status string) (Ticket, error) {
	if _, ok := next[status]; !ok {
		return Ticket{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "status", Message: "unknown status " + strconv.Quote(status)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.load(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	requester := actor == t.RequesterID && t.Status == StatusResolved
	if !a.isStaff(actor) && !requester {
		return Ticket{}, sdk.Errorf(sdk.CodeForbidden, "only IT engineers change the status of ticket #%d", id)
	}
	allowed := false
	for _, s := range next[t.Status] {
		allowed = allowed || s == status
	}
	if !allowed {
		return Ticket{}, &sdk.Error{Code: sdk.CodeConflict, Field: "status",
			Message: fmt.Sprintf("ticket #%d cannot go from %s to %s", id, t.Status, status)}
	}
	now := a.now().UTC()
	if t.RespondedAt.IsZero() {
		t.RespondedAt = now
	}
	from := t.Status
	switch status {
	case StatusResolved:
		t.ResolvedAt = now
	case StatusClosed:
		t.ClosedAt = now
	case StatusInProgress:
		t.ResolvedAt = time.Time{}
	}
	t.Status = status
	if err := a.save(ctx, t); err != nil {
		return Ticket{}, err
	}
	note := ""
	switch {
	case status == StatusResolved:
		note = "，请评价 (1–5 分)"
	case status == StatusInProgress && from == StatusResolved:
		note = "（已重新打开）"
	case status == StatusInProgress:
		note = "，工程师已接单"
	}
	a.tellRequester(ctx, t, note)
	return t, nil
}

// rate records the requester's satisfaction with a resolved ticket, once,
// and closes it.
func (a *helpdesk) rate(ctx context.Context, actor string, id, score int, comment string) (Ticket, error) {
	if score < 1 || score > 5 {
		return Ticket{}, &sdk.Error{Code: sdk.CodeInvalid, Field: "score", Message: "a rating is 1 to 5"}
	}
	if utf8.RuneCountInString(comment) > 500 {
		return Ticket{}, &sdk.Error{Code: sdk.CodeTooLarge, Field: "comment", Message: "a comment is at most 500 characters"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t, err := a.load(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if actor != t.RequesterID {
		return Ticket{}, sdk.Errorf(sdk.CodeForbidden, "only the requester rates ticket #%d", id)
	}
	if t.Rating != 0 {
		return Ticket{}, sdk.Errorf(sdk.CodeConflict, "ticket #%d is already rated", id)
	}
	if t.Status != StatusResolved && t.Status != StatusClosed {
		return Ticket{}, sdk.Errorf(sdk.CodeConflict, "ticket #%d is %s; rate it once it is resolved", id, t.Status)
	}
	t.Rating, t.RatingComment = score, strings.TrimSpace(comment)
	closed := t.Status == StatusResolved
	if closed {
		t.Status, t.ClosedAt = StatusClosed, a.now().UTC()
	}
	if err := a.save(ctx, t); err != nil {
		return Ticket{}, err
	}
	if closed {
		a.tellRequester(ctx, t, fmt.Sprintf("，感谢您的评价 (%d 分)", score))
	}
	if t.AssigneeID != "" {
		a.post(ctx, t, fmt.Sprintf("%s 报修 #%d 评价 %d 分 %s", mention(t.AssigneeID), t.ID, score, t.RatingComment))
	}
	return t, nil
}

func parseID(s string) (int, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, &sdk.Error{Code: sdk.CodeInvalid, Field: "id", Message: "a ticket number such as 12"}
	}
	return n, nil
}

func describe(t Ticket) string {
	s := fmt.Sprintf("#%d [%s] %s — %s", t.ID, t.Category, t.Description, statusZH[t.Status])
	if t.AssigneeID != "" {
		s += ", 工程师 " + mention(t.AssigneeID)
	}
	if t.Status != StatusResolved && t.Status != StatusClosed {
		s += ", 应于 " + t.ResolveBy.In(beijing).Format("01-02 15:04") + " 前解决"
	}
	if t.Rating != 0 {
		s += fmt.Sprintf(", 评价 %d 分", t.Rating)
	}
	return s
}

const usage = "用法: /it [电脑|打印机|网络|HIS/系统账号|其他] 问题描述 ; /it status 编号"

// OnCommand handles "/it [类别] <描述>" and "/it status <编号>".
func (a *helpdesk) OnCommand(ctx context.Context, c sdk.Command) (string, error) {
	if c.Command != "it" {
		return "", sdk.Errorf(sdk.CodeNotFound, "unknown command /%s", c.Command)
	}
	args := strings.TrimSpace(c.Args)
	if args == "" {
		return usage, nil
	}
	first, rest, _ := strings.Cut(args, " ")
	if first == "status" || first == "状态" {
		id, err := parseID(rest)
		if err != nil {
			return "", err
		}
		t, err := a.load(ctx, id)
		if err != nil {
			return "", err
		}
		if t.RequesterID != c.Actor.UserID && !a.isStaff(c.Actor.UserID) {
			return "", sdk.Errorf(sdk.CodeForbidden, "ticket #%d is someone else's", id)
		}
		return describe(t), nil
	}
	category := a.guessCategory(args)
	if _, ok := a.sla[first]; ok {
		category = first
		if strings.TrimSpace(rest) != "" {
			args = rest
		}
	}
	t, err := a.open(ctx, c.Actor.UserID, category, args, c.ConversationID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("已受理报修 #%d [%s], 工程师 %s, 响应时限 %s, 解决时限 %s。查询: /it status %d", t.ID, t.Category,
		orDash(t.AssigneeID), t.RespondBy.In(beijing).Format("15:04"), t.ResolveBy.In(beijing).Format("01-02 15:04"), t.ID), nil
}

// guessCategory picks the first category (but the last, the catch-all) named
// in the text, e.g. "3楼护士站打印机卡纸" → 打印机; "HIS/系统账号" matches
// "HIS" or "系统账号" or "账号".
func (a *helpdesk) guessCategory(text string) string {
	upper := strings.ToUpper(text)
	for _, c := range a.categories[:len(a.categories)-1] {
		for _, word := range strings.Split(c, "/") {
			word = strings.ToUpper(strings.TrimSpace(word))
			if word != "" && (strings.Contains(upper, word) || (strings.HasSuffix(word, "账号") && strings.Contains(upper, "账号"))) {
				return c
			}
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "待分派"
	}
	return mention(s)
}

// OnJob ("sla") finds open tickets past their response or resolution
// deadline and reminds the assignee in the IT group, once per breach; a
// missed resolution is also escalated to the IT head.
func (a *helpdesk) OnJob(ctx context.Context, j sdk.Job) error {
	if j.Name != "sla" {
		return nil
	}
	keys, err := a.host.KVKeys(ctx, "open/", 5000)
	if err != nil {
		return err
	}
	now := j.At
	if now.IsZero() {
		now = a.now()
	}
	conv := a.inst.Settings["it_conversation"]
	head := a.inst.Settings["it_head"]
	for _, k := range keys {
		id, _ := strconv.Atoi(strings.TrimPrefix(k, "open/"))
		if err := ctx.Err(); err != nil {
			return err // the rest waits for the next run
		}
		a.mu.Lock()
		t, err := a.load(ctx, id)
		if err != nil {
			a.mu.Unlock()
			continue
		}
		if t.Status == StatusResolved && now.After(t.ResolvedAt.Add(a.autoClose)) {
			// Resolved and neither rated nor reopened: close it so the
			// open index stays small (200+ tickets a day).
			t.Status, t.ClosedAt = StatusClosed, now.UTC()
			err := a.save(ctx, t)
			a.mu.Unlock()
			if err != nil {
				return err
			}
			a.tellRequester(ctx, t, fmt.Sprintf("（已解决 %d 小时未评价，自动关闭）", int(a.autoClose.Hours())))
			continue
		}
		var texts []string
		who := orDash(t.AssigneeID)
		if t.RespondedAt.IsZero() && !t.ResponseReminded && now.After(t.RespondBy) {
			t.ResponseReminded = true
			texts = append(texts, fmt.Sprintf("%s 报修 #%d [%s] 已超过响应时限 (%s), 请尽快处理: %s", who, t.ID, t.Category,
				t.RespondBy.In(beijing).Format("15:04"), t.Description))
		}
		if t.ResolvedAt.IsZero() && t.Status != StatusClosed && !t.ResolutionReminded && now.After(t.ResolveBy) {
			t.ResolutionReminded = true
			text := fmt.Sprintf("%s 报修 #%d [%s] 已超过解决时限 (%s), 当前 %s: %s", who, t.ID, t.Category,
				t.ResolveBy.In(beijing).Format("01-02 15:04"), statusZH[t.Status], t.Description)
			if head != "" {
				text += " — 已升级至 " + mention(head)
			}
			texts = append(texts, text)
		}
		if len(texts) == 0 {
			a.mu.Unlock()
			continue
		}
		if conv == "" {
			a.mu.Unlock()
			return &sdk.Error{Code: sdk.CodeInvalid, Field: "settings.it_conversation", Message: "set the IT group conversation for SLA reminders"}
		}
		for _, text := range texts {
			if _, err := a.host.SendMessage(ctx, conv, text); err != nil {
				a.mu.Unlock()
				a.log.Warn("cannot post an SLA reminder to the IT group; trying again next run", "ticket", t.ID, "conversation", conv,
					"code", string(sdk.ErrorCode(err)), "err", err.Error())
				return err // not marked: tried again next run
			}
		}
		err = a.save(ctx, t)
		a.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
