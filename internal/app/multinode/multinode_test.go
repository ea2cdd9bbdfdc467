// Package multinode tests Ariadne scaled out: several stateless `ariadne
// serve` nodes over one ClickHouse store (the ClickHouse 26 engine, chDB,
// behind its HTTP interface), and a node's behaviour while ClickHouse is
// away.
package multinode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"

	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ariadnehq/ariadne/demo/traffic"
	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
	"github.com/ariadnehq/ariadne/internal/config"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse/chdbtest"
)

func TestMain(m *testing.M) { chdbtest.Main(m) }

// onClickHouse configures a node over database db of s.
func onClickHouse(s *chdbtest.Server, db string) func(*config.Config) {
	return func(c *config.Config) {
		c.Store, c.ClickHouseDSN = "clickhouse", s.DSN(db)
	}
}

// noBackground leaves detection and alerting to explicit requests, so
// that nodes do exactly the same work (a first run at start, on an empty
// store).
func noBackground(c *config.Config) {
	c.DetectInterval, c.DetectLag, c.AlertInterval = time.Hour, 0, 0
}

// splitter is an OTLP/gRPC endpoint in front of several nodes, like a load
// balancer: every export goes to the node route picks (by the service of
// its first resource) and, when tee is set, also to tee.
type splitter struct {
	ptraceotlp.UnimplementedGRPCServer
	route  func(service string) int
	nodes  []*grpc.ClientConn
	tee    *grpc.ClientConn
	logsrv *logSplitter
}

type logSplitter struct {
	plogotlp.UnimplementedGRPCServer
	s *splitter
}

func service(attrs map[string]any) string { s, _ := attrs["service.name"].(string); return s }

func (s *splitter) targets(svc string) []*grpc.ClientConn {
	out := []*grpc.ClientConn{s.nodes[s.route(svc)]}
	if s.tee != nil {
		out = append(out, s.tee)
	}
	return out
}

func (s *splitter) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	svc := ""
	if rs := req.Traces().ResourceSpans(); rs.Len() > 0 {
		svc = service(rs.At(0).Resource().Attributes().AsRaw())
	}
	for _, c := range s.targets(svc) {
		td := ptrace.NewTraces()
		req.Traces().CopyTo(td)
		if _, err := ptraceotlp.NewGRPCClient(c).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
			return ptraceotlp.NewExportResponse(), err
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func (l *logSplitter) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	svc := ""
	if rl := req.Logs().ResourceLogs(); rl.Len() > 0 {
		svc = service(rl.At(0).Resource().Attributes().AsRaw())
	}
	for _, c := range l.s.targets(svc) {
		ld := plog.NewLogs()
		req.Logs().CopyTo(ld)
		if _, err := plogotlp.NewGRPCClient(c).Export(ctx, plogotlp.NewExportRequestFromLogs(ld)); err != nil {
			return plogotlp.NewExportResponse(), err
		}
	}
	return plogotlp.NewExportResponse(), nil
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startSplitter serves s and returns its address.
func startSplitter(t *testing.T, s *splitter) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	s.logsrv = &logSplitter{s: s}
	ptraceotlp.RegisterGRPCServer(srv, s)
	plogotlp.RegisterGRPCServer(srv, s.logsrv)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func get(t *testing.T, a *app.App, path string, q url.Values) json.RawMessage {
	t.Helper()
	u := "http://" + a.HTTPAddr() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", u, res.Status, b)
	}
	return b
}

func post(t *testing.T, a *app.App, path string) json.RawMessage {
	t.Helper()
	res, err := http.Post("http://"+a.HTTPAddr()+path, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s %s", path, res.Status, b)
	}
	return b
}

// canon re-encodes JSON with sorted keys and without the fields that
// record when a node did something rather than what the data says.
func canon(t *testing.T, raw json.RawMessage, drop ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for _, d := range drop {
				delete(x, d)
			}
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	b, _ := json.MarshalIndent(strip(v), "", " ")
	return string(b)
}

func sameOn(t *testing.T, what string, nodes []*app.App, names []string, read func(a *app.App) string) {
	t.Helper()
	want := read(nodes[0])
	t.Logf("%s: %d bytes of JSON", what, len(want))
	for i, a := range nodes[1:] {
		if got := read(a); got != want {
			t.Errorf("%s differs between %s and %s:\n%s\n---\n%s", what, names[0], names[i+1], firstDiff(want, got), "")
		}
	}
}

// firstDiff shows where two texts part.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			lo := max(0, i-3)
			return fmt.Sprintf("line %d:\n  %s\n- %s\n+ %s", i+1, strings.Join(al[lo:i], "\n  "), x, y)
		}
	}
	return "(equal)"
}

// TestTwoNodesOneStore: the functions of a serverless shop send their
// telemetry through a load balancer that splits it between two nodes over
// one ClickHouse store (checkout and inventory to one, payment and receipt
// to the other: every transaction arrives in halves). A third node, the
// embedded engine, receives everything. Transactions, issues and the
// service map must be the same whichever node answers, and the same as
// the single node's.
func TestTwoNodesOneStore(t *testing.T) {
	s := chdbtest.Start(t)
	a := apptest.Start(t, onClickHouse(s, "shop"), noBackground)
	b := apptest.Start(t, onClickHouse(s, "shop"), noBackground)
	ref := apptest.Start(t, noBackground)
	sp := &splitter{
		route: func(svc string) int {
			if svc == "payment" || svc == "receipt" {
				return 1
			}
			return 0
		},
		nodes: []*grpc.ClientConn{dial(t, a.OTLPGRPCAddr()), dial(t, b.OTLPGRPCAddr())},
		tee:   dial(t, ref.OTLPGRPCAddr()),
	}
	addr := startSplitter(t, sp)
	ctx := t.Context()
	g, err := traffic.New(ctx, traffic.Settings{Endpoint: addr, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var roots []string
	for i := range 40 {
		roots = append(roots, g.Order(ctx, start.Add(time.Duration(i)*50*time.Millisecond)))
	}
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	end := start.Add(time.Minute)
	for time.Now().Before(start.Add(6 * time.Second)) { // every span has ended before detection reads
		time.Sleep(100 * time.Millisecond)
	}

	nodes, names := []*app.App{a, b, ref}, []string{"node A (ClickHouse)", "node B (ClickHouse)", "single node (DuckDB)"}
	rng := url.Values{"start": {fmt.Sprint(start.Add(-time.Minute).UnixNano())}, "end": {fmt.Sprint(end.UnixNano())}}

	// Each root trace's transaction: the traces of every function it
	// reached, joined across the nodes' halves.
	sameOn(t, "transactions", nodes, names, func(n *app.App) string {
		var out []string
		for _, r := range roots {
			out = append(out, canon(t, get(t, n, "/api/v1/transactions/"+r, nil)))
		}
		return strings.Join(out, "\n")
	})
	var tx struct {
		Traces []json.RawMessage `json:"traces"`
	}
	json.Unmarshal(get(t, a, "/api/v1/transactions/"+roots[0], nil), &tx)
	if len(tx.Traces) < 4 {
		t.Errorf("the first order's transaction has %d traces, want its 4 or 5 functions' traces: %s", len(tx.Traces), get(t, a, "/api/v1/transactions/"+roots[0], nil))
	}
	sameOn(t, "transaction search", nodes, names, func(n *app.App) string {
		q := url.Values{"start": rng["start"], "end": rng["end"], "limit": {"100"}}
		return canon(t, get(t, n, "/api/v1/transactions", q))
	})
	sameOn(t, "service map", nodes, names, func(n *app.App) string {
		return canon(t, get(t, n, "/api/v1/servicemap", rng))
	})

	// Detection: one ClickHouse node runs it, the other finds nothing left
	// to count; both list the same issues, and the same as the single node.
	post(t, a, "/api/v1/issues/detect")
	post(t, b, "/api/v1/issues/detect")
	post(t, ref, "/api/v1/issues/detect")
	sameOn(t, "issues", nodes, names, func(n *app.App) string {
		return canon(t, get(t, n, "/api/v1/issues", nil), "updatedAt", "updated_at")
	})
	var issues struct {
		Issues []json.RawMessage `json:"issues"`
	}
	json.Unmarshal(get(t, a, "/api/v1/issues", nil), &issues)
	if len(issues.Issues) == 0 {
		t.Errorf("no issues detected in 40 orders with injected failures")
	}
	t.Logf("%d orders, %d issues", len(roots), len(issues.Issues))
}

// TestIngestWhileClickHouseDown: a node starts while ClickHouse is down and
// answers OTLP with 503 + Retry-After (HTTP) and UNAVAILABLE (gRPC)
// instead of dropping; once ClickHouse is up it accepts and stores.
func TestIngestWhileClickHouseDown(t *testing.T) {
	s := chdbtest.Start(t)
	s.Down(t)
	a := apptest.Start(t, onClickHouse(s, "down"), noBackground)
	body := otlpBody(t)

	res := postOTLP(t, a, body)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("OTLP/HTTP while ClickHouse is down: %s, Retry-After %q; want 503 with Retry-After", res.Status, res.Header.Get("Retry-After"))
	}
	_, err := ptraceotlp.NewGRPCClient(dial(t, a.OTLPGRPCAddr())).Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(traces()))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("OTLP/gRPC while ClickHouse is down: %v, want UNAVAILABLE", err)
	}

	s.Up(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := postOTLP(t, a, body)
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OTLP/HTTP after ClickHouse came up: %s", res.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := get(t, a, "/api/v1/traces/0102030405060708090a0b0c0d0e0f10", nil)
	if !bytes.Contains(got, []byte(`"checkout"`)) {
		t.Errorf("trace after the outage: %s", got)
	}
}

func traces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	s.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	s.SetName("POST /orders")
	now := time.Now()
	s.SetStartTimestamp(pcommonTime(now))
	s.SetEndTimestamp(pcommonTime(now.Add(time.Millisecond)))
	return td
}

func otlpBody(t *testing.T) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(traces()).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func postOTLP(t *testing.T, a *app.App, body []byte) *http.Response {
	t.Helper()
	res, err := http.Post("http://"+a.OTLPHTTPAddr()+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func pcommonTime(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }

// TestAlertDeliveredOnce: both nodes evaluate alert rules and deliver
// notifications every few milliseconds over one store; a new issue is
// notified once, by whichever node leased the notification.
func TestAlertDeliveredOnce(t *testing.T) {
	s := chdbtest.Start(t)
	var (
		mu         sync.Mutex
		deliveries []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		deliveries = append(deliveries, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	alerting := func(c *config.Config) {
		c.DetectInterval, c.DetectLag, c.AlertInterval = time.Hour, 0, 20*time.Millisecond
	}
	a := apptest.Start(t, onClickHouse(s, "alerts"), alerting)
	b := apptest.Start(t, onClickHouse(s, "alerts"), alerting)
	rule := `{"name":"every new issue","anyNew":true,"target":"webhook","url":"` + hook.URL + `"}`
	res, err := http.Post("http://"+a.HTTPAddr()+"/api/v1/alerts/rules", "application/json", strings.NewReader(rule))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		t.Fatalf("create rule: %s", res.Status)
	}
	// A failing span, sent to node B, detected by node A.
	td := traces()
	sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Status().SetMessage("card declined")
	if _, err := ptraceotlp.NewGRPCClient(dial(t, b.OTLPGRPCAddr())).Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	post(t, a, "/api/v1/issues/detect")
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(deliveries)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification delivered; issues: %s", get(t, a, "/api/v1/issues", nil))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // both nodes keep evaluating and delivering
	mu.Lock()
	defer mu.Unlock()
	if len(deliveries) != 1 {
		t.Errorf("%d notifications delivered by two nodes, want 1:\n%s", len(deliveries), strings.Join(deliveries, "\n"))
	}
	var evs struct {
		Events []struct {
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"events"`
	}
	json.Unmarshal(get(t, b, "/api/v1/alerts/events", nil), &evs)
	if len(evs.Events) != 1 || evs.Events[0].State != "delivered" || evs.Events[0].Attempts != 1 {
		t.Errorf("alert events seen by node B: %+v", evs.Events)
	}
}
