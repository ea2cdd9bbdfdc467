package otlp

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ariadnehq/ariadne/internal/model"
)

var (
	tid1 = pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	tid2 = pcommon.TraceID{0xaa, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xbb}
	sid1 = pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1}
	sid2 = pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2}
	sid3 = pcommon.SpanID{3, 3, 3, 3, 3, 3, 3, 3}
)

const (
	t0 = 1_700_000_000_000_000_000
	t1 = t0 + 250_000_000
)

// oneSpan builds a request with one resource and one span; res and span
// adjust them after sensible defaults are set.
func oneSpan(res func(pcommon.Map), span func(ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	if res != nil {
		res(rs.Resource().Attributes())
	}
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("scope")
	ss.Scope().SetVersion("1.2")
	s := ss.Spans().AppendEmpty()
	s.SetTraceID(tid1)
	s.SetSpanID(sid1)
	s.SetName("op")
	s.SetKind(ptrace.SpanKindInternal)
	s.SetStartTimestamp(t0)
	s.SetEndTimestamp(t1)
	if span != nil {
		span(s)
	}
	return td
}

// normalizeOne normalises td through both decoders, pdata's (JSON, and
// anything already decoded) and the direct protobuf one, and fails unless
// they agree.
func normalizeOne(t *testing.T, td ptrace.Traces) (model.Batch, Rejections) {
	t.Helper()
	var b model.Batch
	rej := NormalizeTraces(td, Limits{}, &b)
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	var wb model.Batch
	wrej, err := DecodeNormalizeTraces(body, EncodingProto, Limits{}, &wb)
	if err != nil {
		t.Fatalf("protobuf path: %v", err)
	}
	if diff := batchDiff(&b, &wb); diff != "" || rej.Total != wrej.Total {
		t.Fatalf("pdata and protobuf paths disagree (rejected %d vs %d): %s", rej.Total, wrej.Total, diff)
	}
	return b, rej
}

// batchDiff describes the first difference between two batches, "" if none.
func batchDiff(a, b *model.Batch) string {
	if len(a.Spans) != len(b.Spans) {
		return fmt.Sprintf("%d spans vs %d", len(a.Spans), len(b.Spans))
	}
	for i := range a.Spans {
		if !reflect.DeepEqual(a.Spans[i], b.Spans[i]) {
			return fmt.Sprintf("span %d:\n%+v\nvs\n%+v", i, a.Spans[i], b.Spans[i])
		}
	}
	if !reflect.DeepEqual(a.MessageRefs, b.MessageRefs) {
		return fmt.Sprintf("refs %+v vs %+v", a.MessageRefs, b.MessageRefs)
	}
	if !reflect.DeepEqual(a.Invocations, b.Invocations) {
		return fmt.Sprintf("invocations %+v vs %+v", a.Invocations, b.Invocations)
	}
	return ""
}

func TestNormalizeSpanFields(t *testing.T) {
	td := oneSpan(nil, func(s ptrace.Span) {
		s.SetParentSpanID(sid2)
		s.TraceState().FromRaw("k=v")
		s.SetFlags(1)
		s.SetKind(ptrace.SpanKindServer)
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage("boom")
		s.Attributes().PutStr("a", "b")
		s.Attributes().PutInt("n", 5)
		ev := s.Events().AppendEmpty()
		ev.SetName("note")
		ev.SetTimestamp(t0 + 1)
		ev.Attributes().PutBool("x", true)
		lk := s.Links().AppendEmpty()
		lk.SetTraceID(tid2)
		lk.SetSpanID(sid3)
		lk.TraceState().FromRaw("l=1")
		lk.Attributes().PutStr("why", "batch")
	})
	b, rej := normalizeOne(t, td)
	if rej.Total != 0 {
		t.Fatalf("rejected: %s", rej.Message("spans"))
	}
	if len(b.Spans) != 1 {
		t.Fatalf("got %d spans", len(b.Spans))
	}
	got := b.Spans[0]
	want := model.Span{
		TraceID: model.TraceID(tid1), SpanID: model.SpanID(sid1), ParentSpanID: model.SpanID(sid2),
		TraceState: "k=v", Flags: 1, StartTime: t0, DurationNs: t1 - t0, Name: "op",
		Kind: model.KindServer, StatusCode: model.StatusError, StatusMessage: "boom",
		Service: "checkout", ScopeName: "scope", ScopeVersion: "1.2",
		ErrorMessage: "boom",
		Attributes: model.Attributes{
			{Key: "a", Value: model.Value{Type: model.TypeString, Str: "b"}},
			{Key: "n", Value: model.Value{Type: model.TypeInt, Str: "5"}},
		},
		ResourceAttributes: model.Attributes{{Key: "service.name", Value: model.Value{Type: model.TypeString, Str: "checkout"}}},
		Events:             []model.Event{{Time: t0 + 1, Name: "note", Attributes: model.Attributes{{Key: "x", Value: model.Value{Type: model.TypeBool, Str: "true"}}}}},
		Links: []model.Link{{TraceID: model.TraceID(tid2), SpanID: model.SpanID(sid3), TraceState: "l=1",
			Attributes: model.Attributes{{Key: "why", Value: model.Value{Type: model.TypeString, Str: "batch"}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("span:\n got %+v\nwant %+v", got, want)
	}
}

func str(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }

// TestNormalizeDerivedColumns checks one derived column per convention,
// the newer semantic-convention key winning over the older one.
func TestNormalizeDerivedColumns(t *testing.T) {
	tests := []struct {
		name  string
		res   func(pcommon.Map)
		span  func(ptrace.Span)
		check func(t *testing.T, s model.Span)
	}{
		{"default service", func(m pcommon.Map) { m.Remove("service.name") }, nil,
			func(t *testing.T, s model.Span) { eq(t, s.Service, "unknown_service") }},
		{"function from resource faas.name", func(m pcommon.Map) {
			m.PutStr("faas.name", "orders-fn")
			m.PutStr("cloud.resource_id", "arn:aws:lambda:eu-west-1:123:function:other")
		}, nil, func(t *testing.T, s model.Span) { eq(t, s.Function, "orders-fn") }},
		{"function from resource ARN", func(m pcommon.Map) {
			m.PutStr("cloud.resource_id", "arn:aws:lambda:eu-west-1:123456789012:function:orders-fn:prod")
		}, nil, func(t *testing.T, s model.Span) { eq(t, s.Function, "orders-fn") }},
		{"function from the invoked ARN", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("aws.lambda.invoked_arn", "arn:aws:lambda:eu-west-1:123:function:billing:live")
		}, func(t *testing.T, s model.Span) { eq(t, s.Function, "billing") }},
		{"function from span faas.name", func(m pcommon.Map) { m.PutStr("faas.name", "res-fn") },
			func(s ptrace.Span) { s.Attributes().PutStr("faas.name", "span-fn") },
			func(t *testing.T, s model.Span) { eq(t, s.Function, "span-fn") }},
		{"faas invocation and coldstart", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("faas.invocation_id", "req-1")
			s.Attributes().PutBool("faas.coldstart", true)
		}, func(t *testing.T, s model.Span) {
			eq(t, s.InvocationID, "req-1")
			if !s.ColdStart {
				t.Error("ColdStart = false")
			}
		}},
		{"ariadne.trigger wins over faas.trigger", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("faas.trigger", "pubsub")
			s.Attributes().PutStr("ariadne.trigger", "sqs")
		}, func(t *testing.T, s model.Span) { eq(t, s.Trigger, "sqs") }},
		{"faas.trigger alone", nil, func(s ptrace.Span) { s.Attributes().PutStr("faas.trigger", "http") },
			func(t *testing.T, s model.Span) { eq(t, s.Trigger, "http") }},
		{"messaging new keys", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("messaging.system", "aws_sqs")
			s.Attributes().PutStr("messaging.operation", "old")
			s.Attributes().PutStr("messaging.operation.type", "publish")
			s.Attributes().PutStr("messaging.destination.name", "orders")
		}, func(t *testing.T, s model.Span) {
			eq(t, s.MessagingSystem, "aws_sqs")
			eq(t, s.MessagingOperation, "publish")
			eq(t, s.Destination, "orders")
		}},
		{"messaging old keys", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("messaging.operation", "receive")
			s.Attributes().PutStr("messaging.destination", "q")
		}, func(t *testing.T, s model.Span) {
			eq(t, s.MessagingOperation, "receive")
			eq(t, s.Destination, "q")
		}},
		{"http new keys", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("http.method", "PUT")
			s.Attributes().PutStr("http.request.method", "GET")
			s.Attributes().PutStr("http.route", "/orders/{id}")
			s.Attributes().PutInt("http.status_code", 500)
			s.Attributes().PutInt("http.response.status_code", 404)
		}, func(t *testing.T, s model.Span) {
			eq(t, s.HTTPMethod, "GET")
			eq(t, s.HTTPRoute, "/orders/{id}")
			if s.HTTPStatus != 404 {
				t.Errorf("HTTPStatus = %d, want 404", s.HTTPStatus)
			}
		}},
		{"http old keys, status as string", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("http.method", "POST")
			s.Attributes().PutStr("http.status_code", "201")
		}, func(t *testing.T, s model.Span) {
			eq(t, s.HTTPMethod, "POST")
			if s.HTTPStatus != 201 {
				t.Errorf("HTTPStatus = %d, want 201", s.HTTPStatus)
			}
		}},
		{"db system new and old", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("db.system", "dynamodb")
			s.Attributes().PutStr("db.system.name", "aws.dynamodb")
		}, func(t *testing.T, s model.Span) { eq(t, s.DBSystem, "aws.dynamodb") }},
		{"db system old", nil, func(s ptrace.Span) { s.Attributes().PutStr("db.system", "postgresql") },
			func(t *testing.T, s model.Span) { eq(t, s.DBSystem, "postgresql") }},
		{"exception event", nil, func(s ptrace.Span) {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("status text")
			for i, typ := range []string{"First", "ValueError"} {
				ev := s.Events().AppendEmpty()
				ev.SetName("exception")
				ev.Attributes().PutStr("exception.type", typ)
				ev.Attributes().PutStr("exception.message", "bad value "+string(rune('0'+i)))
			}
		}, func(t *testing.T, s model.Span) {
			eq(t, s.ErrorType, "ValueError")
			eq(t, s.ErrorMessage, "bad value 1")
		}},
		{"error from status and error.type", nil, func(s ptrace.Span) {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("timeout talking to db")
			s.Attributes().PutStr("error.type", "DeadlineExceeded")
		}, func(t *testing.T, s model.Span) {
			eq(t, s.ErrorType, "DeadlineExceeded")
			eq(t, s.ErrorMessage, "timeout talking to db")
		}},
		{"no error on ok span", nil, func(s ptrace.Span) { s.Status().SetMessage("fine") },
			func(t *testing.T, s model.Span) { eq(t, s.ErrorType, ""); eq(t, s.ErrorMessage, "") }},
		{"payloads move to columns", nil, func(s ptrace.Span) {
			s.Attributes().PutStr("ariadne.request.payload", `{"order":1}`)
			s.Attributes().PutStr("keep", "me")
			s.Attributes().PutStr("ariadne.response.payload", `{"ok":true}`)
		}, func(t *testing.T, s model.Span) {
			eq(t, s.RequestPayload, `{"order":1}`)
			eq(t, s.ResponsePayload, `{"ok":true}`)
			if !reflect.DeepEqual(s.Attributes, model.Attributes{{Key: "keep", Value: str("me")}}) {
				t.Errorf("Attributes = %v, want only keep", s.Attributes)
			}
		}},
		{"bad kind and status codes", nil, func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKind(42))
			s.Status().SetCode(ptrace.StatusCode(9))
		}, func(t *testing.T, s model.Span) {
			if s.Kind != model.KindUnspecified || s.StatusCode != model.StatusUnset {
				t.Errorf("kind %v status %v, want unspecified/unset", s.Kind, s.StatusCode)
			}
		}},
		{"end before start", nil, func(s ptrace.Span) { s.SetEndTimestamp(t0 - 5) },
			func(t *testing.T, s model.Span) {
				if s.DurationNs != 0 {
					t.Errorf("DurationNs = %d, want 0", s.DurationNs)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, rej := normalizeOne(t, oneSpan(tt.res, tt.span))
			if rej.Total != 0 || len(b.Spans) != 1 {
				t.Fatalf("got %d spans, rejections %q", len(b.Spans), rej.Message("spans"))
			}
			tt.check(t, b.Spans[0])
		})
	}
}

func eq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func putStrings(m pcommon.Map, k string, vals ...string) {
	s := m.PutEmptySlice(k)
	for _, v := range vals {
		s.AppendEmpty().SetStr(v)
	}
}

func TestNormalizeMessageRefs(t *testing.T) {
	T1, S1 := model.TraceID(tid1), model.SpanID(sid1)
	T2, S3 := model.TraceID(tid2), model.SpanID(sid3)
	const linkKey = "link:aa02030405060708090a0b0c0d0e0fbb:0303030303030303"
	tests := []struct {
		name    string
		span    func(ptrace.Span)
		wantRef []model.MessageRef
		wantIDs []string
	}{
		{"ariadne refs, every id of a batch", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("messaging.destination.name", "orders")
			putStrings(s.Attributes(), "ariadne.refs.producer", "sqs:m1", "sqs:m2", "sqs:m1")
			putStrings(s.Attributes(), "ariadne.refs.consumer", "s3:req-9")
		}, []model.MessageRef{
			{Key: "sqs:m1", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1, Destination: "orders"},
			{Key: "sqs:m2", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1, Destination: "orders"},
			{Key: "s3:req-9", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0, Destination: "orders"},
		}, []string{"m1", "m2", "req-9"}},
		{"ariadne refs as a single string", func(s ptrace.Span) {
			s.Attributes().PutStr("ariadne.refs.consumer", "kinesis:shard-1:4955")
		}, []model.MessageRef{
			{Key: "kinesis:shard-1:4955", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, []string{"shard-1:4955"}},
		{"messaging.message.id on a producer span", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindProducer)
			s.Attributes().PutStr("messaging.system", "aws_sqs")
			s.Attributes().PutStr("messaging.message.id", "abc")
			s.Attributes().PutStr("messaging.destination.name", "q1")
		}, []model.MessageRef{
			{Key: "sqs:abc", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1, Destination: "q1"},
		}, []string{"abc"}},
		{"messaging.message.id on a consumer span, SNS", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindConsumer)
			s.Attributes().PutStr("messaging.system", "aws_sns")
			s.Attributes().PutStr("messaging.message.id", "n-1")
		}, []model.MessageRef{
			{Key: "sns:n-1", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, []string{"n-1"}},
		{"messaging.message.id on a server span, other system", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindServer)
			s.Attributes().PutStr("messaging.system", "kafka")
			s.Attributes().PutStr("messaging.message.id", "k-7")
		}, []model.MessageRef{
			{Key: "kafka:k-7", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, []string{"k-7"}},
		{"messaging.message.id on an internal span by operation type", func(s ptrace.Span) {
			s.Attributes().PutStr("messaging.system", "rabbitmq")
			s.Attributes().PutStr("messaging.operation.type", "process")
			s.Attributes().PutStr("messaging.message.id", "r-1")
		}, []model.MessageRef{
			{Key: "rabbitmq:r-1", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, []string{"r-1"}},
		{"messaging.message.id without a side keeps the id only", func(s ptrace.Span) {
			s.Attributes().PutStr("messaging.message.id", "x-1")
		}, nil, []string{"x-1"}},
		{"message id and the same ariadne ref give one row", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindProducer)
			s.Attributes().PutStr("messaging.system", "aws_sqs")
			s.Attributes().PutStr("messaging.message.id", "abc")
			putStrings(s.Attributes(), "ariadne.refs.producer", "sqs:abc")
		}, []model.MessageRef{
			{Key: "sqs:abc", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1},
		}, []string{"abc"}},
		{"OTel aws-sdk-go-v2 Lambda invoke: the request id", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("rpc.method", "Lambda/Invoke")
			s.Attributes().PutStr("aws.request_id", "req-77")
		}, []model.MessageRef{
			{Key: "lambda:req-77", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1},
		}, []string{"req-77"}},
		{"OTel aws-sdk-go-v2 S3 PutObject, older rpc.service form; bucket as destination", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("rpc.service", "S3")
			s.Attributes().PutStr("rpc.method", "PutObject")
			s.Attributes().PutStr("aws.request_id", "C3D13FE58DE4C810")
			s.Attributes().PutStr("aws.s3.bucket", "invoices")
		}, []model.MessageRef{
			{Key: "s3:C3D13FE58DE4C810", Role: model.RoleProducer, TraceID: T1, SpanID: S1, Time: t1, Destination: "invoices"},
		}, []string{"C3D13FE58DE4C810"}},
		{"other AWS calls give no key", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("rpc.method", "DynamoDB/GetItem")
			s.Attributes().PutStr("aws.request_id", "req-78")
		}, nil, nil},
		{"invocation span: the callee side of a Lambda invoke", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindServer)
			s.Attributes().PutStr("faas.invocation_id", "req-79")
		}, []model.MessageRef{
			{Key: "lambda:req-79", Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, []string{"req-79"}},
		{"span link gives producer and consumer rows", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindConsumer)
			lk := s.Links().AppendEmpty()
			lk.SetTraceID(tid2)
			lk.SetSpanID(sid3)
			s.Links().AppendEmpty() // zero ids: no refs
		}, []model.MessageRef{
			{Key: linkKey, Role: model.RoleProducer, TraceID: T2, SpanID: S3, Time: t0},
			{Key: linkKey, Role: model.RoleConsumer, TraceID: T1, SpanID: S1, Time: t0},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, rej := normalizeOne(t, oneSpan(nil, tt.span))
			if rej.Total != 0 {
				t.Fatal(rej.Message("spans"))
			}
			if !reflect.DeepEqual(b.MessageRefs, tt.wantRef) {
				t.Errorf("refs:\n got %+v\nwant %+v", b.MessageRefs, tt.wantRef)
			}
			if !reflect.DeepEqual(b.Spans[0].MessageIDs, tt.wantIDs) {
				t.Errorf("MessageIDs = %q, want %q", b.Spans[0].MessageIDs, tt.wantIDs)
			}
		})
	}
}

func TestNormalizeManyRefsStayLinear(t *testing.T) {
	var keys []string
	for i := 0; i < 2000; i++ {
		keys = append(keys, "sqs:m"+strconv.Itoa(i))
	}
	b, _ := normalizeOne(t, oneSpan(nil, func(s ptrace.Span) {
		putStrings(s.Attributes(), "ariadne.refs.producer", append(keys, keys...)...)
	}))
	if len(b.Spans) != 1 || len(b.MessageRefs) != 2000 || len(b.Spans[0].MessageIDs) != 2000 {
		t.Fatalf("got %d spans, %d refs; want 1 span, 2000 refs", len(b.Spans), len(b.MessageRefs))
	}
}

func TestNormalizeInvocations(t *testing.T) {
	T1, S1 := model.TraceID(tid1), model.SpanID(sid1)
	fnRes := func(m pcommon.Map) {
		m.PutStr("faas.name", "orders-fn")
		m.PutInt("faas.max_memory", 512<<20)
	}
	tests := []struct {
		name string
		span func(ptrace.Span)
		want []model.Invocation
	}{
		{"server span ok", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindServer)
			s.Attributes().PutStr("faas.invocation_id", "req-1")
			s.Attributes().PutBool("faas.coldstart", true)
			s.Attributes().PutInt("ariadne.attempt", 2)
		}, []model.Invocation{{RequestID: "req-1", Function: "orders-fn", Source: "sdk", Start: t0, DurationNs: t1 - t0,
			MemoryMB: 512, Status: model.InvocationOK, ColdStart: true, Attempt: 2, TraceID: T1, SpanID: S1}}},
		{"consumer span with faas.trigger, error", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindConsumer)
			s.Attributes().PutStr("faas.invocation_id", "req-2")
			s.Attributes().PutStr("faas.trigger", "pubsub")
			s.Attributes().PutInt("ariadne.memory_limit_mb", 128)
			s.Status().SetCode(ptrace.StatusCodeError)
			ev := s.Events().AppendEmpty()
			ev.SetName("exception")
			ev.Attributes().PutStr("exception.type", "KeyError")
		}, []model.Invocation{{RequestID: "req-2", Function: "orders-fn", Source: "sdk", Start: t0, DurationNs: t1 - t0,
			MemoryMB: 128, Status: model.InvocationError, ErrorType: "KeyError", TraceID: T1, SpanID: S1}}},
		{"timeout", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindServer)
			s.Attributes().PutStr("faas.invocation_id", "req-3")
			s.Attributes().PutBool("ariadne.timeout", true)
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("timing out")
		}, []model.Invocation{{RequestID: "req-3", Function: "orders-fn", Source: "sdk", Start: t0, DurationNs: t1 - t0,
			MemoryMB: 512, Status: model.InvocationTimeout, TraceID: T1, SpanID: S1}}},
		{"start marker", func(s ptrace.Span) {
			s.SetName("ariadne.invocation.start")
			s.SetEndTimestamp(t0)
			s.Attributes().PutStr("ariadne.marker", "start")
			s.Attributes().PutStr("faas.invocation_id", "req-4")
			s.Attributes().PutInt("ariadne.deadline", t0+3_000_000_000)
			s.Attributes().PutBool("faas.coldstart", true)
		}, []model.Invocation{{RequestID: "req-4", Function: "orders-fn", Source: "sdk-start", Start: t0,
			Deadline: t0 + 3_000_000_000, MemoryMB: 512, Status: model.InvocationStarted, ColdStart: true, TraceID: T1, SpanID: S1}}},
		{"child client span with the invocation id", func(s ptrace.Span) {
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("faas.invocation_id", "req-5")
		}, nil},
		{"server span without invocation id", func(s ptrace.Span) { s.SetKind(ptrace.SpanKindServer) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, rej := normalizeOne(t, oneSpan(fnRes, tt.span))
			if rej.Total != 0 {
				t.Fatal(rej.Message("spans"))
			}
			if !reflect.DeepEqual(b.Invocations, tt.want) {
				t.Errorf("invocations:\n got %+v\nwant %+v", b.Invocations, tt.want)
			}
		})
	}
}

func TestNormalizeRejectsSpansIndividually(t *testing.T) {
	deep := func(m pcommon.Map) {
		v := m.PutEmpty("deep")
		for i := 0; i < 40; i++ {
			v = v.SetEmptySlice().AppendEmpty()
		}
		v.SetStr("leaf")
	}
	tests := []struct {
		name   string
		span   func(ptrace.Span)
		reason Reason
	}{
		{"zero trace id", func(s ptrace.Span) { s.SetTraceID(pcommon.TraceID{}) }, ReasonInvalidID},
		{"zero span id", func(s ptrace.Span) { s.SetSpanID(pcommon.SpanID{}) }, ReasonInvalidID},
		{"too many attributes", func(s ptrace.Span) {
			for i := 0; i < 1001; i++ {
				s.Attributes().PutInt("k"+strconv.Itoa(i), int64(i))
			}
		}, ReasonTooManyAttributes},
		{"value too long", func(s ptrace.Span) { s.Attributes().PutStr("big", strings.Repeat("x", 256<<10+1)) }, ReasonValueTooLong},
		{"key too long", func(s ptrace.Span) { s.Attributes().PutStr(strings.Repeat("k", 1025), "v") }, ReasonValueTooLong},
		{"name too long", func(s ptrace.Span) { s.SetName(strings.Repeat("n", 256<<10+1)) }, ReasonValueTooLong},
		{"too deep", func(s ptrace.Span) { deep(s.Attributes()) }, ReasonTooDeep},
		{"too deep in an event", func(s ptrace.Span) { deep(s.Events().AppendEmpty().Attributes()) }, ReasonTooDeep},
		{"too many events", func(s ptrace.Span) {
			for i := 0; i < 1001; i++ {
				s.Events().AppendEmpty().SetName("e")
			}
		}, ReasonTooManyEvents},
		{"too many links", func(s ptrace.Span) {
			for i := 0; i < 1001; i++ {
				s.Links().AppendEmpty()
			}
		}, ReasonTooManyLinks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := oneSpan(nil, func(s ptrace.Span) {
				s.Attributes().PutStr("faas.invocation_id", "r")
				s.SetKind(ptrace.SpanKindServer)
				putStrings(s.Attributes(), "ariadne.refs.producer", "sqs:1")
				tt.span(s)
			})
			// A good span after the bad one must survive.
			good := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
			good.SetTraceID(tid2)
			good.SetSpanID(sid2)
			good.Attributes().PutStr("ok", "yes")
			b, rej := normalizeOne(t, td)
			if rej.Total != 1 || rej.ByReason[tt.reason] != 1 {
				t.Fatalf("rejections %+v, want one %s", rej, tt.reason)
			}
			if len(b.Spans) != 1 || b.Spans[0].SpanID != model.SpanID(sid2) {
				t.Fatalf("kept %d spans, want only the good one", len(b.Spans))
			}
			if !reflect.DeepEqual(b.Spans[0].Attributes, model.Attributes{{Key: "ok", Value: str("yes")}}) {
				t.Fatalf("good span attributes = %v", b.Spans[0].Attributes)
			}
			if len(b.Invocations) != 0 || len(b.MessageRefs) != 0 {
				t.Fatalf("refused span left %d invocations, %d refs", len(b.Invocations), len(b.MessageRefs))
			}
			msg := rej.Message("spans")
			if !strings.HasPrefix(msg, "rejected 1 spans ("+tt.reason.String()+": 1); first: ") || len(msg) > 400 {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

func TestNormalizeResourceOverLimitRejectsItsSpans(t *testing.T) {
	td := oneSpan(func(m pcommon.Map) {
		for i := 0; i < 1001; i++ {
			m.PutInt("r"+strconv.Itoa(i), 1)
		}
	}, nil)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty().SetName("second")
	ok := td.ResourceSpans().AppendEmpty()
	s := ok.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(tid1)
	s.SetSpanID(sid3)
	b, rej := normalizeOne(t, td)
	if rej.Total != 2 || rej.ByReason[ReasonTooManyAttributes] != 2 || len(b.Spans) != 1 {
		t.Fatalf("rejections %+v, %d spans kept; want 2 rejected, 1 kept", rej, len(b.Spans))
	}
}

func TestNormalizeLogs(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "orders")
	rl.Resource().Attributes().PutStr("cloud.resource_id", "arn:aws:lambda:us-east-1:1:function:orders-fn")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("lambda")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(t1)
	lr.SetTraceID(tid1)
	lr.SetSpanID(sid1)
	lr.SetFlags(1)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.Body().SetStr("disk almost full")
	lr.Attributes().PutStr("faas.invocation_id", "req-1")
	lr.Attributes().PutStr("ariadne.source", "lambda")
	second := sl.LogRecords().AppendEmpty()
	second.SetTimestamp(t0)
	second.Body().SetEmptyMap().PutInt("n", 1)
	second.Attributes().PutStr("faas.name", "explicit-fn")
	bad := sl.LogRecords().AppendEmpty()
	bad.Body().SetStr(strings.Repeat("x", 256<<10+1))

	b, rej := normalizeLogsBoth(t, ld)
	if rej.Total != 1 || rej.ByReason[ReasonValueTooLong] != 1 {
		t.Fatalf("rejections %+v", rej)
	}
	if len(b.Logs) != 2 {
		t.Fatalf("got %d logs", len(b.Logs))
	}
	want := model.LogRecord{
		Time: t1, ObservedTime: t1, TraceID: model.TraceID(tid1), SpanID: model.SpanID(sid1), Flags: 1,
		SeverityNumber: 13, SeverityText: "WARN", Body: str("disk almost full"),
		Service: "orders", Function: "orders-fn", InvocationID: "req-1", ScopeName: "lambda",
		Attributes:         model.Attributes{{Key: "faas.invocation_id", Value: str("req-1")}, {Key: "ariadne.source", Value: str("lambda")}},
		ResourceAttributes: model.Attributes{{Key: "service.name", Value: str("orders")}, {Key: "cloud.resource_id", Value: str("arn:aws:lambda:us-east-1:1:function:orders-fn")}},
	}
	if !reflect.DeepEqual(b.Logs[0], want) {
		t.Errorf("log:\n got %+v\nwant %+v", b.Logs[0], want)
	}
	if b.Logs[1].Time != t0 || b.Logs[1].Function != "explicit-fn" || b.Logs[1].Body.Type != model.TypeMap {
		t.Errorf("second log = %+v", b.Logs[1])
	}
}

func TestFunctionFromResourceID(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:lambda:eu-west-1:123:function:fn":         "fn",
		"arn:aws:lambda:eu-west-1:123:function:fn:$LATEST": "fn",
		"arn:aws:s3:::bucket":                              "arn:aws:s3:::bucket",
		"/subscriptions/x/functions/y":                     "/subscriptions/x/functions/y",
	} {
		if got := functionFromResourceID(in); got != want {
			t.Errorf("functionFromResourceID(%q) = %q, want %q", in, got, want)
		}
	}
}

// normalizeLogsBoth is normalizeOne for logs.
func normalizeLogsBoth(t *testing.T, ld plog.Logs) (model.Batch, Rejections) {
	t.Helper()
	var b model.Batch
	rej := NormalizeLogs(ld, Limits{}, &b)
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	var wb model.Batch
	wrej, err := DecodeNormalizeLogs(body, EncodingProto, Limits{}, &wb)
	if err != nil {
		t.Fatalf("protobuf path: %v", err)
	}
	if !reflect.DeepEqual(b.Logs, wb.Logs) || rej.Total != wrej.Total {
		t.Fatalf("pdata and protobuf paths disagree (rejected %d vs %d):\n%+v\nvs\n%+v", rej.Total, wrej.Total, b.Logs, wb.Logs)
	}
	return b, rej
}

func TestNormalizeLogsLimits(t *testing.T) {
	tests := []struct {
		name   string
		build  func(plog.LogRecord)
		reason Reason
	}{
		{"too many attributes", func(l plog.LogRecord) {
			for i := 0; i < 1001; i++ {
				l.Attributes().PutInt("k"+strconv.Itoa(i), 1)
			}
		}, ReasonTooManyAttributes},
		{"body too deep", func(l plog.LogRecord) {
			v := l.Body()
			for i := 0; i < 40; i++ {
				v = v.SetEmptyMap().PutEmpty("k")
			}
		}, ReasonTooDeep},
		{"severity text too long", func(l plog.LogRecord) { l.SetSeverityText(strings.Repeat("E", 256<<10+1)) }, ReasonValueTooLong},
		{"attribute too long", func(l plog.LogRecord) { l.Attributes().PutStr("x", strings.Repeat("x", 256<<10+1)) }, ReasonValueTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := plog.NewLogs()
			lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			tt.build(lrs.AppendEmpty())
			lrs.AppendEmpty().Body().SetStr("fine")
			b, rej := normalizeLogsBoth(t, ld)
			if rej.Total != 1 || rej.ByReason[tt.reason] != 1 || len(b.Logs) != 1 || b.Logs[0].Body.Str != "fine" {
				t.Fatalf("rejections %+v, kept %+v", rej, b.Logs)
			}
		})
	}
}
