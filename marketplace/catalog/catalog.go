// Package catalog reads app catalogs: a folder, or an intranet http(s) URL,
// serving index.json (marketplace.Index) and the bundles it names by paths
// relative to the index. It checks the index's shape, not the bundles: the
// marketplace verifies every bundle's checksum and signature.
package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
)

// IndexFile is the catalog's index name.
const IndexFile = "index.json"

// maxIndex bounds index.json.
const maxIndex = 8 << 20

// Open returns the catalog at source: an http:// or https:// URL of the
// index (or of the folder holding index.json), or a local folder. client
// may be nil (a client with a 30-second timeout is used).
func Open(source string, client *http.Client) (marketplace.Catalog, error) {
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		u, err := url.Parse(source)
		if err != nil {
			return nil, core.Invalid("catalog", "catalog URL %q: %v", source, err)
		}
		if !strings.HasSuffix(u.Path, ".json") {
			u.Path = strings.TrimSuffix(u.Path, "/") + "/" + IndexFile
		}
		if client == nil {
			client = &http.Client{Timeout: 30 * time.Second}
		}
		return &remote{index: u, client: client}, nil
	}
	st, err := os.Stat(source)
	if err != nil || !st.IsDir() {
		return nil, core.Invalid("catalog", "catalog folder %q does not exist", source)
	}
	return &folder{dir: source}, nil
}

type folder struct{ dir string }

func (f *folder) Index(ctx context.Context) (marketplace.Index, error) {
	data, err := os.ReadFile(filepath.Join(f.dir, IndexFile))
	if err != nil {
		return marketplace.Index{}, core.Errorf(core.EUnavailable, "read catalog index: %v", err)
	}
	return Parse(data)
}

func (f *folder) Open(ctx context.Context, v marketplace.CatalogVersion) (io.ReadCloser, error) {
	rel, err := relPath("bundle", v.Bundle)
	if err != nil {
		return nil, err
	}
	rc, err := os.Open(filepath.Join(f.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, core.Errorf(core.ENotFound, "catalog bundle %s: %v", v.Bundle, err)
	}
	return rc, nil
}

// OpenFile opens a file of the folder through os.OpenInRoot, so neither
// the path nor a symbolic link in the folder reaches outside it.
func (f *folder) OpenFile(ctx context.Context, ref string) (io.ReadCloser, error) {
	rel, err := relPath("file", ref)
	if err != nil {
		return nil, err
	}
	rc, err := os.OpenInRoot(f.dir, filepath.FromSlash(rel))
	if err != nil {
		return nil, core.Errorf(core.ENotFound, "catalog file %s: %v", ref, err)
	}
	if st, err := rc.Stat(); err != nil || !st.Mode().IsRegular() {
		rc.Close()
		return nil, core.Errorf(core.ENotFound, "catalog file %s is not a file", ref)
	}
	return rc, nil
}

// relPath accepts only a clean relative path inside the catalog folder.
func relPath(what, p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return "", core.Invalid(what, "catalog %s path %q must stay inside the catalog", what, p)
	}
	return p, nil
}

type remote struct {
	index  *url.URL
	client *http.Client
}

func (r *remote) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, core.Wrap(err, "catalog request")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, core.Errorf(core.EUnavailable, "catalog %s: %v", u.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		code := core.EUnavailable
		if resp.StatusCode == http.StatusNotFound {
			code = core.ENotFound
		}
		return nil, core.Errorf(code, "catalog %s answered %s", u.Redacted(), resp.Status)
	}
	return resp, nil
}

func (r *remote) Index(ctx context.Context) (marketplace.Index, error) {
	resp, err := r.get(ctx, r.index)
	if err != nil {
		return marketplace.Index{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxIndex+1))
	if err != nil {
		return marketplace.Index{}, core.Errorf(core.EUnavailable, "read catalog index: %v", err)
	}
	if len(data) > maxIndex {
		return marketplace.Index{}, core.Errorf(core.ETooLarge, "catalog index is larger than %d bytes", maxIndex)
	}
	return Parse(data)
}

func (r *remote) Open(ctx context.Context, v marketplace.CatalogVersion) (io.ReadCloser, error) {
	return r.open(ctx, "bundle", v.Bundle)
}

func (r *remote) OpenFile(ctx context.Context, ref string) (io.ReadCloser, error) {
	return r.open(ctx, "file", ref)
}

// open fetches what the index names by ref, resolved against the index's URL.
func (r *remote) open(ctx context.Context, what, ref string) (io.ReadCloser, error) {
	u0, err := url.Parse(ref)
	if err != nil || ref == "" {
		return nil, core.Invalid(what, "catalog %s URL %q is not valid", what, ref)
	}
	u := r.index.ResolveReference(u0)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, core.Invalid(what, "catalog %s URL %q is not http(s)", what, ref)
	}
	resp, err := r.get(ctx, u)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Parse decodes and checks an index: unknown fields are refused, every app
// needs an id, a name and versions with a bundle and a SHA-256.
func Parse(data []byte) (marketplace.Index, error) {
	var idx marketplace.Index
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		return idx, core.Invalid("index", "catalog index is not valid: %v", err)
	}
	seen := map[string]bool{}
	for i, a := range idx.Apps {
		f := fmt.Sprintf("apps[%d]", i)
		if a.ID == "" || a.Name == "" {
			return idx, core.Invalid(f, "catalog app needs an id and a name")
		}
		if seen[a.ID] {
			return idx, core.Invalid(f+".id", "catalog lists app %q twice", a.ID)
		}
		seen[a.ID] = true
		for j, v := range a.Versions {
			vf := fmt.Sprintf("%s.versions[%d]", f, j)
			if v.Version == "" || v.Bundle == "" || len(v.SHA256) != 64 {
				return idx, core.Invalid(vf, "catalog version needs a version, a bundle and its hex SHA-256")
			}
			if idx.Apps[i].Versions[j].Scopes == nil {
				idx.Apps[i].Versions[j].Scopes = []string{}
			}
		}
	}
	if idx.Apps == nil {
		idx.Apps = []marketplace.CatalogApp{}
	}
	return idx, nil
}
