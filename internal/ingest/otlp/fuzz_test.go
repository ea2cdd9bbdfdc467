package otlp

import (
	"bytes"
	"flag"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ariadnehq/ariadne/internal/ingest/ingesttest"
	"github.com/ariadnehq/ariadne/internal/model"
)

var update = flag.Bool("update", false, "rewrite the seed requests in testdata/")

// seedTraces are the trace requests committed under testdata/ as fuzz seeds
// (protobuf and JSON): every value type, events, links, the SDK's
// attributes and markers, a refused span.
func seedTraces() map[string]ptrace.Traces {
	rich := ptrace.NewTraces()
	rs := rich.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "orders")
	ra.PutStr("faas.name", "orders-fn")
	ra.PutStr("cloud.resource_id", "arn:aws:lambda:eu-west-1:123456789012:function:orders-fn")
	ra.PutInt("faas.max_memory", 512<<20)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("ariadne-sdk")
	ss.Scope().SetVersion("0.1.0")

	root := ss.Spans().AppendEmpty()
	root.SetTraceID(tid1)
	root.SetSpanID(sid1)
	root.SetName("orders-fn")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(t0)
	root.SetEndTimestamp(t1)
	root.TraceState().FromRaw("vendor=1")
	root.SetFlags(1)
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("timing out")
	a := root.Attributes()
	a.PutStr("faas.invocation_id", "0f0e-req")
	a.PutBool("faas.coldstart", true)
	a.PutStr("faas.trigger", "pubsub")
	a.PutStr("ariadne.trigger", "sqs")
	a.PutBool("ariadne.timeout", true)
	a.PutStr("ariadne.request.payload", `{"orderId":"o-1","secret":"[REDACTED]"}`)
	a.PutStr("messaging.system", "aws_sqs")
	a.PutStr("messaging.operation.type", "process")
	a.PutStr("messaging.destination.name", "orders-queue")
	refs := a.PutEmptySlice("ariadne.refs.consumer")
	refs.AppendEmpty().SetStr("sqs:m-1")
	refs.AppendEmpty().SetStr("sqs:m-2")
	a.PutInt("ariadne.attempt", 2)
	a.PutDouble("ratio", 0.25)
	a.PutDouble("nan", math.NaN())
	a.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 0xff})
	m := a.PutEmptyMap("nested")
	m.PutStr("k", "v\n\"q\"")
	m.PutEmptySlice("list").AppendEmpty().SetInt(-1)
	a.PutEmpty("nothing")
	ev := root.Events().AppendEmpty()
	ev.SetName("exception")
	ev.SetTimestamp(t0 + 5)
	ev.Attributes().PutStr("exception.type", "TimeoutError")
	ev.Attributes().PutStr("exception.message", "task timed out")
	inflight := root.Events().AppendEmpty()
	inflight.SetName("ariadne.inflight")
	inflight.Attributes().PutStr("ariadne.inflight.name", "DynamoDB.Query")
	inflight.Attributes().PutInt("ariadne.inflight.elapsed_ns", 900_000_000)
	lk := root.Links().AppendEmpty()
	lk.SetTraceID(tid2)
	lk.SetSpanID(sid3)
	lk.Attributes().PutStr("messaging.message.id", "m-1")

	child := ss.Spans().AppendEmpty()
	child.SetTraceID(tid1)
	child.SetSpanID(sid2)
	child.SetParentSpanID(sid1)
	child.SetName("SQS.SendMessageBatch")
	child.SetKind(ptrace.SpanKindProducer)
	child.SetStartTimestamp(t0 + 10)
	child.SetEndTimestamp(t0 + 20)
	child.Attributes().PutStr("messaging.system", "aws_sqs")
	child.Attributes().PutStr("messaging.message.id", "out-1")
	child.Attributes().PutStr("http.request.method", "POST")
	child.Attributes().PutInt("http.response.status_code", 200)

	marker := ss.Spans().AppendEmpty()
	marker.SetTraceID(tid1)
	marker.SetSpanID(pcommon.SpanID{4, 4, 4, 4, 4, 4, 4, 4})
	marker.SetName("ariadne.invocation.start")
	marker.SetStartTimestamp(t0)
	marker.SetEndTimestamp(t0)
	marker.Attributes().PutStr("ariadne.marker", "start")
	marker.Attributes().PutStr("faas.invocation_id", "0f0e-req")
	marker.Attributes().PutInt("ariadne.deadline", t0+3_000_000_000)

	bad := ss.Spans().AppendEmpty() // zero ids: refused through partial success
	bad.SetName("no ids")

	small := sampleTraces(3)
	return map[string]ptrace.Traces{"traces_rich": rich, "traces_small": small}
}

func seedLogs() map[string]plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "orders")
	rl.Resource().Attributes().PutStr("faas.name", "orders-fn")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("lambda")
	l := sl.LogRecords().AppendEmpty()
	l.SetTimestamp(t0)
	l.SetObservedTimestamp(t1)
	l.SetTraceID(tid1)
	l.SetSpanID(sid1)
	l.SetSeverityNumber(plog.SeverityNumberError)
	l.SetSeverityText("ERROR")
	l.Body().SetStr("Task timed out after 3.00 seconds")
	l.Attributes().PutStr("faas.invocation_id", "0f0e-req")
	l.Attributes().PutStr("ariadne.source", "lambda")
	l2 := sl.LogRecords().AppendEmpty()
	l2.Body().SetEmptyMap().PutEmptySlice("a").AppendEmpty().SetDouble(1.5)
	return map[string]plog.Logs{"logs_rich": ld}
}

// TestSeedsUpToDate keeps testdata/ in step with the seed builders; run
// with -update after changing them.
func TestSeedsUpToDate(t *testing.T) {
	files := map[string][]byte{}
	for name, td := range seedTraces() {
		req := ptraceotlp.NewExportRequestFromTraces(td)
		files[name+".pb"], _ = req.MarshalProto()
		files[name+".json"], _ = req.MarshalJSON()
	}
	for name, ld := range seedLogs() {
		req := plogotlp.NewExportRequestFromLogs(ld)
		files[name+".pb"], _ = req.MarshalProto()
		files[name+".json"], _ = req.MarshalJSON()
	}
	for name, want := range files {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestSeedsUpToDate -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run go test -run TestSeedsUpToDate -update)", path)
		}
	}
}

// seeds returns the testdata files whose names start with prefix and end with ext.
func seeds(f *testing.F, prefix, ext string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", prefix+"*"+ext))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds %s*%s in testdata: %v", prefix, ext, err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzDecodeTracesProto holds the direct protobuf decoder to pdata's. Where
// both accept a body they must give the same batch; where pdata accepts, the
// direct decoder must accept pdata's canonical re-encoding and agree on it.
// (The direct decoder may refuse bodies pdata lets through: pdata skips an
// unterminated deprecated group, for one.)
func FuzzDecodeTracesProto(f *testing.F) {
	for _, s := range seeds(f, "traces", ".pb") {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		var wire model.Batch
		wrej, werr := DecodeNormalizeTraces(body, EncodingProto, Limits{}, &wire)
		td, perr := DecodeTraces(body, EncodingProto)
		if perr != nil {
			return
		}
		var viaPdata model.Batch
		prej := NormalizeTraces(td, Limits{}, &viaPdata)
		if werr == nil {
			if diff := batchDiff(&viaPdata, &wire); diff != "" || prej.Total != wrej.Total {
				t.Fatalf("decoders disagree on the body (rejected %d vs %d): %s", prej.Total, wrej.Total, diff)
			}
		}
		canonical, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		var again model.Batch
		arej, err := DecodeNormalizeTraces(canonical, EncodingProto, Limits{}, &again)
		if err != nil {
			t.Fatalf("direct decoder refuses pdata's re-encoding: %v", err)
		}
		if diff := batchDiff(&viaPdata, &again); diff != "" || prej.Total != arej.Total {
			t.Fatalf("decoders disagree on the re-encoding (rejected %d vs %d): %s", prej.Total, arej.Total, diff)
		}
	})
}

// FuzzDecodeTracesJSON checks the JSON path never panics, and that what it
// accepts normalises the same as its protobuf re-encoding.
func FuzzDecodeTracesJSON(f *testing.F) {
	for _, s := range seeds(f, "traces", ".json") {
		f.Add(s)
	}
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		td, err := DecodeTraces(body, EncodingJSON)
		if err != nil {
			return
		}
		var viaJSON model.Batch
		rej := NormalizeTraces(td, Limits{}, &viaJSON)
		pb, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		var wire model.Batch
		wrej, err := DecodeNormalizeTraces(pb, EncodingProto, Limits{}, &wire)
		if err != nil {
			t.Fatalf("protobuf re-encoding refused: %v", err)
		}
		if diff := batchDiff(&viaJSON, &wire); diff != "" || rej.Total != wrej.Total {
			t.Fatalf("JSON and protobuf disagree (rejected %d vs %d): %s", rej.Total, wrej.Total, diff)
		}
	})
}

// FuzzDecodeLogs runs both log decoders on any body; where pdata accepts
// protobuf, the direct decoder must agree with it on pdata's re-encoding
// (and on the body itself when it accepts it too).
func FuzzDecodeLogs(f *testing.F) {
	for _, s := range seeds(f, "logs", ".pb") {
		f.Add(s, false)
	}
	for _, s := range seeds(f, "logs", ".json") {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		enc := EncodingProto
		if json {
			enc = EncodingJSON
		}
		var direct model.Batch
		drej, derr := DecodeNormalizeLogs(body, enc, Limits{}, &direct)
		ld, err := DecodeLogs(body, enc)
		if err != nil {
			return
		}
		var b model.Batch
		rej := NormalizeLogs(ld, Limits{}, &b)
		if int64(len(b.Logs))+rej.Total != int64(ld.LogRecordCount()) {
			t.Fatalf("%d kept + %d refused != %d received", len(b.Logs), rej.Total, ld.LogRecordCount())
		}
		if derr == nil && (!reflect.DeepEqual(b.Logs, direct.Logs) || rej.Total != drej.Total) {
			t.Fatalf("decoders disagree on the body:\n%+v\nvs\n%+v", b.Logs, direct.Logs)
		}
		canonical, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		var again model.Batch
		arej, err := DecodeNormalizeLogs(canonical, EncodingProto, Limits{}, &again)
		if err != nil {
			t.Fatalf("direct decoder refuses pdata's re-encoding: %v", err)
		}
		if !reflect.DeepEqual(b.Logs, again.Logs) || rej.Total != arej.Total {
			t.Fatalf("decoders disagree on the re-encoding:\n%+v\nvs\n%+v", b.Logs, again.Logs)
		}
	})
}

// FuzzHTTPHandler sends any body with any of the headers a client may use:
// the answer is always one the OTLP specification allows, never a 5xx.
func FuzzHTTPHandler(f *testing.F) {
	for _, s := range seeds(f, "", ".pb") {
		f.Add(s, uint8(0), uint8(0), uint8(0))
	}
	for _, s := range seeds(f, "", ".json") {
		f.Add(s, uint8(1), uint8(1), uint8(0))
	}
	w := &ingesttest.Writer{}
	r, err := NewReceiver(w, Settings{Limits: Limits{MaxHTTPBodyBytes: 1 << 20}})
	if err != nil {
		f.Fatal(err)
	}
	h := r.HTTPHandler()
	paths := []string{PathTraces, PathLogs}
	types := []string{ContentTypeProto, ContentTypeJSON, "text/plain", ""}
	encodings := []string{"", "gzip", "zstd", "deflate", "br"}
	f.Fuzz(func(t *testing.T, body []byte, path, ct, ce uint8) {
		w.Reset()
		req := httptest.NewRequest(http.MethodPost, paths[int(path)%len(paths)], bytes.NewReader(body))
		req.Header.Set("Content-Type", types[int(ct)%len(types)])
		req.Header.Set("Content-Encoding", encodings[int(ce)%len(encodings)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413, 415:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code == 200 && strings.Contains(req.URL.Path, "traces") {
			resp := ptraceotlp.NewExportResponse()
			data, _ := io.ReadAll(rec.Body)
			var err error
			if rec.Header().Get("Content-Type") == ContentTypeJSON {
				err = resp.UnmarshalJSON(data)
			} else {
				err = resp.UnmarshalProto(data)
			}
			if err != nil {
				t.Fatalf("undecodable success response %q: %v", data, err)
			}
		}
	})
}
