package duckdb

import (
	"context"
	"fmt"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
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
	distinct := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = make([]int64, n)
			distinct = append(distinct, id)
		}
	}
	if len(distinct) == 0 {
		return out, nil
	}
	rs, err := e.db.QueryContext(ctx, stmt.IssueSeries(stmt.DuckDB(), distinct, q))
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

// SearchLogs implements store.LogReader.
func (e *Engine) SearchLogs(ctx context.Context, q store.LogQuery) ([]model.LogRecord, string, error) {
	if err := shared.CheckRange(q.TimeRange); err != nil {
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
	limit := shared.Clamp(q.Limit, store.MaxLimit)
	t := &e.schema.logs
	rows, err := selectRows(ctx, e.db, t, stmt.SearchLogs(stmt.DuckDB(), t.columnList(""), q, cur, limit))
	if err != nil {
		return nil, "", unavailable("search logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, store.NextLogCursor(out, limit, cur), nil
}
