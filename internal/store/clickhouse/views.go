package clickhouse

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
// sorting key (issue_id, bucket) serves the lookup.
func (e *Engine) IssueSeries(ctx context.Context, ids []string, q store.SeriesRange) (map[string][]int64, error) {
	if err := q.Check(); err != nil {
		return nil, fmt.Errorf("read issue series: %w", err)
	}
	if len(ids) > store.MaxLimit {
		return nil, fmt.Errorf("read issue series: %d ids, at most %d: %w", len(ids), store.MaxLimit, store.ErrInvalid)
	}
	if err := e.readable("read issue series"); err != nil {
		return nil, err
	}
	n := q.Buckets()
	out := make(map[string][]int64, len(ids))
	var distinct []string
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			out[id] = make([]int64, n)
			distinct = append(distinct, id)
		}
	}
	if len(distinct) == 0 {
		return out, nil
	}
	err := e.each(ctx, stmt.IssueSeries(stmt.ClickHouse(e.t), distinct, q), func(scan func(...any) error) error {
		var (
			id   string
			i, c int64
		)
		if err := scan(&id, &i, &c); err != nil {
			return err
		}
		if s := out[id]; i >= 0 && i < int64(len(s)) {
			s[i] += c
		}
		return nil
	})
	if err != nil {
		return nil, e.fail("read issue series", err)
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
	if err := e.readable("search logs"); err != nil {
		return nil, "", err
	}
	limit := shared.Clamp(q.Limit, store.MaxLimit)
	t := &e.sch.logs
	rows, err := selectRows(ctx, e, t, stmt.SearchLogs(stmt.ClickHouse(e.t), t.list(), q, cur, limit), (*logRow).fix)
	if err != nil {
		return nil, "", e.fail("search logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, store.NextLogCursor(out, limit, cur), nil
}
