package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/internal/api/apitest"
	"github.com/ariadnehq/ariadne/internal/model"
)

// These tests run the commands as a user would, against a real HTTP server
// serving the API over a real DuckDB store (apitest).

func TestTraceCommand(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	tests := []struct {
		name       string
		args       []string
		vars       map[string]string
		code       int
		golden     string
		wantStderr string
	}{
		{name: "checkout", args: []string{"trace", "--server", srv.URL, apitest.Checkout.String()}, golden: "cmd_trace_checkout.golden"},
		{name: "flags after id, narrow", args: []string{"trace", apitest.Checkout.String(), "--server", srv.URL, "--width", "60", "--no-color"},
			golden: "cmd_trace_checkout_w60.golden"},
		{name: "COLUMNS and ARIADNE_SERVER", args: []string{"trace", apitest.Fulfil.String()},
			vars: map[string]string{"COLUMNS": "80", "ARIADNE_SERVER": srv.URL}, golden: "cmd_trace_fulfil_w80.golden"},
		{name: "timeout", args: []string{"trace", "--server", srv.URL, apitest.Timeout.String()}, golden: "cmd_trace_timeout.golden"},
		{name: "json", args: []string{"trace", "--server", srv.URL, "--json", apitest.Report.String()}, golden: "cmd_trace_report.json.golden"},
		{name: "not found", args: []string{"trace", "--server", srv.URL, "0123456789abcdef0123456789abcdef"}, code: 1,
			wantStderr: "ariadne trace: get trace 0123456789abcdef0123456789abcdef: server answered 404 not_found: trace 0123456789abcdef0123456789abcdef not found"},
		{name: "bad id", args: []string{"trace", "--server", srv.URL, "xyz"}, code: 2, wantStderr: `trace id "xyz": want 32 hex digits`},
		{name: "no id", args: []string{"trace", "--server", srv.URL}, code: 2, wantStderr: "want exactly one trace id"},
		{name: "bad server", args: []string{"trace", "--server", "ftp://x", apitest.Checkout.String()}, code: 2, wantStderr: "--server"},
		{name: "unreachable", args: []string{"trace", "--server", "http://127.0.0.1:1", apitest.Checkout.String()}, code: 1,
			wantStderr: "is `ariadne serve` running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(context.Background(), t, tt.vars, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if tt.wantStderr != "" && !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantStderr)
			}
			if tt.golden != "" {
				golden(t, tt.golden, []byte(out))
			}
		})
	}
}

func TestSearchCommand(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	tests := []struct {
		name       string
		args       []string
		code       int
		golden     string
		wantStderr string
	}{
		{name: "all", golden: "cmd_search_all.golden"},
		{name: "service", args: []string{"--service", "payments"}, golden: "cmd_search_service.golden"},
		{name: "errors", args: []string{"--error"}, golden: "cmd_search_error.golden"},
		{name: "durations", args: []string{"--min-duration", "1s", "--max-duration", "3.1s"}, golden: "cmd_search_duration.golden"},
		{name: "attrs", args: []string{"--attr", "payment.provider=stripe", "--attr", "http.route=/charge"}, golden: "cmd_search_attr.golden"},
		{name: "text", args: []string{"--q", "timed out"}, golden: "cmd_search_text.golden"},
		{name: "range", args: []string{"--start", "2026-11-25T22:33:00Z", "--end", "2026-11-25T22:38:00Z"}, golden: "cmd_search_range.golden"},
		{name: "page", args: []string{"--limit", "3"}, golden: "cmd_search_page.golden", wantStderr: "More traces: add --cursor "},
		{name: "narrow", args: []string{"--width", "60", "--operation", "POST /orders"}, golden: "cmd_search_narrow.golden"},
		{name: "since excludes old", args: []string{"--since", "30m"}, golden: "cmd_search_since.golden"},
		{name: "since in days", args: []string{"--since", "1d", "--service", "reports"}, golden: "cmd_search_since_days.golden"},
		{name: "bad since", args: []string{"--since", "-1h"}, code: 2, wantStderr: "want a positive duration"},
		{name: "json", args: []string{"--json", "--service", "reports"}, golden: "cmd_search_json.golden"},
		{name: "bad duration names the flag", args: []string{"--min-duration", "soon"}, code: 2,
			wantStderr: `ariadne search: --min-duration: "soon": want a duration`},
		{name: "bad attr", args: []string{"--attr", "novalue"}, code: 2, wantStderr: "want key=value"},
		{name: "since and start", args: []string{"--since", "1h", "--start", "-2h"}, code: 2, wantStderr: "not both"},
		{name: "stray argument", args: []string{"orders"}, code: 2, wantStderr: "free text goes in --q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"search", "--server", srv.URL}, tt.args...)
			out, errOut, code := run(context.Background(), t, nil, args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if tt.wantStderr != "" && !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantStderr)
			}
			if tt.golden != "" {
				golden(t, tt.golden, []byte(out))
			}
		})
	}
}

// TestSearchCursor follows the hint search prints to the end.
func TestSearchCursor(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	rows := 0
	args := []string{"search", "--server", srv.URL, "--limit", "4"}
	for page := 0; page < 10; page++ {
		out, errOut, code := run(context.Background(), t, nil, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rows += strings.Count(out, "\n") - 1 // minus the header
		cur, ok := strings.CutPrefix(strings.TrimSpace(errOut), "More traces: add --cursor ")
		if !ok {
			break
		}
		args = []string{"search", "--server", srv.URL, "--limit", "4", "--cursor", cur}
	}
	if want := 4 + apitest.HealthChecks; rows != want {
		t.Errorf("paged through %d rows, want %d", rows, want)
	}
}

func TestTailCommand(t *testing.T) {
	e := apitest.Store(t)
	srv := apitest.Server(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	before := goleak.IgnoreCurrent()
	go func() {
		done <- runTo(ctx, &out, &errOut, nil, "tail", "--server", srv.URL, "--interval", "20ms")
	}()
	waitFor(t, &errOut, "Waiting for new traces")

	// Spans of new traces arrive: each is printed once, the first trace's
	// second batch (a late child) adds no line.
	write := func(n byte, start time.Duration, svc, name string, parent bool) {
		var tid model.TraceID
		tid[0], tid[15] = 0xee, n
		s := model.Span{TraceID: tid, SpanID: model.SpanID{0xee, n, 1}, StartTime: apitest.Now.Add(start).UnixNano(),
			DurationNs: int64(15 * time.Millisecond), Name: name, Service: svc, Kind: model.KindServer}
		if !parent {
			s.SpanID[2], s.ParentSpanID = 2, model.SpanID{0xee, n, 1}
			s.StatusCode = model.StatusError
		}
		if err := e.Write(ctx, &model.Batch{Spans: []model.Span{s}}); err != nil {
			t.Fatal(err)
		}
	}
	write(1, -20*time.Second, "orders-api", "POST /orders", true)
	waitFor(t, &out, "ee000000000000000000000000000001")
	write(1, -19*time.Second, "payments", "POST /charge", false)
	write(2, -30*time.Second, "reports", "GET /reports", true)
	waitFor(t, &out, "ee000000000000000000000000000002")
	time.Sleep(100 * time.Millisecond) // a few more polls must print nothing new
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("tail exited %d on cancel; stderr: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail did not stop on cancel")
	}
	// Its poller, timers and client connections are gone too (the test
	// server's side of a closed connection may take a moment).
	if err := goleak.Find(before, goleak.IgnoreAnyFunction("net/http.(*conn).serve")); err != nil {
		t.Errorf("tail left goroutines behind: %v", err)
	}
	golden(t, "cmd_tail.golden", []byte(out.String()))
}

func TestTailSince(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runTo(ctx, &out, &errOut, nil, "tail", "--server", srv.URL, "--since", "2h", "--interval", "20ms")
	}()
	waitFor(t, &errOut, "Waiting for new traces")
	time.Sleep(60 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	golden(t, "cmd_tail_since.golden", []byte(out.String()))
}

func TestTailJSON(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runTo(ctx, &out, &errOut, nil, "tail", "--server", srv.URL, "--since", "2h", "--json", "--error", "--interval", "20ms")
	}()
	waitFor(t, &errOut, "Waiting for new traces")
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	golden(t, "cmd_tail_json.golden", []byte(out.String()))
}

func TestTailBadFilter(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	_, errOut, code := run(context.Background(), t, nil, "tail", "--server", srv.URL, "--max-duration", "-1s")
	if code != 2 || !strings.Contains(errOut, "--max-duration") {
		t.Errorf("exit %d, stderr %q; want 2 naming --max-duration", code, errOut)
	}
}

func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 10s; got:\n%s", s, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
