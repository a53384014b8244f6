package sdk

import (
	"time"

	pb "github.com/roundshq/rounds/plugins/sdk/internal/proto"
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func messageToPB(m Message) *pb.MessagePosted {
	return &pb.MessagePosted{MessageId: m.ID, ConversationId: m.ConversationID, SenderId: m.SenderID, Text: m.Text, AtMs: ms(m.At)}
}

func messageFromPB(m *pb.MessagePosted) Message {
	return Message{ID: m.GetMessageId(), ConversationID: m.GetConversationId(), SenderID: m.GetSenderId(), Text: m.GetText(), At: fromMs(m.GetAtMs())}
}

func approvalToPB(a Approval) *pb.Approval {
	return &pb.Approval{Id: a.ID, Template: a.Template, ApplicantId: a.ApplicantID, Status: a.Status, Form: a.Form, CreatedMs: ms(a.CreatedAt)}
}

func approvalFromPB(a *pb.Approval) Approval {
	return Approval{ID: a.GetId(), Template: a.GetTemplate(), ApplicantID: a.GetApplicantId(), Status: a.GetStatus(), Form: a.GetForm(), CreatedAt: fromMs(a.GetCreatedMs())}
}

func rosterToPB(r Roster) *pb.Roster {
	out := &pb.Roster{Id: r.ID, DepartmentId: r.DepartmentID, Month: r.Month, Status: r.Status}
	for _, a := range r.Assignments {
		out.Assignments = append(out.Assignments, &pb.Assignment{UserId: a.UserID, Date: a.Date, Shift: a.Shift})
	}
	return out
}

func rosterFromPB(r *pb.Roster) Roster {
	out := Roster{ID: r.GetId(), DepartmentID: r.GetDepartmentId(), Month: r.GetMonth(), Status: r.GetStatus()}
	for _, a := range r.GetAssignments() {
		out.Assignments = append(out.Assignments, Assignment{UserID: a.GetUserId(), Date: a.GetDate(), Shift: a.GetShift()})
	}
	return out
}

func actorToPB(a Actor) *pb.Actor { return &pb.Actor{UserId: a.UserID, OrgId: a.OrgID} }

func actorFromPB(a *pb.Actor) Actor { return Actor{UserID: a.GetUserId(), OrgID: a.GetOrgId()} }
