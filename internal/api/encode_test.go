package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
)

// edgeTrace has every field set, and the values that encoders get wrong:
// repeated keys, HTML characters, invalid UTF-8, control characters,
// non-finite doubles, broken canonical strings, zero ids.
func edgeTrace(name, key string, typ uint8, val string) *model.Trace {
	v := model.Value{Type: model.ValueType(typ), Str: val}
	attrs := model.Attributes{
		{Key: key, Value: v},
		{Key: "html", Value: model.Value{Type: model.TypeString, Str: "<b>&amp;</b>"}},
		{Key: key, Value: model.Value{Type: model.TypeString, Str: "repeat"}},
		{Key: "nan", Value: model.Value{Type: model.TypeDouble, Str: "NaN"}},
		{Key: "bad array", Value: model.Value{Type: model.TypeArray, Str: "[1,"}},
		{Key: "map", Value: model.Value{Type: model.TypeMap, Str: `{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}},{"key":"a","value":{}}]}}`}},
	}
	for i := 0; i < 20; i++ { // a long list takes the map path of repeated()
		attrs = append(attrs, model.Attr{Key: string(rune('a' + i%10)), Value: model.Value{Type: model.TypeInt, Str: "7"}})
	}
	return &model.Trace{
		Spans: []model.Span{{
			TraceID: model.TraceID{0xab, 1}, SpanID: model.SpanID{0xcd, 2}, TraceState: "k=v",
			StartTime: 1<<62 + 1, DurationNs: 3, Name: name, Kind: model.KindConsumer, StatusCode: model.StatusError,
			StatusMessage: "bad\x00\n\"x\"", Service: "svc\u2028", ScopeName: "scope", ScopeVersion: "1",
			Function: "fn", InvocationID: "req", ColdStart: true, Trigger: "sqs", MessagingSystem: "aws_sqs",
			MessagingOperation: "process", Destination: "q", MessageIDs: []string{"m1", "m\xff2"},
			HTTPMethod: "GET", HTTPRoute: "/x", HTTPStatus: -1, DBSystem: "dynamodb", ErrorType: "E",
			ErrorMessage: "boom", RequestPayload: `{"a":1}`, ResponsePayload: "\xfe",
			Attributes: attrs, ResourceAttributes: attrs[:2],
			Events: []model.Event{{Time: 5, Name: "exception", Attributes: attrs[:3]}, {Time: 6}},
			Links:  []model.Link{{TraceID: model.TraceID{1}, SpanID: model.SpanID{2}, TraceState: "t", Attributes: attrs[3:5]}, {}},
		}, {Name: "zero"}},
		Logs: []model.LogRecord{
			{Time: 1, ObservedTime: 2, TraceID: model.TraceID{3}, SpanID: model.SpanID{4}, SeverityNumber: 255,
				SeverityText: "FATAL", Body: v, Service: "s", Function: "f", InvocationID: "i", ScopeName: "sc",
				Attributes: attrs, ResourceAttributes: attrs[:1]},
			{},
		},
		Invocations: []model.Invocation{
			{RequestID: "r", Function: "f", Source: "sdk", Start: 1, DurationNs: 2, BilledDurationNs: 3,
				InitDurationNs: 4, Deadline: 5, MemoryMB: 128, MaxMemoryMB: -1, Status: model.InvocationOOM,
				ErrorType: "OOM", ColdStart: true, Attempt: 3, TraceID: model.TraceID{9}, SpanID: model.SpanID{9}},
			{},
		},
	}
}

// checkSameAsWireTypes fails when appendTrace and encoding/json over the
// wire types disagree on anything a client can decode.
func checkSameAsWireTypes(t *testing.T, tr *model.Trace) {
	t.Helper()
	fast := appendTrace(nil, tr)
	want, err := json.Marshal(toTraceResponse(tr))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(fast) {
		t.Fatalf("appendTrace output is not valid JSON:\n%s", fast)
	}
	decode := func(b []byte) any {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got, want := decode(fast), decode(want); !reflect.DeepEqual(got, want) {
		t.Fatalf("appendTrace differs from the wire types:\n got %s\nwant %s", fast, want)
	}
	// Key order too, which a decoded map does not show: compare the
	// attribute objects' raw bytes through the order-keeping type.
	var a, b TraceResponse
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	for i := range a.Spans {
		if ka, kb := keys(a.Spans[i].Attributes), keys(b.Spans[i].Attributes); !reflect.DeepEqual(ka, kb) {
			t.Fatalf("span %d attribute order %v, want %v", i, ka, kb)
		}
	}
}

func keys(a Attributes) []string {
	var k []string
	for _, kv := range a {
		k = append(k, kv.Key)
	}
	return k
}

func TestAppendTraceMatchesWireTypes(t *testing.T) {
	checkSameAsWireTypes(t, edgeTrace("name", "key", uint8(model.TypeString), "v"))
	checkSameAsWireTypes(t, benchTrace(50))
	checkSameAsWireTypes(t, &model.Trace{})
}

func FuzzAppendTrace(f *testing.F) {
	f.Add("op", "k", uint8(model.TypeArray), `{"arrayValue":{"values":[{"stringValue":"<x>"}]}}`)
	f.Add("\xff", "\u2029", uint8(model.TypeInt), "-0")
	f.Add("", "", uint8(model.TypeMap), `{"kvlistValue":{}}`)
	f.Fuzz(func(t *testing.T, name, key string, typ uint8, val string) {
		checkSameAsWireTypes(t, edgeTrace(name, key, typ, val))
	})
}
