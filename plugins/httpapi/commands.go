package httpapi

// Slash commands typed in chat ("/it 打印机卡纸") reach the app that
// declares them. The web client lists the commands the signed-in person may
// use (GET /api/v1/plugins/commands) and, when a draft starts with one of
// them, runs it (POST /api/v1/plugins/commands/run) instead of sending a
// message: the app answers the person alone. This route posts nothing to the
// conversation; an app that wants the others to see something posts through
// its own host-API grant (im:send), as its bot.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// CommandChat is what the command route needs of chat. CheckMember returns
// nil when the actor is a member of the conversation; chat decides
// (im.Service.Conversation), so a command is refused exactly where reading
// the conversation is: EForbidden for someone not in it, ENotFound for no
// such conversation, EInvalid for a malformed id.
type CommandChat interface {
	CheckMember(ctx context.Context, a core.Actor, conversationID string) error
}

// CommandApps is what the command route needs of the app center: the
// installs the actor may use (enabled, in their organisation and shown to
// them; marketplace.Service.MyApps, which also checks "apps.app" "open").
type CommandApps interface {
	VisibleInstalls(ctx context.Context, a core.Actor) ([]string, error)
}

// Reasons in the details of a refused command ("details": {"reason": …}),
// stable for clients beside the error code.
const (
	ReasonCommandUnknown   = "command_unknown"   // 404: no app the person may use offers it
	ReasonCommandAmbiguous = "command_ambiguous" // 409: two apps of the organisation offer it
	ReasonAppUnavailable   = "app_unavailable"   // 503: the app is not running (starting, restarting, disabled after crashes)
	ReasonAppTimeout       = "app_timeout"       // 504: the app did not answer within the hook deadline
	ReasonAppRefused       = "app_refused"       // the app answered with an error; code and message are the app's
)

// MaxCommandArgs is the longest text after a command, in characters.
const MaxCommandArgs = 4000

// commandName is the manifest's rule for command names (sdk.Manifest.Validate).
var commandName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// SlashCommand is a command the signed-in person may type in chat.
type SlashCommand struct {
	Command     string `json:"command"` // without the slash, e.g. "it"
	Description string `json:"description,omitempty"`
	AppID       string `json:"app_id"`
	AppName     string `json:"app_name"`
	InstallID   string `json:"install_id"`
}

// RunCommandRequest runs Command with Args in a conversation the actor is a
// member of.
type RunCommandRequest struct {
	ConversationID string `json:"conversation_id"`
	Command        string `json:"command"` // without the slash
	Args           string `json:"args,omitempty"`
}

// CommandReply is the app's answer, shown to the person who typed the
// command only.
type CommandReply struct {
	Command string `json:"command"`
	AppID   string `json:"app_id"`
	AppName string `json:"app_name"`
	Reply   string `json:"reply"`
}

// Commands lists and runs the slash commands of the apps installed in the
// actor's organisation. Chat decides membership and the app center
// visibility; Commands picks the install and calls its app through the
// host as the signed-in person.
type Commands struct {
	Host     *plugins.Host
	Installs plugins.Installs
	Chat     CommandChat
	Apps     CommandApps
	Audit    audit.Recorder // may be nil
	Logger   *slog.Logger   // may be nil
}

// offer is one install's command with where it comes from.
type offer struct {
	SlashCommand
	rec plugins.InstallRecord
}

// offers returns the commands declared by the given installs of orgID, read
// from the installed bundles' manifests (the ones the host runs).
func (c Commands) offers(ctx context.Context, orgID string, installIDs []string) ([]offer, error) {
	var out []offer
	for _, id := range installIDs {
		rec, err := c.Installs.GetInstall(ctx, id)
		if core.IsCode(err, core.ENotFound) {
			continue // installed but never run on this server: nothing to offer
		}
		if err != nil {
			return nil, err
		}
		if rec.OrgID != orgID {
			continue
		}
		b, err := plugins.LoadBundle(rec.Dir)
		if err != nil {
			c.log().Warn("app bundle unreadable; its commands are not offered", "app_id", rec.AppID, "install_id", rec.ID, "err", err)
			continue
		}
		if !b.Manifest.Implements(sdk.HookCommands) {
			continue
		}
		for _, sc := range b.Manifest.SlashCommands {
			out = append(out, offer{SlashCommand: SlashCommand{Command: sc.Name, Description: sc.Description, AppID: rec.AppID,
				AppName: b.Manifest.Name, InstallID: rec.ID}, rec: rec})
		}
	}
	return out, nil
}

func (c Commands) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Available lists the commands of the enabled installs the actor may use,
// by command name.
func (c Commands) Available(ctx context.Context, a core.Actor) ([]SlashCommand, error) {
	ids, err := c.Apps.VisibleInstalls(ctx, a)
	if err != nil {
		return nil, err
	}
	offers, err := c.offers(ctx, a.OrgID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SlashCommand, 0, len(offers))
	for _, o := range offers {
		out = append(out, o.SlashCommand)
	}
	slices.SortStableFunc(out, func(x, y SlashCommand) int {
		if d := strings.Compare(x.Command, y.Command); d != 0 {
			return d
		}
		return strings.Compare(x.AppName, y.AppName)
	})
	return out, nil
}

func unknownCommand(name string) error {
	return core.Errorf(core.ENotFound, "no app offers the command /%s", name).With("reason", ReasonCommandUnknown)
}

// validate checks the request's shape; it names the first bad field.
func (req *RunCommandRequest) validate() error {
	req.Command = strings.TrimSpace(req.Command)
	if req.Command == "" {
		return core.Invalid("command", "name the command, e.g. \"it\"")
	}
	if strings.HasPrefix(req.Command, "/") {
		return core.Invalid("command", "give the command without its slash, e.g. \"it\" for /it")
	}
	if !commandName.MatchString(req.Command) {
		return core.Invalid("command", "%q is not a command name (lower-case letters, digits, '-' and '_')", req.Command)
	}
	if !core.ValidID(req.ConversationID) {
		return core.Invalid("conversation_id", "conversation_id is not a valid id")
	}
	if !utf8.ValidString(req.Args) {
		return core.Invalid("args", "args is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(req.Args); n > MaxCommandArgs {
		return core.Invalid("args", "the text after the command is %d characters; at most %d", n, MaxCommandArgs)
	}
	req.Args = strings.TrimSpace(req.Args)
	return nil
}

// Run runs a command in a conversation as the actor and returns the app's
// reply. Refusals change nothing: a bad request (EInvalid), a conversation
// the actor is not in (chat's EForbidden / ENotFound), a command no app they
// may use offers (ENotFound, reason command_unknown), one that two apps of
// the organisation offer (EConflict, command_ambiguous), an app that is not
// running (EUnavailable, app_unavailable) or does not answer in time
// (ETimeout, app_timeout: the host restarts it). An app's own refusal
// keeps its code and message (reason app_refused).
func (c Commands) Run(ctx context.Context, a core.Actor, req RunCommandRequest) (CommandReply, error) {
	if err := req.validate(); err != nil {
		return CommandReply{}, err
	}
	if err := c.Chat.CheckMember(ctx, a, req.ConversationID); err != nil {
		return CommandReply{}, err
	}
	ids, err := c.Apps.VisibleInstalls(ctx, a)
	if err != nil {
		return CommandReply{}, err
	}
	// Which installs the host would hand the command to: every one of the
	// organisation it runs, visible to the person or not.
	var running []string
	states := map[string]plugins.Status{}
	for _, st := range c.Host.Statuses(a.OrgID) {
		running = append(running, st.InstallID)
		states[st.InstallID] = st
	}
	all, err := c.offers(ctx, a.OrgID, running)
	if err != nil {
		return CommandReply{}, err
	}
	var hits []offer
	for _, o := range all {
		if o.Command == req.Command {
			hits = append(hits, o)
		}
	}
	if len(hits) > 1 {
		// The host cannot be told which one; never run an app the person
		// did not mean (or may not see).
		names := make([]string, 0, len(hits))
		for _, h := range hits {
			names = append(names, h.AppName)
		}
		return CommandReply{}, core.Errorf(core.EConflict, "the apps %s all offer /%s; ask the administrator to keep one", strings.Join(names, ", "), req.Command).
			With("reason", ReasonCommandAmbiguous)
	}
	if len(hits) == 0 {
		// Not running here: offered by an app the person may use (starting,
		// or failed to start on this server) or by none.
		visible, err := c.offers(ctx, a.OrgID, ids)
		if err != nil {
			return CommandReply{}, err
		}
		for _, o := range visible {
			if o.Command == req.Command {
				return CommandReply{}, appUnavailable(o.SlashCommand)
			}
		}
		return CommandReply{}, unknownCommand(req.Command)
	}
	o := hits[0]
	if !slices.Contains(ids, o.InstallID) {
		return CommandReply{}, unknownCommand(req.Command) // as if it were not installed
	}
	out := CommandReply{Command: o.Command, AppID: o.AppID, AppName: o.AppName}
	if st := states[o.InstallID]; st.State != plugins.StateRunning {
		return out, appUnavailable(o.SlashCommand)
	}
	reply, err := c.Host.Command(ctx, a, req.Command, req.Args, req.ConversationID)
	c.record(ctx, a, o, req, err)
	if err != nil {
		return out, appError(o.SlashCommand, err)
	}
	out.Reply = reply
	return out, nil
}

func appUnavailable(o SlashCommand) error {
	return core.Errorf(core.EUnavailable, "the app %s is not running; try again shortly", o.AppName).
		With("reason", ReasonAppUnavailable).With("app_id", o.AppID)
}

// appError says why a call to the app failed: the host's deadline (it says
// the app "did not answer in time" and restarts it), the app not running,
// or the app's own refusal.
func appError(o SlashCommand, err error) error {
	var e *core.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Code == core.ENotFound && strings.HasPrefix(e.Message, "no app offers"):
		return unknownCommand(o.Command) // stopped meanwhile
	case e.Code == core.ETimeout:
		return core.Errorf(core.ETimeout, "the app %s did not answer in time", o.AppName).
			With("reason", ReasonAppTimeout).With("app_id", o.AppID)
	case e.Code == core.EUnavailable:
		return appUnavailable(o)
	case e.Code == core.EInternal:
		return err
	}
	return e.With("reason", ReasonAppRefused).With("app_id", o.AppID)
}

// record audits a command that reached an app: who ran which command of
// which install, where, and whether the app answered. The text typed is not
// kept (it may name patients).
func (c Commands) record(ctx context.Context, a core.Actor, o offer, req RunCommandRequest, err error) {
	if c.Audit == nil {
		return
	}
	result := audit.ResultOK
	details := map[string]any{"command": o.Command, "app_id": o.AppID, "conversation_id": req.ConversationID}
	if err != nil {
		result = audit.ResultFailed
		details["error"] = string(core.ErrorCode(err))
	}
	e := audit.Entry{OrgID: a.OrgID, ActorID: a.UserID, ActorKind: string(a.Kind), IP: a.IP, Action: "plugins.command",
		ObjectType: "app_install", ObjectID: o.InstallID, Result: result, Details: details}
	if err := c.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		c.log().Warn("audit of a slash command failed", "app_id", o.AppID, "install_id", o.InstallID, "err", err)
	}
}

// Register adds the two routes.
func (c Commands) Register(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/plugins/commands", Summary: "Slash commands I may type in chat, from the apps shown to me",
		Tag: "plugins", Access: httpapi.Authenticated, Response: httpapi.List[SlashCommand]{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			list, err := c.Available(r.Context(), httpapi.Actor(r))
			if err != nil {
				return err
			}
			httpapi.WriteJSON(w, http.StatusOK, httpapi.List[SlashCommand]{Items: list})
			return nil
		}})
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/plugins/commands/run",
		Summary: "Run a slash command in a conversation I am in; the app's reply is for me alone (404 command_unknown, 503 app_unavailable, 504 app_timeout)",
		Tag:     "plugins", Access: httpapi.Authenticated, Request: RunCommandRequest{}, Response: CommandReply{},
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			var req RunCommandRequest
			if err := httpapi.Decode(r, &req); err != nil {
				return err
			}
			out, err := c.Run(r.Context(), httpapi.Actor(r), req)
			if err != nil {
				return err
			}
			httpapi.WriteJSON(w, http.StatusOK, out)
			return nil
		}})
}
