package ariadne

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWrapInvocationSpan(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	type order struct {
		OrderID string `json:"orderId"`
	}
	h := s.Wrap(func(ctx context.Context, o order) (map[string]string, error) {
		return map[string]string{"status": "ok", "order": o.OrderID}, nil
	})
	for i, id := range []string{"req-1", "req-2"} {
		ctx, cancel := lambdaCtx(id, 3*time.Second)
		out, err := h.Invoke(ctx, []byte(`{"orderId":"o-1","password":"hunter2"}`))
		cancel()
		if err != nil || !strings.Contains(string(out), `"status":"ok"`) {
			t.Fatalf("invoke %d: %s, %v", i, out, err)
		}
	}
	stubs := mem.GetSpans()
	var inv, markers int
	for _, sp := range stubs {
		switch sp.Name {
		case "orders":
			reqID, _ := attr(sp.Attributes, "faas.invocation_id")
			cold, _ := attr(sp.Attributes, "faas.coldstart")
			if want := reqID.AsString() == "req-1"; cold.AsBool() != want {
				t.Errorf("%s: coldstart = %v", reqID.AsString(), cold.AsBool())
			}
			for key, want := range map[string]string{
				"ariadne.trigger":          "invoke",
				"faas.trigger":             "other",
				"cloud.resource_id":        "arn:aws:lambda:eu-west-1:123456789012:function:orders",
				"aws.lambda.invoked_arn":   "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
				"ariadne.request.payload":  `{"orderId":"o-1","password":"[REDACTED]"}`,
				"ariadne.response.payload": `{"order":"o-1","status":"ok"}`,
			} {
				if v, _ := attr(sp.Attributes, key); v.Emit() != want {
					t.Errorf("%s = %q, want %q", key, v.Emit(), want)
				}
			}
			if v, _ := attr(sp.Attributes, "ariadne.memory_limit_mb"); v.AsInt64() != 256 {
				t.Errorf("memory = %v", v.Emit())
			}
			if v, _ := attr(sp.Attributes, "ariadne.refs.consumer"); v.Emit() != `["lambda:`+reqID.AsString()+`"]` {
				t.Errorf("consumer refs = %s", v.Emit())
			}
			if v, _ := attr(sp.Resource.Attributes(), "faas.max_memory"); v.AsInt64() != 256<<20 {
				t.Errorf("faas.max_memory = %v", v.Emit())
			}
			inv++
		case MarkerSpanName:
			if v, _ := attr(sp.Attributes, "ariadne.deadline"); v.AsInt64() == 0 {
				t.Errorf("marker without deadline")
			}
			if v, _ := attr(sp.Attributes, "ariadne.marker"); v.AsString() != "start" {
				t.Errorf("marker = %q", v.AsString())
			}
			if !sp.EndTime.Equal(sp.StartTime) {
				t.Errorf("marker duration %v", sp.EndTime.Sub(sp.StartTime))
			}
			markers++
		}
	}
	if inv != 2 || markers != 2 {
		t.Fatalf("invocation spans %d, markers %d; want 2, 2 (%d spans)", inv, markers, len(stubs))
	}
}

func TestWrapErrorAndPanic(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	boom := errors.New("card 4111 1111 1111 1111 declined")
	h := s.Wrap(func(context.Context) error { return boom })
	ctx, cancel := lambdaCtx("req-err", time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, []byte(`{}`)); !errors.Is(err, boom) {
		t.Fatalf("error not passed through: %v", err)
	}
	p := s.Wrap(func(context.Context) error { panic("kaboom") })
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("panic not re-raised: %v", r)
			}
		}()
		_, _ = p.Invoke(ctx, []byte(`{}`))
	}()
	var sawErr, sawPanic bool
	for _, sp := range mem.GetSpans() {
		if sp.Name != "orders" {
			continue
		}
		if sp.Status.Code != codes.Error {
			t.Errorf("status = %v", sp.Status)
		}
		if strings.Contains(sp.Status.Description, "4111 1111") {
			t.Errorf("card number in status: %q", sp.Status.Description)
		}
		if len(sp.Events) == 0 || sp.Events[0].Name != "exception" {
			t.Errorf("no exception event: %+v", sp.Events)
		}
		for _, ev := range sp.Events {
			for _, a := range ev.Attributes {
				if strings.Contains(a.Value.Emit(), "4111 1111") {
					t.Errorf("card number in event attribute %s", a.Key)
				}
			}
		}
		if v, ok := attr(sp.Attributes, "ariadne.panic"); ok && v.AsBool() {
			sawPanic = true
		} else {
			sawErr = true
		}
	}
	if !sawErr || !sawPanic {
		t.Fatalf("error span %v, panic span %v", sawErr, sawPanic)
	}
}

func TestWrapSQSBatch(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	h := s.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
			if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
				return errors.New("no span")
			}
			if strings.Contains(m.Body, "e1e7c3d5") {
				return errors.New("bad order")
			}
			return nil
		}), nil
	})
	ctx, cancel := lambdaCtx("req-sqs", 3*time.Second)
	defer cancel()
	out, err := h.Invoke(ctx, readEvent(t, "sns-via-sqs-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	_ = json.Unmarshal(out, &resp)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "3f2535e5-0807-45ab-9295-0da3773cf7eb" {
		t.Fatalf("failures = %+v", resp.BatchItemFailures)
	}
	stubs := mem.GetSpans()
	inv := findSpan(stubs, "orders")
	if inv == nil {
		t.Fatal("no invocation span")
	}
	if v, _ := attr(inv.Attributes, "ariadne.trigger"); v.AsString() != "sns+sqs" {
		t.Errorf("trigger = %s", v.Emit())
	}
	var procs, failed int
	for _, sp := range stubs {
		if sp.Name != "process orders-queue" {
			continue
		}
		procs++
		if sp.Parent.SpanID() != inv.SpanContext.SpanID() {
			t.Errorf("processing span not under the invocation")
		}
		if len(sp.Links) != 1 {
			t.Errorf("links = %d", len(sp.Links))
		}
		id, _ := attr(sp.Attributes, "messaging.message.id")
		rc, _ := attr(sp.Attributes, "ariadne.sqs.receive_count")
		if f, _ := attr(sp.Attributes, "ariadne.batch.failed"); f.AsBool() {
			failed++
			if id.AsString() != "3f2535e5-0807-45ab-9295-0da3773cf7eb" || rc.AsInt64() != 3 {
				t.Errorf("failed message %s receive count %d", id.AsString(), rc.AsInt64())
			}
		}
	}
	if procs != 2 || failed != 1 {
		t.Fatalf("processing spans %d, failed %d", procs, failed)
	}
	if p, _ := attr(inv.Attributes, "ariadne.request.payload"); strings.Contains(p.AsString(), "hunter2") {
		t.Errorf("password inside the SNS message inside the SQS body leaked: %s", p.AsString())
	}
}

func TestWrapTimeoutMarksInflight(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil, WithConfig(func(c *Config) { c.TimeoutMargin = 150 * time.Millisecond }))
	release := make(chan struct{})
	h := s.Wrap(func(ctx context.Context) error {
		_, call := s.Tracer().Start(ctx, "DynamoDB.Query", trace.WithSpanKind(trace.SpanKindClient))
		<-release
		call.End()
		return nil
	})
	ctx, cancel := lambdaCtx("req-slow", 250*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Invoke(ctx, []byte(`{}`))
	}()
	deadline := time.Now().Add(2 * time.Second)
	var inv *trace.SpanContext
	for time.Now().Before(deadline) && inv == nil {
		if sp := findSpan(mem.GetSpans(), "orders"); sp != nil {
			inv = &sp.SpanContext
			if v, _ := attr(sp.Attributes, "ariadne.timeout"); !v.AsBool() {
				t.Errorf("ariadne.timeout not set")
			}
			if sp.Status.Description != "timing out" {
				t.Errorf("status = %+v", sp.Status)
			}
			if len(sp.Events) != 1 || sp.Events[0].Name != "ariadne.inflight" {
				t.Fatalf("events = %+v", sp.Events)
			}
			if v, _ := attr(sp.Events[0].Attributes, "ariadne.inflight.name"); v.AsString() != "DynamoDB.Query" {
				t.Errorf("inflight name = %q", v.AsString())
			}
			if v, _ := attr(sp.Events[0].Attributes, "ariadne.inflight.elapsed_ns"); v.AsInt64() < int64(50*time.Millisecond) {
				t.Errorf("inflight elapsed = %v", time.Duration(v.AsInt64()))
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if inv == nil {
		t.Fatal("invocation span not exported before the handler returned")
	}
	close(release)
	<-done
}

func TestWrapStepFunctionsContinuation(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	h := s.Wrap(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"orderId": in["orderId"], "priced": true}, nil
	})
	ctx, cancel := lambdaCtx("req-sfn", time.Second)
	defer cancel()
	out, err := h.Invoke(ctx, readEvent(t, "stepfunctions-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		C SFNCorrelation `json:"_ariadne"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.C.Step != 2 || got.C.ID != "6f1c2b9e-4d3a-4c1b-9a8e-2f7d6c5b4a39" {
		t.Fatalf("result %s: %v", out, err)
	}
	sp := findSpan(mem.GetSpans(), "orders")
	if v, _ := attr(sp.Attributes, "ariadne.refs.producer"); v.Emit() != `["sfn:6f1c2b9e-4d3a-4c1b-9a8e-2f7d6c5b4a39:2"]` {
		t.Errorf("producer = %s", v.Emit())
	}
	if v, _ := attr(sp.Attributes, "ariadne.refs.consumer"); !strings.Contains(v.Emit(), "sfn:6f1c2b9e-4d3a-4c1b-9a8e-2f7d6c5b4a39:1") {
		t.Errorf("consumer = %s", v.Emit())
	}
}

func TestWrapHTTPParentAndStatus(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	h := s.Wrap(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 503}, nil
	})
	ctx, cancel := lambdaCtx("req-http", time.Second)
	defer cancel()
	ev := `{"version":"2.0","routeKey":"POST /orders","headers":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","authorization":"Bearer abc.def.ghi-secret"},"requestContext":{"requestId":"r1","http":{"method":"POST","path":"/orders"}}}`
	if _, err := h.Invoke(ctx, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	sp := findSpan(mem.GetSpans(), "orders")
	if sp.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sp.SpanKind != trace.SpanKindServer {
		t.Errorf("parent %v kind %v", sp.Parent, sp.SpanKind)
	}
	if v, _ := attr(sp.Attributes, "http.response.status_code"); v.AsInt64() != 503 || sp.Status.Code != codes.Error {
		t.Errorf("status %v / %v", v.Emit(), sp.Status)
	}
	if p, _ := attr(sp.Attributes, "ariadne.request.payload"); strings.Contains(p.AsString(), "secret") {
		t.Errorf("authorization header leaked: %s", p.AsString())
	}
}

func TestDisabledIsPassThrough(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"ARIADNE_DISABLE": "true"})
	h := s.Wrap(func() (string, error) { return "hi", nil })
	out, err := h.Invoke(context.Background(), nil)
	if err != nil || string(out) != `"hi"` {
		t.Fatalf("%s %v", out, err)
	}
	if n := len(mem.GetSpans()); n != 0 {
		t.Fatalf("disabled SDK exported %d spans", n)
	}
}

func TestWrapMetadataOnly(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"ARIADNE_METADATA_ONLY": "true"})
	h := s.Wrap(func(ctx context.Context, ev events.SQSEvent) error { return nil })
	ctx, cancel := lambdaCtx("req-meta", time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, readEvent(t, "sqs-event.json")); err != nil {
		t.Fatal(err)
	}
	sp := findSpan(mem.GetSpans(), "orders")
	if _, ok := attr(sp.Attributes, "ariadne.request.payload"); ok {
		t.Error("payload captured in metadata-only mode")
	}
	if v, _ := attr(sp.Attributes, "ariadne.refs.consumer"); !strings.Contains(v.Emit(), "sqs:MessageID_1") {
		t.Errorf("strong ids must survive metadata-only mode: %s", v.Emit())
	}
}

func TestStartMarkerExportedWhileHandlerRuns(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	h := s.Wrap(func(ctx context.Context) error {
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if findSpan(mem.GetSpans(), MarkerSpanName) != nil {
				return nil
			}
			time.Sleep(2 * time.Millisecond)
		}
		return errors.New("start marker not exported during the invocation")
	})
	ctx, cancel := lambdaCtx("req-marker", 5*time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	m := findSpan(mem.GetSpans(), MarkerSpanName)
	inv := findSpan(mem.GetSpans(), "orders")
	if m.Parent.SpanID() != inv.SpanContext.SpanID() || m.SpanContext.TraceID() != inv.SpanContext.TraceID() {
		t.Fatal("marker is not in the invocation's trace")
	}
	if v, _ := attr(m.Attributes, "ariadne.deadline"); time.Until(time.Unix(0, v.AsInt64())) < 3*time.Second {
		t.Errorf("deadline %v", time.Unix(0, v.AsInt64()))
	}
}

func TestProvisionedConcurrencyIsNeverCold(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"})
	ctx, cancel := lambdaCtx("req-pc", time.Second)
	defer cancel()
	if _, err := s.Wrap(func() error { return nil }).Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if v, _ := attr(findSpan(mem.GetSpans(), "orders").Attributes, "faas.coldstart"); v.AsBool() {
		t.Fatal("provisioned concurrency reported as a cold start")
	}
}
