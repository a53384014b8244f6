package orgchart

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
)

// CreateGroup links organisations in a hospital group. Only actors allowed
// to write orgchart.org in the "*" domain (system admins) may. Members start
// with the sharing given (default: none); each organisation's admin then
// decides what it shares (SetSharing).
func (s *Service) CreateGroup(ctx context.Context, a core.Actor, name string, members []GroupMember) (Group, error) {
	if err := s.authorize(ctx, a, authz.AllOrgs, ObjOrg, ActWrite); err != nil {
		return Group{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Group{}, core.Invalid("name", "the group name must be 1 to 100 characters")
	}
	if len(members) < 2 {
		return Group{}, core.Invalid("members", "a hospital group links at least two organisations")
	}
	g := Group{ID: core.NewID(), Name: name, CreatedAt: s.now()}
	seen := map[string]bool{}
	for i, m := range members {
		if seen[m.OrgID] {
			return Group{}, core.Invalid("members", "organisation %s is listed twice", m.OrgID).With("index", i)
		}
		seen[m.OrgID] = true
		m, err := s.checkSharing(ctx, m)
		if err != nil {
			return Group{}, err
		}
		g.Members = append(g.Members, m)
	}
	s.groupMu.Lock()
	defer s.groupMu.Unlock()
	if err := s.cfg.Store.PutGroup(ctx, g); err != nil {
		return Group{}, err
	}
	s.groupChanged(ctx, a, g, "orgchart.group.create", "")
	return g, nil
}

func (s *Service) checkSharing(ctx context.Context, m GroupMember) (GroupMember, error) {
	sn, err := s.snap(ctx, m.OrgID)
	if err != nil {
		if core.IsCode(err, core.ENotFound) {
			return m, core.Invalid("org_id", "no organisation %s", m.OrgID).With("org_id", m.OrgID)
		}
		return m, err
	}
	if m.Share == "" {
		m.Share = ShareNone
	}
	switch m.Share {
	case ShareWhole, ShareNone:
		m.DepartmentIDs = nil
	case ShareSubtrees:
		m.DepartmentIDs = dedupeSorted(m.DepartmentIDs)
		if len(m.DepartmentIDs) == 0 {
			return m, core.Invalid("department_ids", "name the departments whose subtrees are shared")
		}
		for _, d := range m.DepartmentIDs {
			if _, err := sn.dept("department_ids", d); err != nil {
				return m, err
			}
		}
	default:
		return m, core.Invalid("share", "share must be whole, subtrees or none")
	}
	return m, nil
}

// Groups lists the hospital groups the actor's organisation belongs to (all
// of them for system actors and actors acting globally).
func (s *Service) Groups(ctx context.Context, a core.Actor) ([]Group, error) {
	if a.OrgID != "" {
		if err := s.authorize(ctx, a, a.OrgID, ObjDirectory, ActRead); err != nil {
			return nil, err
		}
	} else if err := s.authorize(ctx, a, authz.AllOrgs, ObjOrg, ActRead); err != nil {
		return nil, err
	}
	out := []Group{}
	for _, g := range s.allGroups() {
		for _, m := range g.Members {
			if a.OrgID == "" || m.OrgID == a.OrgID {
				out = append(out, g)
				break
			}
		}
	}
	return out, nil
}

// SetSharing sets what orgID shares with the other members of a group: its
// whole directory, some department subtrees, or nothing. The organisation's
// admins (write on orgchart.org in that organisation) decide.
func (s *Service) SetSharing(ctx context.Context, a core.Actor, groupID string, m GroupMember) (Group, error) {
	if err := s.authorize(ctx, a, m.OrgID, ObjOrg, ActWrite); err != nil {
		return Group{}, err
	}
	s.groupMu.Lock()
	defer s.groupMu.Unlock()
	// Read the record, not the cache: another node may have changed the
	// group since.
	if err := s.reloadGroups(ctx); err != nil {
		return Group{}, err
	}
	var g Group
	found := false
	for _, x := range s.allGroups() {
		if x.ID == groupID {
			g, found = x, true
		}
	}
	if !found {
		return Group{}, core.Errorf(core.ENotFound, "no such hospital group")
	}
	idx := -1
	for i, x := range g.Members {
		if x.OrgID == m.OrgID {
			idx = i
		}
	}
	if idx < 0 {
		return Group{}, core.Invalid("org_id", "organisation %s is not a member of %s", m.OrgID, g.Name)
	}
	m, err := s.checkSharing(ctx, m)
	if err != nil {
		return Group{}, err
	}
	members := append([]GroupMember(nil), g.Members...)
	members[idx] = m
	g.Members = members
	if err := s.cfg.Store.PutGroup(ctx, g); err != nil {
		return Group{}, err
	}
	s.groupChanged(ctx, a, g, "orgchart.group.sharing", m.OrgID)
	return g, nil
}

func (s *Service) groupChanged(ctx context.Context, a core.Actor, g Group, action, orgID string) {
	if err := s.reloadGroups(ctx); err != nil {
		s.cfg.Logger.Warn("orgchart: cannot reload groups", "err", err)
	}
	ev := GroupEvent{GroupID: g.ID, At: s.cfg.Clock.Now()}
	for _, m := range g.Members {
		ev.OrgIDs = append(ev.OrgIDs, m.OrgID)
	}
	data, _ := json.Marshal(ev)
	s.publish(ctx, SubjectGroupChanged, data)
	s.record(ctx, a, orgID, audit.Entry{Action: action, ObjectType: "group", ObjectID: g.ID, Details: map[string]any{"name": g.Name, "members": g.Members}})
}
