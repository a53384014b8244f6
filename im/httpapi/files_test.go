package imhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files/localdisk"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

func (a api) upload(user, convID, name string, data []byte) (int, im.File, httpapi.ErrorBody) {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", a.srv.URL+"/api/v1/im/conversations/"+convID+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var f im.File
	var e httpapi.ErrorBody
	if resp.StatusCode == 201 {
		_ = json.Unmarshal(raw, &f)
	} else {
		_ = json.Unmarshal(raw, &e)
	}
	return resp.StatusCode, f, e
}

func (a api) get(user, path string) (*http.Response, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func testPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func TestFiles(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}...)
	fs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := im.NewService(im.Deps{Store: sqlstore.New(db), Files: fs}, im.Config{MaxFileBytes: 64 << 10, QuotaBytes: 100 << 10})
	a := newAPIWith(t, svc)
	doctor, nurse, outsider := core.NewID(), core.NewID(), core.NewID()
	g, err := svc.CreateGroup(context.Background(), core.Actor{UserID: doctor, OrgID: "org"}, "影像", []string{nurse})
	if err != nil {
		t.Fatal(err)
	}

	// An image: stored with its sniffed type, dimensions and a thumbnail.
	pic := testPNG(640, 320)
	code, f, e := a.upload(doctor, g.ID, "x光片.jpg", pic) // the name says jpg; the content is PNG
	if code != 201 || f.ContentType != "image/png" || f.Width != 640 || f.Height != 320 || !f.HasThumb || f.Size != int64(len(pic)) {
		t.Fatalf("upload image: %d %+v %+v", code, f, e)
	}
	resp, body := a.get(nurse, "/api/v1/im/files/"+f.ID)
	if resp.StatusCode != 200 || !bytes.Equal(body, pic) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("download image: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = a.get(nurse, "/api/v1/im/files/"+f.ID+"?thumb=1")
	if resp.StatusCode != 200 {
		t.Fatalf("thumbnail: %d", resp.StatusCode)
	}
	th, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil || th.Bounds().Dx() != 320 || th.Bounds().Dy() != 160 {
		t.Fatalf("thumbnail is not a 320x160 JPEG: %v %v", err, th)
	}
	if resp, _ := a.get(outsider, "/api/v1/im/files/"+f.ID); resp.StatusCode != 404 {
		t.Fatalf("outsider download: %d", resp.StatusCode)
	}

	// A document: always an attachment.
	code, doc, _ := a.upload(doctor, g.ID, "报告.pdf", []byte("%PDF-1.4\n%fake pdf body"))
	if code != 201 || doc.ContentType != "application/pdf" {
		t.Fatalf("pdf: %d %+v", code, doc)
	}
	resp, _ = a.get(nurse, "/api/v1/im/files/"+doc.ID)
	if resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("pdf download headers %v", resp.Header)
	}

	before, _ := fs.List(context.Background(), "im/")
	refused := []struct {
		name, user, file string
		data             []byte
		status           int
		code             string
	}{
		{"HTML by content, named .png", doctor, "cat.png", []byte("<!DOCTYPE html><script>alert(1)</script>"), 400, "invalid"},
		{"SVG/XML", doctor, "logo.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), 400, "invalid"},
		{"over the size limit", doctor, "big.bin", bytes.Repeat([]byte{0, 1, 2, 3}, 20<<10), 413, "too_large"},
		{"not a member", outsider, "a.txt", []byte("hello"), 403, "forbidden"},
		{"empty", doctor, "empty.txt", nil, 400, "invalid"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			code, _, e := a.upload(tc.user, g.ID, tc.file, tc.data)
			if code != tc.status || string(e.Code) != tc.code {
				t.Fatalf("got %d %+v, want %d %s", code, e, tc.status, tc.code)
			}
		})
	}
	after, _ := fs.List(context.Background(), "im/")
	if len(after) != len(before) {
		t.Fatalf("refused uploads left %d objects behind", len(after)-len(before))
	}
	// Quota: 100 KiB in total per person.
	sixty := bytes.Repeat([]byte{9, 8, 7, 6}, 15<<10)
	if code, _, e := a.upload(doctor, g.ID, "one.bin", sixty); code != 201 {
		t.Fatalf("first 60 KiB: %d %+v", code, e)
	}
	code, _, e = a.upload(doctor, g.ID, "two.bin", sixty)
	if code != 413 || e.Details["quota"] == nil {
		t.Fatalf("quota: %d %+v", code, e)
	}
	if code, _, _ := a.upload(nurse, g.ID, "nurse.bin", sixty); code != 201 {
		t.Fatalf("another person's quota is separate: %d", code)
	}

	// Sending the image, then recalling it: the file is gone for everyone.
	var m im.Message
	if code := a.do(doctor, "POST", "/api/v1/im/conversations/"+g.ID+"/messages", map[string]any{"client_msg_id": "img", "kind": "image", "file_id": f.ID, "text": ""}, &m); code != 201 {
		t.Fatalf("send image: %d", code)
	}
	var eb httpapi.ErrorBody
	if code := a.do(nurse, "POST", "/api/v1/im/conversations/"+g.ID+"/messages", map[string]any{"client_msg_id": "steal", "kind": "file", "file_id": doc.ID, "text": ""}, &eb); code != 400 {
		t.Fatalf("sending someone else's upload: %d %+v", code, eb)
	}
	if code := a.do(doctor, "POST", "/api/v1/im/messages/"+m.ID+"/recall", nil, nil); code != 200 {
		t.Fatalf("recall: %d", code)
	}
	if resp, _ := a.get(nurse, "/api/v1/im/files/"+f.ID); resp.StatusCode != 404 {
		t.Fatalf("file of a recalled message still served: %d", resp.StatusCode)
	}
}
