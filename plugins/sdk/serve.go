package sdk

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/roundshq/rounds/plugins/sdk/internal/proto"
)

// Handshake is the go-plugin handshake shared by the host and apps: a
// program started by hand (not by the host) stops with a message instead of
// serving. Since v0.1.0.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ROUNDS_APP_PLUGIN",
	MagicCookieValue: "5f0c1b7e-rounds-hospital-app",
}

// pluginName is the one plugin each app process offers.
const pluginName = "app"

// Serve runs app as a Rounds app process until the host stops it. Call it
// from main and from nowhere else. Since v0.1.0.
func Serve(app App) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &appPlugin{app: app}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

// appPlugin is the go-plugin glue on both sides: GRPCServer runs in the app,
// GRPCClient in the host.
type appPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	app App
}

func (p *appPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterAppServer(s, &appServer{app: p.app, broker: broker})
	return nil
}

func (p *appPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &AppClient{c: pb.NewAppClient(c), broker: broker}, nil
}

// appServer answers the host's calls inside the app process.
type appServer struct {
	pb.UnimplementedAppServer
	app    App
	broker *plugin.GRPCBroker

	mu      sync.Mutex
	started bool
}

func (s *appServer) Start(ctx context.Context, req *pb.StartRequest) (*pb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil, toStatus(Errorf(CodeConflict, "app already started"))
	}
	conn, err := s.broker.Dial(req.GetHostApiBrokerId())
	if err != nil {
		return nil, toStatus(Errorf(CodeUnavailable, "cannot reach the host API: %v", err))
	}
	host := &hostClient{c: pb.NewHostAPIClient(conn)}
	inst := Install{ID: req.GetInstallId(), OrgID: req.GetOrgId(), AppID: req.GetAppId(), BotUserID: req.GetBotUserId(),
		Settings: req.GetSettings(), ServerVersion: req.GetServerVersion()}
	if err := s.app.Activate(ctx, host, inst); err != nil {
		return nil, toStatus(err)
	}
	s.started = true
	return &pb.Empty{}, nil
}

func (s *appServer) Ping(context.Context, *pb.Empty) (*pb.PingReply, error) {
	return &pb.PingReply{AppVersion: Version}, nil
}

func notImplemented(hook string) error {
	return toStatus(Errorf(CodeNotFound, "the app does not implement the hook %s", hook))
}

func (s *appServer) OnMessagePosted(ctx context.Context, m *pb.MessagePosted) (*pb.Empty, error) {
	h, ok := s.app.(MessageHook)
	if !ok {
		return nil, notImplemented(HookMessagePosted)
	}
	return &pb.Empty{}, toStatus(h.OnMessagePosted(ctx, messageFromPB(m)))
}

func (s *appServer) OnApprovalFinished(ctx context.Context, a *pb.ApprovalFinished) (*pb.Empty, error) {
	h, ok := s.app.(ApprovalHook)
	if !ok {
		return nil, notImplemented(HookApprovalFinished)
	}
	return &pb.Empty{}, toStatus(h.OnApprovalFinished(ctx, ApprovalFinished{ApprovalID: a.GetApprovalId(), Template: a.GetTemplate(),
		ApplicantID: a.GetApplicantId(), Outcome: a.GetOutcome(), At: fromMs(a.GetAtMs())}))
}

func (s *appServer) OnRosterPublished(ctx context.Context, r *pb.RosterPublished) (*pb.Empty, error) {
	h, ok := s.app.(RosterHook)
	if !ok {
		return nil, notImplemented(HookRosterPublished)
	}
	return &pb.Empty{}, toStatus(h.OnRosterPublished(ctx, RosterPublished{RosterID: r.GetRosterId(), DepartmentID: r.GetDepartmentId(),
		Month: r.GetMonth(), At: fromMs(r.GetAtMs())}))
}

func (s *appServer) OnStaffChanged(ctx context.Context, c *pb.StaffChanged) (*pb.Empty, error) {
	h, ok := s.app.(StaffHook)
	if !ok {
		return nil, notImplemented(HookStaffChanged)
	}
	return &pb.Empty{}, toStatus(h.OnStaffChanged(ctx, StaffChange{UserID: c.GetUserId(), DepartmentID: c.GetDepartmentId(),
		Joined: c.GetJoined(), At: fromMs(c.GetAtMs())}))
}

func (s *appServer) OnJob(ctx context.Context, j *pb.JobRequest) (*pb.Empty, error) {
	h, ok := s.app.(JobHook)
	if !ok {
		return nil, notImplemented(HookJobs)
	}
	return &pb.Empty{}, toStatus(h.OnJob(ctx, Job{Name: j.GetName(), At: fromMs(j.GetAtMs())}))
}

func (s *appServer) OnCommand(ctx context.Context, c *pb.CommandRequest) (*pb.CommandReply, error) {
	h, ok := s.app.(CommandHook)
	if !ok {
		return nil, notImplemented(HookCommands)
	}
	actor := actorFromPB(c.GetActor())
	reply, err := h.OnCommand(WithActor(ctx, actor), Command{Command: c.GetCommand(), Args: c.GetArgs(),
		ConversationID: c.GetConversationId(), Actor: actor})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.CommandReply{Text: reply}, nil
}

func (s *appServer) OnHTTP(ctx context.Context, req *pb.HTTPRequest) (*pb.HTTPResponse, error) {
	h, ok := s.app.(http.Handler)
	if !ok {
		return nil, notImplemented(HookHTTP)
	}
	u := &url.URL{Path: req.GetPath(), RawQuery: req.GetQuery()}
	r, err := http.NewRequestWithContext(WithActor(ctx, actorFromPB(req.GetActor())), req.GetMethod(), u.String(), bytes.NewReader(req.GetBody()))
	if err != nil {
		return nil, toStatus(Errorf(CodeInvalid, "bad request: %v", err))
	}
	r.RequestURI = u.RequestURI()
	for _, hd := range req.GetHeaders() {
		for _, v := range hd.GetValues() {
			r.Header.Add(hd.GetName(), v)
		}
	}
	w := &responseRecorder{header: http.Header{}}
	h.ServeHTTP(w, r)
	resp := &pb.HTTPResponse{Status: int32(w.statusCode()), Body: w.body.Bytes()}
	for k, vs := range w.header {
		resp.Headers = append(resp.Headers, &pb.Header{Name: k, Values: vs})
	}
	return resp, nil
}

type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.body.Len()+len(b) > 4<<20-64<<10 {
		return 0, fmt.Errorf("response larger than the protocol allows")
	}
	return w.body.Write(b)
}

func (w *responseRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
