package catalog_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/marketplace/catalog"
)

const sha = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

const index = `{"apps":[{"id":"daily-report","name":"日报","publisher":"Acme","description":"d","category":"office",
 "versions":[{"version":"1.0.0","scopes":["im:send"],"bundle":"b/daily-1.0.0.tgz","sha256":"` + sha + `"}]}]}`

func TestParse(t *testing.T) {
	if idx, err := catalog.Parse([]byte(index)); err != nil || idx.Apps[0].Versions[0].Scopes[0] != "im:send" {
		t.Fatalf("parse: %+v %v", idx, err)
	}
	// A version may list its settings form; it parses into the SDK's shape.
	withSettings := strings.Replace(index, `"sha256":`, `"settings":[{"key":"department","label":"科室","type":"string","required":true}],"sha256":`, 1)
	if idx, err := catalog.Parse([]byte(withSettings)); err != nil || len(idx.Apps[0].Versions[0].Settings) != 1 || !idx.Apps[0].Versions[0].Settings[0].Required {
		t.Fatalf("parse settings: %+v %v", idx, err)
	}
	for name, bad := range map[string]string{
		"unknown field": `{"apps":[],"extra":1}`,
		"no id":         `{"apps":[{"name":"x","versions":[]}]}`,
		"app twice":     `{"apps":[{"id":"a","name":"x"},{"id":"a","name":"y"}]}`,
		"no checksum":   `{"apps":[{"id":"a","name":"x","versions":[{"version":"1.0.0","bundle":"a.tgz"}]}]}`,
		"not json":      `<html>`,
		"wrong type":    `{"apps":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := catalog.Parse([]byte(bad)); !core.IsCode(err, core.EInvalid) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestFolderAndURL(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(dir, "b", "daily-1.0.0.tgz"), []byte("bundle bytes"), 0o644)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	ctx := context.Background()
	for _, source := range []string{dir, srv.URL, srv.URL + "/", srv.URL + "/index.json"} {
		t.Run(source, func(t *testing.T) {
			c, err := catalog.Open(source, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			idx, err := c.Index(ctx)
			if err != nil || len(idx.Apps) != 1 {
				t.Fatalf("index %+v %v", idx, err)
			}
			rc, err := c.Open(ctx, idx.Apps[0].Versions[0])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "bundle bytes" {
				t.Fatalf("bundle %q", b)
			}
			_, err = c.Open(ctx, marketplace.CatalogVersion{Bundle: "b/missing.tgz"})
			if !core.IsCode(err, core.ENotFound) {
				t.Fatalf("missing bundle: %v", err)
			}
		})
	}
	folder, _ := catalog.Open(dir, nil)
	for _, escape := range []string{"../secret", "/etc/passwd", "b/../../x", `b\x`} {
		if _, err := folder.Open(ctx, marketplace.CatalogVersion{Bundle: escape}); !core.IsCode(err, core.EInvalid) {
			t.Errorf("bundle path %q: %v", escape, err)
		}
	}
	remote, _ := catalog.Open(srv.URL, srv.Client())
	if _, err := remote.Open(ctx, marketplace.CatalogVersion{Bundle: "file:///etc/passwd"}); !core.IsCode(err, core.EInvalid) {
		t.Errorf("file URL: %v", err)
	}
	if _, err := catalog.Open(filepath.Join(dir, "nope"), nil); !core.IsCode(err, core.EInvalid) {
		t.Errorf("missing folder: %v", err)
	}
	down, _ := catalog.Open("http://127.0.0.1:1/index.json", nil)
	if _, err := down.Index(ctx); !core.IsCode(err, core.EUnavailable) || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("unreachable catalog: %v", err)
	}
}
