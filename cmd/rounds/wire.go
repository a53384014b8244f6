package main

import (
	"context"
	"net/http"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
)

// wire builds the adapters and areas and registers their routes.
func (a *App) wire(ctx context.Context) error {
	a.router = httpapi.NewRouter(a.mux, nil, a.reg)
	return nil
}

// beforeShutdown closes long-lived connections (WebSockets) so clients
// reconnect elsewhere promptly.
func (a *App) beforeShutdown() {}

func notFoundRoute(r *http.Request) error {
	return core.Errorf(core.ENotFound, "no API route %s %s", r.Method, r.URL.Path)
}
