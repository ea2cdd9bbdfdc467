package correlate_test

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/ingest/otlp"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// harness is the whole path a hop takes in production, in one process:
// functions wrapped by the Ariadne SDK (or plain OpenTelemetry) export
// OTLP/HTTP to a real receiver, which writes to a real DuckDB store in a
// temporary directory; AWS answers from a fake speaking each service's wire
// protocol with realistic ids.
type harness struct {
	eng     *duckdb.Engine
	otlpURL string
	aws     *fakeAWS
	awsURL  string
	cor     *correlate.Correlator
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	eng, err := duckdb.Open(ctx, duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	recv, err := otlp.NewReceiver(eng, otlp.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	osrv := httptest.NewServer(recv.HTTPHandler())
	t.Cleanup(osrv.Close)
	fake := &fakeAWS{t: t, sfnInputs: map[string]string{}}
	asrv := httptest.NewServer(fake)
	t.Cleanup(asrv.Close)
	return &harness{eng: eng, otlpURL: osrv.URL, aws: fake, awsURL: asrv.URL, cor: correlate.New(eng, correlate.Settings{})}
}

// function is one Lambda function: an SDK instance with the function's
// environment and AWS clients instrumented by it.
type function struct {
	name string
	sdk  *ariadne.SDK
	cfg  aws.Config
}

func (h *harness) function(t testing.TB, name string, opts ...awsv2.Option) *function {
	t.Helper()
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_REGION":                      "us-east-1",
		"ARIADNE_ENDPOINT":                h.otlpURL,
		// The store commits before it acknowledges; on two shared cores a
		// commit can take longer than the SDK's 500 ms production default.
		"ARIADNE_EXPORT_TIMEOUT": "20s",
	}
	s, err := ariadne.New(context.Background(), ariadne.WithGetenv(func(k string) string { return env[k] }), ariadne.WithoutGlobal())
	if err != nil {
		t.Fatalf("new SDK: %v", err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint:     aws.String(h.awsURL),
		RetryMaxAttempts: 1,
	}
	awsv2.Instrument(&cfg, s, opts...)
	return &function{name: name, sdk: s, cfg: cfg}
}

// invoke runs handler as one invocation of f with the raw event and
// returns the trace id of the invocation. The SDK flushes before the
// invocation returns, and the store acknowledges only committed data, so
// the trace is readable at once.
func (f *function) invoke(t testing.TB, reqID string, event string, handler any) (model.TraceID, []byte, error) {
	t.Helper()
	var tid model.TraceID
	wrapped := f.sdk.Wrap(func(ctx context.Context, raw json.RawMessage) (any, error) {
		tid = traceOf(ctx)
		switch h := handler.(type) {
		case func(context.Context, json.RawMessage) (any, error):
			return h(ctx, raw)
		case nil:
			return map[string]any{"ok": true}, nil
		}
		panic(fmt.Sprintf("unsupported handler %T", handler))
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + f.name,
	})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := wrapped.Invoke(ctx, []byte(event))
	if tid.IsZero() {
		t.Fatalf("%s: handler saw no trace", f.name)
	}
	return tid, out, err
}

func traceOf(ctx context.Context) model.TraceID {
	return model.TraceID(trace.SpanContextFromContext(ctx).TraceID())
}

// fakeAWS answers in each service's wire protocol with ids shaped like the
// real ones and remembers them per kind, so a test can build the consumer
// event AWS would deliver for exactly what the producer sent.
type fakeAWS struct {
	t testing.TB

	mu        sync.Mutex
	issued    map[string][]string // kind → ids in order
	sfnInputs map[string]string   // execution ARN → input
	lastSFN   string
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (f *fakeAWS) issue(kind, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.issued == nil {
		f.issued = map[string][]string{}
	}
	f.issued[kind] = append(f.issued[kind], id)
	return id
}

// ids returns the ids issued for kind since the last call and forgets them.
func (f *fakeAWS) take(kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.issued[kind]
	delete(f.issued, kind)
	return out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	reqID := newUUID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	writeJSON := func(ct string, v any) {
		w.Header().Set("Content-Type", ct)
		_ = json.NewEncoder(w).Encode(v)
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	seq := func() string {
		return fmt.Sprintf("4963%046d", time.Now().UnixNano())
	}
	switch {
	case target == "AmazonSQS.SendMessage":
		writeJSON("application/x-amz-json-1.0", map[string]any{
			"MessageId": f.issue("sqs", newUUID()), "MD5OfMessageBody": md5hex(in["MessageBody"].(string)),
		})
	case target == "AmazonSQS.SendMessageBatch":
		var ok []map[string]any
		for _, e := range in["Entries"].([]any) {
			e := e.(map[string]any)
			ok = append(ok, map[string]any{"Id": e["Id"], "MessageId": f.issue("sqs", newUUID()), "MD5OfMessageBody": md5hex(e["MessageBody"].(string))})
		}
		writeJSON("application/x-amz-json-1.0", map[string]any{"Successful": ok, "Failed": []any{}})
	case target == "Kinesis_20131202.PutRecord":
		writeJSON("application/x-amz-json-1.1", map[string]any{"ShardId": "shardId-000000000001",
			"SequenceNumber": f.issue("kinesis", "shardId-000000000001:"+seq())[len("shardId-000000000001:"):]})
	case target == "Kinesis_20131202.PutRecords":
		var recs []map[string]any
		for range in["Records"].([]any) {
			s := seq()
			f.issue("kinesis", "shardId-000000000002:"+s)
			recs = append(recs, map[string]any{"ShardId": "shardId-000000000002", "SequenceNumber": s})
		}
		writeJSON("application/x-amz-json-1.1", map[string]any{"FailedRecordCount": 0, "Records": recs})
	case target == "AWSEvents.PutEvents":
		var ents []map[string]any
		for range in["Entries"].([]any) {
			ents = append(ents, map[string]any{"EventId": f.issue("events", newUUID())})
		}
		writeJSON("application/x-amz-json-1.1", map[string]any{"FailedEntryCount": 0, "Entries": ents})
	case strings.HasPrefix(target, "DynamoDB_20120810."):
		writeJSON("application/x-amz-json-1.0", map[string]any{})
	case target == "AWSStepFunctions.StartExecution":
		arn := "arn:aws:states:us-east-1:000000000000:execution:flow:" + newUUID()
		f.mu.Lock()
		f.sfnInputs[arn], f.lastSFN = in["input"].(string), in["input"].(string)
		f.mu.Unlock()
		writeJSON("application/x-amz-json-1.0", map[string]any{"executionArn": arn, "startDate": 1.7e9})
	case r.Method == http.MethodPost && strings.Contains(string(body), "Action=Publish"):
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		if form.Get("Action") == "PublishBatch" {
			var members strings.Builder
			for i := 1; form.Get(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Id", i)) != ""; i++ {
				fmt.Fprintf(&members, "<member><Id>%s</Id><MessageId>%s</MessageId></member>",
					form.Get(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Id", i)), f.issue("sns", newUUID()))
			}
			fmt.Fprintf(w, `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>%s</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishBatchResponse>`, members.String(), reqID)
			return
		}
		fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`, f.issue("sns", newUUID()), reqID)
	case r.Method == http.MethodPut:
		// S3 request ids are 16 upper-case hex digits.
		id := strings.ToUpper(hex.EncodeToString([]byte(newUUID())[:8]))
		w.Header().Set("X-Amz-Request-Id", f.issue("s3", id))
		w.Header().Set("X-Amz-Id-2", "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD")
		w.Header().Set("ETag", `"`+md5hex(string(body))+`"`)
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"):
		w.Header().Set("X-Amzn-Requestid", f.issue("lambda", reqID))
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	default:
		f.t.Errorf("fake AWS: unexpected request %s %s target=%q body=%.200s", r.Method, r.URL, target, body)
		w.WriteHeader(http.StatusBadRequest)
	}
}

// storeRange is a time range covering everything a test wrote.
func storeRange() store.TimeRange {
	return store.TimeRange{Start: time.Now().Add(-48 * time.Hour).UnixNano(), End: time.Now().Add(time.Hour).UnixNano()}
}
