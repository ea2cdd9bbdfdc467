package ariadne

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseTrigger(t *testing.T) {
	tests := []struct {
		file      string
		kind      string
		faas      string
		refs      []string
		links     int
		messages  int
		attrKey   string
		attrValue string
	}{
		{file: "sqs-event.json", kind: TriggerSQS, faas: "pubsub", refs: []string{"sqs:MessageID_1"}, messages: 1,
			attrKey: "messaging.destination.name", attrValue: "SQSQueue"},
		{file: "sns-via-sqs-event.json", kind: TriggerSNSViaSQS, faas: "pubsub", links: 2, messages: 2, refs: []string{
			"sqs:2e1424d4-f796-459a-8184-9c92662be6da", "sns:d0d6b2c4-9e4a-5b8b-9c3e-2b1f8a7f1a11",
			"sqs:3f2535e5-0807-45ab-9295-0da3773cf7eb", "sns:e1e7c3d5-0f5b-5c9c-0d4f-3c2a9b8e2b22"},
			attrKey: "messaging.batch.message_count"},
		{file: "sqs-carrying-s3-and-eventbridge-event.json", kind: TriggerSQS, faas: "pubsub", messages: 2, refs: []string{
			"sqs:c80e8021-a70a-42c7-a470-796e1186f753", "s3:C3D13FE58DE4C810",
			"sqs:d91f9132-b81b-53d8-b581-807f2297e864", "events:7bf73129-1428-4cd3-a780-95db273d1602"},
			attrKey: "messaging.destination.name", attrValue: "uploads"},
		{file: "sns-event.json", kind: TriggerSNS, faas: "pubsub", refs: []string{"sns:95df01b4-ee98-5cb9-9903-4c221d41eb5e"},
			attrKey: "messaging.system", attrValue: "aws_sns"},
		{file: "s3-event.json", kind: TriggerS3, faas: "datasource", refs: []string{"s3:C3D13FE58DE4C810"},
			attrKey: "aws.s3.bucket", attrValue: "sourcebucket"},
		{file: "kinesis-event.json", kind: TriggerKinesis, faas: "pubsub", refs: []string{
			"kinesis:shardId-000000000000:49568167373333333333333333333333333333333333333333333333",
			"kinesis:shardId-000000000000:49568167373333333334444444444444444444444444444444444444"},
			attrKey: "messaging.destination.name", attrValue: "simple-stream"},
		{file: "dynamodb-event.json", kind: TriggerDynamoDB, faas: "datasource", refs: []string{
			// md5 of {"key":{"S":"binary"},"val":{"S":"data"}}, computed outside Go.
			"ddb:Example-Table:d2008adf4fd9f23d09e3c7ddd438c7c5", "ddb:Example-Table:d2008adf4fd9f23d09e3c7ddd438c7c5"},
			attrKey: "aws.dynamodb.table_names", attrValue: "Example-Table"},
		{file: "apigw-request.json", kind: TriggerAPIGateway, faas: "http",
			attrKey: "aws.api_gateway.request_id", attrValue: "deef4878-7910-11e6-8f14-25afc3e9ae33"},
		{file: "apigw-v2-request-no-authorizer.json", kind: TriggerAPIGatewayV2, faas: "http",
			attrKey: "aws.api_gateway.request_id", attrValue: "LV7fzho-PHcEJPw="},
		{file: "alb-lambda-target-request-headers-only.json", kind: TriggerALB, faas: "http",
			attrKey: "http.request.method", attrValue: "GET"},
		{file: "eventbridge-codebuild-state-change.json", kind: TriggerEventBridge, faas: "pubsub",
			refs: []string{"events:c030038d-8c4d-6141-9545-00ff7b7153EX"}, attrKey: "aws.eventbridge.source", attrValue: "aws.codebuild"},
		{file: "schedule-event.json", kind: TriggerSchedule, faas: "timer",
			refs: []string{"events:53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"}, attrKey: "messaging.system", attrValue: "aws_eventbridge"},
		{file: "stepfunctions-event.json", kind: TriggerStepFunctions, faas: "other",
			refs: []string{"sfn:6f1c2b9e-4d3a-4c1b-9a8e-2f7d6c5b4a39:1"}},
		{file: "invoke-event.json", kind: TriggerInvoke, faas: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := ParseTrigger(b)
			if got.Kind != tt.kind || got.FaaS != tt.faas {
				t.Errorf("kind, faas = %q, %q; want %q, %q", got.Kind, got.FaaS, tt.kind, tt.faas)
			}
			if !slices.Equal(got.Refs, tt.refs) {
				t.Errorf("refs = %q\nwant %q", got.Refs, tt.refs)
			}
			if len(got.Links) != tt.links {
				t.Errorf("links = %d, want %d", len(got.Links), tt.links)
			}
			if len(got.Messages) != tt.messages {
				t.Errorf("messages = %d, want %d", len(got.Messages), tt.messages)
			}
			if tt.attrKey != "" {
				v, ok := attr(got.Attrs, tt.attrKey)
				if !ok || (tt.attrValue != "" && v.Emit() != tt.attrValue) {
					t.Errorf("attr %s = %q (present %v), want %q", tt.attrKey, v.Emit(), ok, tt.attrValue)
				}
			}
		})
	}
}

func TestParseTriggerSQSDetails(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "events", "sns-via-sqs-event.json"))
	got := ParseTrigger(b)
	if got.Messages[0].ReceiveCount != 1 || got.Messages[1].ReceiveCount != 3 {
		t.Errorf("receive counts = %d, %d", got.Messages[0].ReceiveCount, got.Messages[1].ReceiveCount)
	}
	// First from the SNS envelope's traceparent, second from AWSTraceHeader.
	if tid := got.Messages[0].Producer.TraceID().String(); tid != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("producer 0 trace = %s", tid)
	}
	if tid := got.Messages[1].Producer.TraceID().String(); tid != "5759e988bd862e3fe1be46a994272793" {
		t.Errorf("producer 1 trace = %s", tid)
	}
	if sid := got.Messages[1].Producer.SpanID().String(); sid != "53995c3f42cd8ad8" {
		t.Errorf("producer 1 span = %s", sid)
	}
}

func TestParseTriggerHTTPParent(t *testing.T) {
	ev := `{"version":"2.0","routeKey":"POST /orders","rawPath":"/orders","headers":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},"requestContext":{"requestId":"r1","http":{"method":"POST","path":"/orders"}}}`
	got := ParseTrigger([]byte(ev))
	if got.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("parent = %v", got.Parent)
	}
	if v, _ := attr(got.Attrs, "http.route"); v.AsString() != "/orders" {
		t.Errorf("route = %q", v.AsString())
	}
}

func FuzzParseTrigger(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := ParseTrigger(b)
		if tr.Kind == "" {
			t.Fatal("empty kind")
		}
	})
}

func TestHeaderValue(t *testing.T) {
	raw := []byte(`{"Host": "api.example.com", "X-Note":"host", "TraceParent" : "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`)
	multi := []byte(`{"user-agent":["curl/8", "other"], "x":["y"]}`)
	for _, tt := range []struct {
		raw        []byte
		name, want string
	}{
		{raw, "host", "api.example.com"},
		{raw, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{raw, "cookie", ""},
		{multi, "User-Agent", "curl/8"},
		{nil, "host", ""},
	} {
		if got := headerValue(tt.raw, tt.name); got != tt.want {
			t.Errorf("%s in %s = %q, want %q", tt.name, tt.raw, got, tt.want)
		}
	}
}
