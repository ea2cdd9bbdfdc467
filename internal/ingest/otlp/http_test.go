package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ariadnehq/ariadne/internal/ingest/ingesttest"
	"github.com/ariadnehq/ariadne/internal/store"
)

type harness struct {
	w   *ingesttest.Writer
	reg *prometheus.Registry
	r   *Receiver
	srv *httptest.Server
}

func newHarness(t testing.TB, lim Limits) *harness {
	t.Helper()
	h := &harness{w: &ingesttest.Writer{}, reg: prometheus.NewRegistry()}
	var err error
	h.r, err = NewReceiver(h.w, Settings{Limits: lim, Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.r.HTTPHandler())
	t.Cleanup(h.srv.Close)
	return h
}

type httpResp struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) post(t testing.TB, path, contentType, encoding string, body []byte) httpResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResp{resp.StatusCode, resp.Header, b}
}

// sampleTraces is a small valid request of n spans in one trace.
func sampleTraces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < n; i++ {
		s := spans.AppendEmpty()
		s.SetTraceID(tid1)
		s.SetSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i) + 1})
		s.SetName("op-" + strconv.Itoa(i))
		s.SetStartTimestamp(t0)
		s.SetEndTimestamp(t1)
		s.Attributes().PutStr("k", "v")
	}
	return td
}

func protoBody(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonBody(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func deflated(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// zeroBomb compresses n zero bytes: a few hundred KiB that inflate to n.
func zeroBomb(t testing.TB, n int, compress func(testing.TB, []byte) []byte) []byte {
	t.Helper()
	return compress(t, make([]byte, n))
}

func decodeStatus(t testing.TB, r httpResp, contentType string) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	if contentType == ContentTypeJSON {
		err = protojson.Unmarshal(r.body, st)
	} else {
		err = proto.Unmarshal(r.body, st)
	}
	if err != nil {
		t.Fatalf("decode google.rpc.Status from %q: %v", r.body, err)
	}
	return st
}

func decodeTraceResponse(t testing.TB, r httpResp) ptraceotlp.ExportResponse {
	t.Helper()
	resp := ptraceotlp.NewExportResponse()
	var err error
	if r.header.Get("Content-Type") == ContentTypeJSON {
		err = resp.UnmarshalJSON(r.body)
	} else {
		err = resp.UnmarshalProto(r.body)
	}
	if err != nil {
		t.Fatalf("decode response %q: %v", r.body, err)
	}
	return resp
}

// nestedJSON is an OTLP/JSON request with one span whose attribute nests
// depth arrays deep.
func nestedJSON(depth int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0101010101010101","name":"deep","attributes":[{"key":"d","value":`)
	for i := 0; i < depth; i++ {
		b.WriteString(`{"arrayValue":{"values":[`)
	}
	b.WriteString(`{"stringValue":"leaf"}`)
	for i := 0; i < depth; i++ {
		b.WriteString(`]}}`)
	}
	b.WriteString(`}]}]}]}]}`)
	return []byte(b.String())
}

// nestedProto is nestedJSON's request in protobuf.
func nestedProto(t testing.TB, depth int) []byte {
	td := sampleTraces(1)
	v := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutEmpty("d")
	for i := 0; i < depth; i++ {
		v = v.SetEmptySlice().AppendEmpty()
	}
	v.SetStr("leaf")
	return protoBody(t, td)
}

func manyAttributes(t testing.TB, n int) []byte {
	td := sampleTraces(2)
	raw := make(map[string]any, n)
	for i := 0; i < n; i++ {
		raw["a"+strconv.Itoa(i)] = int64(i)
	}
	// FromRaw, because Put* checks for an existing key: quadratic at this size.
	if err := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().FromRaw(raw); err != nil {
		t.Fatal(err)
	}
	return protoBody(t, td)
}

// TestHTTPHostileInputs sends each hostile request, checks the status the
// OTLP specification prescribes, and then checks that a good request still
// succeeds.
func TestHTTPHostileInputs(t *testing.T) {
	h := newHarness(t, Limits{})
	good := protoBody(t, sampleTraces(3))
	bombSize := 100 << 20 // five times the limit
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		encoding    string
		body        []byte
		wantStatus  int
		wantCode    codes.Code // of the google.rpc.Status body, when there is one
		wantMsg     string
		wantReject  int64 // partial success rejected_spans on 200
	}{
		{name: "truncated protobuf", contentType: ContentTypeProto, body: good[:len(good)-7], wantStatus: 400, wantCode: codes.InvalidArgument, wantMsg: "decode OTLP/protobuf traces request"},
		{name: "garbage protobuf", contentType: ContentTypeProto, body: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, wantStatus: 400, wantCode: codes.InvalidArgument},
		{name: "bogus varint length", contentType: ContentTypeProto, body: []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x07}, wantStatus: 400, wantCode: codes.InvalidArgument},
		{name: "wrong content type", contentType: "text/plain", body: good, wantStatus: 415, wantMsg: "application/x-protobuf"},
		{name: "no content type", body: good, wantStatus: 415},
		{name: "bad hex trace id in JSON", contentType: ContentTypeJSON,
			body:       []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz02030405060708090a0b0c0d0e0f10","spanId":"0101010101010101","name":"x"}]}]}]}`),
			wantStatus: 400, wantCode: codes.InvalidArgument, wantMsg: "invalid trace or span id (not hex"},
		{name: "short span id in JSON", contentType: ContentTypeJSON,
			body:       []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0101","name":"x"}]}]}]}`),
			wantStatus: 400, wantCode: codes.InvalidArgument, wantMsg: "invalid trace or span id (wrong length"},
		{name: "malformed JSON", contentType: ContentTypeJSON, body: []byte(`{"resourceSpans":[{`), wantStatus: 400, wantCode: codes.InvalidArgument},
		{name: "empty protobuf body", contentType: ContentTypeProto, body: nil, wantStatus: 200},
		{name: "empty JSON body", contentType: ContentTypeJSON, body: nil, wantStatus: 200},
		{name: "empty JSON object", contentType: ContentTypeJSON, body: []byte(`{}`), wantStatus: 200},
		{name: "JSON unknown fields and integer enums", contentType: ContentTypeJSON,
			body:       []byte(`{"resourceSpans":[{"futureField":{"x":[1,2]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"0101010101010101","name":"x","kind":2,"status":{"code":2},"novel":true}]}]}],"extra":"ignored"}`),
			wantStatus: 200},
		{name: "over-limit body", contentType: ContentTypeProto, body: make([]byte, 20<<20+1), wantStatus: 413, wantCode: codes.ResourceExhausted},
		{name: "gzip bomb", contentType: ContentTypeProto, encoding: "gzip", body: zeroBomb(t, bombSize, gzipped), wantStatus: 413, wantCode: codes.ResourceExhausted, wantMsg: "decompress gzip body"},
		{name: "zstd bomb", contentType: ContentTypeProto, encoding: "zstd", body: zeroBomb(t, bombSize, zstded), wantStatus: 413, wantCode: codes.ResourceExhausted},
		{name: "deflate bomb", contentType: ContentTypeProto, encoding: "deflate", body: zeroBomb(t, bombSize, deflated), wantStatus: 413, wantCode: codes.ResourceExhausted},
		{name: "corrupt gzip", contentType: ContentTypeProto, encoding: "gzip", body: []byte("not gzip at all"), wantStatus: 400, wantCode: codes.InvalidArgument},
		{name: "unknown content encoding", contentType: ContentTypeProto, encoding: "br", body: good, wantStatus: 415, wantCode: codes.InvalidArgument},
		{name: "JSON nested 10k deep", contentType: ContentTypeJSON, body: nestedJSON(10000), wantStatus: 400, wantCode: codes.InvalidArgument, wantMsg: "nested deeper"},
		{name: "protobuf nested 10k deep is one refused span", contentType: ContentTypeProto, body: nestedProto(t, 10000), wantStatus: 200, wantReject: 1},
		{name: "JSON nested 40 deep is one refused span", contentType: ContentTypeJSON, body: nestedJSON(40), wantStatus: 200, wantReject: 1},
		{name: "protobuf nested 40 deep is one refused span", contentType: ContentTypeProto, body: nestedProto(t, 40), wantStatus: 200, wantReject: 1},
		{name: "huge attribute count", contentType: ContentTypeProto, body: manyAttributes(t, 200000), wantStatus: 200, wantReject: 1},
		{name: "GET", method: http.MethodGet, contentType: ContentTypeProto, wantStatus: 405},
		{name: "unknown path", path: "/v1/metrics", contentType: ContentTypeProto, body: good, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = PathTraces
			}
			req, _ := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := httpResp{resp.StatusCode, resp.Header, body}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", r.status, tt.wantStatus, truncate(string(r.body)))
			}
			if tt.wantCode != codes.OK {
				st := decodeStatus(t, r, tt.contentType)
				if codes.Code(st.Code) != tt.wantCode {
					t.Errorf("status code %v, want %v", codes.Code(st.Code), tt.wantCode)
				}
				if !strings.Contains(st.Message, tt.wantMsg) || len(st.Message) > 600 {
					t.Errorf("message %q, want it to contain %q (and be short)", st.Message, tt.wantMsg)
				}
			} else if tt.wantMsg != "" && !strings.Contains(string(r.body), tt.wantMsg) {
				t.Errorf("body %q, want it to contain %q", r.body, tt.wantMsg)
			}
			if r.status == 200 {
				resp := decodeTraceResponse(t, r)
				if got := resp.PartialSuccess().RejectedSpans(); got != tt.wantReject {
					t.Errorf("rejected_spans %d, want %d (%q)", got, tt.wantReject, resp.PartialSuccess().ErrorMessage())
				}
			}
			// The server keeps serving.
			if ok := h.post(t, PathTraces, ContentTypeProto, "", good); ok.status != 200 {
				t.Fatalf("good request after %s: status %d", tt.name, ok.status)
			}
		})
	}
}

func TestHTTPAcceptsEncodingsAndFormats(t *testing.T) {
	h := newHarness(t, Limits{})
	pb := protoBody(t, sampleTraces(4))
	js := jsonBody(t, sampleTraces(4))
	tests := []struct {
		name, contentType, encoding string
		body                        []byte
	}{
		{"protobuf", ContentTypeProto, "", pb},
		{"protobuf gzip", ContentTypeProto, "gzip", gzipped(t, pb)},
		{"protobuf zstd", ContentTypeProto, "zstd", zstded(t, pb)},
		{"protobuf deflate", ContentTypeProto, "deflate", deflated(t, pb)},
		{"json", ContentTypeJSON, "", js},
		{"json with charset", ContentTypeJSON + "; charset=utf-8", "", js},
		{"json gzip", ContentTypeJSON, "gzip", gzipped(t, js)},
		{"json zstd identity case", "Application/JSON", "ZSTD", zstded(t, js)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.w.Reset()
			r := h.post(t, PathTraces, tt.contentType, tt.encoding, tt.body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			wantCT := ContentTypeProto
			if strings.Contains(strings.ToLower(tt.contentType), "json") {
				wantCT = ContentTypeJSON
			}
			if got := r.header.Get("Content-Type"); got != wantCT {
				t.Errorf("response Content-Type %q, want %q", got, wantCT)
			}
			resp := decodeTraceResponse(t, r)
			if resp.PartialSuccess().RejectedSpans() != 0 || resp.PartialSuccess().ErrorMessage() != "" {
				t.Errorf("partial success set on full success: %v", resp.PartialSuccess())
			}
			if n := len(h.w.All().Spans); n != 4 {
				t.Fatalf("stored %d spans, want 4", n)
			}
		})
	}
}

func TestHTTPStoreErrors(t *testing.T) {
	h := newHarness(t, Limits{RetryAfter: 3500 * 1e6})
	body := protoBody(t, sampleTraces(2))
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   codes.Code
		retryAfter string
	}{
		{"overloaded", fmt.Errorf("enqueue: %w", store.ErrOverloaded), 429, codes.ResourceExhausted, "4"},
		{"unavailable", store.ErrUnavailable, 503, codes.Unavailable, "4"},
		{"invalid", store.ErrInvalid, 400, codes.InvalidArgument, ""},
		{"unknown error is retryable", errors.New("disk on fire"), 503, codes.Unavailable, "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.w.SetErr(tt.err)
			defer h.w.SetErr(nil)
			for _, ct := range []string{ContentTypeProto, ContentTypeJSON} {
				b := body
				if ct == ContentTypeJSON {
					b = jsonBody(t, sampleTraces(2))
				}
				r := h.post(t, PathTraces, ct, "", b)
				if r.status != tt.wantStatus {
					t.Fatalf("%s: status %d, want %d", ct, r.status, tt.wantStatus)
				}
				if got := r.header.Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("%s: Retry-After %q, want %q", ct, got, tt.retryAfter)
				}
				if st := decodeStatus(t, r, ct); codes.Code(st.Code) != tt.wantCode {
					t.Errorf("%s: code %v, want %v", ct, codes.Code(st.Code), tt.wantCode)
				}
			}
		})
	}
	if n := len(h.w.All().Spans); n != 0 {
		t.Fatalf("stored %d spans through failing writes", n)
	}
	if got := testutil.ToFloat64(h.r.m.rejected.WithLabelValues("traces", "overloaded")); got != 4 {
		t.Errorf("rejected{overloaded} = %v, want 4", got)
	}
}

func TestHTTPPartialSuccess(t *testing.T) {
	h := newHarness(t, Limits{})
	td := sampleTraces(5)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(1).SetSpanID(pcommon.SpanID{})
	spans.At(3).SetTraceID(pcommon.TraceID{})
	for _, ct := range []string{ContentTypeProto, ContentTypeJSON} {
		t.Run(ct, func(t *testing.T) {
			h.w.Reset()
			b := protoBody(t, td)
			if ct == ContentTypeJSON {
				b = jsonBody(t, td)
			}
			r := h.post(t, PathTraces, ct, "", b)
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			ps := decodeTraceResponse(t, r).PartialSuccess()
			if ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "invalid_id: 2") {
				t.Fatalf("partial success %d %q", ps.RejectedSpans(), ps.ErrorMessage())
			}
			if n := len(h.w.All().Spans); n != 3 {
				t.Fatalf("stored %d spans, want 3", n)
			}
		})
	}
	// Every span refused: still a 200 partial success, and no write at all.
	h.w.Reset()
	allBad := sampleTraces(2)
	for i := 0; i < 2; i++ {
		allBad.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(i).SetSpanID(pcommon.SpanID{})
	}
	r := h.post(t, PathTraces, ContentTypeProto, "", protoBody(t, allBad))
	if r.status != 200 || decodeTraceResponse(t, r).PartialSuccess().RejectedSpans() != 2 || h.w.Calls() != 0 {
		t.Fatalf("all refused: status %d, writes %d", r.status, h.w.Calls())
	}
	if got := testutil.ToFloat64(h.r.m.rejected.WithLabelValues("traces", "invalid_id")); got != 6 {
		t.Errorf("rejected{invalid_id} = %v, want 6", got)
	}
}

func TestHTTPLogs(t *testing.T) {
	h := newHarness(t, Limits{})
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Body().SetStr("hello")
	lrs.AppendEmpty().Body().SetStr(strings.Repeat("x", 300<<10))
	req := plogotlp.NewExportRequestFromLogs(ld)
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	for _, c := range []struct {
		ct   string
		body []byte
	}{{ContentTypeProto, pb}, {ContentTypeJSON, js}} {
		h.w.Reset()
		r := h.post(t, PathLogs, c.ct, "gzip", gzipped(t, c.body))
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", c.ct, r.status, r.body)
		}
		resp := plogotlp.NewExportResponse()
		var err error
		if c.ct == ContentTypeJSON {
			err = resp.UnmarshalJSON(r.body)
		} else {
			err = resp.UnmarshalProto(r.body)
		}
		if err != nil || resp.PartialSuccess().RejectedLogRecords() != 1 {
			t.Fatalf("%s: response %v, err %v", c.ct, resp.PartialSuccess().RejectedLogRecords(), err)
		}
		all := h.w.All()
		if len(all.Logs) != 1 || all.Logs[0].Body.Str != "hello" || all.Logs[0].Service != "svc" {
			t.Fatalf("%s: stored %+v", c.ct, all.Logs)
		}
	}
	if r := h.post(t, PathLogs, ContentTypeProto, "", []byte{0x0a, 0x05, 1}); r.status != 400 {
		t.Fatalf("truncated logs: status %d", r.status)
	}
}

func TestHTTPMetrics(t *testing.T) {
	h := newHarness(t, Limits{})
	h.post(t, PathTraces, ContentTypeProto, "", protoBody(t, sampleTraces(3)))
	h.post(t, PathTraces, "text/plain", "", nil)
	if got := testutil.ToFloat64(h.r.m.received.WithLabelValues("traces", "http")); got != 3 {
		t.Errorf("received = %v, want 3", got)
	}
	if got := testutil.ToFloat64(h.r.m.accepted.WithLabelValues("traces")); got != 3 {
		t.Errorf("accepted = %v, want 3", got)
	}
	if got := testutil.ToFloat64(h.r.m.requests.WithLabelValues("traces", "http", "ok")); got != 1 {
		t.Errorf("requests{ok} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.r.m.requests.WithLabelValues("traces", "http", "unsupported_media_type")); got != 1 {
		t.Errorf("requests{unsupported_media_type} = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(h.reg, "ariadne_ingest_request_duration_seconds"); err != nil || n != 1 {
		t.Errorf("latency series = %d, %v; want 1", n, err)
	}
	// A second receiver on the same registry is a configuration error.
	if _, err := NewReceiver(h.w, Settings{Registerer: h.reg}); err == nil {
		t.Error("second receiver on one registry: want an error")
	}
}

func TestNewReceiverValidates(t *testing.T) {
	if _, err := NewReceiver(nil, Settings{}); err == nil {
		t.Error("nil writer: want an error")
	}
	_, err := NewReceiver(&ingesttest.Writer{}, Settings{Limits: Limits{MaxAttributes: -1, MaxValueDepth: 1000}})
	if err == nil || !strings.Contains(err.Error(), "limits.MaxAttributes") || !strings.Contains(err.Error(), "limits.MaxValueDepth") {
		t.Errorf("err = %v, want both bad fields named", err)
	}
}

func TestHTTPConcurrencyLimit(t *testing.T) {
	h := newHarness(t, Limits{MaxConcurrentRequests: 1, ConcurrencyWait: 50 * time.Millisecond, RetryAfter: 2 * time.Second})
	block := make(chan struct{})
	entered := make(chan struct{})
	h.r.w = blockingWriter{entered: entered, release: block}
	body := protoBody(t, sampleTraces(1))
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+PathTraces, bytes.NewReader(body))
		req.Header.Set("Content-Type", ContentTypeProto)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	r := h.post(t, PathTraces, ContentTypeProto, "", body)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("second request while the only slot is taken: %d, Retry-After %q; want 429, 2", r.status, r.header.Get("Retry-After"))
	}
	close(block)
	if code := <-done; code != 200 {
		t.Fatalf("first request: %d", code)
	}
}

// TestHTTPOverLimitWithoutContentLength: a chunked body is cut at the limit
// while it is read, not after.
func TestHTTPOverLimitWithoutContentLength(t *testing.T) {
	h := newHarness(t, Limits{MaxHTTPBodyBytes: 1 << 20})
	body := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), bytes.NewReader([]byte{0}))
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+PathTraces, body)
	req.Header.Set("Content-Type", ContentTypeProto)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if r := h.post(t, PathTraces, ContentTypeProto, "", protoBody(t, sampleTraces(1))); r.status != 200 {
		t.Fatalf("good request after: %d", r.status)
	}
}
