package sdk

import (
	"context"

	pb "github.com/roundshq/rounds/plugins/sdk/internal/proto"
)

// hostClient is the Host an app process gets: the host API over the
// go-plugin broker connection.
type hostClient struct{ c pb.HostAPIClient }

var _ Host = (*hostClient)(nil)

func (h *hostClient) Departments(ctx context.Context, rootID string) ([]Department, error) {
	r, err := h.c.ListDepartments(ctx, &pb.DirectoryRequest{DepartmentId: rootID})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Department, 0, len(r.GetItems()))
	for _, d := range r.GetItems() {
		out = append(out, Department{ID: d.GetId(), ParentID: d.GetParentId(), Name: d.GetName()})
	}
	return out, nil
}

func (h *hostClient) Staff(ctx context.Context, departmentID string) ([]Staff, error) {
	r, err := h.c.ListStaff(ctx, &pb.DirectoryRequest{DepartmentId: departmentID})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Staff, 0, len(r.GetItems()))
	for _, s := range r.GetItems() {
		out = append(out, Staff{UserID: s.GetUserId(), Name: s.GetName(), DepartmentID: s.GetDepartmentId(), Position: s.GetPosition()})
	}
	return out, nil
}

func (h *hostClient) SendMessage(ctx context.Context, conversationID, text string) (string, error) {
	r, err := h.c.SendMessage(ctx, &pb.SendMessageRequest{ConversationId: conversationID, Text: text})
	if err != nil {
		return "", fromStatus(err)
	}
	return r.GetMessageId(), nil
}

func (h *hostClient) Messages(ctx context.Context, conversationID string, limit int) ([]Message, error) {
	r, err := h.c.ListMessages(ctx, &pb.ListMessagesRequest{ConversationId: conversationID, Limit: int32(limit)})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Message, 0, len(r.GetItems()))
	for _, m := range r.GetItems() {
		out = append(out, messageFromPB(m))
	}
	return out, nil
}

func (h *hostClient) Approval(ctx context.Context, id string) (Approval, error) {
	r, err := h.c.GetApproval(ctx, &pb.ApprovalRequest{Id: id})
	if err != nil {
		return Approval{}, fromStatus(err)
	}
	return approvalFromPB(r), nil
}

func (h *hostClient) SubmitApproval(ctx context.Context, s ApprovalSubmission) (Approval, error) {
	r, err := h.c.SubmitApproval(ctx, &pb.SubmitApprovalRequest{Template: s.Template, ApplicantId: s.ApplicantID, Form: s.Form})
	if err != nil {
		return Approval{}, fromStatus(err)
	}
	return approvalFromPB(r), nil
}

func (h *hostClient) Roster(ctx context.Context, departmentID, month string) (Roster, error) {
	r, err := h.c.GetRoster(ctx, &pb.RosterRequest{DepartmentId: departmentID, Month: month})
	if err != nil {
		return Roster{}, fromStatus(err)
	}
	return rosterFromPB(r), nil
}

func (h *hostClient) SaveRosterDraft(ctx context.Context, ro Roster) (Roster, error) {
	r, err := h.c.SaveRosterDraft(ctx, rosterToPB(ro))
	if err != nil {
		return Roster{}, fromStatus(err)
	}
	return rosterFromPB(r), nil
}

func (h *hostClient) RosterSetup(ctx context.Context, departmentID, month string) (RosterSetup, error) {
	r, err := h.c.GetRosterSetup(ctx, &pb.RosterRequest{DepartmentId: departmentID, Month: month})
	if err != nil {
		return RosterSetup{}, fromStatus(err)
	}
	return rosterSetupFromPB(r), nil
}

func (h *hostClient) SendDirectMessage(ctx context.Context, userID, text string) (string, error) {
	r, err := h.c.SendDirectMessage(ctx, &pb.DirectMessageRequest{UserId: userID, Text: text})
	if err != nil {
		return "", fromStatus(err)
	}
	return r.GetMessageId(), nil
}

func (h *hostClient) Attendance(ctx context.Context, q AttendanceQuery) ([]AttendanceRecord, error) {
	r, err := h.c.ListAttendance(ctx, &pb.AttendanceRequest{DepartmentId: q.DepartmentID, FromDate: q.From, ToDate: q.To})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]AttendanceRecord, 0, len(r.GetItems()))
	for _, a := range r.GetItems() {
		out = append(out, AttendanceRecord{UserID: a.GetUserId(), Date: a.GetDate(), Status: a.GetStatus(),
			ClockIn: fromMs(a.GetClockInMs()), ClockOut: fromMs(a.GetClockOutMs())})
	}
	return out, nil
}

func (h *hostClient) KVGet(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := h.c.KVGet(ctx, &pb.KVKey{Key: key})
	if err != nil {
		return nil, false, fromStatus(err)
	}
	return r.GetValue(), r.GetFound(), nil
}

func (h *hostClient) KVSet(ctx context.Context, key string, value []byte) error {
	_, err := h.c.KVSet(ctx, &pb.KVValue{Key: key, Value: value})
	return fromStatus(err)
}

func (h *hostClient) KVDelete(ctx context.Context, key string) error {
	_, err := h.c.KVDelete(ctx, &pb.KVKey{Key: key})
	return fromStatus(err)
}

func (h *hostClient) KVKeys(ctx context.Context, prefix string, limit int) ([]string, error) {
	r, err := h.c.KVList(ctx, &pb.KVListRequest{Prefix: prefix, Limit: int32(limit)})
	if err != nil {
		return nil, fromStatus(err)
	}
	return r.GetKeys(), nil
}
