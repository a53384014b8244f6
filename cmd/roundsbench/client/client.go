// Package client is the small Rounds API client the load tool and the crash
// durability test share: sign-in, the few HTTP calls they make, and a chat
// WebSocket subscriber that resumes with ?since= and checks its own stream.
//
// It speaks only the public HTTP and WebSocket API (im/ws/PROTOCOL.md); it
// imports no server package, so what it measures is what a real client sees.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Client calls the HTTP API of one server.
type Client struct {
	Base string // http://127.0.0.1:8080
	HTTP *http.Client
}

// New returns a client with a connection pool sized for load.
func New(base string) *Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// APIError is an error envelope the server answered with.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends a JSON request with the bearer token and decodes the answer into
// out (when not nil). Non-2xx answers come back as *APIError.
func (c *Client) Do(ctx context.Context, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		if e.Code == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return e
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// User is the part of an account the tools need.
type User struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	Login string `json:"login"`
}

// SignIn opens a session and returns its bearer token.
func (c *Client) SignIn(ctx context.Context, login, password string) (string, User, error) {
	var out struct {
		Token string `json:"token"`
		User  User   `json:"user"`
	}
	err := c.Do(ctx, "", "POST", "/api/v1/sessions", map[string]string{"login": login, "password": password}, &out)
	return out.Token, out.User, err
}

// Conversation is the part of a conversation the tools need.
type Conversation struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	MemberCount int    `json:"member_count"`
}

// CreateGroup creates a group owned by the token's user with memberIDs.
func (c *Client) CreateGroup(ctx context.Context, token, name string, memberIDs []string) (Conversation, error) {
	var out Conversation
	err := c.Do(ctx, token, "POST", "/api/v1/im/conversations",
		map[string]any{"kind": "group", "name": name, "member_ids": memberIDs}, &out)
	return out, err
}

// Message is the part of a chat message the tools need.
type Message struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	SenderID       string `json:"sender_id"`
	ClientMsgID    string `json:"client_msg_id"`
	Text           string `json:"text"`
}

// Send posts a text message; the same clientMsgID always yields the same
// message.
func (c *Client) Send(ctx context.Context, token, convID, clientMsgID, text string) (Message, error) {
	var out Message
	err := c.Do(ctx, token, "POST", "/api/v1/im/conversations/"+convID+"/messages",
		map[string]any{"client_msg_id": clientMsgID, "text": text}, &out)
	return out, err
}

// Read moves the token user's read position in a conversation.
func (c *Client) Read(ctx context.Context, token, convID string, seq int64) error {
	return c.Do(ctx, token, "POST", "/api/v1/im/conversations/"+convID+"/read", map[string]any{"seq": seq}, nil)
}

// Receipt is who has read a message.
type Receipt struct {
	MessageID string `json:"message_id"`
	Seq       int64  `json:"seq"`
	ReadCount int    `json:"read_count"`
}

// Receipt fetches the read receipt of a message.
func (c *Client) Receipt(ctx context.Context, token, messageID string) (Receipt, error) {
	var out Receipt
	err := c.Do(ctx, token, "GET", "/api/v1/im/messages/"+messageID+"/receipt", nil, &out)
	return out, err
}

// History returns every message of a conversation in seq order. The server
// pages newest first without a bound, so it walks back with ?before= and
// reverses.
func (c *Client) History(ctx context.Context, token, convID string) ([]Message, error) {
	var all []Message
	before := int64(0)
	for {
		var page struct {
			Items []Message `json:"items"`
		}
		q := url.Values{"limit": {"200"}}
		if before > 0 {
			q.Set("before", fmt.Sprint(before))
		}
		if err := c.Do(ctx, token, "GET", "/api/v1/im/conversations/"+convID+"/messages?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		if len(page.Items) == 0 {
			break
		}
		for _, m := range page.Items {
			if before == 0 || m.Seq < before {
				before = m.Seq
			}
		}
		all = append(all, page.Items...)
		if before <= 1 {
			break
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	return all, nil
}

// Ready waits until GET /readyz answers 200 or ctx ends.
func (c *Client) Ready(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+"/readyz", nil)
		resp, err := c.HTTP.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server at %s not ready: %w (last: %v)", c.Base, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
