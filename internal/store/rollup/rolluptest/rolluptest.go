// Package rolluptest holds what the service map tests of both engines
// share: test data that reaches every branch of the map statements, the
// comparison of answers read through the rollups with the raw ones, and
// the invocations that check the cost statement's merge of sources.
package rolluptest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Base is a minute boundary well in the past, so every minute of the
// test data is sealed by the wall clock.
var Base = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC).UnixNano()

// Trace is the trace id of Data's n-th trace: order i's web trace is
// 2i, its worker's 2i + 1.
func Trace(n int) model.TraceID {
	var t model.TraceID
	binary.BigEndian.PutUint64(t[:8], 0x7011000000000000|uint64(n))
	binary.BigEndian.PutUint64(t[8:], uint64(n)*0x9e3779b97f4a7c15+7)
	return t
}

// Span is the n-th span id of Data's trace.
func Span(trace, n int) model.SpanID {
	var s model.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(trace<<8|n)*0xbf58476d1ce4e5b9+3)
	return s
}

// Str is s as a string attribute value.
func Str(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }

// Data is n orders spread over the given minutes from start, shaped
// to reach every branch of the map queries: calls matched, to peers of
// every kind, adopted (a server span without client span) and dropped
// (a client naming nothing); hops by key and by span link (both joining
// the same spans), with lags up to 90 s across minute boundaries;
// several environments (both keys, and none); errors, cold starts and
// durations spread over four decades.
func Data(seed uint64, first, n int, start int64, minutes int) model.Batch {
	rng := rand.New(rand.NewPCG(seed, 11))
	dur := func(lo, hi float64) int64 {
		return int64(math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo))))
	}
	status := func(p int) model.StatusCode {
		if rng.IntN(100) < p {
			return model.StatusError
		}
		return model.StatusUnset
	}
	var b model.Batch
	for i := first; i < first+n; i++ {
		k := i % 3
		t0 := start + rng.Int64N(int64(minutes)*stmt.MinuteNs)
		var res func(string) model.Attributes
		switch i % 4 {
		case 0, 1:
			res = func(s string) model.Attributes {
				return model.Attributes{{Key: "service.name", Value: Str(s)}, {Key: "deployment.environment.name", Value: Str("prod")}}
			}
		case 2:
			res = func(s string) model.Attributes {
				return model.Attributes{{Key: "deployment.environment", Value: Str(`stag"ing`)}, {Key: "service.name", Value: Str(s)}}
			}
		default:
			res = func(s string) model.Attributes { return model.Attributes{{Key: "service.name", Value: Str(s)}} }
		}
		gw, api, wk := fmt.Sprintf("gw-%d", k), fmt.Sprintf("api-%d", k), fmt.Sprintf("worker-%d", k)
		web, wrk := Trace(2*i), Trace(2*i+1)
		root := model.Span{TraceID: web, SpanID: Span(2*i, 1), StartTime: t0, DurationNs: dur(5e6, 3e9), Name: "GET /",
			Kind: model.KindServer, Service: gw, StatusCode: status(3), ResourceAttributes: res(gw)}
		call := model.Span{TraceID: web, SpanID: Span(2*i, 2), ParentSpanID: root.SpanID, StartTime: t0 + 1e6,
			DurationNs: dur(2e6, 2e9), Name: "POST", Kind: model.KindClient, Service: gw, StatusCode: status(2), ResourceAttributes: res(gw),
			Attributes: model.Attributes{{Key: "server.address", Value: Str(api + ".internal")}}}
		srv := model.Span{TraceID: web, SpanID: Span(2*i, 3), ParentSpanID: call.SpanID, StartTime: t0 + 2e6 + rng.Int64N(40e9),
			DurationNs: dur(1e6, 1e9), Name: "POST /orders", Kind: model.KindServer, Service: api, Function: api, Trigger: "apigateway",
			ColdStart: rng.IntN(20) == 0, StatusCode: status(10), ResourceAttributes: res(api)}
		b.Spans = append(b.Spans, root, call, srv,
			model.Span{TraceID: web, SpanID: Span(2*i, 4), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 1e6,
				DurationNs: dur(1e5, 1e8), Name: "SELECT", Kind: model.KindClient, Service: api, Function: api, DBSystem: "postgresql",
				StatusCode: status(5), ResourceAttributes: res(api)},
			model.Span{TraceID: web, SpanID: Span(2*i, 6), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 3e6,
				DurationNs: dur(1e6, 5e8), Name: "GET", Kind: model.KindClient, Service: api, Function: api, StatusCode: status(25),
				ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "net.peer.name", Value: Str(fmt.Sprintf("ext-%d.example.com", i%5))}}},
		)
		switch i % 5 {
		case 0: // an AWS SDK call and a client span naming nothing (dropped)
			b.Spans = append(b.Spans,
				model.Span{TraceID: web, SpanID: Span(2*i, 7), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 4e6,
					DurationNs: dur(1e6, 1e8), Name: "DynamoDB.Query", Kind: model.KindClient, Service: api, Function: api,
					ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "rpc.system", Value: Str("aws-api")}, {Key: "rpc.service", Value: Str("DynamoDB")}}},
				model.Span{TraceID: web, SpanID: Span(2*i, 8), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 5e6,
					DurationNs: dur(1e6, 1e8), Name: "mystery", Kind: model.KindClient, Service: api, Function: api, ResourceAttributes: res(api)})
		case 1: // a server span whose caller made no client span: adopted
			b.Spans = append(b.Spans, model.Span{TraceID: web, SpanID: Span(2*i, 9), ParentSpanID: root.SpanID,
				StartTime: t0 + 3e6, DurationNs: dur(1e6, 1e9), Name: "audit", Kind: model.KindServer, Service: "audit",
				StatusCode: status(30), ResourceAttributes: res("audit")})
		case 2: // an S3 write
			b.Spans = append(b.Spans, model.Span{TraceID: web, SpanID: Span(2*i, 10), ParentSpanID: srv.SpanID,
				StartTime: srv.StartTime + 6e6, DurationNs: dur(1e6, 3e8), Name: "S3.PutObject", Kind: model.KindClient, Service: api,
				Function: api, ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "aws.s3.bucket", Value: Str("receipts")}}})
		}
		if i%7 == 6 {
			continue // no message this time
		}
		send := model.Span{TraceID: web, SpanID: Span(2*i, 5), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 8e6,
			DurationNs: dur(1e6, 1e8), Name: "send", Kind: model.KindProducer, Service: api, Function: api, MessagingSystem: "aws_sqs",
			Destination: fmt.Sprintf("q-%d", k), StatusCode: status(2), ResourceAttributes: res(api)}
		cstart := send.StartTime + send.DurationNs + dur(1e6, 90e9)
		if i%11 == 0 {
			cstart = send.StartTime + send.DurationNs - dur(1e5, 1e9) // clocks disagree: a negative lag
		}
		if i%97 == 5 { // … across a minute: the send ends in the minute after its consumer starts
			edge := rollup.CeilMinute(send.StartTime + 1)
			send.DurationNs = edge + 300e6 - send.StartTime
			cstart = edge - 200e6
		}
		cons := model.Span{TraceID: wrk, SpanID: Span(2*i+1, 1), StartTime: cstart, DurationNs: dur(1e6, 3e9), Name: wk,
			Kind: model.KindConsumer, Service: wk, Function: wk, Trigger: "sqs", MessagingSystem: "aws_sqs", Destination: send.Destination,
			ColdStart: rng.IntN(10) == 0, StatusCode: status(15), ResourceAttributes: res(wk)}
		b.Spans = append(b.Spans, send, cons,
			model.Span{TraceID: wrk, SpanID: Span(2*i+1, 2), ParentSpanID: cons.SpanID, StartTime: cstart + 1e6,
				DurationNs: dur(1e6, 1e9), Name: "POST", Kind: model.KindClient, Service: wk, Function: wk, StatusCode: status(20),
				ResourceAttributes: res(wk), Attributes: model.Attributes{{Key: "http.host", Value: Str("api.stripe.com")}}})
		key := fmt.Sprintf("sqs:m-%d", i)
		b.MessageRefs = append(b.MessageRefs,
			model.MessageRef{Key: key, Role: model.RoleProducer, TraceID: web, SpanID: send.SpanID, Time: send.StartTime + send.DurationNs, Destination: send.Destination},
			model.MessageRef{Key: key, Role: model.RoleConsumer, TraceID: wrk, SpanID: cons.SpanID, Time: cstart, Destination: send.Destination})
		if i%3 == 0 { // a span link next to the message id: still one hop
			lk := "link:" + hex.EncodeToString(web[:]) + ":" + hex.EncodeToString(send.SpanID[:])
			b.MessageRefs = append(b.MessageRefs,
				model.MessageRef{Key: lk, Role: model.RoleProducer, TraceID: web, SpanID: send.SpanID, Time: cstart, Destination: send.Destination},
				model.MessageRef{Key: lk, Role: model.RoleConsumer, TraceID: wrk, SpanID: cons.SpanID, Time: cstart, Destination: send.Destination})
		}
	}
	return b
}

// CloseLatency reports whether got is within the histogram's bound of
// want (and 1 ns of rounding).
func CloseLatency(got, want store.Latency) bool {
	ok := func(g, w int64) bool {
		return math.Abs(float64(g-w)) <= rollup.HistRelError*math.Abs(float64(w))+1
	}
	return ok(got.P50, want.P50) && ok(got.P95, want.P95) && ok(got.P99, want.P99)
}

// CompareMap checks that the map queries of q give the same groups,
// counts and errors through e as through raw, which reads raw data only:
// percentiles within rollup.HistRelError, the rest equal.
func CompareMap(t *testing.T, e, raw store.ServiceMapReader, q store.MapQuery) {
	t.Helper()
	ctx := t.Context()
	wantN, rtn, err := raw.MapNodes(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantC, rtc, err := raw.MapCalls(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantH, rth, err := raw.MapHops(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	n, tn, err := e.MapNodes(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	c, tc, err := e.MapCalls(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	h, th, err := e.MapHops(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if tn != rtn || tc != rtc || th != rth {
		t.Errorf("%+v: truncated %v %v %v, raw %v %v %v", q, tn, tc, th, rtn, rtc, rth)
	}
	if len(wantN) == 0 {
		t.Fatalf("%+v: no nodes: the test data misses the range", q)
	}
	if len(n) != len(wantN) {
		t.Fatalf("%+v: %d nodes, raw %d:\n%+v\n%+v", q, len(n), len(wantN), n, wantN)
	}
	for i := range n {
		g, w := n[i], wantN[i]
		if g.Endpoint != w.Endpoint || g.Count != w.Count || g.Errors != w.Errors || g.ColdStarts != w.ColdStarts || !CloseLatency(g.Latency, w.Latency) {
			t.Errorf("%+v: node %d = %+v, raw %+v", q, i, g, w)
		}
	}
	if len(c) != len(wantC) {
		t.Fatalf("%+v: %d calls, raw %d:\n%+v\n%+v", q, len(c), len(wantC), c, wantC)
	}
	for i := range c {
		g, w := c[i], wantC[i]
		gl, wl := g.Latency, w.Latency
		g.Latency, w.Latency = store.Latency{}, store.Latency{}
		if g != w || !CloseLatency(gl, wl) {
			t.Errorf("%+v: call %d = %+v %+v, raw %+v %+v", q, i, g, gl, w, wl)
		}
	}
	if len(h) != len(wantH) {
		t.Fatalf("%+v: %d hops, raw %d:\n%+v\n%+v", q, len(h), len(wantH), h, wantH)
	}
	for i := range h {
		g, w := h[i], wantH[i]
		gl, wl, gg, wg := g.Latency, w.Latency, g.Lag, w.Lag
		g.Latency, w.Latency, g.Lag, w.Lag = store.Latency{}, store.Latency{}, store.Latency{}, store.Latency{}
		if g != w || !CloseLatency(gl, wl) || !CloseLatency(gg, wg) {
			t.Errorf("%+v: hop %d = %+v %+v %+v, raw %+v %+v %+v", q, i, g, gl, gg, w, wl, wg)
		}
	}
}

// CompareRED checks the RED series of q through e against raw's, as
// CompareMap.
func CompareRED(t *testing.T, e, raw store.ServiceMapReader, q store.REDQuery) {
	t.Helper()
	ctx := t.Context()
	want, wt, err := raw.RED(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got, gt, err := e.RED(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatalf("%+v: no points", q)
	}
	if gt != wt || len(got) != len(want) {
		t.Fatalf("%+v: %d points (truncated %v), raw %d (%v)", q, len(got), gt, len(want), wt)
	}
	for i := range got {
		g, w := got[i], want[i]
		gl, wl := g.Latency, w.Latency
		g.Latency, w.Latency = store.Latency{}, store.Latency{}
		if g != w || !CloseLatency(gl, wl) {
			t.Errorf("%+v: point %d = %+v %+v, raw %+v %+v", q, i, g, gl, w, wl)
		}
	}
}

// Invocations are 2000 requests of seven functions, each with one to four
// records from every source, their function, billed duration and memory
// missing, zero or set: what the cost statement's merge of sources must
// get right.
func Invocations(base int64) model.Batch {
	rng := rand.New(rand.NewPCG(9, 9))
	sources := []string{"sdk", "sdk-start", "telemetry", "logs", "other"}
	var b model.Batch
	for i := range 2000 {
		fn := fmt.Sprintf("fn-%d", i%7)
		for range 1 + rng.IntN(4) {
			inv := model.Invocation{RequestID: fmt.Sprintf("r-%d", i), Source: sources[rng.IntN(len(sources))],
				Start: base + int64(i)*1e6, Status: model.InvocationOK}
			if rng.IntN(3) > 0 {
				inv.Function = fn
			}
			if rng.IntN(2) == 0 {
				inv.BilledDurationNs = rng.Int64N(5e9)
			}
			if rng.IntN(2) == 0 {
				inv.MemoryMB = int32(rng.IntN(10240))
			}
			b.Invocations = append(b.Invocations, inv)
		}
	}
	return b
}

// CompareCost checks the cost rows of Invocations against want, those of
// a reference statement: every function, counts equal, GB-seconds within
// rounding.
func CompareCost(t *testing.T, got, want []store.CostRow) {
	t.Helper()
	if len(got) != len(want) || len(got) < 7 {
		t.Fatalf("%d rows, want %d:\n%+v\n%+v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Function != w.Function || g.Invocations != w.Invocations || g.Billed != w.Billed || g.BilledNs != w.BilledNs ||
			math.Abs(g.GBSeconds-w.GBSeconds) > 1e-9*w.GBSeconds {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}
