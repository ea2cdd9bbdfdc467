package duckdb

import (
	"context"
	"database/sql"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/rollup/rolluptest"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

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

// rawReader reads the map of its engine from raw data only.
type rawReader struct{ *Engine }

func (r rawReader) MapNodes(ctx context.Context, q store.MapQuery) (rows []store.NodeRow, truncated bool, err error) {
	rawOnly(r.Engine, func() { rows, truncated, err = r.Engine.MapNodes(ctx, q) })
	return rows, truncated, err
}

func (r rawReader) MapCalls(ctx context.Context, q store.MapQuery) (rows []store.CallRow, truncated bool, err error) {
	rawOnly(r.Engine, func() { rows, truncated, err = r.Engine.MapCalls(ctx, q) })
	return rows, truncated, err
}

func (r rawReader) MapHops(ctx context.Context, q store.MapQuery) (rows []store.HopRow, truncated bool, err error) {
	rawOnly(r.Engine, func() { rows, truncated, err = r.Engine.MapHops(ctx, q) })
	return rows, truncated, err
}

func (r rawReader) RED(ctx context.Context, q store.REDQuery) (rows []store.REDRow, truncated bool, err error) {
	rawOnly(r.Engine, func() { rows, truncated, err = r.Engine.RED(ctx, q) })
	return rows, truncated, err
}

// compareMap is rolluptest.CompareMap against e's own raw reads; rolled
// says whether the rollups must have been used.
func compareMap(t *testing.T, e *Engine, q store.MapQuery, rolled bool) {
	t.Helper()
	if rolled {
		tx, _ := e.db.BeginTx(t.Context(), nil)
		_, ok, err := e.rollupPlan(t.Context(), tx, q.TimeRange, 0)
		tx.Rollback()
		if err != nil || !ok {
			t.Fatalf("%+v: rollups not used (%v)", q, err)
		}
	}
	rolluptest.CompareMap(t, e, rawReader{e}, q)
}

func compareRED(t *testing.T, e *Engine, q store.REDQuery) {
	t.Helper()
	rolluptest.CompareRED(t, e, rawReader{e}, q)
}

// TestRollupsEqualRaw: the map and RED answers through the rollups equal
// the raw queries' on counts, errors and cold starts, and come within
// rollup.HistRelError on percentiles, for ranges that start and end on minute
// boundaries or inside minutes, with and without an environment, with
// stale minutes in the middle and an open end.
func TestRollupsEqualRaw(t *testing.T) {
	e := openRollupStore(t)
	const minutes = 12
	writeBatch(t, e, rolluptest.Data(1, 0, 3000, rolluptest.Base, minutes))
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
	m := func(i int) int64 { return rolluptest.Base + int64(i)*minuteNs }
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
		rolled := rollup.FloorMinute(r.End) > rollup.CeilMinute(r.Start) || r.End == 0
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
	writeBatch(t, e, rolluptest.Data(2, 10_000, 300, m(3), 2))
	for _, r := range ranges[:3] {
		compareMap(t, e, store.MapQuery{TimeRange: r}, false)
	}
	if err := e.RollupNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		rolled := rollup.FloorMinute(r.End) > rollup.CeilMinute(r.Start) || r.End == 0
		compareMap(t, e, store.MapQuery{TimeRange: r}, rolled)
	}

	// A producer written 20 minutes (of data time) late: its consumer's
	// minute, 21 minutes later and already rolled up, is found by key.
	const o = 20_001 // an order with a message (o % 7 != 6)
	far := rolluptest.Data(3, o, 1, m(20), 1)
	var cons, prod model.Batch
	for _, sp := range far.Spans {
		if sp.TraceID == rolluptest.Trace(2*o+1) {
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
	consMinute := rollup.FloorMinute(cons.Spans[0].StartTime)
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
				b := rolluptest.Data(uint64(100+w*100+i), w*100_000+i*100, 100, rolluptest.Base, minutes)
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
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rolluptest.Base, End: rolluptest.Base + minutes*minuteNs}}, true)
	compareMap(t, e, store.MapQuery{}, true)
}

// TestHistBucketSQL holds the SQL bucket expression equal to rollup.Bucket.
func TestHistBucketSQL(t *testing.T) {
	e := openRollupStore(t)
	xs := []int64{-5e9, -1, 0, 1, 2, 3, 1000, 1023, 1024, 999_999, 1_000_000, 123_456_789, 1 << 40, math.MaxInt64 / 2}
	for _, x := range xs {
		var b int64
		if err := e.db.QueryRowContext(t.Context(), "SELECT "+stmt.DuckDB().MapBucket("0 + x")+" FROM (SELECT CAST(? AS BIGINT) AS x)", x).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if int16(b) != rollup.Bucket(x) {
			t.Errorf("bucket(%d): SQL %d, Go %d", x, b, rollup.Bucket(x))
		}
	}
}

// TestRollupJobWaitsForWrites: the background job leaves minutes whose
// writes are younger than Grace (a live minute, a backfill passing
// through) and rolls them up once they settle.
func TestRollupJobWaitsForWrites(t *testing.T) {
	var now atomic.Int64
	now.Store(rolluptest.Base + 10*minuteNs)
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2,
		Rollups: RollupSettings{Interval: -1, MinSpans: 1, Grace: 30 * time.Second,
			Now: func() time.Time { return time.Unix(0, now.Load()) }}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := t.Context()
	writeBatch(t, e, rolluptest.Data(1, 0, 500, rolluptest.Base, 5))
	if err := e.roll.run(ctx, false); err != nil {
		t.Fatal(err)
	}
	st, err := e.RollupStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := rolluptest.Base + 8*minuteNs; st.Sealed != want || st.Minutes != 0 || st.Todo != 0 || st.Marks == 0 {
		t.Errorf("with fresh writes: %+v, want sealed %d and nothing rolled up", st, want)
	}
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rolluptest.Base, End: rolluptest.Base + 5*minuteNs}}, false)
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
	compareMap(t, e, store.MapQuery{TimeRange: store.TimeRange{Start: rolluptest.Base, End: rolluptest.Base + 5*minuteNs}}, true)
}

// TestCostMergeMatchesCoalesce holds stmt.Cost's one-aggregate-per-field
// merge equal to the plain rule it replaced (a coalesce over one max per
// source), on requests with several records from every source, values
// missing, zero and set.
func TestCostMergeMatchesCoalesce(t *testing.T) {
	e := openRollupStore(t)
	writeBatch(t, e, rolluptest.Invocations(rolluptest.Base))
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
	rolluptest.CompareCost(t, got, want)
}
