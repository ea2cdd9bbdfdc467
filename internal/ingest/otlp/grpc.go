package otlp

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // OTel exporters send gzip by choice; the server must read it.
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const protoGRPC = "grpc"

// GRPCServerOptions returns the options an OTLP/gRPC server needs for l:
// the message size limit (gRPC answers RESOURCE_EXHAUSTED over it, and
// checks it after decompression too), a bound on concurrent streams, and
// the codec that hands trace requests to the receiver as bytes.
func GRPCServerOptions(l Limits) []grpc.ServerOption {
	l = l.withDefaults()
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{delegate: encoding.GetCodecV2("proto")}),
		grpc.MaxRecvMsgSize(l.MaxGRPCMessageBytes),
		grpc.MaxConcurrentStreams(uint32(max(100, 4*l.MaxConcurrentRequests))),
	}
}

// RegisterGRPC registers the OTLP trace and logs services on s. Build s with
// GRPCServerOptions(r.Limits()).
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	s.RegisterService(rawServiceDesc(traceService, traceProto), &grpcService{r: r, sig: signalTraces})
	s.RegisterService(rawServiceDesc(logsService, logsProto), &grpcService{r: r, sig: signalLogs})
}

// The OTLP services are registered by hand rather than through ptraceotlp
// and plogotlp so that requests reach the receiver as bytes: pdata's
// decoder is the larger part of ingest's CPU for traces, and decoding in
// the handler lets a malformed request be INVALID_ARGUMENT as the OTLP
// specification says (a codec error is INTERNAL in gRPC).
const (
	traceService = "opentelemetry.proto.collector.trace.v1.TraceService"
	traceProto   = "opentelemetry/proto/collector/trace/v1/trace_service.proto"
	logsService  = "opentelemetry.proto.collector.logs.v1.LogsService"
	logsProto    = "opentelemetry/proto/collector/logs/v1/logs_service.proto"
)

const traceExportMethod = "/" + traceService + "/Export"

func rawServiceDesc(service, metadata string) *grpc.ServiceDesc {
	method := "/" + service + "/Export"
	return &grpc.ServiceDesc{
		ServiceName: service,
		HandlerType: (*rawExporter)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				in := new(rawMessage)
				if err := dec(in); err != nil {
					return nil, err
				}
				s := srv.(rawExporter)
				if interceptor == nil {
					return s.export(ctx, in)
				}
				info := &grpc.UnaryServerInfo{Server: srv, FullMethod: method}
				return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
					return s.export(ctx, req.(*rawMessage))
				})
			},
		}},
		Streams:  []grpc.StreamDesc{},
		Metadata: metadata,
	}
}

type rawExporter interface {
	export(ctx context.Context, req *rawMessage) (*rawMessage, error)
}

// rawMessage carries a protobuf message as bytes through gRPC. Its methods
// are the ones pdata's gRPC codec (registered under "proto") and rawCodec
// use for OTLP messages.
type rawMessage struct{ b []byte }

func (m *rawMessage) SizeProto() int                { return len(m.b) }
func (m *rawMessage) MarshalProto(buf []byte) int   { return copy(buf, m.b) }
func (m *rawMessage) UnmarshalProto(b []byte) error { m.b = append(m.b[:0], b...); return nil }

// rawCodec passes rawMessages through and leaves every other message to
// the codec registered for "proto". GRPCServerOptions installs it so that
// the OTLP services do not depend on which proto codec is registered.
type rawCodec struct{ delegate encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
	}
	return c.delegate.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.b = data.Materialize()
		return nil
	}
	return c.delegate.Unmarshal(data, v)
}

func (c rawCodec) Name() string { return c.delegate.Name() }

// grpcService serves one signal's Export.
type grpcService struct {
	r   *Receiver
	sig signal
}

func (s *grpcService) export(ctx context.Context, req *rawMessage) (*rawMessage, error) {
	start := time.Now()
	r := s.r
	rej, err := r.grpcExport(ctx, func(ctx context.Context) (Rejections, error) {
		if s.sig == signalLogs {
			return r.exportLogs(ctx, protoGRPC, req.b, EncodingProto)
		}
		return r.exportTraces(ctx, protoGRPC, req.b, EncodingProto)
	})
	r.m.request(s.sig, protoGRPC, outcome(&rej, err), start)
	if err != nil {
		r.logFailure(ctx, protoGRPC, s.sig, err)
		return nil, r.grpcStatus(ctx, err)
	}
	b, err := responseBody(s.sig, EncodingProto, &rej)
	if err != nil {
		// The data is committed; an empty response is a valid success.
		r.log.Warn("marshal OTLP response", slog.Any("error", err))
		b = nil
	}
	return &rawMessage{b: b}, nil
}

func (r *Receiver) grpcExport(ctx context.Context, export func(context.Context) (Rejections, error)) (Rejections, error) {
	release, err := r.acquire(ctx)
	if err != nil {
		return Rejections{}, err
	}
	defer release()
	r.m.inflight.Inc()
	defer r.m.inflight.Dec()
	return export(ctx)
}

// grpcStatus is the one gRPC mapping of the error classes. Throttling
// carries RetryInfo: without it RESOURCE_EXHAUSTED is not retryable (OTLP
// spec), which is right for a message over the size limit and wrong for
// overload.
func (r *Receiver) grpcStatus(ctx context.Context, err error) error {
	var st *status.Status
	switch errKindOf(err) {
	case kindMalformed, kindUnsupportedMedia:
		st = status.New(codes.InvalidArgument, err.Error())
	case kindTooLarge:
		st = status.New(codes.ResourceExhausted, err.Error())
	case kindOverloaded:
		st = r.withRetryInfo(status.New(codes.ResourceExhausted, err.Error()))
	case kindCanceled:
		code := codes.Canceled
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = codes.DeadlineExceeded
		}
		st = status.New(code, err.Error())
	default:
		st = r.withRetryInfo(status.New(codes.Unavailable, err.Error()))
	}
	return st.Err()
}

func (r *Receiver) withRetryInfo(st *status.Status) *status.Status {
	withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.lim.RetryAfter)})
	if err != nil {
		return st
	}
	return withInfo
}
