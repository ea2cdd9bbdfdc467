// Package e2e holds end-to-end tests that run a whole serverless
// application on the local cloud (demo/localcloud), instrumented with the
// Ariadne SDK, against a real in-process Ariadne server, and check what a
// user would then see through the HTTP API.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
	"github.com/ariadnehq/ariadne/internal/api"
	ariadneapp "github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
	"github.com/ariadnehq/ariadne/internal/config"
)

// fnBinary is the test application (testdata/fn), built once by TestMain.
var fnBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ariadne-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnBinary = filepath.Join(dir, "fn")
	cmd := exec.Command("go", "build", "-o", fnBinary, "./testdata/fn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test functions: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// The server, the cloud and their goroutines must be gone once the
		// tests closed them; idle keep-alive connections may stay.
		if err := goleak.Find(localcloudtest.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startAriadne runs a real Ariadne server on 127.0.0.1:0 ports.
func startAriadne(t *testing.T) *ariadneapp.App {
	return apptest.Start(t, func(c *config.Config) { c.OTLPGRPCAddr = "" })
}

// startCloud runs the application: api → SNS orders → SQS billing-q and
// shipping-q → billing and shipping → S3 invoices → render.
func startCloud(t *testing.T, otlp string, logs func(lambda.LogLine)) *app.Cloud {
	t.Helper()
	zero := 0
	fn := func(name, role string, triggers ...app.TriggerSpec) app.FunctionSpec {
		return app.FunctionSpec{Name: name, Binary: fnBinary, MemoryMB: 128, Timeout: app.Duration(10 * time.Second),
			Env: map[string]string{"ROLE": role, "TOPIC_ARN": "arn:aws:sns:us-east-1:" + app.AccountID + ":orders"}, Triggers: triggers}
	}
	desc := app.Description{
		Region: "us-east-1",
		Queues: []app.QueueSpec{{Name: "billing-q"}, {Name: "shipping-q"},
			{Name: "jobs", VisibilityTimeout: app.Duration(time.Second), DeadLetter: &app.DeadLetterSpec{Queue: "jobs-dlq", MaxReceiveCount: 2}},
			{Name: "jobs-dlq"}},
		Topics:  []app.TopicSpec{{Name: "orders", Subscriptions: []app.QueueSubscription{{Queue: "billing-q"}, {Queue: "shipping-q"}}}},
		Buckets: []app.BucketSpec{{Name: "invoices"}},
		Functions: []app.FunctionSpec{
			fn("api", "api"),
			fn("billing", "billing", app.TriggerSpec{Queue: "billing-q", BatchSize: 10, ReportBatchItemFailures: true}),
			fn("shipping", "shipping", app.TriggerSpec{Queue: "shipping-q", BatchSize: 10, ReportBatchItemFailures: true}),
			fn("render", "render", app.TriggerSpec{Bucket: "invoices"}),
			fn("enqueue", "enqueue"),
			fn("worker", "worker", app.TriggerSpec{Queue: "jobs", BatchSize: 10, ReportBatchItemFailures: true}),
			fn("dlq", "dlq", app.TriggerSpec{Queue: "jobs-dlq", BatchSize: 10}),
		},
	}
	desc.Functions[3].Async = &app.AsyncSpec{MaxRetryAttempts: &zero}
	cloud, err := app.Start(context.Background(), desc, app.Settings{
		Env: map[string]string{
			"ARIADNE_ENDPOINT": "http://" + otlp,
			// Two shared cores: a commit may take longer than the SDK's
			// production export timeout of 500 ms.
			"ARIADNE_EXPORT_TIMEOUT": "20s",
		},
		Logs:   logs,
		Lambda: lambda.Settings{RetryDelays: []time.Duration{100 * time.Millisecond}},
	})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	return cloud
}

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
	}
	return resp.StatusCode
}

// order sends one order through the API function and returns the trace id
// the function reported.
func order(t *testing.T, cloud *app.Cloud, id string) string {
	t.Helper()
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
	var resp struct {
		StatusCode int
		Body       string
	}
	var body struct{ TraceID string }
	if err := json.Unmarshal(res.Payload, &resp); err != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &body) != nil {
		t.Fatalf("api answered %s", res.Payload)
	}
	return body.TraceID
}

// waitTransaction polls the transaction of trace until it has every
// function's trace (the hops run asynchronously) or the time runs out.
func waitTransaction(t *testing.T, base, trace string, functions []string) api.TransactionResponse {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var tx api.TransactionResponse
	prev := ""
	for {
		tx = api.TransactionResponse{}
		status := getJSON(t, base+"/api/v1/transactions/"+trace, &tx)
		var have []string
		for _, tr := range tx.Traces {
			if tr.Function != "" && !slices.Contains(have, tr.Function) {
				have = append(have, tr.Function)
			}
		}
		// Spans of one invocation arrive in several exports (start marker
		// first, the rest at the end), so a transaction counts as complete
		// only once it has every function and is the same on two reads.
		sig := fmt.Sprint(len(tx.Edges), spanCounts(tx))
		if status == 200 && len(have) == len(functions) && len(tx.Edges) >= len(functions)-1 && sig == prev {
			return tx
		}
		prev = sig
		if time.Now().After(deadline) {
			t.Fatalf("transaction of %s after 60s: status %d, functions %v, %d edges; want %v", trace, status, have, len(tx.Edges), functions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func spanCounts(tx api.TransactionResponse) []int {
	var n []int
	for _, tr := range tx.Traces {
		n = append(n, tr.SpanCount)
	}
	return n
}

// TestTransactionThroughLocalCloud: API → SNS → two SQS queues → two
// functions → S3 → function is one transaction with every edge and its
// lag; the same flow with a failing last hop is a failed transaction
// although the API answered 200. It also checks, for the SDK end to end
// (issue 4), that a trace comes back with its payload, strong ids and logs.
func TestTransactionThroughLocalCloud(t *testing.T) {
	srv := startAriadne(t)
	cloud := startCloud(t, srv.OTLPHTTPAddr(), nil)
	base := "http://" + srv.HTTPAddr()
	functions := []string{"api", "billing", "render", "shipping"}

	for _, tc := range []struct {
		orderID    string
		wantStatus string
	}{
		{"o-100", "ok"},
		{"o-fail-200", "error"},
	} {
		t.Run(tc.orderID, func(t *testing.T) {
			trace := order(t, cloud, tc.orderID)
			tx := waitTransaction(t, base, trace, functions)
			if tx.Status != tc.wantStatus {
				t.Errorf("status %q, want %q (failed traces %d)", tx.Status, tc.wantStatus, tx.FailedTraces)
			}
			byID := map[string]api.TransactionTrace{}
			for _, tr := range tx.Traces {
				byID[tr.TraceID] = tr
			}
			if tx.Traces[0].TraceID != trace || tx.Traces[0].Function != "api" || tx.Traces[0].Status != "ok" {
				t.Errorf("entry %+v, want the api trace, ok", tx.Traces[0])
			}
			type hop struct{ from, to, channel, dest string }
			var hops []hop
			for _, e := range tx.Edges {
				hops = append(hops, hop{byID[e.ProducerTraceID].Function, byID[e.ConsumerTraceID].Function, e.Channel, e.Destination})
				if e.LagNs == nil || *e.LagNs < -int64(50*time.Millisecond) || *e.LagNs > int64(30*time.Second) || len(e.MessageIDs) == 0 {
					t.Errorf("edge %s → %s: lag %v, ids %v", byID[e.ProducerTraceID].Function, byID[e.ConsumerTraceID].Function, e.LagNs, e.MessageIDs)
				}
			}
			for _, want := range []hop{{"api", "billing", "sns", "orders"}, {"api", "shipping", "sns", "orders"}, {"billing", "render", "s3", "invoices"}} {
				if !slices.Contains(hops, want) {
					t.Errorf("no edge %+v among %+v", want, hops)
				}
			}
			if len(tx.CriticalPath) == 0 || tx.CriticalPath[0].TraceID != trace {
				t.Errorf("critical path does not start at the entry: %+v", tx.CriticalPath)
			}
			var crossings int
			for _, s := range tx.CriticalPath {
				if s.Kind == "hop" {
					crossings++
				}
			}
			if crossings < 1 {
				t.Errorf("critical path crosses no hop: %+v", tx.CriticalPath)
			}
			if tx.DurationNs <= 0 || tx.EndTime <= tx.StartTime {
				t.Errorf("duration %d", tx.DurationNs)
			}

			// Issue 4 end to end: the API function's trace with payload,
			// strong ids and logs.
			var tr api.TraceResponse
			if st := getJSON(t, base+"/api/v1/traces/"+trace, &tr); st != 200 {
				t.Fatalf("GET trace: %d", st)
			}
			var payload, ids bool
			for _, s := range tr.Spans {
				payload = payload || strings.Contains(s.RequestPayload, tc.orderID)
				ids = ids || (s.Name == "SNS.Publish" && len(s.MessageIDs) == 1 && s.MessagingSystem != "")
			}
			var logged bool
			for _, l := range tr.Logs {
				logged = logged || strings.Contains(string(l.Body), "order accepted")
			}
			if !payload || !ids || !logged || len(tr.Invocations) == 0 {
				t.Errorf("api trace: payload %v, SNS message id %v, log %v, %d invocation rows", payload, ids, logged, len(tr.Invocations))
			}
		})
	}

	// Search: the failed transaction, by channel.
	var res api.TransactionsResponse
	getJSON(t, base+"/api/v1/transactions?failed=true&channel=invoices", &res)
	if len(res.Transactions) != 1 || res.Transactions[0].Status != "error" || res.Transactions[0].TraceCount < 4 {
		t.Errorf("failed transactions through invoices: %+v", res.Transactions)
	}
}

// TestMessageToDeadLetterQueue follows one message through the local
// cloud's real redrive: two deliveries to a worker that reports it in
// batchItemFailures, then the dead-letter queue (same message id), whose
// consumer processes it. The message's life comes back from the API.
func TestMessageToDeadLetterQueue(t *testing.T) {
	srv := startAriadne(t)
	cloud := startCloud(t, srv.OTLPHTTPAddr(), nil)
	base := "http://" + srv.HTTPAddr()
	res, err := cloud.Lambda.Invoke(t.Context(), lambda.InvokeInput{Function: "enqueue", Payload: []byte(`{"job":"resize","input":"poison-pill-7"}`)})
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke enqueue: %v %s %s", err, res.Payload, res.LogTail)
	}
	var sent struct{ MessageID string }
	if err := json.Unmarshal(res.Payload, &sent); err != nil || sent.MessageID == "" {
		t.Fatalf("enqueue answered %s", res.Payload)
	}
	deadline := time.Now().Add(60 * time.Second)
	var m api.MessageResponse
	for {
		m = api.MessageResponse{}
		status := getJSON(t, base+"/api/v1/messages/"+sent.MessageID, &m)
		if status == 200 && m.State == "dead_lettered" && len(m.Attempts) >= 3 && m.Attempts[len(m.Attempts)-1].Outcome == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s after 60s: status %d, state %q, %d attempts %+v", sent.MessageID, status, m.State, len(m.Attempts), m.Attempts)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if m.DeadLetter != "jobs-dlq" || m.Destination != "jobs" || len(m.Producers) != 1 || m.Producers[0].Function != "enqueue" {
		t.Errorf("dead letter %q, destination %q, producers %+v", m.DeadLetter, m.Destination, m.Producers)
	}
	for i, want := range []struct {
		fn, outcome string
		attempt     int
	}{{"worker", "batch_item_failure", 1}, {"worker", "batch_item_failure", 2}} {
		a := m.Attempts[i]
		if a.Function != want.fn || a.Outcome != want.outcome || a.Attempt != want.attempt || a.Destination != "jobs" {
			t.Errorf("attempt %d: %s %s #%d on %s, want %s %s #%d on jobs", i+1, a.Function, a.Outcome, a.Attempt, a.Destination, want.fn, want.outcome, want.attempt)
		}
	}
	if last := m.Attempts[len(m.Attempts)-1]; last.Function != "dlq" || last.Destination != "jobs-dlq" {
		t.Errorf("last attempt %+v, want the dlq consumer on jobs-dlq", last)
	}
	// Searching by a value inside the payload finds the message.
	var found api.MessagesResponse
	getJSON(t, base+"/api/v1/messages?q=poison-pill-7", &found)
	if len(found.Messages) == 0 || found.Messages[0].MessageID != sent.MessageID {
		t.Errorf("messages with poison-pill-7: %+v, want %s", found.Messages, sent.MessageID)
	}
}
