package otlp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

type grpcHarness struct {
	*harness
	addr   string
	traces ptraceotlp.GRPCClient
	logs   plogotlp.GRPCClient
}

// newGRPCHarness serves the receiver on a real gRPC server on 127.0.0.1.
func newGRPCHarness(t testing.TB, lim Limits) *grpcHarness {
	t.Helper()
	h := newHarness(t, lim)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(GRPCServerOptions(h.r.Limits())...)
	h.r.RegisterGRPC(srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &grpcHarness{harness: h, addr: lis.Addr().String(),
		traces: ptraceotlp.NewGRPCClient(conn), logs: plogotlp.NewGRPCClient(conn)}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGRPCExport(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	resp, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(3)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedSpans() != 0 {
		t.Fatalf("partial success %v", resp.PartialSuccess().ErrorMessage())
	}
	if n := len(h.w.All().Spans); n != 3 {
		t.Fatalf("stored %d spans, want 3", n)
	}
	if got := testutil.ToFloat64(h.r.m.received.WithLabelValues("traces", "grpc")); got != 3 {
		t.Errorf("received{grpc} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(h.r.m.requests.WithLabelValues("traces", "grpc", "ok")); got != 1 {
		t.Errorf("requests{grpc,ok} = %v, want 1", got)
	}
	// An empty request is a success and writes nothing.
	calls := h.w.Calls()
	if _, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequest()); err != nil {
		t.Fatalf("empty request: %v", err)
	}
	if h.w.Calls() != calls {
		t.Fatal("empty request reached the writer")
	}
}

func TestGRPCPartialSuccess(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	td := sampleTraces(4)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).SetTraceID(pcommon.TraceID{})
	resp, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(td))
	if err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess().RejectedSpans() != 1 || !strings.Contains(resp.PartialSuccess().ErrorMessage(), "invalid_id") {
		t.Fatalf("partial success %d %q", resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage())
	}

	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Body().SetStr("ok")
	for i := 0; i < 1001; i++ {
		lrs.AppendEmpty().Attributes().PutInt("only", 1)
	}
	bad := lrs.AppendEmpty()
	for i := 0; i < 1001; i++ {
		bad.Attributes().PutInt("k"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26)), 1)
	}
	lresp, err := h.logs.Export(ctxT(t), plogotlp.NewExportRequestFromLogs(ld))
	if err != nil {
		t.Fatal(err)
	}
	if got := lresp.PartialSuccess().RejectedLogRecords(); got != 1 {
		t.Fatalf("rejected log records %d, want 1 (%s)", got, lresp.PartialSuccess().ErrorMessage())
	}
	if n := len(h.w.All().Logs); n != 1002 {
		t.Fatalf("stored %d logs, want 1002", n)
	}
}

func TestGRPCErrors(t *testing.T) {
	h := newGRPCHarness(t, Limits{RetryAfter: 2 * time.Second})
	good := ptraceotlp.NewExportRequestFromTraces(sampleTraces(2))
	tests := []struct {
		name      string
		writerErr error
		req       func() ptraceotlp.ExportRequest
		wantCode  codes.Code
		wantRetry bool
	}{
		{"overloaded", store.ErrOverloaded, nil, codes.ResourceExhausted, true},
		{"unavailable", store.ErrUnavailable, nil, codes.Unavailable, true},
		{"invalid", store.ErrInvalid, nil, codes.InvalidArgument, false},
		{"unknown", errors.New("boom"), nil, codes.Unavailable, true},
		{"over 4 MiB", nil, func() ptraceotlp.ExportRequest {
			td := sampleTraces(1)
			td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("big", strings.Repeat("x", 5<<20))
			return ptraceotlp.NewExportRequestFromTraces(td)
		}, codes.ResourceExhausted, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.w.SetErr(tt.writerErr)
			req := good
			if tt.req != nil {
				req = tt.req()
			}
			_, err := h.traces.Export(ctxT(t), req)
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			var retry *errdetails.RetryInfo
			for _, d := range st.Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					retry = ri
				}
			}
			if tt.wantRetry != (retry != nil) {
				t.Fatalf("RetryInfo %v, want present=%v", retry, tt.wantRetry)
			}
			if retry != nil && retry.RetryDelay.AsDuration() != 2*time.Second {
				t.Errorf("retry delay %v, want 2s", retry.RetryDelay.AsDuration())
			}
			// The server keeps serving.
			h.w.SetErr(nil)
			if _, err := h.traces.Export(ctxT(t), good); err != nil {
				t.Fatalf("good request after %s: %v", tt.name, err)
			}
		})
	}
}

func TestGRPCConcurrencyLimit(t *testing.T) {
	h := newGRPCHarness(t, Limits{MaxConcurrentRequests: 1, ConcurrencyWait: 50 * time.Millisecond})
	block := make(chan struct{})
	entered := make(chan struct{})
	h.r.w = blockingWriter{entered: entered, release: block}
	errc := make(chan error, 1)
	go func() {
		_, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(1)))
		errc <- err
	}()
	<-entered
	_, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(1)))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("second request while the only slot is taken: %v, want RESOURCE_EXHAUSTED", err)
	}
	close(block)
	if err := <-errc; err != nil {
		t.Fatalf("first request: %v", err)
	}
}

type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (w blockingWriter) Write(ctx context.Context, _ *model.Batch) error {
	close(w.entered)
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rawInvoke sends body as the trace Export request, bypassing any client
// encoder, as a broken or hostile client would.
func rawInvoke(t *testing.T, addr, method string, body []byte) (*rawMessage, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out := &rawMessage{}
	err = conn.Invoke(ctxT(t), method, &rawMessage{b: body}, out,
		grpc.ForceCodecV2(rawCodec{delegate: encoding.GetCodecV2("proto")}))
	return out, err
}

func TestGRPCHostileInputs(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	good := protoBody(t, sampleTraces(3))
	tests := []struct {
		name       string
		body       []byte
		wantCode   codes.Code
		wantReject int64
	}{
		{"truncated protobuf", good[:len(good)-5], codes.InvalidArgument, 0},
		{"bogus varint length", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x07}, codes.InvalidArgument, 0},
		{"wrong id length", protoWithBadID(t), codes.InvalidArgument, 0},
		{"empty", nil, codes.OK, 0},
		{"nested 10k deep", nestedProto(t, 10000), codes.OK, 1},
		{"huge attribute count", manyAttributes(t, 200000), codes.OK, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := rawInvoke(t, h.addr, traceExportMethod, tt.body)
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			if err == nil {
				resp := ptraceotlp.NewExportResponse()
				if err := resp.UnmarshalProto(out.b); err != nil {
					t.Fatal(err)
				}
				if got := resp.PartialSuccess().RejectedSpans(); got != tt.wantReject {
					t.Fatalf("rejected %d, want %d", got, tt.wantReject)
				}
			}
			if _, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(1))); err != nil {
				t.Fatalf("good request after %s: %v", tt.name, err)
			}
		})
	}
}

func TestGRPCMalformedLogs(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	_, err := rawInvoke(t, h.addr, "/"+logsService+"/Export", []byte{0x0a, 0x10, 0x01})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("code %v (%v), want INVALID_ARGUMENT", status.Code(err), err)
	}
}

// protoWithBadID is a request whose span id is 3 bytes long.
func protoWithBadID(t *testing.T) []byte {
	// Span: field 2 (span_id), 3 bytes; ScopeSpans.spans = 2; ResourceSpans.scope_spans = 2; request field 1.
	span := []byte{0x12, 0x03, 1, 2, 3}
	scope := append([]byte{0x12, byte(len(span))}, span...)
	rs := append([]byte{0x12, byte(len(scope))}, scope...)
	return append([]byte{0x0a, byte(len(rs))}, rs...)
}

// TestGRPCWithoutServerOptions: a server built without GRPCServerOptions
// still serves traces, through the proto codec pdata registers.
func TestGRPCWithoutServerOptions(t *testing.T) {
	h := newHarness(t, Limits{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	h.r.RegisterGRPC(srv)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(2))); err != nil {
		t.Fatal(err)
	}
	if n := len(h.w.All().Spans); n != 2 {
		t.Fatalf("stored %d spans, want 2", n)
	}
}

// TestGRPCCompressionBomb: gRPC checks the size limit after decompression.
func TestGRPCCompressionBomb(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	td := sampleTraces(1)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("zeros", strings.Repeat("0", 16<<20))
	_, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(td), grpc.UseCompressor("gzip"))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("16 MiB decompressed: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, err := h.traces.Export(ctxT(t), ptraceotlp.NewExportRequestFromTraces(sampleTraces(1))); err != nil {
		t.Fatalf("good request after: %v", err)
	}
}
