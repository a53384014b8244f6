package imhttp

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/im"
)

// UploadForm documents the multipart upload: one part named "file".
type UploadForm struct {
	File string `json:"file" format:"binary"`
}

func (h *Handlers) registerFiles(rt *httpapi.Router) {
	rt.Handle(httpapi.Route{Method: "POST", Path: "/api/v1/im/conversations/{id}/files", Summary: "Upload a file or image (multipart, part \"file\") to send in a conversation",
		Tag: tag, Access: httpapi.Authenticated, Request: UploadForm{}, Response: im.File{}, Status: http.StatusCreated,
		MaxBody: h.svc.Config().MaxFileBytes + 1<<20, Handler: h.upload})
	rt.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/im/files/{id}", Summary: "Download a file (?thumb=1 for an image's thumbnail); members of its conversation only",
		Tag: tag, Access: httpapi.Authenticated, Handler: h.download})
}

func (h *Handlers) upload(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return core.Invalid("file", "send the file as multipart/form-data with a part named \"file\"")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return core.Invalid("file", "the upload has no part named \"file\"")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return (&core.Error{Code: core.ETooLarge, Field: "file", Message: "the file is larger than the limit"}).With("limit", h.svc.Config().MaxFileBytes)
		}
		if err != nil {
			return core.Invalid("file", "malformed multipart body")
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		f, err := h.svc.Upload(r.Context(), httpapi.Actor(r), id, part.FileName(), part)
		_ = part.Close()
		if errors.As(err, &mbe) {
			return (&core.Error{Code: core.ETooLarge, Field: "file", Message: "the file is larger than the limit"}).With("limit", h.svc.Config().MaxFileBytes)
		}
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusCreated, f)
		return nil
	}
}

func (h *Handlers) download(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "id")
	if err != nil {
		return err
	}
	thumb := r.URL.Query().Get("thumb") == "1"
	f, rc, err := h.svc.OpenFile(r.Context(), httpapi.Actor(r), id, thumb)
	if err != nil {
		return err
	}
	defer rc.Close()
	hd := w.Header()
	// Whatever the bytes are, the browser must not sniff them into
	// something runnable, and a document opened directly runs nothing.
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'")
	hd.Set("Cache-Control", "private, max-age=3600")
	switch {
	case thumb:
		hd.Set("Content-Type", "image/jpeg")
		hd.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Name + ".jpg"}))
	case f.IsImage():
		hd.Set("Content-Type", f.ContentType)
		hd.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Name}))
		hd.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	default:
		hd.Set("Content-Type", "application/octet-stream")
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
		hd.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}
