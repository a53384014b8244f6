package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/identity"
)

func cmdAdmin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return usageError{"admin needs a command: create-user"}
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	path := configFlag(fs)
	login := fs.String("login", "", "sign-in name (required)")
	name := fs.String("name", "", "display name (required)")
	org := fs.String("org", "", "organisation id; empty for a system administrator")
	password := fs.String("password", os.Getenv("ROUNDS_NEW_PASSWORD"), "password (or ROUNDS_NEW_PASSWORD)")
	role := fs.String("role", "", "role to grant: system_admin, org_admin, dept_head, staff or guest (default: system_admin without -org, staff with it)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *login == "" || *name == "" || *password == "" {
		return usageError{"create-user needs -login, -name and -password (or ROUNDS_NEW_PASSWORD)"}
	}
	if *role == "" {
		*role = authz.RoleStaff
		if *org == "" {
			*role = authz.RoleSystemAdmin
		}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	app, err := Build(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.CreateAccount(ctx, *org, *login, *name, *password, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s) id %s with role %s\n", u.Login, u.DisplayName, u.ID, *role)
	return nil
}

// CreateAccount creates a sign-in account with a password and grants it a
// role, as the system. A system administrator has no organisation and holds
// the role in every organisation.
func (a *App) CreateAccount(ctx context.Context, orgID, login, name, password, role string) (identity.User, error) {
	u, err := a.core.identity.CreateUser(ctx, core.SystemActor, identity.NewUser{OrgID: orgID, Login: login, DisplayName: name, Password: password, Kind: identity.KindHuman})
	if err != nil {
		return identity.User{}, err
	}
	domain := orgID
	if role == authz.RoleSystemAdmin {
		domain = authz.AllOrgs
	}
	if err := a.core.authz.AssignRole(ctx, core.SystemActor, domain, u.ID, role); err != nil {
		return identity.User{}, err
	}
	return u, nil
}

func cmdReindex(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	app, err := Build(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer app.Close()
	n, err := app.areas.im.Reindex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed %d messages\n", n)
	return nil
}
