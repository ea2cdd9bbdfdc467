package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
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

// RollupSettings tune the rollups. Zero fields take the defaults.
type RollupSettings struct {
	// Interval is the pause between runs of the background job (default
	// 15 s). Negative: no background job; RollupNow still runs it.
	Interval time.Duration
	// Grace is how long past a minute's calls window (its end + 60 s)
	// the job waits before sealing it, and how old a mark must be before
	// its minutes are rolled again (default 30 s).
	Grace time.Duration
	// MinSpans: a query reads rollups only when its usable minutes hold
	// at least this many spans (default 20 000); below, the raw queries
	// are fast and give exact percentiles. Negative: never read rollups.
	MinSpans int64
	// BatchMinutes bounds the minutes one roll covers (default 10).
	BatchMinutes int
	// Now is the job's clock for sealing; nil means time.Now. Marks are
	// timed by the ClickHouse server's clock.
	Now func() time.Time
}

// Defaults of RollupSettings.
const (
	DefaultRollupInterval     = 15 * time.Second
	DefaultRollupGrace        = 30 * time.Second
	DefaultRollupMinSpans     = 20_000
	DefaultRollupBatchMinutes = 10
)

func (s RollupSettings) withDefaults() RollupSettings {
	if s.Interval == 0 {
		s.Interval = DefaultRollupInterval
	}
	if s.Grace <= 0 {
		s.Grace = DefaultRollupGrace
	}
	if s.MinSpans == 0 {
		s.MinSpans = DefaultRollupMinSpans
	}
	if s.BatchMinutes <= 0 {
		s.BatchMinutes = DefaultRollupBatchMinutes
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

const minuteNs = stmt.MinuteNs

// staleBefore and staleAfter bound the minutes a write at minute T makes
// stale: [T − staleBefore, T + staleAfter], as in the embedded engine.
// The calls of minute m match server spans in [m − 60 s, m + 120 s)
// (stmt.MapCallSlack); a producer span reaches hops whose producer ref
// lies up to 15 minutes later (stmt.MapHopProducerSpan).
const (
	staleBefore = minuteNs
	staleAfter  = 16 * minuteNs
)

// rollupStateKey is the rollup_state row of the service map job.
const rollupStateKey = "servicemap"

func floorMinute(t int64) int64 { return t / minuteNs * minuteNs }

// rollupJob is the background job of one node. One run at a time per
// node (mu); runs of several nodes may overlap.
type rollupJob struct {
	e    *Engine
	set  RollupSettings
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startRollups(e *Engine) *rollupJob {
	j := &rollupJob{e: e, set: e.set.Rollups, stop: make(chan struct{}), done: make(chan struct{})}
	if j.set.Interval < 0 {
		close(j.done)
		return j
	}
	go j.loop()
	return j
}

func (j *rollupJob) loop() {
	defer close(j.done)
	t := time.NewTicker(j.set.Interval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		}
		if !j.e.ready.Load() || j.e.down.Load() {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-j.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := j.run(ctx, false)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			j.e.set.Logger.Warn("service map rollup failed", "err", err)
		}
	}
}

func (j *rollupJob) close() {
	j.once.Do(func() { close(j.stop) })
	<-j.done
}

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

// sealedAt is the end of the sealed minutes at wall time now: a minute
// m is sealed when its calls window (to m + 2 min) ended Grace ago.
func (j *rollupJob) sealedAt(now time.Time) int64 {
	return floorMinute(now.UnixNano()-int64(j.set.Grace)) - minuteNs
}

// run plans the minutes to roll (newly sealed, and reached by settled
// marks), rolls them, and then records the progress.
func (j *rollupJob) run(ctx context.Context, settleAll bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.e
	d := e.dialect()
	old, err := e.rollState(ctx)
	if err != nil {
		return fmt.Errorf("service map rollup: read state: %w", err)
	}
	sealed := max(old.sealed, j.sealedAt(j.set.Now()))
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
	todo := map[int64]struct{}{}
	addWindow := func(t, lo, hi int64) {
		for m := max(floorMinute(t)-staleBefore, lo); m <= floorMinute(t)+staleAfter && m < hi; m += minuteNs {
			todo[m] = struct{}{}
		}
	}
	for _, t := range marks {
		addWindow(t, 0, sealed)
	}
	var late []int64
	for _, t := range marks {
		if t+staleAfter+minuteNs < sealed {
			late = append(late, t)
		}
	}
	if len(late) > 0 {
		cons, err := e.queryInts(ctx, stmt.RollupLateConsumers(d, late, late[0], sealed))
		if err != nil {
			return fmt.Errorf("service map rollup: late refs: %w", err)
		}
		for _, m := range cons {
			todo[m] = struct{}{}
		}
	}
	if sealed > old.sealed {
		found, err := e.queryInts(ctx, stmt.RollupDataMinutes(d, max(old.sealed-staleAfter, 0), sealed+staleBefore))
		if err != nil {
			return fmt.Errorf("service map rollup: sealed minutes: %w", err)
		}
		for _, t := range found {
			addWindow(t, old.sealed, sealed)
		}
	}
	// Minutes a busy mark reaches wait for it: rolled now, they would be
	// rolled again once it settles.
	for _, t := range busy {
		for m := floorMinute(t) - staleBefore; m <= floorMinute(t)+staleAfter; m += minuteNs {
			delete(todo, m)
		}
	}
	ms := make([]int64, 0, len(todo))
	for m := range todo {
		ms = append(ms, m)
	}
	slices.Sort(ms)
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
	runs := minuteRuns(minutes)
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

// minuteRuns groups sorted minute starts into ranges of consecutive
// minutes.
func minuteRuns(ms []int64) []store.TimeRange {
	var out []store.TimeRange
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].End == m {
			out[n-1].End = m + minuteNs
			continue
		}
		out = append(out, store.TimeRange{Start: m, End: m + minuteNs})
	}
	return out
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

// rollPlan splits a range into minutes read from the rollups and pieces
// read raw (stmt.MapSplit).
type rollPlan struct {
	minutes []store.TimeRange
	raw     []store.TimeRange
}

// rollupPlan plans r from the shared progress, the unread marks and the
// spans of the rolled minutes. When step > 0 (RED), minutes that straddle
// a boundary Start + i·step are read raw.
func (e *Engine) rollupPlan(ctx context.Context, r store.TimeRange, step int64) (rollPlan, bool, error) {
	set := e.set.Rollups
	if set.MinSpans < 0 {
		return rollPlan{}, false, nil
	}
	lo := floorMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = floorMinute(r.End)
	}
	if hi <= lo {
		return rollPlan{}, false, nil
	}
	state := fmt.Sprintf("%s WHERE name = %s", e.t("rollup_state"), sqlStr(rollupStateKey))
	var (
		sealed  int64
		invalid []store.TimeRange
		counts  [][2]int64
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
			invalid = append(invalid, store.TimeRange{Start: m - staleBefore, End: m + staleAfter + minuteNs})
		case 3:
			counts = append(counts, [2]int64{m, n})
		}
		return nil
	})
	if err != nil {
		return rollPlan{}, false, err
	}
	var p rollPlan
	var ok bool
	if p.minutes, p.raw, ok = stmt.MapSplit(r, step, sealed, invalid); !ok {
		return rollPlan{}, false, nil
	}
	var spans int64
	for _, c := range counts {
		for _, u := range p.minutes {
			if c[0] >= u.Start && c[0] < u.End {
				spans += c[1]
				break
			}
		}
	}
	if spans < set.MinSpans {
		return rollPlan{}, false, nil
	}
	return p, true, nil
}

// rolled runs read when the plan of r uses rollups; ok is false when it
// does not (the caller reads raw).
func (e *Engine) rolled(ctx context.Context, op string, r store.TimeRange, step int64, read func(p rollPlan) error) (ok bool, err error) {
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
	if err := read(p); err != nil {
		return false, e.fail(op, err)
	}
	return true, nil
}

// histRow is the common tail of a histogram row: bucket, count, errors,
// [cold starts,] smallest, largest.
type histRow struct {
	b               int16
	n, errors, cold int64
	lo, hi          int64
}

// scanGroups runs query and feeds each row's nk string keys and
// histogram tail to add. extra are scanned between the keys and the tail
// (a metric, a time bucket, the messaging flag).
func (e *Engine) scanGroups(ctx context.Context, query string, nk int, extra []any, cold bool, add func(keys []string, h histRow)) error {
	ks := make([]string, nk)
	dst := make([]any, 0, nk+len(extra)+6)
	for i := range ks {
		dst = append(dst, &ks[i])
	}
	dst = append(dst, extra...)
	var h histRow
	dst = append(dst, &h.b, &h.n, &h.errors)
	if cold {
		dst = append(dst, &h.cold)
	}
	dst = append(dst, &h.lo, &h.hi)
	return e.each(withNulls(ctx), query, func(scan func(...any) error) error {
		h.cold = 0
		if err := scan(dst...); err != nil {
			return err
		}
		add(ks, h)
		return nil
	})
}

func (e *Engine) rolledNodes(ctx context.Context, q store.MapQuery, limit int) ([]store.NodeRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := e.dialect()
	var g stmt.MapGroups[[2]string]
	add := func(k []string, h histRow) {
		a := g.Get([2]string{k[0], k[1]})
		a.N += h.n
		a.Errors += h.errors
		a.Cold += h.cold
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map nodes", q.TimeRange, 0, func(p rollPlan) error {
		if err := e.scanGroups(ctx, stmt.RollupNodes(d, q.Environment, p.minutes), 2, nil, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			if err := e.scanGroups(ctx, stmt.MapNodes(d, pq, 0, stmt.MapHistogram), 2, nil, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.NodeRow{}
	for _, k := range g.ByCount(d, func(k [2]string) []string { return k[:] }) {
		a := g.Get(k)
		out = append(out, store.NodeRow{Endpoint: store.Endpoint{Service: k[0], Function: k[1]},
			Count: a.N, Errors: a.Errors, ColdStarts: a.Cold, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

func (e *Engine) rolledCalls(ctx context.Context, q store.MapQuery, limit int) ([]store.CallRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := e.dialect()
	var g stmt.MapGroups[[6]string]
	var messaging bool
	add := func(k []string, h histRow) {
		a := g.Get([6]string(k))
		a.N += h.n
		a.Errors += h.errors
		a.Messaging = a.Messaging || messaging
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map calls", q.TimeRange, 0, func(p rollPlan) error {
		if err := e.scanGroups(ctx, stmt.RollupCalls(d, q.Environment, p.minutes), 6, []any{&messaging}, false, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			if err := e.scanGroups(ctx, stmt.MapCalls(d, pq, 0, stmt.MapHistogram), 6, []any{&messaging}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.CallRow{}
	for _, k := range g.ByCount(d, func(k [6]string) []string { return k[:] }) {
		a := g.Get(k)
		out = append(out, store.CallRow{
			Caller: store.Endpoint{Service: k[0], Function: k[1]}, Callee: store.Endpoint{Service: k[2], Function: k[3]},
			PeerKind: k[4], Peer: k[5], Messaging: a.Messaging, Count: a.N, Errors: a.Errors, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

func (e *Engine) rolledHops(ctx context.Context, q store.MapQuery, limit int) ([]store.HopRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := e.dialect()
	var g stmt.MapGroups[[8]string]
	var metric uint8
	add := func(k []string, h histRow) {
		a := g.Get([8]string(k))
		if metric == 0 {
			a.N += h.n
			a.Errors += h.errors
			a.Dur.Add(h.b, h.n, h.lo, h.hi)
		} else {
			a.Lag.Add(h.b, h.n, h.lo, h.hi)
		}
	}
	ok, err := e.rolled(ctx, "read map hops", q.TimeRange, 0, func(p rollPlan) error {
		if err := e.scanGroups(ctx, stmt.RollupHops(d, q.Environment, p.minutes), 8, []any{&metric}, false, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			plo, phi, found, err := e.hopExtent(ctx, pq)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			if err := e.scanGroups(ctx, stmt.MapHops(d, pq, plo, phi, 0, stmt.MapHistogram), 8, []any{&metric}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.HopRow{}
	for _, k := range g.ByCount(d, func(k [8]string) []string { return k[:] }) {
		a := g.Get(k)
		if a.N == 0 {
			continue // lag rows alone cannot occur; be safe
		}
		out = append(out, store.HopRow{
			Producer: store.Endpoint{Service: k[0], Function: k[1]}, Consumer: store.Endpoint{Service: k[2], Function: k[3]},
			Channel: k[4], ProducerDestination: k[5], ConsumerDestination: k[6], ConsumerSystem: k[7],
			Count: a.N, Errors: a.Errors, Latency: a.Dur.Latency(), Lag: a.Lag.Latency(), LagCount: a.Lag.N()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

// rolledRED answers RED series of entry spans from the node rollups;
// series of an operation, or grouped by operation, are read raw.
func (e *Engine) rolledRED(ctx context.Context, q store.REDQuery, limit int) ([]store.REDRow, bool, bool, error) {
	if q.Operation != "" || q.GroupBy == "operation" {
		return nil, false, false, nil
	}
	type key struct {
		g string
		t int64
	}
	d := e.dialect()
	var g stmt.MapGroups[key]
	var tb int64
	add := func(k []string, h histRow) {
		a := g.Get(key{k[0], tb})
		a.N += h.n
		a.Errors += h.errors
		a.Cold += h.cold
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read RED series", q.TimeRange, q.Step, func(p rollPlan) error {
		if err := e.scanGroups(ctx, stmt.RollupRED(d, q, p.minutes), 1, []any{&tb}, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			if err := e.scanGroups(ctx, stmt.RED(d, q, r, 0, stmt.MapHistogram), 1, []any{&tb}, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	keys := g.Keys()
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.g, b.g); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	out := []store.REDRow{}
	for _, k := range keys {
		a := g.Get(k)
		out = append(out, store.REDRow{Group: k.g, Bucket: k.t, Count: a.N, Errors: a.Errors, ColdStarts: a.Cold, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}
