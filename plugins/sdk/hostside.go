package sdk

// This file is the host's side of the protocol. The Rounds server uses it to
// start apps and serve them the host API; apps never need it.

import (
	"context"
	"net/http"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/roundshq/rounds/plugins/sdk/internal/proto"
)

// PluginSets is the versioned plugin set the host gives go-plugin's
// ClientConfig.VersionedPlugins; Dispense("app") on the client returns an
// *AppClient. Since v0.1.0.
func PluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &appPlugin{}}}
}

// PluginName is the name to Dispense. Since v0.1.0.
const PluginName = pluginName

// AppClient is the host's handle on one app process: it delivers hooks and
// serves the host API to that process. Since v0.1.0.
type AppClient struct {
	c      pb.AppClient
	broker *plugin.GRPCBroker
}

// HTTPRequest is a request the host forwards to an app's HTTP hook.
// Since v0.1.0.
type HTTPRequest struct {
	Method string
	Path   string // relative to /plugins/{id}
	Query  string
	Header http.Header
	Body   []byte
	Actor  Actor
}

// HTTPResponse is an app's answer. Since v0.1.0.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Start serves host — the host API bound to this one install — to the app
// over the broker (with opts, e.g. message size limits) and activates the
// app. The app can never name another install: its only connection to the
// host API is this one. Since v0.1.0.
func (a *AppClient) Start(ctx context.Context, inst Install, host Host, opts ...grpc.ServerOption) error {
	id := a.broker.NextId()
	go a.broker.AcceptAndServe(id, func(base []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(append(base, opts...)...)
		pb.RegisterHostAPIServer(s, &hostAPIServer{h: host})
		return s
	})
	_, err := a.c.Start(ctx, &pb.StartRequest{HostApiBrokerId: id, InstallId: inst.ID, OrgId: inst.OrgID, AppId: inst.AppID,
		BotUserId: inst.BotUserID, Settings: inst.Settings, ServerVersion: inst.ServerVersion})
	return fromStatus(err)
}

// Ping checks the app answers and returns its SDK version. Since v0.1.0.
func (a *AppClient) Ping(ctx context.Context) (string, error) {
	r, err := a.c.Ping(ctx, &pb.Empty{})
	if err != nil {
		return "", fromStatus(err)
	}
	return r.GetAppVersion(), nil
}

// MessagePosted delivers the message_posted hook. Since v0.1.0.
func (a *AppClient) MessagePosted(ctx context.Context, m Message) error {
	_, err := a.c.OnMessagePosted(ctx, messageToPB(m))
	return fromStatus(err)
}

// ApprovalFinished delivers the approval_finished hook. Since v0.1.0.
func (a *AppClient) ApprovalFinished(ctx context.Context, e ApprovalFinished) error {
	_, err := a.c.OnApprovalFinished(ctx, &pb.ApprovalFinished{ApprovalId: e.ApprovalID, Template: e.Template,
		ApplicantId: e.ApplicantID, Outcome: e.Outcome, AtMs: ms(e.At)})
	return fromStatus(err)
}

// RosterPublished delivers the roster_published hook. Since v0.1.0.
func (a *AppClient) RosterPublished(ctx context.Context, e RosterPublished) error {
	_, err := a.c.OnRosterPublished(ctx, &pb.RosterPublished{RosterId: e.RosterID, DepartmentId: e.DepartmentID, Month: e.Month, AtMs: ms(e.At)})
	return fromStatus(err)
}

// StaffChanged delivers the staff_changed hook. Since v0.1.0.
func (a *AppClient) StaffChanged(ctx context.Context, e StaffChange) error {
	_, err := a.c.OnStaffChanged(ctx, &pb.StaffChanged{UserId: e.UserID, DepartmentId: e.DepartmentID, Joined: e.Joined, AtMs: ms(e.At)})
	return fromStatus(err)
}

// Job runs a scheduled job. Since v0.1.0.
func (a *AppClient) Job(ctx context.Context, j Job) error {
	_, err := a.c.OnJob(ctx, &pb.JobRequest{Name: j.Name, AtMs: ms(j.At)})
	return fromStatus(err)
}

// Command delivers a slash command and returns the app's reply.
// Since v0.1.0.
func (a *AppClient) Command(ctx context.Context, c Command) (string, error) {
	r, err := a.c.OnCommand(ctx, &pb.CommandRequest{Command: c.Command, Args: c.Args, ConversationId: c.ConversationID, Actor: actorToPB(c.Actor)})
	if err != nil {
		return "", fromStatus(err)
	}
	return r.GetText(), nil
}

// HTTP forwards a request to the app's HTTP hook. Since v0.1.0.
func (a *AppClient) HTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error) {
	in := &pb.HTTPRequest{Method: req.Method, Path: req.Path, Query: req.Query, Body: req.Body, Actor: actorToPB(req.Actor)}
	for k, vs := range req.Header {
		in.Headers = append(in.Headers, &pb.Header{Name: k, Values: vs})
	}
	r, err := a.c.OnHTTP(ctx, in)
	if err != nil {
		return HTTPResponse{}, fromStatus(err)
	}
	out := HTTPResponse{Status: int(r.GetStatus()), Header: http.Header{}, Body: r.GetBody()}
	for _, h := range r.GetHeaders() {
		out.Header[http.CanonicalHeaderKey(h.GetName())] = h.GetValues()
	}
	return out, nil
}

// hostAPIServer serves one install's Host over gRPC.
type hostAPIServer struct {
	pb.UnimplementedHostAPIServer
	h Host
}

func (s *hostAPIServer) ListDepartments(ctx context.Context, r *pb.DirectoryRequest) (*pb.DepartmentList, error) {
	ds, err := s.h.Departments(ctx, r.GetDepartmentId())
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.DepartmentList{}
	for _, d := range ds {
		out.Items = append(out.Items, &pb.Department{Id: d.ID, ParentId: d.ParentID, Name: d.Name})
	}
	return out, nil
}

func (s *hostAPIServer) ListStaff(ctx context.Context, r *pb.DirectoryRequest) (*pb.StaffList, error) {
	ss, err := s.h.Staff(ctx, r.GetDepartmentId())
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.StaffList{}
	for _, p := range ss {
		out.Items = append(out.Items, &pb.Staff{UserId: p.UserID, Name: p.Name, DepartmentId: p.DepartmentID, Position: p.Position})
	}
	return out, nil
}

func (s *hostAPIServer) SendMessage(ctx context.Context, r *pb.SendMessageRequest) (*pb.SendMessageReply, error) {
	id, err := s.h.SendMessage(ctx, r.GetConversationId(), r.GetText())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SendMessageReply{MessageId: id}, nil
}

func (s *hostAPIServer) ListMessages(ctx context.Context, r *pb.ListMessagesRequest) (*pb.MessageList, error) {
	ms, err := s.h.Messages(ctx, r.GetConversationId(), int(r.GetLimit()))
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.MessageList{}
	for _, m := range ms {
		out.Items = append(out.Items, messageToPB(m))
	}
	return out, nil
}

func (s *hostAPIServer) GetApproval(ctx context.Context, r *pb.ApprovalRequest) (*pb.Approval, error) {
	a, err := s.h.Approval(ctx, r.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return approvalToPB(a), nil
}

func (s *hostAPIServer) SubmitApproval(ctx context.Context, r *pb.SubmitApprovalRequest) (*pb.Approval, error) {
	a, err := s.h.SubmitApproval(ctx, ApprovalSubmission{Template: r.GetTemplate(), ApplicantID: r.GetApplicantId(), Form: r.GetForm()})
	if err != nil {
		return nil, toStatus(err)
	}
	return approvalToPB(a), nil
}

func (s *hostAPIServer) GetRoster(ctx context.Context, r *pb.RosterRequest) (*pb.Roster, error) {
	ro, err := s.h.Roster(ctx, r.GetDepartmentId(), r.GetMonth())
	if err != nil {
		return nil, toStatus(err)
	}
	return rosterToPB(ro), nil
}

func (s *hostAPIServer) SaveRosterDraft(ctx context.Context, r *pb.Roster) (*pb.Roster, error) {
	ro, err := s.h.SaveRosterDraft(ctx, rosterFromPB(r))
	if err != nil {
		return nil, toStatus(err)
	}
	return rosterToPB(ro), nil
}

func (s *hostAPIServer) GetRosterSetup(ctx context.Context, r *pb.RosterRequest) (*pb.RosterSetup, error) {
	rs, err := s.h.RosterSetup(ctx, r.GetDepartmentId(), r.GetMonth())
	if err != nil {
		return nil, toStatus(err)
	}
	return rosterSetupToPB(rs), nil
}

func (s *hostAPIServer) SendDirectMessage(ctx context.Context, r *pb.DirectMessageRequest) (*pb.SendMessageReply, error) {
	id, err := s.h.SendDirectMessage(ctx, r.GetUserId(), r.GetText())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SendMessageReply{MessageId: id}, nil
}

func (s *hostAPIServer) ListAttendance(ctx context.Context, r *pb.AttendanceRequest) (*pb.AttendanceList, error) {
	rs, err := s.h.Attendance(ctx, AttendanceQuery{DepartmentID: r.GetDepartmentId(), From: r.GetFromDate(), To: r.GetToDate()})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.AttendanceList{}
	for _, a := range rs {
		out.Items = append(out.Items, &pb.AttendanceRecord{UserId: a.UserID, Date: a.Date, Status: a.Status,
			ClockInMs: ms(a.ClockIn), ClockOutMs: ms(a.ClockOut)})
	}
	return out, nil
}

func (s *hostAPIServer) KVGet(ctx context.Context, r *pb.KVKey) (*pb.KVValue, error) {
	v, found, err := s.h.KVGet(ctx, r.GetKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.KVValue{Key: r.GetKey(), Value: v, Found: found}, nil
}

func (s *hostAPIServer) KVSet(ctx context.Context, r *pb.KVValue) (*pb.Empty, error) {
	return &pb.Empty{}, toStatus(s.h.KVSet(ctx, r.GetKey(), r.GetValue()))
}

func (s *hostAPIServer) KVDelete(ctx context.Context, r *pb.KVKey) (*pb.Empty, error) {
	return &pb.Empty{}, toStatus(s.h.KVDelete(ctx, r.GetKey()))
}

func (s *hostAPIServer) KVList(ctx context.Context, r *pb.KVListRequest) (*pb.KVKeys, error) {
	keys, err := s.h.KVKeys(ctx, r.GetPrefix(), int(r.GetLimit()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.KVKeys{Keys: keys}, nil
}
