package awsv2_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// otlpSink is an OTLP/HTTP receiver that keeps the raw bytes it was sent.
type otlpSink struct {
	mu     sync.Mutex
	bodies map[string][]byte // path -> concatenated bodies
}

func (o *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rd = zr
	}
	b, _ := io.ReadAll(rd)
	o.mu.Lock()
	if o.bodies == nil {
		o.bodies = map[string][]byte{}
	}
	o.bodies[r.URL.Path] = append(o.bodies[r.URL.Path], b...)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (o *otlpSink) all() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []byte
	for _, b := range o.bodies {
		out = append(out, b...)
	}
	return out
}

// Canaries: keyed ones must be caught by key patterns, shaped ones by value
// patterns wherever they appear.
const (
	canaryPassword = "canary-pw-8d1f2c"
	canaryCookie   = "canary-cookie-51ab"
	canaryBearer   = "canarybearertoken0042"
	canaryAPIKey   = "canary-apikey-77e1"
	canarySecret   = "canary-secret-3c9d"
	canaryQuery    = "canary-query-token-9e"
	canaryLogPw    = "canary-log-pw-1a2b"
	canaryBound    = "canary-bound-key-5f"
	canaryJWT      = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5"
	canaryAWSKey   = "AKIACANARY1234567890"
	canaryCard     = "4111 1111 1111 1111"
	canaryDDB      = "canary-ddb-pw-0c0c"
)

var canaries = []string{canaryPassword, canaryCookie, canaryBearer, canaryAPIKey, canarySecret, canaryQuery,
	canaryLogPw, canaryBound, canaryJWT, canaryAWSKey, canaryCard, "4111111111111111", canaryDDB}

func TestCanariesNeverReachTheServer(t *testing.T) {
	sink := &otlpSink{}
	collector := httptest.NewServer(sink)
	defer collector.Close()
	fake := &fakeAWS{t: t}
	awsSrv := httptest.NewServer(fake)
	defer awsSrv.Close()

	env := map[string]string{
		"ARIADNE_ENDPOINT":                collector.URL,
		"ARIADNE_CAPTURE_HTTP_BODIES":     "true",
		"AWS_LAMBDA_FUNCTION_NAME":        "checkout",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
	}
	s, err := ariadne.New(context.Background(), ariadne.WithGetenv(func(k string) string { return env[k] }), ariadne.WithoutGlobal())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint: aws.String(awsSrv.URL), RetryMaxAttempts: 1,
	}
	awsv2.Instrument(&cfg, s)

	// A downstream HTTP service, itself instrumented.
	downstream := httptest.NewServer(s.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = w.Write([]byte(`{"session":"` + canaryCookie + `","ok":true}`))
	})))
	defer downstream.Close()
	client := &http.Client{Transport: s.HTTPTransport(nil)}

	var stdout bytes.Buffer
	log := slog.New(s.SlogHandler(slog.NewJSONHandler(&stdout, nil), slog.LevelInfo)).With("apiKey", canaryBound)

	handler := s.Wrap(func(ctx context.Context, ev map[string]any) (map[string]any, error) {
		log.InfoContext(ctx, "login attempt", "password", canaryLogPw, "user", "ann")
		// Manual spans and logs through the plain OTel APIs are scrubbed at
		// export.
		_, manual := s.Tracer().Start(ctx, "manual")
		manual.SetAttributes(attribute.String("db.password", canaryDDB), attribute.String("note", "key "+canaryAWSKey))
		manual.RecordError(fmt.Errorf("bad token %s", canaryJWT))
		manual.SetStatus(codes.Error, "card "+canaryCard)
		manual.End()
		var rec otellog.Record
		rec.SetBody(attribute.StringValue("raw otel log with " + canaryAWSKey))
		rec.AddAttributes(attribute.String("apiKey", canaryAPIKey))
		s.LoggerProvider().Logger("manual").Emit(ctx, rec)
		log.InfoContext(ctx, "got token "+canaryJWT+" and key "+canaryAWSKey)
		log.WarnContext(ctx, "card "+canaryCard+" declined")
		if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl:    aws.String("https://sqs.us-east-1.amazonaws.com/1/orders"),
			MessageBody: aws.String(`{"order":"o-1","secret":"` + canarySecret + `","card":"` + canaryCard + `"}`),
		}); err != nil {
			return nil, err
		}
		if _, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:1:orders"), Message: aws.String("creds " + canaryAWSKey),
		}); err != nil {
			return nil, err
		}
		if _, err := kinesis.NewFromConfig(cfg).PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("clicks"), PartitionKey: aws.String("p"),
			Data: []byte(`{"click":1,"sessionToken":"` + canarySecret + `","jwt":"` + canaryJWT + `"}`)}); err != nil {
			return nil, err
		}
		if _, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("shop"), DetailType: aws.String("Paid"), Detail: aws.String(`{"card":"` + canaryCard + `","apiKey":"` + canaryAPIKey + `"}`)}}}); err != nil {
			return nil, err
		}
		if _, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("pricing"),
			Payload: []byte(`{"password":"` + canaryPassword + `","awsKey":"` + canaryAWSKey + `"}`)}); err != nil {
			return nil, err
		}
		if _, err := sfn.NewFromConfig(cfg).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:1:stateMachine:f"),
			Input: aws.String(`{"clientSecret":"` + canarySecret + `"}`)}); err != nil {
			return nil, err
		}
		if _, err := ddb.NewFromConfig(cfg).PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("users"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "u1"}, "password": &ddbtypes.AttributeValueMemberS{Value: canaryDDB},
		}}); err != nil {
			return nil, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, downstream.URL+"/charge?token="+canaryQuery,
			strings.NewReader(`{"apiKey":"`+canaryAPIKey+`","amount":3}`))
		req.Header.Set("Authorization", "Bearer "+canaryBearer)
		req.Header.Set("Cookie", "session="+canaryCookie)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return map[string]any{"ok": true, "token": canaryJWT, "password": canaryPassword}, nil
	})
	event := `{"version":"2.0","routeKey":"POST /login","rawPath":"/login","rawQueryString":"token=` + canaryQuery + `",
		"headers":{"authorization":"Bearer ` + canaryBearer + `","cookie":"session=` + canaryCookie + `","x-api-key":"` + canaryAPIKey + `"},
		"requestContext":{"requestId":"r-1","http":{"method":"POST","path":"/login"}},
		"body":"{\"user\":\"ann\",\"password\":\"` + canaryPassword + `\",\"card\":\"` + canaryCard + `\",\"note\":\"` + canaryJWT + `\"}"}`
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-canary"})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := handler.Invoke(ctx, []byte(event)); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	// A failing invocation whose error quotes secrets.
	failing := s.Wrap(func(ctx context.Context) error {
		return fmt.Errorf("charge failed for card %s with key %s and token %s", canaryCard, canaryAWSKey, canaryJWT)
	})
	if _, err := failing.Invoke(ctx, []byte(`{}`)); err == nil {
		t.Fatal("error lost")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	got := sink.all()
	// The receiver really got the telemetry, with its strong IDs...
	for _, want := range []string{"checkout", "ariadne.refs.producer", "sqs:sqs-", "sns:sns-", "kinesis:shardId-", "events:evt-",
		"lambda:lambda-", "sfn:", "login attempt", "charge failed for card", "manual", "raw otel log with", "ariadne.request.payload", "[REDACTED]", "click", "Paid"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("receiver never saw %q (%d bytes)", want, len(got))
		}
	}
	sink.mu.Lock()
	paths := len(sink.bodies)
	sink.mu.Unlock()
	if paths != 2 {
		t.Errorf("expected traces and logs, got %d paths", paths)
	}
	// ... and none of the secrets.
	for _, c := range canaries {
		if bytes.Contains(got, []byte(c)) {
			i := bytes.Index(got, []byte(c))
			lo := max(0, i-80)
			t.Errorf("canary %q leaked: …%q…", c, got[lo:min(len(got), i+len(c)+20)])
		}
		if strings.Contains(stdout.String(), c) {
			t.Errorf("canary %q leaked to the function's stdout log", c)
		}
	}
}
