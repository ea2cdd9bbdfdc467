package app_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
)

// TestTelemetrygenCountsMatch sends traces with the OpenTelemetry
// collector's telemetrygen (installed into ./bin by `make tools`) over gRPC
// and over HTTP; the stored span count must equal the sent count.
func TestTelemetrygenCountsMatch(t *testing.T) {
	bin := os.Getenv("ARIADNE_TELEMETRYGEN")
	if bin == "" {
		t.Skip("ARIADNE_TELEMETRYGEN not set; `make test` installs telemetrygen and sets it")
	}
	a := startApp(t)
	const traces, workers, children = 150, 2, 3
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"grpc", []string{"--otlp-endpoint", a.OTLPGRPCAddr()}},
		{"http", []string{"--otlp-endpoint", a.OTLPHTTPAddr(), "--otlp-http"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service := "telemetrygen-" + tc.name
			args := append([]string{"traces", "--otlp-insecure", "--service", service,
				"--traces", "150", "--workers", "2", "--rate", "300", "--child-spans", "3"}, tc.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("telemetrygen: %v\n%s", err, out)
			}
			want := traces * workers * (1 + children)
			if got := countSpans(t, a.Store(), service); got != want {
				t.Fatalf("stored %d spans of service %s, telemetrygen sent %d", got, service, want)
			}
		})
	}
}

// countSpans pages through every trace of service and sums the span counts.
func countSpans(t *testing.T, s store.Reader, service string) int {
	t.Helper()
	total, cursor := 0, ""
	for {
		res, err := s.SearchTraces(context.Background(), store.TraceQuery{Service: service, Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		for _, tr := range res.Traces {
			total += tr.SpanCount
		}
		if res.NextCursor == "" {
			return total
		}
		cursor = res.NextCursor
	}
}
