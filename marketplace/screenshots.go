package marketplace

import (
	"context"
	"io"
	"net/http"

	"github.com/roundshq/rounds/core"
)

// MaxScreenshot bounds one catalog screenshot.
const MaxScreenshot = 4 << 20

// screenshotTypes are the image types a screenshot may be, by what its
// bytes are (never by its name or the catalog's word).
var screenshotTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// Screenshot returns the n-th screenshot (from 0) of a catalog app and its
// sniffed image type, so an admin sees the app before consenting to it.
// Needs "marketplace.app" "read" in orgID. An app or screenshot the catalog
// does not have is ENotFound; a file that is not a PNG, JPEG, GIF or WebP
// image is EInvalid; one larger than MaxScreenshot is ETooLarge.
func (s *Service) Screenshot(ctx context.Context, a core.Actor, orgID, appID string, n int) ([]byte, string, error) {
	app, err := s.CatalogApp(ctx, a, orgID, appID)
	if err != nil {
		return nil, "", err
	}
	if n < 0 || n >= len(app.Screenshots) {
		return nil, "", core.Errorf(core.ENotFound, "%s has no screenshot %d", appID, n)
	}
	rc, err := s.cfg.Catalog.OpenFile(ctx, app.Screenshots[n])
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxScreenshot+1))
	if err != nil {
		return nil, "", core.Errorf(core.EUnavailable, "read screenshot %d of %s: %v", n, appID, err)
	}
	if len(data) > MaxScreenshot {
		return nil, "", core.Errorf(core.ETooLarge, "screenshot %d of %s is larger than %d bytes", n, appID, MaxScreenshot)
	}
	kind := http.DetectContentType(data)
	if !screenshotTypes[kind] {
		return nil, "", core.Invalid("screenshot", "screenshot %d of %s is not a PNG, JPEG, GIF or WebP image", n, appID)
	}
	return data, kind, nil
}
