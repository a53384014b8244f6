package main

import (
	"context"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/plugins"
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
// limited by the scopes the admin granted.
func (r appRunner) ensureBot(ctx context.Context, a marketplace.RunningApp) error {
	_, err := r.app.core.identity.CreateUser(ctx, core.SystemActor, identity.NewUser{ID: a.BotUserID, OrgID: a.OrgID, Login: botLogin(a.AppID, a.InstallID), DisplayName: a.AppID, Kind: identity.KindBot})
	if core.IsCode(err, core.EConflict) {
		// Started before: the account is there. Anything else in the way
		// (a login taken by another account) must not pass for it.
		if u, gerr := r.app.core.identity.GetUser(ctx, core.SystemActor, a.BotUserID); gerr != nil || u.OrgID != a.OrgID {
			return core.Errorf(core.EConflict, "the bot account of %s cannot be created: %s", a.AppID, core.ErrorMessage(err))
		}
	} else if err != nil {
		return err
	}
	return r.app.grant(ctx, a.OrgID, a.BotUserID, authz.RoleStaff)
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
