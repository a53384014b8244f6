package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/roster"
)

// systemBots are the accounts Rounds itself speaks through in chat: the
// approvals assistant (审批助手) and the roster assistant (排班助手). Each
// organisation has its own, made on first use with an id derived from the
// organisation, so every node finds the same account without asking.
type systemBots struct {
	app  *App
	mu   sync.Mutex
	made map[string]bool
}

var botNamespace = uuid.MustParse("6f1d4c1e-7a52-4c55-9a77-526f756e6473")

type botKind struct{ key, name string }

var (
	approvalsBot = botKind{"approvals", "审批助手"}
	rosterBot    = botKind{"roster", "排班助手"}
)

// actor returns the bot of kind in orgID, creating it (and its role) once.
func (b *systemBots) actor(ctx context.Context, orgID string, k botKind) (core.Actor, error) {
	id := uuid.NewSHA1(botNamespace, []byte(orgID+"/"+k.key)).String()
	a := core.Actor{UserID: id, OrgID: orgID, Kind: core.ActorBot}
	b.mu.Lock()
	done := b.made[id]
	b.mu.Unlock()
	if done {
		return a, nil
	}
	login := "bot." + k.key + "." + strings.ReplaceAll(orgID, "-", "")[:12]
	_, err := b.app.core.identity.CreateUser(ctx, core.SystemActor, identity.NewUser{ID: id, OrgID: orgID, Login: login, DisplayName: k.name, Kind: identity.KindBot})
	if err != nil && !core.IsCode(err, core.EConflict) {
		return a, err
	}
	if err := b.app.grant(ctx, orgID, id, authz.RoleStaff); err != nil {
		return a, err
	}
	b.mu.Lock()
	if b.made == nil {
		b.made = map[string]bool{}
	}
	b.made[id] = true
	b.mu.Unlock()
	return a, nil
}

// tell sends each person a direct message from the bot. clientID makes the
// message idempotent: a notice sent again (a retry, a second node) posts once.
func (b *systemBots) tell(ctx context.Context, orgID string, k botKind, userIDs []string, clientID string, kind im.MessageKind, text func(userID string) string) error {
	bot, err := b.actor(ctx, orgID, k)
	if err != nil {
		return err
	}
	var errs []string
	for _, u := range userIDs {
		conv, err := b.app.areas.im.CreateDirect(ctx, bot, u)
		if err != nil {
			errs = append(errs, u+": "+err.Error())
			continue
		}
		if _, err := b.app.areas.im.Send(ctx, bot, im.SendRequest{ConversationID: conv.ID, ClientMsgID: clientID, Kind: kind, Text: text(u)}); err != nil {
			errs = append(errs, u+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bot %s could not tell %d people: %s", k.key, len(errs), strings.Join(errs, "; "))
	}
	return nil
}

// rosterNotices tells staff their shifts when a roster is published or
// amended.
type rosterNotices struct{ bots *systemBots }

var _ roster.Notifier = rosterNotices{}

func (n rosterNotices) RosterPublished(ctx context.Context, r roster.Roster, shifts map[string]roster.Shift, people []string, reason string) error {
	mine := map[string][]roster.Assignment{}
	for _, a := range r.Assignments {
		mine[a.UserID] = append(mine[a.UserID], a)
	}
	head := fmt.Sprintf("您 %s 至 %s 的排班已发布：", r.From, r.To)
	if reason != "" {
		head = fmt.Sprintf("您 %s 至 %s 的排班有调整（%s）：", r.From, r.To, reason)
	}
	clientID := fmt.Sprintf("roster:%s:v%d", r.ID, r.Version)
	return n.bots.tell(ctx, r.OrgID, rosterBot, people, clientID, im.KindText, func(u string) string {
		as := mine[u]
		sort.Slice(as, func(i, j int) bool { return as[i].Date < as[j].Date })
		var b strings.Builder
		b.WriteString(head)
		if len(as) == 0 {
			b.WriteString("\n本期没有您的班次。")
		}
		for _, a := range as {
			sh := shifts[a.ShiftID]
			if sh.Kind == roster.KindOff {
				fmt.Fprintf(&b, "\n%s %s", a.Date, sh.Name)
				continue
			}
			fmt.Fprintf(&b, "\n%s %s %s–%s", a.Date, sh.Name, roster.HHMM(sh.Start), roster.HHMM(sh.End%(24*60)))
		}
		return b.String()
	})
}

// approvalNotices posts approval cards: a task card to each new assignee and
// an update card to the submitter and CC'd people. The card names the
// request; the client shows the live card with the reader's own actions.
type approvalNotices struct{ bots *systemBots }

type approvalCard struct {
	Type      string `json:"type"`
	RequestID string `json:"request_id"`
	Reason    string `json:"reason"`
	Summary   string `json:"summary"`
}

var approvalReasons = map[string]string{
	"assigned": "有一条审批待你处理", "urge": "催办：有一条审批等你处理", "remind": "提醒：有一条审批等你处理",
	"cc": "抄送给你的审批", "approved": "你的审批已通过", "rejected": "你的审批被驳回", "withdrawn": "审批已撤回", "returned": "审批被退回",
}

func (n approvalNotices) Notify(ctx context.Context, x approvals.Notice) error {
	summary := approvalReasons[x.Reason]
	if summary == "" {
		summary = "审批有更新"
	}
	b, _ := json.Marshal(approvalCard{Type: "approval", RequestID: x.RequestID, Reason: x.Reason, Summary: summary})
	// The notice's id keys the message: posting the notice again (a sweep
	// after a crash, another node) finds the message already there. The
	// same person may rightly get a second task card of one request (after
	// a resubmission): that is another notice.
	clientID := "approval:" + x.ID // client ids are at most 64 characters
	return n.bots.tell(ctx, x.OrgID, approvalsBot, x.Recipients, clientID, im.KindCard, func(string) string { return string(b) })
}
