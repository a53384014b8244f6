// Package web serves the Rounds web client — the chat client staff live in,
// approvals, rosters, the app center and the admin console — from files
// embedded in the server binary, so a fresh install needs no build step.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the client. Unknown paths without a file extension get
// index.html so client-side routes survive a reload.
func Handler() http.Handler {
	root, _ := fs.Sub(static, "static")
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The client builds its DOM with text nodes and sets styles through
		// the CSSOM only, so neither scripts nor styles need 'unsafe-inline'.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; connect-src 'self' ws: wss:; frame-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'")
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "" || path.Ext(p) == "" {
			if _, err := fs.Stat(root, p); p == "" || err != nil {
				h.Set("Cache-Control", "no-cache")
				http.ServeFileFS(w, r, root, "index.html")
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}
