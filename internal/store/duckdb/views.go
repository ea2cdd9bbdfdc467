package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var (
	_ store.IssueSeriesReader = (*Engine)(nil)
	_ store.LogReader         = (*Engine)(nil)
)

// IssueSeries implements store.IssueSeriesReader from issue_counts, whose
// primary key (issue_id, bucket) serves the lookup.
func (e *Engine) IssueSeries(ctx context.Context, ids []string, q store.SeriesRange) (map[string][]int64, error) {
	if err := q.Check(); err != nil {
		return nil, fmt.Errorf("read issue series: %w", err)
	}
	if len(ids) > store.MaxLimit {
		return nil, fmt.Errorf("read issue series: %d ids, at most %d: %w", len(ids), store.MaxLimit, store.ErrInvalid)
	}
	n := q.Buckets()
	out := make(map[string][]int64, len(ids))
	lits := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = make([]int64, n)
			lits = append(lits, sqlStr(id))
		}
	}
	if len(lits) == 0 {
		return out, nil
	}
	query := fmt.Sprintf(`SELECT issue_id, (bucket - %d) // %d AS i, sum(count)::BIGINT FROM issue_counts
		WHERE issue_id IN (%s) AND bucket >= %d AND bucket < %d GROUP BY ALL`,
		q.Start, q.Step, strings.Join(lits, ", "), q.Start, q.End)
	rs, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, unavailable("read issue series", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			id   string
			i, c int64
		)
		if err := rs.Scan(&id, &i, &c); err != nil {
			return nil, unavailable("read issue series", err)
		}
		if s := out[id]; i >= 0 && i < int64(len(s)) {
			s[i] += c
		}
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("read issue series", err)
	}
	return out, nil
}

// logOrder is the order of SearchLogs: newest first, then columns that
// make the order of records of the same nanosecond the same at every call,
// which the cursor's skip count relies on.
const logOrder = ` ORDER BY "time" DESC, observed_time DESC, trace_id, span_id, body, severity, invocation_id`

// SearchLogs implements store.LogReader.
func (e *Engine) SearchLogs(ctx context.Context, q store.LogQuery) ([]model.LogRecord, string, error) {
	if err := checkRange(q.TimeRange); err != nil {
		return nil, "", fmt.Errorf("search logs: %w", err)
	}
	var cur *store.LogCursor
	if q.Cursor != "" {
		c, err := store.DecodeLogCursor(q.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("search logs: %w", err)
		}
		cur = &c
	}
	conds := []string{rangeCond(`"time"`, q.TimeRange)}
	var args []any
	if q.Function != "" {
		conds, args = append(conds, "function = ?"), append(args, q.Function)
	}
	if q.Service != "" {
		conds, args = append(conds, "service = ?"), append(args, q.Service)
	}
	if q.RequestID != "" {
		conds, args = append(conds, "invocation_id = ?"), append(args, q.RequestID)
	}
	if q.MinSeverity > 0 {
		conds = append(conds, "severity >= "+strconv.Itoa(int(q.MinSeverity)))
	}
	if q.Text != "" {
		conds, args = append(conds, `body ILIKE ? ESCAPE '\'`), append(args, likePattern(q.Text))
	}
	skip := 0
	if cur != nil {
		conds = append(conds, fmt.Sprintf(`"time" <= %d`, cur.Time))
		skip = cur.Skip
	}
	limit := clampLimit(q.Limit)
	t := &e.schema.logs
	query := "SELECT " + t.columnList("") + " FROM logs WHERE " + strings.Join(conds, " AND ") + logOrder +
		" LIMIT " + strconv.Itoa(limit) + " OFFSET " + strconv.Itoa(skip)
	rows, err := selectRows(ctx, e.db, t, query, args...)
	if err != nil {
		return nil, "", unavailable("search logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, store.NextLogCursor(out, limit, cur), nil
}
