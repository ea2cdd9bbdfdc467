// Package rollup is the service map's per-minute rollups as both engines
// read them (docs/servicemap.md "Rollups"): the job's settings and its
// arithmetic of minutes (which minutes a write makes stale, which are
// sealed), the split of a range into rolled and raw pieces, the mergeable
// duration histograms, and the readers that merge rolled and raw groups
// into the map's rows.
//
// It owns no SQL and opens no connection: the statements come from
// package stmt, and an engine runs them through a Source (its connection,
// or one transaction's snapshot). It must not import a driver nor an
// engine; the engines import it.
package rollup

import (
	"slices"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Settings tune the rollups. Zero fields take the defaults.
type Settings struct {
	// Interval is the pause between runs of the background job (default
	// 15 s). Negative: no background job; RollupNow still runs it.
	Interval time.Duration
	// Grace is how long past a minute's calls window (its end + 60 s)
	// the job waits before sealing it, and how old a mark must be before
	// the job rolls its minutes (again), for late exports (default 30 s).
	Grace time.Duration
	// MinSpans: a query reads rollups only when its usable minutes hold
	// at least this many spans (default 20 000); below, the raw queries
	// are fast and give exact percentiles. Negative: never read rollups.
	MinSpans int64
	// BatchMinutes bounds the minutes one transaction (DuckDB) or one
	// roll (ClickHouse) of the job covers (default 10).
	BatchMinutes int
	// Now is the job's clock: it seals minutes, and on DuckDB it times
	// the marks too (ClickHouse times them by the server's clock); nil
	// means time.Now.
	Now func() time.Time
}

// Defaults of Settings.
const (
	DefaultInterval     = 15 * time.Second
	DefaultGrace        = 30 * time.Second
	DefaultMinSpans     = 20_000
	DefaultBatchMinutes = 10
)

// WithDefaults is s with its zero fields set to the defaults.
func (s Settings) WithDefaults() Settings {
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Grace <= 0 {
		s.Grace = DefaultGrace
	}
	if s.MinSpans == 0 {
		s.MinSpans = DefaultMinSpans
	}
	if s.BatchMinutes <= 0 {
		s.BatchMinutes = DefaultBatchMinutes
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

// SealedAt is the end of the sealed minutes at wall time now: a minute m
// is sealed when its calls window (to m + 2 min) ended Grace ago.
func (s Settings) SealedAt(now time.Time) int64 {
	return FloorMinute(now.UnixNano()-int64(s.Grace)) - stmt.MinuteNs
}

// FloorMinute is the start of t's minute (t ≥ 0, as SQL's integer
// division agrees).
func FloorMinute(t int64) int64 { return t / stmt.MinuteNs * stmt.MinuteNs }

// CeilMinute is the first minute start at or after t.
func CeilMinute(t int64) int64 {
	m := FloorMinute(t)
	if m < t {
		m += stmt.MinuteNs
	}
	return m
}

// StaleBefore and StaleAfter bound the minutes a write at minute T makes
// stale: [T − StaleBefore, T + StaleAfter]. The calls of minute m match
// server spans in [m − 60 s, m + 120 s) (stmt.MapCallSlack), so a span
// written at t in minute T reaches the calls of minutes T − 1, T and
// T + 1; a producer span reaches hops whose producer ref (its end) lies
// up to 15 minutes later (stmt.MapHopProducerSpan), and whose consumers
// lie later still.
const (
	StaleBefore = stmt.MinuteNs
	StaleAfter  = 16 * stmt.MinuteNs
)

// Reach is the range of minutes a write in minute m makes stale, as a
// read must take it raw.
func Reach(m int64) store.TimeRange {
	return store.TimeRange{Start: m - StaleBefore, End: m + StaleAfter + stmt.MinuteNs}
}

// MinuteRuns groups sorted minute starts into ranges of consecutive
// minutes.
func MinuteRuns(ms []int64) []store.TimeRange {
	var out []store.TimeRange
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].End == m {
			out[n-1].End = m + stmt.MinuteNs
			continue
		}
		out = append(out, store.TimeRange{Start: m, End: m + stmt.MinuteNs})
	}
	return out
}

// Todo is the set of minutes one run of the job rolls (again).
type Todo map[int64]struct{}

// AddReach adds the minutes in [lo, hi) a write at t makes stale.
func (td Todo) AddReach(t, lo, hi int64) {
	for m := max(FloorMinute(t)-StaleBefore, lo); m <= FloorMinute(t)+StaleAfter && m < hi; m += stmt.MinuteNs {
		td[m] = struct{}{}
	}
}

// DropReach removes every minute a write at t makes stale: while its
// writes are still arriving, a minute rolled now would be rolled again
// once they settle.
func (td Todo) DropReach(t int64) {
	for m := FloorMinute(t) - StaleBefore; m <= FloorMinute(t)+StaleAfter; m += stmt.MinuteNs {
		delete(td, m)
	}
}

// Minutes are td's minutes, ascending.
func (td Todo) Minutes() []int64 {
	ms := make([]int64, 0, len(td))
	for m := range td {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return ms
}

// Late are the marks, among the settled marks at minutes marks, whose
// producer refs may reach consumers beyond their stale window but before
// sealed: the job looks those consumers up by key
// (stmt.RollupLateConsumers).
func Late(marks []int64, sealed int64) []int64 {
	var late []int64
	for _, t := range marks {
		if t+StaleAfter+stmt.MinuteNs < sealed {
			late = append(late, t)
		}
	}
	return late
}
