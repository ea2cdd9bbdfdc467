package stmt

import (
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// The rollups' statements: the reads, which sum the per-minute
// histograms of the map queries (MapRollup) over the minutes a plan takes
// from them, and the rollup jobs' inserts and scans. The engines' rollup
// tables have the same columns. ClickHouse's also have a version: any
// node may roll a minute, so every roll writes its rows under a new
// version and then lists the minute with it in rollup_minutes, and a read
// takes each minute's newest listed version only; an unfinished or raced
// roll is never read, and no minute is counted twice.

// rollupFrom is the rollup table t a read of minutes sums, with the
// condition that picks the rows of those minutes.
func (d Dialect) rollupFrom(t string, minutes []store.TimeRange) string {
	s := d.Table(t) + " WHERE " + mapMinutes(minutes)
	if d.ch {
		s += " AND (minute, version) IN (SELECT minute, max(version) FROM " + d.Table("rollup_minutes") +
			" WHERE " + mapMinutes(minutes) + " GROUP BY minute)"
	}
	return s
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
	return fmt.Sprintf(`SELECT service, "function", %s FROM %s%s GROUP BY service, "function", bucket`,
		rollupSums(true), d.rollupFrom("rollup_nodes", minutes), d.rollupEnv(env))
}

// RollupCalls reads the call histograms of minutes, as MapCalls does in
// MapHistogram mode.
func RollupCalls(d Dialect, env string, minutes []store.TimeRange) string {
	keys := `caller_service, caller_function, callee_service, callee_function, peer_kind, peer`
	return fmt.Sprintf(`SELECT %s, %s, %s FROM %s%s GROUP BY %s, bucket`,
		keys, d.AnyRow("messaging"), rollupSums(false), d.rollupFrom("rollup_calls", minutes), d.rollupEnv(env), keys)
}

// RollupHops reads the hop histograms of minutes, as MapHops does in
// MapHistogram mode.
func RollupHops(d Dialect, env string, minutes []store.TimeRange) string {
	keys := `producer_service, producer_function, consumer_service, consumer_function, channel, producer_destination, consumer_destination, consumer_system`
	return fmt.Sprintf(`SELECT %s, metric, %s FROM %s%s GROUP BY %s, metric, bucket`,
		keys, rollupSums(false), d.rollupFrom("rollup_hops", minutes), d.rollupEnv(env), keys)
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
	return fmt.Sprintf(`SELECT %s AS g, %d + %s * %d AS tb, %s FROM %s%s GROUP BY g, tb, bucket`,
		redGroup(q.GroupBy), q.Start, d.IntDiv(fmt.Sprintf("minute - %d", q.Start), Int(q.Step)), q.Step,
		rollupSums(true), d.rollupFrom("rollup_nodes", minutes), cond.String())
}

// RollupSpans counts the spans of each minute of r (the rollup jobs
// record it, so that a read knows how much data its minutes hold).
func RollupSpans(d Dialect, r store.TimeRange) string {
	return fmt.Sprintf(`SELECT %s AS m, count(*) AS n FROM %s WHERE %s GROUP BY m`,
		d.MapMinute("start_time"), d.Table("spans"), Range("start_time", r))
}

// RollupInsert stores the rows of sel, a MapRollup query, in rollup
// table t; in ClickHouse under version.
func RollupInsert(d Dialect, t, sel string, version int64) string {
	if d.ch {
		return fmt.Sprintf("INSERT INTO %s SELECT *, %d FROM (%s)", d.Table(t), version, sel)
	}
	return "INSERT INTO " + d.Table(t) + " " + sel
}

// RollupMinutesInsert lists the minutes of r that hold spans in
// rollup_minutes, with their spans, as rolled at rolledAt; in ClickHouse
// under version (the last insert of a roll: the minutes' rows are
// complete).
func RollupMinutesInsert(d Dialect, r store.TimeRange, version, rolledAt int64) string {
	v := ""
	if d.ch {
		v = Int(version) + ", "
	}
	return fmt.Sprintf("INSERT INTO %s SELECT m, %sn, %d FROM (%s)", d.Table("rollup_minutes"), v, rolledAt, RollupSpans(d, r))
}

// RollupLateConsumers is the minutes, from first to before sealed, of the
// consumer refs whose keys a producer ref of the minutes late names: a
// producer ref written late reaches the hops of its consumers, however
// much later they are.
func RollupLateConsumers(d Dialect, late []int64, first, sealed int64) string {
	ms := make([]string, len(late))
	for i, m := range late {
		ms[i] = Int(m)
	}
	refs := d.Table("message_refs")
	return fmt.Sprintf(`SELECT DISTINCT %s FROM %s
WHERE role = 2 AND "time" >= %d AND "time" < %d AND "key" IN (
	SELECT "key" FROM %s WHERE role = 1 AND %s IN (%s))`,
		d.MapMinute(`"time"`), refs, first, sealed, refs, d.MapMinute(`"time"`), strings.Join(ms, ","))
}

// RollupDataMinutes is the minutes of [lo, hi) that hold spans or
// message refs, ascending.
func RollupDataMinutes(d Dialect, lo, hi int64) string {
	return fmt.Sprintf(`SELECT DISTINCT m FROM (
	SELECT %[1]s AS m FROM %[2]s WHERE start_time >= %[3]d AND start_time < %[4]d
	UNION ALL SELECT %[5]s AS m FROM %[6]s WHERE "time" >= %[3]d AND "time" < %[4]d) ORDER BY m`,
		d.MapMinute("start_time"), d.Table("spans"), lo, hi, d.MapMinute(`"time"`), d.Table("message_refs"))
}
