package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
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
	query := fmt.Sprintf("SELECT issue_id, intDiv(bucket - %d, %d) AS i, sum(count) FROM %s WHERE issue_id IN (%s) AND bucket >= %d AND bucket < %d GROUP BY issue_id, i",
		q.Start, q.Step, e.t("issue_counts"), sqlStrs(distinct), q.Start, q.End)
	err := e.each(ctx, query, func(scan func(...any) error) error {
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

// logOrder is the order of SearchLogs: newest first, then columns that
// make the order of records of the same nanosecond the same at every call,
// which the cursor's skip count relies on.
const logOrder = " ORDER BY time DESC, observed_time DESC, trace_id, span_id, body, severity, invocation_id"

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
	conds := []string{rangeCond("time", q.TimeRange)}
	if q.Function != "" {
		conds = append(conds, "function = "+sqlStr(q.Function))
	}
	if q.Service != "" {
		conds = append(conds, "service = "+sqlStr(q.Service))
	}
	if q.RequestID != "" {
		conds = append(conds, "invocation_id = "+sqlStr(q.RequestID))
	}
	if q.MinSeverity > 0 {
		conds = append(conds, "severity >= "+strconv.Itoa(int(q.MinSeverity)))
	}
	if q.Text != "" {
		conds = append(conds, "positionCaseInsensitiveUTF8(body, "+sqlStr(q.Text)+") > 0")
	}
	skip := 0
	if cur != nil {
		conds = append(conds, "time <= "+strconv.FormatInt(cur.Time, 10))
		skip = cur.Skip
	}
	limit := clampLimit(q.Limit)
	t := &e.sch.logs
	rows, err := selectRows(ctx, e, t, "SELECT "+t.list()+" FROM "+e.t(t.name)+" WHERE "+strings.Join(conds, " AND ")+logOrder+
		" LIMIT "+strconv.Itoa(limit)+" OFFSET "+strconv.Itoa(skip), (*logRow).fix)
	if err != nil {
		return nil, "", e.fail("search logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, store.NextLogCursor(out, limit, cur), nil
}
