package ariadne

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"ARIADNE_ENDPOINT":       "https://ariadne.internal:4318/",
		"ARIADNE_SERVICE":        "checkout",
		"ARIADNE_METADATA_ONLY":  "1",
		"ARIADNE_IGNORED_KEYS":   "email, phone ,",
		"ARIADNE_ALLOWED_KEYS":   "orderId",
		"ARIADNE_SAMPLE_RATE":    "0.25",
		"ARIADNE_DISABLE":        "false",
		"ARIADNE_EXPORT_TIMEOUT": "300", // bare numbers are milliseconds
		"ARIADNE_COOLDOWN":       "5s",
		"ARIADNE_TIMEOUT_MARGIN": "350ms",
		"ARIADNE_HEADERS":        "authorization=Bearer x, x-tenant=t1",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "https://ariadne.internal:4318/" || c.Service != "checkout" || !c.MetadataOnly || c.SampleRate != 0.25 ||
		c.ExportTimeout != 300*time.Millisecond || c.CoolDown != 5*time.Second || c.TimeoutMargin != 350*time.Millisecond ||
		!slices.Equal(c.IgnoredKeys, []string{"email", "phone"}) || !slices.Equal(c.AllowedKeys, []string{"orderId"}) ||
		c.Headers["x-tenant"] != "t1" || c.Headers["authorization"] != "Bearer x" {
		t.Fatalf("config %+v", c)
	}
	if joinURL(c.Endpoint, "/v1/traces") != "https://ariadne.internal:4318/v1/traces" {
		t.Error("joinURL")
	}
}

func TestBadConfigStillWorks(t *testing.T) {
	env := map[string]string{"ARIADNE_SAMPLE_RATE": "lots", "ARIADNE_METADATA_ONLY": "maybe", "ARIADNE_MAX_QUEUE": "-1"}
	mem := tracetest.NewInMemoryExporter()
	s, err := New(context.Background(), WithGetenv(func(k string) string { return env[k] }), WithoutGlobal(), WithSpanExporter(mem))
	if err == nil || !strings.Contains(err.Error(), "ARIADNE_SAMPLE_RATE") || !strings.Contains(err.Error(), "max_queue") {
		t.Fatalf("error %v", err)
	}
	defer s.Shutdown(context.Background())
	if !s.Enabled() || s.Config().SampleRate != 1 || s.Config().MaxQueue != DefaultConfig().MaxQueue {
		t.Fatalf("fallbacks not applied: %+v", s.Config())
	}
	_, sp := s.Tracer().Start(context.Background(), "x")
	sp.End()
	_ = s.Flush(context.Background())
	if len(mem.GetSpans()) != 1 {
		t.Fatal("SDK with bad settings does not trace")
	}
}

func TestSampleRate(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"ARIADNE_SAMPLE_RATE": "0"})
	h := s.Wrap(func() error { return nil })
	ctx, cancel := lambdaCtx("req", time.Second)
	defer cancel()
	_, _ = h.Invoke(ctx, []byte(`{}`))
	if n := len(mem.GetSpans()); n != 0 {
		t.Fatalf("rate 0 exported %d spans", n)
	}
}

func TestInvocationPayloadBudget(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"ARIADNE_MAX_VALUE_BYTES": "1000", "ARIADNE_MAX_INVOCATION_BYTES": "1500"})
	big := `{"data":"` + strings.Repeat("x", 5000) + `"}`
	h := s.Wrap(func(ctx context.Context) (string, error) {
		for i := 0; i < 3; i++ {
			_, sp := s.Tracer().Start(ctx, "call")
			if p, ok := s.CapturePayload(ctx, []byte(big)); ok {
				sp.SetAttributes(attrString("ariadne.request.payload", p))
			}
			sp.End()
		}
		return strings.Repeat("y", 3000), nil
	})
	ctx, cancel := lambdaCtx("req", time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, []byte(big)); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sp := range mem.GetSpans() {
		for _, a := range sp.Attributes {
			if strings.HasPrefix(string(a.Key), "ariadne.") && strings.HasSuffix(string(a.Key), ".payload") {
				if n := len(a.Value.AsString()); n > 1000+40 {
					t.Errorf("%s: %d bytes over the per-value cap", a.Key, n)
				}
				total += len(a.Value.AsString())
			}
		}
	}
	if total > 1500+40 || total < 1000 {
		t.Fatalf("captured %d bytes in one invocation, budget 1500", total)
	}
}

func TestShutdownStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		s, err := New(context.Background(), WithGetenv(testEnv(nil)), WithoutGlobal(), WithSpanExporter(tracetest.NewNoopExporter()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		_ = s.Shutdown(context.Background()) // idempotent
	}
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after shutdown, %d before", n, before)
	}
}
