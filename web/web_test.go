package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roundshq/rounds/web"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	tests := []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/", http.StatusOK, "text/html", `<script type="module" src="/js/main.js">`},
		{"/chat/some-conversation", http.StatusOK, "text/html", `<div id="app"`}, // client routes survive a reload
		{"/js/main.js", http.StatusOK, "javascript", "boot()"},
		{"/js/i18n/zh-CN.js", http.StatusOK, "javascript", "'nav.chat': '消息'"},
		{"/app.css", http.StatusOK, "text/css", "--brand"},
		{"/js/missing.js", http.StatusNotFound, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if !strings.Contains(res.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("content type %q, want %q", res.Header.Get("Content-Type"), tc.contentType)
			}
			if !strings.Contains(string(body), tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "object-src 'none'", "frame-ancestors 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q allows inline code or eval", csp)
			}
		})
	}
}
