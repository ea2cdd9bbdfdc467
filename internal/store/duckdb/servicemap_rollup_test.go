package duckdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// rollBase is a minute boundary well in the past, so every minute of the
// test data is sealed by the wall clock.
var rollBase = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC).UnixNano()

func rollTrace(n int) model.TraceID {
	var t model.TraceID
	binary.BigEndian.PutUint64(t[:8], 0x7011000000000000|uint64(n))
	binary.BigEndian.PutUint64(t[8:], uint64(n)*0x9e3779b97f4a7c15+7)
	return t
}

func rollSpan(trace, n int) model.SpanID {
	var s model.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(trace<<8|n)*0xbf58476d1ce4e5b9+3)
	return s
}

func sv(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }

// rollData is n orders spread over the given minutes from start, shaped
// to reach every branch of the map queries: calls matched, to peers of
// every kind, adopted (a server span without client span) and dropped
// (a client naming nothing); hops by key and by span link (both joining
// the same spans), with lags up to 90 s across minute boundaries;
// several environments (both keys, and none); errors, cold starts and
// durations spread over four decades.
func rollData(seed uint64, first, n int, start int64, minutes int) model.Batch {
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
		t0 := start + rng.Int64N(int64(minutes)*minuteNs)
		var res func(string) model.Attributes
		switch i % 4 {
		case 0, 1:
			res = func(s string) model.Attributes {
				return model.Attributes{{Key: "service.name", Value: sv(s)}, {Key: "deployment.environment.name", Value: sv("prod")}}
			}
		case 2:
			res = func(s string) model.Attributes {
				return model.Attributes{{Key: "deployment.environment", Value: sv(`stag"ing`)}, {Key: "service.name", Value: sv(s)}}
			}
		default:
			res = func(s string) model.Attributes { return model.Attributes{{Key: "service.name", Value: sv(s)}} }
		}
		gw, api, wk := fmt.Sprintf("gw-%d", k), fmt.Sprintf("api-%d", k), fmt.Sprintf("worker-%d", k)
		web, wrk := rollTrace(2*i), rollTrace(2*i+1)
		root := model.Span{TraceID: web, SpanID: rollSpan(2*i, 1), StartTime: t0, DurationNs: dur(5e6, 3e9), Name: "GET /",
			Kind: model.KindServer, Service: gw, StatusCode: status(3), ResourceAttributes: res(gw)}
		call := model.Span{TraceID: web, SpanID: rollSpan(2*i, 2), ParentSpanID: root.SpanID, StartTime: t0 + 1e6,
			DurationNs: dur(2e6, 2e9), Name: "POST", Kind: model.KindClient, Service: gw, StatusCode: status(2), ResourceAttributes: res(gw),
			Attributes: model.Attributes{{Key: "server.address", Value: sv(api + ".internal")}}}
		srv := model.Span{TraceID: web, SpanID: rollSpan(2*i, 3), ParentSpanID: call.SpanID, StartTime: t0 + 2e6 + rng.Int64N(40e9),
			DurationNs: dur(1e6, 1e9), Name: "POST /orders", Kind: model.KindServer, Service: api, Function: api, Trigger: "apigateway",
			ColdStart: rng.IntN(20) == 0, StatusCode: status(10), ResourceAttributes: res(api)}
		b.Spans = append(b.Spans, root, call, srv,
			model.Span{TraceID: web, SpanID: rollSpan(2*i, 4), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 1e6,
				DurationNs: dur(1e5, 1e8), Name: "SELECT", Kind: model.KindClient, Service: api, Function: api, DBSystem: "postgresql",
				StatusCode: status(5), ResourceAttributes: res(api)},
			model.Span{TraceID: web, SpanID: rollSpan(2*i, 6), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 3e6,
				DurationNs: dur(1e6, 5e8), Name: "GET", Kind: model.KindClient, Service: api, Function: api, StatusCode: status(25),
				ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "net.peer.name", Value: sv(fmt.Sprintf("ext-%d.example.com", i%5))}}},
		)
		switch i % 5 {
		case 0: // an AWS SDK call and a client span naming nothing (dropped)
			b.Spans = append(b.Spans,
				model.Span{TraceID: web, SpanID: rollSpan(2*i, 7), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 4e6,
					DurationNs: dur(1e6, 1e8), Name: "DynamoDB.Query", Kind: model.KindClient, Service: api, Function: api,
					ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "rpc.system", Value: sv("aws-api")}, {Key: "rpc.service", Value: sv("DynamoDB")}}},
				model.Span{TraceID: web, SpanID: rollSpan(2*i, 8), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 5e6,
					DurationNs: dur(1e6, 1e8), Name: "mystery", Kind: model.KindClient, Service: api, Function: api, ResourceAttributes: res(api)})
		case 1: // a server span whose caller made no client span: adopted
			b.Spans = append(b.Spans, model.Span{TraceID: web, SpanID: rollSpan(2*i, 9), ParentSpanID: root.SpanID,
				StartTime: t0 + 3e6, DurationNs: dur(1e6, 1e9), Name: "audit", Kind: model.KindServer, Service: "audit",
				StatusCode: status(30), ResourceAttributes: res("audit")})
		case 2: // an S3 write
			b.Spans = append(b.Spans, model.Span{TraceID: web, SpanID: rollSpan(2*i, 10), ParentSpanID: srv.SpanID,
				StartTime: srv.StartTime + 6e6, DurationNs: dur(1e6, 3e8), Name: "S3.PutObject", Kind: model.KindClient, Service: api,
				Function: api, ResourceAttributes: res(api), Attributes: model.Attributes{{Key: "aws.s3.bucket", Value: sv("receipts")}}})
		}
		if i%7 == 6 {
			continue // no message this time
		}
		send := model.Span{TraceID: web, SpanID: rollSpan(2*i, 5), ParentSpanID: srv.SpanID, StartTime: srv.StartTime + 8e6,
			DurationNs: dur(1e6, 1e8), Name: "send", Kind: model.KindProducer, Service: api, Function: api, MessagingSystem: "aws_sqs",
			Destination: fmt.Sprintf("q-%d", k), StatusCode: status(2), ResourceAttributes: res(api)}
		cstart := send.StartTime + send.DurationNs + dur(1e6, 90e9)
		if i%11 == 0 {
			cstart = send.StartTime + send.DurationNs - dur(1e5, 1e9) // clocks disagree: a negative lag
		}
		if i%97 == 5 { // … across a minute: the send ends in the minute after its consumer starts
			edge := ceilMinute(send.StartTime + 1)
			send.DurationNs = edge + 300e6 - send.StartTime
			cstart = edge - 200e6
		}
		cons := model.Span{TraceID: wrk, SpanID: rollSpan(2*i+1, 1), StartTime: cstart, DurationNs: dur(1e6, 3e9), Name: wk,
			Kind: model.KindConsumer, Service: wk, Function: wk, Trigger: "sqs", MessagingSystem: "aws_sqs", Destination: send.Destination,
			ColdStart: rng.IntN(10) == 0, StatusCode: status(15), ResourceAttributes: res(wk)}
		b.Spans = append(b.Spans, send, cons,
			model.Span{TraceID: wrk, SpanID: rollSpan(2*i+1, 2), ParentSpanID: cons.SpanID, StartTime: cstart + 1e6,
				DurationNs: dur(1e6, 1e9), Name: "POST", Kind: model.KindClient, Service: wk, Function: wk, StatusCode: status(20),
				ResourceAttributes: res(wk), Attributes: model.Attributes{{Key: "http.host", Value: sv("api.stripe.com")}}})
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

// benchRollups are the rollup settings of BenchmarkIngest:
// ARIADNE_BENCH_ROLLUPS=off keeps the rollup job out of the figure (the
// marks and the peer column stay).
func benchRollups() RollupSettings {
	if os.Getenv("ARIADNE_BENCH_ROLLUPS") == "off" {
		return RollupSettings{Interval: -1}
	}
	return RollupSettings{}
}

func openRollupStore(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2,
		Rollups: RollupSettings{Interval: -1, MinSpans: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func writeBatch(t *testing.T, e *Engine, b model.Batch) {
	t.Helper()
	if err := e.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

// rawOnly runs f with the rollups switched off.
func rawOnly(e *Engine, f func()) {
	old := e.set.Rollups.MinSpans
	e.set.Rollups.MinSpans = -1
	defer func() { e.set.Rollups.MinSpans = old }()
	f()
}

// closeLatency reports whether got is within the histogram's bound of
// want (and 1 ns of rounding).
func closeLatency(got, want store.Latency) bool {
	ok := func(g, w int64) bool {
		return math.Abs(float64(g-w)) <= stmt.MapHistRelError*math.Abs(float64(w))+1
	}
	return ok(got.P50, want.P50) && ok(got.P95, want.P95) && ok(got.P99, want.P99)
}

// compareMap checks that the map queries of q give the same groups,
// counts and errors through the rollups as from raw data, percentiles
// within stmt.MapHistRelError; rolled says whether the rollups must have been
// used.
func compareMap(t *testing.T, e *Engine, q store.MapQuery, rolled bool) {
	t.Helper()
	ctx := t.Context()
	if rolled {
		tx, _ := e.db.BeginTx(ctx, nil)
		_, ok, err := e.rollupPlan(ctx, tx, q.TimeRange, 0)
		tx.Rollback()
		if err != nil || !ok {
			t.Fatalf("%+v: rollups not used (%v)", q, err)
		}
	}
	var rn, rc, rh any
	var rtn, rtc, rth bool
	rawOnly(e, func() {
		var err error
		var n []store.NodeRow
		var c []store.CallRow
		var h []store.HopRow
		if n, rtn, err = e.MapNodes(ctx, q); err != nil {
			t.Fatal(err)
		}
		if c, rtc, err = e.MapCalls(ctx, q); err != nil {
			t.Fatal(err)
		}
		if h, rth, err = e.MapHops(ctx, q); err != nil {
			t.Fatal(err)
		}
		rn, rc, rh = n, c, h
	})
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
	wantN := rn.([]store.NodeRow)
	if len(wantN) == 0 {
		t.Fatalf("%+v: no nodes: the test data misses the range", q)
	}
	if len(n) != len(wantN) {
		t.Fatalf("%+v: %d nodes, raw %d:\n%+v\n%+v", q, len(n), len(wantN), n, wantN)
	}
	for i := range n {
		g, w := n[i], wantN[i]
		if g.Endpoint != w.Endpoint || g.Count != w.Count || g.Errors != w.Errors || g.ColdStarts != w.ColdStarts || !closeLatency(g.Latency, w.Latency) {
			t.Errorf("%+v: node %d = %+v, raw %+v", q, i, g, w)
		}
	}
	wantC := rc.([]store.CallRow)
	if len(c) != len(wantC) {
		t.Fatalf("%+v: %d calls, raw %d:\n%+v\n%+v", q, len(c), len(wantC), c, wantC)
	}
	for i := range c {
		g, w := c[i], wantC[i]
		gl, wl := g.Latency, w.Latency
		g.Latency, w.Latency = store.Latency{}, store.Latency{}
		if g != w || !closeLatency(gl, wl) {
			t.Errorf("%+v: call %d = %+v %+v, raw %+v %+v", q, i, g, gl, w, wl)
		}
	}
	wantH := rh.([]store.HopRow)
	if len(h) != len(wantH) {
		t.Fatalf("%+v: %d hops, raw %d:\n%+v\n%+v", q, len(h), len(wantH), h, wantH)
	}
	for i := range h {
		g, w := h[i], wantH[i]
		gl, wl, gg, wg := g.Latency, w.Latency, g.Lag, w.Lag
		g.Latency, w.Latency, g.Lag, w.Lag = store.Latency{}, store.Latency{}, store.Latency{}, store.Latency{}
		if g != w || !closeLatency(gl, wl) || !closeLatency(gg, wg) {
			t.Errorf("%+v: hop %d = %+v %+v %+v, raw %+v %+v %+v", q, i, g, gl, gg, w, wl, wg)
		}
	}
}

func compareRED(t *testing.T, e *Engine, q store.REDQuery) {
	t.Helper()
	ctx := t.Context()
	var want []store.REDRow
	var wt bool
	rawOnly(e, func() {
		var err error
		if want, wt, err = e.RED(ctx, q); err != nil {
			t.Fatal(err)
		}
	})
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
		if g != w || !closeLatency(gl, wl) {
			t.Errorf("%+v: point %d = %+v %+v, raw %+v %+v", q, i, g, gl, w, wl)
		}
	}
}

// TestRollupsEqualRaw: the map and RED answers through the rollups equal
// the raw queries' on counts, errors and cold starts, and come within
// stmt.MapHistRelError on percentiles, for ranges that start and end on minute
// boundaries or inside minutes, with and without an environment, with
// stale minutes in the middle and an open end.
func TestRollupsEqualRaw(t *testing.T) {
	e := openRollupStore(t)
	const minutes = 12
	writeBatch(t, e, rollData(1, 0, 3000, rollBase, minutes))
	if err := e.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := e.RollupStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Todo != 0 || st.Marks != 0 || st.Minutes < minutes {
		t.Fatalf("after RollupNow: %+v", st)
	}
	m := func(i int) int64 { return rollBase + int64(i)*minuteNs }
	sec := int64(time.Second)
	ranges := []store.TimeRange{
		{Start: m(0), End: m(minutes)},
		{Start: m(1), End: m(2)},
		{Start: m(0) + 17*sec, End: m(7) + 42*sec},
		{Start: m(3) + 59*sec, End: m(4) + 1*sec}, // no whole minute: raw
		{Start: m(2) + 30*sec, End: m(6)},
		{Start: 0, End: m(5) + 5*sec},
		{Start: m(4) + 5*sec, End: 0},
		{},
	}
	for _, r := range ranges {
		rolled := floorMinute(r.End) > ceilMinute(r.Start) || r.End == 0
		for _, env := range []string{"", "prod", `stag"ing`} {
			compareMap(t, e, store.MapQuery{TimeRange: r, Environment: env}, rolled)
		}
		compareMap(t, e, store.MapQuery{TimeRange: r, Limit: 2}, rolled)
	}
	for _, q := range []store.REDQuery{
		{TimeRange: store.TimeRange{Start: m(0), End: m(minutes)}, Step: minuteNs},
		{TimeRange: store.TimeRange{Start: m(0), End: m(minutes)}, Step: minuteNs, Function: "api-1"},
		{TimeRange: store.TimeRange{Start: m(0) + 20*sec, End: m(10) + 5*sec}, Step: 2 * minuteNs, GroupBy: "service"},
		{TimeRange: store.TimeRange{Start: m(1), End: m(9)}, Step: 90 * sec, GroupBy: "function", Environment: "prod"},
		{TimeRange: store.TimeRange{Start: m(1), End: m(9)}, Step: 30 * sec, Service: "gw-2"},
		{TimeRange: store.TimeRange{Start: m(0), End: m(minutes)}, Step: 5 * minuteNs, Operation: "POST", GroupBy: "service"},
	} {
		compareRED(t, e, q)
	}

	// Late data: more orders in minutes 3-4. Until the job runs, the
	// stale minutes are read raw; after, from the rollups again.
	writeBatch(t, e, rollData(2, 10_000, 300, m(3), 2))
	for _, r := range ranges[:3] {
		compareMap(t, e, store.MapQuery{TimeRange: r}, false)
	}
	if err := e.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		rolled := floorMinute(r.End) > ceilMinute(r.Start) || r.End == 0
		compareMap(t, e, store.MapQuery{TimeRange: r}, rolled)
	}

	// A producer written 20 minutes (of data time) late: its consumer's
	// minute, 21 minutes later and already rolled up, is found by key.
	const o = 20_001 // an order with a message (o % 7 != 6)
	far := rollData(3, o, 1, m(20), 1)
	var cons, prod model.Batch
	for _, sp := range far.Spans {
		if sp.TraceID == rollTrace(2*o+1) {
			sp.StartTime += 21 * minuteNs
			cons.Spans = append(cons.Spans, sp)
		} else {
			prod.Spans = append(prod.Spans, sp)
		}
	}
	for _, r := range far.MessageRefs {
		if r.Role == model.RoleConsumer {
			r.Time += 21 * minuteNs
			cons.MessageRefs = append(cons.MessageRefs, r)
		} else {
			prod.MessageRefs = append(prod.MessageRefs, r)
		}
	}
	writeBatch(t, e, cons)
	if err := e.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	writeBatch(t, e, prod)
	if err := e.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	consMinute := floorMinute(cons.Spans[0].StartTime)
	hops, _, err := e.MapHops(t.Context(), store.MapQuery{TimeRange: store.TimeRange{Start: consMinute, End: consMinute + minuteNs}})
	if err != nil || len(hops) != 1 || hops[0].Producer.Service != "api-0" || hops[0].LagCount != 1 {
		t.Errorf("late producer: %+v, %v", hops, err)
	}
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: consMinute, End: consMinute + minuteNs}}, true)
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: m(0), End: m(60)}}, true)
}

// TestRollupsDuringIngest runs the job while writers write, then checks
// the rollups against the raw data: marks committed during a job run are
// not lost, and the job and the writer do not conflict.
func TestRollupsDuringIngest(t *testing.T) {
	e := openRollupStore(t)
	ctx := t.Context()
	const minutes = 6
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := e.RollupNow(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	for w := range 3 {
		wg.Go(func() {
			for i := range 20 {
				b := rollData(uint64(100+w*100+i), w*100_000+i*100, 100, rollBase, minutes)
				if err := e.Write(ctx, &b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Writers first, then stop the job loop.
	time.Sleep(10 * time.Millisecond)
	for {
		st, _ := e.RollupStats(ctx)
		var n int64
		_ = e.db.QueryRowContext(ctx, "SELECT count(*) FROM spans").Scan(&n)
		if n > 0 && st.Marks == 0 || len(errs) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := e.RollupNow(ctx); err != nil {
		t.Fatal(err)
	}
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rollBase, End: rollBase + minutes*minuteNs}}, true)
	compareMap(t, e, store.MapQuery{}, true)
}

// TestHistBucketSQL holds the SQL bucket expression equal to stmt.MapHistBucket.
func TestHistBucketSQL(t *testing.T) {
	e := openRollupStore(t)
	xs := []int64{-5e9, -1, 0, 1, 2, 3, 1000, 1023, 1024, 999_999, 1_000_000, 123_456_789, 1 << 40, math.MaxInt64 / 2}
	for _, x := range xs {
		var b int64
		if err := e.db.QueryRowContext(t.Context(), "SELECT "+stmt.DuckDB().MapBucket("0 + x")+" FROM (SELECT CAST(? AS BIGINT) AS x)", x).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if int16(b) != stmt.MapHistBucket(x) {
			t.Errorf("bucket(%d): SQL %d, Go %d", x, b, stmt.MapHistBucket(x))
		}
	}
}

// TestRollupJobWaitsForWrites: the background job leaves minutes whose
// writes are younger than Grace (a live minute, a backfill passing
// through) and rolls them up once they settle.
func TestRollupJobWaitsForWrites(t *testing.T) {
	var now atomic.Int64
	now.Store(rollBase + 10*minuteNs)
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2,
		Rollups: RollupSettings{Interval: -1, MinSpans: 1, Grace: 30 * time.Second,
			Now: func() time.Time { return time.Unix(0, now.Load()) }}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := t.Context()
	writeBatch(t, e, rollData(1, 0, 500, rollBase, 5))
	if err := e.roll.run(ctx, false); err != nil {
		t.Fatal(err)
	}
	st, err := e.RollupStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := rollBase + 8*minuteNs; st.Sealed != want || st.Minutes != 0 || st.Todo != 0 || st.Marks == 0 {
		t.Errorf("with fresh writes: %+v, want sealed %d and nothing rolled up", st, want)
	}
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rollBase, End: rollBase + 5*minuteNs}}, false)
	now.Add(int64(31 * time.Second))
	if err := e.roll.run(ctx, false); err != nil {
		t.Fatal(err)
	}
	var minutes int64
	if err := e.db.QueryRowContext(ctx, "SELECT count(DISTINCT start_time // 60000000000) FROM spans").Scan(&minutes); err != nil {
		t.Fatal(err)
	}
	if st, err = e.RollupStats(ctx); err != nil || st.Minutes != minutes || st.Todo != 0 || st.Marks != 0 {
		t.Errorf("after Grace: %+v, %v; want %d minutes rolled up", st, err, minutes)
	}
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rollBase, End: rollBase + 5*minuteNs}}, true)
}

// TestCostMergeMatchesCoalesce holds stmt.Cost's one-aggregate-per-field
// merge equal to the plain rule it replaced (a coalesce over one max per
// source), on requests with several records from every source, values
// missing, zero and set.
func TestCostMergeMatchesCoalesce(t *testing.T) {
	e := openRollupStore(t)
	rng := rand.New(rand.NewPCG(9, 9))
	sources := []string{"sdk", "sdk-start", "telemetry", "logs", "other"}
	var b model.Batch
	for i := range 2000 {
		fn := fmt.Sprintf("fn-%d", i%7)
		for range 1 + rng.IntN(4) {
			inv := model.Invocation{RequestID: fmt.Sprintf("r-%d", i), Source: sources[rng.IntN(len(sources))],
				Start: rollBase + int64(i)*1e6, Status: model.InvocationOK}
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
	writeBatch(t, e, b)
	old := `WITH r AS (
	SELECT request_id,
		coalesce(max("function") FILTER (WHERE source = 'sdk'), max("function") FILTER (WHERE source = 'sdk-start'), max("function") FILTER (WHERE source = 'telemetry'), max("function")) AS fn,
		coalesce(max(billed_duration) FILTER (WHERE source = 'telemetry' AND billed_duration <> 0), max(billed_duration) FILTER (WHERE source = 'logs' AND billed_duration <> 0), max(billed_duration) FILTER (WHERE source = 'sdk' AND billed_duration <> 0), max(billed_duration) FILTER (WHERE billed_duration <> 0)) AS billed,
		coalesce(max(memory_mb) FILTER (WHERE source = 'telemetry' AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'logs' AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'sdk' AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'sdk-start' AND memory_mb <> 0), max(memory_mb) FILTER (WHERE memory_mb <> 0)) AS mem
	FROM invocations GROUP BY request_id
)
SELECT coalesce(fn, '') AS f, count(*) AS n, count_if(coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0),
	coalesce(sum(billed / 1e9 * mem / 1024.0) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS gbs,
	CAST(coalesce(sum(billed) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS DOUBLE)
FROM r GROUP BY f ORDER BY gbs DESC, n DESC, f`
	var want []store.CostRow
	err := e.scanRows(t.Context(), old, func(rs *sql.Rows) error {
		var r store.CostRow
		var billed float64
		if err := rs.Scan(&r.Function, &r.Invocations, &r.Billed, &r.GBSeconds, &billed); err != nil {
			return err
		}
		r.BilledNs = int64(billed)
		want = append(want, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := e.Cost(t.Context(), store.CostQuery{})
	if err != nil {
		t.Fatal(err)
	}
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
