package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
	ariadne "github.com/ariadnehq/ariadne/internal/app"
	ariadneconfig "github.com/ariadnehq/ariadne/internal/config"
)

// bins are built once by TestMain.
var bins struct {
	extension string // this package, as Lambda would run it from /opt/extensions
	function  string // localcloud's aws-lambda-go test function (no SDK)
	orders    string // sdk/examples/orders: a function with Ariadne's SDK
	sdkfn     string // testdata/sdkfn: testfn's actions under Ariadne's SDK
}

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		os.Exit(m.Run())
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ariadne-extension-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lc, err := localcloudtest.Build(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bins.function = lc.Function
	bins.extension = filepath.Join(dir, "ariadne-extension")
	bins.orders = filepath.Join(dir, "orders")
	bins.sdkfn = filepath.Join(dir, "sdkfn")
	sdkfnDir, err := sdkfnModule(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, b := range []struct {
		out, modDir, pkg string
	}{
		{bins.sdkfn, sdkfnDir, "."},
		{bins.extension, ".", "."},
		{bins.orders, "../sdk", "./examples/orders"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", b.out, b.pkg)
		cmd.Dir = b.modDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b.out == bins.sdkfn {
			cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod", "GOWORK=off")
		}
		if msg, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v: %s\n", b.out, err, msg)
			return 1
		}
	}
	code := m.Run()
	if code == 0 {
		// The in-process extensions, servers and clouds of the tests must
		// all have stopped; idle keep-alive connections may stay.
		if err := goleak.Find(localcloudtest.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			return 1
		}
	}
	return code
}

// sdkfnModule copies testdata/sdkfn into dir with the SDK's path made
// absolute and the SDK's go.sum, so it builds against the SDK as it is.
func sdkfnModule(dir string) (string, error) {
	sdk, err := filepath.Abs("../sdk")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "sdkfn-src")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	for _, f := range []struct{ from, to string }{
		{"testdata/sdkfn/main.go", "main.go"},
		{"testdata/sdkfn/go.mod", "go.mod"},
		{filepath.Join(sdk, "go.sum"), "go.sum"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return "", fmt.Errorf("copy sdkfn: %w", err)
		}
		if f.to == "go.mod" {
			b = bytes.ReplaceAll(b, []byte("=> ../../../sdk"), []byte("=> "+sdk))
		}
		if err := os.WriteFile(filepath.Join(out, f.to), b, 0o644); err != nil {
			return "", fmt.Errorf("copy sdkfn: %w", err)
		}
	}
	return out, nil
}

// startAriadne runs a whole Ariadne server on a temporary data directory.
func startAriadne(t *testing.T) *ariadne.App {
	t.Helper()
	cfg := ariadneconfig.Default()
	cfg.DataDir = t.TempDir()
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.MemoryLimit = "512MB"
	a, err := ariadne.Start(context.Background(), cfg, ariadne.Settings{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start Ariadne: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("shut down Ariadne: %v", err)
		}
	})
	return a
}

// record is the API's invocation record.
type record struct {
	RequestID        string  `json:"requestId"`
	Function         string  `json:"function"`
	Source           string  `json:"source"`
	Start            int64   `json:"start"`
	DurationNs       int64   `json:"durationNs"`
	BilledDurationNs int64   `json:"billedDurationNs"`
	InitDurationNs   int64   `json:"initDurationNs"`
	MemoryMB         int32   `json:"memoryMb"`
	MaxMemoryMB      int32   `json:"maxMemoryMb"`
	Status           string  `json:"status"`
	ErrorType        string  `json:"errorType"`
	ColdStart        bool    `json:"coldStart"`
	TraceID          string  `json:"traceId"`
	Attempt          int32   `json:"attempt"`
	CostUSD          float64 `json:"costUsd"`
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	}
	return resp.StatusCode
}

// invocations reads every record of fn from the API.
func invocations(t *testing.T, a *ariadne.App, fn string) map[string]record {
	t.Helper()
	var page struct{ Invocations []record }
	getJSON(t, fmt.Sprintf("http://%s/api/v1/invocations?function=%s&limit=100", a.HTTPAddr(), fn), &page)
	out := map[string]record{}
	for _, r := range page.Invocations {
		out[r.RequestID] = r
	}
	return out
}

// TestEndToEnd runs the real extension binary inside the local cloud next
// to functions that succeed, fail, time out, run out of memory and crash,
// forwarding to a real Ariadne server; then posts the log stream the local
// cloud printed to a second server as a CloudWatch Logs subscription
// delivery and checks both servers tell the same story.
func TestEndToEnd(t *testing.T) {
	ari := startAriadne(t)
	var (
		mu    sync.Mutex
		lines []lambda.LogLine
	)
	fn := func(name string, memory int, timeout time.Duration, binary string) app.FunctionSpec {
		return app.FunctionSpec{Name: name, Binary: binary, MemoryMB: memory, Timeout: app.Duration(timeout)}
	}
	desc := app.Description{Functions: []app.FunctionSpec{
		fn("echo", 128, 5*time.Second, bins.function),
		fn("fails", 128, 5*time.Second, bins.function),
		fn("sleepy", 128, time.Second, bins.function),
		fn("hog", 128, 5*time.Second, bins.function),
		fn("crasher", 128, 5*time.Second, bins.function),
		fn("orders", 256, 5*time.Second, bins.orders),
		fn("retrier", 128, 5*time.Second, bins.function),
	}}
	cloud, err := app.Start(t.Context(), desc, app.Settings{
		Logs: func(l lambda.LogLine) {
			mu.Lock()
			lines = append(lines, l)
			mu.Unlock()
		},
		Extensions: []string{bins.extension},
		Env: map[string]string{
			"ARIADNE_ENDPOINT":                 "http://" + ari.HTTPAddr(),
			"ARIADNE_EXTENSION_FLUSH_INTERVAL": "100ms",
		},
		// Async retries reuse the request id; Lambda waits a minute or more,
		// the test a little more than invocation.AttemptGap.
		Lambda: lambda.Settings{RetryDelays: []time.Duration{1200 * time.Millisecond, 1200 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()

	type call struct {
		function, payload string
		want              string // status
	}
	calls := []call{
		{"echo", `{"action":"echo"}`, "ok"},
		{"echo", `{"action":"echo"}`, "ok"},
		{"fails", `{"action":"error","message":"card declined"}`, "error"},
		{"sleepy", `{"action":"sleep","ms":3000}`, "timeout"},
		{"hog", `{"action":"alloc","mb":400}`, "oom"},
		{"crasher", `{"action":"crash","code":3}`, "crash"},
		{"orders", `{"version":"2.0","routeKey":"POST /orders","rawPath":"/orders","body":"{\"orderId\":\"o-1\",\"item\":\"book\",\"qty\":1}","requestContext":{"http":{"method":"POST","path":"/orders"}}}`, "ok"},
	}
	// An async invocation that fails every attempt (1 + 2 retries), running
	// while the synchronous calls below do.
	retried, err := cloud.Lambda.InvokeAsync(t.Context(), lambda.InvokeInput{Function: "retrier", Payload: []byte(`{"action":"error","message":"always"}`)})
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]*lambda.Result{} // by request id
	order := []string{}
	for _, c := range calls {
		start := time.Now()
		res, err := cloud.Lambda.Invoke(t.Context(), lambda.InvokeInput{Function: c.function, Payload: []byte(c.payload)})
		if err != nil {
			t.Fatalf("invoke %s: %v", c.function, err)
		}
		if string(res.Status) != c.want {
			t.Fatalf("local cloud says %s ended %s, want %s (test setup): %s", c.function, res.Status, c.want, res.LogTail)
		}
		t.Logf("%s %s: %s in %v (caller waited %v)", c.function, res.RequestID, res.Status, res.Duration, time.Since(start))
		results[res.RequestID] = res
		order = append(order, res.RequestID)
	}

	// Every invocation reaches Ariadne with the platform's figures, while the
	// cloud still runs (forwarding is asynchronous, not only at SHUTDOWN).
	got := map[string]record{}
	localcloudtest.Eventually(t, 20*time.Second, "every invocation with its report", func() bool {
		for _, f := range []string{"echo", "fails", "sleepy", "hog", "crasher", "orders"} {
			for id, r := range invocations(t, ari, f) {
				got[id] = r
			}
		}
		for _, id := range order {
			if r, ok := got[id]; !ok || r.BilledDurationNs == 0 {
				return false
			}
		}
		return true
	})
	for i, id := range order {
		res, r, c := results[id], got[id], calls[i]
		t.Run(fmt.Sprintf("%d-%s", i, c.function), func(t *testing.T) {
			if r.Status != c.want {
				t.Errorf("status %s (%s), want %s", r.Status, r.ErrorType, c.want)
			}
			if r.Function != c.function || r.MemoryMB != int32(res.MemoryMB) || r.MaxMemoryMB != int32(res.MaxMemoryUsedMB) {
				t.Errorf("function %s, memory %d/%d, want %s %d/%d", r.Function, r.MaxMemoryMB, r.MemoryMB, c.function, res.MaxMemoryUsedMB, res.MemoryMB)
			}
			if d := r.DurationNs - int64(res.Duration); d < -int64(10*time.Microsecond) || d > int64(10*time.Microsecond) {
				t.Errorf("duration %v, the platform measured %v", time.Duration(r.DurationNs), res.Duration)
			}
			if r.BilledDurationNs != int64(res.BilledDuration) || r.CostUSD <= 0 {
				t.Errorf("billed %v cost %v, want %v", time.Duration(r.BilledDurationNs), r.CostUSD, res.BilledDuration)
			}
			if r.ColdStart != res.ColdStart || (r.InitDurationNs > 0) != res.ColdStart {
				t.Errorf("cold start %v (init %v), want %v", r.ColdStart, time.Duration(r.InitDurationNs), res.ColdStart)
			}
			if r.TraceID == "" {
				t.Error("no trace id")
			}
			wantSources := "telemetry"
			if c.function == "orders" {
				wantSources = "sdk,sdk-start,telemetry"
			}
			if r.Source != wantSources {
				t.Errorf("sources %q, want %q", r.Source, wantSources)
			}
		})
	}

	// The retried invocation: one record, the last attempt's, counting three.
	localcloudtest.Eventually(t, 15*time.Second, "three attempts of the async invocation", func() bool {
		r, ok := invocations(t, ari, "retrier")[retried]
		return ok && r.Attempt == 3 && r.Status == "error" && r.BilledDurationNs > 0
	})

	// Logs of an invocation without any SDK, through the extension.
	wantLog := map[string]string{"echo": "handling echo", "fails": "handling error", "crasher": "crashing on purpose", "sleepy": "handling sleep"}
	for _, id := range order {
		want, ok := wantLog[results[id].Function]
		if !ok {
			continue
		}
		var one struct {
			Invocation record
			TraceID    string `json:"traceId"`
			Logs       []struct {
				Body         string `json:"body"`
				InvocationID string `json:"invocationId"`
				TraceID      string `json:"traceId"`
			}
		}
		localcloudtest.Eventually(t, 10*time.Second, "logs of "+results[id].Function, func() bool {
			getJSON(t, fmt.Sprintf("http://%s/api/v1/invocations/%s", ari.HTTPAddr(), id), &one)
			for _, l := range one.Logs {
				if l.Body == want && l.InvocationID == id && l.TraceID == one.TraceID && one.TraceID != "" {
					return true
				}
			}
			return false
		})
		// Without an SDK the platform's X-Ray trace is the invocation's
		// trace: it holds the function's lines and the invocation rows.
		var tr struct {
			Logs        []json.RawMessage
			Invocations []json.RawMessage
		}
		if code := getJSON(t, fmt.Sprintf("http://%s/api/v1/traces/%s", ari.HTTPAddr(), one.TraceID), &tr); code != 200 || len(tr.Logs) == 0 || len(tr.Invocations) == 0 {
			t.Errorf("trace %s of %s: status %d, %d logs, %d invocation rows", one.TraceID, results[id].Function, code, len(tr.Logs), len(tr.Invocations))
		}
	}

	// The same invocations from a CloudWatch Logs subscription instead.
	mu.Lock()
	stream := append([]lambda.LogLine(nil), lines...)
	mu.Unlock()
	cw := startAriadne(t)
	for _, f := range []string{"echo", "fails", "sleepy", "hog", "crasher", "orders", "retrier"} {
		postCloudWatch(t, cw, f, stream)
	}
	if r := invocations(t, cw, "retrier")[retried]; r.Attempt != 3 {
		t.Errorf("attempts of the retried invocation from CloudWatch Logs: %+v", r)
	}
	for i, id := range order {
		want, c := got[id], calls[i]
		var fromLogs record
		if code := getJSON(t, fmt.Sprintf("http://%s/api/v1/invocations/%s", cw.HTTPAddr(), id), &struct{ Invocation *record }{&fromLogs}); code != 200 {
			t.Errorf("%s %s: not found from CloudWatch Logs (%d)", c.function, id, code)
			continue
		}
		if c.function == "fails" {
			// A Go runtime prints nothing when a handler returns an error
			// and the REPORT line has no status for it: only the extension
			// (or the SDK) can tell.
			want.Status, want.ErrorType = "ok", ""
		}
		if c.function == "orders" {
			want.Source = "sdk,sdk-start,telemetry" // merged; compare the platform's fields only
		}
		if d := fromLogs.Start - want.Start; d < -int64(5*time.Millisecond) || d > int64(5*time.Millisecond) {
			t.Errorf("%s: start %d from logs, %d from telemetry", c.function, fromLogs.Start, want.Start)
		}
		fromLogs.Start, want.Start = 0, 0
		fromLogs.Source, want.Source = "", ""
		fromLogs.TraceID, want.TraceID = "", "" // local REPORT lines carry no XRAY line
		if fromLogs != want {
			t.Errorf("%s: CloudWatch Logs and extension disagree:\n logs      %+v\n extension %+v", c.function, fromLogs, want)
		}
	}
}

// postCloudWatch sends fn's log stream as one subscription delivery in the
// {"awslogs":{"data":base64(gzip(payload))}} shape.
func postCloudWatch(t *testing.T, a *ariadne.App, fn string, stream []lambda.LogLine) {
	t.Helper()
	type event struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	var evs []event
	for i, l := range stream {
		if l.Function == fn {
			evs = append(evs, event{ID: fmt.Sprint(i), Timestamp: l.Time.UnixMilli(), Message: l.Text + "\n"})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp < evs[j].Timestamp })
	payload, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "000000000000",
		"logGroup": "/aws/lambda/" + fn, "logStream": "2026/11/25/[$LATEST]0", "subscriptionFilters": []string{"ariadne"}, "logEvents": evs})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(payload)
	zw.Close()
	body := `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `"}}`
	resp, err := http.Post("http://"+a.HTTPAddr()+"/api/v1/lambda/cloudwatch-logs", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("post CloudWatch Logs of %s: %d %s", fn, resp.StatusCode, msg)
	}
}

// TestEndToEndWithSDK: functions instrumented with Ariadne's SDK, next to
// the extension. The SDK's rows (invocation span, start marker) and the
// platform's merge: the platform decides timeout, out of memory and crash,
// which the SDK cannot report (for out of memory and crash only its start
// marker left the process).
func TestEndToEndWithSDK(t *testing.T) {
	ari := startAriadne(t)
	fn := func(name string, timeout time.Duration) app.FunctionSpec {
		return app.FunctionSpec{Name: name, Binary: bins.sdkfn, MemoryMB: 128, Timeout: app.Duration(timeout)}
	}
	cloud, err := app.Start(t.Context(), app.Description{Functions: []app.FunctionSpec{
		fn("sdk-ok", 5*time.Second), fn("sdk-fails", 5*time.Second), fn("sdk-sleepy", 2*time.Second),
		fn("sdk-hog", 5*time.Second), fn("sdk-crasher", 5*time.Second),
	}}, app.Settings{
		Extensions: []string{bins.extension},
		Env: map[string]string{
			"ARIADNE_ENDPOINT":                 "http://" + ari.HTTPAddr(),
			"ARIADNE_EXTENSION_FLUSH_INTERVAL": "100ms",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	for _, c := range []struct {
		function, payload       string
		status, sources, errTyp string
	}{
		{"sdk-ok", `{"action":"echo"}`, "ok", "sdk,sdk-start,telemetry", ""},
		{"sdk-fails", `{"action":"error","message":"card declined"}`, "error", "sdk,sdk-start,telemetry", "*errors.errorString"},
		{"sdk-sleepy", `{"action":"sleep","ms":4000}`, "timeout", "sdk,sdk-start,telemetry", "Sandbox.Timedout"},
		{"sdk-hog", `{"action":"alloc","mb":400,"ms":300}`, "oom", "sdk-start,telemetry", "Runtime.OutOfMemory"},
		{"sdk-crasher", `{"action":"crash","code":3,"ms":300}`, "crash", "sdk-start,telemetry", "Runtime.ExitError"},
	} {
		t.Run(c.function, func(t *testing.T) {
			res, err := cloud.Lambda.Invoke(t.Context(), lambda.InvokeInput{Function: c.function, Payload: []byte(c.payload)})
			if err != nil {
				t.Fatal(err)
			}
			var r record
			localcloudtest.Eventually(t, 15*time.Second, c.function+" with the platform's report and the SDK's rows", func() bool {
				r = invocations(t, ari, c.function)[res.RequestID]
				return r.BilledDurationNs > 0 && r.Source == c.sources
			})
			if r.Status != c.status || (c.errTyp != "" && r.ErrorType != c.errTyp) {
				t.Errorf("status %s (%s), want %s (%s)", r.Status, r.ErrorType, c.status, c.errTyp)
			}
			if r.MemoryMB != 128 || r.DurationNs <= 0 || r.TraceID == "" {
				t.Errorf("record %+v", r)
			}
		})
	}
}
