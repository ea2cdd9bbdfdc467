package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ariadnehq/ariadne/sdk/lambdatest"
)

// collector decodes OTLP/HTTP protobuf into spans and log bodies.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	logs  []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.URL.Path {
	case "/v1/traces":
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
	case "/v1/logs":
		var req collogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, l := range sl.LogRecords {
					c.logs = append(c.logs, l.Body.GetStringValue())
				}
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (c *collector) span(reqID, name string) *tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if s.Name != name {
			continue
		}
		for _, a := range s.Attributes {
			if a.Key == "faas.invocation_id" && a.Value.GetStringValue() == reqID {
				return s
			}
		}
	}
	return nil
}

func strSlice(s *tracepb.Span, key string) []string {
	var out []string
	for _, a := range s.Attributes {
		if a.Key == key {
			for _, v := range a.Value.GetArrayValue().GetValues() {
				out = append(out, v.GetStringValue())
			}
		}
	}
	return out
}

func attrStr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue()
		}
	}
	return ""
}

// lockedBuffer collects the child's stdout, written by os/exec's copier.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFunctionUnderRuntimeAPI builds this function and runs it the way
// Lambda does, against lambdatest's Runtime API, exporting to a local
// OTLP/HTTP collector. The same binary and Runtime API drive the
// end-to-end test against a real `ariadne serve`.
func TestFunctionUnderRuntimeAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "orders")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}

	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	sqsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ MessageBody string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		sum := md5.Sum([]byte(in.MessageBody))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"MessageId":"msg-0001","MD5OfMessageBody":"` + hex.EncodeToString(sum[:]) + `"}`))
	}))
	defer sqsSrv.Close()
	rt, err := lambdatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=orders",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL="+sqsSrv.URL,
		"ORDERS_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/orders",
		"ARIADNE_ENDPOINT="+otlp.URL,
	)
	stdout := &lockedBuffer{}
	cmd.Stdout = stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	httpEvent := `{"version":"2.0","routeKey":"POST /orders","rawPath":"/orders","headers":{"content-type":"application/json"},
		"requestContext":{"requestId":"api-1","http":{"method":"POST","path":"/orders"}},
		"body":"{\"orderId\":\"o-7\",\"item\":\"lamp\",\"qty\":1,\"password\":\"hunter2\"}"}`
	res, err := rt.Invoke(ctx, []byte(httpEvent), lambdatest.Invocation{RequestID: "req-http-1"})
	if err != nil || res.Error != nil || !strings.Contains(string(res.Payload), `"statusCode":201`) {
		t.Fatalf("http invoke: %s %s %v", res.Payload, res.Error, err)
	}
	sqsEvent := `{"Records":[
		{"messageId":"m-1","body":"{\"orderId\":\"o-7\",\"qty\":1}","attributes":{"ApproximateReceiveCount":"1"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:orders"},
		{"messageId":"m-2","body":"{\"orderId\":\"o-8\",\"qty\":0}","attributes":{"ApproximateReceiveCount":"2"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:orders"}]}`
	res, err = rt.Invoke(ctx, []byte(sqsEvent), lambdatest.Invocation{RequestID: "req-sqs-1"})
	if err != nil || !strings.Contains(string(res.Payload), `"itemIdentifier":"m-2"`) {
		t.Fatalf("sqs invoke: %s %s %v", res.Payload, res.Error, err)
	}

	// Every invocation flushed before it answered, so the data is there.
	inv := col.span("req-http-1", "orders")
	if inv == nil {
		t.Fatalf("no invocation span for req-http-1 (%d spans)", len(col.spans))
	}
	if p := attrStr(inv, "ariadne.request.payload"); !strings.Contains(p, "lamp") || strings.Contains(p, "hunter2") {
		t.Errorf("request payload %q", p)
	}
	if col.span("req-http-1", "ariadne.invocation.start") == nil {
		t.Error("no start marker")
	}
	var send *tracepb.Span
	col.mu.Lock()
	for _, s := range col.spans {
		if s.Name == "SQS.SendMessage" {
			send = s
		}
	}
	logs := strings.Join(col.logs, "|")
	col.mu.Unlock()
	if send == nil || strings.Join(strSlice(send, "ariadne.refs.producer"), ",") != "sqs:msg-0001" {
		t.Fatalf("send span %v", send)
	}
	if string(send.TraceId) != string(inv.TraceId) {
		t.Error("SQS send is not in the invocation's trace")
	}
	batch := col.span("req-sqs-1", "orders")
	if batch == nil || strings.Join(strSlice(batch, "ariadne.refs.consumer"), ",") != "sqs:m-1,sqs:m-2,lambda:req-sqs-1" {
		t.Fatalf("batch consumer refs %v", strSlice(batch, "ariadne.refs.consumer"))
	}
	for _, want := range []string{"order accepted", "order queued", "order processed", "order rejected"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log %q not exported (%s)", want, logs)
		}
	}
	if !strings.Contains(stdout.String(), `"trace_id"`) {
		t.Errorf("stdout logs not stamped: %s", stdout.String())
	}
}
