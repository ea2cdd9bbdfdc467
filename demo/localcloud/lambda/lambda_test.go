package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
)

var bins localcloudtest.Binaries

func TestMain(m *testing.M) { os.Exit(localcloudtest.Main(m, &bins)) }

// harness is a running service with everything it reported.
type harness struct {
	svc    *lambda.Service
	client *awslambda.Client

	mu       sync.Mutex
	logs     []lambda.LogLine
	records  []lambda.Record
	delivers []delivery
}

type delivery struct {
	ARN   string
	Body  []byte
	Attrs map[string]string
}

func newHarness(t *testing.T, set lambda.Settings, fns ...lambda.Function) *harness {
	t.Helper()
	h := &harness{}
	set.Logs = func(l lambda.LogLine) {
		h.mu.Lock()
		h.logs = append(h.logs, l)
		h.mu.Unlock()
	}
	set.OnInvocation = func(r lambda.Record) {
		h.mu.Lock()
		h.records = append(h.records, r)
		h.mu.Unlock()
	}
	set.Deliver = func(_ context.Context, arn string, body []byte, attrs map[string]string) error {
		h.mu.Lock()
		h.delivers = append(h.delivers, delivery{arn, body, attrs})
		h.mu.Unlock()
		return nil
	}
	if set.ShutdownGrace == 0 {
		set.ShutdownGrace = 500 * time.Millisecond
	}
	svc, err := lambda.New(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	for _, fn := range fns {
		if err := svc.CreateFunction(fn); err != nil {
			t.Fatal(err)
		}
	}
	h.svc = svc
	h.client = awslambda.New(awslambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(svc.Endpoint()),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
	return h
}

func (h *harness) invoke(t *testing.T, fn string, payload string) *awslambda.InvokeOutput {
	t.Helper()
	out, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String(fn),
		Payload:      []byte(payload),
		LogType:      types.LogTypeTail,
	})
	if err != nil {
		t.Fatalf("invoke %s %s: %v", fn, payload, err)
	}
	return out
}

func (h *harness) recordsOf(fn string) []lambda.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []lambda.Record
	for _, r := range h.records {
		if r.Function == fn {
			out = append(out, r)
		}
	}
	return out
}

func (h *harness) platformLines(reqID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.logs {
		if l.RequestID == reqID && l.Source == lambda.SourcePlatform {
			out = append(out, l.Text)
		}
	}
	return out
}

type echo struct {
	RequestID string `json:"requestId"`
	PID       int    `json:"pid"`
	ColdStart bool   `json:"coldStart"`
	Trace     string `json:"trace"`
	Function  string `json:"function"`
	Memory    string `json:"memory"`
	ARN       string `json:"arn"`
}

func decodeEcho(t *testing.T, b []byte) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return e
}

func TestColdThenWarm(t *testing.T) {
	h := newHarness(t, lambda.Settings{}, lambda.Function{Name: "echo", Binary: bins.Function, MemoryMB: 256})
	first := h.invoke(t, "echo", `{"action":"echo"}`)
	second := h.invoke(t, "echo", `{"action":"echo"}`)
	a, b := decodeEcho(t, first.Payload), decodeEcho(t, second.Payload)

	if !a.ColdStart || b.ColdStart {
		t.Errorf("function saw coldStart %v then %v, want true then false", a.ColdStart, b.ColdStart)
	}
	if a.PID != b.PID {
		t.Errorf("warm invoke ran in pid %d, want the cold process %d", b.PID, a.PID)
	}
	reqID, _ := middleware.GetRequestIDMetadata(first.ResultMetadata)
	if a.RequestID != reqID || reqID == "" {
		t.Errorf("function saw request id %q, response header has %q", a.RequestID, reqID)
	}
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`).MatchString(a.Trace) {
		t.Errorf("_X_AMZN_TRACE_ID = %q", a.Trace)
	}
	if a.Function != "echo" || a.Memory != "256" || a.ARN != h.svc.FunctionARN("echo") {
		t.Errorf("environment = %+v", a)
	}
	recs := h.recordsOf("echo")
	if len(recs) != 2 || !recs[0].ColdStart || recs[1].ColdStart || recs[0].InitDuration <= 0 || recs[1].InitDuration != 0 {
		t.Fatalf("records = %+v", recs)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(first.LogResult))
	for _, want := range []string{"START RequestId: " + reqID + " Version: $LATEST", "handling echo", "END RequestId: " + reqID,
		"REPORT RequestId: " + reqID + "\tDuration: ", "\tMemory Size: 256 MB\tMax Memory Used: ", "\tInit Duration: "} {
		if !strings.Contains(string(tail), want) {
			t.Errorf("log tail lacks %q:\n%s", want, tail)
		}
	}
	tail2, _ := base64.StdEncoding.DecodeString(aws.ToString(second.LogResult))
	if strings.Contains(string(tail2), "Init Duration") {
		t.Errorf("warm REPORT has an Init Duration:\n%s", tail2)
	}
}

func TestFailures(t *testing.T) {
	fns := []lambda.Function{
		{Name: "slow", Binary: bins.Function, Timeout: time.Second},
		{Name: "hungry", Binary: bins.Function, MemoryMB: 64, Timeout: 10 * time.Second},
		{Name: "crashy", Binary: bins.Function},
		{Name: "faulty", Binary: bins.Function},
	}
	h := newHarness(t, lambda.Settings{}, fns...)
	tests := []struct {
		name, fn, payload string
		status            lambda.Status
		errorType         string
		payloadRE         string
		reportRE          string
		extraLine         string
		reused            bool
		maxDuration       time.Duration
	}{
		{name: "timeout", fn: "slow", payload: `{"action":"sleep","ms":5000}`, status: lambda.StatusTimeout, errorType: "Sandbox.Timedout",
			payloadRE: `^\{"errorMessage":"\d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f-]{36} Task timed out after 1\.00 seconds"\}$`,
			reportRE:  `\tStatus: timeout$`, extraLine: "Task timed out after 1.00 seconds", maxDuration: 1800 * time.Millisecond},
		{name: "out of memory", fn: "hungry", payload: `{"action":"alloc","mb":400}`, status: lambda.StatusOOM, errorType: "Runtime.OutOfMemory",
			payloadRE: `Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"`,
			reportRE:  `Max Memory Used: 64 MB\t.*Status: error\tError Type: Runtime.OutOfMemory$`, extraLine: "Runtime.OutOfMemory", maxDuration: 5 * time.Second},
		{name: "crash", fn: "crashy", payload: `{"action":"crash","code":3}`, status: lambda.StatusCrash, errorType: "Runtime.ExitError",
			payloadRE: `"errorMessage":"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3"`,
			reportRE:  `Status: error\tError Type: Runtime.ExitError$`, extraLine: "Runtime.ExitError", maxDuration: 2 * time.Second},
		{name: "function error", fn: "faulty", payload: `{"action":"error","message":"boom"}`, status: lambda.StatusError, errorType: "errorString",
			payloadRE: `"errorMessage":"boom"`, reportRE: `Max Memory Used: \d+ MB\t(Init Duration: [\d.]+ ms\t)?$`, reused: true, maxDuration: 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := decodeEcho(t, h.invoke(t, tc.fn, `{"action":"echo"}`).Payload)
			start := time.Now()
			out := h.invoke(t, tc.fn, tc.payload)
			took := time.Since(start)
			if aws.ToString(out.FunctionError) != "Unhandled" {
				t.Errorf("FunctionError = %q, want Unhandled", aws.ToString(out.FunctionError))
			}
			if !regexp.MustCompile(tc.payloadRE).Match(out.Payload) {
				t.Errorf("payload %s does not match %s", out.Payload, tc.payloadRE)
			}
			if took > tc.maxDuration {
				t.Errorf("invoke took %v, want at most %v", took, tc.maxDuration)
			}
			recs := h.recordsOf(tc.fn)
			last := recs[len(recs)-1]
			if last.Status != tc.status || last.ErrorType != tc.errorType {
				t.Errorf("record status %s/%s, want %s/%s", last.Status, last.ErrorType, tc.status, tc.errorType)
			}
			lines := h.platformLines(last.RequestID)
			report := lines[len(lines)-1]
			if !regexp.MustCompile(tc.reportRE).MatchString(report) || !strings.HasPrefix(report, "REPORT RequestId: "+last.RequestID) {
				t.Errorf("REPORT line %q does not match %s", report, tc.reportRE)
			}
			if tc.extraLine != "" && !strings.Contains(strings.Join(lines, "\n"), tc.extraLine) {
				t.Errorf("platform lines lack %q: %q", tc.extraLine, lines)
			}
			after := decodeEcho(t, h.invoke(t, tc.fn, `{"action":"echo"}`).Payload)
			if tc.reused != (after.PID == before.PID) || tc.reused == after.ColdStart {
				t.Errorf("after %s: pid %d→%d coldStart %v, want reuse=%v", tc.name, before.PID, after.PID, after.ColdStart, tc.reused)
			}
		})
	}
}

func TestThrottling(t *testing.T) {
	one, zero := 1, 0
	h := newHarness(t, lambda.Settings{},
		lambda.Function{Name: "single", Binary: bins.Function, ReservedConcurrency: &one},
		lambda.Function{Name: "disabled", Binary: bins.Function, ReservedConcurrency: &zero})

	h.invoke(t, "single", `{"action":"echo"}`) // warm it up so the sleeper starts at once
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.invoke(t, "single", `{"action":"sleep","ms":2500}`)
	}()
	localcloudtest.Eventually(t, 2*time.Second, "the sleeper to start", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, l := range h.logs {
			if l.Text == "handling sleep" {
				return true
			}
		}
		return false
	})
	for _, fn := range []string{"single", "disabled"} {
		_, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(`{}`)})
		var tooMany *types.TooManyRequestsException
		if !errors.As(err, &tooMany) {
			t.Errorf("invoke %s while at its reserved concurrency: err = %v, want TooManyRequestsException", fn, err)
		} else if tooMany.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			t.Errorf("reason = %q", tooMany.Reason)
		}
	}
	<-done
	h.invoke(t, "single", `{"action":"echo"}`) // capacity is back
	var throttled int
	for _, r := range append(h.recordsOf("single"), h.recordsOf("disabled")...) {
		if r.Status == lambda.StatusThrottled {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("%d throttle records, want 2", throttled)
	}
	_, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("invoke unknown function: err = %v, want ResourceNotFoundException", err)
	}
}

func TestAsyncRetriesThenDestination(t *testing.T) {
	const failureARN = "arn:aws:sqs:us-east-1:000000000000:failures"
	const dlqARN = "arn:aws:sqs:us-east-1:000000000000:dlq"
	const successARN = "arn:aws:sqs:us-east-1:000000000000:successes"
	h := newHarness(t, lambda.Settings{RetryDelays: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		lambda.Function{Name: "flaky", Binary: bins.Function, Async: lambda.AsyncConfig{OnFailure: failureARN, DeadLetterTarget: dlqARN}},
		lambda.Function{Name: "fine", Binary: bins.Function, Async: lambda.AsyncConfig{OnSuccess: successARN}})

	out, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("flaky"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"action":"error","message":"always"}`),
	})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("async invoke: %v status %d", err, out.StatusCode)
	}
	reqID, _ := middleware.GetRequestIDMetadata(out.ResultMetadata)
	if _, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("fine"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"action":"echo"}`),
	}); err != nil {
		t.Fatal(err)
	}
	localcloudtest.Eventually(t, 10*time.Second, "three deliveries", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.delivers) == 3
	})
	recs := h.recordsOf("flaky")
	if len(recs) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(recs), recs)
	}
	for i, r := range recs {
		if r.RequestID != reqID || r.Attempt != i+1 || r.Status != lambda.StatusError || !r.Async {
			t.Errorf("attempt %d = %+v, want request id %s", i+1, r, reqID)
		}
	}
	if gap := recs[2].Start.Sub(recs[1].Start); gap < 200*time.Millisecond {
		t.Errorf("second retry came %v after the first, want ≥ 200ms back-off", gap)
	}
	byARN := map[string]delivery{}
	h.mu.Lock()
	for _, d := range h.delivers {
		byARN[d.ARN] = d
	}
	h.mu.Unlock()

	var doc struct {
		RequestContext struct {
			RequestID string `json:"requestId"`
			Condition string `json:"condition"`
			Count     int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  map[string]string `json:"requestPayload"`
		ResponseContext struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload struct {
			ErrorMessage string `json:"errorMessage"`
		} `json:"responsePayload"`
	}
	if err := json.Unmarshal(byARN[failureARN].Body, &doc); err != nil {
		t.Fatalf("decode destination record %s: %v", byARN[failureARN].Body, err)
	}
	if doc.RequestContext.RequestID != reqID || doc.RequestContext.Condition != "RetriesExhausted" || doc.RequestContext.Count != 3 ||
		doc.RequestPayload["message"] != "always" || doc.ResponseContext.FunctionError != "Unhandled" || doc.ResponsePayload.ErrorMessage != "always" {
		t.Errorf("on-failure record = %s", byARN[failureARN].Body)
	}
	dlq := byARN[dlqARN]
	if string(dlq.Body) != `{"action":"error","message":"always"}` || dlq.Attrs["RequestID"] != reqID || dlq.Attrs["ErrorMessage"] != "always" {
		t.Errorf("dead-letter message = %s %v", dlq.Body, dlq.Attrs)
	}
	if !strings.Contains(string(byARN[successARN].Body), `"condition":"Success"`) {
		t.Errorf("on-success record = %s", byARN[successARN].Body)
	}
}

func TestExtensionReceivesTelemetry(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, payload string
		memory        int
		runtimeDone   string // status in platform.runtimeDone
		reportStatus  string
		errorType     string
		shutdown      string // SHUTDOWN reason expected after the invoke, "" if none
	}{
		{"success", `{"action":"echo"}`, 128, "success", "success", "", ""},
		{"error", `{"action":"error","message":"bad"}`, 128, "error", "error", "errorString", ""},
		{"timeout", `{"action":"sleep","ms":3000}`, 128, "timeout", "timeout", "Sandbox.Timedout", "timeout"},
		{"crash", `{"action":"crash","code":2}`, 128, "error", "error", "Runtime.ExitError", "failure"},
		{"oom", `{"action":"alloc","mb":300}`, 64, "error", "error", "Runtime.OutOfMemory", "failure"},
	}
	var fns []lambda.Function
	for _, c := range cases {
		fns = append(fns, lambda.Function{
			Name: "ext-" + c.name, Binary: bins.Function, MemoryMB: c.memory, Timeout: time.Second,
			Extensions: []string{bins.Extension},
			Env:        map[string]string{"TESTEXT_OUT": filepath.Join(dir, c.name+".jsonl")},
		})
	}
	h := newHarness(t, lambda.Settings{}, fns...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{
				FunctionName: aws.String("ext-" + c.name), Payload: []byte(c.payload)})
			if err != nil {
				t.Fatal(err)
			}
			reqID, _ := middleware.GetRequestIDMetadata(out.ResultMetadata)
			path := filepath.Join(dir, c.name+".jsonl")
			want := map[string]bool{}
			localcloudtest.Eventually(t, 5*time.Second, "platform.report for "+reqID, func() bool {
				for _, l := range localcloudtest.ReadExtension(t, path) {
					if l.Event.Type == "platform.report" && strings.Contains(string(l.Event.Record), reqID) {
						return true
					}
				}
				return false
			})
			if c.shutdown != "" {
				localcloudtest.Eventually(t, 5*time.Second, "SHUTDOWN", func() bool {
					for _, l := range localcloudtest.ReadExtension(t, path) {
						if l.Event.EventType == "SHUTDOWN" {
							return true
						}
					}
					return false
				})
			}
			for _, l := range localcloudtest.ReadExtension(t, path) {
				switch {
				case l.Source == "lifecycle":
					want[l.Event.EventType] = true
					if l.Event.EventType == "INVOKE" && l.Event.RequestID != reqID {
						t.Errorf("INVOKE for %s, want %s", l.Event.RequestID, reqID)
					}
					if l.Event.EventType == "SHUTDOWN" && l.Event.Reason != c.shutdown {
						t.Errorf("SHUTDOWN reason %q, want %q", l.Event.Reason, c.shutdown)
					}
				case l.Event.Type == "extension":
					want["extension"] = true
				case l.Event.Type == "function":
					var line string
					_ = json.Unmarshal(l.Event.Record, &line)
					if strings.HasPrefix(line, "handling ") {
						want["function"] = true
					}
				case strings.HasPrefix(l.Event.Type, "platform."):
					want[l.Event.Type] = true
					checkRecord(t, l, reqID, c.runtimeDone, c.reportStatus, c.errorType, c.memory)
				}
			}
			for _, typ := range []string{"platform.initStart", "platform.initRuntimeDone", "platform.initReport",
				"platform.extension", "platform.telemetrySubscription", "platform.start", "platform.runtimeDone",
				"platform.report", "function", "extension", "INVOKE"} {
				if !want[typ] {
					t.Errorf("extension never received %s", typ)
				}
			}
			if (c.shutdown != "") != want["SHUTDOWN"] {
				t.Errorf("SHUTDOWN received = %v, want %v", want["SHUTDOWN"], c.shutdown != "")
			}
		})
	}
}

// checkRecord verifies the documented shape of one platform event.
func checkRecord(t *testing.T, l localcloudtest.Line, reqID, doneStatus, reportStatus, errorType string, memory int) {
	t.Helper()
	var rec struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Phase     string `json:"phase"`
		InitType  string `json:"initializationType"`
		Metrics   struct {
			DurationMs       *float64 `json:"durationMs"`
			BilledDurationMs *int     `json:"billedDurationMs"`
			MemorySizeMB     int      `json:"memorySizeMB"`
			MaxMemoryUsedMB  *int     `json:"maxMemoryUsedMB"`
			InitDurationMs   *float64 `json:"initDurationMs"`
		} `json:"metrics"`
		Tracing struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"tracing"`
	}
	if err := json.Unmarshal(l.Event.Record, &rec); err != nil {
		t.Errorf("%s record %s: %v", l.Event.Type, l.Event.Record, err)
		return
	}
	switch l.Event.Type {
	case "platform.initStart", "platform.initRuntimeDone":
		if rec.Phase != "init" || rec.InitType != "on-demand" {
			t.Errorf("%s = %s", l.Event.Type, l.Event.Record)
		}
	case "platform.initReport":
		if rec.Metrics.DurationMs == nil || rec.Phase != "init" {
			t.Errorf("initReport = %s", l.Event.Record)
		}
	case "platform.start":
		if rec.RequestID != reqID || rec.Tracing.Type != "X-Amzn-Trace-Id" || !strings.HasPrefix(rec.Tracing.Value, "Root=1-") {
			t.Errorf("start = %s", l.Event.Record)
		}
	case "platform.runtimeDone":
		if rec.RequestID != reqID || rec.Status != doneStatus || rec.ErrorType != errorType || rec.Metrics.DurationMs == nil {
			t.Errorf("runtimeDone = %s, want status %s errorType %q", l.Event.Record, doneStatus, errorType)
		}
	case "platform.report":
		m := rec.Metrics
		if rec.RequestID != reqID || rec.Status != reportStatus || rec.ErrorType != errorType || m.DurationMs == nil ||
			m.BilledDurationMs == nil || m.MaxMemoryUsedMB == nil || m.MemorySizeMB != memory || m.InitDurationMs == nil {
			t.Errorf("report = %s, want status %s errorType %q", l.Event.Record, reportStatus, errorType)
		}
	}
}

func TestAsyncThrottledUntilEventAge(t *testing.T) {
	zero := 0
	const failureARN = "arn:aws:sqs:us-east-1:000000000000:failures"
	h := newHarness(t, lambda.Settings{ThrottleRetryDelay: 50 * time.Millisecond},
		lambda.Function{Name: "off", Binary: bins.Function, ReservedConcurrency: &zero,
			Async: lambda.AsyncConfig{MaxEventAge: 300 * time.Millisecond, OnFailure: failureARN}})
	out, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("off"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	reqID, _ := middleware.GetRequestIDMetadata(out.ResultMetadata)
	localcloudtest.Eventually(t, 5*time.Second, "the on-failure record", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.delivers) == 1
	})
	recs := h.recordsOf("off")
	if len(recs) < 3 {
		t.Errorf("%d throttled attempts, want several", len(recs))
	}
	for _, r := range recs {
		if r.Status != lambda.StatusThrottled || r.RequestID != reqID {
			t.Errorf("record = %+v", r)
		}
	}
	h.mu.Lock()
	body := string(h.delivers[0].Body)
	h.mu.Unlock()
	if !strings.Contains(body, `"condition":"EventAgeExceeded"`) || !strings.Contains(body, reqID) {
		t.Errorf("on-failure record = %s", body)
	}
}

func TestInitFailure(t *testing.T) {
	h := newHarness(t, lambda.Settings{}, lambda.Function{Name: "broken", Binary: "/bin/false"})
	out := h.invoke(t, "broken", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Runtime exited with error: exit status 1") ||
		!strings.Contains(string(out.Payload), `"errorType":"Runtime.ExitError"`) {
		t.Errorf("response = %s (%s)", out.Payload, aws.ToString(out.FunctionError))
	}
	recs := h.recordsOf("broken")
	if len(recs) != 1 || recs[0].Status != lambda.StatusCrash || recs[0].ErrorType != "Runtime.ExitError" || !recs[0].ColdStart {
		t.Fatalf("records = %+v", recs)
	}
	var initReport string
	h.mu.Lock()
	for _, l := range h.logs {
		if strings.HasPrefix(l.Text, "INIT_REPORT") {
			initReport = l.Text
		}
	}
	h.mu.Unlock()
	if !strings.Contains(initReport, "Phase: init\tStatus: error\tError Type: Runtime.ExitError") {
		t.Errorf("INIT_REPORT line = %q", initReport)
	}
	if lines := h.platformLines(recs[0].RequestID); !strings.HasSuffix(lines[len(lines)-1], "Status: error\tError Type: Runtime.ExitError") {
		t.Errorf("REPORT = %q", lines[len(lines)-1])
	}
}

func TestGetAndListFunctions(t *testing.T) {
	five := 5
	h := newHarness(t, lambda.Settings{},
		lambda.Function{Name: "a", Binary: bins.Function, MemoryMB: 512, Timeout: 7 * time.Second, ReservedConcurrency: &five},
		lambda.Function{Name: "b", Binary: bins.Function})
	ctx := context.Background()
	got, err := h.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Configuration
	if aws.ToString(c.FunctionArn) != h.svc.FunctionARN("a") || aws.ToInt32(c.MemorySize) != 512 || aws.ToInt32(c.Timeout) != 7 ||
		got.Concurrency == nil || aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions) != 5 {
		t.Errorf("GetFunction = %+v %+v", c, got.Concurrency)
	}
	list, err := h.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 2 || aws.ToString(list.Functions[1].FunctionName) != "b" {
		t.Errorf("ListFunctions = %v %+v", err, list)
	}
	_, err = h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("a"), InvocationType: types.InvocationTypeDryRun})
	if err != nil {
		t.Errorf("DryRun: %v", err)
	}
}

func TestIdleEnvironmentSpinsDown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ext.jsonl")
	h := newHarness(t, lambda.Settings{IdleTimeout: 300 * time.Millisecond},
		lambda.Function{Name: "idle", Binary: bins.Function, Extensions: []string{bins.Extension}, Env: map[string]string{"TESTEXT_OUT": out}})
	first := decodeEcho(t, h.invoke(t, "idle", `{"action":"echo"}`).Payload)
	localcloudtest.Eventually(t, 5*time.Second, "SHUTDOWN after idling", func() bool {
		for _, l := range localcloudtest.ReadExtension(t, out) {
			if l.Event.EventType == "SHUTDOWN" {
				if l.Event.Reason != "spindown" {
					t.Errorf("shutdownReason = %q, want spindown", l.Event.Reason)
				}
				return true
			}
		}
		return false
	})
	second := decodeEcho(t, h.invoke(t, "idle", `{"action":"echo"}`).Payload)
	if !second.ColdStart || second.PID == first.PID {
		t.Errorf("after spindown: coldStart %v pid %d (was %d), want a new environment", second.ColdStart, second.PID, first.PID)
	}
}
