package stmt

import (
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// IssueColumns are the columns of an issue, in the order IssueValues
// writes them and the engines scan them.
const IssueColumns = "id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, " +
	"sample_traces, explanation, opened_at, resolved_at, regressions, updated_at"

// keeperRevColumns are what a ClickHouse row updated by compare-and-set
// carries besides its data: the id of the write that made it and the ids
// of the last writes (KeeperCASUpdate).
const keeperRevColumns = "rev, revs"

// Issues lists the issues matching q, newest last_seen first, at most
// limit.
func Issues(d Dialect, q store.IssueQuery, limit int) string {
	conds := []string{Range("last_seen", q.TimeRange)}
	if q.Kind != "" {
		conds = append(conds, "kind = "+d.Str(q.Kind))
	}
	if q.Status != "" {
		conds = append(conds, "status = "+d.Str(string(q.Status)))
	}
	if q.Function != "" {
		conds = append(conds, "(function = "+d.Str(q.Function)+" OR channel = "+d.Str(q.Function)+")")
	}
	return "SELECT " + IssueColumns + " FROM " + d.Table("issues") + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY last_seen DESC, id LIMIT " + Int(int64(limit))
}

// Issue reads issue id. In ClickHouse it also reads the row's rev and
// revs, which a compare-and-set of the row starts from.
func Issue(d Dialect, id string) string {
	cols := IssueColumns
	if d.ch {
		cols += ", " + keeperRevColumns
	}
	return "SELECT " + cols + " FROM " + d.Table("issues") + " WHERE id = " + d.Str(id)
}

// IssueValues is is as the values of IssueColumns.
func IssueValues(d Dialect, is *store.Issue) string {
	return strings.Join(issueValueList(d, is), ", ")
}

func issueValueList(d Dialect, is *store.Issue) []string {
	return []string{d.Str(is.ID), d.Str(is.Kind), d.Str(is.Fingerprint), d.Str(is.Title), d.Str(is.Function),
		d.Str(is.Channel), d.Str(is.Severity), d.Str(string(is.Status)), Int(is.FirstSeen), Int(is.LastSeen), Int(is.Count),
		d.Str(formatIssueTraces(is.SampleTraces)), d.Str(is.Explanation), Int(is.OpenedAt), Int(is.ResolvedAt),
		Int(int64(is.Regressions)), Int(is.UpdatedAt)}
}

// formatIssueTraces is the stored form of sample traces: space-separated
// hex ids, as shared.FormatTraces writes and shared.ParseTraces reads
// (stmt imports no engine-side package).
func formatIssueTraces(ids []model.TraceID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " ")
}

// IssueSets is is as "column = value" assignments of every column but the
// key (which an update cannot change).
func IssueSets(d Dialect, is *store.Issue) string {
	names := strings.Split(IssueColumns, ", ")
	vals := issueValueList(d, is)
	sets := make([]string, 0, len(names)-1)
	for i := 1; i < len(names); i++ {
		sets = append(sets, names[i]+" = "+vals[i])
	}
	return strings.Join(sets, ", ")
}

// PutIssue writes is whole, replacing the row of its id. DuckDB only: its
// writes to issues run in a transaction, which makes the read and the
// write one change; ClickHouse writes issues by compare-and-set
// (KeeperInsertNew, KeeperCASUpdate).
func PutIssue(d Dialect, is *store.Issue) string {
	return "INSERT OR REPLACE INTO " + d.Table("issues") + " (" + IssueColumns + ") VALUES (" + IssueValues(d, is) + ")"
}

// IssueCount is the occurrences of one issue in one minute.
type IssueCount struct {
	IssueID string
	Bucket  int64 // Unix ns, the start of the minute
	Count   int64
}

// IssueCountBucket is the minute an occurrence ending at last is counted
// in.
func IssueCountBucket(last int64) int64 { return last - last%int64(time.Minute) }

// AddIssueCounts adds counts (one per issue and bucket) to issue_counts;
// "" for none. DuckDB keeps one row per key and adds to it; ClickHouse
// appends and SummingMergeTree (and IssueCounts' sum) adds up.
func AddIssueCounts(d Dialect, counts []IssueCount) string {
	if len(counts) == 0 {
		return ""
	}
	rows := make([]string, len(counts))
	for i, c := range counts {
		rows[i] = "(" + d.Str(c.IssueID) + ", " + Int(c.Bucket) + ", " + Int(c.Count) + ")"
	}
	q := "INSERT INTO " + d.Table("issue_counts") + " (issue_id, bucket, count) VALUES " + strings.Join(rows, ", ")
	if !d.ch {
		q += " ON CONFLICT (issue_id, bucket) DO UPDATE SET count = issue_counts.count + excluded.count"
	}
	return q
}

// IssueCounts sums the occurrences per issue counted since since (at
// one-minute resolution).
func IssueCounts(d Dialect, since int64) string {
	return "SELECT issue_id, CAST(sum(count) AS BIGINT) FROM " + d.Table("issue_counts") + " WHERE bucket >= " +
		Int(IssueCountBucket(since)) + " GROUP BY issue_id"
}

// staleIssues is the condition of the open issues last seen before before.
func staleIssues(before int64) string {
	return "status = 'open' AND last_seen < " + Int(before)
}

// StaleIssueIDs selects the ids of the open issues last seen before
// before. ClickHouse resolves them one by one by compare-and-set;
// ResolveStale is DuckDB's one statement for the same change.
func StaleIssueIDs(d Dialect, before int64) string {
	return "SELECT id FROM " + d.Table("issues") + " WHERE " + staleIssues(before) + " ORDER BY id"
}

// ResolveStale resolves the open issues last seen before before. DuckDB
// only (see StaleIssueIDs).
func ResolveStale(d Dialect, before, now int64) string {
	return "UPDATE " + d.Table("issues") + " SET status = 'resolved', resolved_at = " + Int(now) + ", updated_at = " + Int(now) +
		" WHERE " + staleIssues(before)
}

// SetIssueStatus sets issue id's status, stamping resolved_at when it
// becomes resolved. DuckDB only: ClickHouse rewrites the row by
// compare-and-set (IssueSets).
func SetIssueStatus(d Dialect, id string, s store.IssueStatus, now int64) string {
	resolvedAt := int64(0)
	if s == store.IssueResolved {
		resolvedAt = now
	}
	return "UPDATE " + d.Table("issues") + " SET status = " + d.Str(string(s)) + ", resolved_at = " + Int(resolvedAt) +
		", updated_at = " + Int(now) + " WHERE id = " + d.Str(id)
}

// DetectorWatermark reads the end of the last window detector name
// committed.
func DetectorWatermark(d Dialect, name string) string {
	return "SELECT watermark FROM " + d.Table("detector_state") + " WHERE name = " + d.Str(name)
}

// SetDetectorWatermark moves detector name's watermark to wm: an update
// of its row, or its first insert when !exists (two nodes inserting it
// meet on the key). DuckDB only: its commit's transaction has read the
// row; ClickHouse moves it by compare-and-set.
func SetDetectorWatermark(d Dialect, name string, exists bool, wm, now int64) string {
	if exists {
		return "UPDATE " + d.Table("detector_state") + " SET watermark = " + Int(wm) + ", updated_at = " + Int(now) + " WHERE name = " + d.Str(name)
	}
	return "INSERT INTO " + d.Table("detector_state") + " (name, watermark, updated_at) VALUES (" + d.Str(name) + ", " + Int(wm) + ", " + Int(now) + ")"
}

// OccurrenceCounts is what occ adds to issue_counts: one row per issue and
// minute, as one statement can change a row only once.
func OccurrenceCounts(occ []store.IssueOccurrence) []IssueCount {
	var out []IssueCount
	at := map[IssueCount]int{}
	for i := range occ {
		o := &occ[i]
		k := IssueCount{IssueID: store.IssueID(o.Kind, o.Fingerprint), Bucket: IssueCountBucket(o.Last)}
		if j, ok := at[k]; ok {
			out[j].Count += o.Count
			continue
		}
		at[k] = len(out)
		k.Count = o.Count
		out = append(out, k)
	}
	return out
}

// DetectorState reads detector name's (watermark, rev, revs): where a
// ClickHouse commit's compare-and-set starts, and which commits are the
// latest. ClickHouse only.
func DetectorState(d Dialect, name string) string {
	return "SELECT watermark, rev, revs FROM " + d.Table("detector_state") + " WHERE name = " + d.Str(name)
}

// DetectorStateColumns are the columns of a ClickHouse detector's first
// watermark row.
const DetectorStateColumns = "name, watermark, updated_at, " + keeperRevColumns

// DetectorStateValues are the values of DetectorStateColumns, written by
// rev. ClickHouse only.
func DetectorStateValues(d Dialect, name string, wm, now int64, rev string) string {
	return d.Str(name) + ", " + Int(wm) + ", " + Int(now) + ", " + d.Str(rev) + ", " + KeeperRevs(d, []string{rev})
}

// DetectorStateSets is the change of KeeperCASUpdate that moves a
// detector's watermark. ClickHouse only.
func DetectorStateSets(wm, now int64) string {
	return "watermark = " + Int(wm) + ", updated_at = " + Int(now)
}
