package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Service map rollups: per-minute aggregates of the map's three queries
// (nodes, calls, hops), so that a map of an hour of 10M spans reads a few
// thousand rows instead of joining millions (docs/servicemap.md
// "Rollups", docs/benchmarks-servicemap.md).
//
// A minute is rolled up once it is sealed: when the wall clock has passed
// its end by the calls' 60 s slack and Grace. The job
// computes it with the very builders of the raw queries in rollup mode, so
// a rollup minute holds what a raw query of that minute returns. Data
// that arrives after its minute was sealed is caught by marks: every
// commit appends, in its own transaction, the minutes its rows fall in
// (rollup_marks); a mark at minute t makes minutes t−1 … t+16 stale (a
// span reaches the calls of the minutes around it through the slack, and
// hops up to 16 minutes after it as a producer span), and, for producer
// refs, the minutes of the consumers with the same keys. The job turns
// marks into rollup_todo and recomputes those minutes, each batch in one
// transaction (delete the minutes' rows, insert them anew), so the work
// is idempotent and a crash loses nothing: marks, todo and rollups commit
// together or not at all.
//
// A read (servicemap_plan.go) uses the rollups for the whole minutes of
// its range that are sealed and not stale, and reads the rest — the
// partial minutes at either end, the still-open tail, stale minutes —
// from the raw tables with the same queries in histogram mode, then
// merges the two.

// RollupSettings tune the rollups (rollup.Settings). Zero fields take
// the defaults.
type RollupSettings rollup.Settings

func (s RollupSettings) withDefaults() RollupSettings {
	return RollupSettings(rollup.Settings(s).WithDefaults())
}

const minuteNs = stmt.MinuteNs

// markRollups appends the minutes the spans, refs and invocations of
// batches fall in to rollup_marks, inside the commit's transaction.
func (w *writer) markRollups(ctx context.Context, batches []*model.Batch) error {
	var small [8]int64
	ms := small[:0]
	var big map[int64]struct{}
	last := int64(-1)
	add := func(t int64) {
		m := rollup.FloorMinute(t)
		if m == last {
			return
		}
		last = m
		if big != nil {
			big[m] = struct{}{}
			return
		}
		if !slices.Contains(ms, m) {
			ms = append(ms, m)
			if len(ms) > 32 {
				big = make(map[int64]struct{}, 64)
				for _, x := range ms {
					big[x] = struct{}{}
				}
			}
		}
	}
	for _, b := range batches {
		for i := range b.Spans {
			add(b.Spans[i].StartTime)
		}
		for i := range b.MessageRefs {
			add(b.MessageRefs[i].Time)
		}
		for i := range b.Invocations {
			add(b.Invocations[i].Start)
		}
	}
	if big != nil {
		ms = ms[:0]
		for m := range big {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil
	}
	now := strconv.FormatInt(w.e.set.Rollups.Now().UnixNano(), 10)
	var q strings.Builder
	q.WriteString("INSERT INTO rollup_marks VALUES ")
	for i, m := range ms {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(" + strconv.FormatInt(m, 10) + "," + now + ")")
	}
	if _, err := w.conn.ExecContext(ctx, q.String()); err != nil {
		return fmt.Errorf("mark rollups: %w", err)
	}
	return nil
}

// rollupJob is the background job (rollup.Job); it and RollupNow run
// one at a time.
type rollupJob struct {
	e   *Engine
	set RollupSettings
	job *rollup.Job
}

func startRollups(e *Engine) *rollupJob {
	j := &rollupJob{e: e, set: e.set.Rollups}
	j.job = rollup.StartJob(rollup.Settings(j.set), e.set.Logger, nil, j.runOnce)
	return j
}

// run runs the job once, after the run in progress if any.
func (j *rollupJob) run(ctx context.Context, settleAll bool) error { return j.job.Run(ctx, settleAll) }

func (j *rollupJob) close() { j.job.Close() }

// RollupNow runs the rollup job once, to the end, taking every write so
// far as settled: every minute sealed by now and every stale minute is
// rolled up when it returns (unless data arrives meanwhile). The
// background job does the same every RollupSettings.Interval, leaving
// minutes still being written (marks younger than Grace) for later;
// benchmarks and tests call this.
func (e *Engine) RollupNow(ctx context.Context) error { return e.roll.run(ctx, true) }

// RollupStats describe the rollup state, for tests and benchmarks.
type RollupStats struct {
	Sealed  int64 // minutes before this are sealed
	Todo    int64 // minutes waiting to be (re)computed
	Marks   int64 // marks not yet read by the job
	Minutes int64 // rolled-up minutes with spans
}

// RollupStats reads the rollup state.
func (e *Engine) RollupStats(ctx context.Context) (RollupStats, error) {
	var s RollupStats
	err := e.db.QueryRowContext(ctx, `SELECT (SELECT max(sealed) FROM rollup_state), (SELECT count(DISTINCT minute) FROM rollup_todo),
	(SELECT count(*) FROM rollup_marks), (SELECT count(*) FROM rollup_minutes)`).Scan(&s.Sealed, &s.Todo, &s.Marks, &s.Minutes)
	return s, err
}

func (j *rollupJob) runOnce(ctx context.Context, settleAll bool) error {
	if err := j.plan(ctx, settleAll); err != nil {
		return fmt.Errorf("service map rollup: plan: %w", err)
	}
	for {
		n, err := j.rollBatch(ctx)
		if err != nil {
			return fmt.Errorf("service map rollup: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// plan advances the sealed watermark and turns marks into rollup_todo, in
// one transaction.
func (j *rollupJob) plan(ctx context.Context, settleAll bool) error {
	tx, err := j.e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var old int64
	if err := tx.QueryRowContext(ctx, "SELECT max(sealed) FROM rollup_state").Scan(&old); err != nil {
		return err
	}
	now := j.set.Now()
	sealed := max(old, rollup.Settings(j.set).SealedAt(now))
	todo := rollup.Todo{}
	// Marks younger than Grace stay: their minutes are still being
	// written (a live minute, or a backfill passing through), and each
	// minute is rolled up once its writes have settled rather than after
	// every commit. Until then they keep their minutes stale for reads.
	quiet := now.Add(-j.set.Grace).UnixNano()
	if settleAll {
		quiet = math.MaxInt64
	}
	marks, err := queryInts(ctx, tx, fmt.Sprintf("SELECT DISTINCT minute FROM rollup_marks WHERE marked_at <= %d ORDER BY minute", quiet))
	if err != nil {
		return err
	}
	busy, err := queryInts(ctx, tx, fmt.Sprintf("SELECT DISTINCT minute FROM rollup_marks WHERE marked_at > %d", quiet))
	if err != nil {
		return err
	}
	// Stale minutes: the reach of every settled mark, within the sealed
	// minutes.
	for _, t := range marks {
		todo.AddReach(t, 0, sealed)
	}
	// A producer ref written late reaches the consumers of its keys,
	// however much later they are.
	if late := rollup.Late(marks, sealed); len(late) > 0 {
		cons, err := queryInts(ctx, tx, stmt.RollupLateConsumers(stmt.DuckDB(), late, late[0], sealed))
		if err != nil {
			return err
		}
		for _, m := range cons {
			todo[m] = struct{}{}
		}
	}
	// Newly sealed minutes with data within their reach.
	if sealed > old {
		lo := max(old-rollup.StaleAfter, 0)
		hi := sealed + rollup.StaleBefore
		found, err := queryInts(ctx, tx, stmt.RollupDataMinutes(stmt.DuckDB(), lo, hi))
		if err != nil {
			return err
		}
		for _, t := range found {
			todo.AddReach(t, old, sealed)
		}
	}
	// Minutes a busy mark reaches wait for it: rolled up now, they would
	// be rolled up again once it settles.
	for _, t := range busy {
		todo.DropReach(t)
	}
	if len(todo) > 0 {
		have, err := queryInts(ctx, tx, "SELECT DISTINCT minute FROM rollup_todo")
		if err != nil {
			return err
		}
		for _, m := range have {
			delete(todo, m)
		}
		ms := todo.Minutes()
		for len(ms) > 0 {
			n := min(len(ms), 1000)
			var q strings.Builder
			q.WriteString("INSERT INTO rollup_todo VALUES ")
			for i, m := range ms[:n] {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString("(" + strconv.FormatInt(m, 10) + ")")
			}
			if _, err := tx.ExecContext(ctx, q.String()); err != nil {
				return err
			}
			ms = ms[n:]
		}
	}
	// Exactly the settled marks this transaction read: marks committed
	// since are not visible to it and stay for the next run.
	if len(marks) > 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM rollup_marks WHERE marked_at <= %d", quiet)); err != nil {
			return err
		}
	}
	if sealed != old {
		if _, err := tx.ExecContext(ctx, "UPDATE rollup_state SET sealed = ?", sealed); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rollBatch recomputes up to BatchMinutes minutes of rollup_todo in one
// transaction; n is how many it took.
func (j *rollupJob) rollBatch(ctx context.Context) (n int, err error) {
	tx, err := j.e.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	ms, err := queryInts(ctx, tx, fmt.Sprintf("SELECT DISTINCT minute FROM rollup_todo ORDER BY minute LIMIT %d", j.set.BatchMinutes))
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	d := stmt.DuckDB()
	now := time.Now().UnixNano()
	for _, r := range rollup.MinuteRuns(ms) {
		where := fmt.Sprintf("minute >= %d AND minute < %d", r.Start, r.End)
		for _, t := range []string{"rollup_nodes", "rollup_calls", "rollup_hops", "rollup_minutes"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE "+where); err != nil {
				return 0, err
			}
		}
		q := store.MapQuery{TimeRange: r}
		if _, err := tx.ExecContext(ctx, stmt.RollupInsert(d, "rollup_nodes", stmt.MapNodes(d, q, 0, stmt.MapRollup), 0)); err != nil {
			return 0, fmt.Errorf("roll up nodes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, stmt.RollupInsert(d, "rollup_calls", stmt.MapCalls(d, q, 0, stmt.MapRollup), 0)); err != nil {
			return 0, fmt.Errorf("roll up calls: %w", err)
		}
		plo, phi, found, err := j.e.hopExtent(ctx, tx, r, nil)
		if err != nil {
			return 0, fmt.Errorf("roll up hops: %w", err)
		}
		if found {
			if _, err := tx.ExecContext(ctx, stmt.RollupInsert(d, "rollup_hops", stmt.MapHops(d, q, plo, phi, 0, stmt.MapRollup), 0)); err != nil {
				return 0, fmt.Errorf("roll up hops: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, stmt.RollupMinutesInsert(d, r, 0, now)); err != nil {
			return 0, err
		}
	}
	var list strings.Builder
	for i, m := range ms {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(strconv.FormatInt(m, 10))
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollup_todo WHERE minute IN ("+list.String()+")"); err != nil {
		return 0, err
	}
	return len(ms), tx.Commit()
}

// deleteRollupsBefore drops the rollups of minutes that end before t,
// with the raw data of the retention sweep (DeleteBefore).
func (e *Engine) deleteRollupsBefore(ctx context.Context, t int64) error {
	for _, tb := range []string{"rollup_nodes", "rollup_calls", "rollup_hops", "rollup_minutes", "rollup_todo"} {
		if _, err := e.db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE minute + %d <= ?", tb, minuteNs), t); err != nil {
			return unavailable("delete old "+tb, err)
		}
	}
	return nil
}

func queryInts(ctx context.Context, qr queryer, query string, args ...any) ([]int64, error) {
	rs, err := qr.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var v sql.NullInt64
		if err := rs.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			out = append(out, v.Int64)
		}
	}
	return out, rs.Err()
}
