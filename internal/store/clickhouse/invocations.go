package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

var _ store.InvocationReader = (*Engine)(nil)

// Invocation pages are found as in the embedded engine: the request ids of
// a chunk of invocations, newest first by the earliest start of their rows
// (keyset on (start, request_id)), with SQL dropping those that cannot
// match; then every row of those ids, merged in Go (package invocation)
// and filtered exactly. A selective filter may need several chunks (growing
// up to invMaxChunk); after invScanGroups request ids the page ends early
// with a cursor.
const (
	invMaxChunk   = 4096
	invScanGroups = 20_000
	// invRowSlack widens the row fetch around a chunk's starts: the rows of
	// one invocation lie within its duration, at most 15 minutes on Lambda.
	invRowSlack = int64(20 * time.Minute)
)

// Invocations implements store.InvocationReader.
func (e *Engine) Invocations(ctx context.Context, q store.InvocationQuery) ([]model.Invocation, string, error) {
	if err := shared.CheckInvocationQuery(q); err != nil {
		return nil, "", fmt.Errorf("list invocations: %w", err)
	}
	cur, err := shared.DecodeInvCursor(q.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list invocations: %w", err)
	}
	if err := e.readable("list invocations"); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	out := []model.Invocation{}
	scanned := 0
	chunk := max(limit+1, 64)
	for {
		keys, err := e.invocationKeys(ctx, q, cur, chunk)
		if err != nil {
			return nil, "", e.fail("list invocations", err)
		}
		if len(keys) == 0 {
			return out, "", nil
		}
		recs, err := e.mergedInvocations(ctx, keys, q.Now)
		if err != nil {
			return nil, "", e.fail("list invocations", err)
		}
		for i, k := range keys {
			rec, ok := recs[k.ID]
			cur = &k
			if !ok || !q.Match(&rec) {
				continue
			}
			out = append(out, rec)
			if len(out) == limit {
				if i == len(keys)-1 && len(keys) < chunk {
					return out, "", nil
				}
				return out, shared.EncodeInvCursor(k), nil
			}
		}
		scanned += len(keys)
		if len(keys) < chunk {
			return out, "", nil
		}
		chunk = min(chunk*4, invMaxChunk)
		if scanned >= invScanGroups {
			return out, shared.EncodeInvCursor(*cur), nil
		}
	}
}

func (e *Engine) invocationKeys(ctx context.Context, q store.InvocationQuery, cur *shared.InvKey, n int) ([]shared.InvKey, error) {
	var keys []shared.InvKey
	err := e.each(ctx, stmt.InvocationKeys(stmt.ClickHouse(e.t), q, cur, n), func(scan func(...any) error) error {
		var k shared.InvKey
		if err := scan(&k.ID, &k.Start); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// mergedInvocations reads every row of the given invocations and merges
// them per request id.
func (e *Engine) mergedInvocations(ctx context.Context, keys []shared.InvKey, now int64) (map[string]model.Invocation, error) {
	lo, hi := keys[0].Start, keys[0].Start
	ids := make([]string, len(keys))
	for i, k := range keys {
		lo, hi = min(lo, k.Start), max(hi, k.Start)
		ids[i] = k.ID
	}
	var all []model.Invocation
	d, t := stmt.ClickHouse(e.t), &e.sch.invocations
	for _, chunk := range chunks(ids, refChunk) {
		rows, err := selectRows(ctx, e, t, stmt.InvocationRows(d, t.list(), chunk, lo-invRowSlack, hi+invRowSlack), (*invRow).fix)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			all = append(all, rows[i].Invocation)
		}
	}
	out := make(map[string]model.Invocation, len(keys))
	for _, rec := range invocation.MergeAll(all, now) {
		out[rec.RequestID] = rec
	}
	return out, nil
}

// Invocation implements store.InvocationReader.
func (e *Engine) Invocation(ctx context.Context, requestID string, now int64) (model.Invocation, error) {
	if err := e.readable("read invocation"); err != nil {
		return model.Invocation{}, err
	}
	t := &e.sch.invocations
	rows, err := selectRows(ctx, e, t, stmt.Invocation(stmt.ClickHouse(e.t), t.list(), requestID), (*invRow).fix)
	if err != nil {
		return model.Invocation{}, e.fail("read invocation", err)
	}
	if len(rows) == 0 {
		return model.Invocation{}, fmt.Errorf("read invocation %q: %w", requestID, store.ErrNotFound)
	}
	invs := make([]model.Invocation, len(rows))
	for i := range rows {
		invs[i] = rows[i].Invocation
	}
	return invocation.Merge(invs, now), nil
}

// InvocationLogs implements store.InvocationReader.
func (e *Engine) InvocationLogs(ctx context.Context, requestID string, r store.TimeRange, limit int) ([]model.LogRecord, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("read invocation logs: %w", err)
	}
	if err := e.readable("read invocation logs"); err != nil {
		return nil, err
	}
	t := &e.sch.logs
	rows, err := selectRows(ctx, e, t, stmt.InvocationLogs(stmt.ClickHouse(e.t), t.list(), requestID, r, shared.Clamp(limit, store.MaxLimit)), (*logRow).fix)
	if err != nil {
		return nil, e.fail("read invocation logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, nil
}
