package duckdb

import (
	"cmp"
	"context"
	"crypto/md5"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// writer owns the one connection that writes and its appenders (one
// appender per table, reused across commits). Its group-commit queue
// (shared.Committer) hands it every batch queued, up to MaxBatchRows, to
// append and commit at once: concurrent writers share the cost of one WAL
// fsync.
type writer struct {
	e    *Engine
	conn *sql.Conn
	apps struct {
		spans, logs, invocations, refs, index *chunkAppender
	}
	q *shared.Committer

	// Reused between commits; only the queue's goroutine touches them.
	sc   scratch
	seen map[spanKey]struct{}
	idx  map[model.TraceID]*indexRow
	// recent answers most idempotence lookups without the table.
	recent *recentSpans
	// used marks the appenders that hold rows of the commit being built;
	// flushing an empty appender still costs a call into DuckDB.
	used  [5]bool
	added bounds // spans of the commit being built, for Engine.bounds
	// Attribute filter minutes marked and written out by the commit being
	// built (attrfilter.go).
	afMarked  []*bucketFilter
	afEvicted []int64
	afHeld    int // minutes in e.af with bits
}

type spanKey struct {
	trace model.TraceID
	span  uint64
}

func newWriter(ctx context.Context, e *Engine) (*writer, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open writer connection: %w", err)
	}
	w := &writer{
		e: e, conn: conn,
		seen: make(map[spanKey]struct{}),
		idx:  make(map[model.TraceID]*indexRow),
	}
	w.q = shared.NewCommitter(shared.CommitSettings{
		QueueRows:    e.set.QueueSpans,
		MaxBatchRows: e.set.MaxBatchRows,
		Commit:       w.commit,
		// DuckDB's errors do not reliably tell a bad row from a bad
		// moment, so every failed group is retried batch by batch.
		Split:    func(error) bool { return true },
		OnCommit: e.set.OnCommit,
		Logger:   e.set.Logger,
	})
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T", dc)
		}
		raw, err := rawConnection(c)
		if err != nil {
			return err
		}
		sch := e.schema
		for _, a := range []struct {
			dst   **chunkAppender
			table string
			types []string
		}{
			{&w.apps.spans, sch.spans.name, sch.spans.types()},
			{&w.apps.logs, sch.logs.name, sch.logs.types()},
			{&w.apps.invocations, sch.invocations.name, sch.invocations.types()},
			{&w.apps.refs, sch.refs.name, sch.refs.types()},
			{&w.apps.index, sch.index.name, sch.index.types()},
		} {
			app, err := newChunkAppender(raw, a.table, a.types)
			if err != nil {
				return fmt.Errorf("create appender for %s: %w", a.table, err)
			}
			*a.dst = app
		}
		return nil
	})
	if err == nil {
		err = w.loadHorizon(ctx)
	}
	if err != nil {
		w.closeAppenders()
		conn.Close()
		return nil, err
	}
	return w, nil
}

// recentPerGeneration sizes the generations of recentSpans: 2M keys, 8 MiB
// of filter each, about 40 s of ingest at 50k spans/s. Older retries and
// late spans are looked up in the table.
const recentPerGeneration = 2_000_000

// loadHorizon starts recentSpans with every stored span beyond its reach:
// the latest span end bounds the start of every stored span.
func (w *writer) loadHorizon(ctx context.Context) error {
	var hi sql.NullInt64
	if err := w.conn.QueryRowContext(ctx,
		"SELECT max(span_end) FROM trace_index WHERE span_count > 0").Scan(&hi); err != nil {
		return fmt.Errorf("read latest span: %w", err)
	}
	horizon := int64(math.MinInt64)
	if hi.Valid {
		horizon = hi.Int64
	}
	w.recent = newRecentSpans(recentPerGeneration, horizon)
	return nil
}

// Appender positions in appenders() and used.
const (
	appSpans = iota
	appLogs
	appInvocations
	appRefs
	appIndex
)

func (w *writer) appenders() []*chunkAppender {
	return []*chunkAppender{w.apps.spans, w.apps.logs, w.apps.invocations, w.apps.refs, w.apps.index}
}

func (w *writer) closeAppenders() error {
	var errs []error
	for _, a := range w.appenders() {
		if a != nil {
			errs = append(errs, a.close())
		}
	}
	return errors.Join(errs...)
}

// Write implements store.Writer: it queues b and waits for its commit.
func (e *Engine) Write(ctx context.Context, b *model.Batch) error {
	return e.w.q.Write(ctx, b)
}

// run commits queued batches until close.
func (w *writer) run() { w.q.Run() }

// commit appends batches in one transaction. Spans already stored, or
// repeated within batches, are dropped (idempotent writes), and so are the
// message refs and invocation rows tied to them.
func (w *writer) commit(batches []*model.Batch) (rows, dropped int, err error) {
	ctx := context.Background() // an accepted write is finished even if its caller left
	dup, err := w.existing(ctx, batches)
	if err != nil {
		return 0, 0, fmt.Errorf("commit: %w: %w", store.ErrUnavailable, err)
	}
	dupLogs, err := w.existingLogs(ctx, batches)
	if err != nil {
		return 0, 0, fmt.Errorf("commit: %w: %w", store.ErrUnavailable, err)
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, 0, fmt.Errorf("commit: begin: %w: %w", store.ErrUnavailable, err)
	}
	w.used = [5]bool{}
	rows, dropped, err = w.appendAll(batches, dup, dupLogs)
	if err == nil {
		for i, a := range w.appenders() {
			if !w.used[i] {
				continue
			}
			if err = a.flush(); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = w.markRollups(ctx, batches) // servicemap_rollup.go
	}
	if err == nil {
		err = w.addFilters(ctx, batches)
	}
	if err == nil {
		if _, err = w.conn.ExecContext(ctx, "COMMIT"); err == nil {
			w.filtersDone(true)
			w.e.bounds.extend(w.added.lo, w.added.hi, w.added.total)
			w.remember(batches, false)
			return rows, dropped, nil
		}
		// The outcome of a failed COMMIT is unknown: it may be durable.
		w.remember(batches, true)
	}
	w.filtersDone(false)
	// Leave the appenders empty for the next commit and undo this one.
	for _, a := range w.appenders() {
		a.clear()
	}
	_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
	return 0, 0, fmt.Errorf("commit %d batches: %w", len(batches), classify(err))
}

// remember hands the spans of a commit that may or may not have stored
// them over to the table lookup. (w.recent learnt every span before the
// commit, in existing.)
func (w *writer) remember(batches []*model.Batch, unknown bool) {
	if !unknown {
		return
	}
	for _, b := range batches {
		for i := range b.Spans {
			w.recent.forget(b.Spans[i].StartTime)
		}
	}
}

// classify maps a failed append or commit: data DuckDB refuses (a bad
// string, a constraint) is the caller's fault; anything else is retryable.
func classify(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeConstraint,
			duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeMismatchType:
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// clusterGap splits a lookup by time: rows whose times are further apart
// than this are looked up separately, so one late span in a commit does
// not make the lookup scan all the data written in between.
const clusterGap = int64(5 * time.Minute)

type timed[T any] struct {
	t int64
	v T
}

// clusters groups items of nearby times; one group when they lie close.
func clusters[T any](items []timed[T]) [][]timed[T] {
	lo, hi := items[0].t, items[0].t
	for _, it := range items {
		lo, hi = min(lo, it.t), max(hi, it.t)
	}
	if hi-lo <= clusterGap {
		return [][]timed[T]{items}
	}
	slices.SortFunc(items, func(a, b timed[T]) int { return cmp.Compare(a.t, b.t) })
	var out [][]timed[T]
	start := 0
	for i := 1; i <= len(items); i++ {
		if i == len(items) || items[i].t-items[i-1].t > clusterGap {
			out = append(out, items[start:i])
			start = i
		}
	}
	return out
}

func timeBounds[T any](items []timed[T]) (lo, hi int64) {
	lo, hi = items[0].t, items[0].t
	for _, it := range items {
		lo, hi = min(lo, it.t), max(hi, it.t)
	}
	return lo, hi
}

// existing returns the (trace_id, span_id) pairs of batches' spans that are
// already stored. Only spans that w.recent cannot rule out are looked up
// (usually none). A retry resends spans with the same start times, so the
// lookup scans only the batch's time range of the spans table, which zone
// maps prune to the newest row groups: its cost does not grow with the
// store. A span whose ids were stored with another start time is not
// caught; that is a broken client, not a retry.
func (w *writer) existing(ctx context.Context, batches []*model.Batch) (map[spanKey]struct{}, error) {
	var items []timed[model.TraceID]
	for _, b := range batches {
		for i := range b.Spans {
			s := &b.Spans[i]
			if w.recent.checkAdd(spanKey{s.TraceID, spanU64(s.SpanID)}, s.StartTime) {
				items = append(items, timed[model.TraceID]{s.StartTime, s.TraceID})
			}
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	var out map[spanKey]struct{}
	for _, group := range clusters(items) {
		lo, hi := timeBounds(group)
		var q strings.Builder
		fmt.Fprintf(&q, "SELECT trace_id, span_id FROM span_rows WHERE start_time BETWEEN %d AND %d AND trace_id IN (", lo, hi)
		seen := make(map[model.TraceID]struct{}, len(group)/8)
		for _, it := range group {
			if _, ok := seen[it.v]; ok {
				continue
			}
			if len(seen) > 0 {
				q.WriteByte(',')
			}
			seen[it.v] = struct{}{}
			q.WriteString(uuidLiteral(it.v))
		}
		q.WriteString(")")
		if err := w.scanExisting(ctx, q.String(), &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *writer) scanExisting(ctx context.Context, query string, out *map[spanKey]struct{}) error {
	rs, err := w.conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("look up stored spans: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var tid, sid any
		if err := rs.Scan(&tid, &sid); err != nil {
			return fmt.Errorf("look up stored spans: %w", err)
		}
		t, err := asTraceID(tid)
		if err != nil {
			return err
		}
		s, _ := sid.(uint64)
		if *out == nil {
			*out = make(map[spanKey]struct{})
		}
		(*out)[spanKey{t, s}] = struct{}{}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("look up stored spans: %w", err)
	}
	return nil
}

// logKey identifies a log record for retry detection. Logs have no id, so
// a record equal in time, observed time, trace, span, severity and body to
// one already stored is taken as a re-sent copy. Within one batch equal
// records are kept: identical lines in the same millisecond are real.
type logKey struct {
	time, observed int64
	trace          model.TraceID
	span           uint64
	severity       uint8
	body           [md5.Size]byte
}

func newLogKey(l *model.LogRecord) logKey {
	return logKey{l.Time, l.ObservedTime, l.TraceID, spanU64(l.SpanID), l.SeverityNumber, md5.Sum([]byte(l.Body.Str))}
}

// existingLogs finds the logs of batches already stored, looking only at the
// exact timestamps of the batch (zone maps prune the rest).
func (w *writer) existingLogs(ctx context.Context, batches []*model.Batch) (map[logKey]struct{}, error) {
	var items []timed[struct{}]
	for _, b := range batches {
		for i := range b.Logs {
			items = append(items, timed[struct{}]{t: b.Logs[i].Time})
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	var out map[logKey]struct{}
	for _, group := range clusters(items) {
		lo, hi := timeBounds(group)
		var q strings.Builder
		fmt.Fprintf(&q, `SELECT "time", observed_time, trace_id, span_id, severity, md5(coalesce(body, '')) FROM logs WHERE "time" BETWEEN %d AND %d AND "time" IN (`, lo, hi)
		seen := make(map[int64]struct{}, len(group))
		for _, it := range group {
			if _, ok := seen[it.t]; ok {
				continue
			}
			if len(seen) > 0 {
				q.WriteByte(',')
			}
			seen[it.t] = struct{}{}
			q.WriteString(strconv.FormatInt(it.t, 10))
		}
		q.WriteString(")")
		if err := w.scanExistingLogs(ctx, q.String(), &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *writer) scanExistingLogs(ctx context.Context, query string, out *map[logKey]struct{}) error {
	rs, err := w.conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("look up stored logs: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			k        logKey
			obs      sql.NullInt64
			tid, sid any
			sev      sql.NullInt64
			sum      string
		)
		if err := rs.Scan(&k.time, &obs, &tid, &sid, &sev, &sum); err != nil {
			return fmt.Errorf("look up stored logs: %w", err)
		}
		if k.trace, err = asTraceID(tid); err != nil {
			return err
		}
		id, _ := asSpanID(sid)
		k.span = spanU64(id)
		k.observed, k.severity = obs.Int64, uint8(sev.Int64)
		if _, err := hex.Decode(k.body[:], []byte(sum)); err != nil {
			return fmt.Errorf("look up stored logs: md5 %q: %w", sum, err)
		}
		if *out == nil {
			*out = make(map[logKey]struct{})
		}
		(*out)[k] = struct{}{}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("look up stored logs: %w", err)
	}
	return nil
}

func (w *writer) appendAll(batches []*model.Batch, dup map[spanKey]struct{}, dupLogs map[logKey]struct{}) (rows, dropped int, err error) {
	clear(w.seen)
	clear(w.idx)
	w.sc.reset()
	sch := w.e.schema
	// dropped spans by key, so their refs and invocations go too
	var droppedKeys map[spanKey]struct{}
	for _, b := range batches {
		for i := range b.Spans {
			s := &b.Spans[i]
			k := spanKey{s.TraceID, spanU64(s.SpanID)}
			_, stored := dup[k]
			_, repeated := w.seen[k]
			if stored || repeated {
				dropped++
				if droppedKeys == nil {
					droppedKeys = make(map[spanKey]struct{})
				}
				droppedKeys[k] = struct{}{}
				continue
			}
			w.seen[k] = struct{}{}
			sr := spanRow{Span: *s}
			w.used[appSpans] = true
			if err := appendRow(w.apps.spans, &sch.spans, &sr, &w.sc); err != nil {
				return 0, 0, fmt.Errorf("append span: %w", err)
			}
			w.indexSpan(s)
			rows++
		}
		for i := range b.Logs {
			l := &b.Logs[i]
			if dupLogs != nil {
				if _, ok := dupLogs[newLogKey(l)]; ok {
					dropped++
					continue
				}
			}
			lr := logRow{LogRecord: *l}
			w.used[appLogs] = true
			if err := appendRow(w.apps.logs, &sch.logs, &lr, &w.sc); err != nil {
				return 0, 0, fmt.Errorf("append log: %w", err)
			}
			if !l.TraceID.IsZero() {
				w.indexEntry(l.TraceID, l.Time, l.Time).LogCount++
			}
			rows++
		}
		for i := range b.Invocations {
			inv := &b.Invocations[i]
			if _, ok := droppedKeys[spanKey{inv.TraceID, spanU64(inv.SpanID)}]; ok && !inv.SpanID.IsZero() {
				continue
			}
			w.used[appInvocations] = true
			if err := appendRow(w.apps.invocations, &sch.invocations, inv, &w.sc); err != nil {
				return 0, 0, fmt.Errorf("append invocation: %w", err)
			}
			if !inv.TraceID.IsZero() {
				w.indexEntry(inv.TraceID, inv.Start, inv.Start+inv.DurationNs).InvCount++
			}
			rows++
		}
		for i := range b.MessageRefs {
			m := &b.MessageRefs[i]
			if _, ok := droppedKeys[spanKey{m.TraceID, spanU64(m.SpanID)}]; ok && !m.SpanID.IsZero() {
				continue
			}
			w.used[appRefs] = true
			if err := appendRow(w.apps.refs, &sch.refs, m, &w.sc); err != nil {
				return 0, 0, fmt.Errorf("append message ref: %w", err)
			}
			rows++
		}
	}
	w.added = bounds{}
	for _, x := range w.idx {
		if x.SpanCount > 0 {
			if w.added.total == 0 {
				w.added.lo, w.added.hi = x.SpanStart, x.SpanStart
			}
			w.added.lo, w.added.hi = min(w.added.lo, x.SpanStart), max(w.added.hi, x.SpanStart)
			w.added.total += int64(x.SpanCount)
		}
		w.used[appIndex] = true
		if err := appendRow(w.apps.index, &sch.index, x, &w.sc); err != nil {
			return 0, 0, fmt.Errorf("append trace index: %w", err)
		}
	}
	return rows, dropped, nil
}

func (w *writer) indexEntry(t model.TraceID, start, end int64) *indexRow {
	x := w.idx[t]
	if x == nil {
		x = &indexRow{TraceID: t, StartMin: start, EndMax: end}
		w.idx[t] = x
	}
	x.StartMin = min(x.StartMin, start)
	x.EndMax = max(x.EndMax, end)
	return x
}

func (w *writer) indexSpan(s *model.Span) {
	end := s.EndTime()
	x := w.indexEntry(s.TraceID, s.StartTime, end)
	isRoot := s.ParentSpanID.IsZero()
	switch {
	case x.SpanCount == 0:
		x.SpanStart, x.SpanEnd = s.StartTime, end
		x.HasRoot, x.RootService, x.RootName, x.rootAt = isRoot, s.Service, s.Name, s.StartTime
	default:
		// The root span names the trace; without one, the earliest span.
		if (isRoot && !x.HasRoot) || (isRoot == x.HasRoot && s.StartTime < x.rootAt) {
			x.HasRoot, x.RootService, x.RootName, x.rootAt = isRoot, s.Service, s.Name, s.StartTime
		}
		x.SpanStart = min(x.SpanStart, s.StartTime)
		x.SpanEnd = max(x.SpanEnd, end)
	}
	x.SpanCount++
	if s.IsError() {
		x.ErrorCount++
	}
}

func (w *writer) stats() store.WriteStats { return w.q.Stats() }

// close refuses new writes, lets the queue commit what was accepted, writes
// out the attribute filters and releases the writer's connection. Called
// once, by Engine.Close.
func (w *writer) close() error {
	w.q.Close()
	// The queue's goroutine has returned: the writer's state is ours now.
	if err := w.flushFilters(context.Background()); err != nil {
		w.e.set.Logger.Error("write attribute filters", "err", err)
	}
	return errors.Join(w.closeAppenders(), w.conn.Close())
}
