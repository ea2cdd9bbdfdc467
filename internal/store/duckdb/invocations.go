package duckdb

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

// Invocation pages are found in two steps: the request ids of a chunk of
// invocations, newest first by the earliest start any of their rows has
// (keyset on (start, request_id)), then every row of those ids, merged in
// Go (package invocation) and filtered by the record-level conditions. A
// selective filter may need several chunks (growing up to invMaxChunk,
// and SQL first drops invocations that cannot match); at most invScanGroups request
// ids are looked at per call, after which the page ends early with a cursor
// so the client continues where the scan stopped.
const (
	invMaxChunk   = 4096
	invScanGroups = 20_000
	// invRowSlack widens the row fetch around a chunk's starts: rows of one
	// invocation (start marker, platform start, SDK span) lie within its
	// duration, at most 15 minutes on Lambda.
	invRowSlack = int64(20 * time.Minute)
)

// Invocations implements store.InvocationReader.
func (e *Engine) Invocations(ctx context.Context, q store.InvocationQuery) ([]model.Invocation, string, error) {
	if err := shared.CheckInvocationQuery(q); err != nil {
		return nil, "", fmt.Errorf("list invocations: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	cur, err := shared.DecodeInvCursor(q.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list invocations: %w", err)
	}
	out := []model.Invocation{}
	scanned := 0
	// The first chunk is about a page; later ones grow, for filters that
	// SQL cannot decide.
	chunk := max(limit+1, 64)
	for {
		keys, err := e.invocationKeys(ctx, q, cur, chunk)
		if err != nil {
			return nil, "", unavailable("list invocations", err)
		}
		if len(keys) == 0 {
			return out, "", nil
		}
		recs, err := e.invocationsOf(ctx, keys, q.Now)
		if err != nil {
			return nil, "", unavailable("list invocations", err)
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
					return out, "", nil // nothing after this one
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

// invKey is shared.InvKey as detect.go still spells it; it goes when
// detect.go moves to shared.InvKey.
type invKey struct {
	start int64
	id    string
}

func (e *Engine) invocationKeys(ctx context.Context, q store.InvocationQuery, cur *shared.InvKey, n int) ([]shared.InvKey, error) {
	rs, err := e.db.QueryContext(ctx, stmt.InvocationKeys(stmt.DuckDB(), q, cur, n))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var keys []shared.InvKey
	for rs.Next() {
		var k shared.InvKey
		if err := rs.Scan(&k.ID, &k.Start); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rs.Err()
}

// mergedInvocations is invocationsOf for detect.go's keys.
func (e *Engine) mergedInvocations(ctx context.Context, keys []invKey, now int64) (map[string]model.Invocation, error) {
	ks := make([]shared.InvKey, len(keys))
	for i, k := range keys {
		ks[i] = shared.InvKey{Start: k.start, ID: k.id}
	}
	return e.invocationsOf(ctx, ks, now)
}

// invocationsOf reads every row of the given invocations and merges them
// per request id. Unlike ClickHouse, DuckDB takes a whole chunk's ids
// (invMaxChunk) in one statement.
func (e *Engine) invocationsOf(ctx context.Context, keys []shared.InvKey, now int64) (map[string]model.Invocation, error) {
	lo, hi := keys[0].Start, keys[0].Start
	ids := make([]string, len(keys))
	for i, k := range keys {
		lo, hi = min(lo, k.Start), max(hi, k.Start)
		ids[i] = k.ID
	}
	t := &e.schema.invocations
	rows, err := selectRows(ctx, e.db, t, stmt.InvocationRows(stmt.DuckDB(), t.columnList(""), ids, lo-invRowSlack, hi+invRowSlack))
	if err != nil {
		return nil, err
	}
	out := make(map[string]model.Invocation, len(keys))
	for _, rec := range invocation.MergeAll(rows, now) {
		out[rec.RequestID] = rec
	}
	return out, nil
}

// Invocation implements store.InvocationReader.
func (e *Engine) Invocation(ctx context.Context, requestID string, now int64) (model.Invocation, error) {
	t := &e.schema.invocations
	rows, err := selectRows(ctx, e.db, t, stmt.Invocation(stmt.DuckDB(), t.columnList(""), requestID))
	if err != nil {
		return model.Invocation{}, unavailable("read invocation", err)
	}
	if len(rows) == 0 {
		return model.Invocation{}, fmt.Errorf("read invocation %q: %w", requestID, store.ErrNotFound)
	}
	return invocation.Merge(rows, now), nil
}

// InvocationLogs implements store.InvocationReader.
func (e *Engine) InvocationLogs(ctx context.Context, requestID string, r store.TimeRange, limit int) ([]model.LogRecord, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("read invocation logs: %w", err)
	}
	t := &e.schema.logs
	rows, err := selectRows(ctx, e.db, t, stmt.InvocationLogs(stmt.DuckDB(), t.columnList(""), requestID, r, shared.Clamp(limit, store.MaxLimit)))
	if err != nil {
		return nil, unavailable("read invocation logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, nil
}
