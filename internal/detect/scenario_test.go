package detect_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/internal/api"
	ariadneapp "github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
	"github.com/ariadnehq/ariadne/internal/config"
	"github.com/ariadnehq/ariadne/internal/detect"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// bins are built once by TestMain: the test application (testdata/fn) and
// Ariadne's Lambda extension, which forwards the platform's view
// (timeouts, out-of-memory kills, crashes) that the SDK cannot see.
var bins struct{ fn, extension string }

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	if testing.Short() || flag.Lookup("test.run").Value.String() == "^$" {
		return m.Run() // benchmarks only: no local cloud
	}
	dir, err := os.MkdirTemp("", "ariadne-detect")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.fn, bins.extension = filepath.Join(dir, "fn"), filepath.Join(dir, "ariadne-extension")
	for _, b := range []struct{ out, pkg string }{{bins.fn, "./testdata/fn"}, {bins.extension, "../../extension"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

func startAriadne(t *testing.T) *ariadneapp.App {
	// The test asks for detection runs through the API.
	return apptest.Start(t, func(c *config.Config) { c.OTLPGRPCAddr = "" }, apptest.DetectOnDemand(2*time.Second))
}

// startCloud runs checkout (sync API calls), payments (async, one retry),
// worker (SQS jobs, partial batch responses, dead-letter queue after two
// receives) and alerter (the same behind an SNS topic), with the extension
// attached and a DynamoDB endpoint that never answers.
func startCloud(t *testing.T, ariadneAddr, dynamo string) *app.Cloud {
	t.Helper()
	one, zero := 1, 0
	fn := func(name, role string, timeout time.Duration, triggers ...app.TriggerSpec) app.FunctionSpec {
		return app.FunctionSpec{Name: name, Binary: bins.fn, MemoryMB: 128, Timeout: app.Duration(timeout),
			Env: map[string]string{"ROLE": role}, Triggers: triggers}
	}
	desc := app.Description{
		Region: "us-east-1",
		Queues: []app.QueueSpec{
			{Name: "jobs", VisibilityTimeout: app.Duration(4 * time.Second), DeadLetter: &app.DeadLetterSpec{Queue: "jobs-dlq", MaxReceiveCount: 2}},
			{Name: "jobs-dlq"},
			{Name: "billing"},
			{Name: "alerts", VisibilityTimeout: app.Duration(4 * time.Second), DeadLetter: &app.DeadLetterSpec{Queue: "alerts-dlq", MaxReceiveCount: 2}},
			{Name: "alerts-dlq"},
		},
		Topics: []app.TopicSpec{
			{Name: "order-events", Subscriptions: []app.QueueSubscription{{Queue: "billing"}}},
			{Name: "alert-events", Subscriptions: []app.QueueSubscription{{Queue: "alerts"}}},
		},
		Functions: []app.FunctionSpec{
			fn("checkout", "api", 2*time.Second),
			fn("payments", "api", 5*time.Second),
			fn("worker", "worker", 5*time.Second, app.TriggerSpec{Queue: "jobs", BatchSize: 10, ReportBatchItemFailures: true}),
			fn("sink", "sink", 5*time.Second, app.TriggerSpec{Queue: "jobs-dlq", BatchSize: 10, ReportBatchItemFailures: true},
				app.TriggerSpec{Queue: "alerts-dlq", BatchSize: 10, ReportBatchItemFailures: true}),
			fn("limited", "api", 5*time.Second),
			fn("cold", "api", 5*time.Second),
			fn("orders-v1", "api", 5*time.Second),
			fn("orders-v2", "api", 5*time.Second),
			// One message per invocation: a batch's invocation span holds
			// every message's SNS id, and drift needs the failed one's.
			fn("biller", "subscriber", 5*time.Second, app.TriggerSpec{Queue: "billing", BatchSize: 1}),
			// SNS → SQS → DLQ: alerter fails every order without an
			// amount, so alerts' redrive moves it to alerts-dlq.
			fn("alerts-api", "api", 5*time.Second),
			fn("alerter", "subscriber", 5*time.Second, app.TriggerSpec{Queue: "alerts", BatchSize: 1, ReportBatchItemFailures: true}),
		},
	}
	desc.Functions[9].Env["ORDER_EVENTS_TOPIC"] = "arn:aws:sns:us-east-1:000000000000:alert-events"
	for _, i := range []int{6, 7} {
		desc.Functions[i].Env["ORDER_EVENTS_TOPIC"] = "arn:aws:sns:us-east-1:000000000000:order-events"
	}
	// One service deployed in two versions: 2.0 renames "amount".
	desc.Functions[6].Env["ARIADNE_SERVICE"], desc.Functions[6].Env["ARIADNE_SERVICE_VERSION"] = "orders-api", "1.0"
	desc.Functions[7].Env["ARIADNE_SERVICE"], desc.Functions[7].Env["ARIADNE_SERVICE_VERSION"] = "orders-api", "2.0"
	desc.Functions[5].Env["INIT_MS"] = "600"
	desc.Functions[4].ReservedConcurrency = &one
	desc.Functions[4].Async = &app.AsyncSpec{MaxRetryAttempts: &zero}
	desc.Functions[1].Async = &app.AsyncSpec{MaxRetryAttempts: &one}
	// Functions learn the Lambda endpoint only when its address is fixed
	// before start (localcloud builds their environment first).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lambdaAddr := ln.Addr().String()
	ln.Close()
	cloud, err := app.Start(context.Background(), desc, app.Settings{
		Addrs: app.Addrs{Lambda: lambdaAddr},
		Env: map[string]string{
			"AWS_ENDPOINT_URL_LAMBDA":          "http://" + lambdaAddr,
			"ARIADNE_ENDPOINT":                 "http://" + ariadneAddr,
			"ARIADNE_EXPORT_TIMEOUT":           "20s",
			"ARIADNE_EXTENSION_FLUSH_INTERVAL": "100ms",
			"AWS_ENDPOINT_URL_DYNAMODB":        dynamo,
		},
		Extensions: []string{bins.extension},
		// Async retries reuse the request id; a little more than
		// invocation.AttemptGap apart so the attempts are told apart.
		Lambda: lambda.Settings{RetryDelays: []time.Duration{1200 * time.Millisecond}},
	})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	return cloud
}

type scenario struct {
	t     *testing.T
	cloud *app.Cloud
	sqs   *sqs.Client
	st    detect.Store
}

func (s *scenario) invoke(function, payload string) *lambda.Result {
	s.t.Helper()
	res, err := s.cloud.Lambda.Invoke(s.t.Context(), lambda.InvokeInput{Function: function, Payload: []byte(payload)})
	if err != nil {
		s.t.Fatalf("invoke %s: %v", function, err)
	}
	return res
}

func (s *scenario) invokeAsync(function, payload string) {
	s.t.Helper()
	if _, err := s.cloud.Lambda.InvokeAsync(s.t.Context(), lambda.InvokeInput{Function: function, Payload: []byte(payload)}); err != nil {
		s.t.Fatalf("invoke %s: %v", function, err)
	}
}

func (s *scenario) send(body string) {
	s.t.Helper()
	if _, err := s.sqs.SendMessage(s.t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(s.cloud.QueueURL("jobs")), MessageBody: aws.String(body)}); err != nil {
		s.t.Fatalf("send %s: %v", body, err)
	}
}

// waitInvocations waits until function has n finished invocations
// starting after since, each with the platform's report.
func (s *scenario) waitInvocations(function string, since time.Time, n int) {
	s.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		invs, _, err := s.st.Invocations(s.t.Context(), store.InvocationQuery{TimeRange: store.TimeRange{Start: since.UnixNano()},
			Function: function, Limit: 100, Now: time.Now().UnixNano()})
		done := 0
		for _, inv := range invs {
			if inv.Status != model.InvocationStarted && inv.BilledDurationNs > 0 {
				done++
			}
		}
		if err == nil && done >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %d of %d invocations finished after 45 s (%v)", function, done, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestScenarios injects every fault the detectors know for real — on the
// local serverless cloud, instrumented with the SDK and the extension,
// reporting to a real Ariadne — and checks that a clean run raises no
// issue and the faulty run raises each expected one, with its kind,
// function or channel and cause.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a local cloud")
	}
	srv := startAriadne(t)
	// DynamoDB: Query never answers within the function's timeout; writes
	// succeed.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Query") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Write([]byte("{}"))
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	cloud := startCloud(t, srv.HTTPAddr(), hang.URL)
	s := &scenario{t: t, cloud: cloud, st: srv.Store().(detect.Store),
		sqs: sqs.NewFromConfig(cloud.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(cloud.SQSEndpoint) })}
	apiBase := "http://" + srv.HTTPAddr() + "/api/v1/issues"
	// issues runs the detectors and lists the issues through the API, as
	// the UI and the CLI do.
	// Cold starts are judged over whole periods; the server's period is
	// ten minutes, so a second runner judges periods of 30 s: long enough
	// that the 30 calls below fit in one period on a loaded machine.
	const coldPeriod = 30 * time.Second
	// A period is judged once, when its end is older than the lag: the lag
	// must cover the slowest telemetry of a loaded machine.
	coldRunner := detect.New(s.st, detect.Settings{Lag: 10 * time.Second, Lookback: 2 * time.Minute,
		Detectors: []detect.Detector{detect.ColdStarts(coldPeriod)}})
	issues := func() []store.Issue {
		if _, err := coldRunner.RunOnce(t.Context()); err != nil {
			t.Fatalf("run the cold-start detector: %v", err)
		}
		resp, err := http.Post(apiBase+"/detect", "application/json", nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST detect: %v %v", err, resp)
		}
		resp.Body.Close()
		resp, err = http.Get(apiBase)
		if err != nil {
			t.Fatalf("GET issues: %v", err)
		}
		defer resp.Body.Close()
		var body api.IssuesResponse
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET issues: %v", err)
		}
		var list []store.Issue
		for _, is := range body.Issues {
			out := store.Issue{ID: is.ID, Kind: is.Kind, Title: is.Title, Function: is.Function, Channel: is.Channel,
				Severity: is.Severity, Status: store.IssueStatus(is.Status), Count: is.Count, Explanation: is.Explanation}
			for _, tr := range is.SampleTraces {
				id, _ := model.ParseTraceID(tr)
				out.SampleTraces = append(out.SampleTraces, id)
			}
			list = append(list, out)
		}
		return list
	}

	// The clean run: the same functions and paths, nothing goes wrong.
	start := time.Now()
	s.invoke("checkout", `{"action":"ok","id":"o-1"}`)
	s.invoke("checkout", `{"action":"ok","id":"o-2"}`)
	s.invokeAsync("payments", `{"action":"ok","id":"p-1"}`)
	s.invoke("checkout", `{"action":"enqueue","kind":"ok"}`)
	for range 3 {
		s.invoke("cold", `{"action":"ok"}`)
	}
	s.invoke("orders-v1", `{"action":"order","body":{"orderId":"o-1","amount":42}}`)
	s.invoke("orders-v1", `{"action":"publish","body":{"orderId":"o-1","amount":42}}`)
	if res := s.invoke("checkout", `{"action":"invoke","target":"limited"}`); res.FunctionError != "" {
		t.Fatalf("clean run: checkout could not invoke limited: %s %s", res.Payload, res.LogTail)
	}
	for i := range 3 {
		s.send(fmt.Sprintf(`{"kind":"ok","n":%d}`, i))
	}
	s.waitInvocations("checkout", start, 2)
	s.waitInvocations("payments", start, 1)
	s.waitInvocations("checkout", start, 4)
	s.waitInvocations("limited", start, 1)
	s.waitInvocations("worker", start, 1)
	s.waitInvocations("biller", start, 1)
	time.Sleep(2500 * time.Millisecond) // past the runner's lag
	if list := issues(); len(list) != 0 {
		for _, is := range list {
			t.Errorf("clean run raised %s %q on %s: %s", is.Kind, is.Title, is.Function, is.Explanation)
		}
	}

	// The faults. Cold starts: 6 at once (6 new environments, each 600 ms
	// of initialisation) then 24 warm calls, all within one 30 s period.
	coldDone := make(chan struct{})
	go func() {
		defer close(coldDone)
		now := time.Now()
		time.Sleep(now.Truncate(coldPeriod).Add(coldPeriod).Sub(now) + 100*time.Millisecond)
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = cloud.Lambda.Invoke(context.Background(), lambda.InvokeInput{Function: "cold", Payload: []byte(`{"action":"ok"}`)})
			}()
		}
		wg.Wait()
		for range 24 {
			_, _ = cloud.Lambda.Invoke(context.Background(), lambda.InvokeInput{Function: "cold", Payload: []byte(`{"action":"ok"}`)})
		}
	}()
	t.Cleanup(func() { <-coldDone })
	start = time.Now()
	s.invoke("checkout", `{"action":"enqueue","kind":"poison"}`)
	s.send(`{"kind":"flaky"}`)
	s.send(`{"kind":"charge","id":"o-555"}`)
	s.invoke("orders-v1", `{"action":"order","body":{"orderId":"o-2","amount":42}}`)
	s.invoke("orders-v2", `{"action":"order","body":{"orderId":"o-3","total":42}}`)
	s.invoke("orders-v1", `{"action":"publish","body":{"orderId":"o-4","amount":42}}`)
	s.invoke("orders-v2", `{"action":"publish","body":{"orderId":"o-5","total":42}}`)
	s.invoke("alerts-api", `{"action":"publish","body":{"orderId":"o-6"}}`)
	s.invokeAsync("payments", `{"action":"fail","id":"p-77","code":51}`)
	for i, id := range []string{"o-1001", "o-2002", "o-3003"} {
		s.invoke("checkout", fmt.Sprintf(`{"action":"fail","id":%q,"code":%d}`, id, 4000+i))
	}
	s.invoke("checkout", `{"action":"slow","id":"o-9"}`)
	s.invoke("checkout", `{"action":"hog"}`)
	s.invoke("checkout", `{"action":"crash"}`)
	// limited runs one at a time: while it sleeps, checkout's call is refused.
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		_, _ = cloud.Lambda.Invoke(context.Background(), lambda.InvokeInput{Function: "limited", Payload: []byte(`{"action":"sleep","ms":2000}`)})
	}()
	time.Sleep(500 * time.Millisecond)
	s.invoke("checkout", `{"action":"invoke","target":"limited"}`)
	<-busy

	want := []struct {
		kind, function, channel string
		title                   []string // substrings of the title
	}{
		{detect.KindError, "checkout", "", []string{"card declined", "charge order o-<n>"}},
		{detect.KindError, "payments", "", []string{"card declined"}},
		{detect.KindTimeout, "checkout", "", []string{"timed out waiting on DynamoDB Query"}},
		{detect.KindOOM, "checkout", "", []string{"ran out of memory", "of 128 MB"}},
		{detect.KindCrash, "checkout", "", []string{"crashed"}},
		{detect.KindPartialBatch, "worker", "jobs", []string{"poison input"}},
		{detect.KindRetry, "worker", "jobs", []string{"more than once", "up to 2 receives"}},
		{detect.KindRetry, "payments", "", []string{"retried"}},
		{detect.KindDeadLetter, "worker", "jobs", []string{"dead-lettered to jobs-dlq"}},
		{detect.KindDeadLetter, "alerter", "alerts", []string{"dead-lettered to alerts-dlq", "after alerter failed them"}},
		{detect.KindThrottle, "limited", "", []string{"limited was throttled"}},
		{detect.KindContractDrift, "worker", "jobs", []string{"contract drift on jobs: orders-api 2.0 renamed \"amount\" to \"total\""}},
		{detect.KindContractDrift, "biller", "order-events", []string{"contract drift on order-events: orders-api 2.0 renamed \"amount\" to \"total\""}},
		{detect.KindDuplicateWrite, "worker", "jobs", []string{"worker repeated DynamoDB.PutItem charges when an event was retried"}},
		{detect.KindColdStart, "cold", "", []string{"cold starts dominate cold's p95", "of 30 invocations"}},
		{detect.KindSilentFailure, "checkout", "jobs", []string{"checkout succeeded but worker failed later"}},
	}
	// Up to a period to wait for its start, one for the calls, then the lag.
	deadline := time.Now().Add(100 * time.Second)
	var list []store.Issue
	for {
		list = issues()
		missing := 0
		for _, w := range want {
			if find(list, w.kind, w.function, w.channel, w.title) == nil {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, w := range want {
		is := find(list, w.kind, w.function, w.channel, w.title)
		if is == nil {
			t.Errorf("no %s issue on %s %s with title %q", w.kind, w.function, w.channel, w.title)
			continue
		}
		if is.Status != store.IssueOpen || is.Count < 1 || len(is.SampleTraces) == 0 && w.kind != detect.KindCrash && w.kind != detect.KindOOM || is.Explanation == "" {
			t.Errorf("%s issue %+v: want open, counted, with sample traces and an explanation", w.kind, is)
		}
		t.Logf("%-22s %-9s %-5s ×%d  %s\n    %s", is.Kind, is.Function, is.Channel, is.Count, is.Title, is.Explanation)
	}
	// poison, flaky, charge and the v2 order were each received twice:
	// four redeliveries (the explanation tells the latest window's outcome).
	if is := find(list, detect.KindRetry, "worker", "jobs", nil); is != nil && (is.Count != 4 || !strings.Contains(is.Explanation, "succeeded")) {
		t.Errorf("SQS redeliveries: count %d, %q; want 4 and their outcome", is.Count, is.Explanation)
	}
	if is := find(list, detect.KindDuplicateWrite, "worker", "jobs", nil); is != nil && !strings.Contains(is.Explanation, "in 2 attempts") {
		t.Errorf("the charge ran twice, not %q", is.Explanation)
	}
	if is := find(list, detect.KindError, "checkout", "", []string{"card declined"}); is != nil && is.Count != 3 {
		t.Errorf("three declined orders with different ids and codes: one issue of 3, got %d", is.Count)
	}
	if is := find(list, detect.KindOOM, "checkout", "", nil); is != nil && !strings.Contains(is.Explanation, "not a slow leak") {
		t.Errorf("OOM explanation without the memory trend before it: %q", is.Explanation)
	}
	// The one order dead-lettered through alerts carries two ids (SQS's
	// and SNS's, in the envelope); both lives end in alerts-dlq, and the
	// one delivery must still be one issue of one, on the queue whose
	// redrive moved it.
	var dead []store.Issue
	for _, is := range list {
		if is.Kind == detect.KindDeadLetter && strings.Contains(is.Title, "alerts-dlq") {
			dead = append(dead, is)
		}
	}
	if len(dead) != 1 || dead[0].Channel != "alerts" || dead[0].Count != 1 || !strings.Contains(dead[0].Explanation, "sent by alerts-api") {
		for _, is := range dead {
			t.Logf("dead letter of alerts: %s on %s %q ×%d: %s", is.Title, is.Function, is.Channel, is.Count, is.Explanation)
		}
		t.Errorf("one order dead-lettered through SNS → SQS: %d issues, want one on alerts counted once, sent by alerts-api", len(dead))
	}
	for _, is := range list {
		if is.Kind == detect.KindError && is.Function == "worker" {
			t.Errorf("a partial batch failure also raised an error issue: %q", is.Title)
		}
		// Redeliveries are retries of the queue, not of Lambda's async
		// invoke; a dead-lettered message keeps its source's receive count.
		if is.Kind == detect.KindRetry && (is.Function == "worker" && is.Channel == "" || is.Function == "sink") {
			t.Errorf("retry issue that is none: %s on %s %q: %s", is.Kind, is.Function, is.Channel, is.Title)
		}
	}
}

func find(list []store.Issue, kind, function, channel string, title []string) *store.Issue {
	for i := range list {
		is := &list[i]
		if is.Kind != kind || is.Function != function || is.Channel != channel {
			continue
		}
		ok := true
		for _, w := range title {
			ok = ok && strings.Contains(is.Title, w)
		}
		if ok {
			return is
		}
	}
	return nil
}
