// Package apitest serves API v1 over a real DuckDB store filled with a small,
// realistic serverless data set, for the tests of the API and of the CLI
// commands that talk to it. It is test support only: nothing in the server
// imports it.
package apitest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// Base is the start of the data set: 2026-11-25T22:30:00Z.
var Base = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC)

// Now is the clock of the served API: an hour after Base, so that the
// default and relative ranges ("-1h") cover the data set.
var Now = Base.Add(time.Hour)

// Trace ids of the data set.
var (
	// Checkout: API Lambda → DynamoDB, SQS send, payments call whose card
	// charge fails. Logs on three spans and one outside, two invocations.
	Checkout = mustTrace("4bf92f3577b34da6a3ce929d0e0e4736")
	// Fulfil: the SQS consumer of the checkout's message, linked to it.
	Fulfil = mustTrace("5c0a1b2c3d4e5f60718293a4b5c6d7e8")
	// Report: a slow (3.2s) report request, all fine.
	Report = mustTrace("6d1b2c3d4e5f60718293a4b5c6d7e8f9")
	// Timeout: an inventory sync that timed out.
	Timeout = mustTrace("7e2c3d4e5f60718293a4b5c6d7e8f9a0")
)

// HealthChecks is how many one-span health-check traces the data set has
// (one a minute from Base+10m), to page through.
const HealthChecks = 5

// Store opens a DuckDB engine in a temporary directory, writes the data
// set through its Writer, and closes it when the test ends.
func Store(t testing.TB) *duckdb.Engine {
	t.Helper()
	ctx := context.Background()
	e, err := duckdb.Open(ctx, duckdb.Settings{Dir: t.TempDir(), Threads: 1, MemoryLimit: "256MB"})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	b := Data()
	if err := e.Write(ctx, &b); err != nil {
		t.Fatalf("write data set: %v", err)
	}
	return e
}

// Server serves the API over r on a real HTTP server with Now as its clock.
func Server(t testing.TB, r store.Reader) *httptest.Server {
	t.Helper()
	a := api.New(r, api.Settings{Now: func() time.Time { return Now }})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func mustTrace(s string) model.TraceID {
	id, err := model.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func span(n uint64) model.SpanID {
	var s model.SpanID
	for i := range s {
		s[i] = byte(n >> (8 * (7 - i)))
	}
	s[0] = 0x5a // never zero
	return s
}

func at(d time.Duration) int64 { return Base.Add(d).UnixNano() }

func str(s string) model.Value    { return model.Value{Type: model.TypeString, Str: s} }
func integer(n int) model.Value   { return model.Value{Type: model.TypeInt, Str: fmt.Sprint(n)} }
func boolean(b bool) model.Value  { return model.Value{Type: model.TypeBool, Str: fmt.Sprint(b)} }
func double(s string) model.Value { return model.Value{Type: model.TypeDouble, Str: s} }

// Lambda resource attributes of a function.
func lambdaResource(fn string) model.Attributes {
	return model.Attributes{
		{Key: "service.name", Value: str(fn)},
		{Key: "faas.name", Value: str(fn)},
		{Key: "faas.max_memory", Value: integer(128 << 20)},
		{Key: "cloud.provider", Value: str("aws")},
		{Key: "cloud.region", Value: str("eu-west-1")},
	}
}

// Data returns the data set.
func Data() model.Batch {
	var b model.Batch
	b.Spans = append(b.Spans, checkoutSpans()...)
	b.Spans = append(b.Spans, fulfilSpans()...)
	b.Spans = append(b.Spans, reportSpans()...)
	b.Spans = append(b.Spans, timeoutSpans()...)
	for i := 0; i < HealthChecks; i++ {
		var tid model.TraceID
		tid[0], tid[15] = 0x11, byte(i+1)
		b.Spans = append(b.Spans, model.Span{
			TraceID: tid, SpanID: span(uint64(900 + i)), StartTime: at(10*time.Minute + time.Duration(i)*time.Minute),
			DurationNs: int64(1200 * time.Microsecond), Name: "GET /health", Kind: model.KindServer,
			StatusCode: model.StatusOK, Service: "health", HTTPMethod: "GET", HTTPRoute: "/health", HTTPStatus: 200,
			Attributes: model.Attributes{{Key: "http.route", Value: str("/health")}},
		})
	}
	b.Logs = checkoutLogs()
	b.Logs = append(b.Logs, model.LogRecord{
		Time: at(6*time.Minute + 2900*time.Millisecond), ObservedTime: at(6*time.Minute + 3*time.Second),
		TraceID: Timeout, SpanID: span(401), SeverityNumber: 17, SeverityText: "ERROR",
		Body: str("Task timed out after 3.00 seconds"), Service: "inventory", Function: "inventory-sync",
		InvocationID: "3d9e7c55-0000-4000-8000-000000000004",
	})
	b.Invocations = []model.Invocation{
		{RequestID: "8f5d2c1e-0000-4000-8000-000000000001", Function: "orders-api", Source: "telemetry",
			Start: at(0), DurationNs: int64(420 * time.Millisecond), BilledDurationNs: int64(421 * time.Millisecond),
			InitDurationNs: int64(180 * time.Millisecond), MemoryMB: 128, MaxMemoryMB: 91, Status: model.InvocationOK,
			ColdStart: true, Attempt: 1, TraceID: Checkout, SpanID: span(101)},
		{RequestID: "8f5d2c1e-0000-4000-8000-000000000002", Function: "payments", Source: "sdk",
			Start: at(100 * time.Millisecond), DurationNs: int64(300 * time.Millisecond), Status: model.InvocationError,
			ErrorType: "CardDeclined", Attempt: 1, TraceID: Checkout, SpanID: span(104)},
		{RequestID: "3d9e7c55-0000-4000-8000-000000000004", Function: "inventory-sync", Source: "logs",
			Start: at(6 * time.Minute), DurationNs: int64(3 * time.Second), BilledDurationNs: int64(3 * time.Second),
			Deadline: at(6*time.Minute + 3*time.Second), MemoryMB: 256, MaxMemoryMB: 120,
			Status: model.InvocationTimeout, Attempt: 2, TraceID: Timeout, SpanID: span(401)},
	}
	b.MessageRefs = []model.MessageRef{
		{Key: "sqs:0b8e5f7a-1111-4222-8333-944455556666", Role: model.RoleProducer, TraceID: Checkout, SpanID: span(103),
			Time: at(95 * time.Millisecond), Destination: "orders-queue"},
		{Key: "sqs:0b8e5f7a-1111-4222-8333-944455556666", Role: model.RoleConsumer, TraceID: Fulfil, SpanID: span(201),
			Time: at(2 * time.Second), Destination: "orders-queue"},
	}
	return b
}

func checkoutSpans() []model.Span {
	ms := time.Millisecond
	root := model.Span{
		TraceID: Checkout, SpanID: span(101), StartTime: at(0), DurationNs: int64(420 * ms),
		Name: "POST /orders", Kind: model.KindServer, StatusCode: model.StatusUnset, Service: "orders-api",
		ScopeName: "github.com/ariadnehq/ariadne/sdk", ScopeVersion: "0.1.0",
		Function: "orders-api", InvocationID: "8f5d2c1e-0000-4000-8000-000000000001", ColdStart: true,
		Trigger: "apigatewayv2", HTTPMethod: "POST", HTTPRoute: "/orders", HTTPStatus: 201,
		Attributes: model.Attributes{
			{Key: "faas.invocation_id", Value: str("8f5d2c1e-0000-4000-8000-000000000001")},
			{Key: "faas.coldstart", Value: boolean(true)},
			{Key: "ariadne.trigger", Value: str("apigatewayv2")},
			{Key: "http.request.method", Value: str("POST")},
			{Key: "http.route", Value: str("/orders")},
			{Key: "http.response.status_code", Value: integer(201)},
			{Key: "order.total", Value: double("42.5")},
			{Key: "order.items", Value: model.Value{Type: model.TypeArray,
				Str: `{"arrayValue":{"values":[{"stringValue":"sku-1"},{"stringValue":"sku-2"}]}}`}},
			{Key: "customer", Value: model.Value{Type: model.TypeMap,
				Str: `{"kvlistValue":{"values":[{"key":"id","value":{"stringValue":"c-77"}},{"key":"vip","value":{"boolValue":true}},{"key":"orders","value":{"intValue":"12"}}]}}`}},
		},
		ResourceAttributes: lambdaResource("orders-api"),
		RequestPayload:     `{"items":["sku-1","sku-2"],"card":"[REDACTED]"}`,
		ResponsePayload:    `{"orderId":"o-1001"}`,
	}
	put := model.Span{
		TraceID: Checkout, SpanID: span(102), ParentSpanID: root.SpanID, StartTime: at(20 * ms), DurationNs: int64(45 * ms),
		Name: "DynamoDB.PutItem", Kind: model.KindClient, Service: "orders-api", Function: "orders-api",
		InvocationID: root.InvocationID, DBSystem: "dynamodb",
		Attributes: model.Attributes{
			{Key: "db.system", Value: str("dynamodb")},
			{Key: "aws.dynamodb.table_names", Value: model.Value{Type: model.TypeArray, Str: `{"arrayValue":{"values":[{"stringValue":"orders"}]}}`}},
		},
		ResourceAttributes: lambdaResource("orders-api"),
	}
	send := model.Span{
		TraceID: Checkout, SpanID: span(103), ParentSpanID: root.SpanID, StartTime: at(70 * ms), DurationNs: int64(25 * ms),
		Name: "orders-queue send", Kind: model.KindProducer, Service: "orders-api", Function: "orders-api",
		InvocationID: root.InvocationID, MessagingSystem: "aws_sqs", MessagingOperation: "publish",
		Destination: "orders-queue", MessageIDs: []string{"0b8e5f7a-1111-4222-8333-944455556666"},
		Attributes: model.Attributes{
			{Key: "messaging.system", Value: str("aws_sqs")},
			{Key: "messaging.operation.type", Value: str("publish")},
			{Key: "messaging.destination.name", Value: str("orders-queue")},
			{Key: "messaging.message.id", Value: str("0b8e5f7a-1111-4222-8333-944455556666")},
			{Key: "ariadne.refs.producer", Value: model.Value{Type: model.TypeArray,
				Str: `{"arrayValue":{"values":[{"stringValue":"sqs:0b8e5f7a-1111-4222-8333-944455556666"}]}}`}},
		},
		ResourceAttributes: lambdaResource("orders-api"),
	}
	pay := model.Span{
		TraceID: Checkout, SpanID: span(104), ParentSpanID: root.SpanID, StartTime: at(100 * ms), DurationNs: int64(300 * ms),
		Name: "POST /charge", Kind: model.KindServer, StatusCode: model.StatusError, StatusMessage: "card declined",
		Service: "payments", Function: "payments", InvocationID: "8f5d2c1e-0000-4000-8000-000000000002",
		Trigger: "invoke", HTTPMethod: "POST", HTTPRoute: "/charge", HTTPStatus: 402,
		ErrorType: "CardDeclined", ErrorMessage: "card declined for order o-1001",
		Attributes: model.Attributes{
			{Key: "http.route", Value: str("/charge")},
			{Key: "payment.provider", Value: str("stripe")},
		},
		ResourceAttributes: lambdaResource("payments"),
		Events: []model.Event{{Time: at(398 * ms), Name: "exception", Attributes: model.Attributes{
			{Key: "exception.type", Value: str("CardDeclined")},
			{Key: "exception.message", Value: str("card declined for order o-1001")},
			{Key: "exception.escaped", Value: boolean(false)},
		}}},
	}
	charge := model.Span{
		TraceID: Checkout, SpanID: span(105), ParentSpanID: pay.SpanID, StartTime: at(110 * ms), DurationNs: int64(270 * ms),
		Name: "stripe.Charge", Kind: model.KindClient, StatusCode: model.StatusError, StatusMessage: "402 Payment Required",
		Service: "payments", Function: "payments", InvocationID: pay.InvocationID, HTTPMethod: "POST", HTTPStatus: 402,
		Attributes: model.Attributes{
			{Key: "server.address", Value: str("api.stripe.com")},
			{Key: "http.response.status_code", Value: integer(402)},
		},
		ResourceAttributes: lambdaResource("payments"),
	}
	return []model.Span{root, put, send, pay, charge}
}

func checkoutLogs() []model.LogRecord {
	ms := time.Millisecond
	log := func(s uint64, d time.Duration, sev uint8, text, body, svc string) model.LogRecord {
		l := model.LogRecord{Time: at(d), ObservedTime: at(d + ms), TraceID: Checkout, SeverityNumber: sev,
			SeverityText: text, Body: str(body), Service: svc, Function: svc}
		if s != 0 {
			l.SpanID = span(s)
		}
		return l
	}
	structured := log(101, 415*ms, 9, "INFO", "", "orders-api")
	structured.Body = model.Value{Type: model.TypeMap,
		Str: `{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"order stored"}},{"key":"orderId","value":{"stringValue":"o-1001"}}]}}`}
	structured.Attributes = model.Attributes{{Key: "log.source", Value: str("sdk")}}
	return []model.LogRecord{
		log(0, -180*ms, 9, "INFO", "INIT_START Runtime Version: provided:al2023.v2", "orders-api"),
		log(101, 5*ms, 9, "INFO", "received order o-1001 with 2 items", "orders-api"),
		log(104, 150*ms, 13, "WARN", "charge attempt 1 failed, retrying", "payments"),
		log(104, 390*ms, 17, "ERROR", "charge failed: card declined", "payments"),
		structured,
	}
}

func fulfilSpans() []model.Span {
	ms := time.Millisecond
	proc := model.Span{
		TraceID: Fulfil, SpanID: span(201), StartTime: at(2 * time.Second), DurationNs: int64(80 * ms),
		Name: "orders-queue process", Kind: model.KindConsumer, Service: "fulfilment", Function: "fulfilment",
		InvocationID: "a1b2c3d4-0000-4000-8000-000000000003", Trigger: "sqs", MessagingSystem: "aws_sqs",
		MessagingOperation: "process", Destination: "orders-queue",
		MessageIDs: []string{"0b8e5f7a-1111-4222-8333-944455556666"},
		Attributes: model.Attributes{
			{Key: "messaging.system", Value: str("aws_sqs")},
			{Key: "ariadne.sqs.receive_count", Value: integer(1)},
		},
		ResourceAttributes: lambdaResource("fulfilment"),
		Links:              []model.Link{{TraceID: Checkout, SpanID: span(103)}},
	}
	upd := model.Span{
		TraceID: Fulfil, SpanID: span(202), ParentSpanID: proc.SpanID, StartTime: at(2*time.Second + 10*ms),
		DurationNs: int64(30 * ms), Name: "DynamoDB.UpdateItem", Kind: model.KindClient, Service: "fulfilment",
		Function: "fulfilment", DBSystem: "dynamodb", ResourceAttributes: lambdaResource("fulfilment"),
	}
	return []model.Span{proc, upd}
}

func reportSpans() []model.Span {
	return []model.Span{{
		TraceID: Report, SpanID: span(301), StartTime: at(4 * time.Minute), DurationNs: int64(3200 * time.Millisecond),
		Name: "GET /reports", Kind: model.KindServer, StatusCode: model.StatusOK, Service: "reports",
		Function: "reports", HTTPMethod: "GET", HTTPRoute: "/reports", HTTPStatus: 200,
		Attributes:      model.Attributes{{Key: "http.route", Value: str("/reports")}, {Key: "report.kind", Value: str("monthly")}},
		ResponsePayload: `{"rows":1234}`,
	}}
}

func timeoutSpans() []model.Span {
	return []model.Span{{
		TraceID: Timeout, SpanID: span(401), StartTime: at(6 * time.Minute), DurationNs: int64(3 * time.Second),
		Name: "inventory sync", Kind: model.KindServer, StatusCode: model.StatusError, StatusMessage: "timing out",
		Service: "inventory", Function: "inventory-sync", InvocationID: "3d9e7c55-0000-4000-8000-000000000004",
		Trigger: "schedule", ErrorType: "TimeoutError", ErrorMessage: "Task timed out after 3.00 seconds",
		Attributes: model.Attributes{{Key: "ariadne.timeout", Value: boolean(true)}},
		Events: []model.Event{{Time: at(6*time.Minute + 2900*time.Millisecond), Name: "ariadne.inflight", Attributes: model.Attributes{
			{Key: "ariadne.inflight.name", Value: str("DynamoDB.Query")},
			{Key: "ariadne.inflight.elapsed_ns", Value: integer(2_400_000_000)},
		}}},
	}}
}
