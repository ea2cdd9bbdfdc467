package ariadne

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// memLogs collects exported log records.
type memLogs struct{ recs chan sdklog.Record }

func (m *memLogs) Export(_ context.Context, rs []sdklog.Record) error {
	for _, r := range rs {
		select {
		case m.recs <- r.Clone():
		default:
		}
	}
	return nil
}
func (m *memLogs) Shutdown(context.Context) error   { return nil }
func (m *memLogs) ForceFlush(context.Context) error { return nil }

func testEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "orders",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "eu-west-1",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// newMemSDK returns an SDK exporting to memory, shut down with the test.
func newMemSDK(t testing.TB, env map[string]string, opts ...Option) (*SDK, *tracetest.InMemoryExporter, *memLogs) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	logs := &memLogs{recs: make(chan sdklog.Record, 1024)}
	opts = append([]Option{WithGetenv(testEnv(env)), WithoutGlobal(), WithSpanExporter(spans), WithLogExporter(logs)}, opts...)
	s, err := New(context.Background(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s, spans, logs
}

func lambdaCtx(reqID string, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders:live",
	})
	return context.WithTimeout(ctx, timeout)
}

func findSpan(stubs tracetest.SpanStubs, name string) *tracetest.SpanStub {
	for i := range stubs {
		if stubs[i].Name == name {
			return &stubs[i]
		}
	}
	return nil
}

func attr(attrs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(k, v string) attribute.KeyValue { return attribute.String(k, v) }
