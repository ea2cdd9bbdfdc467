package servicemap_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ariadnehq/ariadne/internal/api"
)

// otelService is one process of the stock-OpenTelemetry application: its
// own tracer provider exporting OTLP/HTTP to Ariadne, no Ariadne SDK.
func otelService(t *testing.T, endpoint, name string) *sdktrace.TracerProvider {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", name), attribute.String("deployment.environment.name", "test"))
	// A synchronous exporter: every span is stored when End returns, so
	// the test needs no flush timing.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// inventory is a gRPC service (the standard health service stands in for
// any generated one) whose handler queries a database, recorded as a
// client span with db.system.name as the OTel conventions say.
type inventory struct {
	healthpb.UnimplementedHealthServer
	tracer trace.Tracer
	srv    *health.Server
}

func (s *inventory) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	_, span := s.tracer.Start(ctx, "SELECT stock", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"), attribute.String("db.namespace", "shop"),
			attribute.String("server.address", "db.internal")))
	time.Sleep(time.Millisecond)
	span.End()
	return s.srv.Check(ctx, req)
}

// TestMapWithStockOpenTelemetry: an application instrumented only with
// OpenTelemetry contrib (otelhttp, otelgrpc) and a hand-made database
// span exports OTLP to a real Ariadne; the map shows its three services,
// the database, the uninstrumented payment host and the real call edges
// with exact counts and errors.
//
//	client → frontend (otelhttp server) ─otelhttp client→ backend (otelhttp server)
//	frontend ─otelhttp client→ payments host (uninstrumented; every 5th call answers 500)
//	backend ─otelgrpc client→ inventory (otelgrpc server) ─db client span→ postgresql
func TestMapWithStockOpenTelemetry(t *testing.T) {
	srv := startAriadne(t)
	base := "http://" + srv.HTTPAddr()
	prop := propagation.TraceContext{}

	// inventory: gRPC.
	invTP := otelService(t, srv.OTLPHTTPAddr(), "inventory")
	gs := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(invTP), otelgrpc.WithPropagators(prop))))
	healthpb.RegisterHealthServer(gs, &inventory{tracer: invTP.Tracer("inventory"), srv: health.NewServer()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	// backend: HTTP server calling inventory over gRPC.
	backTP := otelService(t, srv.OTLPHTTPAddr(), "backend")
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(backTP), otelgrpc.WithPropagators(prop))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	stock := healthpb.NewHealthClient(conn)
	backend := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := stock.Check(r.Context(), &healthpb.HealthCheckRequest{}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, "reserved")
	}), "POST /reserve", otelhttp.WithTracerProvider(backTP), otelhttp.WithPropagators(prop)))
	t.Cleanup(backend.Close)

	// payments: a third party without instrumentation.
	var payCalls atomic.Int64
	payments := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if payCalls.Add(1)%5 == 0 {
			http.Error(w, "declined", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(payments.Close)

	// frontend: HTTP server calling backend and payments.
	frontTP := otelService(t, srv.OTLPHTTPAddr(), "frontend")
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(frontTP), otelhttp.WithPropagators(prop))}
	call := func(r *http.Request, url string) error {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		return nil
	}
	frontend := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := call(r, backend.URL+"/reserve"); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if err := call(r, payments.URL+"/charge"); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, "ordered")
	}), "GET /order", otelhttp.WithTracerProvider(frontTP), otelhttp.WithPropagators(prop)))
	t.Cleanup(frontend.Close)

	const n = 10
	for range n {
		resp, err := http.Get(frontend.URL + "/order")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	m := waitMap(t, base, "start=-1h&environment=test", func(m *api.ServiceMapResponse) bool {
		e, ok := edgeByKey(m, "service:inventory", "database:postgresql", "call")
		f, ok2 := edgeByKey(m, "service:frontend", "http:127.0.0.1", "call")
		return ok && ok2 && e.Count == n && f.Count == n
	})
	checkMap(t, m,
		[]string{"service:frontend", "service:backend", "service:inventory", "database:postgresql", "http:127.0.0.1"},
		[]wantEdge{
			{"service:frontend", "service:backend", "call", n, 0, false},
			{"service:frontend", "http:127.0.0.1", "call", n, n / 5, false},
			{"service:backend", "service:inventory", "call", n, 0, false},
			{"service:inventory", "database:postgresql", "call", n, 0, false},
		})
	for _, nd := range m.Nodes {
		want := map[string][2]int64{"service:frontend": {n, n / 5}, "service:backend": {n, 0}, "service:inventory": {n, 0}}[nd.ID]
		if nd.Instrumented && (nd.Count != want[0] || nd.Errors != want[1]) {
			t.Errorf("node %s: %d requests %d errors, want %v", nd.ID, nd.Count, nd.Errors, want)
		}
	}
}
