package duckdb

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
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
	if err := checkInvocationQuery(q); err != nil {
		return nil, "", fmt.Errorf("list invocations: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	cur, err := decodeInvCursor(q.Cursor)
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
		recs, err := e.mergedInvocations(ctx, keys, q.Now)
		if err != nil {
			return nil, "", unavailable("list invocations", err)
		}
		for i, k := range keys {
			rec, ok := recs[k.id]
			cur = &k
			if !ok || !q.Match(&rec) {
				continue
			}
			out = append(out, rec)
			if len(out) == limit {
				if i == len(keys)-1 && len(keys) < chunk {
					return out, "", nil // nothing after this one
				}
				return out, encodeInvCursor(k), nil
			}
		}
		scanned += len(keys)
		if len(keys) < chunk {
			return out, "", nil
		}
		chunk = min(chunk*4, invMaxChunk)
		if scanned >= invScanGroups {
			return out, encodeInvCursor(*cur), nil
		}
	}
}

func checkInvocationQuery(q store.InvocationQuery) error {
	if err := checkRange(q.TimeRange); err != nil {
		return err
	}
	if q.MinDuration < 0 || q.MaxDuration < 0 {
		return fmt.Errorf("negative duration bound: %w", store.ErrInvalid)
	}
	if q.MaxDuration != 0 && q.MaxDuration < q.MinDuration {
		return fmt.Errorf("max duration below min duration: %w", store.ErrInvalid)
	}
	if q.Limit < 0 {
		return fmt.Errorf("negative limit: %w", store.ErrInvalid)
	}
	for _, s := range q.Statuses {
		switch s {
		case model.InvocationOK, model.InvocationError, model.InvocationTimeout, model.InvocationOOM,
			model.InvocationCrash, model.InvocationThrottled, model.InvocationStarted:
		default:
			return fmt.Errorf("unknown invocation status %q: %w", s, store.ErrInvalid)
		}
	}
	return nil
}

// invKey is the sort key of one invocation: the earliest start of its rows
// in the queried range, and its request id.
type invKey struct {
	start int64
	id    string
}

func (e *Engine) invocationKeys(ctx context.Context, q store.InvocationQuery, cur *invKey, n int) ([]invKey, error) {
	var (
		having []string
		args   []any
	)
	if q.Function != "" {
		having = append(having, "bool_or(function = ?)")
		args = append(args, q.Function)
	}
	// Necessary conditions on the rows for the merged record to match, so
	// that a selective filter skips most invocations in SQL: a merged
	// status comes from some row with that status, except a timeout, which
	// may also come from a start marker past its deadline; a cold start
	// from some row saying so; a duration from some row's duration or a
	// start marker's deadline. Match decides exactly after merging.
	if len(q.Statuses) > 0 {
		ph := make([]string, 0, len(q.Statuses)+1)
		for _, st := range q.Statuses {
			ph = append(ph, "?")
			args = append(args, string(st))
			if st == model.InvocationTimeout {
				ph = append(ph, "?")
				args = append(args, string(model.InvocationStarted))
			}
		}
		having = append(having, "bool_or(status IN ("+strings.Join(ph, ", ")+"))")
	}
	if q.ColdStart != nil && *q.ColdStart {
		having = append(having, "bool_or(cold_start OR init_duration > 0)")
	}
	if q.MinDuration > 0 {
		having = append(having, `max(greatest(duration, CASE WHEN deadline > 0 THEN deadline - "start" ELSE 0 END)) >= ?`)
		args = append(args, q.MinDuration)
	}
	if cur != nil {
		having = append(having, `(min("start") < ? OR (min("start") = ? AND request_id < ?))`)
		args = append(args, cur.start, cur.start, cur.id)
	}
	query := `SELECT request_id, min("start") AS s FROM invocations WHERE ` + rangeCond(`"start"`, q.TimeRange) +
		" GROUP BY request_id"
	if len(having) > 0 {
		query += " HAVING " + strings.Join(having, " AND ")
	}
	query += " ORDER BY s DESC, request_id DESC LIMIT " + strconv.Itoa(n)
	rs, err := e.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var keys []invKey
	for rs.Next() {
		var k invKey
		if err := rs.Scan(&k.id, &k.start); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rs.Err()
}

// mergedInvocations reads every row of the given invocations and merges
// them per request id.
func (e *Engine) mergedInvocations(ctx context.Context, keys []invKey, now int64) (map[string]model.Invocation, error) {
	lo, hi := keys[0].start, keys[0].start
	ph := make([]string, len(keys))
	args := make([]any, 0, len(keys)+2)
	for i, k := range keys {
		lo, hi = min(lo, k.start), max(hi, k.start)
		ph[i] = "?"
		args = append(args, k.id)
	}
	args = append(args, lo-invRowSlack, hi+invRowSlack)
	t := &e.schema.invocations
	rows, err := selectRows(ctx, e.db, t, "SELECT "+t.columnList("")+" FROM invocations WHERE request_id IN ("+
		strings.Join(ph, ", ")+`) AND "start" BETWEEN ? AND ?`, args...)
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
	rows, err := selectRows(ctx, e.db, t, "SELECT "+t.columnList("")+" FROM invocations WHERE request_id = ?", requestID)
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
	if err := checkRange(r); err != nil {
		return nil, fmt.Errorf("read invocation logs: %w", err)
	}
	t := &e.schema.logs
	rows, err := selectRows(ctx, e.db, t, "SELECT "+t.columnList("")+" FROM logs WHERE invocation_id = ? AND "+
		rangeCond("time", r)+" ORDER BY time, observed_time LIMIT "+strconv.Itoa(clampLimit(limit)), requestID)
	if err != nil {
		return nil, unavailable("read invocation logs", err)
	}
	out := make([]model.LogRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].LogRecord
	}
	return out, nil
}

func encodeInvCursor(k invKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.start, 10) + ":" + k.id))
}

func decodeInvCursor(s string) (*invKey, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("malformed cursor: %w", store.ErrInvalid)
	}
	ts, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("malformed cursor: %w", store.ErrInvalid)
	}
	return &invKey{start: n, id: id}, nil
}
