package extproc

import (
	"context"
	"errors"
	"io"
	"log/slog"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// DefaultMaxBody is API Gateway's payload limit, 10 MB: the largest body
// the Server accepts in one message.
const DefaultMaxBody = 10 << 20

// messageOverhead is what a ProcessingRequest holds besides its body: the
// headers of a message, which Envoy limits to 60 KiB by default and 8 MiB
// at most.
const messageOverhead = 8<<20 + 64<<10

// Options configure a Server.
type Options struct {
	// Lookup returns the processor of a route, or nil for a route that
	// has none: its messages pass unchanged. It is called once per
	// exchange and must be safe for concurrent use.
	Lookup func(RouteMetadata) Processor
	// Logger receives a line for every processor failure (without
	// bodies) and every stream refused for a protocol error, and at debug
	// level one per stream Envoy cancels; nil discards them.
	Logger *slog.Logger
	// MaxBody is the largest request or response body processed; a larger
	// request gets API Gateway's 413, a larger response its 500. Zero
	// means DefaultMaxBody.
	MaxBody int
}

// Server implements envoy.service.ext_proc.v3.ExternalProcessor.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer

	lookup  func(RouteMetadata) Processor
	log     *slog.Logger
	maxBody int
	// continues, internalError and tooLong are shared by every stream;
	// they are never modified.
	continues     *continueResponses
	internalError *extprocv3.ProcessingResponse
	tooLong       *extprocv3.ProcessingResponse
}

// New returns a Server.
func New(o Options) *Server {
	if o.Lookup == nil {
		o.Lookup = func(RouteMetadata) Processor { return nil }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	return &Server{
		lookup:        o.Lookup,
		log:           o.Logger,
		maxBody:       o.MaxBody,
		continues:     newContinueResponses(),
		internalError: mustReply(internalErrorReply()),
		tooLong:       mustReply(tooLongReply()),
	}
}

// Register registers the external processing service on g.
func (s *Server) Register(g *grpc.Server) { extprocv3.RegisterExternalProcessorServer(g, s) }

// ServerOptions are what the gRPC server needs to take the Server's
// largest messages: a body of MaxBody with its headers. gRPC-Go refuses
// messages over 4 MiB by default.
func (s *Server) ServerOptions() []grpc.ServerOption { return ServerOptions(s.maxBody) }

// ServerOptions are the gRPC server options for a Server whose MaxBody is
// maxBody, for callers that make the gRPC server before the Server.
func ServerOptions(maxBody int) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(maxBody + messageOverhead)}
}

// Process serves one HTTP exchange: Envoy opens a stream per request and
// sends its messages in order, each waiting for its answer. The stream
// ends when Envoy closes it, when Envoy cancels it (the client went away,
// or a timeout passed), or after an immediate response, after which Envoy
// expects nothing more.
func (s *Server) Process(srv extprocv3.ExternalProcessor_ProcessServer) error {
	ctx := srv.Context()
	x := &exchange{s: s}
	x.x.Route = routeFromContext(ctx)
	if x.proc = s.lookup(x.x.Route); x.proc != nil {
		x.mode = x.proc.Mode()
	}
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.ended(ctx, err)
		}
		resp, done, err := x.handle(ctx, req)
		if err != nil {
			if ctx.Err() == nil {
				s.log.LogAttrs(ctx, slog.LevelError, "ext_proc stream refused", slog.Any("error", err))
			}
			return err
		}
		if err := srv.Send(resp); err != nil {
			return s.ended(ctx, err)
		}
		if done {
			return nil
		}
	}
}

// ended returns the error of a stream that broke off. Envoy cancels the
// stream of every request that ends early; that is no failure of ours.
func (s *Server) ended(ctx context.Context, err error) error {
	if ctx.Err() != nil || status.Code(err) == codes.Canceled {
		s.log.LogAttrs(ctx, slog.LevelDebug, "ext_proc stream cancelled", slog.Any("error", err))
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	return err
}

// routeFromContext reads the route's IDs from the stream's metadata.
func routeFromContext(ctx context.Context) RouteMetadata {
	first := func(key string) string {
		if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return RouteMetadata{
		APIID:        first(MetadataAPIID),
		Stage:        first(MetadataStage),
		RouteID:      first(MetadataRouteID),
		DeploymentID: first(MetadataDeploymentID),
	}
}
