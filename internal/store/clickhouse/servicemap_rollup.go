package clickhouse

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Service map rollups: per-minute histograms of the map's queries
// (nodes, calls, hops), as the embedded engine keeps them
// (internal/store/duckdb/servicemap_rollup.go, docs/servicemap.md
// "Rollups"), so that a map of an hour reads a few thousand rows instead
// of joining millions of spans.
//
// The rules are the embedded engine's: a minute is sealed when the wall
// clock has passed its end by the calls' 60 s slack and Grace, and rolled
// up then with the very statements of the raw reads in rollup mode
// (package stmt). Every insert of spans or message refs marks the minutes
// it touches (rollup_marks, filled by materialized views at insert time,
// ddl/0002_rollups.sql); a mark at minute t makes minutes t−1 … t+16
// stale, and a producer ref's mark the minutes of its consumers too. The
// job rolls those minutes again once the mark is Grace old; until then
// reads take them raw.
//
// What differs is that nodes are many and share no transaction. Every
// node runs the job; two may roll the same minute at once. A roll writes
// its rows under a new version and then lists its minutes in
// rollup_minutes, and a read takes the newest listed version of each
// minute (stmt.RollupNodes…): a minute is read only once some roll of it
// is complete, never twice. The progress — the sealed watermark and the
// marks read — is one KeeperMap row that a node writes after its rolls;
// a value written late by a slower node only makes work be done again.
// Reads see a minute as stale while any mark reaching it is newer than
// the marks read.

// RollupSettings tune the rollups (rollup.Settings). Zero fields take
// the defaults.
type RollupSettings rollup.Settings

func (s RollupSettings) withDefaults() RollupSettings {
	return RollupSettings(rollup.Settings(s).WithDefaults())
}

const minuteNs = stmt.MinuteNs

// rollupStateKey is the rollup_state row of the service map job.
const rollupStateKey = "servicemap"

// rollupJob is the background job of one node (rollup.Job); it and
// RollupNow run one at a time per node, runs of several nodes may
// overlap.
type rollupJob struct {
	e   *Engine
	set RollupSettings
	job *rollup.Job
}

func startRollups(e *Engine) *rollupJob {
	j := &rollupJob{e: e, set: e.set.Rollups}
	j.job = rollup.StartJob(rollup.Settings(j.set), e.set.Logger, func() bool { return !e.ready.Load() || e.down.Load() }, j.runOnce)
	return j
}

// run runs the job once, after the run in progress if any.
func (j *rollupJob) run(ctx context.Context, settleAll bool) error { return j.job.Run(ctx, settleAll) }

func (j *rollupJob) close() { j.job.Close() }

// RollupNow runs this node's rollup job once, to the end, taking every
// write so far as settled: every minute sealed by now and every stale
// minute is rolled up when it returns (unless data arrives meanwhile).
// The background job does the same every RollupSettings.Interval,
// leaving minutes whose marks are younger than Grace for later;
// benchmarks and tests call this.
func (e *Engine) RollupNow(ctx context.Context) error {
	if err := e.readable("service map rollup"); err != nil {
		return err
	}
	return e.roll.run(ctx, true)
}

// rollState is the job's shared progress.
type rollState struct {
	sealed    int64 // minutes before it are rolled up or reached by an unread mark
	marksRead int64 // marks up to this marked_at are read and their minutes rolled
}

func (e *Engine) rollState(ctx context.Context) (rollState, error) {
	var s rollState
	err := e.each(ctx, "SELECT sealed, marks_read FROM "+e.t("rollup_state")+" WHERE name = "+sqlStr(rollupStateKey),
		func(scan func(...any) error) error { return scan(&s.sealed, &s.marksRead) })
	return s, err
}

// serverNow is the ClickHouse server's clock, which times the marks.
func (e *Engine) serverNow(ctx context.Context) (int64, error) {
	var now int64
	err := e.conn.QueryRow(ctx, "SELECT toUnixTimestamp64Nano(now64(9))").Scan(&now)
	return now, err
}

func (e *Engine) queryInts(ctx context.Context, query string) ([]int64, error) {
	var out []int64
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var v int64
		err := scan(&v)
		out = append(out, v)
		return err
	})
	return out, err
}

// run plans the minutes to roll (newly sealed, and reached by settled
// marks), rolls them, and then records the progress.
func (j *rollupJob) runOnce(ctx context.Context, settleAll bool) error {
	e := j.e
	d := e.dialect()
	old, err := e.rollState(ctx)
	if err != nil {
		return fmt.Errorf("service map rollup: read state: %w", err)
	}
	sealed := max(old.sealed, rollup.Settings(j.set).SealedAt(j.set.Now()))
	quiet := int64(math.MaxInt64)
	if !settleAll {
		now, err := e.serverNow(ctx)
		if err != nil {
			return fmt.Errorf("service map rollup: %w", err)
		}
		quiet = now - int64(j.set.Grace)
	}
	// Marks younger than Grace stay: their minutes are still being
	// written, and each is rolled once its writes have settled rather
	// than after every insert. Until then they keep their minutes stale
	// for reads.
	var marks, busy []int64
	marksRead := old.marksRead
	err = e.each(ctx, fmt.Sprintf(`SELECT minute, marked_at <= %d AS settled, max(marked_at) FROM %s
WHERE marked_at > %d GROUP BY minute, settled ORDER BY minute`, quiet, e.t("rollup_marks"), old.marksRead),
		func(scan func(...any) error) error {
			var m, at int64
			var settled bool
			if err := scan(&m, &settled, &at); err != nil {
				return err
			}
			if settled {
				marks = append(marks, m)
				marksRead = max(marksRead, at)
			} else {
				busy = append(busy, m)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("service map rollup: read marks: %w", err)
	}
	todo := rollup.Todo{}
	for _, t := range marks {
		todo.AddReach(t, 0, sealed)
	}
	if late := rollup.Late(marks, sealed); len(late) > 0 {
		cons, err := e.queryInts(ctx, stmt.RollupLateConsumers(d, late, late[0], sealed))
		if err != nil {
			return fmt.Errorf("service map rollup: late refs: %w", err)
		}
		for _, m := range cons {
			todo[m] = struct{}{}
		}
	}
	if sealed > old.sealed {
		found, err := e.queryInts(ctx, stmt.RollupDataMinutes(d, max(old.sealed-rollup.StaleAfter, 0), sealed+rollup.StaleBefore))
		if err != nil {
			return fmt.Errorf("service map rollup: sealed minutes: %w", err)
		}
		for _, t := range found {
			todo.AddReach(t, old.sealed, sealed)
		}
	}
	// Minutes a busy mark reaches wait for it: rolled now, they would be
	// rolled again once it settles.
	for _, t := range busy {
		todo.DropReach(t)
	}
	ms := todo.Minutes()
	for len(ms) > 0 {
		n := min(len(ms), j.set.BatchMinutes)
		if err := j.roll(ctx, ms[:n]); err != nil {
			return fmt.Errorf("service map rollup: %w", err)
		}
		ms = ms[n:]
	}
	if sealed == old.sealed && marksRead == old.marksRead {
		return nil
	}
	if err := e.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%s, %d, %d, %d)",
		e.t("rollup_state"), sqlStr(rollupStateKey), sealed, marksRead, time.Now().UnixNano())); err != nil {
		return fmt.Errorf("service map rollup: record progress: %w", err)
	}
	return nil
}

// roll computes the rollups of minutes (ascending) under one new
// version: the rows first, then the minutes' listing, which makes them
// readable.
func (j *rollupJob) roll(ctx context.Context, minutes []int64) error {
	e := j.e
	d := e.dialect()
	// The version is the server's clock before the roll reads anything:
	// a roll that saw more data began later.
	version, err := e.serverNow(ctx)
	if err != nil {
		return err
	}
	ctx = withNulls(ctx)
	runs := rollup.MinuteRuns(minutes)
	for _, r := range runs {
		q := store.MapQuery{TimeRange: r}
		if err := e.conn.Exec(ctx, stmt.RollupInsert(d, "rollup_nodes", stmt.MapNodes(d, q, 0, stmt.MapRollup), version)); err != nil {
			return fmt.Errorf("roll up nodes: %w", err)
		}
		if err := e.conn.Exec(ctx, stmt.RollupInsert(d, "rollup_calls", stmt.MapCalls(d, q, 0, stmt.MapRollup), version)); err != nil {
			return fmt.Errorf("roll up calls: %w", err)
		}
		plo, phi, found, err := e.hopExtent(ctx, q)
		if err != nil {
			return fmt.Errorf("roll up hops: %w", err)
		}
		if found {
			if err := e.conn.Exec(ctx, stmt.RollupInsert(d, "rollup_hops", stmt.MapHops(d, q, plo, phi, 0, stmt.MapRollup), version)); err != nil {
				return fmt.Errorf("roll up hops: %w", err)
			}
		}
	}
	for _, r := range runs {
		if err := e.conn.Exec(ctx, stmt.RollupMinutesInsert(d, r, version, time.Now().UnixNano())); err != nil {
			return fmt.Errorf("list rolled minutes: %w", err)
		}
	}
	return nil
}

// deleteRollupsBefore drops the rollups of minutes that end before t,
// with the raw data of the retention sweep (DeleteBefore).
func (e *Engine) deleteRollupsBefore(ctx context.Context, t int64) error {
	d := stmt.ClickHouse(e.t)
	for _, tb := range []string{"rollup_minutes", "rollup_nodes", "rollup_calls", "rollup_hops"} {
		// A minute goes once all of it is before t.
		rt := stmt.RetentionTable{Table: tb, Col: "minute"}
		if err := e.conn.Exec(ctx, stmt.RetentionDelete(d, rt, t-minuteNs+1, e.layout.Cluster != "", e.layout.OnCluster())); err != nil {
			return e.fail("delete old "+tb, err)
		}
	}
	return nil
}

// rollupPlan plans r from the shared progress, the unread marks and the
// spans of the rolled minutes. When step > 0 (RED), minutes that straddle
// a boundary Start + i·step are read raw.
func (e *Engine) rollupPlan(ctx context.Context, r store.TimeRange, step int64) (rollup.Plan, bool, error) {
	set := e.set.Rollups
	if set.MinSpans < 0 {
		return rollup.Plan{}, false, nil
	}
	lo := rollup.FloorMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = rollup.FloorMinute(r.End)
	}
	if hi <= lo {
		return rollup.Plan{}, false, nil
	}
	state := fmt.Sprintf("%s WHERE name = %s", e.t("rollup_state"), sqlStr(rollupStateKey))
	var (
		sealed  int64
		invalid []store.TimeRange
		counts  []rollup.MinuteSpans
	)
	err := e.each(ctx, fmt.Sprintf(`SELECT toUInt8(0) AS k, sealed AS m, toInt64(0) AS n FROM %[1]s
UNION ALL SELECT toUInt8(2) AS k, minute AS m, toInt64(0) AS n FROM %[2]s WHERE marked_at > (SELECT max(marks_read) FROM %[1]s) GROUP BY minute
UNION ALL SELECT toUInt8(3) AS k, minute AS m, argMax(spans, version) AS n FROM %[3]s WHERE minute >= %[4]d AND minute < %[5]d GROUP BY minute`,
		state, e.t("rollup_marks"), e.t("rollup_minutes"), lo, hi), func(scan func(...any) error) error {
		var kind uint8
		var m, n int64
		if err := scan(&kind, &m, &n); err != nil {
			return err
		}
		switch kind {
		case 0:
			sealed = m
		case 2:
			invalid = append(invalid, rollup.Reach(m))
		case 3:
			counts = append(counts, rollup.MinuteSpans{Minute: m, Spans: n})
		}
		return nil
	})
	if err != nil {
		return rollup.Plan{}, false, err
	}
	p, ok := rollup.NewPlan(r, step, sealed, invalid, counts, set.MinSpans)
	return p, ok, nil
}

// rollups is the engine as package rollup's readers plan and read on
// it. Nodes share no transaction: a read's pieces run on the connection,
// and a minute rolled again meanwhile is read in its newest complete
// version.
type rollups struct{ e *Engine }

var (
	_ rollup.Planner = rollups{}
	_ rollup.Source  = rollups{}
)

// Rolled implements rollup.Planner.
func (ro rollups) Rolled(ctx context.Context, op string, r store.TimeRange, step int64, read func(rollup.Source, rollup.Plan) error) (ok bool, err error) {
	e := ro.e
	if e.set.Rollups.MinSpans < 0 {
		return false, nil
	}
	p, ok, err := e.rollupPlan(ctx, r, step)
	if err != nil {
		return false, e.fail(op, err)
	}
	if !ok {
		return false, nil
	}
	if err := read(ro, p); err != nil {
		return false, e.fail(op, err)
	}
	return true, nil
}

// Groups implements rollup.Source.
func (ro rollups) Groups(ctx context.Context, query string, shape rollup.Shape, row func(*rollup.Row)) error {
	r := rollup.Row{Keys: make([]string, shape.Keys)}
	dst := make([]any, 0, shape.Keys+7)
	for i := range r.Keys {
		dst = append(dst, &r.Keys[i])
	}
	// The driver scans only the exact column type.
	var (
		flag   bool
		metric uint8
	)
	switch shape.Extra {
	case rollup.Flag:
		dst = append(dst, &flag)
	case rollup.Metric:
		dst = append(dst, &metric)
	case rollup.Int:
		dst = append(dst, &r.Extra)
	}
	dst = append(dst, &r.Bucket, &r.N, &r.Errors)
	if shape.Cold {
		dst = append(dst, &r.Cold)
	}
	dst = append(dst, &r.Lo, &r.Hi)
	return ro.e.each(withNulls(ctx), query, func(scan func(...any) error) error {
		if err := scan(dst...); err != nil {
			return err
		}
		switch shape.Extra {
		case rollup.Flag:
			r.Extra = 0
			if flag {
				r.Extra = 1
			}
		case rollup.Metric:
			r.Extra = int64(metric)
		}
		row(&r)
		return nil
	})
}

// HopExtent implements rollup.Source.
func (ro rollups) HopExtent(ctx context.Context, r store.TimeRange) (lo, hi int64, ok bool, err error) {
	return ro.e.hopExtent(ctx, store.MapQuery{TimeRange: r})
}
