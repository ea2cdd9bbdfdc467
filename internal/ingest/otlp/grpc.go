package otlp

import (
	"context"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // OTel exporters send gzip by choice; the server must read it.
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const protoGRPC = "grpc"

// GRPCServerOptions returns the options an OTLP/gRPC server needs for l:
// the message size limit (gRPC answers RESOURCE_EXHAUSTED over it, and
// checks it after decompression too) and a bound on concurrent streams.
func GRPCServerOptions(l Limits) []grpc.ServerOption {
	l = l.withDefaults()
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(l.MaxGRPCMessageBytes),
		grpc.MaxConcurrentStreams(uint32(max(100, 4*l.MaxConcurrentRequests))),
	}
}

// RegisterGRPC registers the OTLP trace and logs services on s. Build s with
// GRPCServerOptions(r.Limits()).
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	ptraceotlp.RegisterGRPCServer(s, &tracesService{r: r})
	plogotlp.RegisterGRPCServer(s, &logsService{r: r})
}

type tracesService struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *tracesService) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	start := time.Now()
	r := s.r
	rej, err := r.grpcExport(ctx, func(ctx context.Context) (Rejections, error) {
		return r.exportTraces(ctx, protoGRPC, req.Traces())
	})
	r.m.request(signalTraces, protoGRPC, outcome(&rej, err), start)
	if err != nil {
		r.logFailure(ctx, protoGRPC, signalTraces, err)
		return ptraceotlp.NewExportResponse(), r.grpcStatus(ctx, err)
	}
	resp := ptraceotlp.NewExportResponse()
	if rej.Total > 0 {
		resp.PartialSuccess().SetRejectedSpans(rej.Total)
		resp.PartialSuccess().SetErrorMessage(rej.Message(signalTraces.items()))
	}
	return resp, nil
}

type logsService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *logsService) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	start := time.Now()
	r := s.r
	rej, err := r.grpcExport(ctx, func(ctx context.Context) (Rejections, error) {
		return r.exportLogs(ctx, protoGRPC, req.Logs())
	})
	r.m.request(signalLogs, protoGRPC, outcome(&rej, err), start)
	if err != nil {
		r.logFailure(ctx, protoGRPC, signalLogs, err)
		return plogotlp.NewExportResponse(), r.grpcStatus(ctx, err)
	}
	resp := plogotlp.NewExportResponse()
	if rej.Total > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(rej.Total)
		resp.PartialSuccess().SetErrorMessage(rej.Message(signalLogs.items()))
	}
	return resp, nil
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
