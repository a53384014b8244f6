package main

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
	pluginstore "github.com/roundshq/rounds/plugins/sqlstore"
)

// appRunner runs marketplace installs in the plugin host. The marketplace is
// the record of installs; the host's own install list mirrors it so the
// admin console's health view shows every running app.
type appRunner struct {
	app   *App
	host  *plugins.Host
	store *pluginstore.Store
}

var _ marketplace.Host = appRunner{}

func (r appRunner) Start(ctx context.Context, a marketplace.RunningApp) error {
	if err := r.ensureBot(ctx, a); err != nil {
		return err
	}
	inst := plugins.Install{ID: a.InstallID, OrgID: a.OrgID, AppID: a.AppID, BotUserID: a.BotUserID, Dir: a.Dir, Checksum: a.Checksum, Settings: a.Settings}
	for _, g := range a.Grants {
		inst.Grants = append(inst.Grants, plugins.Grant{Scope: g.Scope, Subtree: g.Subtree})
	}
	if err := r.host.Start(ctx, inst); err != nil {
		return err
	}
	return r.store.SaveInstall(ctx, inst, true)
}

// ensureBot makes the app's bot account (its id is the install's id) and
// lets it take part in chat like a member of staff; what it may actually do is
// limited by the scopes the admin granted. The bot is named after the app
// (the manifest's name, e.g. 智能排班), which is what people see in chat; a
// bot made before, or by an older version of the app, is renamed at start.
func (r appRunner) ensureBot(ctx context.Context, a marketplace.RunningApp) error {
	name := botName(a)
	ids := r.app.core.identity
	_, err := ids.CreateUser(ctx, core.SystemActor, identity.NewUser{ID: a.BotUserID, OrgID: a.OrgID, Login: botLogin(a.AppID, a.InstallID), DisplayName: name, Kind: identity.KindBot})
	if core.IsCode(err, core.EConflict) {
		// Started before: the account is there, and takes the app's current
		// name. Anything else in the way (a login taken by another account)
		// must not pass for it.
		if u, gerr := ids.GetUser(ctx, core.SystemActor, a.BotUserID); gerr != nil || u.OrgID != a.OrgID {
			return core.Errorf(core.EConflict, "the bot account of %s cannot be created: %s", a.AppID, core.ErrorMessage(err))
		}
		err = ids.RenameBot(ctx, core.SystemActor, a.BotUserID, name)
	}
	if err != nil {
		return err
	}
	return r.app.grant(ctx, a.OrgID, a.BotUserID, authz.RoleStaff)
}

// botName is the app's name as people should see it, or its id when the
// manifest's name would not do as a display name.
func botName(a marketplace.RunningApp) string {
	if n := strings.TrimSpace(a.AppName); n != "" && n == a.AppName && utf8.RuneCountInString(n) <= 100 {
		return n
	}
	return a.AppID
}

// botLogin is the login of an install's bot: "app.<app id>.<8 hex digits of
// the install id>". The digits are the id's random tail: its head is a
// timestamp (UUIDv7) that installs made within a minute of each other share,
// so two hospitals installing one app at once would ask for one login.
func botLogin(appID, installID string) string {
	login := "app." + strings.ToLower(strings.NewReplacer("_", "-", "/", "-").Replace(appID))
	if len(login) > 40 {
		login = login[:40]
	}
	hex := strings.ReplaceAll(installID, "-", "")
	return login + "." + hex[max(0, len(hex)-8):]
}

func (r appRunner) Stop(ctx context.Context, installID string) error {
	if err := r.host.Stop(installID); err != nil && !core.IsCode(err, core.ENotFound) {
		return err
	}
	if err := r.store.SetEnabled(ctx, installID, false); err != nil && !core.IsCode(err, core.ENotFound) {
		return err
	}
	return nil
}

func (r appRunner) Forget(ctx context.Context, installID string) error {
	if err := r.store.ForgetInstall(ctx, installID); err != nil && !core.IsCode(err, core.ENotFound) {
		return err
	}
	return nil
}

func (r appRunner) DeleteData(ctx context.Context, installID string) error {
	for {
		keys, err := r.store.Keys(ctx, installID, "", 500)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			if err := r.store.Delete(ctx, installID, k); err != nil {
				return err
			}
		}
	}
	if err := r.store.DeleteInstall(ctx, installID); err != nil && !core.IsCode(err, core.ENotFound) {
		return err
	}
	return nil
}

// appVisibility answers whether a person sits in (or below) departments an
// app is shown to.
type appVisibility struct{ org *orgchart.Service }

// IsDepartment: a department of the organisation (IsInSubtree of itself
// answers ENotFound for any other id).
func (v appVisibility) IsDepartment(ctx context.Context, orgID, deptID string) (bool, error) {
	ok, err := v.org.IsInSubtree(ctx, orgID, deptID, deptID)
	if core.IsCode(err, core.ENotFound) {
		return false, nil
	}
	return ok, err
}

func (v appVisibility) InDepartments(ctx context.Context, orgID, userID string, deptIDs []string) (bool, error) {
	_, mine, err := v.org.DepartmentsOf(ctx, orgID, userID)
	if err != nil {
		if core.IsCode(err, core.ENotFound) {
			return false, nil
		}
		return false, err
	}
	for _, d := range mine {
		for _, root := range deptIDs {
			if ok, err := v.org.IsInSubtree(ctx, orgID, root, d); err == nil && ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// appBots tells chat which accounts are the bots of an organisation's
// installed, enabled apps that speak in groups (granted im:send or im:read):
// the bots a group's owner may add. The marketplace's record of installs
// answers.
type appBots struct{ installs marketplace.Store }

var _ im.AppBots = appBots{}

func (b appBots) AppBots(ctx context.Context, orgID string) ([]im.AppBot, error) {
	ins, err := b.installs.Installs(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []im.AppBot{}
	for _, in := range ins {
		if in.Enabled && in.OrgID == orgID && speaksInGroups(in) {
			out = append(out, appBotOf(in))
		}
	}
	return out, nil
}

func (b appBots) AppBot(ctx context.Context, orgID, userID string) (im.AppBot, error) {
	in, err := b.installs.Install(ctx, userID) // a bot's id is its install's id
	if err != nil {
		return im.AppBot{}, err
	}
	if !in.Enabled || in.OrgID != orgID || !speaksInGroups(in) {
		return im.AppBot{}, core.Errorf(core.ENotFound, "no enabled app of this organisation that may post or read in groups has the bot %s", userID)
	}
	return appBotOf(in), nil
}

// speaksInGroups: a bot without im:send or im:read could do nothing in a
// group.
func speaksInGroups(in marketplace.Install) bool {
	for _, g := range in.Current.Grants {
		if g.Scope == sdk.ScopeIMSend || g.Scope == sdk.ScopeIMRead {
			return true
		}
	}
	return false
}

func appBotOf(in marketplace.Install) im.AppBot {
	return im.AppBot{UserID: in.ID, AppID: in.AppID, Name: botName(marketplace.RunningApp{AppID: in.AppID, AppName: in.Current.Manifest.Name})}
}
