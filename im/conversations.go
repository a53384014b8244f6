package im

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
)

const maxNameRunes = 64

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", core.Invalid("name", "give the group a name")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameRunes {
		return "", core.Invalid("name", "the name must be at most %d characters", maxNameRunes)
	}
	return name, nil
}

func (s *Service) checkActive(ctx context.Context, orgID string, ids []string, field string) error {
	if s.dir == nil {
		return nil
	}
	for _, id := range ids {
		ok, err := s.dir.IsActive(ctx, orgID, id)
		if err != nil {
			return err
		}
		if !ok {
			return core.Invalid(field, "%s is not current staff", id).With("user_id", id)
		}
	}
	return nil
}

// CreateDirect opens (or returns the existing) direct conversation between
// the actor and otherUserID. A bot that opens one (an app with im:direct, a
// system bot) takes part as a bot (RoleBot).
func (s *Service) CreateDirect(ctx context.Context, a core.Actor, otherUserID string) (Conversation, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Conversation{}, err
	}
	if !core.ValidID(otherUserID) {
		return Conversation{}, core.Invalid("user_id", "user_id is not a valid id")
	}
	if otherUserID == uid {
		return Conversation{}, core.Invalid("user_id", "a direct conversation needs someone else")
	}
	if err := s.allow(ctx, a, a.OrgID, "im.conversation", "use"); err != nil {
		return Conversation{}, err
	}
	x, y := uid, otherUserID
	if y < x {
		x, y = y, x
	}
	key := a.OrgID + ":" + x + ":" + y
	if c, err := s.store.DirectConversation(ctx, key); err == nil {
		return c, nil
	} else if !core.IsCode(err, core.ENotFound) {
		return c, err
	}
	if err := s.checkActive(ctx, a.OrgID, []string{otherUserID}, "user_id"); err != nil {
		return Conversation{}, err
	}
	now := s.clock.Now()
	c := Conversation{ID: core.NewID(), OrgID: a.OrgID, Kind: Direct, DirectKey: key, ReceiptsOff: s.cfg.ReceiptsOffByDefault, CreatedAt: now, UpdatedAt: now}
	var bots map[string]bool
	if a.Kind == core.ActorBot {
		bots = map[string]bool{uid: true}
	}
	c, err = s.create(ctx, c, uid, []string{uid, otherUserID}, bots)
	if core.IsCode(err, core.EConflict) {
		// Both people opened it at the same moment.
		return s.store.DirectConversation(ctx, key)
	}
	return c, err
}

// CreateGroup creates a group owned by the actor with the given members
// (the actor is added if missing).
func (s *Service) CreateGroup(ctx context.Context, a core.Actor, name string, memberIDs []string) (Conversation, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Conversation{}, err
	}
	if name, err = validName(name); err != nil {
		return Conversation{}, err
	}
	if err := s.allow(ctx, a, a.OrgID, "im.conversation", "use"); err != nil {
		return Conversation{}, err
	}
	ids, err := cleanIDs(append([]string{uid}, memberIDs...), "member_ids")
	if err != nil {
		return Conversation{}, err
	}
	if len(ids) > MaxGroupMembers {
		return Conversation{}, core.Invalid("member_ids", "a group holds at most %d people", MaxGroupMembers)
	}
	if err := s.checkActive(ctx, a.OrgID, ids, "member_ids"); err != nil {
		return Conversation{}, err
	}
	now := s.clock.Now()
	c := Conversation{ID: core.NewID(), OrgID: a.OrgID, Kind: Group, Name: name, OwnerID: uid, ReceiptsOff: s.cfg.ReceiptsOffByDefault, CreatedAt: now, UpdatedAt: now}
	return s.create(ctx, c, uid, ids, nil)
}

func cleanIDs(ids []string, field string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !core.ValidID(id) {
			return nil, core.Invalid(field, "%q is not a valid user id", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// create inserts the conversation and its members (those in bots as bots)
// and tells each member.
func (s *Service) create(ctx context.Context, c Conversation, ownerID string, ids []string, bots map[string]bool) (Conversation, error) {
	var evs []Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		for _, id := range ids {
			role := RoleMember
			if id == ownerID && c.Kind == Group {
				role = RoleOwner
			}
			if bots[id] {
				role = RoleBot
			}
			if _, err := tx.AddMember(ctx, Member{ConversationID: c.ID, UserID: id, Role: role}); err != nil {
				return err
			}
		}
		var err error
		if c, err = tx.Conversation(ctx, c.ID); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, joinedEvents(c, ids)...)
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	s.notify(ctx, evs)
	return c, nil
}

func joinedEvents(c Conversation, ids []string) []Event {
	data := mustJSON(c)
	evs := make([]Event, 0, len(ids))
	for _, id := range ids {
		evs = append(evs, Event{Type: EvJoined, ConversationID: c.ID, UserID: id, Data: data})
	}
	return evs
}

// Conversation returns one conversation as the actor sees it.
func (s *Service) Conversation(ctx context.Context, a core.Actor, convID string) (ConversationView, error) {
	uid, err := actorUser(a)
	if err != nil {
		return ConversationView{}, err
	}
	c, m, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return ConversationView{}, err
	}
	v := ConversationView{Conversation: c, Role: m.Role, Muted: m.Muted, Pinned: m.Pinned, ReadSeq: m.ReadSeq}
	if v.Unread, err = s.store.Unread(ctx, convID, uid); err != nil {
		return v, err
	}
	if c.LastSeq > 0 {
		ms, err := s.store.Messages(ctx, convID, HistoryQuery{Before: c.LastSeq + 1, Limit: 1})
		if err != nil {
			return v, err
		}
		if len(ms) == 1 {
			v.LastMessage = &ms[0]
		}
	}
	return v, nil
}

// Conversations lists the actor's conversations with unread counts and last
// messages, pinned first, then by latest message.
func (s *Service) Conversations(ctx context.Context, a core.Actor) ([]ConversationView, error) {
	uid, err := actorUser(a)
	if err != nil {
		return nil, err
	}
	return s.store.ConversationsOf(ctx, uid)
}

// ConversationIDs lists the ids of the actor's conversations (the hub loads
// them on connect).
func (s *Service) ConversationIDs(ctx context.Context, userID string) ([]string, error) {
	return s.store.ConversationIDsOf(ctx, userID)
}

// ConversationUpdate changes a conversation; nil fields stay as they are.
type ConversationUpdate struct {
	Name         *string
	Announcement *bool
	ReceiptsOff  *bool
}

// UpdateConversation changes name, announcement mode or receipts. Owners and
// admins may; for department groups org admins may too.
func (s *Service) UpdateConversation(ctx context.Context, a core.Actor, convID string, u ConversationUpdate) (Conversation, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Conversation{}, err
	}
	var c Conversation
	var evs []Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		var m Member
		c, m, err = membership(ctx, tx, convID, uid)
		if err != nil && !(core.IsCode(err, core.EForbidden) && c.Kind == Department) {
			return err
		}
		if err := s.mayManage(ctx, a, c, m); err != nil {
			return err
		}
		if u.Name != nil {
			if c.Kind == Direct {
				return core.Invalid("name", "a direct conversation has no name")
			}
			if c.Name, err = validName(*u.Name); err != nil {
				return err
			}
		}
		if u.Announcement != nil {
			if c.Kind == Direct {
				return core.Invalid("announcement", "a direct conversation cannot be announcement-only")
			}
			c.Announcement = *u.Announcement
		}
		if u.ReceiptsOff != nil {
			c.ReceiptsOff = *u.ReceiptsOff
		}
		c.UpdatedAt = tx.Now()
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvConversationUpdated, ConversationID: c.ID, Data: mustJSON(c)})
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	s.notify(ctx, evs)
	return c, nil
}

// mayManage allows owners and admins of groups and, for department groups,
// org admins (through the Authorizer).
func (s *Service) mayManage(ctx context.Context, a core.Actor, c Conversation, m Member) error {
	if c.Kind == Direct {
		if m.UserID == "" {
			return core.Errorf(core.EForbidden, "you are not a member of this conversation")
		}
		return nil // both people may change receipts of their own direct chat
	}
	if m.UserID != "" && m.IsManager() {
		return nil
	}
	if c.Kind == Department && s.authz != nil {
		if err := s.authz.Authorize(ctx, a, c.OrgID, "im.department_group", "admin"); err == nil {
			return nil
		}
	}
	return core.Errorf(core.EForbidden, "only the owner and admins may manage this group")
}

// Members returns a page of members in user id order.
func (s *Service) Members(ctx context.Context, a core.Actor, convID string, p core.PageRequest) ([]Member, string, error) {
	uid, err := actorUser(a)
	if err != nil {
		return nil, "", err
	}
	if _, _, err := membership(ctx, s.store, convID, uid); err != nil {
		return nil, "", err
	}
	p = p.Normalize(50)
	var after string
	if err := core.DecodeCursor(p.Cursor, &after); err != nil {
		return nil, "", err
	}
	ms, err := s.store.Members(ctx, convID, after, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > p.Limit {
		ms = ms[:p.Limit]
		next = core.EncodeCursor(ms[len(ms)-1].UserID)
	}
	return ms, next, nil
}

// AddMembers adds people to a group, and bots of the apps the group's
// organisation has installed and enabled (as RoleBot). Owners and admins may.
func (s *Service) AddMembers(ctx context.Context, a core.Actor, convID string, userIDs []string) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	ids, err := cleanIDs(userIDs, "user_ids")
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return core.Invalid("user_ids", "name at least one person")
	}
	c, m, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return err
	}
	if c.Kind != Group {
		return core.Invalid("conversation_id", "people are added only to groups; department groups follow the org chart")
	}
	if err := s.mayManage(ctx, a, c, m); err != nil {
		return err
	}
	bots, err := s.staffOrBots(ctx, c.OrgID, ids, "user_ids")
	if err != nil {
		return err
	}
	return s.addMembers(ctx, convID, ids, bots, uid)
}

// staffOrBots checks that each id is current staff of orgID or the bot of
// an app orgID has installed and enabled, and returns the bots. An app's bot
// of another organisation, of a disabled or removed install, or any other
// account is refused.
func (s *Service) staffOrBots(ctx context.Context, orgID string, ids []string, field string) (map[string]bool, error) {
	bots := map[string]bool{}
	for _, id := range ids {
		if s.dir != nil {
			ok, err := s.dir.IsActive(ctx, orgID, id)
			if err != nil {
				return nil, err
			}
			if ok {
				continue
			}
		}
		if s.bots != nil {
			if _, err := s.bots.AppBot(ctx, orgID, id); err == nil {
				bots[id] = true
				continue
			} else if !core.IsCode(err, core.ENotFound) {
				return nil, err
			}
		}
		if s.dir == nil {
			continue // without a directory anyone is taken, as checkActive does
		}
		return nil, core.Invalid(field, "%s is not current staff, nor the bot of an app installed and enabled here", id).With("user_id", id)
	}
	return bots, nil
}

// GroupBot is an installed app's bot as a group's managers see it: whether
// it is in the group already.
type GroupBot struct {
	AppBot
	Member bool `json:"member"`
}

// GroupBots lists the bots of the apps the group's organisation has
// installed and enabled, for its owner and admins to add or remove.
func (s *Service) GroupBots(ctx context.Context, a core.Actor, convID string) ([]GroupBot, error) {
	uid, err := actorUser(a)
	if err != nil {
		return nil, err
	}
	c, m, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return nil, err
	}
	if c.Kind != Group {
		return nil, core.Invalid("conversation_id", "apps' bots are added only to groups")
	}
	if err := s.mayManage(ctx, a, c, m); err != nil {
		return nil, err
	}
	out := []GroupBot{}
	if s.bots == nil {
		return out, nil
	}
	bots, err := s.bots.AppBots(ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	for _, b := range bots {
		_, err := s.store.Member(ctx, convID, b.UserID)
		if err != nil && !core.IsCode(err, core.ENotFound) {
			return nil, err
		}
		out = append(out, GroupBot{AppBot: b, Member: err == nil})
	}
	return out, nil
}

// addMembers adds the ids that are not yet members (those in bots as bots),
// in one transaction.
func (s *Service) addMembers(ctx context.Context, convID string, ids []string, bots map[string]bool, by string) error {
	var evs []Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.Conversation(ctx, convID)
		if err != nil {
			return err
		}
		var added []string
		for _, id := range ids {
			if _, err := tx.Member(ctx, convID, id); err == nil {
				continue
			}
			added = append(added, id)
		}
		if len(added) == 0 {
			return nil
		}
		if c.MemberCount+len(added) > MaxGroupMembers {
			return core.Invalid("user_ids", "a group holds at most %d people", MaxGroupMembers)
		}
		for _, id := range added {
			role := RoleMember
			if bots[id] {
				role = RoleBot
			}
			if _, err := tx.AddMember(ctx, Member{ConversationID: convID, UserID: id, Role: role}); err != nil {
				return err
			}
		}
		if c, err = tx.Conversation(ctx, convID); err != nil {
			return err
		}
		// The broadcast comes first so the new members (already members
		// now) receive it too; then each gets the conversation itself.
		all := append([]Event{{Type: EvMembersAdded, ConversationID: convID, Data: mustJSON(MembersChange{ConversationID: convID, UserIDs: added, ByUserID: by})}},
			joinedEvents(c, added)...)
		evs, err = tx.Append(ctx, all...)
		return err
	})
	if err != nil {
		return err
	}
	s.notify(ctx, evs)
	return nil
}

// RemoveMember removes someone from a group. Owners remove anyone but
// themselves; admins remove plain members and bots.
func (s *Service) RemoveMember(ctx context.Context, a core.Actor, convID, userID string) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	if !core.ValidID(userID) {
		return core.Invalid("user_id", "user_id is not a valid id")
	}
	if userID == uid {
		return core.Invalid("user_id", "use leave to leave a conversation")
	}
	c, m, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return err
	}
	if c.Kind != Group {
		return core.Invalid("conversation_id", "people are removed only from groups; department groups follow the org chart")
	}
	if err := s.mayManage(ctx, a, c, m); err != nil {
		return err
	}
	target, err := s.store.Member(ctx, convID, userID)
	if err != nil {
		return err
	}
	if target.Role == RoleOwner || (target.Role == RoleAdmin && m.Role != RoleOwner) {
		return core.Errorf(core.EForbidden, "only the owner may remove an admin, and nobody the owner")
	}
	return s.removeMembers(ctx, convID, []string{userID}, uid, "removed")
}

// removeMembers removes members in one transaction; the removed receive the
// broadcast (sent before they go) and a personal conversation.left.
func (s *Service) removeMembers(ctx context.Context, convID string, ids []string, by, reason string) error {
	var evs []Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.Conversation(ctx, convID)
		if err != nil {
			return err
		}
		var removed []string
		for _, id := range ids {
			if _, err := tx.Member(ctx, convID, id); err != nil {
				continue
			}
			removed = append(removed, id)
		}
		if len(removed) == 0 {
			return nil
		}
		for _, id := range removed {
			if err := tx.RemoveMember(ctx, convID, id); err != nil {
				return err
			}
		}
		// The removed get the broadcast live (hubs drop them after
		// delivering it) and a personal conversation.left, also on replay.
		all := []Event{{Type: EvMembersRemoved, ConversationID: convID, Data: mustJSON(MembersChange{ConversationID: convID, UserIDs: removed, ByUserID: by})}}
		for _, id := range removed {
			all = append(all, Event{Type: EvLeft, ConversationID: convID, UserID: id, Data: mustJSON(LeftData{ConversationID: convID, Reason: reason})})
		}
		if c.Kind == Group && contains(removed, c.OwnerID) {
			ev, err := s.passOwnership(ctx, tx, c)
			if err != nil {
				return err
			}
			if ev != nil {
				all = append(all, *ev)
			}
		}
		// Positions are taken last in every transaction: the stream row is
		// the last lock taken, so transactions cannot deadlock on it.
		evs, err = tx.Append(ctx, all...)
		return err
	})
	if err != nil {
		return err
	}
	s.notify(ctx, evs)
	return nil
}

// passOwnership gives a group whose owner left to its first admin, or else
// its first member (by user id, so every node picks the same person); never
// to a bot.
func (s *Service) passOwnership(ctx context.Context, tx Tx, c Conversation) (*Event, error) {
	all, err := tx.Members(ctx, c.ID, "", MaxGroupMembers)
	if err != nil {
		return nil, err
	}
	var ms []Member // people: a bot never owns a group
	for _, m := range all {
		if !m.IsBot() {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil, nil
	}
	next := ms[0]
	for _, m := range ms {
		if m.Role == RoleAdmin {
			next = m
			break
		}
	}
	next.Role = RoleOwner
	if err := tx.UpdateMember(ctx, next); err != nil {
		return nil, err
	}
	c.OwnerID = next.UserID
	c.UpdatedAt = tx.Now()
	c.MemberCount = len(all)
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return nil, err
	}
	return &Event{Type: EvConversationUpdated, ConversationID: c.ID, Data: mustJSON(c)}, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Leave takes the actor out of a group. Direct conversations and department
// groups cannot be left (the latter follow the org chart).
func (s *Service) Leave(ctx context.Context, a core.Actor, convID string) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	c, _, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return err
	}
	if c.Kind != Group {
		return core.Invalid("conversation_id", "only groups can be left")
	}
	return s.removeMembers(ctx, convID, []string{uid}, uid, "left")
}

// SetRole makes a member an admin or a plain member, or hands ownership
// over (role owner: the old owner becomes an admin). Only the owner may.
func (s *Service) SetRole(ctx context.Context, a core.Actor, convID, userID string, role Role) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	if role != RoleAdmin && role != RoleMember && role != RoleOwner {
		return core.Invalid("role", "role must be owner, admin or member")
	}
	if !core.ValidID(userID) {
		return core.Invalid("user_id", "user_id is not a valid id")
	}
	var evs []Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		c, m, err := membership(ctx, tx, convID, uid)
		if err != nil {
			return err
		}
		if c.Kind != Group || m.Role != RoleOwner {
			return core.Errorf(core.EForbidden, "only a group's owner may change roles")
		}
		if userID == uid {
			return core.Invalid("user_id", "hand ownership to someone else instead")
		}
		target, err := tx.Member(ctx, convID, userID)
		if err != nil {
			return err
		}
		if target.IsBot() {
			return core.Invalid("user_id", "an app's bot takes no role in the group: it neither manages it nor owns it")
		}
		// Conversation row first, member rows after (the lock order).
		if role == RoleOwner {
			c.OwnerID = userID
			c.UpdatedAt = tx.Now()
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
			m.Role = RoleAdmin
			if err := tx.UpdateMember(ctx, m); err != nil {
				return err
			}
		}
		target.Role = role
		if err := tx.UpdateMember(ctx, target); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvConversationUpdated, ConversationID: c.ID, Data: mustJSON(struct {
			Conversation
			RoleChange MemberRole `json:"role_change"`
		}{c, MemberRole{UserID: userID, Role: role}})})
		return err
	})
	if err != nil {
		return err
	}
	s.notify(ctx, evs)
	return nil
}

// MemberRole is a role change carried in conversation.updated.
type MemberRole struct {
	UserID string `json:"user_id"`
	Role   Role   `json:"role"`
}

// Prefs are a member's own settings; nil fields stay.
type Prefs struct {
	Muted  *bool
	Pinned *bool
}

// SetPrefs mutes or pins a conversation for the actor; their other devices
// get a personal member.prefs event.
func (s *Service) SetPrefs(ctx context.Context, a core.Actor, convID string, p Prefs) (Member, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Member{}, err
	}
	var m Member
	var evs []Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, m, err = membership(ctx, tx, convID, uid); err != nil {
			return err
		}
		if p.Muted != nil {
			m.Muted = *p.Muted
		}
		if p.Pinned != nil {
			m.Pinned = *p.Pinned
		}
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvMemberPrefs, ConversationID: convID, UserID: uid, Data: mustJSON(m)})
		return err
	})
	if err != nil {
		return Member{}, err
	}
	s.notify(ctx, evs)
	return m, nil
}
