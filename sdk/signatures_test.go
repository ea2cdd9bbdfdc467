package ariadne

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

type in struct {
	N int `json:"n"`
}
type out struct {
	M int `json:"m"`
}

type rawHandler struct{}

func (rawHandler) Invoke(_ context.Context, p []byte) ([]byte, error) { return p, nil }

// TestEverySignature wraps each handler shape aws-lambda-go accepts.
func TestEverySignature(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	tests := []struct {
		name    string
		handler any
		want    string
	}{
		{"func()", func() {}, "null"},
		{"func() error", func() error { return nil }, "null"},
		{"func(TIn) error", func(in) error { return nil }, "null"},
		{"func() (TOut, error)", func() (out, error) { return out{1}, nil }, `{"m":1}`},
		{"func(TIn) (TOut, error)", func(i in) (out, error) { return out{i.N}, nil }, `{"m":2}`},
		{"func(ctx) error", func(context.Context) error { return nil }, "null"},
		{"func(ctx, TIn) error", func(context.Context, in) error { return nil }, "null"},
		{"func(ctx) (TOut, error)", func(context.Context) (out, error) { return out{3}, nil }, `{"m":3}`},
		{"func(ctx, TIn) (TOut, error)", func(_ context.Context, i in) (out, error) { return out{i.N}, nil }, `{"m":2}`},
		{"func(ctx, TIn) (*TOut, error)", func(_ context.Context, i in) (*out, error) { return &out{i.N}, nil }, `{"m":2}`},
		{"lambda.Handler", rawHandler{}, `{"n":2}`},
		{"WrapFunc", WrapFunc(s, func(_ context.Context, i in) (out, error) { return out{i.N * 2}, nil }), `{"m":4}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem.Reset()
			ctx, cancel := lambdaCtx("req-sig", time.Second)
			defer cancel()
			got, err := s.Wrap(tt.handler).Invoke(ctx, []byte(`{"n":2}`))
			if err != nil || strings.TrimSpace(string(got)) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
			if findSpan(mem.GetSpans(), "orders") == nil {
				t.Fatal("no invocation span")
			}
		})
	}
	// An invalid handler fails each invocation with aws-lambda-go's own
	// error, and the failure is traced.
	mem.Reset()
	ctx, cancel := lambdaCtx("req-bad", time.Second)
	defer cancel()
	if _, err := s.Wrap(42).Invoke(ctx, nil); err == nil {
		t.Fatal("invalid handler accepted")
	}
	if sp := findSpan(mem.GetSpans(), "orders"); sp == nil || sp.Status.Code.String() != "Error" {
		t.Fatal("invalid handler not traced as an error")
	}
}

func TestClientContextParent(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:  "req-cc",
		ClientContext: lambdacontext.ClientContext{Custom: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
	})
	if _, err := s.Wrap(func() error { return errors.New("x") }).Invoke(ctx, []byte(`{}`)); err == nil {
		t.Fatal("error lost")
	}
	sp := findSpan(mem.GetSpans(), "orders")
	if sp.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("parent %v", sp.Parent)
	}
}

func TestKinesisBatchFailuresCounted(t *testing.T) {
	s, mem, _ := newMemSDK(t, nil)
	h := s.Wrap(func(context.Context, map[string]any) (map[string]any, error) {
		return map[string]any{"batchItemFailures": []map[string]string{{"itemIdentifier": "49568167373333333334444444444444444444444444444444444444"}}}, nil
	})
	ctx, cancel := lambdaCtx("req-kin", time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, readEvent(t, "kinesis-event.json")); err != nil {
		t.Fatal(err)
	}
	if v, _ := attr(findSpan(mem.GetSpans(), "orders").Attributes, "ariadne.batch.failed_count"); v.AsInt64() != 1 {
		t.Fatalf("failed count %v", v.Emit())
	}
}
