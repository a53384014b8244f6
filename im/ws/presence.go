package imws

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/im"
)

// presence tracks who is online anywhere: a person is online while they
// hold at least one connection on some node. Nodes announce changes at once
// and re-announce their online users every interval; a node's users are
// forgotten after three silent intervals (a node that died).
type presence struct {
	h *Hub

	mu       sync.Mutex
	local    map[string]int                  // user → local connections
	remote   map[string]map[string]time.Time // user → node → expiry
	watchers map[string]map[*conn]struct{}   // user → connections watching them
}

type presenceMsg struct {
	Node   string   `json:"node"`
	Online []string `json:"online,omitempty"`
	Gone   []string `json:"gone,omitempty"`
	Full   bool     `json:"full,omitempty"` // Online lists every user of the node
}

func newPresence(h *Hub) *presence {
	return &presence{h: h, local: map[string]int{}, remote: map[string]map[string]time.Time{}, watchers: map[string]map[*conn]struct{}{}}
}

func (p *presence) onlineLocked(u string, now time.Time) bool {
	if p.local[u] > 0 {
		return true
	}
	for _, exp := range p.remote[u] {
		if exp.After(now) {
			return true
		}
	}
	return false
}

// localChange is called on a user's first connection and last disconnection.
func (p *presence) localChange(u string, online bool) {
	p.mu.Lock()
	before := p.onlineLocked(u, time.Now())
	if online {
		p.local[u]++
	} else {
		delete(p.local, u)
	}
	after := p.onlineLocked(u, time.Now())
	p.mu.Unlock()
	if before != after {
		p.notifyWatchers(u, after)
	}
	msg := presenceMsg{Node: p.h.cfg.NodeID}
	if online {
		msg.Online = []string{u}
	} else {
		msg.Gone = []string{u}
	}
	p.publish(msg)
}

func (p *presence) publish(m presenceMsg) {
	if p.h.bus == nil {
		return
	}
	b, _ := json.Marshal(m)
	if err := p.h.bus.Publish(context.Background(), im.SubjectPresence, b); err != nil {
		p.h.log.Debug("imws: presence publish failed", "err", err)
	}
}

func (p *presence) onEvent(ev bus.Event) {
	var m presenceMsg
	if json.Unmarshal(ev.Data, &m) != nil || m.Node == "" || m.Node == p.h.cfg.NodeID {
		return
	}
	now := time.Now()
	exp := now.Add(3 * p.h.cfg.PresenceInterval)
	changed := map[string]bool{}
	p.mu.Lock()
	for _, u := range m.Online {
		before := p.onlineLocked(u, now)
		nodes := p.remote[u]
		if nodes == nil {
			nodes = map[string]time.Time{}
			p.remote[u] = nodes
		}
		nodes[m.Node] = exp
		if !before {
			changed[u] = true
		}
	}
	for _, u := range m.Gone {
		before := p.onlineLocked(u, now)
		delete(p.remote[u], m.Node)
		if len(p.remote[u]) == 0 {
			delete(p.remote, u)
		}
		if before && !p.onlineLocked(u, now) {
			changed[u] = false
		}
	}
	p.mu.Unlock()
	for u, on := range changed {
		p.notifyWatchers(u, on)
	}
}

// run re-announces local users and expires silent nodes' users.
func (p *presence) run(ctx context.Context) {
	t := time.NewTicker(p.h.cfg.PresenceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			var gone []string
			for u := range p.local {
				gone = append(gone, u)
			}
			p.mu.Unlock()
			if len(gone) > 0 {
				p.publish(presenceMsg{Node: p.h.cfg.NodeID, Gone: gone})
			}
			return
		case <-t.C:
		}
		now := time.Now()
		var online []string
		expired := map[string]bool{}
		p.mu.Lock()
		for u := range p.local {
			online = append(online, u)
		}
		for u, nodes := range p.remote {
			before := p.onlineLocked(u, now.Add(-p.h.cfg.PresenceInterval))
			for n, exp := range nodes {
				if !exp.After(now) {
					delete(nodes, n)
				}
			}
			if len(nodes) == 0 {
				delete(p.remote, u)
			}
			if before && !p.onlineLocked(u, now) {
				expired[u] = true
			}
		}
		p.mu.Unlock()
		for u := range expired {
			p.notifyWatchers(u, false)
		}
		p.publish(presenceMsg{Node: p.h.cfg.NodeID, Online: online, Full: true})
	}
}

// watch answers who of ids is online and subscribes c to their changes.
func (p *presence) watch(c *conn, ids []string) map[string]bool {
	out := make(map[string]bool, len(ids))
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range ids {
		out[u] = p.onlineLocked(u, now)
		set := p.watchers[u]
		if set == nil {
			set = map[*conn]struct{}{}
			p.watchers[u] = set
		}
		set[c] = struct{}{}
	}
	return out
}

func (p *presence) forget(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u, set := range p.watchers {
		delete(set, c)
		if len(set) == 0 {
			delete(p.watchers, u)
		}
	}
}

// IsOnline reports whether userID has a connection on any node.
func (h *Hub) IsOnline(userID string) bool {
	h.presence.mu.Lock()
	defer h.presence.mu.Unlock()
	return h.presence.onlineLocked(userID, time.Now())
}

func (p *presence) notifyWatchers(u string, online bool) {
	b, _ := json.Marshal(presenceFrame{Type: "presence", Online: map[string]bool{u: online}})
	f := newFrame(0, b)
	p.mu.Lock()
	var cs []*conn
	for c := range p.watchers[u] {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.deliver(f)
	}
}
