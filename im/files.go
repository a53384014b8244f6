package im

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // decoders for thumbnails
	"image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
)

// File is an uploaded file or image. Only members of its conversation may
// download it.
type File struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	OrgID          string    `json:"-"`
	UploaderID     string    `json:"uploader_id"`
	Name           string    `json:"name"`
	ContentType    string    `json:"content_type"` // sniffed from the content, never from the name
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	Width          int       `json:"width,omitempty"`
	Height         int       `json:"height,omitempty"`
	HasThumb       bool      `json:"has_thumb"`
	CreatedAt      time.Time `json:"created_at"`
}

// IsImage reports whether the file is an image shown inline.
func (f File) IsImage() bool { return inlineImages[f.ContentType] }

// Key is the file store key of the bytes; ThumbKey of the thumbnail.
func (f File) Key() string      { return "im/" + f.ConversationID + "/" + f.ID }
func (f File) ThumbKey() string { return f.Key() + ".thumb.jpg" }

// allowedTypes are the sniffed types accepted. HTML, XML (and with it SVG)
// and scripts are refused: they could run in a browser. Office documents
// sniff as zip, older ones and DICOM as octet-stream.
var allowedTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"application/pdf": true, "application/zip": true, "application/x-gzip": true, "application/octet-stream": true,
	"text/plain; charset=utf-8": true, "text/plain; charset=utf-16be": true, "text/plain; charset=utf-16le": true,
	"audio/mpeg": true, "audio/wave": true, "audio/aiff": true, "audio/ogg": true, "audio/mp4": true, "audio/amr": true,
	"video/mp4": true, "video/webm": true, "video/avi": true,
}

// inlineImages may be shown inline (as image/*, with nosniff and a sandbox).
var inlineImages = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// thumbnailable images are decoded for dimensions and a thumbnail.
var thumbnailable = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true}

const (
	thumbMax         = 320
	maxImagePixels   = 50_000_000 // refuse decompression bombs
	maxFileNameRunes = 255
)

// Upload stores a file for a conversation. Members only; the type is
// sniffed from the content; the size limit and the uploader's quota apply;
// images get a thumbnail. A refused upload stores nothing.
func (s *Service) Upload(ctx context.Context, a core.Actor, convID, name string, body io.Reader) (File, error) {
	uid, err := actorUser(a)
	if err != nil {
		return File{}, err
	}
	if s.files == nil {
		return File{}, core.Errorf(core.EUnavailable, "file uploads are not configured")
	}
	name = cleanFileName(name)
	c, _, err := membership(ctx, s.store, convID, uid)
	if err != nil {
		return File{}, err
	}
	if err := s.allow(ctx, a, c.OrgID, "im.message", "use"); err != nil {
		return File{}, err
	}
	used, err := s.store.UsedBytes(ctx, uid)
	if err != nil {
		return File{}, err
	}
	if used >= s.cfg.QuotaBytes {
		return File{}, quotaErr(s.cfg.QuotaBytes)
	}
	br := bufio.NewReaderSize(body, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return File{}, core.Invalid("file", "could not read the upload")
	}
	if len(head) == 0 {
		return File{}, core.Invalid("file", "the file is empty")
	}
	ctype := http.DetectContentType(head)
	if !allowedTypes[ctype] {
		return File{}, core.Invalid("file", "files of type %s are not accepted", strings.SplitN(ctype, ";", 2)[0]).With("content_type", ctype)
	}
	f := File{ID: core.NewID(), ConversationID: c.ID, OrgID: c.OrgID, UploaderID: uid, Name: name, ContentType: ctype, CreatedAt: s.clock.Now()}
	limit := s.cfg.MaxFileBytes
	if left := s.cfg.QuotaBytes - used; left < limit {
		limit = left
	}
	var thumb []byte
	if thumbnailable[ctype] {
		// Images are read whole (bounded by the limit) to decode them.
		data, err := io.ReadAll(io.LimitReader(br, limit+1))
		if err != nil {
			return File{}, core.Invalid("file", "could not read the upload")
		}
		if int64(len(data)) > limit {
			return File{}, s.sizeErr(limit, used)
		}
		f.Width, f.Height, thumb = makeThumbnail(data)
		f.HasThumb = thumb != nil
		f.Size = int64(len(data))
		sum := sha256.Sum256(data)
		f.SHA256 = hex.EncodeToString(sum[:])
		if err := s.files.Put(ctx, f.Key(), bytes.NewReader(data), f.Size, ctype); err != nil {
			return File{}, err
		}
	} else {
		h := sha256.New()
		cr := &cappedReader{r: br, left: limit}
		if err := s.files.Put(ctx, f.Key(), io.TeeReader(cr, h), -1, ctype); err != nil {
			if cr.over {
				return File{}, s.sizeErr(limit, used)
			}
			return File{}, err
		}
		f.Size, f.SHA256 = cr.n, hex.EncodeToString(h.Sum(nil))
	}
	if thumb != nil {
		if err := s.files.Put(ctx, f.ThumbKey(), bytes.NewReader(thumb), int64(len(thumb)), "image/jpeg"); err != nil {
			s.dropBlobs(ctx, f)
			return File{}, err
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		// Checked again inside the transaction: parallel uploads must not
		// overshoot the quota together.
		used, err := tx.UsedBytes(ctx, uid)
		if err != nil {
			return err
		}
		if used+f.Size > s.cfg.QuotaBytes {
			return quotaErr(s.cfg.QuotaBytes)
		}
		return tx.InsertFile(ctx, f)
	})
	if err != nil {
		s.dropBlobs(ctx, f)
		return File{}, err
	}
	return f, nil
}

func (s *Service) sizeErr(limit, used int64) error {
	if limit < s.cfg.MaxFileBytes {
		return quotaErr(s.cfg.QuotaBytes)
	}
	return (&core.Error{Code: core.ETooLarge, Field: "file", Message: "the file is larger than the limit"}).With("limit", s.cfg.MaxFileBytes)
}

func quotaErr(q int64) error {
	return (&core.Error{Code: core.ETooLarge, Field: "file", Message: "your file quota is used up"}).With("quota", q)
}

func (s *Service) dropBlobs(ctx context.Context, f File) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range []string{f.Key(), f.ThumbKey()} {
		if err := s.files.Delete(ctx, k); err != nil {
			s.log.Warn("im: deleting file bytes failed", "key", k, "err", err)
		}
	}
}

func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if !utf8.ValidString(name) || name == "." || name == "/" || name == "" {
		name = "file"
	}
	if utf8.RuneCountInString(name) > maxFileNameRunes {
		name = string([]rune(name)[:maxFileNameRunes])
	}
	return name
}

// cappedReader fails once more than left bytes are read.
type cappedReader struct {
	r    io.Reader
	left int64
	n    int64
	over bool
}

var errTooBig = errors.New("im: upload over the limit")

func (c *cappedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.left {
		c.over = true
		return 0, errTooBig
	}
	return n, err
}

// makeThumbnail decodes an image and returns its size and a JPEG thumbnail
// no larger than thumbMax on either side; nil when it cannot be decoded
// (the file is still stored, just without a preview).
func makeThumbnail(data []byte) (w, h int, thumb []byte) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return 0, 0, nil
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return cfg.Width, cfg.Height, nil
	}
	tw, th := cfg.Width, cfg.Height
	if tw > thumbMax || th > thumbMax {
		if tw >= th {
			tw, th = thumbMax, max(1, th*thumbMax/cfg.Width)
		} else {
			tw, th = max(1, tw*thumbMax/cfg.Height), thumbMax
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	b := src.Bounds()
	// Box sampling: each thumbnail pixel averages its source block.
	for y := 0; y < th; y++ {
		y0, y1 := b.Min.Y+y*b.Dy()/th, b.Min.Y+(y+1)*b.Dy()/th
		if y1 <= y0 {
			y1 = y0 + 1
		}
		for x := 0; x < tw; x++ {
			x0, x1 := b.Min.X+x*b.Dx()/tw, b.Min.X+(x+1)*b.Dx()/tw
			if x1 <= x0 {
				x1 = x0 + 1
			}
			var r, g, bl, n uint64
			step := max(1, (x1-x0)*(y1-y0)/64) // sample at most ~64 pixels per block
			i := 0
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					if i%step == 0 {
						cr, cg, cb, ca := src.At(sx, sy).RGBA()
						// Composite over white.
						r += uint64(cr + (0xffff - ca))
						g += uint64(cg + (0xffff - ca))
						bl += uint64(cb + (0xffff - ca))
						n++
					}
					i++
				}
			}
			dst.Set(x, y, color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: 0xffff})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80}); err != nil {
		return cfg.Width, cfg.Height, nil
	}
	return cfg.Width, cfg.Height, buf.Bytes()
}

// OpenFile opens a file (or its thumbnail) for a member of its conversation.
// The caller closes the reader.
func (s *Service) OpenFile(ctx context.Context, a core.Actor, fileID string, thumb bool) (File, io.ReadCloser, error) {
	uid, err := actorUser(a)
	if err != nil {
		return File{}, nil, err
	}
	if s.files == nil {
		return File{}, nil, core.Errorf(core.EUnavailable, "files are not configured")
	}
	if !core.ValidID(fileID) {
		return File{}, nil, core.Invalid("id", "id is not a valid id")
	}
	f, err := s.store.File(ctx, fileID)
	if err != nil {
		return File{}, nil, err
	}
	if _, _, err := membership(ctx, s.store, f.ConversationID, uid); err != nil {
		if core.IsCode(err, core.EForbidden) {
			// Do not reveal that the file exists.
			return File{}, nil, core.Errorf(core.ENotFound, "file not found")
		}
		return File{}, nil, err
	}
	key := f.Key()
	if thumb {
		if !f.HasThumb {
			return File{}, nil, core.Errorf(core.ENotFound, "this file has no thumbnail")
		}
		key = f.ThumbKey()
	}
	rc, _, err := s.files.Get(ctx, key)
	if err != nil {
		return File{}, nil, err
	}
	return f, rc, nil
}

// attachFile checks that a message may carry the file: uploaded by the
// sender into this conversation, and an image for image messages.
func attachFile(ctx context.Context, r Reader, m *Message) error {
	f, err := r.File(ctx, m.FileID)
	if err != nil || f.ConversationID != m.ConversationID || f.UploaderID != m.SenderID {
		return core.Invalid("file_id", "upload the file to this conversation first")
	}
	if m.Kind == KindImage && !f.IsImage() {
		return core.Invalid("kind", "the file is not an image")
	}
	return nil
}
