package im_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/localdisk"
	"github.com/roundshq/rounds/core/search"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

type retentionEnv struct {
	svc   *im.Service
	clock *imtest.Clock
	audit *imtest.AuditLog
	files files.Store
	index search.Index
	admin string
}

func newRetentionEnv(t *testing.T, db *sqldb.DB) *retentionEnv {
	fs, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &retentionEnv{clock: imtest.NewClock(time.Now()), audit: &imtest.AuditLog{}, files: fs, index: openIndex(t), admin: core.NewID()}
	e.svc = im.NewService(im.Deps{Store: sqlstore.New(db), Clock: e.clock, Files: fs, Index: e.index, Audit: e.audit,
		Authorizer: imtest.Authorizer{Admins: map[string]bool{e.admin: true}}}, im.Config{ReceiptWindow: time.Hour})
	return e
}

func (e *retentionEnv) sendFile(t *testing.T, u, conv, name string, body []byte) (im.Message, im.File) {
	t.Helper()
	f, err := e.svc.Upload(ctx, actor(u), conv, name, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.svc.Send(ctx, actor(u), im.SendRequest{ConversationID: conv, ClientMsgID: core.NewID(), Kind: im.KindFile, Text: "见附件", FileID: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	return m, f
}

func (e *retentionEnv) found(t *testing.T, u, conv, text string) int {
	t.Helper()
	res, err := e.svc.Search(ctx, actor(u), im.SearchRequest{Text: text, ConversationID: conv})
	if err != nil {
		t.Fatal(err)
	}
	// Count the index's own answer too: purged messages must leave it.
	r, err := e.index.Search(ctx, search.Query{Kind: "message", OrgID: "org", Scopes: []string{conv}, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != len(res.Messages) {
		t.Fatalf("index holds %d hits for %q, the store %d", r.Total, text, len(res.Messages))
	}
	return len(res.Messages)
}

func TestRetention(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newRetentionEnv(t, db)
		svc, admin := e.svc, actor(e.admin)
		doctor, nurse := core.NewID(), core.NewID()
		ward, _ := svc.CreateGroup(ctx, actor(doctor), "5病区", []string{nurse})
		held, _ := svc.CreateGroup(ctx, actor(doctor), "纠纷讨论", []string{nurse})

		t.Run("policy is for org admins and validated", func(t *testing.T) {
			_, err := svc.SetRetentionPolicy(ctx, actor(nurse), "org", 30, 7)
			wantCode(t, err, core.EForbidden)
			if d := e.audit.Entries("im.retention.set"); len(d) != 1 || d[0].Result != audit.ResultDenied || d[0].ActorID != nurse {
				t.Fatalf("denied attempt not audited: %+v", d)
			}
			_, err = svc.RetentionPolicy(ctx, actor(nurse), "org")
			wantCode(t, err, core.EForbidden)
			for _, c := range []struct {
				msg, file int
				field     string
			}{{-1, 0, "message_days"}, {0, 40000, "file_days"}} {
				_, err := svc.SetRetentionPolicy(ctx, admin, "org", c.msg, c.file)
				var ce *core.Error
				if !core.IsCode(err, core.EInvalid) || !asCoreError(err, &ce) || ce.Field != c.field {
					t.Fatalf("%+v: %v", c, err)
				}
			}
			p, err := svc.SetRetentionPolicy(ctx, admin, "org", 30, 7)
			if err != nil || p.MessageDays != 30 || p.FileDays != 7 || p.UpdatedBy != e.admin {
				t.Fatalf("set: %+v %v", p, err)
			}
			got, err := svc.RetentionPolicy(ctx, admin, "org")
			if err != nil || got.MessageDays != 30 || got.FileDays != 7 {
				t.Fatalf("get: %+v %v", got, err)
			}
			ok := e.audit.Entries("im.retention.set")
			if len(ok) != 2 || ok[1].Result != audit.ResultOK || ok[1].ActorID != e.admin || ok[1].OrgID != "org" ||
				ok[1].Details["message_days"] != 30 || ok[1].Details["old_message_days"] != 0 {
				t.Fatalf("policy change audit: %+v", ok)
			}
		})

		// Content sent now; the clock moves on below.
		m1 := send(t, svc, doctor, ward.ID, "3床 低钾 请复查")
		fm, wardFile := e.sendFile(t, nurse, ward.ID, "化验单.pdf", []byte("%PDF-1.4 lab"))
		if err := svc.React(ctx, actor(nurse), m1.ID, "👍", true); err != nil {
			t.Fatal(err)
		}
		h1 := send(t, svc, doctor, held.ID, "低钾 患者家属投诉")
		_, heldFile := e.sendFile(t, nurse, held.ID, "录音.pdf", []byte("%PDF-1.4 record"))

		var hold im.LegalHold
		t.Run("holds", func(t *testing.T) {
			_, err := svc.PlaceHold(ctx, actor(nurse), "org", im.HoldRequest{ConversationID: held.ID, Reason: "r", CaseNumber: "c"})
			wantCode(t, err, core.EForbidden)
			for _, c := range []struct {
				req   im.HoldRequest
				field string
			}{
				{im.HoldRequest{ConversationID: held.ID, UserID: nurse, Reason: "r", CaseNumber: "c"}, "user_id"},
				{im.HoldRequest{Reason: "r", CaseNumber: "c"}, "conversation_id"},
				{im.HoldRequest{ConversationID: "nope", Reason: "r", CaseNumber: "c"}, "conversation_id"},
				{im.HoldRequest{ConversationID: held.ID, Reason: "  ", CaseNumber: "c"}, "reason"},
				{im.HoldRequest{ConversationID: held.ID, Reason: "r"}, "case_number"},
			} {
				_, err := svc.PlaceHold(ctx, admin, "org", c.req)
				var ce *core.Error
				if !asCoreError(err, &ce) || ce.Code != core.EInvalid || ce.Field != c.field {
					t.Fatalf("%+v: %v", c.req, err)
				}
			}
			_, err = svc.PlaceHold(ctx, admin, "other-hospital", im.HoldRequest{ConversationID: held.ID, Reason: "r", CaseNumber: "c"})
			wantCode(t, err, core.ENotFound)
			hold, err = svc.PlaceHold(ctx, admin, "org", im.HoldRequest{ConversationID: held.ID, Reason: "医疗纠纷 患者家属投诉", CaseNumber: "(2026)京0105民初123号"})
			if err != nil || !hold.Active() || hold.PlacedBy != e.admin {
				t.Fatalf("place: %+v %v", hold, err)
			}
			hs, err := svc.Holds(ctx, admin, "org", false)
			if err != nil || len(hs) != 1 || hs[0].ID != hold.ID {
				t.Fatalf("holds: %+v %v", hs, err)
			}
			d := e.audit.Entries("im.hold.place")
			if len(d) != 2 || d[0].Result != audit.ResultDenied || d[1].Result != audit.ResultOK || d[1].ObjectID != hold.ID || d[1].Details["case_number"] != hold.CaseNumber {
				t.Fatalf("hold audit: %+v", d)
			}
		})

		t.Run("files expire first, captions stay", func(t *testing.T) {
			e.clock.Advance(10 * 24 * time.Hour)
			n, err := svc.ApplyRetention(ctx, e.clock.Now())
			if err != nil || n != 1 {
				t.Fatalf("purged %d err=%v", n, err)
			}
			got, _ := svc.Message(ctx, actor(doctor), fm.ID)
			if got.FileID != "" || got.Text != "见附件" || got.Recalled() {
				t.Fatalf("file message after its file expired: %+v", got)
			}
			if _, _, err := e.files.Get(ctx, wardFile.Key()); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("expired file bytes: %v", err)
			}
			if _, rc, err := svc.OpenFile(ctx, actor(doctor), heldFile.ID, false); err != nil {
				t.Fatalf("held file: %v", err)
			} else {
				rc.Close()
			}
			if e.found(t, doctor, ward.ID, "低钾") != 1 {
				t.Fatal("message text went with the file")
			}
		})

		t.Run("messages expire except under hold", func(t *testing.T) {
			e.clock.Advance(25 * 24 * time.Hour)
			n, err := svc.ApplyRetention(ctx, e.clock.Now())
			if err != nil || n != 2 {
				t.Fatalf("purged %d err=%v", n, err)
			}
			hist, err := svc.History(ctx, actor(nurse), ward.ID, im.HistoryQuery{After: 0, Limit: 10})
			if err != nil || len(hist) != 2 {
				t.Fatalf("history %+v err=%v", hist, err)
			}
			for i, m := range hist {
				// Newest first; seqs stay 2, 1 with the content gone.
				if m.Seq != int64(2-i) || !m.Purged() || m.Text != "" || len(m.Reactions) != 0 {
					t.Fatalf("purged row %+v", m)
				}
			}
			if e.found(t, doctor, ward.ID, "低钾") != 0 {
				t.Fatal("purged message still found")
			}
			if got, _ := svc.Message(ctx, actor(doctor), h1.ID); got.Recalled() || got.Text != h1.Text {
				t.Fatalf("held message purged: %+v", got)
			}
			if e.found(t, doctor, held.ID, "低钾") != 1 {
				t.Fatal("held message left the index")
			}
			// The next message in the ward still takes seq 3.
			if m := send(t, svc, doctor, ward.ID, "new"); m.Seq != 3 {
				t.Fatalf("seq after purge = %d", m.Seq)
			}
			p := e.audit.Entries("im.retention.purge")
			if len(p) != 2 || p[1].ActorKind != string(core.ActorSystem) || p[1].Details["purged"] != 2 {
				t.Fatalf("purge audit %+v", p)
			}
		})

		t.Run("release lets retention purge", func(t *testing.T) {
			_, err := svc.ReleaseHold(ctx, actor(nurse), "org", hold.ID)
			wantCode(t, err, core.EForbidden)
			_, err = svc.ReleaseHold(ctx, admin, "other-hospital", hold.ID)
			wantCode(t, err, core.ENotFound)
			r, err := svc.ReleaseHold(ctx, admin, "org", hold.ID)
			if err != nil || r.Active() || r.ReleasedBy != e.admin {
				t.Fatalf("release %+v %v", r, err)
			}
			_, err = svc.ReleaseHold(ctx, admin, "org", hold.ID)
			wantCode(t, err, core.EConflict)
			if d := e.audit.Entries("im.hold.release"); len(d) != 2 || d[1].Result != audit.ResultOK || d[1].ObjectID != hold.ID {
				t.Fatalf("release audit %+v", d)
			}
			n, err := svc.ApplyRetention(ctx, e.clock.Now())
			if err != nil || n != 2 { // two messages; the file went with its message
				t.Fatalf("purged %d err=%v", n, err)
			}
			if got, _ := svc.Message(ctx, actor(doctor), h1.ID); !got.Purged() {
				t.Fatalf("released message kept: %+v", got)
			}
			if _, _, err := e.files.Get(ctx, heldFile.Key()); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("released file bytes: %v", err)
			}
		})
	})
}

func asCoreError(err error, target **core.Error) bool { return errors.As(err, target) }

func exportLines(t *testing.T, b []byte) []im.ExportRecord {
	t.Helper()
	var out []im.ExportRecord
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r im.ExportRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestExport(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newRetentionEnv(t, db)
		svc, admin := e.svc, actor(e.admin)
		doctor, nurse, other := core.NewID(), core.NewID(), core.NewID()
		g, _ := svc.CreateGroup(ctx, actor(doctor), "心内科", []string{nurse})
		m1 := send(t, svc, doctor, g.ID, `=HYPERLINK("x") 3床 "血压" 下降`)
		fm, f := e.sendFile(t, nurse, g.ID, "心电图.pdf", []byte("%PDF-1.4 ecg"))
		secret := send(t, svc, doctor, g.ID, "发错了 身份证号 110…")
		if _, err := svc.Recall(ctx, actor(doctor), secret.ID); err != nil {
			t.Fatal(err)
		}
		reply, err := svc.Send(ctx, actor(nurse), im.SendRequest{ConversationID: g.ID, ClientMsgID: "r1", Text: "收到", ReplyToID: m1.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.React(ctx, actor(doctor), reply.ID, "👌", true); err != nil {
			t.Fatal(err)
		}
		// The nurse's other conversation; the doctor is not in it.
		side, _ := svc.CreateGroup(ctx, actor(other), "护理部", []string{nurse})
		sideMsg := send(t, svc, other, side.ID, "排班已发布")
		e.clock.Advance(2 * time.Hour)
		late := send(t, svc, doctor, g.ID, "later")

		t.Run("conversation as JSON lines", func(t *testing.T) {
			var buf bytes.Buffer
			n, err := svc.Export(ctx, admin, "org", im.ExportRequest{ConversationID: g.ID}, &buf)
			if err != nil || n != 5 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			recs := exportLines(t, buf.Bytes())
			if len(recs) != 5 {
				t.Fatalf("%d lines", len(recs))
			}
			for i, r := range recs {
				if r.Seq != int64(i+1) || r.ConversationID != g.ID {
					t.Fatalf("line %d: %+v", i+1, r)
				}
			}
			if r := recs[0]; r.MessageID != m1.ID || r.Text != m1.Text || r.SenderID != doctor || r.Kind != im.KindText || r.Removed != "" || !r.CreatedAt.Equal(m1.CreatedAt.Truncate(time.Millisecond)) {
				t.Fatalf("line 1 %+v", r)
			}
			if r := recs[1]; r.MessageID != fm.ID || r.File == nil || r.File.ID != f.ID || r.File.Name != "心电图.pdf" || r.File.SHA256 != f.SHA256 || r.File.Size != f.Size || r.File.ContentType != "application/pdf" {
				t.Fatalf("line 2 (file) %+v %+v", r, r.File)
			}
			if r := recs[2]; r.MessageID != secret.ID || r.Removed != "recalled" || r.Text != "" || r.RemovedAt.IsZero() {
				t.Fatalf("line 3 (recalled) %+v", r)
			}
			if strings.Contains(buf.String(), "身份证") {
				t.Fatal("recalled content in the export")
			}
			if r := recs[3]; r.ReplyToID != m1.ID || len(r.Reactions) != 1 || r.Reactions[0].Emoji != "👌" || r.Reactions[0].UserIDs[0] != doctor {
				t.Fatalf("line 4 (reply) %+v", r)
			}
			a := e.audit.Entries("im.export.conversation")
			if len(a) != 1 || a[0].Result != audit.ResultOK || a[0].ActorID != e.admin || a[0].ObjectID != g.ID || a[0].Details["format"] != "jsonl" {
				t.Fatalf("export audit %+v", a)
			}
		})

		t.Run("conversation as CSV", func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := svc.Export(ctx, admin, "org", im.ExportRequest{ConversationID: g.ID, Format: im.ExportCSV}, &buf); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 6 || rows[0][0] != "message_id" || rows[0][5] != "text" || rows[0][12] != "file_content_type" {
				t.Fatalf("rows %v", rows)
			}
			if rows[1][0] != m1.ID || rows[1][2] != "1" || rows[1][5] != "'"+m1.Text {
				t.Fatalf("row 1 %q (a formula-looking text is quoted for spreadsheets)", rows[1])
			}
			if rows[2][10] != f.ID || rows[2][11] != "心电图.pdf" || rows[2][13] != "12" {
				t.Fatalf("row 2 %q", rows[2])
			}
			if rows[3][5] != "" || rows[3][17] != "recalled" || rows[3][18] == "" {
				t.Fatalf("row 3 %q", rows[3])
			}
		})

		t.Run("a person, sent and received, in a date range", func(t *testing.T) {
			var buf bytes.Buffer
			n, err := svc.Export(ctx, admin, "org", im.ExportRequest{UserID: nurse, To: e.clock.Now().Add(-time.Hour)}, &buf)
			if err != nil || n != 5 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			var ids []string
			for _, r := range exportLines(t, buf.Bytes()) {
				ids = append(ids, r.MessageID)
			}
			want := []string{m1.ID, fm.ID, secret.ID, reply.ID, sideMsg.ID}
			if strings.Join(ids, ",") != strings.Join(want, ",") {
				t.Fatalf("person export %v, want %v (late %s excluded by the range)", ids, want, late.ID)
			}
			buf.Reset()
			if n, err := svc.Export(ctx, admin, "org", im.ExportRequest{UserID: other}, &buf); err != nil || n != 1 {
				t.Fatalf("other's export n=%d err=%v", n, err)
			}
			if a := e.audit.Entries("im.export.person"); len(a) != 2 || a[0].ObjectID != nurse || a[0].Details["to"] == nil {
				t.Fatalf("person export audit %+v", a)
			}
		})

		t.Run("refusals write nothing", func(t *testing.T) {
			for _, c := range []struct {
				name  string
				actor core.Actor
				org   string
				req   im.ExportRequest
				code  core.Code
			}{
				{"staff", actor(doctor), "org", im.ExportRequest{ConversationID: g.ID}, core.EForbidden},
				{"both", admin, "org", im.ExportRequest{ConversationID: g.ID, UserID: nurse}, core.EInvalid},
				{"neither", admin, "org", im.ExportRequest{}, core.EInvalid},
				{"bad format", admin, "org", im.ExportRequest{ConversationID: g.ID, Format: "xlsx"}, core.EInvalid},
				{"range backwards", admin, "org", im.ExportRequest{UserID: nurse, From: e.clock.Now(), To: e.clock.Now().Add(-time.Hour)}, core.EInvalid},
				{"another hospital's conversation", admin, "other-hospital", im.ExportRequest{ConversationID: g.ID}, core.ENotFound},
				{"missing conversation", admin, "org", im.ExportRequest{ConversationID: core.NewID()}, core.ENotFound},
			} {
				t.Run(c.name, func(t *testing.T) {
					var buf bytes.Buffer
					n, err := svc.Export(ctx, c.actor, c.org, c.req, &buf)
					wantCode(t, err, c.code)
					if n != 0 || buf.Len() != 0 {
						t.Fatalf("wrote %d records, %d bytes", n, buf.Len())
					}
				})
			}
			denied := 0
			for _, a := range e.audit.Entries("im.export.conversation") {
				if a.Result == audit.ResultDenied && a.ActorID == doctor {
					denied++
				}
			}
			if denied != 1 {
				t.Fatalf("staff attempt audited %d times", denied)
			}
			e.audit.Fail = true
			defer func() { e.audit.Fail = false }()
			var buf bytes.Buffer
			_, err := svc.Export(ctx, admin, "org", im.ExportRequest{ConversationID: g.ID}, &buf)
			wantCode(t, err, core.EUnavailable)
			if buf.Len() != 0 {
				t.Fatal("exported without an audit entry")
			}
		})

		t.Run("purged content is absent", func(t *testing.T) {
			if _, err := svc.SetRetentionPolicy(ctx, admin, "org", 1, 0); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(25 * time.Hour)
			if _, err := svc.ApplyRetention(ctx, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := svc.Export(ctx, admin, "org", im.ExportRequest{ConversationID: g.ID}, &buf); err != nil {
				t.Fatal(err)
			}
			recs := exportLines(t, buf.Bytes())
			if len(recs) != 5 {
				t.Fatalf("%d records", len(recs))
			}
			for _, r := range recs {
				if r.Removed == "" || r.Text != "" || r.File != nil || len(r.Reactions) != 0 {
					t.Fatalf("content survived retention: %+v", r)
				}
				if r.MessageID != secret.ID && r.Removed != "purged" {
					t.Fatalf("%+v", r)
				}
			}
			if strings.Contains(buf.String(), "血压") || strings.Contains(buf.String(), "心电图") {
				t.Fatal("purged content in the export")
			}
			// A policy shorter than the event log's week prunes the log too:
			// message.posted events carry the text.
			evs, err := svc.Store().EventsAfter(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if strings.Contains(string(ev.Data), "血压") {
					t.Fatalf("purged text survives in the event log: %s", ev.Data)
				}
			}
		})
	})
}

func TestRunAppliesRetention(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, migrations()...)
	e := newRetentionEnv(t, db)
	doctor := core.NewID()
	g, err := e.svc.CreateGroup(ctx, actor(doctor), "夜班", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := send(t, e.svc, doctor, g.ID, "交班记录")
	if _, err := e.svc.SetRetentionPolicy(ctx, actor(e.admin), "org", 7, 0); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.svc.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := e.svc.Message(ctx, actor(doctor), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Purged() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not apply retention")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
