package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Event is one `event` frame of the chat stream.
type Event struct {
	Pos            int64           `json:"pos"`
	Event          string          `json:"event"`
	ConversationID string          `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
	At             int64           `json:"at"`
}

// frame is any server frame; the fields of the types the subscriber reads.
type frame struct {
	Type           string          `json:"type"`
	Pos            int64           `json:"pos"`
	Event          string          `json:"event"`
	ConversationID string          `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
	At             int64           `json:"at"`
}

// Subscriber holds one chat WebSocket of one user. It reconnects with
// ?since=<last pos> whenever the connection ends (a killed server, a 4008
// slow-consumer close) and drops nothing: the protocol promises the replay
// is gapless, and the subscriber checks its half of that promise — positions
// strictly increase — counting every violation in Repeats.
type Subscriber struct {
	URL   string // ws://host:port/api/v1/ws
	Token string
	// Since is where the stream starts: -1 for live only (the first ready
	// frame then gives the position), or a position to replay after.
	Since int64
	// LocalAddr, when set, is the source address of the connection (used to
	// open more connections than one address has ephemeral ports).
	LocalAddr net.Addr
	// OnEvent is called in order, from the subscriber's goroutine, for every
	// event after the last position it saw.
	OnEvent func(ev Event, received time.Time)

	pos        atomic.Int64
	Reconnects atomic.Int64
	Repeats    atomic.Int64 // events at or below a position already seen
	Resyncs    atomic.Int64
	Connected  atomic.Bool

	readyOnce sync.Once
	ready     chan struct{}
	mu        sync.Mutex
	conn      *websocket.Conn
}

// Pos returns the last position processed.
func (s *Subscriber) Pos() int64 { return s.pos.Load() }

// Ready is closed after the first ready frame.
func (s *Subscriber) Ready() <-chan struct{} {
	s.init()
	return s.ready
}

func (s *Subscriber) init() {
	s.mu.Lock()
	if s.ready == nil {
		s.ready = make(chan struct{})
	}
	s.mu.Unlock()
}

// WSURL turns an http base URL into the chat WebSocket URL.
func WSURL(base string) string {
	return "ws" + strings.TrimPrefix(strings.TrimRight(base, "/"), "http") + "/api/v1/ws"
}

// Dial opens the connection once (no retry) and reads until the first ready
// frame. Run then serves it. It is separate so that a load tool can open
// thousands of connections at a controlled pace.
func (s *Subscriber) Dial(ctx context.Context) error {
	s.init()
	since := s.Since
	if s.Connected.Load() || s.pos.Load() > 0 {
		since = s.pos.Load()
	}
	u := s.URL
	if since >= 0 {
		u += fmt.Sprintf("?since=%d", since)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	if s.LocalAddr != nil {
		nd := &net.Dialer{LocalAddr: s.LocalAddr, Timeout: 10 * time.Second}
		d.NetDialContext = nd.DialContext
	}
	h := http.Header{"Authorization": {"Bearer " + s.Token}}
	c, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: %w (HTTP %d)", u, err, resp.StatusCode)
		}
		return err
	}
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	if since >= 0 && s.pos.Load() < since {
		s.pos.Store(since)
	}
	s.Connected.Store(true)
	return nil
}

// Run serves the connection opened by Dial (dialing first when needed) and
// reconnects until ctx ends. It returns ctx's error.
func (s *Subscriber) Run(ctx context.Context) error {
	s.init()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		if s.conn != nil {
			s.conn.Close()
		}
		s.mu.Unlock()
	}()
	backoff := 20 * time.Millisecond
	for ctx.Err() == nil {
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c == nil {
			if err := s.Dial(ctx); err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				if backoff < time.Second {
					backoff *= 2
				}
				continue
			}
			s.Reconnects.Add(1)
			continue
		}
		backoff = 20 * time.Millisecond
		s.serve(c)
		c.Close()
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
	}
	return ctx.Err()
}

func (s *Subscriber) serve(c *websocket.Conn) {
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		switch f.Type {
		case "ready":
			if f.Pos > s.pos.Load() {
				s.pos.Store(f.Pos)
			}
			s.readyOnce.Do(func() { close(s.ready) })
		case "resync":
			s.Resyncs.Add(1)
		case "event":
			if f.Pos <= s.pos.Load() {
				s.Repeats.Add(1)
				continue
			}
			s.pos.Store(f.Pos)
			if s.OnEvent != nil {
				s.OnEvent(Event{Pos: f.Pos, Event: f.Event, ConversationID: f.ConversationID, Data: f.Data, At: f.At}, now)
			}
		}
	}
}
