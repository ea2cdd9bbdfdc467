package clickhouse

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/rollup/rolluptest"
)

// compareMap is rolluptest.CompareMap; rolled says whether e must have
// used the rollups.
func compareMap(t *testing.T, e, raw *Engine, q store.MapQuery, rolled bool) {
	t.Helper()
	if rolled {
		_, ok, err := e.rollupPlan(t.Context(), q.TimeRange, 0)
		if err != nil || !ok {
			t.Fatalf("%+v: rollups not used (%v)", q, err)
		}
	}
	rolluptest.CompareMap(t, e, raw, q)
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
// rollup.HistRelError on percentiles; rolling the same minutes again,
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
	writeBatch(t, a, rolluptest.Data(1, 0, 1200, rolluptest.Base, minutes))
	m := func(i int) int64 { return rolluptest.Base + int64(i)*minuteNs }
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
			rolluptest.CompareRED(t, a, raw, q)
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
	writeBatch(t, raw, rolluptest.Data(2, 10_000, 150, m(3), 2))
	p, ok, err := a.rollupPlan(t.Context(), ranges[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range p.Minutes {
		if ok && u.Start < m(5)+rollup.StaleAfter && u.End > m(3)-rollup.StaleBefore {
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
// to rollup.Bucket.
func TestHistBucketSQLClickHouse(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	for _, x := range []int64{-5e9, -1, 0, 1, 2, 3, 1000, 1023, 1024, 999_999, 1_000_000, 123_456_789, 1 << 40, math.MaxInt64 / 2} {
		var b int16
		if err := e.conn.QueryRow(t.Context(), "SELECT "+e.dialect().MapBucket("x")+" FROM (SELECT toInt64("+strconv.FormatInt(x, 10)+") AS x)").Scan(&b); err != nil {
			t.Fatal(err)
		}
		if b != rollup.Bucket(x) {
			t.Errorf("bucket(%d): SQL %d, Go %d", x, b, rollup.Bucket(x))
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
	writeBatch(t, job, rolluptest.Data(4, 0, 300, rolluptest.Base, 4))
	r := store.TimeRange{Start: rolluptest.Base, End: rolluptest.Base + 4*minuteNs}
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
