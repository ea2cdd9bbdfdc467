package servicemap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/internal/api"
	ariadneapp "github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
)

// fnBinary is the test application (testdata/fn) and extBinary Ariadne's
// Lambda extension (platform reports: billed duration, memory), built once
// by TestMain.
var fnBinary, extBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ariadne-servicemap")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		fnBinary, extBinary = filepath.Join(dir, "fn"), filepath.Join(dir, "ariadne-extension")
		for out, pkg := range map[string]string{fnBinary: "./testdata/fn", extBinary: "github.com/ariadnehq/ariadne/extension"} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, msg)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// startAriadne runs a real Ariadne server on 127.0.0.1:0 ports.
func startAriadne(t *testing.T) *ariadneapp.App { return apptest.Start(t) }

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	} else {
		t.Logf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return resp.StatusCode
}

// wantEdge is an edge the map must have, with its exact counts.
type wantEdge struct {
	from, to, kind string
	count, errors  int64
	lag            bool // a known queue lag over every hop
}

// waitMap polls the map of the last hour until the edge into the last
// consumer has every order, or a minute passes: the hops run
// asynchronously in the local cloud.
func waitMap(t *testing.T, base, query string, done func(*api.ServiceMapResponse) bool) api.ServiceMapResponse {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var m api.ServiceMapResponse
		if st := getJSON(t, base+"/api/v1/servicemap?"+query, &m); st == 200 && done(&m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("map after 60s: %+v", m)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func edgeByKey(m *api.ServiceMapResponse, from, to, kind string) (api.MapEdge, bool) {
	for _, e := range m.Edges {
		if e.From == from && e.To == to && e.Kind == kind {
			return e, true
		}
	}
	return api.MapEdge{}, false
}

func checkMap(t *testing.T, m api.ServiceMapResponse, nodes []string, edges []wantEdge) {
	t.Helper()
	have := map[string]api.MapNode{}
	for _, n := range m.Nodes {
		have[n.ID] = n
	}
	for _, id := range nodes {
		if _, ok := have[id]; !ok {
			t.Errorf("missing node %s", id)
		}
	}
	if len(m.Nodes) != len(nodes) {
		t.Errorf("%d nodes, want %d: %v", len(m.Nodes), len(nodes), ids(m))
	}
	for _, w := range edges {
		e, ok := edgeByKey(&m, w.from, w.to, w.kind)
		if !ok {
			t.Errorf("missing edge %s -%s-> %s", w.from, w.kind, w.to)
			continue
		}
		if e.Count != w.count || e.Errors != w.errors {
			t.Errorf("edge %s: count %d errors %d, want %d %d", e.ID, e.Count, e.Errors, w.count, w.errors)
		}
		switch {
		case w.lag && (e.Lag == nil || e.Lag.Count != w.count || e.Lag.P50Ns < -int64(50*time.Millisecond) || e.Lag.P99Ns > int64(30*time.Second)):
			t.Errorf("edge %s: lag %+v, want one over %d hops", e.ID, e.Lag, w.count)
		case !w.lag && e.Lag != nil:
			t.Errorf("edge %s: lag %+v, want none", e.ID, e.Lag)
		}
		if e.Kind != "route" && (e.P50Ns <= 0 || e.P99Ns < e.P50Ns) {
			t.Errorf("edge %s: latency p50 %d p99 %d", e.ID, e.P50Ns, e.P99Ns)
		}
	}
	if len(m.Edges) != len(edges) {
		t.Errorf("%d edges, want %d: %v", len(m.Edges), len(edges), ids(m))
	}
}

func ids(m api.ServiceMapResponse) []string {
	var out []string
	for _, n := range m.Nodes {
		out = append(out, n.ID)
	}
	for _, e := range m.Edges {
		out = append(out, fmt.Sprintf("%s(%d/%d)", e.ID, e.Count, e.Errors))
	}
	return out
}

// TestMapThroughLocalCloud is the acceptance test of the map on a known
// topology built with the Ariadne SDK and run on the local serverless
// cloud: api → SNS orders → SQS billing-q and shipping-q → billing and
// shipping → S3 invoices → render, with three orders of which one fails
// in render. Every node and edge must be there with exact counts, errors
// and a queue lag; the map of one order's transaction has the same shape
// with counts of one; cost and RED see the invocations.
func TestMapThroughLocalCloud(t *testing.T) {
	srv := startAriadne(t)
	base := "http://" + srv.HTTPAddr()
	zero := 0
	fn := func(name, role string, triggers ...app.TriggerSpec) app.FunctionSpec {
		return app.FunctionSpec{Name: name, Binary: fnBinary, MemoryMB: 128, Timeout: app.Duration(10 * time.Second),
			Env: map[string]string{"ROLE": role, "TOPIC_ARN": "arn:aws:sns:us-east-1:" + app.AccountID + ":orders"}, Triggers: triggers}
	}
	desc := app.Description{
		Region:  "us-east-1",
		Queues:  []app.QueueSpec{{Name: "billing-q"}, {Name: "shipping-q"}},
		Topics:  []app.TopicSpec{{Name: "orders", Subscriptions: []app.QueueSubscription{{Queue: "billing-q"}, {Queue: "shipping-q"}}}},
		Buckets: []app.BucketSpec{{Name: "invoices"}},
		Functions: []app.FunctionSpec{
			fn("api", "api"),
			fn("billing", "billing", app.TriggerSpec{Queue: "billing-q", BatchSize: 1, ReportBatchItemFailures: true}),
			fn("shipping", "shipping", app.TriggerSpec{Queue: "shipping-q", BatchSize: 1, ReportBatchItemFailures: true}),
			fn("render", "render", app.TriggerSpec{Bucket: "invoices"}),
		},
	}
	desc.Functions[3].Async = &app.AsyncSpec{MaxRetryAttempts: &zero}
	cloud, err := app.Start(context.Background(), desc, app.Settings{
		// The extension forwards the platform's reports, which carry what
		// cost needs: billed duration and configured memory.
		Extensions: []string{extBinary},
		Env: map[string]string{
			// The UI port serves OTLP/HTTP and the extension's Telemetry
			// API endpoint alike.
			"ARIADNE_ENDPOINT":                 "http://" + srv.HTTPAddr(),
			"ARIADNE_EXTENSION_FLUSH_INTERVAL": "100ms",
			// Two shared cores: a commit may take longer than the SDK's
			// production export timeout of 500 ms.
			"ARIADNE_EXPORT_TIMEOUT": "20s",
		},
		Lambda: lambda.Settings{RetryDelays: []time.Duration{100 * time.Millisecond}},
	})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = cloud.Close() })

	orders := []string{"o-1", "o-2", "o-fail-3"}
	var failTrace string
	for _, id := range orders {
		ev, _ := json.Marshal(map[string]any{
			"version": "2.0", "routeKey": "POST /orders", "rawPath": "/orders",
			"headers":        map[string]string{"content-type": "application/json"},
			"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/orders"}, "requestId": "api-" + id, "stage": "$default"},
			"body":           fmt.Sprintf(`{"orderId":%q,"amount":42}`, id), "isBase64Encoded": false,
		})
		res, err := cloud.Lambda.Invoke(t.Context(), lambda.InvokeInput{Function: "api", Payload: ev})
		if err != nil || res.FunctionError != "" {
			t.Fatalf("invoke api: %v %s %s", err, res.Payload, res.LogTail)
		}
		var resp struct{ Body string }
		var body struct{ TraceID string }
		if json.Unmarshal(res.Payload, &resp) != nil || json.Unmarshal([]byte(resp.Body), &body) != nil {
			t.Fatalf("api answered %s", res.Payload)
		}
		failTrace = body.TraceID // the last order is the failing one
	}

	n := int64(len(orders))
	nodes := []string{"function:api", "topic:orders", "queue:billing-q", "queue:shipping-q", "function:billing",
		"function:shipping", "bucket:invoices", "function:render"}
	edges := func(n, fails int64) []wantEdge {
		return []wantEdge{
			{"function:api", "topic:orders", "produce", n, 0, false},
			{"topic:orders", "queue:billing-q", "route", n, 0, false},
			{"topic:orders", "queue:shipping-q", "route", n, 0, false},
			{"queue:billing-q", "function:billing", "consume", n, 0, true},
			{"queue:shipping-q", "function:shipping", "consume", n, 0, true},
			{"function:billing", "bucket:invoices", "produce", n, 0, false},
			{"bucket:invoices", "function:render", "consume", n, fails, true},
		}
	}
	complete := func(want int64) func(*api.ServiceMapResponse) bool {
		return func(m *api.ServiceMapResponse) bool {
			var got [3]int64
			for i, e := range [][2]string{{"bucket:invoices", "function:render"}, {"queue:shipping-q", "function:shipping"}, {"queue:billing-q", "function:billing"}} {
				if ed, ok := edgeByKey(m, e[0], e[1], "consume"); ok {
					got[i] = ed.Count
				}
			}
			// The queries of one map are not one snapshot: wait for the
			// entry spans too.
			for _, nd := range m.Nodes {
				if nd.Instrumented && nd.Count != want {
					return false
				}
			}
			return got == [3]int64{want, want, want}
		}
	}
	t.Run("range", func(t *testing.T) {
		m := waitMap(t, base, "start=-1h", complete(n))
		checkMap(t, m, nodes, edges(n, 1))
		for _, nd := range m.Nodes {
			want := n
			if !nd.Instrumented {
				continue
			}
			if nd.Count != want {
				t.Errorf("node %s served %d requests, want %d", nd.ID, nd.Count, want)
			}
			if nd.ID == "function:render" && nd.Errors != 1 {
				t.Errorf("render: %d errors, want 1", nd.Errors)
			}
		}
	})
	t.Run("transaction", func(t *testing.T) {
		m := waitMap(t, base, "traceId="+failTrace, complete(1))
		checkMap(t, m, nodes, edges(1, 1))
		if len(m.Traces) != 4 {
			t.Errorf("transaction of %d traces, want 4 (api, billing, shipping, render): %v", len(m.Traces), m.Traces)
		}
	})
	t.Run("environment", func(t *testing.T) {
		var m api.ServiceMapResponse
		getJSON(t, base+"/api/v1/servicemap?start=-1h&environment=staging", &m)
		if len(m.Nodes) != 0 {
			t.Errorf("staging map of an app without environment: %v", ids(m))
		}
	})
	t.Run("red", func(t *testing.T) {
		var red api.REDResponse
		getJSON(t, base+"/api/v1/metrics/red?function=render&start=-10m&step=10m", &red)
		var count, errs int64
		for _, s := range red.Series {
			for _, p := range s.Points {
				count += p.Count
				errs += p.Errors
			}
		}
		if count != n || errs != 1 {
			t.Errorf("render RED: %d requests %d errors, want %d 1: %+v", count, errs, n, red)
		}
	})
	t.Run("cost", func(t *testing.T) {
		// Every invocation is priced once the extension's platform
		// reports are in: billed duration × 128 MB.
		deadline := time.Now().Add(60 * time.Second)
		var c api.CostResponse
		for {
			c = api.CostResponse{}
			getJSON(t, base+"/api/v1/cost?start=-1h", &c)
			if c.Total.Billed == 4*n || time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if c.Total.Invocations != 4*n || c.Total.Billed != 4*n || len(c.Functions) != 4 || c.PricePerGBSecond != 0.0000166667 {
			t.Fatalf("cost: %+v", c)
		}
		for _, f := range c.Functions {
			gbs := float64(f.BilledNs) / 1e9 * 128 / 1024
			want := gbs*c.PricePerGBSecond + float64(f.Billed)*c.PricePerRequest
			if f.Invocations != n || f.BilledNs < n*int64(time.Millisecond) || abs(f.GBSeconds-gbs) > 1e-9 || abs(f.CostUSD-want) > 1e-12 {
				t.Errorf("cost of %s: %+v, want %v GB-s, $%v", f.Function, f, gbs, want)
			}
		}
		var tx api.CostResponse
		getJSON(t, base+"/api/v1/cost?traceId="+failTrace, &tx)
		if tx.Total.Invocations != 4 || tx.Total.Billed != 4 || tx.Total.CostUSD <= 0 || tx.Total.CostUSD >= c.Total.CostUSD {
			t.Errorf("cost of one transaction: %+v (all: %+v)", tx.Total, c.Total)
		}
	})
}
