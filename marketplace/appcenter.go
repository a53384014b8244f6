package marketplace

import (
	"context"
	"slices"
	"strings"

	"github.com/roundshq/rounds/core"
)

// MyApps is the actor's app center: the enabled installs of their
// organisation they may see, by name. Needs "apps.app" "open".
func (s *Service) MyApps(ctx context.Context, a core.Actor) ([]AppEntry, error) {
	if err := s.cfg.Authz.Authorize(ctx, a, a.OrgID, ObjectAppUse, ActionOpen); err != nil {
		return nil, err
	}
	ins, err := s.cfg.Store.Installs(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	out := []AppEntry{}
	for _, in := range ins {
		ok, err := s.visible(ctx, a, in)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, entryOf(in))
		}
	}
	slices.SortFunc(out, func(x, y AppEntry) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// OpenApp returns one app of the actor's app center; an app they may not
// see is ENotFound, as if it were not installed.
func (s *Service) OpenApp(ctx context.Context, a core.Actor, installID string) (AppEntry, error) {
	if err := s.cfg.Authz.Authorize(ctx, a, a.OrgID, ObjectAppUse, ActionOpen); err != nil {
		return AppEntry{}, err
	}
	in, err := s.cfg.Store.Install(ctx, installID)
	if err != nil {
		return AppEntry{}, err
	}
	if in.OrgID != a.OrgID {
		return AppEntry{}, core.Errorf(core.ENotFound, "app %s not found", installID)
	}
	ok, err := s.visible(ctx, a, in)
	if err != nil {
		return AppEntry{}, err
	}
	if !ok {
		return AppEntry{}, core.Errorf(core.ENotFound, "app %s not found", installID)
	}
	return entryOf(in), nil
}

func (s *Service) visible(ctx context.Context, a core.Actor, in Install) (bool, error) {
	if !in.Enabled || in.OrgID != a.OrgID {
		return false, nil
	}
	v := in.Visibility
	if v.Everyone || slices.Contains(v.People, a.UserID) {
		return true, nil
	}
	if len(v.Departments) == 0 || s.cfg.Staff == nil {
		return false, nil
	}
	return s.cfg.Staff.InDepartments(ctx, in.OrgID, a.UserID, v.Departments)
}

func entryOf(in Install) AppEntry {
	m := in.Current.Manifest
	e := AppEntry{InstallID: in.ID, AppID: in.AppID, Name: m.Name, Version: in.Current.Version, Pages: m.Pages}
	if len(m.Pages) > 0 {
		e.URL = "/plugins/" + in.AppID + "/ui" + m.Pages[0].Path
	}
	return e
}
