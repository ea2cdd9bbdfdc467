package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
)

// t0 is the start of the fixture trace.
var t0 = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC).UnixNano()

const ms = int64(time.Millisecond)

const fixtureTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// fixture is an order checkout: an API Lambda writes DynamoDB, sends to SQS
// and calls a payments function whose card charge fails.
func fixture() *api.TraceResponse {
	span := func(id, parent, svc, name string, start, dur int64) api.Span {
		return api.Span{TraceID: fixtureTrace, SpanID: id, ParentSpanID: parent, Service: svc, Name: name,
			StartTime: t0 + start, DurationNs: dur, Status: api.Status{Code: "unset"}, Kind: "internal"}
	}
	root := span("00f067aa0ba902b7", "", "orders-api", "POST /orders", 0, 420*ms)
	root.ColdStart = true
	put := span("00f067aa0ba902b8", root.SpanID, "orders-api", "DynamoDB.PutItem", 20*ms, 45*ms)
	send := span("00f067aa0ba902b9", root.SpanID, "orders-api", "orders-queue send", 70*ms, 25*ms)
	pay := span("00f067aa0ba902ba", root.SpanID, "payments", "POST /charge", 100*ms, 300*ms)
	pay.Status = api.Status{Code: "error", Message: "card declined"}
	pay.ErrorType = "CardDeclined"
	pay.ErrorMessage = "card declined\nfor order o-1001"
	stripe := span("00f067aa0ba902bb", pay.SpanID, "payments", "stripe.Charge", 110*ms, 270*ms)
	stripe.Status = api.Status{Code: "error", Message: "402 Payment Required"}
	orphan := span("00f067aa0ba902bc", "ffffffffffffffff", "audit", "audit.write", 405*ms, 1500)
	log := func(span string, at int64, sev string, body string) api.Log {
		b, _ := json.Marshal(body)
		return api.Log{TraceID: fixtureTrace, SpanID: span, Time: t0 + at, SeverityText: sev, Body: b, Service: "orders-api"}
	}
	return &api.TraceResponse{
		Spans: []api.Span{root, put, send, pay, stripe, orphan},
		Logs: []api.Log{
			log("", 0, "INFO", "INIT_START Runtime Version: provided:al2023"),
			log(root.SpanID, 5*ms, "INFO", "received order o-1001"),
			log(pay.SpanID, 150*ms, "WARN", "retrying charge"),
			log(pay.SpanID, 390*ms, "ERROR", "charge failed: \x1b[31mcard declined"),
			{TraceID: fixtureTrace, SpanID: root.SpanID, Time: t0 + 415*ms, SeverityNumber: 9,
				Body: json.RawMessage(`{"order":"o-1001","total":42.5}`)},
		},
		Invocations: []api.Invocation{
			{RequestID: "8f5d2c1e-0000-4000-8000-000000000001", Function: "orders-api", Source: "telemetry",
				Start: t0, DurationNs: 420 * ms, BilledDurationNs: 421 * ms, InitDurationNs: 180 * ms,
				MemoryMB: 128, MaxMemoryMB: 91, Status: "ok", ColdStart: true, Attempt: 1},
			{RequestID: "8f5d2c1e-0000-4000-8000-000000000002", Function: "payments", Source: "sdk",
				Start: t0 + 100*ms, DurationNs: 300 * ms, Status: "error", ErrorType: "CardDeclined", Attempt: 2},
		},
	}
}

func TestRenderTraceGolden(t *testing.T) {
	for _, w := range []int{100, 72, 40} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderTrace(&buf, fixture(), renderOptions{width: w, loc: time.UTC}); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if width(line) > w {
					t.Errorf("line %d is %d cells wide, over %d: %q", i+1, width(line), w, line)
				}
				if strings.ContainsRune(line, '\x1b') {
					t.Errorf("line %d has an escape character: %q", i+1, line)
				}
			}
			golden(t, fmt.Sprintf("trace_w%d.golden", w), buf.Bytes())
		})
	}
}

func TestRenderTraceColor(t *testing.T) {
	var buf bytes.Buffer
	if err := renderTrace(&buf, fixture(), renderOptions{width: 100, loc: time.UTC, style: style{color: true}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "\x1b[31m✗ \x1b[0m") {
		t.Errorf("error marker not red:\n%s", out)
	}
	// The escape inside the log body must not reach the terminal.
	if strings.Contains(out, "\x1b[31mcard") {
		t.Errorf("log body escape passed through:\n%q", out)
	}
}

// TestRenderDeepTree: a 60-deep chain of spans with logs at every level
// still fits the width and shows every span's name.
func TestRenderDeepTree(t *testing.T) {
	var tr api.TraceResponse
	for i := 0; i < 60; i++ {
		s := api.Span{TraceID: fixtureTrace, SpanID: fmt.Sprintf("%016x", i+1), Service: "s",
			Name: fmt.Sprintf("op%d", i), StartTime: t0 + int64(i), DurationNs: int64(100 - i)}
		if i > 0 {
			s.ParentSpanID = fmt.Sprintf("%016x", i)
		}
		if i%10 == 0 {
			s.Status = api.Status{Code: "error", Message: "deep failure"}
		}
		tr.Spans = append(tr.Spans, s)
		tr.Logs = append(tr.Logs, api.Log{TraceID: fixtureTrace, SpanID: s.SpanID, Time: t0 + int64(i), Body: json.RawMessage(`"log"`)})
	}
	for _, w := range []int{40, 100} {
		var buf bytes.Buffer
		if err := renderTrace(&buf, &tr, renderOptions{width: w, loc: time.UTC}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if width(line) > w {
				t.Errorf("width %d: line %d is %d cells: %q", w, i+1, width(line), line)
			}
		}
		if !strings.Contains(out, "op59") {
			t.Errorf("width %d: deepest span name lost:\n%s", w, out)
		}
	}
}

func TestRenderEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		trace api.TraceResponse
		want  []string
	}{
		{"empty", api.TraceResponse{}, []string{"Trace \n", "0 spans"}},
		{"logs only", api.TraceResponse{Logs: []api.Log{{TraceID: fixtureTrace, Time: t0, Body: json.RawMessage(`"hello"`)}}},
			[]string{"Logs outside the spans above", "• +0ns -     hello"}},
		{"zero duration", api.TraceResponse{Spans: []api.Span{{TraceID: fixtureTrace, SpanID: "01", Service: "s", Name: "n", StartTime: t0}}},
			[]string{"s: n", "█", "0ns"}},
		{"self parent", api.TraceResponse{Spans: []api.Span{{TraceID: fixtureTrace, SpanID: "01", ParentSpanID: "01", Service: "s", Name: "loop", StartTime: t0, DurationNs: 5}}},
			[]string{"s: loop"}},
		{"parent cycle", api.TraceResponse{Spans: []api.Span{
			{TraceID: fixtureTrace, SpanID: "0a", ParentSpanID: "0b", Service: "s", Name: "first", StartTime: t0, DurationNs: 5},
			{TraceID: fixtureTrace, SpanID: "0b", ParentSpanID: "0a", Service: "s", Name: "second", StartTime: t0 + 1, DurationNs: 3},
		}}, []string{"s: first", "└─ s: second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderTrace(&buf, &tt.trace, renderOptions{width: 60, loc: time.UTC}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

func TestFmtDuration(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "0ns"}, {999, "999ns"}, {1_000, "1.00µs"}, {12_345, "12.3µs"}, {45_200_000, "45.2ms"},
		{420 * ms, "420ms"}, {1_234 * ms, "1.23s"}, {59_999 * ms, "60.0s"}, {123 * int64(time.Second), "2m03s"},
		{int64(25 * time.Hour), "25h00m"}, {-5, "-5ns"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.ns); got != tt.want {
			t.Errorf("fmtDuration(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestTermWidth(t *testing.T) {
	env := func(cols string) Env {
		return Env{Getenv: func(k string) string {
			if k == "COLUMNS" {
				return cols
			}
			return ""
		}}
	}
	tests := []struct {
		flag int
		cols string
		want int
	}{
		{0, "", 100}, {0, "132", 132}, {80, "132", 80}, {10, "", minWidth}, {0, "junk", 100},
	}
	for _, tt := range tests {
		if got := termWidth(tt.flag, env(tt.cols)); got != tt.want {
			t.Errorf("termWidth(%d, COLUMNS=%q) = %d, want %d", tt.flag, tt.cols, got, tt.want)
		}
	}
}
