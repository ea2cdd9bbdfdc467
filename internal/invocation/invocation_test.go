package invocation

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
)

const (
	t0  = int64(1_764_000_000_000_000_000)
	ms  = int64(1e6)
	sec = int64(1e9)
)

var (
	sdkTrace = model.TraceID{1, 2, 3}
	xrayID   = model.TraceID{9, 9, 9}
)

func sdk(st model.InvocationStatus, errType string) model.Invocation {
	return model.Invocation{RequestID: "r", Function: "fn", Source: SourceSDK, Start: t0 + 2*ms, DurationNs: 90 * ms,
		MemoryMB: 128, Status: st, ErrorType: errType, ColdStart: true, TraceID: sdkTrace, SpanID: model.SpanID{1}}
}

func sdkStart() model.Invocation {
	return model.Invocation{RequestID: "r", Function: "fn", Source: SourceSDKStart, Start: t0 + 2*ms,
		Deadline: t0 + 3*sec, Status: model.InvocationStarted, ColdStart: true, TraceID: sdkTrace, SpanID: model.SpanID{2}}
}

func tel(st model.InvocationStatus, errType string) model.Invocation {
	return model.Invocation{RequestID: "r", Function: "fn", Source: SourceTelemetry, Start: t0, DurationNs: 100 * ms,
		BilledDurationNs: 100 * ms, MemoryMB: 128, MaxMemoryMB: 40, InitDurationNs: 50 * ms, Status: st, ErrorType: errType, TraceID: xrayID}
}

func logs(st model.InvocationStatus, errType string) model.Invocation {
	return model.Invocation{RequestID: "r", Function: "fn", Source: SourceLogs, Start: t0 + 1*ms, DurationNs: 101 * ms,
		BilledDurationNs: 101 * ms, MemoryMB: 128, MaxMemoryMB: 41, Status: st, ErrorType: errType}
}

const (
	ok      = model.InvocationOK
	errS    = model.InvocationError
	timeout = model.InvocationTimeout
	oom     = model.InvocationOOM
	crash   = model.InvocationCrash
	started = model.InvocationStarted
)

// TestMergeStatus covers every status from every source alone and the
// combinations whose precedence matters.
func TestMergeStatus(t *testing.T) {
	late := t0 + 3*sec + DeadlineGrace + 1
	for _, tc := range []struct {
		name    string
		rows    []model.Invocation
		now     int64
		want    model.InvocationStatus
		errType string
	}{
		// One source alone.
		{"telemetry ok", []model.Invocation{tel(ok, "")}, t0, ok, ""},
		{"telemetry error", []model.Invocation{tel(errS, "Handled")}, t0, errS, "Handled"},
		{"telemetry timeout", []model.Invocation{tel(timeout, "Sandbox.Timedout")}, t0, timeout, "Sandbox.Timedout"},
		{"telemetry oom", []model.Invocation{tel(oom, "Runtime.OutOfMemory")}, t0, oom, "Runtime.OutOfMemory"},
		{"telemetry crash", []model.Invocation{tel(crash, "Runtime.ExitError")}, t0, crash, "Runtime.ExitError"},
		{"logs ok", []model.Invocation{logs(ok, "")}, t0, ok, ""},
		{"logs error", []model.Invocation{logs(errS, "Handled")}, t0, errS, "Handled"},
		{"logs timeout", []model.Invocation{logs(timeout, "")}, t0, timeout, ""},
		{"logs oom", []model.Invocation{logs(oom, "Runtime.OutOfMemory")}, t0, oom, "Runtime.OutOfMemory"},
		{"logs crash", []model.Invocation{logs(crash, "Runtime.ExitError")}, t0, crash, "Runtime.ExitError"},
		{"sdk ok", []model.Invocation{sdk(ok, "")}, t0, ok, ""},
		{"sdk error", []model.Invocation{sdk(errS, "*errors.errorString")}, t0, errS, "*errors.errorString"},
		{"sdk timeout marker", []model.Invocation{sdk(timeout, "")}, t0, timeout, ""},
		{"start marker before deadline", []model.Invocation{sdkStart()}, t0 + sec, started, ""},
		{"start marker past deadline is timeout", []model.Invocation{sdkStart()}, late, timeout, "Sandbox.Timedout"},
		// Combinations.
		{"sdk ok + telemetry ok", []model.Invocation{sdk(ok, ""), tel(ok, "")}, t0, ok, ""},
		{"sdk error wins over platform ok", []model.Invocation{sdk(errS, "E"), tel(ok, "")}, t0, errS, "E"},
		{"platform error with sdk detail", []model.Invocation{sdk(errS, "E"), tel(errS, "Unhandled")}, t0, errS, "E"},
		{"sdk timeout marker, platform ok", []model.Invocation{sdk(timeout, ""), tel(ok, "")}, t0, ok, ""},
		{"sdk timeout marker, platform timeout", []model.Invocation{sdk(timeout, ""), tel(timeout, "Sandbox.Timedout")}, t0, timeout, "Sandbox.Timedout"},
		{"start marker + telemetry oom", []model.Invocation{sdkStart(), tel(oom, "Runtime.OutOfMemory")}, late, oom, "Runtime.OutOfMemory"},
		{"start marker + logs crash", []model.Invocation{sdkStart(), logs(crash, "Runtime.ExitError")}, late, crash, "Runtime.ExitError"},
		{"start marker + telemetry timeout before grace", []model.Invocation{sdkStart(), tel(timeout, "")}, t0 + sec, timeout, ""},
		{"start marker + sdk end", []model.Invocation{sdkStart(), sdk(ok, "")}, late, ok, ""},
		{"telemetry beats logs on fate", []model.Invocation{logs(crash, "Runtime.ExitError"), tel(oom, "Runtime.OutOfMemory")}, t0, oom, "Runtime.OutOfMemory"},
		{"logs fate beats sdk error", []model.Invocation{sdk(errS, "E"), logs(timeout, "")}, t0, timeout, ""},
		{"all four", []model.Invocation{sdkStart(), sdk(errS, "E"), tel(errS, "Unhandled"), logs(ok, "")}, late, errS, "E"},
		{"logs START only", []model.Invocation{{RequestID: "r", Source: SourceLogs, Start: t0, Status: started}}, late, started, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Merge(tc.rows, tc.now)
			if got.Status != tc.want || got.ErrorType != tc.errType {
				t.Errorf("status %q (%q), want %q (%q)", got.Status, got.ErrorType, tc.want, tc.errType)
			}
		})
	}
}

func TestMergeFields(t *testing.T) {
	got := Merge([]model.Invocation{logs(ok, ""), sdk(ok, ""), sdkStart(), tel(ok, "")}, t0)
	want := model.Invocation{RequestID: "r", Function: "fn", Source: "sdk,sdk-start,telemetry,logs",
		Start: t0, DurationNs: 100 * ms, BilledDurationNs: 100 * ms, InitDurationNs: 50 * ms, Deadline: t0 + 3*sec,
		MemoryMB: 128, MaxMemoryMB: 40, Status: ok, ColdStart: true, TraceID: sdkTrace, SpanID: model.SpanID{1}}
	if got != want {
		t.Errorf("merged\n got %+v\nwant %+v", got, want)
	}

	// Without the SDK the X-Ray trace of the platform is the trace; the
	// init duration makes it a cold start.
	got = Merge([]model.Invocation{logs(ok, ""), tel(ok, "")}, t0)
	if got.TraceID != xrayID || !got.ColdStart || got.Source != "telemetry,logs" {
		t.Errorf("platform only: %+v", got)
	}

	// A start marker past its deadline lasted until the deadline.
	got = Merge([]model.Invocation{sdkStart()}, t0+time10m)
	if got.DurationNs != 3*sec-2*ms || got.Status != timeout {
		t.Errorf("start marker only: %+v", got)
	}
}

const time10m = 600 * sec

// TestFoldSameSource: a source that delivered one request in pieces (START
// and REPORT lines in different CloudWatch deliveries).
func TestFoldSameSource(t *testing.T) {
	start := model.Invocation{RequestID: "r", Source: SourceLogs, Function: "fn", Start: t0, Status: started}
	timedOut := model.Invocation{RequestID: "r", Source: SourceLogs, Function: "fn", Start: t0 + 3*sec, Status: timeout}
	report := model.Invocation{RequestID: "r", Source: SourceLogs, Function: "fn", Start: t0, DurationNs: 3 * sec,
		BilledDurationNs: 3 * sec, MemoryMB: 128, MaxMemoryMB: 30, Status: ok}
	got := Merge([]model.Invocation{report, timedOut, start}, t0)
	if got.Status != timeout || got.DurationNs != 3*sec || got.Start != t0 || got.MaxMemoryMB != 30 {
		t.Errorf("folded: %+v", got)
	}
}

func TestMergeAllOrder(t *testing.T) {
	rows := []model.Invocation{
		{RequestID: "b", Source: SourceLogs, Status: ok},
		{RequestID: "a", Source: SourceLogs, Status: errS},
		{RequestID: "b", Source: SourceTelemetry, Status: timeout},
	}
	got := MergeAll(rows, 0)
	if len(got) != 2 || got[0].RequestID != "b" || got[0].Status != timeout || got[1].Status != errS {
		t.Errorf("MergeAll: %+v", got)
	}
}

func TestPlatformStatus(t *testing.T) {
	for _, tc := range []struct {
		status, errType string
		want            model.InvocationStatus
	}{
		{"success", "", ok},
		{"timeout", "", timeout},
		{"timeout", "Sandbox.Timedout", timeout},
		{"error", "Runtime.OutOfMemory", oom},
		{"failure", "Runtime.OutOfMemory", oom},
		{"error", "Runtime.ExitError", crash},
		{"error", "Runtime.Unknown", crash},
		{"error", "Extension.Crash", crash},
		{"error", "Sandbox.Timedout", timeout},
		{"error", "Unhandled", errS},
		{"error", "errorString", errS},
		{"failure", "", errS},
		{"error", "", errS},
	} {
		if got := PlatformStatus(tc.status, tc.errType); got != tc.want {
			t.Errorf("PlatformStatus(%q, %q) = %q, want %q", tc.status, tc.errType, got, tc.want)
		}
	}
}

func TestCost(t *testing.T) {
	p := DefaultPricing()
	inv := model.Invocation{BilledDurationNs: 1000 * ms, MemoryMB: 1024}
	// 1 GB-s + one request.
	if got, want := p.Cost(&inv), 0.0000166667+0.0000002; abs(got-want) > 1e-12 {
		t.Errorf("cost %v, want %v", got, want)
	}
	if got := p.Cost(&model.Invocation{MemoryMB: 128}); got != 0 {
		t.Errorf("cost without billed duration = %v, want 0", got)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestTraceIDFromXRay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "5759e988bd862e3fe1be46a994272793", true},
		{"1-5759e988-bd862e3fe1be46a994272793", "5759e988bd862e3fe1be46a994272793", true},
		{"Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793", "5759e988bd862e3fe1be46a994272793", true},
		{"Root=1-5759e988-bd862e3fe1be46a99427279", "", false},
		{"Root=2-5759e988-bd862e3fe1be46a994272793", "", false},
		{"Root=1-00000000-000000000000000000000000", "", false},
		{"", "", false},
	} {
		got, ok := TraceIDFromXRay(tc.in)
		if ok != tc.ok || (ok && got.String() != tc.want) {
			t.Errorf("TraceIDFromXRay(%q) = %s, %v", tc.in, got, ok)
		}
	}
}

// TestRetriedAsyncInvocation: Lambda retries an async invocation with the
// same request id; the record describes the last attempt.
func TestRetriedAsyncInvocation(t *testing.T) {
	minute := 60 * sec
	attempt := func(at int64, st model.InvocationStatus, errType string) []model.Invocation {
		start := model.Invocation{RequestID: "r", Function: "fn", Source: SourceTelemetry, Start: t0 + at, Status: started}
		report := tel(st, errType)
		report.Start, report.InitDurationNs = t0+at+1*ms, 0
		return []model.Invocation{start, report}
	}
	var rows []model.Invocation
	rows = append(rows, attempt(0, errS, "Handled")...)
	rows = append(rows, attempt(minute, timeout, "Sandbox.Timedout")...)
	rows = append(rows, attempt(3*minute, ok, "")...)
	got := Merge(rows, t0+10*minute)
	if got.Status != ok || got.Attempt != 3 || got.Start != t0+3*minute {
		t.Errorf("three attempts, the last ok: %+v", got)
	}
	got = Merge(rows[:4], t0+10*minute)
	if got.Status != timeout || got.Attempt != 2 {
		t.Errorf("two attempts, the last timed out: %+v", got)
	}
	// The SDK's own count wins when it is higher (it saw an attempt whose
	// platform rows were lost).
	sdkRow := sdk(ok, "")
	sdkRow.Start, sdkRow.Attempt = t0+3*minute+2*ms, 4
	got = Merge(append(rows, sdkRow), t0+10*minute)
	if got.Attempt != 4 || got.Status != ok {
		t.Errorf("with the SDK's attempt: %+v", got)
	}
	// One attempt in pieces is one attempt.
	got = Merge(attempt(0, timeout, ""), t0)
	if got.Attempt != 0 || got.Status != timeout {
		t.Errorf("one attempt: %+v", got)
	}
}
