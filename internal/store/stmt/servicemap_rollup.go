package stmt

import (
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// The reads of the service map rollups: per-minute histograms of the map
// queries (MapRollup), summed over the minutes a plan reads from them.
// The engines' rollup tables have the same columns; ClickHouse's are
// ReplacingMergeTree, where a minute rolled again replaces its rows only
// once parts merge, so its reads are FINAL.

// mapRollupTable is rollup table t as a read names it.
func (d Dialect) mapRollupTable(t string) string {
	if d.ch {
		return d.Table(t) + " FINAL"
	}
	return d.Table(t)
}

// mapMinutes is the condition selecting the rows of minutes (minute-
// aligned ranges).
func mapMinutes(minutes []store.TimeRange) string {
	if len(minutes) == 0 {
		return "false"
	}
	parts := make([]string, len(minutes))
	for i, m := range minutes {
		parts[i] = fmt.Sprintf("minute >= %d AND minute < %d", m.Start, m.End)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// rollupSums is the tail of a rollup read: the histogram columns summed
// (the tail of a MapHistogram row).
func rollupSums(cold bool) string {
	s := "bucket, CAST(sum(count) AS BIGINT), CAST(sum(errors) AS BIGINT)"
	if cold {
		s += ", CAST(sum(cold_starts) AS BIGINT)"
	}
	return s + ", min(min_ns), max(max_ns)"
}

func (d Dialect) rollupEnv(env string) string {
	if env == "" {
		return ""
	}
	return " AND environment = " + d.Str(env)
}

// RollupNodes reads the node histograms of minutes, as MapNodes does in
// MapHistogram mode.
func RollupNodes(d Dialect, env string, minutes []store.TimeRange) string {
	return fmt.Sprintf(`SELECT service, "function", %s FROM %s WHERE %s%s GROUP BY service, "function", bucket`,
		rollupSums(true), d.mapRollupTable("rollup_nodes"), mapMinutes(minutes), d.rollupEnv(env))
}

// RollupCalls reads the call histograms of minutes, as MapCalls does in
// MapHistogram mode.
func RollupCalls(d Dialect, env string, minutes []store.TimeRange) string {
	keys := `caller_service, caller_function, callee_service, callee_function, peer_kind, peer`
	return fmt.Sprintf(`SELECT %s, %s, %s FROM %s WHERE %s%s GROUP BY %s, bucket`,
		keys, d.mapBoolOr("messaging"), rollupSums(false), d.mapRollupTable("rollup_calls"), mapMinutes(minutes), d.rollupEnv(env), keys)
}

// RollupHops reads the hop histograms of minutes, as MapHops does in
// MapHistogram mode.
func RollupHops(d Dialect, env string, minutes []store.TimeRange) string {
	keys := `producer_service, producer_function, consumer_service, consumer_function, channel, producer_destination, consumer_destination, consumer_system`
	return fmt.Sprintf(`SELECT %s, metric, %s FROM %s WHERE %s%s GROUP BY %s, metric, bucket`,
		keys, rollupSums(false), d.mapRollupTable("rollup_hops"), mapMinutes(minutes), d.rollupEnv(env), keys)
}

// RollupRED reads a RED series of entry spans from the node histograms
// of minutes, as RED does in MapHistogram mode; every minute must lie in one
// step.
func RollupRED(d Dialect, q store.REDQuery, minutes []store.TimeRange) string {
	var cond strings.Builder
	if q.Service != "" {
		cond.WriteString(" AND service = " + d.Str(q.Service))
	}
	if q.Function != "" {
		cond.WriteString(` AND "function" = ` + d.Str(q.Function))
	}
	cond.WriteString(d.rollupEnv(q.Environment))
	return fmt.Sprintf(`SELECT %s AS g, %d + %s * %d AS tb, %s FROM %s WHERE %s%s GROUP BY g, tb, bucket`,
		redGroup(q.GroupBy), q.Start, d.mapIntDiv(fmt.Sprintf("minute - %d", q.Start), Int(q.Step)), q.Step,
		rollupSums(true), d.mapRollupTable("rollup_nodes"), mapMinutes(minutes), cond.String())
}

// RollupSpans counts the spans of each minute of r (the rollup jobs
// record it, so that a read knows how much data its minutes hold).
func RollupSpans(d Dialect, r store.TimeRange) string {
	return fmt.Sprintf(`SELECT %s AS m, count(*) FROM %s WHERE %s GROUP BY m`,
		d.MapMinute("start_time"), d.Table("spans"), Range("start_time", r))
}
