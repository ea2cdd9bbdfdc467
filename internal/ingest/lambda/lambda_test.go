package lambda

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenInvocation and goldenLog are the readable forms golden files hold.
type goldenInvocation struct {
	RequestID, Function, Source string
	Start, DurationNs, BilledNs int64
	InitNs                      int64 `json:",omitempty"`
	MemoryMB, MaxMemoryMB       int32
	Status, ErrorType           string
	ColdStart                   bool   `json:",omitempty"`
	TraceID                     string `json:",omitempty"`
}

type goldenLog struct {
	Time         int64
	Severity     string `json:",omitempty"`
	Body         string
	Function     string `json:",omitempty"`
	InvocationID string `json:",omitempty"`
	TraceID      string `json:",omitempty"`
	Attributes   map[string]string
}

type golden struct {
	Stats       Stats
	Invocations []goldenInvocation
	Logs        []goldenLog
}

func toGolden(b *model.Batch, st Stats) golden {
	g := golden{Stats: st, Invocations: []goldenInvocation{}, Logs: []goldenLog{}}
	for _, i := range b.Invocations {
		gi := goldenInvocation{RequestID: i.RequestID, Function: i.Function, Source: i.Source, Start: i.Start,
			DurationNs: i.DurationNs, BilledNs: i.BilledDurationNs, InitNs: i.InitDurationNs, MemoryMB: i.MemoryMB,
			MaxMemoryMB: i.MaxMemoryMB, Status: string(i.Status), ErrorType: i.ErrorType, ColdStart: i.ColdStart}
		if !i.TraceID.IsZero() {
			gi.TraceID = i.TraceID.String()
		}
		g.Invocations = append(g.Invocations, gi)
	}
	for _, l := range b.Logs {
		gl := goldenLog{Time: l.Time, Severity: l.SeverityText, Body: l.Body.Str, Function: l.Function,
			InvocationID: l.InvocationID, Attributes: map[string]string{}}
		if !l.TraceID.IsZero() {
			gl.TraceID = l.TraceID.String()
		}
		for _, a := range l.Attributes {
			gl.Attributes[a.Key] = a.Value.Str
		}
		g.Logs = append(g.Logs, gl)
	}
	return g
}

func checkGolden(t *testing.T, name string, g golden) {
	t.Helper()
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func fixtures(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	return out
}

// TestTelemetryFixtures parses one fixture per documented Telemetry API
// event type (and one per invocation status) against golden files.
func TestTelemetryFixtures(t *testing.T) {
	fx := fixtures(t, "telemetry")
	for _, typ := range []string{"platform.initStart", "platform.initRuntimeDone", "platform.initReport", "platform.start",
		"platform.runtimeDone", "platform.report", "platform.extension", "platform.telemetrySubscription",
		"platform.logsDropped", "function", "extension"} {
		if _, ok := fx[typ]; !ok {
			t.Errorf("no fixture for event type %s", typ)
		}
	}
	for name, body := range fx {
		t.Run(name, func(t *testing.T) {
			b, st, err := ParseTelemetry(body, Meta{Function: "checkout"}, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "telemetry-"+name+".json", toGolden(b, st))
		})
	}
}

// TestLogFixtures parses one CloudWatch payload per platform line form.
func TestLogFixtures(t *testing.T) {
	for name, body := range fixtures(t, "logs") {
		t.Run(name, func(t *testing.T) {
			res, err := ParseCloudWatch(body, Meta{}, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "logs-"+name+".json", toGolden(res.Batch, res.Stats))
		})
	}
}

// TestStatusFromEachSource: every status is recognised from telemetry and
// from log lines.
func TestStatusFromEachSource(t *testing.T) {
	for _, tc := range []struct {
		fixture, dir string
		want         model.InvocationStatus
		errType      string
	}{
		{"status-ok", "telemetry", model.InvocationOK, ""},
		{"status-error", "telemetry", model.InvocationError, "ValidationError"},
		{"status-timeout", "telemetry", model.InvocationTimeout, ""},
		{"status-oom", "telemetry", model.InvocationOOM, "Runtime.OutOfMemory"},
		{"status-crash", "telemetry", model.InvocationCrash, "Runtime.ExitError"},
		{"ok-warm", "logs", model.InvocationOK, ""},
		{"ok-cold-xray", "logs", model.InvocationOK, ""},
		{"error-node", "logs", model.InvocationError, "ValidationError"},
		{"error-report-status", "logs", model.InvocationError, "Function.Unhandled"},
		{"timeout", "logs", model.InvocationTimeout, "Sandbox.Timedout"},
		{"timeout-no-status", "logs", model.InvocationTimeout, "Sandbox.Timedout"},
		{"oom-report-status", "logs", model.InvocationOOM, "Runtime.OutOfMemory"},
		{"oom-killed", "logs", model.InvocationOOM, "Runtime.OutOfMemory"},
		{"crash", "logs", model.InvocationCrash, "Runtime.ExitError"},
		{"crash-no-reason", "logs", model.InvocationCrash, "Runtime.ExitError"},
		{"init-error", "logs", model.InvocationCrash, "Runtime.ExitError"},
		{"json-format", "logs", model.InvocationOK, ""},
	} {
		t.Run(tc.dir+"/"+tc.fixture, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.dir, tc.fixture+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var b *model.Batch
			if tc.dir == "telemetry" {
				b, _, err = ParseTelemetry(body, Meta{Function: "f"}, DefaultLimits())
			} else {
				var res *CloudWatchResult
				res, err = ParseCloudWatch(body, Meta{}, DefaultLimits())
				if res != nil {
					b = res.Batch
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Invocations) != 1 {
				t.Fatalf("%d invocation rows, want 1: %+v", len(b.Invocations), b.Invocations)
			}
			if got := b.Invocations[0]; got.Status != tc.want || got.ErrorType != tc.errType {
				t.Errorf("status %q (%q), want %q (%q)", got.Status, got.ErrorType, tc.want, tc.errType)
			}
		})
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestCloudWatchShapes: the three delivery shapes give the same rows.
func TestCloudWatchShapes(t *testing.T) {
	decoded, err := os.ReadFile("testdata/logs/timeout.json")
	if err != nil {
		t.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(gz(t, decoded))
	want, err := ParseCloudWatch(decoded, Meta{}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"awslogs":  `{"awslogs":{"data":"` + data + `"}}`,
		"firehose": `{"requestId":"fh-1","timestamp":1,"records":[{"data":"` + data + `"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCloudWatch([]byte(body), Meta{}, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Batch) != fmt.Sprint(want.Batch) {
				t.Errorf("rows differ:\n got %+v\nwant %+v", got.Batch, want.Batch)
			}
			if name == "firehose" && got.FirehoseRequestID != "fh-1" {
				t.Errorf("firehose request id %q", got.FirehoseRequestID)
			}
		})
	}
	ctl := `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`
	res, err := ParseCloudWatch([]byte(`{"awslogs":{"data":"`+base64.StdEncoding.EncodeToString(gz(t, []byte(ctl)))+`"}}`), Meta{}, DefaultLimits())
	if err != nil || res.Batch.Len() != 0 {
		t.Errorf("control message: %v, %+v", err, res)
	}
}

func TestCloudWatchBad(t *testing.T) {
	bomb := gz(t, bytes.Repeat([]byte{' '}, 8<<20)) // 8 MiB of spaces, ~8 KiB compressed
	lim := DefaultLimits()
	lim.MaxDecodedBytes = 1 << 20
	for _, tc := range []struct {
		name, body string
		tooLarge   bool
	}{
		{"not json", `{`, false},
		{"nothing known", `{"hello":1}`, false},
		{"bad base64", `{"awslogs":{"data":"***"}}`, false},
		{"bad gzip", `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 1, 2, 3}) + `"}}`, false},
		{"gzip bomb", `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(bomb) + `"}}`, true},
		{"payload not json", `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz(t, []byte("nope"))) + `"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCloudWatch([]byte(tc.body), Meta{}, lim)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.tooLarge != (err != nil && strings.Contains(err.Error(), ErrTooLarge.Error())) {
				t.Errorf("error %v, too large %v", err, tc.tooLarge)
			}
		})
	}
	many := `[` + strings.Repeat(`{"time":"2026-11-25T10:00:00Z","type":"function","record":"x"},`, 10) + `{"time":"2026-11-25T10:00:00Z","type":"function","record":"x"}]`
	if _, _, err := ParseTelemetry([]byte(many), Meta{}, Limits{MaxEvents: 10}); err == nil {
		t.Error("11 events with a limit of 10 accepted")
	}
	for _, body := range []string{`{}`, `[{"type":"platform.start","time":"yesterday","record":{}}]`, `[{"time":"2026-11-25T10:00:00Z","record":{}}]`,
		`[{"time":"2026-11-25T10:00:00Z","type":"platform.report","record":[1]}]`} {
		if _, _, err := ParseTelemetry([]byte(body), Meta{}, lim); err == nil {
			t.Errorf("ParseTelemetry(%s): no error", body)
		}
	}
}

func TestLogTruncation(t *testing.T) {
	body := `[{"time":"2026-11-25T10:00:00Z","type":"function","record":"` + strings.Repeat("a", 100) + `"}]`
	b, _, err := ParseTelemetry([]byte(body), Meta{}, Limits{MaxLogBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l := b.Logs[0]; len(l.Body.Str) != 10 || l.Attributes.String(attrTruncated) != "true" {
		t.Errorf("truncated log %+v", l)
	}
}

// fakeWriter records batches or fails with err.
type fakeWriter struct {
	mu  sync.Mutex
	err error
	got []*model.Batch
}

func (w *fakeWriter) Write(_ context.Context, b *model.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.got = append(w.got, b)
	return nil
}

func TestHandlers(t *testing.T) {
	tel, _ := os.ReadFile("testdata/telemetry/status-timeout.json")
	cw, _ := os.ReadFile("testdata/logs/oom-killed.json")
	for _, tc := range []struct {
		name, method, path, body, encoding string
		storeErr                           error
		want                               int
		wantCode                           string
	}{
		{"telemetry", "POST", PathTelemetry, string(tel), "", nil, 200, ""},
		{"telemetry gzip", "POST", PathTelemetry, string(gz(t, tel)), "gzip", nil, 200, ""},
		{"cloudwatch", "POST", PathCloudWatchLogs, string(cw), "", nil, 200, ""},
		{"get", "GET", PathTelemetry, "", "", nil, 405, "method_not_allowed"},
		{"bad json", "POST", PathTelemetry, "{", "", nil, 400, "invalid_argument"},
		{"bad encoding", "POST", PathTelemetry, string(tel), "br", nil, 400, "invalid_argument"},
		{"too big", "POST", PathCloudWatchLogs, strings.Repeat(" ", 2<<20), "", nil, 413, "too_large"},
		{"overloaded", "POST", PathTelemetry, string(tel), "", store.ErrOverloaded, 429, "overloaded"},
		{"unavailable", "POST", PathCloudWatchLogs, string(cw), "", fmt.Errorf("commit: %w", store.ErrUnavailable), 503, "unavailable"},
		{"store bug", "POST", PathCloudWatchLogs, string(cw), "", fmt.Errorf("disk on fire"), 500, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &fakeWriter{err: tc.storeErr}
			mux := http.NewServeMux()
			h, err := NewHandler(w, Settings{MaxBodyBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			h.Register(mux)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set(HeaderFunction, "fn")
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.wantCode != "" {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != tc.wantCode || e.Error.Message == "" {
					t.Errorf("error body %s, want code %s", rec.Body, tc.wantCode)
				}
				if (tc.want == 429 || tc.want == 503) && rec.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
				return
			}
			if len(w.got) != 1 || len(w.got[0].Invocations) != 1 {
				t.Fatalf("wrote %+v", w.got)
			}
			if inv := w.got[0].Invocations[0]; inv.Function == "" || inv.Status == model.InvocationOK {
				t.Errorf("row %+v", inv)
			}
		})
	}
}

func FuzzParseTelemetry(f *testing.F) {
	for _, b := range fixtures(f, "telemetry") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, _, err := ParseTelemetry(body, Meta{Function: "f"}, Limits{MaxEvents: 1000, MaxLogBytes: 1024, MaxDecodedBytes: 1 << 20})
		if err != nil {
			return
		}
		for _, inv := range b.Invocations {
			if inv.RequestID == "" || inv.Source != "telemetry" {
				t.Fatalf("bad row %+v", inv)
			}
		}
		for _, l := range b.Logs {
			if len(l.Body.Str) > 1024 {
				t.Fatalf("log body of %d bytes", len(l.Body.Str))
			}
		}
	})
}

func FuzzParseCloudWatch(f *testing.F) {
	for _, b := range fixtures(f, "logs") {
		f.Add(b)
		f.Add([]byte(`{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz(f, b)) + `"}}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseCloudWatch(body, Meta{}, Limits{MaxEvents: 1000, MaxLogBytes: 1024, MaxDecodedBytes: 1 << 20})
		if err != nil {
			return
		}
		for _, inv := range res.Batch.Invocations {
			if inv.Source != "logs" {
				t.Fatalf("bad row %+v", inv)
			}
		}
	})
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := NewHandler(&fakeWriter{}, Settings{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewHandler(&fakeWriter{}, Settings{Registerer: reg}); err == nil {
		t.Error("a second handler on one registry registered its metrics")
	}
	tel, _ := os.ReadFile("testdata/telemetry/status-ok.json")
	for _, body := range []string{string(tel), "{"} {
		req := httptest.NewRequest("POST", PathTelemetry, strings.NewReader(body))
		req.Header.Set(HeaderDropped, "3")
		h.Telemetry().ServeHTTP(httptest.NewRecorder(), req)
	}
	for _, tc := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{h.m.deliveries.WithLabelValues("telemetry", "ok"), 1},
		{h.m.deliveries.WithLabelValues("telemetry", "invalid_argument"), 1},
		{h.m.events.WithLabelValues("telemetry"), 3},
		{h.m.rows.WithLabelValues("telemetry", "invocations"), 1},
		{h.m.dropped, 2},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%v = %v, want %v", tc.c, got, tc.want)
		}
	}
}
