package invocation_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaingest "github.com/ariadnehq/ariadne/internal/ingest/lambda"
	"github.com/ariadnehq/ariadne/internal/ingest/otlp"
	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
)

// This file checks the merge on rows produced by the real decoders of each
// source: OTLP spans as Ariadne's SDK exports them (invocation span, timeout
// marker, start marker), Telemetry API batches and CloudWatch Logs
// deliveries (the fixtures of internal/ingest/lambda).

const reqID = "33333333-0000-4000-8000-000000000042"

type capture struct {
	mu sync.Mutex
	b  []model.Invocation
}

func (c *capture) Write(_ context.Context, b *model.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, inv := range b.Invocations {
		inv.RequestID, inv.Function, inv.Source, inv.ErrorType = strings.Clone(inv.RequestID), strings.Clone(inv.Function), strings.Clone(inv.Source), strings.Clone(inv.ErrorType)
		c.b = append(c.b, inv)
	}
	return nil
}

// sdkRows sends OTLP/JSON spans through the receiver. kind: "ok", "error",
// "timeout" (the SDK's pre-deadline timer fired) or "start" (only the start
// marker: the process died before the end). start and deadline are Unix ns.
func sdkRows(t *testing.T, kind string, start, deadline int64) []model.Invocation {
	t.Helper()
	c := &capture{}
	recv, err := otlp.NewReceiver(c, otlp.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	attr := func(k, v string) string { return fmt.Sprintf(`{"key":%q,"value":{"stringValue":%q}}`, k, v) }
	marker := fmt.Sprintf(`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b8","parentSpanId":"b7ad6b7169203331",
		"name":"ariadne.invocation.start","kind":1,"startTimeUnixNano":"%d","endTimeUnixNano":"%d",
		"attributes":[%s,%s,{"key":"ariadne.deadline","value":{"intValue":"%d"}},{"key":"faas.coldstart","value":{"boolValue":true}}]}`,
		start, start, attr("ariadne.marker", "start"), attr("faas.invocation_id", reqID), deadline)
	spans := []string{marker}
	if kind != "start" {
		status, extra := `{"code":1}`, ""
		switch kind {
		case "error":
			status = `{"code":2,"message":"card declined"}`
		case "timeout":
			status = `{"code":2,"message":"timing out"}`
			extra = `,{"key":"ariadne.timeout","value":{"boolValue":true}}`
		}
		spans = append(spans, fmt.Sprintf(`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
			"name":"checkout","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","status":%s,
			"attributes":[%s,%s%s]}`, start, start+int64(90*time.Millisecond), status, attr("faas.invocation_id", reqID), attr("faas.trigger", "other"), extra))
	}
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[%s,%s]},"scopeSpans":[{"scope":{"name":"ariadne"},"spans":[%s]}]}]}`,
		attr("service.name", "checkout"), attr("faas.name", "checkout"), strings.Join(spans, ","))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, otlp.PathTraces, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	recv.HTTPHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("OTLP export: %d %s", rec.Code, rec.Body)
	}
	want := 2
	if kind == "start" {
		want = 1
	}
	if len(c.b) != want {
		t.Fatalf("SDK %s: %d invocation rows, want %d: %+v", kind, len(c.b), want, c.b)
	}
	return c.b
}

// fixtureRows parses a fixture of internal/ingest/lambda/testdata with its
// request id replaced by reqID.
func fixtureRows(t *testing.T, dir, name string) []model.Invocation {
	t.Helper()
	body, err := os.ReadFile("../ingest/lambda/testdata/" + dir + "/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"11111111-0000-4000-8000-0000000000", "22222222-0000-4000-8000-0000000000"} {
		if i := bytes.Index(body, []byte(prefix)); i >= 0 {
			body = bytes.ReplaceAll(body, body[i:i+36], []byte(reqID))
		}
	}
	var b *model.Batch
	if dir == "telemetry" {
		b, _, err = lambdaingest.ParseTelemetry(body, lambdaingest.Meta{Function: "checkout"}, lambdaingest.DefaultLimits())
	} else {
		var res *lambdaingest.CloudWatchResult
		if res, err = lambdaingest.ParseCloudWatch(body, lambdaingest.Meta{}, lambdaingest.DefaultLimits()); err == nil {
			b = res.Batch
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Invocations) != 1 || b.Invocations[0].RequestID != reqID {
		t.Fatalf("%s/%s: rows %+v", dir, name, b.Invocations)
	}
	return b.Invocations
}

func TestStatusFromDecodedSources(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 1, 0, 0, time.UTC).UnixNano()
	deadline := start + int64(3*time.Second)
	before, after := start+int64(time.Second), deadline+invocation.DeadlineGrace+1
	tel := func(s string) []model.Invocation { return fixtureRows(t, "telemetry", "status-"+s) }
	logs := func(s string) []model.Invocation { return fixtureRows(t, "logs", s) }
	sdk := func(s string) []model.Invocation { return sdkRows(t, s, start, deadline) }
	cat := func(parts ...[]model.Invocation) []model.Invocation {
		var out []model.Invocation
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		rows []model.Invocation
		now  int64
		want model.InvocationStatus
	}{
		{"sdk ok", sdk("ok"), before, model.InvocationOK},
		{"sdk error", sdk("error"), before, model.InvocationError},
		{"sdk timeout marker", sdk("timeout"), before, model.InvocationTimeout},
		{"start marker, deadline not reached", sdk("start"), before, model.InvocationStarted},
		{"start marker, deadline passed", sdk("start"), after, model.InvocationTimeout},
		{"start marker + telemetry oom", cat(sdk("start"), tel("oom")), after, model.InvocationOOM},
		{"start marker + telemetry crash", cat(sdk("start"), tel("crash")), after, model.InvocationCrash},
		{"start marker + telemetry timeout", cat(sdk("start"), tel("timeout")), before, model.InvocationTimeout},
		{"start marker + logs oom", cat(sdk("start"), logs("oom-killed")), after, model.InvocationOOM},
		{"start marker + logs crash", cat(sdk("start"), logs("crash")), after, model.InvocationCrash},
		{"start marker + logs timeout", cat(sdk("start"), logs("timeout")), before, model.InvocationTimeout},
		{"sdk ok + telemetry ok + logs ok", cat(sdk("ok"), tel("ok"), logs("ok-warm")), after, model.InvocationOK},
		{"sdk error + telemetry ok", cat(sdk("error"), tel("ok")), after, model.InvocationError},
		{"sdk error + logs ok (Go: nothing printed)", cat(sdk("error"), logs("ok-warm")), after, model.InvocationError},
		{"sdk timeout marker + telemetry ok (finished in time)", cat(sdk("timeout"), tel("ok")), after, model.InvocationOK},
		{"sdk timeout marker + telemetry timeout", cat(sdk("timeout"), tel("timeout")), after, model.InvocationTimeout},
		{"telemetry oom + logs crash", cat(tel("oom"), logs("crash")), after, model.InvocationOOM},
		{"logs error + telemetry error", cat(logs("error-node"), tel("error")), after, model.InvocationError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := invocation.Merge(tc.rows, tc.now)
			if got.Status != tc.want {
				t.Errorf("status %s (%s), want %s; rows %+v", got.Status, got.ErrorType, tc.want, tc.rows)
			}
			if got.RequestID != reqID || got.Function != "checkout" {
				t.Errorf("merged %+v", got)
			}
		})
	}

	// Field precedence on decoded rows: the SDK's trace and cold start, the
	// platform's figures, the start marker's deadline.
	got := invocation.Merge(cat(sdk("ok"), tel("ok"), logs("ok-warm")), after)
	if got.TraceID.String() != "0af7651916cd43dd8448eb211c80319c" || !got.ColdStart || got.DurationNs != 40_500_000 ||
		got.BilledDurationNs != 41_000_000 || got.MaxMemoryMB != 30 || got.Deadline != deadline || got.Source != "sdk,sdk-start,telemetry,logs" {
		t.Errorf("merged %+v", got)
	}
}
