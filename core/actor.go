package core

import "context"

// Actor is whoever performs an action: a person signed in, a bot, an app
// acting through the plugin host, or the system itself (jobs, sync). Services
// authorize against the Actor, so every transport meets the same checks.
type Actor struct {
	UserID string // empty for the system
	OrgID  string // the organisation (casbin domain) the actor acts in; "" for system admins acting globally
	Kind   ActorKind
	AppID  string // set when Kind is ActorApp
	// SessionID identifies the session or token used, for audit.
	SessionID string
	IP        string
}

// ActorKind says what sort of actor this is.
type ActorKind string

const (
	ActorUser   ActorKind = "user"
	ActorBot    ActorKind = "bot"
	ActorApp    ActorKind = "app"
	ActorSystem ActorKind = "system"
)

// SystemActor is used by jobs, sync and start-up tasks.
var SystemActor = Actor{Kind: ActorSystem}

// IsSystem reports whether the action is taken by Rounds itself.
func (a Actor) IsSystem() bool { return a.Kind == ActorSystem }

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// MustActor returns the actor in ctx or an EUnauthenticated error.
func MustActor(ctx context.Context) (Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return Actor{}, Errorf(EUnauthenticated, "sign in first")
	}
	return a, nil
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id used in logs and
// error envelopes.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
