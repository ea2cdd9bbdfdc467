package clickhouse

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
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
			edge := (send.StartTime/minuteNs + 1) * minuteNs
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
func compareMap(t *testing.T, e, raw *Engine, q store.MapQuery, rolled bool) {
	t.Helper()
	ctx := t.Context()
	if rolled {
		_, ok, err := e.rollupPlan(ctx, q.TimeRange, 0)
		if err != nil || !ok {
			t.Fatalf("%+v: rollups not used (%v)", q, err)
		}
	}
	var rn, rc, rh any
	var rtn, rtc, rth bool
	{
		var err error
		var n []store.NodeRow
		var c []store.CallRow
		var h []store.HopRow
		if n, rtn, err = raw.MapNodes(ctx, q); err != nil {
			t.Fatal(err)
		}
		if c, rtc, err = raw.MapCalls(ctx, q); err != nil {
			t.Fatal(err)
		}
		if h, rth, err = raw.MapHops(ctx, q); err != nil {
			t.Fatal(err)
		}
		rn, rc, rh = n, c, h
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

func compareRED(t *testing.T, e, raw *Engine, q store.REDQuery) {
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
		if g != w || !closeLatency(gl, wl) {
			t.Errorf("%+v: point %d = %+v %+v, raw %+v %+v", q, i, g, gl, w, wl)
		}
	}
}

// openNodes opens n engines ("nodes") on one new database, on one
// server or the cluster layout, without background jobs: all but the last
// read rollups from the first span, the last reads raw data only.
func openNodes(t *testing.T, n int, cluster bool) []*Engine {
	t.Helper()
	db := dbName(t, "")
	var out []*Engine
	for i := range n {
		s := testSettings(t, db)
		if cluster {
			s.Cluster, s.noOnCluster = "ariadne", true
		}
		s.Rollups = RollupSettings{Interval: -1, MinSpans: 1}
		if i == n-1 {
			s.Rollups.MinSpans = -1
		}
		e, err := Open(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		out = append(out, e)
	}
	return out
}

func writeBatch(t *testing.T, e *Engine, b model.Batch) {
	t.Helper()
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
}

// TestRollupsEqualRaw: the map and RED answers through the rollups equal
// the raw queries' on counts, errors and cold starts, and come within
// stmt.MapHistRelError on percentiles; rolling the same minutes again,
// from another node, counts nothing twice; late data is read raw until
// the job has rolled its minutes again.
func TestRollupsEqualRaw(t *testing.T) {
	t.Run("single", func(t *testing.T) { testRollupsEqualRaw(t, false) })
	t.Run("cluster", func(t *testing.T) { testRollupsEqualRaw(t, true) })
}

func testRollupsEqualRaw(t *testing.T, cluster bool) {
	nodes := openNodes(t, 3, cluster)
	a, b, raw := nodes[0], nodes[1], nodes[2]
	const minutes = 8
	writeBatch(t, a, rollData(1, 0, 1200, rollBase, minutes))
	m := func(i int) int64 { return rollBase + int64(i)*minuteNs }
	sec := int64(time.Second)
	// Nothing rolled yet: every read is raw.
	if _, ok, err := a.rollupPlan(t.Context(), store.TimeRange{Start: m(0), End: m(minutes)}, 0); err != nil || ok {
		t.Fatalf("before any roll: plan uses rollups (%v)", err)
	}
	if err := a.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	ranges := []store.TimeRange{
		{Start: m(0), End: m(minutes)},
		{Start: m(1), End: m(2)},
		{Start: m(0) + 17*sec, End: m(5) + 42*sec},
		{Start: m(3) + 59*sec, End: m(4) + 1*sec}, // no whole minute: raw
		{Start: 0, End: m(5) + 5*sec},
		{},
	}
	check := func() {
		t.Helper()
		for _, r := range ranges {
			rolled := r.End == 0 || r.End-r.Start > minuteNs
			for _, e := range []*Engine{a, b} {
				compareMap(t, e, raw, store.MapQuery{TimeRange: r}, rolled)
			}
		}
		compareMap(t, b, raw, store.MapQuery{TimeRange: ranges[0], Environment: "prod"}, true)
		compareMap(t, b, raw, store.MapQuery{TimeRange: ranges[2], Environment: `stag"ing`}, true)
		for _, q := range []store.REDQuery{
			{TimeRange: store.TimeRange{Start: m(0), End: m(minutes)}, Step: minuteNs},
			{TimeRange: store.TimeRange{Start: m(0), End: m(minutes)}, Step: minuteNs, Function: "api-1"},
			{TimeRange: store.TimeRange{Start: m(0) + 20*sec, End: m(7) + 5*sec}, Step: 2 * minuteNs, GroupBy: "service"},
			{TimeRange: store.TimeRange{Start: m(1), End: m(7)}, Step: 90 * sec, GroupBy: "function", Environment: "prod"},
		} {
			compareRED(t, a, raw, q)
		}
	}
	check()

	// Another node rolls the same minutes again (a new version): the
	// answers do not change.
	if err := b.roll.roll(t.Context(), []int64{m(0), m(1), m(2), m(3), m(4)}); err != nil {
		t.Fatal(err)
	}
	var versions uint64
	if err := a.conn.QueryRow(t.Context(), "SELECT uniqExact(version) FROM "+a.t("rollup_minutes")+" WHERE minute = "+strconv.FormatInt(m(2), 10)).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions < 2 {
		t.Fatalf("minute 2 rolled in %d versions, want 2 or more", versions)
	}
	check()

	// Late data in minutes 3-4, written through the raw node: until a
	// job runs, the minutes it reaches are read raw; after, rolled.
	writeBatch(t, raw, rollData(2, 10_000, 150, m(3), 2))
	p, ok, err := a.rollupPlan(t.Context(), ranges[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range p.minutes {
		if ok && u.Start < m(5)+staleAfter && u.End > m(3)-staleBefore {
			t.Fatalf("stale minutes %v read from rollups", u)
		}
	}
	compareMap(t, a, raw, store.MapQuery{TimeRange: ranges[0]}, false)
	if err := b.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestHistBucketSQLClickHouse holds ClickHouse's bucket expression equal
// to stmt.MapHistBucket.
func TestHistBucketSQLClickHouse(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	for _, x := range []int64{-5e9, -1, 0, 1, 2, 3, 1000, 1023, 1024, 999_999, 1_000_000, 123_456_789, 1 << 40, math.MaxInt64 / 2} {
		var b int16
		if err := e.conn.QueryRow(t.Context(), "SELECT "+e.dialect().MapBucket("x")+" FROM (SELECT toInt64("+strconv.FormatInt(x, 10)+") AS x)").Scan(&b); err != nil {
			t.Fatal(err)
		}
		if b != stmt.MapHistBucket(x) {
			t.Errorf("bucket(%d): SQL %d, Go %d", x, b, stmt.MapHistBucket(x))
		}
	}
}

// TestRollupJobInBackground: the background job seals and rolls the
// minutes once their marks are Grace old, without RollupNow, and a node
// that rolls nothing itself reads them.
func TestRollupJobInBackground(t *testing.T) {
	db := dbName(t, "")
	s := testSettings(t, db)
	s.Rollups = RollupSettings{Interval: 100 * time.Millisecond, Grace: time.Second, MinSpans: 1}
	job, err := Open(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer job.Close()
	s.Rollups = RollupSettings{Interval: -1, MinSpans: 1}
	reader, err := Open(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	s.Rollups.MinSpans = -1
	raw, err := Open(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	writeBatch(t, job, rollData(4, 0, 300, rollBase, 4))
	r := store.TimeRange{Start: rollBase, End: rollBase + 4*minuteNs}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, ok, err := reader.rollupPlan(t.Context(), r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background job did not roll the minutes up in 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	compareMap(t, reader, raw, store.MapQuery{TimeRange: r}, true)
}
